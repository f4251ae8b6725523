package main

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/analysis"
)

func TestPoisson(t *testing.T) {
	// Both samplers (Knuth below 10, PTRS above) must give mean and variance
	// lambda. With 20000 draws the sample mean's standard error is
	// sqrt(lambda/20000); 5 of them is a generous band.
	for _, lambda := range []float64{0, 0.3, 3, 9.9, 10, 57, 11400} {
		t.Run("lambda "+strconv.FormatFloat(lambda, 'g', -1, 64), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			const n = 20000
			var sum, sumSq float64
			for range n {
				x := Poisson(rng, lambda)
				require.Equal(t, math.Floor(x), x, "a count")
				require.GreaterOrEqual(t, x, 0.0)
				sum += x
				sumSq += x * x
			}
			mean := sum / n
			variance := sumSq/n - mean*mean
			assert.InDelta(t, lambda, mean, 5*math.Sqrt(lambda/n)+1e-9)
			if lambda > 0 {
				assert.InEpsilon(t, lambda, variance, 0.05)
			}
		})
	}
}

func TestFlaggerJudge(t *testing.T) {
	th := analysis.Thresholds{MaxErrorRate: 0.01, MinRequests: 50}
	tests := []struct {
		name           string
		requests, errs float64
		want           analysis.Outcome
	}{
		{"no requests is a failed check", 0, 0, analysis.Fail},
		{"one error in three requests fails", 3, 1, analysis.Fail},
		{"no minimum sample: three clean requests pass", 3, 0, analysis.Pass},
		{"at the limit passes", 1000, 10, analysis.Pass},
		{"above the limit fails", 1000, 11, analysis.Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := rated(analysis.Measurement{Canary: analysis.Side{Requests: tt.requests, Errors: tt.errs}})
			assert.Equal(t, tt.want, FlaggerJudge(m, th).Outcome)
		})
	}
}

// TestRunDecides is a small version of the full run: it drives the real
// analysis.Judge and weights.Decide and checks the broad shape of the
// results, which the full run measures precisely.
func TestRunDecides(t *testing.T) {
	rules := Rules()
	ours, flagger1 := rules[0], rules[1]
	healthy := func(rps float64) Scenario { return Scenario{RPS: rps, StableRate: Baseline, CanaryRate: Baseline} }
	bad := func(rps float64) Scenario { return Scenario{RPS: rps, StableRate: Baseline, CanaryRate: 5 * Baseline} }
	const runs = 200
	tests := []struct {
		name  string
		rule  Rule
		sc    Scenario
		check func(t *testing.T, s Summary)
	}{
		{"ours rarely rolls back a healthy canary at 200 rps", ours, healthy(200), func(t *testing.T, s Summary) {
			assert.LessOrEqual(t, s.RolledBack, runs*5/100)
			assert.Equal(t, runs, s.Promoted+s.RolledBack, "every rollout ends")
		}},
		{"ours catches 5x the errors at 200 rps", ours, bad(200), func(t *testing.T, s Summary) {
			assert.GreaterOrEqual(t, s.RolledBack, runs*99/100)
			assert.Positive(t, s.DetectMedian)
		}},
		{"ours holds rather than guesses at 5 rps", ours, healthy(5), func(t *testing.T, s Summary) {
			assert.Greater(t, s.PromoteMedian.Minutes(), 4.0, "min-requests holds the first steps")
		}},
		{"Flagger's rule rolls back many healthy canaries at 5 rps", flagger1, healthy(5), func(t *testing.T, s Summary) {
			assert.Greater(t, s.RolledBack, runs*30/100)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Run(tt.rule, tt.sc, runs, 7)
			require.NoError(t, err)
			tt.check(t, s)
		})
	}
	t.Run("the same seed gives the same figures", func(t *testing.T) {
		a, err := Run(ours, bad(20), 50, 3)
		require.NoError(t, err)
		b, err := Run(ours, bad(20), 50, 3)
		require.NoError(t, err)
		assert.Equal(t, a, b)
	})
}

func TestParseRuleRejectsBadSettings(t *testing.T) {
	_, err := ParseRule(Rule{Name: "bad", Annotations: map[string]string{"interval": "soon"}})
	assert.ErrorContains(t, err, "interval")
}

func TestUpdateDoc(t *testing.T) {
	dir := t.TempDir()
	t.Run("keeps the prose around the markers", func(t *testing.T) {
		path := filepath.Join(dir, "kept.md")
		require.NoError(t, os.WriteFile(path, []byte("# Title\n\nprose\n\n"+beginMarker+"\nold\n"+endMarker+"\n\nmore prose\n"), 0o644))
		require.NoError(t, updateDoc(path, "new table\n", beginMarker, endMarker))
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "# Title\n\nprose\n\n"+beginMarker+"\n\nnew table\n\n"+endMarker+"\n\nmore prose\n", string(got))
	})
	t.Run("writes a new document", func(t *testing.T) {
		path := filepath.Join(dir, "new.md")
		require.NoError(t, updateDoc(path, "table\n", beginMarker, endMarker))
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Contains(t, string(got), beginMarker+"\n\ntable\n\n"+endMarker)
	})
	t.Run("appends a second generated part and leaves the first alone", func(t *testing.T) {
		path := filepath.Join(dir, "two.md")
		first := beginMarker + "\n\nfirst\n\n" + endMarker + "\n"
		require.NoError(t, os.WriteFile(path, []byte(first), 0o644))
		require.NoError(t, updateDoc(path, "second\n", beginCompareMarker, endCompareMarker))
		require.NoError(t, updateDoc(path, "second again\n", beginCompareMarker, endCompareMarker))
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, first+"\n"+beginCompareMarker+"\n\nsecond again\n\n"+endCompareMarker+"\n", string(got))
	})
}

func TestFastFailCrossed(t *testing.T) {
	th := analysis.Thresholds{MaxErrorRate: 0.01, MinRequests: 50}
	ff := FastFail{Ratio: 3, Alpha: 0.001, StableAlpha: 0.05}
	stable := analysis.Side{Requests: 100000, Errors: 500} // 0.5 %, upper bound ≈ 0.54 %
	tests := []struct {
		name           string
		requests, errs float64
		stable         analysis.Side
		want           bool
	}{
		{"no canary error never crosses", 1000, 0, stable, false},
		{"the stable rate does not cross", 2000, 10, stable, false},
		// 15 errors in 600 (2.5 %) against p0 ≈ 0.54 %, p1 ≈ 1.6 %:
		// 15·ln 3 + 585·ln(0.984/0.9946) ≈ 16.5 − 6.3 > ln 1000 ≈ 6.9.
		{"5x the stable rate crosses", 600, 15, stable, true},
		// A spotless stable side is floored at a tenth of max-error-rate (0.1 %):
		// two errors are 2·ln 3 ≈ 2.2 < 6.9.
		{"two errors against a spotless stable side do not cross", 1000, 2, analysis.Side{Requests: 100000}, false},
		{"no stable traffic compares with max-error-rate", 600, 30, analysis.Side{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := analysis.Measurement{Canary: analysis.Side{Requests: tt.requests, Errors: tt.errs}, Stable: tt.stable}
			assert.Equal(t, tt.want, ff.Crossed(m, th))
		})
	}
}
