package weights

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
)

// The rollout is judged by the anytime-valid evidence of package analysis
// (docs/decision-quality.md): the status keeps the evidence of the closed
// steps, every look sets the open step's counts from the measured window, and
// analysis.SequentialPolicy.JudgeStep says fail, pass or hold. Reading the
// evidence at every look costs nothing in error rates, so the controller looks
// at every tick; the status is written only when something is decided, or
// every interval while a step holds.

// Policy is the sequential judge a spec asks for, with the evidence divided
// by the dispersion estimated so far.
func Policy(spec *annotations.Spec, d analysis.DispersionEstimate) analysis.SequentialPolicy {
	p := analysis.SequentialPolicy{MaxErrorRate: spec.Analysis.MaxErrorRate}
	if spec.Analysis.MaxLatency > 0 {
		p.SlowLimit = 1 - spec.Analysis.LatencyQuantile
	}
	p.Mixture.Dispersion = d.MixtureDispersion()
	return p
}

// StepOf is the open step of st as the judge reads it, at now.
func StepOf(spec *annotations.Spec, st Status, now time.Time) analysis.Step {
	plan := spec.Plan()
	s := analysis.Step{
		LastWeight:  plan[len(plan)-1].Ratio(),
		MinDuration: spec.Interval,
		MaxDuration: spec.Analysis.MaxStepDuration,
		AtBound:     analysis.FailAtBound,
	}
	if st.Step >= 1 && st.Step <= len(plan) {
		s.Weight = plan[st.Step-1].Ratio()
	}
	if st.StepStarted != nil {
		s.Age = now.Sub(*st.StepStarted)
	}
	if spec.Analysis.Inconclusive == annotations.InconclusivePromote {
		s.AtBound = analysis.PromoteAtBound
	}
	return s
}

// Observe returns st's evidence with the open step's counts set to the
// window m measured: the counters' growth since the step began, which is the
// sum of every look's counts since then. Setting it, rather than adding to it,
// makes a look that is repeated (a retried sync, the scan and the sync seeing
// the same window) count once.
func Observe(spec *annotations.Spec, st Status, m analysis.Measurement) analysis.RolloutEvidence {
	var ev analysis.RolloutEvidence
	if st.Evidence != nil {
		ev = *st.Evidence
		ev.Errors.Closed = slices.Clone(ev.Errors.Closed)
		ev.Slow.Closed = slices.Clone(ev.Slow.Closed)
	}
	c, s := m.Canary, m.Stable
	ev.Errors.Open = analysis.Counts{}
	ev.Errors.Add(analysis.Counts{CanaryRequests: c.Requests, CanaryEvents: c.Errors, StableRequests: s.Requests, StableEvents: s.Errors})
	ev.Slow.Open = analysis.Counts{}
	if spec.Analysis.MaxLatency > 0 {
		ev.Slow.Add(analysis.Counts{CanaryRequests: c.Timed, CanaryEvents: c.Slow, StableRequests: s.Timed, StableEvents: s.Slow})
	}
	return ev
}

// JudgeLook is the verdict on a look at st's open step that measured m at
// now, with the evidence it rests on. Decide acts on it; the controller's scan
// asks it to know whether a rollout needs a sync before its next due look.
func JudgeLook(spec *annotations.Spec, st Status, m analysis.Measurement, now time.Time) (analysis.SequentialVerdict, analysis.RolloutEvidence) {
	ev := Observe(spec, st, m)
	v := Policy(spec, st.dispersion()).JudgeStep(ev, StepOf(spec, st, now))
	switch {
	case v.Outcome == analysis.Hold && spec.Analysis.MaxLatency > 0 && m.SlowAbove == 0 && m.Canary.Requests > 0:
		// Latency cannot pass without slow counts: say why the step holds.
		v.Reason = noSlowBound(spec)
	case v.Outcome == analysis.Pass && !v.Inconclusive && m.Canary.Requests < float64(spec.Analysis.MinRequests):
		v.Outcome = analysis.Hold
		v.Reason = fmt.Sprintf("%.0f canary requests in this step, %s needs %d", m.Canary.Requests, annotations.KeyMinRequests, spec.Analysis.MinRequests)
	}
	v.Reason += latencyNote(spec, m)
	return v, ev
}

// latencyNote says, when max-latency falls between two bucket bounds of the
// histogram, which bound the slow requests were counted above; "" otherwise.
func latencyNote(spec *annotations.Spec, m analysis.Measurement) string {
	if m.SlowAbove <= 0 || m.SlowAbove >= spec.Analysis.MaxLatency.Seconds() {
		return ""
	}
	return fmt.Sprintf(" (%s %s is between the histogram's bucket bounds: requests slower than %gs count as slow)", annotations.KeyMaxLatency, spec.Analysis.MaxLatency, m.SlowAbove)
}

// noSlowBound says why latency cannot be judged.
func noSlowBound(spec *annotations.Spec) string {
	return fmt.Sprintf("%s %s is below every bucket bound of the data plane's latency histogram: the slow requests cannot be counted", annotations.KeyMaxLatency, spec.Analysis.MaxLatency)
}

func (s Status) dispersion() analysis.DispersionEstimate {
	if s.Dispersion == nil {
		return analysis.DispersionEstimate{}
	}
	return *s.Dispersion
}

// StepJudgement is the sequential judge's view of the open step at its last
// written look: the status's "evidence so far" and forecast.
type StepJudgement struct {
	// Regression is the evidence (an e-value) that the canary's error rate is
	// above stable's; the rollout is rolled back at RollbackAt.
	Regression float64 `json:"regression"`
	RollbackAt float64 `json:"rollbackAt"`
	// Progress is how far, from 0 to 1, the evidence has come to passing
	// the step: showing the canary no worse than Within × stable's rate, or
	// below max-error-rate.
	Progress float64 `json:"progress"`
	Within   float64 `json:"within"`
	// Below is the acceptable error rate (max-error-rate) the canary may
	// be shown below instead; 0 for none.
	Below float64 `json:"below,omitempty"`
	// Remaining is the forecast of how much longer the step needs at the
	// traffic it has had, if the canary is as healthy as stable; "" when it
	// is not expected to decide before max-step-duration.
	Remaining string `json:"remaining,omitempty"`
	// CanaryRPS is the canary's request rate the forecast assumes.
	CanaryRPS float64 `json:"canaryRPS"`
}

// String reads the judgement the way the status message and kubectl canary
// status show it.
func (j StepJudgement) String() string {
	s := fmt.Sprintf("evidence of regression %s (rollback at %s); %s", short(j.Regression), short(j.RollbackAt), j.PassLine())
	if j.Remaining == "" {
		return s + fmt.Sprintf("; not expected to decide within %s at %s canary rps", annotations.KeyMaxStepDuration, short(j.CanaryRPS))
	}
	return s + fmt.Sprintf("; about %s more at %s canary rps", j.Remaining, short(j.CanaryRPS))
}

// PassLine says how far the step has come to passing: "47% of the way to
// showing the canary no worse than 2× stable or below 1.00% errors".
func (j StepJudgement) PassLine() string {
	s := fmt.Sprintf("%.0f%% of the way to showing the canary no worse than %s× stable", 100*j.Progress, short(j.Within))
	if j.Below > 0 {
		s += fmt.Sprintf(" or below %.2f%% errors", 100*j.Below)
	}
	return s
}

// judgement forecasts the rest of the step from the evidence and the traffic
// of the step so far.
func judgement(spec *annotations.Spec, st Status, ev analysis.RolloutEvidence, v analysis.SequentialVerdict, now time.Time) StepJudgement {
	p := Policy(spec, st.dispersion())
	step := StepOf(spec, st, now)
	j := StepJudgement{
		Regression: v.Regression, RollbackAt: 1 / analysis.DefaultSequentialAlpha,
		Progress: v.PassProgress, Within: 1 + p.StepMargin(step), Below: p.MaxErrorRate,
	}
	open := ev.Errors.Open
	age := step.Age.Seconds()
	if age <= 0 {
		return j
	}
	total := ev.Errors.Total()
	r := analysis.Rates{CanaryRPS: open.CanaryRequests / age, StableRPS: open.StableRequests / age, Ratio: 1}
	if total.StableRequests > 0 {
		r.StableErrorRate = total.StableEvents / total.StableRequests
	}
	j.CanaryRPS = r.CanaryRPS
	horizon := step.MaxDuration - step.Age
	if step.MaxDuration == 0 {
		horizon = 24 * time.Hour
	}
	if horizon <= 0 {
		return j
	}
	d, o := p.ForecastStep(ev, r, step, horizon)
	if o != analysis.Hold {
		j.Remaining = d.Round(time.Second).String()
	}
	return j
}

// RolloutForecast says how long a rollout of spec should take at the traffic
// the Ingress has (totalRPS, stable's error rate), if the canary is as healthy
// as stable: what the start Event and kubectl canary lint say.
func RolloutForecast(spec *annotations.Spec, d analysis.DispersionEstimate, totalRPS, stableErrorRate float64) string {
	plan := spec.Plan()
	weights := make([]float64, len(plan))
	for i, w := range plan {
		if w == 0 {
			return "the preview at weight 0 is judged on the testers' requests alone: no forecast"
		}
		weights[i] = w.Ratio()
	}
	bound := spec.Analysis.MaxStepDuration
	took, o := Policy(spec, d).ForecastRollout(weights, totalRPS, stableErrorRate, 1, spec.Interval, bound)
	at := fmt.Sprintf("at %s rps (%.2f%% errors)", short(totalRPS), 100*stableErrorRate)
	if o != analysis.Pass {
		return fmt.Sprintf("%s, a healthy canary is not expected to pass a step within %s %s", at, annotations.KeyMaxStepDuration, bound)
	}
	return fmt.Sprintf("%s, a healthy canary should take about %s", at, took.Round(time.Second))
}

// short writes a figure with three significant digits.
func short(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Sprint(f)
	}
	return fmt.Sprintf("%.3g", f)
}
