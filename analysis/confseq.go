package analysis

import "math"

// Confidence sequences: the set of ratios (or rates) that the e-processes in
// evidence.go have not rejected at level α. Because each e-process is valid
// at every look, the sequence covers the true value at every look at once
// with probability at least 1-α; a bound read at any time, or at the time it
// looked best, keeps its level. They are what the status shows: "no worse
// than 1.6× stable" is the ratio's upper bound.

// RatioUpperBound returns the smallest ratio r of the canary's event rate to
// stable's such that "at least r" is rejected at level alpha: the canary is
// no worse than that, with confidence 1-alpha at every look. +Inf until the
// evidence bounds it at all.
func (e Evidence) RatioUpperBound(alpha float64, m Mixture) float64 {
	rejected := func(r float64) bool { return e.LogBetterThan(r, m) >= math.Log(1/alpha) }
	return logBisect(rejected, 1e-4, 1e4, true)
}

// RatioLowerBound returns the largest ratio r such that "at most r" is
// rejected at level alpha: the canary is at least that much worse than
// stable. 0 until there is any evidence of a regression.
func (e Evidence) RatioLowerBound(alpha float64, m Mixture) float64 {
	rejected := func(r float64) bool { return e.LogWorseThan(r, m) >= math.Log(1/alpha) }
	return logBisect(rejected, 1e-4, 1e4, false)
}

// RateUpperBound returns the anytime-valid upper confidence bound of the
// canary's own event rate at level 1-alpha; 1 until it is bounded.
func (e Evidence) RateUpperBound(alpha float64, m Mixture) float64 {
	rejected := func(p float64) bool { return e.LogRateBelow(p, m) >= math.Log(1/alpha) }
	return math.Min(logBisect(rejected, 1e-9, 1-1e-9, true), 1)
}

// RateLowerBound returns the anytime-valid lower confidence bound of the
// canary's own event rate at level 1-alpha; 0 until it is above zero.
func (e Evidence) RateLowerBound(alpha float64, m Mixture) float64 {
	rejected := func(p float64) bool { return e.LogRateAbove(p, m) >= math.Log(1/alpha) }
	return logBisect(rejected, 1e-9, 1-1e-9, false)
}

// logBisect finds, on a log scale in [lo, hi], where rejected changes: the
// smallest rejected value when rejectedAbove (rejection holds above the
// bound), the largest one otherwise. Beyond the range it returns +Inf or 0,
// "not bounded yet". The e-values are monotone in the boundary in every case
// we have met; where they are not, this still returns a boundary of the
// rejected set, which is what a bound means.
func logBisect(rejected func(float64) bool, lo, hi float64, rejectedAbove bool) float64 {
	inner, outer := lo, hi // inner: not rejected; outer: rejected
	if !rejectedAbove {
		inner, outer = hi, lo
	}
	switch {
	case !rejected(outer) && rejectedAbove:
		return math.Inf(1)
	case !rejected(outer):
		return 0
	case rejected(inner):
		return inner
	}
	for range 60 {
		mid := math.Sqrt(inner * outer)
		if rejected(mid) {
			outer = mid
		} else {
			inner = mid
		}
		if math.Abs(math.Log(outer/inner)) < 1e-6 {
			break
		}
	}
	return outer
}
