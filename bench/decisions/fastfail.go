package main

import (
	"math"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// FastFail is a sketch of the later "fast fail" part, simulated as a
// separate, clearly labelled rule: between the regular checks, at every
// Slice, a Wald sequential probability ratio test looks at the window so far and
// fails the canary at once when the evidence crosses its boundary. The regular
// window verdict (analysis.Judge) is unchanged.
//
// The test is one-sided and never passes early, only fails: H0 is "the
// canary's error rate equals the stable side's" (p0: an upper confidence
// bound of the stable rate seen in the same window, floored at a tenth of
// max-error-rate like Judge's tolerance), H1 is "it is Ratio times that". Under H0 the likelihood ratio is
// a martingale, so by Ville's inequality it ever reaches 1/Alpha with
// probability at most Alpha, however often it is looked at. That is what
// makes checking every few seconds safe, where re-running Judge's fixed-level
// tests every few seconds would not be. Plugging in an estimate of stable's
// rate makes the bound approximate; the upper bound errs on the safe side.
type FastFail struct {
	// Ratio is H1's canary rate as a multiple of H0's.
	Ratio float64
	// Alpha bounds the probability of ever failing a canary that is no worse
	// than stable, over one window.
	Alpha float64
	// StableAlpha sets the one-sided upper bound used for stable's rate.
	StableAlpha float64
}

// Crossed reports whether the window's figures cross the upper boundary.
func (f FastFail) Crossed(m analysis.Measurement, th analysis.Thresholds) bool {
	c, s := m.Canary, m.Stable
	if !(c.Errors > 0) {
		return false
	}
	p0 := th.MaxErrorRate
	if s.Requests > 0 {
		// Stable's rate is itself a noisy estimate, early in a window most of
		// all; its upper bound keeps the plug-in from making a healthy canary
		// look worse than a stable side that was merely lucky.
		p0 = analysis.ErrorRateUpperBound(s.Errors, s.Requests, f.StableAlpha)
	}
	p0 = math.Max(p0, analysis.RegressionTolerance*th.MaxErrorRate)
	p1 := math.Min(f.Ratio*p0, 0.999)
	if !(p0 > 0) || p1 <= p0 {
		return false
	}
	llr := c.Errors*math.Log(p1/p0) + (c.Requests-c.Errors)*math.Log((1-p1)/(1-p0))
	return llr >= math.Log(1/f.Alpha)
}

// fastFailVerdict is what the fast check hands to the state machine.
func fastFailVerdict(m analysis.Measurement) analysis.Verdict {
	return analysis.Verdict{Outcome: analysis.Fail, Reason: "fast fail: sequential test crossed", Measurement: m}
}
