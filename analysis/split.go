package analysis

import (
	"fmt"
	"math"
	"time"
)

// splitSigmas is how far below the weight the measured canary share must fall
// before it counts as a mismatch: chance alone goes that far about once in 3.5
// million windows.
const splitSigmas = 5

// ApplyDelay is how long ingress-nginx may take to apply a weight once written:
// it syncs at most every ~3.3 s by default, and a sync takes about a second.
const ApplyDelay = 5 * time.Second

// VerifySplit turns a Pass, a Hold or a NoData into Mismatch when the canary's share of
// the Ingress's requests is far below what nginx was asked for: a canary that
// nginx never routes to has no data, and that is not the same as a quiet service.
// During the first ApplyDelay of the window nginx may still split by the previous
// weight, so the expectation blends the two. Only a shortfall counts: header and
// cookie testers legitimately raise the share.
func VerifySplit(v Verdict, previous, weight float64, window time.Duration) Verdict {
	if (v.Outcome != Pass && v.Outcome != NoData && v.Outcome != Hold) || weight <= 0 || weight >= 1 || window <= 0 {
		return v
	}
	c, s := v.Measurement.Canary.Requests, v.Measurement.Stable.Requests
	n := c + s
	if n <= 0 {
		return v
	}
	stale := math.Min(1, float64(ApplyDelay)/float64(window))
	expected := previous*stale + weight*(1-stale)
	share := c / n
	sd := math.Sqrt(expected * (1 - expected) / n)
	if expected <= 0 || share >= expected-splitSigmas*sd {
		return v
	}
	v.Outcome = Mismatch
	v.Reason = fmt.Sprintf("the data plane sent %.2f%% of %.0f requests to the canary, but its weight is %.2f%% (at least %.2f%% expected in this window; more than %d standard deviations short): does another canary Ingress own this upstream or host and path?",
		share*100, n, weight*100, expected*100, splitSigmas)
	return v
}
