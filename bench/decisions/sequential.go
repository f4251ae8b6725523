package main

import (
	"math/rand/v2"
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// Sequential is the anytime-valid judge (analysis.SequentialPolicy) with the
// step loop it needs, simulated on its own: the controller does not drive it
// yet, so weights.Decide cannot. The loop is the one issue 15 describes:
// read the evidence every Look; fail on evidence against the canary; pass a
// step on evidence that it is within the step's margin, once the step has run
// MinStep; hold otherwise, up to MaxStep, then do what the policy's bound
// action says. The evidence carries over from step to step.
type Sequential struct {
	Policy analysis.SequentialPolicy
	// Weights are the steps, ascending in (0, 1); promotion follows the last.
	Weights []float64
	// MinStep is interval: the shortest a step lasts.
	MinStep time.Duration
	// MaxStep is max-step-duration; the bound of a step's hold.
	MaxStep time.Duration
	// AtBound is what a step does at MaxStep.
	AtBound analysis.BoundAction
	// Look is how often the evidence is read: a scrape interval.
	Look time.Duration
	// EstimateDispersion feeds stable's counts per Look to an
	// analysis.DispersionEstimate and divides the evidence by its upper
	// bound; otherwise errors are taken as independent.
	EstimateDispersion bool
	// History is how much of stable's traffic before the rollout the
	// dispersion estimate starts from, as the controller can ask Prometheus
	// for it at the start.
	History time.Duration
}

// Simulate runs one rollout of sc, drawing traffic from rng.
func (q Sequential) Simulate(sc Scenario, rng *rand.Rand) Outcome {
	var out Outcome
	var ev analysis.RolloutEvidence
	dispersion := q.history(sc, rng)
	policy := q.Policy
	var now, stepStart time.Duration
	last := q.Weights[len(q.Weights)-1]
	for step := 0; ; {
		w := q.Weights[step]
		slice := drawSlice(rng, sc, w, now, q.Look)
		now += q.Look
		c, s := slice.Canary, slice.Stable
		ev.Errors.Add(analysis.Counts{CanaryRequests: c.Requests, CanaryEvents: c.Errors, StableRequests: s.Requests, StableEvents: s.Errors})
		out.served(sc, c)
		if q.EstimateDispersion {
			dispersion.Add(s.Errors, s.Requests)
			policy.Mixture.Dispersion = dispersion.MixtureDispersion()
		}
		v := policy.JudgeStep(ev, analysis.Step{
			Weight: w, LastWeight: last, Age: now - stepStart,
			MinDuration: q.MinStep, MaxDuration: q.MaxStep, AtBound: q.AtBound,
		})
		out.Inconclusive = v.Inconclusive
		switch v.Outcome {
		case analysis.Fail:
			out.RolledBack, out.Elapsed = true, now
			return out
		case analysis.Pass:
			if step++; step == len(q.Weights) {
				out.Promoted, out.Elapsed = true, now
				return out
			}
			ev.Errors.CloseSegment()
			stepStart = now
		}
		if now >= maxSlices*Slice {
			out.Elapsed = now
			return out
		}
	}
}

// history returns the dispersion estimate of stable's traffic over History
// before the rollout, all of it on stable.
func (q Sequential) history(sc Scenario, rng *rand.Rand) analysis.DispersionEstimate {
	var d analysis.DispersionEstimate
	if !q.EstimateDispersion {
		return d
	}
	for at := -q.History; at < 0; at += q.Look {
		s := drawSlice(rng, sc, 0, at, q.Look).Stable
		d.Add(s.Errors, s.Requests)
	}
	return d
}

// served counts what the canary served in out, as the weights.Decide
// simulation does.
func (o *Outcome) served(sc Scenario, c analysis.Side) {
	o.CanaryRequests += c.Requests
	o.CanaryErrors += c.Errors
	o.ExcessErrors += c.Errors - c.Requests*sc.StableRate
}
