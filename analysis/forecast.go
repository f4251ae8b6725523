package analysis

import "time"

// Forecasts answer "how long will this take at this traffic" by running the
// sequential judge on the counts traffic would bring on average. The e-value
// of the average counts is close to the median path's, so the answer is about
// the median time to a decision: half the rollouts take longer. Only errors
// are forecast; latency adds a gate that is rarely the slower one.

// Rates are what a forecast assumes from now on.
type Rates struct {
	// CanaryRPS and StableRPS are the request rates of each side.
	CanaryRPS, StableRPS float64
	// StableErrorRate is stable's share of requests that fail.
	StableErrorRate float64
	// Ratio is the canary's error rate as a multiple of stable's: 1 forecasts
	// a healthy canary.
	Ratio float64
}

// over returns the counts d of such traffic brings on average.
func (r Rates) over(d time.Duration) Counts {
	secs := d.Seconds()
	canaryRate := min(r.Ratio*r.StableErrorRate, 1)
	return Counts{
		CanaryRequests: r.CanaryRPS * secs,
		CanaryEvents:   r.CanaryRPS * secs * canaryRate,
		StableRequests: r.StableRPS * secs,
		StableEvents:   r.StableRPS * secs * r.StableErrorRate,
	}
}

// forecastResolution is how finely a forecast is searched; nobody reads a
// forecast to the second.
const forecastResolution = 5 * time.Second

// ForecastStep returns how much longer the step s must run, at r, until the
// evidence decides it, and the verdict it reaches then; Hold when it would
// not decide within horizon (the step's own bound is ignored: the forecast
// says whether the bound will be reached).
func (p SequentialPolicy) ForecastStep(ev RolloutEvidence, r Rates, s Step, horizon time.Duration) (time.Duration, Outcome) {
	s.MaxDuration = 0
	judge := func(d time.Duration) Outcome {
		e := ev
		e.Errors.Open = e.Errors.Open.Plus(r.over(d))
		at := s
		at.Age += d
		return p.JudgeStep(e, at).Outcome
	}
	if o := judge(0); o != Hold {
		return 0, o
	}
	// Double until decided, then bisect: the evidence along the average path
	// grows steadily once the mixture's start-up cost is paid.
	lo, hi := time.Duration(0), forecastResolution
	for judge(hi) == Hold {
		if hi >= horizon {
			return horizon, Hold
		}
		lo, hi = hi, min(2*hi, horizon)
	}
	for hi-lo > forecastResolution {
		mid := lo + (hi-lo)/2
		if judge(mid) == Hold {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, judge(hi)
}

// ForecastRollout returns how long a rollout through weights (ascending, in
// (0, 1)) takes at totalRPS, for a canary ratio × stable's error rate, each
// step lasting at least minStep, and the verdict it ends with: Pass
// (promoted), Fail, or Hold when a step would not decide within horizon.
// It is what the start-of-rollout Event and lint say: "at 5 rps, about 40 min".
func (p SequentialPolicy) ForecastRollout(weights []float64, totalRPS, stableErrorRate, ratio float64, minStep, horizon time.Duration) (time.Duration, Outcome) {
	var ev RolloutEvidence
	var total time.Duration
	for _, w := range weights {
		r := Rates{CanaryRPS: w * totalRPS, StableRPS: (1 - w) * totalRPS, StableErrorRate: stableErrorRate, Ratio: ratio}
		s := Step{Weight: w, LastWeight: weights[len(weights)-1], MinDuration: minStep}
		d, o := p.ForecastStep(ev, r, s, horizon)
		total += d
		if o != Pass {
			return total, o
		}
		ev.Errors.Add(r.over(d))
		ev.Errors.CloseSegment()
	}
	return total, Pass
}
