package prom

import (
	"cmp"
	"context"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// heldAt holds the queries at one instant until the test releases them, like a
// slow start read after a restart.
type heldAt struct {
	*fakeCounters
	at      time.Time
	release chan struct{}
}

func (h *heldAt) Query(ctx context.Context, q string, ts time.Time, o ...v1.Option) (model.Value, v1.Warnings, error) {
	if ts.Equal(h.at) {
		select {
		case <-h.release:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	return h.fakeCounters.Query(ctx, q, ts, o...)
}

// growing counts 10 canary and 90 stable requests a second for web, and 50
// stable ones for api, which has no canary.
func growing() *fakeCounters {
	return &fakeCounters{at: func(ts time.Time) map[string][2]float64 {
		s := ts.Sub(t0).Seconds()
		return map[string][2]float64{"shop web shop-web-v2-80": {10 * s, 0}, "shop web -": {90 * s, 0}, "shop api -": {50 * s, 0}}
	}}
}

// A window whose start must be read from Prometheus waits for that read alone:
// other analyses go on meanwhile (the scale benchmark saw every analysis stall
// behind such reads when they ran under the lock).
func TestAStartReadDoesNotStallOtherAnalyses(t *testing.T) {
	slowSince := t0.Add(50 * time.Second)
	api := &heldAt{fakeCounters: growing(), at: slowSince, release: make(chan struct{})}
	w := NewAnalyzer(api, 2*time.Second, time.Minute)
	until := t0.Add(200 * time.Second)
	web := analysis.Target{Namespace: "shop", Ingress: "web", Since: t0.Add(100 * time.Second), Until: until}
	_, err := w.Measure(context.Background(), web, analysis.Thresholds{LatencyQuantile: 0.99})
	require.NoError(t, err)

	slow := make(chan error, 1)
	go func() {
		_, err := w.Measure(context.Background(), analysis.Target{Namespace: "shop", Ingress: "api", Since: slowSince, Until: until}, analysis.Thresholds{LatencyQuantile: 0.99})
		slow <- err
	}()
	require.Eventually(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.startReads) == 1
	}, 5*time.Second, time.Millisecond, "the start read at slowSince is in flight")

	done := make(chan analysis.Measurement, 1)
	go func() {
		m, _ := w.Measure(context.Background(), web, analysis.Thresholds{LatencyQuantile: 0.99})
		done <- m
	}()
	select {
	case m := <-done:
		assert.InDelta(t, 1000, m.Canary.Requests, 1e-9)
	case <-time.After(5 * time.Second):
		t.Fatal("an analysis that needs no query waited for another window's start read")
	}
	close(api.release)
	require.NoError(t, <-slow)
}

// Once a snapshot is no longer the latest it keeps only the Ingresses with a
// canary: a later step finds its start there, a first step (no canary series
// at its start) reads its own.
func TestOlderSnapshotsKeepOnlyCanaries(t *testing.T) {
	fake := growing()
	w := NewAnalyzer(fake, 2*time.Second, time.Minute)
	since := t0.Add(100 * time.Second)
	measure := func(ingress string, since, until time.Time) analysis.Measurement {
		t.Helper()
		m, err := w.Measure(context.Background(), analysis.Target{Namespace: "shop", Ingress: ingress, Since: since, Until: until}, analysis.Thresholds{LatencyQuantile: 0.99})
		require.NoError(t, err)
		return m
	}
	// The previous step's verdict, whose window started within fresh: it
	// takes the snapshot at since.
	measure("web", since.Add(-time.Second), since)
	until := since.Add(30 * time.Second)
	assert.Len(t, fake.queries, 3)
	assert.InDelta(t, 300, measure("web", since, until).Canary.Requests, 1e-9)
	assert.Len(t, fake.queries, 6, "the refresh at until; the start is the snapshot at since")

	w.mu.Lock()
	require.Len(t, w.recent, 2)
	older := w.recent[0]
	w.mu.Unlock()
	assert.True(t, older.partial)
	assert.Equal(t, []group{{"shop", "web"}}, keysOf(older), "api has no canary")

	m := measure("api", since, until)
	assert.InDelta(t, 1500, m.Stable.Requests, 1e-9, "api's stable side counts from since")
	assert.Len(t, fake.queries, 9, "api's start was read at since")
	assert.Equal(t, since, fake.queries[8])
}

func keysOf(s *Snapshot) []group {
	var out []group
	for k := range s.groups {
		out = append(out, k)
	}
	return out
}

// slowCounters answers every query after delay, like a Prometheus that the
// scale benchmark's 3,000 rollouts saturated.
type slowCounters struct {
	*fakeCounters
	delay time.Duration
}

func (s slowCounters) Query(ctx context.Context, q string, ts time.Time, o ...v1.Option) (model.Value, v1.Warnings, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	return s.fakeCounters.Query(ctx, q, ts, o...)
}

// Where refreshes come further apart than fresh+grace because each is slow,
// a window starts at the first refresh after its start instead of a read at
// its start time; where they are quick, nothing near the start means a
// read. The figures are the canary's 10 requests a second.
func TestWindowStartsAtTheNextSlowRefreshInsteadOfAReadAtItsStart(t *testing.T) {
	const fresh, grace = 50 * time.Millisecond, 50 * time.Millisecond
	th := analysis.Thresholds{LatencyQuantile: 0.99}
	tests := []struct {
		name string
		// delay is each query's; the refresh's time is about three of them.
		delay time.Duration
		// lookAfter is how long after the window's start it is first looked at.
		lookAfter time.Duration
		// wantRead says the start is read at since; otherwise the window
		// starts lookAfter late.
		wantRead bool
		// idle is how long before since the previous refresh was read
		// (default 4×(fresh+grace), when it lands just after since).
		idle time.Duration
	}{
		{"slow refreshes: the one after the start", 150 * time.Millisecond, 120 * time.Millisecond, false, 0},
		{"a look before any refresh after the start waits for the next", 150 * time.Millisecond, 10 * time.Millisecond, false, 0},
		{"quick refreshes, none running at the start: the start is read", 0, 120 * time.Millisecond, true, 0},
		{"the first refresh after the start came too late: the start is read", 150 * time.Millisecond, 10 * time.Second, true, 0},
		{"slow refreshes, but none running at the start: the start is read", 150 * time.Millisecond, 120 * time.Millisecond, true, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := growing()
			w := NewAnalyzer(slowCounters{fake, tt.delay}, fresh, time.Minute).ServeStale(grace).FollowOnly(time.Hour)
			web := func(since, until time.Time) analysis.Target {
				return analysis.Target{Namespace: "shop", Ingress: "web", CanaryUpstream: "shop-web-v2-80", Since: since, Until: until}
			}
			// The previous step, judged at t0+100s.
			previous := t0.Add(100 * time.Second)
			w.Follow(web(t0.Add(90*time.Second), previous), previous)
			_, err := w.Measure(context.Background(), web(t0.Add(90*time.Second), previous), th)
			require.NoError(t, err)

			// Nothing kept is near since; a slow previous refresh (three
			// queries) lands just after it, so the next runs back to back.
			idle := cmp.Or(tt.idle, 4*(fresh+grace))
			since := previous.Add(idle)
			w.Follow(web(since, since), since)
			_, err = w.Measure(context.Background(), web(since, since.Add(tt.lookAfter)), th)
			require.NoError(t, err)
			m, err := w.Measure(context.Background(), web(since, since.Add(20*time.Second)), th)
			require.NoError(t, err)

			fake.mu.Lock()
			defer fake.mu.Unlock()
			assert.Equal(t, tt.wantRead, containsTime(fake.queries, since), "queries at %v", fake.queries)
			want := 10 * 20.0
			if !tt.wantRead {
				want = 10 * (20 - tt.lookAfter.Seconds())
			}
			assert.InDelta(t, want, m.Canary.Requests, 1e-6)
		})
	}
}

func containsTime(ts []time.Time, at time.Time) bool {
	for _, t := range ts {
		if t.Equal(at) {
			return true
		}
	}
	return false
}

// The timeout bounds each query of a read, not the read: a refresh of several
// queries, each well within it, lands however long they take together.
func TestAReadOfManySlowQueriesLands(t *testing.T) {
	const timeout = 100 * time.Millisecond
	fake := growing()
	w := NewAnalyzer(slowCounters{fake, 60 * time.Millisecond}, 50*time.Millisecond, timeout)
	web := analysis.Target{Namespace: "shop", Ingress: "web", CanaryUpstream: "shop-web-v2-80", Since: t0.Add(100 * time.Second), Until: t0.Add(120 * time.Second)}
	th := analysis.Thresholds{LatencyQuantile: 0.99}
	v, ready := w.LookOrReady(context.Background(), web, th)
	for reads := 0; ready != nil; reads++ { // the refresh, then the window's start
		require.Less(t, reads, 2)
		<-ready
		v, ready = w.LookOrReady(context.Background(), web, th)
	}
	require.Equal(t, analysis.Hold, v.Outcome, "the read of three 60 ms queries failed under a 100 ms timeout: %s", v.Reason)
	assert.InDelta(t, 200, v.Measurement.Canary.Requests, 1e-6)
}
