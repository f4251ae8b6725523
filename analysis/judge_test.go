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
	stable := Side{Requests: 9000, Errors: 9, ErrorRate: 0.001, LatencySeconds: 0.08}
	canary := func(requests, errs, latency float64) Measurement {
		rate := 0.0
		if requests > 0 {
			rate = errs / requests
		}
		return Measurement{
			Canary: Side{Requests: requests, Errors: errs, ErrorRate: rate, LatencySeconds: latency},
			Stable: stable,
		}
	}

	tests := []struct {
		name       string
		m          Measurement
		th         Thresholds
		want       Outcome
		wantReason string
	}{
		{"healthy", canary(1000, 1, 0.1), th, Pass,
			"1000 canary requests, error rate 0.10% (stable 0.10%), p99 latency 0.100s (stable 0.080s)"},
		{"too few requests", canary(12, 0, 0.1), th, NoData, "12 canary requests, need 50"},
		{"one below the minimum", canary(49, 0, 0.1), th, NoData, "49 canary requests, need 50"},
		{"fractional count below the minimum says so", canary(49.96, 0, 0.1), th, NoData, "50 canary requests, need 50"},
		{"exactly the minimum passes", canary(50, 0, 0.1), th, Pass,
			"50 canary requests, error rate 0.00% (stable 0.10%), p99 latency 0.100s (stable 0.080s)"},
		{"zero requests with no minimum still needs one", canary(0, 0, -1), Thresholds{MaxErrorRate: 0.01}, NoData,
			"0 canary requests, need 1"},
		{"too few requests hides even a bad error rate", canary(10, 10, 0.1), th, NoData, "10 canary requests, need 50"},
		{"error rate above the limit", canary(1000, 42, 0.1), th, Fail,
			"error rate 4.20% > max-error-rate 1.00% (42 of 1000 canary requests; stable 0.10%)"},
		{"error rate equal to the limit passes", canary(1000, 10, 0.1), th, Pass,
			"1000 canary requests, error rate 1.00% (stable 0.10%), p99 latency 0.100s (stable 0.080s)"},
		{"error rate just above the limit", canary(1000, 10.5, 0.1), th, Fail,
			"error rate 1.05% > max-error-rate 1.00% (10.5 of 1000 canary requests; stable 0.10%)"},
		{"zero error budget fails on one error", canary(1000, 1, 0.1), Thresholds{MinRequests: 50}, Fail,
			"error rate 0.10% > max-error-rate 0.00% (1 of 1000 canary requests; stable 0.10%)"},
		{"error rate is checked before latency", canary(1000, 42, 0.9), th, Fail,
			"error rate 4.20% > max-error-rate 1.00% (42 of 1000 canary requests; stable 0.10%)"},
		{"latency above the limit", canary(1000, 0, 0.412), th, Fail,
			"p99 latency 0.412s > max-latency 0.250s (stable 0.080s)"},
		{"latency equal to the limit passes", canary(1000, 0, 0.25), th, Pass,
			"1000 canary requests, error rate 0.00% (stable 0.10%), p99 latency 0.250s (stable 0.080s)"},
		{"latency unknown while gated", canary(1000, 0, -1), th, NoData,
			"p99 latency unknown: no latency buckets for 1000 canary requests"},
		{"NaN latency while gated is unknown, not a pass", canary(1000, 0, math.NaN()), th, NoData,
			"p99 latency unknown: no latency buckets for 1000 canary requests"},
		{"latency not gated", canary(1000, 0, 9), ungated, Pass,
			"1000 canary requests, error rate 0.00% (stable 0.10%), p99 latency 9.000s (stable 0.080s)"},
		{"latency unknown and not gated", canary(1000, 0, -1), ungated, Pass,
			"1000 canary requests, error rate 0.00% (stable 0.10%), p99 latency unknown (stable 0.080s)"},
		{"NaN requests are no data", canary(math.NaN(), 0, 0.1), th, NoData, "NaN canary requests, need 50"},
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
