package analysis

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bruteForceMixture integrates the truncated Beta mixture of
// logTruncatedBetaMixture numerically (composite Simpson on 20000 panels,
// in log space to keep θ^x from underflowing), an independent check of the
// closed form.
func bruteForceMixture(x, y, b, kappa float64, above bool) float64 {
	lo, hi := 0.0, b
	if above {
		lo, hi = b, 1
	}
	const panels = 20000
	h := (hi - lo) / panels
	pa, pb := kappa*b, kappa*(1-b)
	logPriorDensity := func(t float64) float64 { return (pa-1)*math.Log(t) + (pb-1)*math.Log1p(-t) - logBeta(pa, pb) }
	simpson := func(f func(float64) float64) float64 {
		var s float64
		for i := 0; i <= panels; i++ {
			t := lo + float64(i)*h
			// The density can be infinite at an end (a < 1); nudging the
			// end inward by a part in 1e9 costs nothing measurable.
			t = math.Min(math.Max(t, 1e-12), 1-1e-12)
			w := 2.0
			switch {
			case i == 0 || i == panels:
				w = 1
			case i%2 == 1:
				w = 4
			}
			s += w * f(t)
		}
		return s * h / 3
	}
	logBoundary := x*math.Log(b) + y*math.Log1p(-b)
	num := simpson(func(t float64) float64 {
		return math.Exp(x*math.Log(t) + y*math.Log1p(-t) - logBoundary + logPriorDensity(t))
	})
	mass := simpson(func(t float64) float64 { return math.Exp(logPriorDensity(t)) })
	return math.Log(num / mass)
}

func TestTruncatedBetaMixtureMatchesIntegration(t *testing.T) {
	tests := []struct {
		name        string
		x, y, b     float64
		kappa       float64
		above       bool
		wantPositve bool
	}{
		{"canary takes many of the events at a 5% share", 8, 40, 0.05, 20, true, true},
		{"canary takes its share: no evidence of harm", 3, 57, 0.05, 20, true, false},
		{"half share, balanced: evidence for the pass side", 60, 60, 2.0 / 3, 20, false, true},
		{"fractional counts after dividing by a dispersion", 2.5, 13.3, 0.2, 20, true, false},
		{"thousands of events on the null side", 0, 2000, 0.5, 20, true, false},
		{"thousands of events on the far side", 1500, 500, 0.5, 20, true, true},
		{"absolute rate against a 1% ceiling", 25, 975, 0.01, 100, true, true},
		{"wide prior", 5, 5, 0.3, 2, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := logTruncatedBetaMixture(tt.x, tt.y, tt.b, tt.kappa, tt.above)
			want := bruteForceMixture(tt.x, tt.y, tt.b, tt.kappa, tt.above)
			require.False(t, math.IsNaN(got))
			assert.InDelta(t, want, got, 1e-6)
			assert.Equal(t, tt.wantPositve, got > 0, "log e = %g", got)
		})
	}
	t.Run("no events is no evidence", func(t *testing.T) {
		assert.Zero(t, logTruncatedBetaMixture(0, 0, 0.1, 20, true))
	})
}

// TestMixtureOfOneEventByHand checks the closed form where the integral is
// elementary: with a uniform prior (κ = 2 at b = 1/2) and one canary event,
// E = ∫_{1/2}^1 θ dθ / (1/2 · 1/2) = 3/2.
func TestMixtureOfOneEventByHand(t *testing.T) {
	assert.InDelta(t, math.Log(1.5), logTruncatedBetaMixture(1, 0, 0.5, 2, true), 1e-12)
	// The other side: ∫_0^{1/2} θ dθ / (1/2 · 1/2) = 1/2.
	assert.InDelta(t, math.Log(0.5), logTruncatedBetaMixture(1, 0, 0.5, 2, false), 1e-12)
}

// crossRate simulates reps runs of events whose side is canary with
// probability θ(trueRatio, share), the share changing at each quarter of the
// run as a rollout's steps do, reads the e-value after every lookEvery events
// (1 is the finest monitoring there is: between events it does not move) and
// returns the fraction of runs in which it ever reached 1/alpha.
func crossRate(t *testing.T, trueRatio float64, read func(Evidence) float64, alpha float64, reps, events, lookEvery int) float64 {
	t.Helper()
	rng := rand.New(rand.NewPCG(15, 1))
	shares := []float64{0.05, 0.1, 0.25, 0.5}
	crossed := 0
	for range reps {
		// The closed segments' evidence is summed once, as the product of
		// their e-values; only the open segment's moves at each event. This
		// is what read(Evidence) computes, without recomputing the past.
		var open Evidence
		var closedLog float64
		for i := range events {
			w := shares[i*len(shares)/events]
			if i > 0 && w != shares[(i-1)*len(shares)/events] {
				closedLog += read(open)
				open = Evidence{}
			}
			// The requests set the observed share; a few hundred per event
			// is what an error rate near 0.5 % gives.
			theta := w * trueRatio / (w*trueRatio + 1 - w)
			c := Counts{CanaryRequests: 200 * w, StableRequests: 200 * (1 - w)}
			if rng.Float64() < theta {
				c.CanaryEvents = 1
			} else {
				c.StableEvents = 1
			}
			open.Add(c)
			if i%lookEvery == 0 && closedLog+read(open) >= math.Log(1/alpha) {
				crossed++
				break
			}
		}
	}
	return float64(crossed) / float64(reps)
}

// TestTypeIError monitors each e-process at its null's boundary, where a
// test is most likely to be wrong, and inside its null: the regression
// evidence against "canary ≤ stable", the pass evidence against "canary ≥ 2×
// stable". Ville's inequality bounds the rate of ever crossing by alpha; the
// band allows three standard errors of the simulation. It looks every other
// event, which changes the rates by a few tenths of a point and halves the
// time; bench/decisions -compare measures the whole judge on 1000 rollouts
// per cell.
func TestTypeIError(t *testing.T) {
	const alpha, reps, events = 0.05, 500, 300
	band := 3 * math.Sqrt(alpha*(1-alpha)/reps)
	tests := []struct {
		name   string
		read   func(Evidence) float64
		ratios []float64
	}{
		{"regression evidence against canary ≤ stable", func(e Evidence) float64 { return e.LogWorseThan(1, Mixture{}) }, []float64{1, 0.7}},
		{"pass evidence against canary ≥ 2× stable", func(e Evidence) float64 { return e.LogBetterThan(2, Mixture{}) }, []float64{2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, ratio := range tt.ratios {
				rate := crossRate(t, ratio, tt.read, alpha, reps, events, 2)
				t.Logf("true ratio %g: crossed in %.1f%% of runs", ratio, 100*rate)
				assert.LessOrEqual(t, rate, alpha+band, "true ratio %g", ratio)
			}
		})
	}
}

// TestPower checks that the e-processes find what they are for within the
// 400 events of a run: a 5× regression is failed nearly always, a 2× one
// mostly, and a healthy canary is shown better than 2× mostly.
func TestPower(t *testing.T) {
	const alpha, reps, events = 0.01, 200, 400
	worse := func(e Evidence) float64 { return e.LogWorseThan(1, Mixture{}) }
	better := func(e Evidence) float64 { return e.LogBetterThan(2, Mixture{}) }
	assert.GreaterOrEqual(t, crossRate(t, 5, worse, alpha, reps, events, 5), 0.99, "5× failed")
	assert.GreaterOrEqual(t, crossRate(t, 2, worse, alpha, reps, events, 5), 0.7, "2× failed")
	assert.GreaterOrEqual(t, crossRate(t, 1, better, alpha, reps, events, 5), 0.7, "1× shown better than 2×")
}

// TestDispersionKeepsTypeIErrorUnderBursts makes every incident a burst of 4
// events on one side, which independent-event arithmetic would read as four
// draws; dividing by Dispersion 4 restores the level.
func TestDispersionKeepsTypeIErrorUnderBursts(t *testing.T) {
	const alpha, reps, incidents, burst = 0.05, 500, 100, 4
	rng := rand.New(rand.NewPCG(15, 2))
	rate := func(m Mixture) float64 {
		crossed := 0
		for range reps {
			var e Evidence
			for range incidents {
				c := Counts{CanaryRequests: 50, StableRequests: 950}
				if rng.Float64() < 0.05 {
					c.CanaryEvents = burst
				} else {
					c.StableEvents = burst
				}
				e.Add(c)
				if e.LogWorseThan(1, m) >= math.Log(1/alpha) {
					crossed++
					break
				}
			}
		}
		return float64(crossed) / reps
	}
	band := 3 * math.Sqrt(alpha*(1-alpha)/reps)
	assert.Greater(t, rate(Mixture{}), alpha+band, "bursts read as independent events inflate the error")
	assert.LessOrEqual(t, rate(Mixture{Dispersion: burst}), alpha+band)
}

func TestRateEvidenceAgainstCeiling(t *testing.T) {
	var e Evidence
	e.Add(Counts{CanaryRequests: 1000, CanaryEvents: 42, StableRequests: 9000, StableEvents: 9})
	assert.Greater(t, e.LogRateAbove(0.01, Mixture{}), math.Log(100), "42 of 1000 is above 1%")
	assert.Less(t, e.LogRateBelow(0.01, Mixture{}), 0.0, "and not below it")
	var clean Evidence
	clean.Add(Counts{CanaryRequests: 5000, CanaryEvents: 5, StableRequests: 5000, StableEvents: 5})
	assert.Greater(t, clean.LogRateBelow(0.01, Mixture{}), math.Log(100), "5 of 5000 is below 1%")
	assert.Zero(t, Evidence{}.LogRateAbove(0.01, Mixture{}), "no requests, no evidence")
}

func TestSegmentsWithoutBothSidesSayNothing(t *testing.T) {
	var e Evidence
	e.Add(Counts{CanaryRequests: 100, CanaryEvents: 10})
	assert.Zero(t, e.LogWorseThan(1, Mixture{}))
	e.CloseSegment()
	e.CloseSegment() // an empty open segment is not kept
	assert.Len(t, e.Closed, 1)
	assert.True(t, math.IsNaN(e.LogWorseThan(0, Mixture{})), "a ratio must be positive")
}

func TestAddDropsWhatAreNotCounts(t *testing.T) {
	good := Counts{CanaryRequests: 100, CanaryEvents: 1, StableRequests: 900, StableEvents: 4}
	for name, bad := range map[string]Counts{
		"negative":                  {CanaryRequests: -5, StableRequests: 900},
		"NaN":                       {CanaryRequests: 100, CanaryEvents: math.NaN(), StableRequests: 900},
		"infinite":                  {CanaryRequests: math.Inf(1), StableRequests: 900},
		"more events than requests": {CanaryRequests: 1, CanaryEvents: 2, StableRequests: 900},
	} {
		t.Run(name, func(t *testing.T) {
			var e Evidence
			e.Add(good)
			e.Add(bad)
			assert.Equal(t, good, e.Open)
		})
	}
}

// TestEvidenceRoundTripsThroughJSON is what keeping it in the status needs:
// the evidence read back from JSON is the same evidence.
func TestEvidenceRoundTripsThroughJSON(t *testing.T) {
	var e Evidence
	e.Add(Counts{CanaryRequests: 300, CanaryEvents: 2, StableRequests: 5700, StableEvents: 30})
	e.CloseSegment()
	e.Add(Counts{CanaryRequests: 1200, CanaryEvents: 9, StableRequests: 10800, StableEvents: 50})
	data, err := json.Marshal(e)
	require.NoError(t, err)
	var back Evidence
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, e, back)
	assert.Equal(t, e.LogWorseThan(1, Mixture{}), back.LogWorseThan(1, Mixture{}))
	assert.Less(t, len(data), 300, "a few numbers per step: %s", data)
}
