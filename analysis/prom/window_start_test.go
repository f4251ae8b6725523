package prom

import (
	"context"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/analysis"
)

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
	}{
		{"slow refreshes: the one after the start", 150 * time.Millisecond, 300 * time.Millisecond, false},
		{"a look before any refresh after the start waits for the next", 150 * time.Millisecond, 10 * time.Millisecond, false},
		{"quick refreshes: the start is read", 0, 300 * time.Millisecond, true},
		{"the first refresh after the start came too late: the start is read", 150 * time.Millisecond, 10 * time.Second, true},
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

			since := previous.Add(4 * (fresh + grace)) // nothing kept is near it
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
