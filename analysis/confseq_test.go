package analysis

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestConfidenceSequenceBoundsAreBoundaries(t *testing.T) {
	var e Evidence
	e.Add(Counts{CanaryRequests: 5000, CanaryEvents: 80, StableRequests: 5000, StableEvents: 25})
	m := Mixture{}
	lo, hi := e.RatioLowerBound(0.01, m), e.RatioUpperBound(0.01, m)
	assert.Greater(t, lo, 1.0, "80 vs 25 at equal shares is a regression at 99%")
	assert.Less(t, lo, 3.2)
	assert.Greater(t, hi, 3.2)
	assert.False(t, math.IsInf(hi, 1))
	// Just past each bound the e-value is over the line, just inside it is not.
	line := math.Log(100)
	assert.GreaterOrEqual(t, e.LogWorseThan(lo*0.999, m), line)
	assert.Less(t, e.LogWorseThan(lo*1.01, m), line)
	assert.GreaterOrEqual(t, e.LogBetterThan(hi*1.001, m), line)
	assert.Less(t, e.LogBetterThan(hi*0.99, m), line)

	rlo, rhi := e.RateLowerBound(0.01, m), e.RateUpperBound(0.01, m)
	assert.Less(t, rlo, 0.016)
	assert.Greater(t, rhi, 0.016)
	assert.Less(t, rlo, rhi)
}

func TestConfidenceSequenceWithoutEvidence(t *testing.T) {
	var e Evidence
	assert.Zero(t, e.RatioLowerBound(0.01, Mixture{}))
	assert.True(t, math.IsInf(e.RatioUpperBound(0.01, Mixture{}), 1))
	assert.Zero(t, e.RateLowerBound(0.01, Mixture{}))
	assert.Equal(t, 1.0, e.RateUpperBound(0.01, Mixture{}))
}

// TestRateBoundCoversAtEveryLook checks the confidence sequence's promise:
// the true rate stays inside the bounds at every one of 200 looks at once, in
// at least 1-alpha of the runs.
func TestRateBoundCoversAtEveryLook(t *testing.T) {
	const alpha, reps, looks, perLook, rate = 0.1, 200, 100, 100, 0.02
	rng := rand.New(rand.NewPCG(15, 3))
	missed := 0
	for range reps {
		var e Evidence
		for range looks {
			k := 0.0
			for range perLook {
				if rng.Float64() < rate {
					k++
				}
			}
			e.Add(Counts{CanaryRequests: perLook, CanaryEvents: k})
			// Reading the rejection directly is the same as comparing with
			// the bounds, and much cheaper than bisecting for them.
			if e.LogRateAbove(rate, Mixture{}) >= math.Log(2/alpha) || e.LogRateBelow(rate, Mixture{}) >= math.Log(2/alpha) {
				missed++
				break
			}
		}
	}
	assert.LessOrEqual(t, float64(missed)/reps, alpha)
}
