package main

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/analysis"
)

func TestFixedSample(t *testing.T) {
	const alpha, beta = 0.01, 0.05
	for _, phi := range []float64{1, BurstDispersion} {
		n, c := fixedSample(0.005, 0.01, phi, alpha, beta)
		mu0, mu1 := n*0.005/phi, n*0.01/phi
		assert.LessOrEqual(t, poissonAtLeast(c, mu0), alpha, "level at phi %g", phi)
		assert.GreaterOrEqual(t, poissonAtLeast(c, mu1), 1-beta, "power at phi %g", phi)
		// Half a percent fewer requests must not do: n is the fewest.
		smaller := n / 1.005
		c0 := 0.0
		for poissonAtLeast(c0, smaller*0.005/phi) > alpha {
			c0++
		}
		assert.Less(t, poissonAtLeast(c0, smaller*0.01/phi), 1-beta, "fewer requests lack the power at phi %g", phi)
	}
	// The normal approximation, (z_α + z_β)² / (2(√2 - 1))² ≈ 23 expected
	// errors under H0, puts n near 4600 for independent errors.
	n, _ := fixedSample(0.005, 0.01, 1, alpha, beta)
	assert.InEpsilon(t, 4600, n, 0.05)
}

func TestPoissonAtLeast(t *testing.T) {
	assert.Equal(t, 1.0, poissonAtLeast(0, 3))
	assert.InDelta(t, 1-math.Exp(-3), poissonAtLeast(1, 3), 1e-12)
	assert.InDelta(t, 1-math.Exp(-3)*(1+3+4.5), poissonAtLeast(3, 3), 1e-12)
}

func TestBurstErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 5))
	const draws, mean = 20000, 2.0
	var sum, sumSq float64
	for range draws {
		x := burstErrors(rng, mean)
		sum += x
		sumSq += x * x
	}
	m := sum / draws
	variance := sumSq/draws - m*m
	assert.InEpsilon(t, mean, m, 0.05)
	assert.InEpsilon(t, BurstDispersion, variance/m, 0.1, "variance is BurstDispersion × the mean")
}

func TestRateAt(t *testing.T) {
	steady := Scenario{RPS: 20}
	ramp := Scenario{RPS: 20, Ramp: true}
	assert.Equal(t, 20.0, steady.rateAt(3*time.Hour))
	assert.Equal(t, 20.0, ramp.rateAt(-time.Hour), "before the rollout: the start's rate")
	assert.InDelta(t, 20*(1+rampFloor)/2, ramp.rateAt(rampLength/2), 1e-9)
	assert.InDelta(t, 20*rampFloor, ramp.rateAt(5*rampLength), 1e-9)
}

// TestSequentialDecides is a small version of the comparison's sequential
// row at 200 rps, checking its broad shape.
func TestSequentialDecides(t *testing.T) {
	contenders, err := Contenders()
	require.NoError(t, err)
	var seq Contender
	for _, c := range contenders {
		if c.Name == sequentialName {
			seq = c
		}
	}
	require.NotNil(t, seq.Simulate)
	const runs = 40
	healthy := runCell(seq, Scenario{RPS: 200, StableRate: Baseline, CanaryRate: Baseline}, runs, 1)
	assert.GreaterOrEqual(t, healthy.Promoted, runs-2)
	assert.GreaterOrEqual(t, healthy.Median, 4*compareMinStep, "every step lasts at least interval")
	bad := runCell(seq, Scenario{RPS: 200, StableRate: Baseline, CanaryRate: 5 * Baseline}, runs, 1)
	assert.Equal(t, runs, bad.RolledBack)
	assert.Zero(t, bad.Inconclusive)
}

func TestSequentialFailsAtTheBoundWithoutTraffic(t *testing.T) {
	q := Sequential{Policy: analysis.SequentialPolicy{MaxErrorRate: 0.01}, Weights: compareWeights,
		MinStep: time.Minute, MaxStep: 10 * time.Minute, Look: compareLook}
	o := q.Simulate(Scenario{RPS: 0.01, StableRate: Baseline, CanaryRate: Baseline}, rand.New(rand.NewPCG(1, 1)))
	assert.True(t, o.RolledBack)
	assert.True(t, o.Inconclusive)
	assert.Equal(t, 10*time.Minute, o.Elapsed)
}

func TestTypeOneCrosses(t *testing.T) {
	q := Sequential{Look: compareLook}
	rng := rand.New(rand.NewPCG(1, 1))
	regression := typeOneCases()[0]
	bad := Scenario{RPS: 200, StableRate: Baseline, CanaryRate: 5 * Baseline}
	assert.True(t, typeOneCrosses(regression, bad, q, rng), "a 5× canary crosses the regression line")
	rate := typeOneRate(regression, Scenario{RPS: 20, StableRate: Baseline, CanaryRate: Baseline}, 20, 1)
	assert.GreaterOrEqual(t, rate, 0.0)
	assert.LessOrEqual(t, rate, 0.1)
}
