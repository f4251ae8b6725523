package analysis

import (
	"fmt"
	"math"
	"strconv"
)

// DefaultLatencyQuantile is the quantile used when Thresholds.LatencyQuantile
// is zero, the same default as the latency-quantile annotation.
const DefaultLatencyQuantile = 0.99

// Judge compares the canary's figures in m with th and returns the verdict,
// carrying m. It is pure.
//
// The checks run in this order, and the first that applies decides:
//   - fewer canary requests than th.MinRequests (and always fewer than one,
//     since a rate over nothing means nothing): NoData;
//   - canary error rate above th.MaxErrorRate: Fail;
//   - latency gated (th.MaxLatency > 0) and the canary's latency unknown: NoData;
//   - latency gated and the canary's latency above th.MaxLatency: Fail;
//   - otherwise Pass.
//
// A figure equal to its limit passes. The stable side is never judged; its
// figures are in the Reason for comparison.
func Judge(m Measurement, th Thresholds) Verdict {
	v := Verdict{Measurement: m}
	c, s := m.Canary, m.Stable
	q := quantileName(th)

	need := max(float64(th.MinRequests), 1)
	switch {
	case !(c.Requests >= need): // also catches NaN
		v.Outcome = NoData
		v.Reason = fmt.Sprintf("%s canary requests, need %s", count(c.Requests), count(need))
	case c.ErrorRate > th.MaxErrorRate:
		v.Outcome = Fail
		v.Reason = fmt.Sprintf("error rate %s > max-error-rate %s (%s of %s canary requests; stable %s)",
			percent(c.ErrorRate), percent(th.MaxErrorRate), count(c.Errors), count(c.Requests), percent(s.ErrorRate))
	case th.MaxLatency > 0 && !known(c.LatencySeconds):
		v.Outcome = NoData
		v.Reason = fmt.Sprintf("%s latency unknown: no latency buckets for %s canary requests", q, count(c.Requests))
	case th.MaxLatency > 0 && c.LatencySeconds > th.MaxLatency.Seconds():
		v.Outcome = Fail
		v.Reason = fmt.Sprintf("%s latency %s > max-latency %s (stable %s)",
			q, seconds(c.LatencySeconds), seconds(th.MaxLatency.Seconds()), seconds(s.LatencySeconds))
	default:
		v.Outcome = Pass
		v.Reason = fmt.Sprintf("%s canary requests, error rate %s (stable %s), %s latency %s (stable %s)",
			count(c.Requests), percent(c.ErrorRate), percent(s.ErrorRate), q, seconds(c.LatencySeconds), seconds(s.LatencySeconds))
	}
	return v
}

// latencyQuantile returns th's quantile, or the default when it is unset.
func latencyQuantile(th Thresholds) float64 {
	if th.LatencyQuantile == 0 {
		return DefaultLatencyQuantile
	}
	return th.LatencyQuantile
}

// quantileName writes th's quantile the way people say it: p99, p99.9, p50.
func quantileName(th Thresholds) string {
	// Six significant digits hide the binary rounding in 0.999*100.
	return "p" + strconv.FormatFloat(latencyQuantile(th)*100, 'g', 6, 64)
}

// count writes a request count. increase() extrapolates, so counts can be
// fractional; one decimal is kept so that "49.6 canary requests, need 50" does
// not read as 50.
func count(n float64) string {
	return strconv.FormatFloat(math.Round(n*10)/10, 'f', -1, 64)
}

func percent(ratio float64) string {
	return fmt.Sprintf("%.2f%%", ratio*100)
}

// known says whether a latency is known: Measure writes -1 for unknown, and
// NaN, which compares false with everything, must not slip through as a pass.
func known(latency float64) bool {
	return latency >= 0
}

// seconds writes a latency; a negative one is unknown (no buckets, or NaN
// from histogram_quantile).
func seconds(s float64) string {
	if !known(s) {
		return "unknown"
	}
	return fmt.Sprintf("%.3fs", s)
}
