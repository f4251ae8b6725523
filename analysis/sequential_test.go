package analysis

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// errorsOnly builds the evidence of one open segment of errors.
func errorsOnly(canaryReq, canaryErr, stableReq, stableErr float64) RolloutEvidence {
	var ev RolloutEvidence
	ev.Errors.Add(Counts{CanaryRequests: canaryReq, CanaryEvents: canaryErr, StableRequests: stableReq, StableEvents: stableErr})
	return ev
}

func TestJudgeStep(t *testing.T) {
	policy := SequentialPolicy{MaxErrorRate: 0.01}
	last := Step{Weight: 0.5, LastWeight: 0.5, Age: 10 * time.Minute, MinDuration: time.Minute, MaxDuration: time.Hour}
	early := last
	early.Age = 30 * time.Second
	atBound := last
	atBound.Age = time.Hour
	promoteAtBound := atBound
	promoteAtBound.AtBound = PromoteAtBound
	first := Step{Weight: 0.05, LastWeight: 0.5, Age: 2 * time.Minute, MinDuration: time.Minute}

	tests := []struct {
		name         string
		ev           RolloutEvidence
		step         Step
		want         Outcome
		inconclusive bool
	}{
		{"healthy with plenty of traffic passes", errorsOnly(40000, 200, 40000, 200), last, Pass, false},
		{"the same evidence holds until the step's minimum", errorsOnly(40000, 200, 40000, 200), early, Hold, false},
		{"a 2× regression fails", errorsOnly(40000, 400, 40000, 200), last, Fail, false},
		{"a 5× regression at a 5% step fails", errorsOnly(2000, 50, 38000, 190), first, Fail, false},
		{"little traffic holds", errorsOnly(500, 3, 500, 2), last, Hold, false},
		{"little traffic at the bound fails by default", errorsOnly(500, 3, 500, 2), atBound, Fail, true},
		{"or promotes when asked to", errorsOnly(500, 3, 500, 2), promoteAtBound, Pass, true},
		{"the first step needs only rule out a large regression", errorsOnly(1000, 5, 19000, 95), first, Pass, false},
		{"above the ceiling fails even against a bad stable side", errorsOnly(5000, 150, 5000, 150), last, Fail, false},
		{"a spotless service passes on the acceptable rate", errorsOnly(500, 0, 500, 0), first, Pass, false},
		{"but not on a few requests", errorsOnly(200, 0, 3800, 0), first, Hold, false},
		{"a canary below max-error-rate but 10× stable fails on the regression", errorsOnly(2000, 10, 38000, 19), first, Fail, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := policy.JudgeStep(tt.ev, tt.step)
			assert.Equal(t, tt.want, v.Outcome, v.Reason)
			assert.Equal(t, tt.inconclusive, v.Inconclusive, v.Reason)
			assert.NotEmpty(t, v.Reason)
		})
	}
}

func TestJudgeStepLatency(t *testing.T) {
	policy := SequentialPolicy{MaxErrorRate: 0.01, SlowLimit: 0.01}
	step := Step{Weight: 0.5, LastWeight: 0.5, Age: 10 * time.Minute, MinDuration: time.Minute}
	ev := errorsOnly(40000, 200, 40000, 200)
	ev.Slow.Add(Counts{CanaryRequests: 40000, CanaryEvents: 1200, StableRequests: 40000, StableEvents: 400})
	v := policy.JudgeStep(ev, step)
	assert.Equal(t, Fail, v.Outcome)
	assert.Contains(t, v.Reason, "max-latency")

	ev.Slow = Evidence{}
	ev.Slow.Add(Counts{CanaryRequests: 40000, CanaryEvents: 200, StableRequests: 40000, StableEvents: 200})
	assert.Equal(t, Pass, policy.JudgeStep(ev, step).Outcome)
}

func TestJudgeStepReportsProgress(t *testing.T) {
	policy := SequentialPolicy{MaxErrorRate: 0.01}
	v := policy.JudgeStep(errorsOnly(1000, 8, 1000, 8), Step{Weight: 0.5, LastWeight: 0.5, Age: time.Hour})
	assert.Equal(t, Hold, v.Outcome)
	assert.Greater(t, v.PassProgress, 0.0)
	assert.Less(t, v.PassProgress, 1.0)
	assert.Less(t, v.Regression, 1.0, "a canary like stable has no evidence against it")
	assert.Contains(t, v.Reason, "of the way")
}

func TestStepMargin(t *testing.T) {
	p := SequentialPolicy{}
	assert.InDelta(t, 10, p.StepMargin(Step{Weight: 0.05, LastWeight: 0.5}), 1e-12)
	assert.InDelta(t, 1, p.StepMargin(Step{Weight: 0.5, LastWeight: 0.5}), 1e-12)
	assert.InDelta(t, 1, p.StepMargin(Step{}), 1e-12, "no weight: the full margin")
	assert.InDelta(t, 0.5, SequentialPolicy{Margin: 0.5}.StepMargin(Step{Weight: 0.5, LastWeight: 0.5}), 1e-12)
}

func TestForecastStepMatchesJudge(t *testing.T) {
	p := SequentialPolicy{MaxErrorRate: 0.01}
	r := Rates{CanaryRPS: 2.5, StableRPS: 2.5, StableErrorRate: 0.005, Ratio: 1}
	s := Step{Weight: 0.5, LastWeight: 0.5, MinDuration: time.Minute}
	d, o := p.ForecastStep(RolloutEvidence{}, r, s, 24*time.Hour)
	assert.Equal(t, Pass, o)
	// The judge on the average counts passes at the forecast and holds a
	// resolution step before it.
	judgeAt := func(d time.Duration) Outcome {
		var ev RolloutEvidence
		ev.Errors.Add(r.over(d))
		s := s
		s.Age = d
		return p.JudgeStep(ev, s).Outcome
	}
	assert.Equal(t, Pass, judgeAt(d))
	assert.Equal(t, Hold, judgeAt(d-forecastResolution))
}

func TestForecastRollout(t *testing.T) {
	p := SequentialPolicy{MaxErrorRate: 0.01}
	weights := []float64{0.05, 0.1, 0.25, 0.5}
	var previous time.Duration = math.MaxInt64
	for _, rps := range []float64{5, 20, 200} {
		d, o := p.ForecastRollout(weights, rps, 0.005, 1, time.Minute, 48*time.Hour)
		assert.Equal(t, Pass, o, "a healthy canary is forecast to pass at %g rps", rps)
		assert.Less(t, d, previous, "more traffic, sooner")
		assert.GreaterOrEqual(t, d, 4*time.Minute, "never faster than the steps' minimum")
		previous = d
	}
	_, o := p.ForecastRollout(weights, 200, 0.005, 5, time.Minute, 48*time.Hour)
	assert.Equal(t, Fail, o, "a 5× regression is forecast to fail")
	d, o := p.ForecastRollout(weights, 0, 0.005, 1, time.Minute, time.Hour)
	assert.Equal(t, Hold, o, "no traffic never decides")
	assert.Equal(t, time.Hour, d)
}
