package main

import (
	"math"
	"math/rand/v2"
	"time"
)

// FixedSampleLimit is the yardstick of issue 15: the best fixed-sample test
// that knows the true rates in advance. It knows stable's error rate p0 and
// the incidents' dispersion, so it ignores stable's requests entirely and
// tests the canary's errors alone: H0 "rate p0" against H1 "rate 2·p0", at
// level Alpha with power 1-Beta, on the fewest canary requests that allow it.
// It runs the same steps (MinStep each), stays at the last until it has those
// requests, and decides once. No test that must estimate stable's rate from
// the traffic can need fewer requests; a sequential one can on average, but
// not by much at these error levels.
type FixedSampleLimit struct {
	Weights []float64
	MinStep time.Duration
	// samples holds, for Poisson and bursty errors, the canary requests the
	// test needs and its critical count, computed once: the search is far
	// slower than a rollout.
	samples map[bool][2]float64
}

// NewFixedSampleLimit returns the limit for stable's error rate baseline.
func NewFixedSampleLimit(baseline, alpha, beta float64, weights []float64, minStep time.Duration) FixedSampleLimit {
	l := FixedSampleLimit{Weights: weights, MinStep: minStep, samples: map[bool][2]float64{}}
	for bursty, phi := range map[bool]float64{false: 1, true: BurstDispersion} {
		n, c := fixedSample(baseline, 2*baseline, phi, alpha, beta)
		l.samples[bursty] = [2]float64{n, c}
	}
	return l
}

// Simulate runs one rollout of sc, drawing traffic from rng. sc.StableRate
// must be the baseline the limit was made for.
func (l FixedSampleLimit) Simulate(sc Scenario, rng *rand.Rand) Outcome {
	phi := 1.0
	if sc.Bursty {
		phi = BurstDispersion
	}
	need, critical := l.samples[sc.Bursty][0], l.samples[sc.Bursty][1]
	var out Outcome
	var now time.Duration
	for step := 0; out.CanaryRequests < need; {
		if now >= time.Duration(step+1)*l.MinStep && step < len(l.Weights)-1 {
			step++
		}
		slice := drawSlice(rng, sc, l.Weights[step], now, Slice)
		now += Slice
		out.served(sc, slice.Canary)
		if now >= maxSlices*Slice {
			out.Elapsed = now
			return out
		}
	}
	out.Elapsed = now
	if out.CanaryErrors/phi >= critical {
		out.RolledBack = true
	} else {
		out.Promoted = true
	}
	return out
}

// fixedSample returns the fewest canary requests n, and the critical count c,
// such that rejecting when errors/phi ≥ c has level alpha at rate p0 and
// power 1-beta at p1. Errors/phi is taken as Poisson with mean n·p/phi: a
// compound Poisson count's variance is phi times its mean, and dividing by
// phi matches both moments of a Poisson.
func fixedSample(p0, p1, phi, alpha, beta float64) (n, c float64) {
	for n = 10; ; n *= 1.005 {
		mu0, mu1 := n*p0/phi, n*p1/phi
		c = 0
		for poissonAtLeast(c, mu0) > alpha {
			c++
		}
		if poissonAtLeast(c, mu1) >= 1-beta {
			return n, c
		}
	}
}

// poissonAtLeast returns P(X ≥ c) for X ~ Poisson(mu), c a whole number.
func poissonAtLeast(c, mu float64) float64 {
	var below float64
	for k := 0.0; k < c; k++ {
		lg, _ := math.Lgamma(k + 1)
		below += math.Exp(-mu + k*math.Log(mu) - lg)
	}
	return math.Max(0, 1-below)
}
