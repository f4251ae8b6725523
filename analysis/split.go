package analysis

import (
	"fmt"
	"math"
)

// Mismatch means nginx did not split traffic as asked (for example another canary
// Ingress on the same host/path made ingress-nginx ignore ours): the step holds.
const Mismatch Outcome = "SplitMismatch"

// splitSigmas is how far below the weight the measured canary share must fall
// before it counts as a mismatch: chance alone goes that far about once in 3.5
// million windows.
const splitSigmas = 5

// VerifySplit turns a Pass or a NoData into Mismatch when the canary's share of
// the Ingress's requests is far below the weight nginx was given: a canary that
// nginx never routes to has no data, and that is not the same as a quiet service.
// Only a shortfall counts: header and cookie testers legitimately raise the share.
func VerifySplit(v Verdict, weight float64) Verdict {
	if (v.Outcome != Pass && v.Outcome != NoData) || weight <= 0 || weight >= 1 {
		return v
	}
	c, s := v.Measurement.Canary.Requests, v.Measurement.Stable.Requests
	n := c + s
	if n <= 0 {
		return v
	}
	share := c / n
	sd := math.Sqrt(weight * (1 - weight) / n)
	if share >= weight-splitSigmas*sd {
		return v
	}
	v.Outcome = Mismatch
	v.Reason = fmt.Sprintf("nginx sent %.2f%% of %.0f requests to the canary, but its weight is %.2f%% (more than %d standard deviations short): is another canary Ingress on the same host and path?",
		share*100, n, weight*100, splitSigmas)
	return v
}
