package prom

import (
	"context"
	"sync"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// gatedAPI holds every query until the test opens the gate, like a Prometheus
// that takes its time over 10,000 Ingresses.
type gatedAPI struct {
	*fakeCounters
	mu   sync.Mutex
	gate chan struct{}
}

func (g *gatedAPI) hold() {
	g.mu.Lock()
	g.gate = make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedAPI) open() {
	g.mu.Lock()
	close(g.gate)
	g.mu.Unlock()
}

func (g *gatedAPI) Query(ctx context.Context, q string, ts time.Time, o ...v1.Option) (model.Value, v1.Warnings, error) {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	select {
	case <-gate:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	return g.fakeCounters.Query(ctx, q, ts, o...)
}

func TestServeStaleAnswersWhileTheRefreshRuns(t *testing.T) {
	api := &gatedAPI{fakeCounters: &fakeCounters{at: func(ts time.Time) map[string][2]float64 {
		s := ts.Sub(t0).Seconds()
		return map[string][2]float64{"shop web shop-web-v2-80": {10 * s, 0}, "shop web -": {90 * s, 0}}
	}}}
	api.hold()
	api.open()
	fresh, grace := 2*time.Second, 2*time.Second
	w := NewAnalyzer(api, fresh, time.Minute).ServeStale(grace)
	since := t0.Add(100 * time.Second)
	measure := func(until time.Time) float64 {
		t.Helper()
		m, err := w.Measure(context.Background(), analysis.Target{Namespace: "shop", Ingress: "web", Since: since, Until: until}, analysis.Thresholds{LatencyQuantile: 0.99})
		require.NoError(t, err)
		return m.Canary.Requests
	}
	// The previous step's last look takes the snapshot the new step starts from.
	_, err := w.Measure(context.Background(), analysis.Target{Namespace: "shop", Ingress: "web", Since: t0, Until: since}, analysis.Thresholds{LatencyQuantile: 0.99})
	require.NoError(t, err)
	assert.InDelta(t, 100, measure(since.Add(10*time.Second)), 1e-9, "stale beyond grace: waits for the refresh")
	queries := len(api.queries)

	// Prometheus slows down. Within grace, the old snapshot answers at once and one
	// refresh starts for everybody.
	api.hold()
	for range 3 {
		assert.InDelta(t, 100, measure(since.Add(13*time.Second)), 1e-9, "the old snapshot serves within grace")
	}
	// The refresh is in flight: one query started and is held at the gate.
	require.Eventually(t, func() bool { return w.inFlight() }, time.Second, time.Millisecond)

	api.open()
	w.settle()
	assert.Equal(t, queries+3, len(api.queries), "one refresh, not one per analysis")
	assert.InDelta(t, 130, measure(since.Add(14*time.Second)), 1e-9, "the refreshed snapshot, read at the first stale look")

	// Beyond fresh+grace nothing stale is served: the analysis waits for the
	// refresh, and its error when Prometheus fails.
	api.hold()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = w.Measure(ctx, analysis.Target{Namespace: "shop", Ingress: "web", Since: since, Until: since.Add(30 * time.Second)}, analysis.Thresholds{LatencyQuantile: 0.99})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	api.open()
	w.settle()
}

func TestWithoutServeStaleEveryStaleLookWaits(t *testing.T) {
	api := &gatedAPI{fakeCounters: &fakeCounters{at: func(ts time.Time) map[string][2]float64 {
		return map[string][2]float64{"shop web shop-web-v2-80": {10 * ts.Sub(t0).Seconds(), 0}}
	}}}
	api.hold()
	api.open()
	w := NewAnalyzer(api, 2*time.Second, time.Minute)
	since := t0.Add(100 * time.Second)
	_, err := w.Measure(context.Background(), analysis.Target{Namespace: "shop", Ingress: "web", Since: t0, Until: since}, analysis.Thresholds{LatencyQuantile: 0.99})
	require.NoError(t, err)
	target := analysis.Target{Namespace: "shop", Ingress: "web", Since: since}
	target.Until = since.Add(3 * time.Second)
	m, err := w.Measure(context.Background(), target, analysis.Thresholds{LatencyQuantile: 0.99})
	require.NoError(t, err)
	assert.InDelta(t, 30, m.Canary.Requests, 1e-9)
}

func (w *Analyzer) inFlight() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.refreshing != nil
}

// A Prometheus that answers slowly stretches the grace to twice its last
// refresh: the old snapshot keeps serving while the next, as slow, is read.
func TestSlowRefreshesStretchTheGrace(t *testing.T) {
	api := &gatedAPI{fakeCounters: growing()}
	api.hold()
	w := NewAnalyzer(api, 2*time.Second, time.Minute).ServeStale(100 * time.Millisecond)
	since := t0.Add(100 * time.Second)
	target := func(until time.Time) analysis.Target {
		return analysis.Target{Namespace: "shop", Ingress: "web", Since: since.Add(-time.Second), Until: until}
	}
	go func() {
		time.Sleep(500 * time.Millisecond)
		api.open()
	}()
	_, err := w.Measure(context.Background(), target(since), analysis.Thresholds{LatencyQuantile: 0.99})
	require.NoError(t, err)
	w.mu.Lock()
	fetch, grace := w.latest().fetch, w.graceNow()
	w.mu.Unlock()
	require.GreaterOrEqual(t, fetch, 500*time.Millisecond)
	assert.Equal(t, 2*fetch, grace)

	// 3 s later the snapshot is 2.4–2.5 s old from its arrival: past fresh plus
	// the configured grace (2.1 s), within fresh plus the stretched one.
	api.hold()
	defer api.open()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	m, err := w.Measure(ctx, target(since.Add(3*time.Second)), analysis.Thresholds{LatencyQuantile: 0.99})
	require.NoError(t, err, "served from the old snapshot, without waiting for the held refresh")
	assert.Zero(t, m.Canary.Requests, "measured up to the old snapshot, which is also the window's start (a new one would give 30)")
}
