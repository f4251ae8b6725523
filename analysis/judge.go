package analysis

import (
	"fmt"
	"math"
	"strconv"
)

// DefaultConfidence is the one-sided confidence level used when
// Thresholds.Confidence is unset: a healthy canary is failed by one test in a
// hundred at most. docs/decision-quality.md shows what it costs and buys.
const DefaultConfidence = 0.99

// RegressionTolerance is how much worse than stable, as a fraction of
// max-error-rate, a canary may be before the comparison with stable can fail
// it: 0.1 × 1 % = 0.1 percentage points at the default max-error-rate.
const RegressionTolerance = 0.1

// Judge compares the canary's figures in m with th, and with the stable
// side's, and returns the verdict, carrying m. It is pure.
//
// A canary fails only on evidence: its error rate must be above
// th.MaxErrorRate, or above the stable side's, with th.Confidence (one-sided).
// Too few requests, or a measured error rate above th.MaxErrorRate without
// the confidence to fail it, hold the step; they never pass it. The checks
// run in this order, and the first that applies decides:
//   - fewer canary requests than th.MinRequests (and always fewer than one,
//     since a rate over nothing means nothing): NoData;
//   - the exact (Clopper-Pearson) lower confidence bound of the canary's
//     error rate above th.MaxErrorRate: Fail;
//   - the canary worse than stable: the lower confidence bound of the ratio of
//     the canary's error rate to the stable side's above 1, by the exact
//     conditional test for two Poisson rates (RateRatioLowerBound), and the
//     canary's lower bound above stable's rate by more than
//     RegressionTolerance × th.MaxErrorRate: Fail. Skipped when the stable
//     side had no requests;
//   - latency gated (th.MaxLatency > 0) and the canary's latency unknown: NoData;
//   - latency gated and the canary's latency above th.MaxLatency: Fail. This is
//     the point estimate: a Measurement carries a quantile, not the counts a
//     confidence bound would need;
//   - the canary's error rate above th.MaxErrorRate, but not with confidence:
//     NoData, "inconclusive". The window keeps its start (weights holds it),
//     so the next check sees more requests and can decide; no-data-limit
//     bounds the wait. A measured rate above the user's limit is never passed;
//   - otherwise Pass.
//
// A figure equal to its limit passes.
func Judge(m Measurement, th Thresholds) Verdict {
	v := Verdict{Measurement: m}
	c := m.Canary
	need := max(float64(th.MinRequests), 1)
	if !(c.Requests >= need) { // also catches NaN
		v.Outcome = NoData
		v.Reason = fmt.Sprintf("%s canary requests, need %s", count(c.Requests), count(need))
		return v
	}
	if !(c.Errors >= 0) {
		// Measure never returns this, but a NaN would pass every comparison
		// below as false and end in Pass.
		v.Outcome = NoData
		v.Reason = fmt.Sprintf("%s canary errors among %s requests: not a count", count(c.Errors), count(c.Requests))
		return v
	}
	ev := weighErrors(m, th)
	q := quantileName(th)
	switch {
	case ev.lower > th.MaxErrorRate:
		v.Outcome, v.Reason = Fail, ev.aboveCeiling(m, th)
	case ev.worseThanStable(m, th):
		v.Outcome, v.Reason = Fail, ev.regression(m, th)
	case th.MaxLatency > 0 && !known(c.LatencySeconds):
		v.Outcome = NoData
		v.Reason = fmt.Sprintf("%s latency unknown: no latency buckets for %s canary requests", q, count(c.Requests))
	case th.MaxLatency > 0 && c.LatencySeconds > th.MaxLatency.Seconds():
		v.Outcome = Fail
		v.Reason = fmt.Sprintf("%s latency %s > max-latency %s (stable %s)",
			q, seconds(c.LatencySeconds), seconds(th.MaxLatency.Seconds()), seconds(m.Stable.LatencySeconds))
	case c.Errors/c.Requests > th.MaxErrorRate: // not c.ErrorRate: a NaN there must not pass
		v.Outcome, v.Reason = NoData, ev.inconclusive(m, th)
	default:
		v.Outcome = Pass
		v.Reason = fmt.Sprintf("%s canary requests, error rate %s (%s upper bound %s; stable %s), %s latency %s (stable %s)",
			count(c.Requests), percent(c.ErrorRate), ev.level(), bound(ev.upper), percent(m.Stable.ErrorRate),
			q, seconds(c.LatencySeconds), seconds(m.Stable.LatencySeconds))
	}
	return v
}

// errorEvidence is what a window says about the canary's error rate, at one
// confidence level.
type errorEvidence struct {
	confidence float64
	// lower and upper are one-sided exact bounds of the canary's error rate.
	lower, upper float64
	// ratioLower is the one-sided lower bound of canary rate / stable rate;
	// NaN when the stable side had no requests.
	ratioLower float64
}

func weighErrors(m Measurement, th Thresholds) errorEvidence {
	c, s := m.Canary, m.Stable
	conf := confidence(th)
	alpha := 1 - conf
	return errorEvidence{
		confidence: conf,
		lower:      ErrorRateLowerBound(c.Errors, c.Requests, alpha),
		upper:      ErrorRateUpperBound(c.Errors, c.Requests, alpha),
		ratioLower: RateRatioLowerBound(c.Errors, c.Requests, s.Errors, s.Requests, alpha),
	}
}

// level writes the confidence the way people say it: 99%, 99.9%.
func (e errorEvidence) level() string {
	return strconv.FormatFloat(e.confidence*100, 'g', 6, 64) + "%"
}

func (e errorEvidence) aboveCeiling(m Measurement, th Thresholds) string {
	c := m.Canary
	return fmt.Sprintf("error rate %s > max-error-rate %s with %s confidence (lower bound %s; %s of %s canary requests; stable %s)",
		percent(c.ErrorRate), percent(th.MaxErrorRate), e.level(), bound(e.lower),
		count(c.Errors), count(c.Requests), percent(m.Stable.ErrorRate))
}

// worseThanStable says whether the canary's error rate is above the stable
// side's with confidence, by more than RegressionTolerance of max-error-rate.
//
// The first condition is the statistical test (level alpha on its own). The
// second keeps it from rolling back on differences nobody would act on: real
// errors come in bursts (one client retrying, one pod restarting), so one or
// two canary errors against a spotless stable side are significant on paper
// and noise in practice. It asks that the canary's lower bound clear stable's
// rate by the tolerance; requiring both only makes the test stricter, so the
// false-failure rate stays at most alpha.
func (e errorEvidence) worseThanStable(m Measurement, th Thresholds) bool {
	return e.ratioLower > 1 && // NaN (no stable requests to compare with) is false
		e.lower > m.Stable.ErrorRate+RegressionTolerance*th.MaxErrorRate
}

func (e errorEvidence) regression(m Measurement, th Thresholds) string {
	c, s := m.Canary, m.Stable
	return fmt.Sprintf("canary error rate %s vs stable %s: worse than stable with %s confidence (at least %sx stable's rate, lower bound %s > stable + %s tolerance; %s of %s canary, %s of %s stable requests)",
		percent(c.ErrorRate), percent(s.ErrorRate), e.level(), ratio(e.ratioLower), bound(e.lower),
		percent(RegressionTolerance*th.MaxErrorRate),
		count(c.Errors), count(c.Requests), count(s.Errors), count(s.Requests))
}

func (e errorEvidence) inconclusive(m Measurement, th Thresholds) string {
	c := m.Canary
	return fmt.Sprintf("inconclusive: error rate %s > max-error-rate %s, but not with %s confidence (lower bound %s; %s of %s canary requests; stable %s)",
		percent(c.ErrorRate), percent(th.MaxErrorRate), e.level(), bound(e.lower),
		count(c.Errors), count(c.Requests), percent(m.Stable.ErrorRate))
}

// confidence returns th's confidence level, or the default when it is unset
// or meaningless (a level must be in [0.5, 1) for a one-sided bound to mean
// anything; 1 would never fail anything).
func confidence(th Thresholds) float64 {
	if !(th.Confidence >= 0.5 && th.Confidence < 1) {
		return DefaultConfidence
	}
	return th.Confidence
}

// ratio writes a ratio of rates with three significant digits.
func ratio(r float64) string {
	return strconv.FormatFloat(r, 'g', 3, 64)
}

// quantileName writes th's quantile the way people say it: p99, p99.9, p50.
func quantileName(th Thresholds) string {
	// Six significant digits hide the binary rounding in 0.999*100.
	return "p" + strconv.FormatFloat(th.Quantile()*100, 'g', 6, 64)
}

// count writes a request count. Counts are whole from snapshot deltas, but the
// statistics accept any real count; one decimal is kept so that a fractional one
// never reads as the next whole number.
func count(n float64) string {
	return strconv.FormatFloat(math.Round(n*10)/10, 'f', -1, 64)
}

func percent(ratio float64) string {
	return fmt.Sprintf("%.2f%%", ratio*100)
}

// bound writes a confidence bound as a percentage. Bounds of a few errors can
// be far below 0.01 %, and "0.00%" would read as no evidence at all, so small
// ones keep two significant digits instead of two decimals.
func bound(ratio float64) string {
	if ratio > 0 && ratio < 0.0001 {
		return strconv.FormatFloat(ratio*100, 'g', 2, 64) + "%"
	}
	return percent(ratio)
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
