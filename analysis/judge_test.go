package analysis

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestJudge(t *testing.T) {
	th := Thresholds{MaxErrorRate: 0.01, MaxLatency: 250 * time.Millisecond, LatencyQuantile: 0.99, MinRequests: 50}
	ungated := th
	ungated.MaxLatency = 0
	strict := th
	strict.Confidence = 0.999
	stable := Side{Requests: 9000, Errors: 9, ErrorRate: 0.001, LatencySeconds: 0.08}
	side := func(requests, errs, latency float64) Side {
		rate := 0.0
		if requests > 0 {
			rate = errs / requests
		}
		return Side{Requests: requests, Errors: errs, ErrorRate: rate, LatencySeconds: latency}
	}
	canary := func(requests, errs, latency float64) Measurement {
		return Measurement{Canary: side(requests, errs, latency), Stable: stable}
	}
	against := func(requests, errs float64, st Side) Measurement {
		return Measurement{Canary: side(requests, errs, 0.1), Stable: st}
	}

	// The bounds quoted in the reasons are checked in stats_test.go against
	// mpmath; e.g. 42 of 1000 at 99 % has the exact lower bound 2.8588 %, and
	// 0 of 50 has the upper bound 1-0.01^(1/50) = 8.80 %.
	tests := []struct {
		name       string
		m          Measurement
		th         Thresholds
		want       Outcome
		wantReason string
	}{
		{"healthy", canary(1000, 1, 0.1), th, Pass,
			"1000 canary requests, error rate 0.10% (99% upper bound 0.66%; stable 0.10%), p99 latency 0.100s (stable 0.080s)"},
		{"too few requests", canary(12, 0, 0.1), th, NoData, "12 canary requests, need 50"},
		{"one below the minimum", canary(49, 0, 0.1), th, NoData, "49 canary requests, need 50"},
		{"fractional count below the minimum says so", canary(49.96, 0, 0.1), th, NoData, "50 canary requests, need 50"},
		{"exactly the minimum passes, and says how little that proves", canary(50, 0, 0.1), th, Pass,
			"50 canary requests, error rate 0.00% (99% upper bound 8.80%; stable 0.10%), p99 latency 0.100s (stable 0.080s)"},
		{"zero requests with no minimum still needs one", canary(0, 0, -1), Thresholds{MaxErrorRate: 0.01}, NoData,
			"0 canary requests, need 1"},
		{"too few requests hides even a bad error rate", canary(10, 10, 0.1), th, NoData, "10 canary requests, need 50"},
		{"NaN requests are no data", canary(math.NaN(), 0, 0.1), th, NoData, "NaN canary requests, need 50"},
		{"NaN errors are no data, not a pass", canary(1000, math.NaN(), 0.1), th, NoData, "NaN canary errors among 1000 requests: not a count"},

		// The absolute ceiling fails on the lower confidence bound.
		{"error rate above the limit with confidence", canary(1000, 42, 0.1), th, Fail,
			"error rate 4.20% > max-error-rate 1.00% with 99% confidence (lower bound 2.86%; 42 of 1000 canary requests; stable 0.10%)"},
		// 1 error in 3 requests is 33 %, but a 1 % rate gives at least one error
		// in 3 requests 3 % of the time: not enough to roll back on the ceiling,
		// nor against a stable side at 0.5 % (lower bound 0.33 % < 0.5 % + 0.1 %).
		{"1 error in 3 requests does not roll back", against(3, 1, side(9000, 45, 0.08)), Thresholds{MaxErrorRate: 0.01, MinRequests: 1}, NoData,
			"inconclusive: error rate 33.33% > max-error-rate 1.00%, but not with 99% confidence (lower bound 0.33%; 1 of 3 canary requests; stable 0.50%)"},
		// Against a stable side at 0.1 %, one error in 3 requests has p = 0.003:
		// that is why min-requests defaults to 50, where it cannot happen.
		{"1 error in 3 requests against a spotless stable side fails", canary(3, 1, 0.1), Thresholds{MaxErrorRate: 0.01, MinRequests: 1}, Fail,
			"canary error rate 33.33% vs stable 0.10%: worse than stable with 99% confidence (at least 3.02x stable's rate, lower bound 0.33% > stable + 0.10% tolerance; 1 of 3 canary, 9 of 9000 stable requests)"},
		{"1 error in 60 holds", canary(60, 1, 0.1), th, NoData,
			"inconclusive: error rate 1.67% > max-error-rate 1.00%, but not with 99% confidence (lower bound 0.02%; 1 of 60 canary requests; stable 0.10%)"},
		// P(X >= 3 | n = 60, p = 1 %) = 2.2 %: suggestive, not 99 %, and stable
		// at 1 % too leaves no regression.
		{"3 errors in 60 still hold", against(60, 3, side(9000, 90, 0.08)), th, NoData,
			"inconclusive: error rate 5.00% > max-error-rate 1.00%, but not with 99% confidence (lower bound 0.74%; 3 of 60 canary requests; stable 1.00%)"},
		{"3 errors in 60 against stable at 0.1% are a regression", canary(60, 3, 0.1), th, Fail,
			"canary error rate 5.00% vs stable 0.10%: worse than stable with 99% confidence (at least 6.08x stable's rate, lower bound 0.74% > stable + 0.10% tolerance; 3 of 60 canary, 9 of 9000 stable requests)"},
		// P(X >= 4 | n = 60, p = 1 %) = 0.33 %; the lower bound is 1.3977 % (mpmath).
		{"4 errors in 60 fail", canary(60, 4, 0.1), th, Fail,
			"error rate 6.67% > max-error-rate 1.00% with 99% confidence (lower bound 1.40%; 4 of 60 canary requests; stable 0.10%)"},
		{"error rate equal to the limit passes when stable is as bad", against(1000, 10, side(9000, 90, 0.08)), th, Pass,
			"1000 canary requests, error rate 1.00% (99% upper bound 2.00%; stable 1.00%), p99 latency 0.100s (stable 0.080s)"},
		{"error rate just above the limit is inconclusive", against(1000, 10.5, side(9000, 90, 0.08)), th, NoData,
			"inconclusive: error rate 1.05% > max-error-rate 1.00%, but not with 99% confidence (lower bound 0.45%; 10.5 of 1000 canary requests; stable 1.00%)"},
		{"zero error budget fails on one error", canary(1000, 1, 0.1), Thresholds{MinRequests: 50}, Fail,
			"error rate 0.10% > max-error-rate 0.00% with 99% confidence (lower bound 0.001%; 1 of 1000 canary requests; stable 0.10%)"},
		{"a stable side as bad does not excuse the ceiling", against(1000, 42, side(9000, 380, 0.08)), th, Fail,
			"error rate 4.20% > max-error-rate 1.00% with 99% confidence (lower bound 2.86%; 42 of 1000 canary requests; stable 4.22%)"},

		// The comparison with stable fails a regression below the ceiling.
		{"worse than stable below the ceiling", canary(1000, 8, 0.1), th, Fail,
			"canary error rate 0.80% vs stable 0.10%: worse than stable with 99% confidence (at least 2.21x stable's rate, lower bound 0.29% > stable + 0.10% tolerance; 8 of 1000 canary, 9 of 9000 stable requests)"},
		{"at 99.9% the same figures are not enough", canary(1000, 8, 0.1), strict, Pass,
			"1000 canary requests, error rate 0.80% (99.9% upper bound 2.10%; stable 0.10%), p99 latency 0.100s (stable 0.080s)"},
		{"slightly worse than stable is not significant", canary(1000, 2, 0.1), th, Pass,
			"1000 canary requests, error rate 0.20% (99% upper bound 0.84%; stable 0.10%), p99 latency 0.100s (stable 0.080s)"},
		{"no stable traffic skips the comparison", against(1000, 8, side(0, 0, -1)), th, Pass,
			"1000 canary requests, error rate 0.80% (99% upper bound 1.73%; stable 0.00%), p99 latency 0.100s (stable unknown)"},
		{"one canary error against a perfect stable side passes", against(1000, 1, side(100000, 0, 0.08)), th, Pass,
			"1000 canary requests, error rate 0.10% (99% upper bound 0.66%; stable 0.00%), p99 latency 0.100s (stable 0.080s)"},
		{"error rate is checked before latency", canary(1000, 42, 0.9), th, Fail,
			"error rate 4.20% > max-error-rate 1.00% with 99% confidence (lower bound 2.86%; 42 of 1000 canary requests; stable 0.10%)"},
		{"a latency failure comes before an inconclusive error rate", canary(60, 1, 0.9), th, Fail,
			"p99 latency 0.900s > max-latency 0.250s (stable 0.080s)"},
		{"invalid confidence reads as the default", canary(1000, 42, 0.1), Thresholds{MaxErrorRate: 0.01, MinRequests: 50, Confidence: 1}, Fail,
			"error rate 4.20% > max-error-rate 1.00% with 99% confidence (lower bound 2.86%; 42 of 1000 canary requests; stable 0.10%)"},

		{"latency above the limit", canary(1000, 0, 0.412), th, Fail,
			"p99 latency 0.412s > max-latency 0.250s (stable 0.080s)"},
		{"latency equal to the limit passes", canary(1000, 0, 0.25), th, Pass,
			"1000 canary requests, error rate 0.00% (99% upper bound 0.46%; stable 0.10%), p99 latency 0.250s (stable 0.080s)"},
		{"latency unknown while gated", canary(1000, 0, -1), th, NoData,
			"p99 latency unknown: no latency buckets for 1000 canary requests"},
		{"NaN latency while gated is unknown, not a pass", canary(1000, 0, math.NaN()), th, NoData,
			"p99 latency unknown: no latency buckets for 1000 canary requests"},
		{"latency not gated", canary(1000, 0, 9), ungated, Pass,
			"1000 canary requests, error rate 0.00% (99% upper bound 0.46%; stable 0.10%), p99 latency 9.000s (stable 0.080s)"},
		{"latency unknown and not gated", canary(1000, 0, -1), ungated, Pass,
			"1000 canary requests, error rate 0.00% (99% upper bound 0.46%; stable 0.10%), p99 latency unknown (stable 0.080s)"},
		{"quantile name p99.9", canary(1000, 0, 0.3), Thresholds{MaxErrorRate: 0.01, MaxLatency: 250 * time.Millisecond, LatencyQuantile: 0.999, MinRequests: 50}, Fail,
			"p99.9 latency 0.300s > max-latency 0.250s (stable 0.080s)"},
		{"unset quantile reads as the default", canary(1000, 0, 0.3), Thresholds{MaxErrorRate: 0.01, MaxLatency: 250 * time.Millisecond, MinRequests: 50}, Fail,
			"p99 latency 0.300s > max-latency 0.250s (stable 0.080s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Judge(tt.m, tt.th)
			assert.Equal(t, tt.want, got.Outcome)
			assert.Equal(t, tt.wantReason, got.Reason)
			assert.Equal(t, tt.m.Stable, got.Measurement.Stable, "the verdict carries the figures")
		})
	}
}

func TestJudgeStableUnknownLatency(t *testing.T) {
	m := Measurement{
		Canary: Side{Requests: 100, LatencySeconds: 0.5},
		Stable: Side{LatencySeconds: -1},
	}
	got := Judge(m, Thresholds{MaxErrorRate: 0.01, MaxLatency: time.Second / 4, MinRequests: 1})
	assert.Equal(t, Fail, got.Outcome)
	assert.Equal(t, "p99 latency 0.500s > max-latency 0.250s (stable unknown)", got.Reason)
}
