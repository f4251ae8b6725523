package analysis

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The reference values below were computed with mpmath (40 digits,
// betainc(a, b, 0, x, regularized=True) and a 300-step bisection for the
// quantiles), and where a closed form exists it is given so that the value
// can be checked by hand.

func TestRegIncBeta(t *testing.T) {
	tests := []struct {
		name    string
		a, b, x float64
		want    float64
	}{
		// I_x(k, n-k+1) = P(Binomial(n, x) >= k): 1 - 0.7^6 - 6·0.3·0.7^5.
		{"binomial identity by hand", 2, 5, 0.3, 0.579825},
		{"a = 1 has the closed form 1-(1-x)^b", 1, 60, 0.01, 1 - math.Pow(0.99, 60)},
		{"b = 1 has the closed form x^a", 7, 1, 0.5, math.Pow(0.5, 7)},
		{"large b, small x", 3, 998, 0.01, 0.99732056800620847},
		{"far tail", 42, 959, 0.01, 2.5206086618682983e-14},
		{"fractional arguments", 10.5, 991, 0.01, 0.47969325214580905},
		{"x = 0", 2, 3, 0, 0},
		{"x = 1", 2, 3, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InEpsilon(t, tt.want+1e-300, regIncBeta(tt.a, tt.b, tt.x)+1e-300, 1e-9)
		})
	}
	t.Run("invalid shape is NaN", func(t *testing.T) {
		assert.True(t, math.IsNaN(regIncBeta(0, 1, 0.5)))
		assert.True(t, math.IsNaN(regIncBeta(1, math.NaN(), 0.5)))
	})
}

func TestErrorRateBounds(t *testing.T) {
	tests := []struct {
		name         string
		k, n, alpha  float64
		lower, upper float64
	}{
		// The 90 % two-sided Clopper-Pearson interval for 5/100 is the
		// textbook (0.0199, 0.1023); each end is a 95 % one-sided bound.
		{"5 of 100 at 95%", 5, 100, 0.05, 0.019905563662171838, 0.10225337764327451},
		{"42 of 1000 at 99%", 42, 1000, 0.01, 0.028588100508838368, 0.059176048619211768},
		// k = 1: 1-(1-p)^n = alpha, so p = 1-(1-alpha)^(1/n).
		{"1 of 3 at 99%", 1, 3, 0.01, 1 - math.Pow(0.99, 1.0/3), 0.94109686422180475},
		{"1 of 60 at 99%", 1, 60, 0.01, 1 - math.Pow(0.99, 1.0/60), -1},
		{"3 of 60 at 99%", 3, 60, 0.01, 0.0073641319540651336, -1},
		{"21 of 1000 at 99%", 21, 1000, 0.01, 0.011873779451471119, -1},
		{"10 of 1000 at 99%", 10, 1000, 0.01, 0.0041402980651447264, -1},
		// k = n: p^n = alpha.
		{"1 of 1 at 99%", 1, 1, 0.01, 0.01, 1},
		// k = 0: (1-p)^n = alpha, so p = 1-alpha^(1/n); the "rule of three" is its 95 % cousin.
		{"0 of 50 at 99%", 0, 50, 0.01, 0, 1 - math.Pow(0.01, 1.0/50)},
		{"0 of 1000 at 99%", 0, 1000, 0.01, 0, 0.0045945826484730376},
		{"1 of 1000 at 99%", 1, 1000, 0.01, 1 - math.Pow(0.99, 1.0/1000), 0.0066196683956486262},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo := ErrorRateLowerBound(tt.k, tt.n, tt.alpha)
			if tt.lower == 0 {
				assert.Zero(t, lo)
			} else {
				assert.InEpsilon(t, tt.lower, lo, 1e-9)
			}
			if tt.upper < 0 {
				return
			}
			assert.InEpsilon(t, tt.upper, ErrorRateUpperBound(tt.k, tt.n, tt.alpha), 1e-9)
		})
	}
	t.Run("no requests know nothing", func(t *testing.T) {
		assert.Zero(t, ErrorRateLowerBound(0, 0, 0.01))
		assert.Equal(t, 1.0, ErrorRateUpperBound(0, 0, 0.01))
	})
	t.Run("more errors than requests are clamped", func(t *testing.T) {
		assert.InEpsilon(t, 0.01, ErrorRateLowerBound(3, 1, 0.01), 1e-9)
	})
	t.Run("fractional counts lie between their integer neighbours", func(t *testing.T) {
		lo9, lo10, lo11 := ErrorRateLowerBound(9, 1000, 0.01), ErrorRateLowerBound(10.5, 1000, 0.01), ErrorRateLowerBound(11, 1000, 0.01)
		assert.Less(t, lo9, lo10)
		assert.Less(t, lo10, lo11)
	})
}

func TestBinomialTailAtLeast(t *testing.T) {
	tests := []struct {
		name    string
		k, n, p float64
		want    float64
	}{
		{"at least one in 60", 1, 60, 0.01, 1 - math.Pow(0.99, 60)},
		{"42 of 1000 at 1%", 42, 1000, 0.01, 2.5206086618682983e-14},
		{"zero errors is certain", 0, 60, 0.01, 1},
		{"rate zero makes any error impossible", 1, 60, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BinomialTailAtLeast(tt.k, tt.n, tt.p)
			if tt.want == 0 {
				assert.Zero(t, got)
				return
			}
			assert.InEpsilon(t, tt.want, got, 1e-9)
		})
	}
}

func TestRateRatio(t *testing.T) {
	tests := []struct {
		name                string
		errC, nC, errS, nS  float64
		lower99, pValueAt1x float64
	}{
		// 21 of 1000 (2.1 %) against 40 of 10000 (0.4 %): the canary's share of
		// the 61 errors is far above its 1/11 share of the requests.
		{"clearly worse", 21, 1000, 40, 10000, 2.6418810005829266, 4.4293499149709474e-08},
		// Double the errors at 5 % weight on 200 rps for a minute: 6 of 600 vs
		// 57 of 11400 is suggestive (p = 0.094) but far from 99 %.
		{"twice as bad, one small window", 6, 600, 57, 11400, 0.56931119905748774, 0.094490731019790755},
		// One canary error against a perfect stable side: share bound is alpha
		// itself (k = n = 1), so R_L = 0.01/0.99 · 100000/1000.
		{"one error, perfect stable", 1, 1000, 0, 100000, 0.01 / 0.99 * 100, 1000.0 / 101000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InEpsilon(t, tt.lower99, RateRatioLowerBound(tt.errC, tt.nC, tt.errS, tt.nS, 0.01), 1e-9)
			assert.InEpsilon(t, tt.pValueAt1x, RateRatioPValue(tt.errC, tt.nC, tt.errS, tt.nS, 1), 1e-9)
		})
	}
	t.Run("no canary error bounds the ratio at zero", func(t *testing.T) {
		assert.Zero(t, RateRatioLowerBound(0, 1000, 5, 1000, 0.01))
		assert.Equal(t, 1.0, RateRatioPValue(0, 1000, 5, 1000, 1))
	})
	t.Run("no stable requests has nothing to compare", func(t *testing.T) {
		assert.True(t, math.IsNaN(RateRatioLowerBound(3, 1000, 0, 0, 0.01)))
		assert.True(t, math.IsNaN(RateRatioPValue(3, 1000, 0, 0, 1)))
	})
}
