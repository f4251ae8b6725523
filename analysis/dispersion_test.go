package analysis

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// poissonDraw is Knuth's method, enough for the small means of these tests.
func poissonDraw(rng *rand.Rand, mean float64) float64 {
	limit, prod, k := math.Exp(-mean), rng.Float64(), 0.0
	for prod > limit {
		prod *= rng.Float64()
		k++
	}
	return k
}

func TestDispersionEstimate(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 4))
	const intervals = 2000
	// Requests per interval vary fivefold, as steps and a diurnal swing
	// make them; the expected counts follow them.
	requests := func(i int) float64 { return 1000 * (1 + 4*float64(i%5)/4) }
	t.Run("independent events read as 1", func(t *testing.T) {
		var d DispersionEstimate
		for i := range intervals {
			n := requests(i)
			d.Add(poissonDraw(rng, n*0.005), n)
		}
		assert.InDelta(t, 1, d.Dispersion(), 0.1)
	})
	t.Run("incidents of exactly 4 read as 4", func(t *testing.T) {
		var d DispersionEstimate
		for i := range intervals {
			n := requests(i)
			d.Add(4*poissonDraw(rng, n*0.005/4), n)
		}
		assert.InDelta(t, 4, d.Dispersion(), 0.4)
	})
	t.Run("the upper bound covers and shrinks", func(t *testing.T) {
		// 20 looks at a service whose incidents are 4 errors each: the 90 %
		// bound is above 4 in at least nine tenths of the trials.
		below := 0
		for range 400 {
			var d DispersionEstimate
			for i := range 20 {
				n := requests(i)
				d.Add(4*poissonDraw(rng, n*0.02/4), n)
			}
			if d.UpperBound(0.1) < 4 {
				below++
			}
		}
		assert.LessOrEqual(t, below, 40+3*6) // 3 standard errors over 10 %
		var d DispersionEstimate
		for i := range intervals {
			n := requests(i)
			d.Add(4*poissonDraw(rng, n*0.005/4), n)
		}
		assert.InDelta(t, 4, d.UpperBound(0.1), 0.6, "with many intervals the bound nears the estimate")
	})
	t.Run("nothing to estimate from", func(t *testing.T) {
		var d DispersionEstimate
		assert.True(t, math.IsInf(d.UpperBound(0.1), 1))
		assert.Equal(t, 1.0, d.Dispersion())
		d.Add(3, 100)
		assert.Equal(t, 1.0, d.Dispersion(), "one interval")
		d.Add(1, 0)
		assert.Equal(t, 1.0, d.Dispersion(), "an interval without requests is skipped")
	})
}
