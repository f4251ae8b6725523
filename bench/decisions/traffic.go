package main

import (
	"math/rand/v2"
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// BurstMean is the mean number of errors in one incident of a bursty
// scenario: one client retrying a failed call, one pod restarting. Incident
// sizes are geometric on 1, 2, ..., so the error counts' variance is
// BurstDispersion times their mean instead of once.
const (
	BurstMean       = 3.0
	BurstDispersion = 2*BurstMean - 1 // E[K²]/E[K] for K geometric with mean BurstMean
)

// rampLength and rampFloor shape the diurnal ramp: the total rate falls
// linearly to rampFloor of its start over rampLength, then stays there, the
// evening decline a long low-traffic rollout runs into.
const (
	rampLength = 2 * time.Hour
	rampFloor  = 0.25
)

// rateAt returns the scenario's total request rate at elapsed time since the
// rollout's start.
func (s Scenario) rateAt(elapsed time.Duration) float64 {
	if !s.Ramp {
		return s.RPS
	}
	f := min(max(float64(elapsed)/float64(rampLength), 0), 1)
	return s.RPS * (1 - (1-rampFloor)*f)
}

// drawSlice draws the requests and errors of both sides over d, starting
// elapsed after the rollout's start, with share of the traffic to the canary.
func drawSlice(rng *rand.Rand, sc Scenario, share float64, elapsed, d time.Duration) analysis.Measurement {
	rps := sc.rateAt(elapsed + d/2)
	secs := d.Seconds()
	side := func(rps, rate float64) analysis.Side {
		// Poisson arrivals split by an independent coin per request are two
		// independent Poisson streams: errors and successes.
		var errs float64
		if sc.Bursty {
			errs = burstErrors(rng, rps*secs*rate)
		} else {
			errs = Poisson(rng, rps*secs*rate)
		}
		ok := Poisson(rng, rps*secs*(1-rate))
		return analysis.Side{Requests: errs + ok, Errors: errs}
	}
	return analysis.Measurement{
		Canary: side(rps*share, sc.CanaryRate),
		Stable: side(rps*(1-share), sc.StableRate),
	}
}

// burstErrors draws the errors of incidents arriving as a Poisson process,
// each of a geometric number of errors, mean errors in all on average.
func burstErrors(rng *rand.Rand, mean float64) float64 {
	incidents := Poisson(rng, mean/BurstMean)
	var errs float64
	for range int(incidents) {
		errs++
		for rng.Float64() > 1/BurstMean {
			errs++
		}
	}
	return errs
}
