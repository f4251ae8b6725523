package prom

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// A multi-path Ingress: /api → api-v1 (failing 20 %), / → web-v1, and the
// canary replaces only web-v1 at 50 %. ingress-nginx labels every request with
// the primary's Ingress and the path's Service, canary-routed ones too.
func multiPathCounters(ts time.Time) map[string][2]float64 {
	s := ts.Sub(t0).Seconds()
	return map[string][2]float64{
		"shop web - api-v1":              {20 * s, 4 * s},
		"shop web - web-v1":              {10 * s, 0},
		"shop web shop-web-v2-80 web-v1": {10 * s, 0.1 * s},
	}
}

func TestWindowsStableSideIsTheReplacedServiceOnly(t *testing.T) {
	w := NewAnalyzer(&fakeCounters{at: multiPathCounters}, 2*time.Second, time.Second)
	target := analysis.Target{Namespace: "shop", Ingress: "web", CanaryUpstream: "shop-web-v2-80", StableService: "web-v1",
		Since: t0.Add(100 * time.Second), Until: t0.Add(160 * time.Second)}
	m, err := w.Measure(context.Background(), target, analysis.Thresholds{LatencyQuantile: 0.99})
	require.NoError(t, err)
	assert.InDelta(t, 600, m.Canary.Requests, 1e-9)
	assert.InDelta(t, 600, m.Stable.Requests, 1e-9, "/api's requests are not stable's")
	assert.InDelta(t, 0, m.Stable.ErrorRate, 1e-12, "/api's errors neither fail nor mask the canary")

	// The split check compares canary with that stable side: 50 %, as asked.
	v := analysis.VerifySplit(analysis.Verdict{Outcome: analysis.Pass, Measurement: m}, 0.2, 0.5, time.Minute)
	assert.Equal(t, analysis.Pass, v.Outcome, v.Reason)

	// Without the stable Service, as before the fix: the whole Ingress is
	// "stable", the share looks like 25 % and the step would hold.
	target.StableService = ""
	m, err = w.Measure(context.Background(), target, analysis.Thresholds{LatencyQuantile: 0.99})
	require.NoError(t, err)
	assert.InDelta(t, 1800, m.Stable.Requests, 1e-9)
	assert.Equal(t, analysis.Mismatch, analysis.VerifySplit(analysis.Verdict{Outcome: analysis.Pass, Measurement: m}, 0.2, 0.5, time.Minute).Outcome)
}
