package analysis

import (
	"fmt"
	"math"
	"time"
)

// Hold means the evidence is not yet enough either way: the step keeps
// running, within its bound.
const Hold Outcome = "Hold"

// The defaults of SequentialPolicy, from the targets of issue 15: a healthy
// canary rolled back at most 1 % of the time, a 2× regression promoted at
// most 5 % of the time.
const (
	DefaultSequentialAlpha = 0.01
	DefaultSequentialBeta  = 0.05
	DefaultMargin          = 1.0
)

// BoundAction is what a step does when it reaches its bound without a
// verdict from the evidence.
type BoundAction string

const (
	// FailAtBound rolls back an inconclusive canary: nothing unproven reaches
	// 100 %. The default, because promoting on a timer is what the evidence
	// was meant to replace.
	FailAtBound BoundAction = "fail"
	// PromoteAtBound passes the step with a Warning "inconclusive at this
	// traffic", for services whose traffic cannot prove anything in time.
	PromoteAtBound BoundAction = "promote"
)

// SequentialPolicy turns Evidence into step verdicts. Its zero value is the
// defaults with no latency gate and no ceiling.
type SequentialPolicy struct {
	// Alpha bounds the probability, over the whole rollout and however often
	// it is judged, of failing a canary whose error rate is at most
	// (1+Tolerance) × stable's. Each gate (comparison, ceiling, latency) has
	// its own Alpha, so the bound for all of them is a sum.
	Alpha float64
	// Beta bounds the probability of promoting a canary at least (1+Margin)
	// × stable's.
	Beta float64
	// Tolerance is how much worse than stable, as a fraction of stable's
	// rate, the canary may be before evidence of it fails the step.
	Tolerance float64
	// Margin is how much worse than stable the canary is shown not to be
	// before the last step passes; earlier steps use a wider margin scaled
	// by their weight (StepMargin). 0 means DefaultMargin.
	Margin float64
	// MaxErrorRate is the absolute ceiling (max-error-rate); 0 means none.
	MaxErrorRate float64
	// AcceptableErrorRate passes a step whose canary error rate is shown
	// to be below it, whatever stable's: a nearly spotless service has too few
	// errors to compare. 0 means MaxErrorRate, the user's own statement of
	// what is acceptable. (A tenth of it, the first choice, needs ten times the
	// requests: a spotless service at 5 rps could not pass its 5 % step
	// within two hours.) A canary above the rate but below MaxErrorRate still
	// fails on the regression evidence, which grows much faster there.
	AcceptableErrorRate float64
	// SlowLimit is the share of requests allowed above max-latency (1 % for
	// a p99); 0 means latency is not gated. A step passes on latency when
	// the canary's share is within the margin of stable's or shown below it.
	SlowLimit float64
	Mixture   Mixture
}

// Step is where the rollout is when a step is judged.
type Step struct {
	// Weight is this step's canary weight and LastWeight that of the last
	// step before promotion, both in (0, 1].
	Weight, LastWeight float64
	// Age is how long the step has run.
	Age time.Duration
	// MinDuration is the shortest a step lasts, even on conclusive evidence
	// (interval): the user's bound on how fast exposure grows.
	MinDuration time.Duration
	// MaxDuration is the longest a step holds without a verdict; 0 means
	// unbounded.
	MaxDuration time.Duration
	// AtBound is what happens at MaxDuration; empty means FailAtBound.
	AtBound BoundAction
}

// RolloutEvidence is everything the sequential judge reads: the errors, and
// the requests slower than max-latency (unused when latency is not gated).
type RolloutEvidence struct {
	Errors Evidence `json:"errors"`
	Slow   Evidence `json:"slow"`
}

// SequentialVerdict is a step's verdict with the evidence it rests on, for
// the status and the Events.
type SequentialVerdict struct {
	Outcome Outcome
	// Inconclusive marks a verdict forced by the step's bound, not the evidence.
	Inconclusive bool
	Reason       string
	// Regression is the errors' e-value against "no worse than
	// 1+Tolerance"; the step fails at 1/Alpha.
	Regression float64
	// PassProgress is how far the pass evidence has got on a log scale: 0
	// at none, 1 at the pass line.
	PassProgress float64
}

func (p SequentialPolicy) alpha() float64 {
	if !(p.Alpha > 0 && p.Alpha < 1) {
		return DefaultSequentialAlpha
	}
	return p.Alpha
}

func (p SequentialPolicy) beta() float64 {
	if !(p.Beta > 0 && p.Beta < 1) {
		return DefaultSequentialBeta
	}
	return p.Beta
}

func (p SequentialPolicy) margin() float64 {
	if !(p.Margin > 0) {
		return DefaultMargin
	}
	return p.Margin
}

func (p SequentialPolicy) acceptable() float64 {
	if p.AcceptableErrorRate > 0 {
		return p.AcceptableErrorRate
	}
	return p.MaxErrorRate
}

// StepMargin returns the margin a step at weight must show the canary to be
// within. The harm a regression does is its extra errors, weight × (ρ-1) ×
// stable's rate; a step passes when that harm is shown to be below what
// Margin allows at the last step. So the first steps, at small weights, need
// only rule out large regressions, which little traffic can do quickly, and
// the last step needs the full Margin before promotion.
func (p SequentialPolicy) StepMargin(s Step) float64 {
	if !(s.Weight > 0) || !(s.LastWeight >= s.Weight) {
		return p.margin()
	}
	return p.margin() * s.LastWeight / s.Weight
}

// JudgeStep returns the verdict of a step on the rollout's evidence so far.
// It fails on evidence of a regression (errors or slow requests against
// stable's) or of a rate above a ceiling; it passes once the step has run
// MinDuration and the evidence shows the canary within the step's margin on
// both; otherwise it holds until MaxDuration, then does what AtBound says.
func (p SequentialPolicy) JudgeStep(ev RolloutEvidence, s Step) SequentialVerdict {
	failLine, passLine := math.Log(1/p.alpha()), math.Log(1/p.beta())
	regression := ev.Errors.LogWorseThan(1+p.Tolerance, p.Mixture)
	v := SequentialVerdict{Regression: math.Exp(regression)}
	if reason, failed := p.failure(ev, regression, failLine); failed {
		v.Outcome, v.Reason = Fail, reason
		return v
	}
	passEvidence := p.passEvidence(ev, s)
	v.PassProgress = math.Min(math.Max(passEvidence/passLine, 0), 1)
	switch {
	case passEvidence >= passLine && s.Age >= s.MinDuration:
		v.Outcome = Pass
		v.Reason = fmt.Sprintf("canary shown %s with %s confidence (evidence of regression %s, rollback at %s)",
			p.passedOn(ev, s), level(p.beta()), evidenceValue(v.Regression), ratio(1/p.alpha()))
	case s.MaxDuration > 0 && s.Age >= s.MaxDuration:
		v.Inconclusive = true
		v.Outcome = Fail
		if s.AtBound == PromoteAtBound {
			v.Outcome = Pass
		}
		v.Reason = fmt.Sprintf("inconclusive at this traffic after %s: %.0f%% of the way to showing the canary no worse than %s× stable (evidence of regression %s, rollback at %s)",
			s.Age, 100*v.PassProgress, ratio(1+p.StepMargin(s)), evidenceValue(v.Regression), ratio(1/p.alpha()))
	default:
		v.Outcome = Hold
		v.Reason = fmt.Sprintf("%.0f%% of the way to showing the canary no worse than %s× stable (evidence of regression %s, rollback at %s)",
			100*v.PassProgress, ratio(1+p.StepMargin(s)), evidenceValue(v.Regression), ratio(1/p.alpha()))
	}
	return v
}

// passedOn says what a passing step showed: the comparison with stable, or
// a rate below the acceptable one, for errors and for slow requests.
func (p SequentialPolicy) passedOn(ev RolloutEvidence, s Step) string {
	line := math.Log(1 / p.beta())
	what := func(e Evidence, acceptable float64, rate string) string {
		if e.LogBetterThan(1+p.StepMargin(s), p.Mixture) >= line {
			return fmt.Sprintf("no worse than %s× stable in %s", ratio(1+p.StepMargin(s)), rate)
		}
		return fmt.Sprintf("below %s in %s", percent(acceptable), rate)
	}
	out := what(ev.Errors, p.acceptable(), "errors")
	if p.SlowLimit > 0 {
		out += " and " + what(ev.Slow, p.SlowLimit, "requests above max-latency")
	}
	return out
}

// failure says whether any gate has evidence against the canary, and which.
func (p SequentialPolicy) failure(ev RolloutEvidence, regression, line float64) (string, bool) {
	m := p.Mixture
	switch {
	case regression >= line:
		return fmt.Sprintf("evidence of regression %s (rollback at %s): error rate above %s× stable's", evidenceValue(math.Exp(regression)), evidenceValue(math.Exp(line)), ratio(1+p.Tolerance)), true
	case p.MaxErrorRate > 0 && ev.Errors.LogRateAbove(p.MaxErrorRate, m) >= line:
		return fmt.Sprintf("evidence %s (rollback at %s) of an error rate above max-error-rate %s", evidenceValue(math.Exp(ev.Errors.LogRateAbove(p.MaxErrorRate, m))), evidenceValue(math.Exp(line)), percent(p.MaxErrorRate)), true
	case p.SlowLimit > 0 && ev.Slow.LogWorseThan(1+p.Tolerance, m) >= line:
		return fmt.Sprintf("evidence of latency regression %s (rollback at %s): more requests above max-latency than %s× stable's share", evidenceValue(math.Exp(ev.Slow.LogWorseThan(1+p.Tolerance, m))), evidenceValue(math.Exp(line)), ratio(1+p.Tolerance)), true
	case p.SlowLimit > 0 && ev.Slow.LogRateAbove(p.SlowLimit, m) >= line:
		return fmt.Sprintf("evidence %s (rollback at %s) of more than %s of requests above max-latency", evidenceValue(math.Exp(ev.Slow.LogRateAbove(p.SlowLimit, m))), evidenceValue(math.Exp(line)), percent(p.SlowLimit)), true
	}
	return "", false
}

// passEvidence is the log e-value the step's pass rests on: the weaker of
// errors and slow requests, each shown within the step's margin of stable
// or below an acceptable rate.
func (p SequentialPolicy) passEvidence(ev RolloutEvidence, s Step) float64 {
	errs := p.withinMargin(ev.Errors, s, p.acceptable())
	if p.SlowLimit > 0 {
		return math.Min(errs, p.withinMargin(ev.Slow, s, p.SlowLimit))
	}
	return errs
}

// withinMargin is the log e-value that e's canary rate is within the step's
// margin of stable's, or below acceptable (0: no such way to pass).
func (p SequentialPolicy) withinMargin(e Evidence, s Step, acceptable float64) float64 {
	within := e.LogBetterThan(1+p.StepMargin(s), p.Mixture)
	if acceptable > 0 {
		within = math.Max(within, e.LogRateBelow(acceptable, p.Mixture))
	}
	return within
}

// level writes a confidence 1-alpha the way people say it: 95%, 99.9%.
func level(alpha float64) string {
	return ratio(100*(1-alpha)) + "%"
}

// evidenceValue writes an e-value: three digits, and past 10000 only that,
// since a canary failing every third request reaches 1e80 in a minute.
func evidenceValue(e float64) string {
	if e > 1e4 {
		return ">10000"
	}
	return ratio(e)
}
