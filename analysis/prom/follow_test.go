package prom

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// fleetCounters is 200 Ingresses; web0..web4 have a canary from t0+60s on.
func fleetCounters() *fakeCounters {
	return &fakeCounters{at: func(ts time.Time) map[string][2]float64 {
		s := ts.Sub(t0).Seconds()
		out := map[string][2]float64{}
		for i := range 200 {
			out[fmt.Sprintf("shop web%d -", i)] = [2]float64{90 * s, 0.5 * s}
			if c := s - 60; i < 5 && c > 0 {
				out[fmt.Sprintf("shop web%d shop-web%d-v2-80", i, i)] = [2]float64{10 * c, 0.1 * c}
			}
		}
		return out
	}}
}

func webTarget(i int, since, until time.Time) analysis.Target {
	return analysis.Target{Namespace: "shop", Ingress: fmt.Sprintf("web%d", i), CanaryUpstream: fmt.Sprintf("shop-web%d-v2-80", i), Since: since, Until: until}
}

// Following only the open windows keeps their counters and nobody else's,
// and measures them exactly as keeping every Ingress does.
func TestFollowOnlyKeepsTheOpenWindowsAndMeasuresAlike(t *testing.T) {
	all := NewAnalyzer(fleetCounters(), 2*time.Second, time.Second)
	fake := fleetCounters()
	few := NewAnalyzer(fake, 2*time.Second, time.Second).FollowOnly(time.Minute)
	since := t0.Add(60 * time.Second)
	// The controller follows each window when its step starts.
	for i := range 5 {
		few.Follow(webTarget(i, since, since), since)
	}
	for tick := 1; tick <= 6; tick++ {
		until := since.Add(time.Duration(tick) * 5 * time.Second)
		for i := range 5 {
			want, err := all.Measure(context.Background(), webTarget(i, since, until), analysis.Thresholds{LatencyQuantile: 0.99})
			require.NoError(t, err)
			got, err := few.Measure(context.Background(), webTarget(i, since, until), analysis.Thresholds{LatencyQuantile: 0.99})
			require.NoError(t, err)
			assert.Equal(t, want, got, "tick %d, web%d", tick, i)
			assert.Greater(t, got.Canary.Requests, 0.0)
		}
	}
	few.mu.Lock()
	latest := few.latest()
	few.mu.Unlock()
	assert.Len(t, latest.groups, 5, "only the followed Ingresses of 200")
	assert.True(t, latest.partial)
	// One refresh per tick, and no window-start read: the snapshot taken just
	// after each step started already kept its Ingress.
	assert.Equal(t, int64(3*(1+6)), few.Queries())
	// Prometheus was asked for those 5 Ingresses alone: per query, their
	// stable and canary series (and two buckets of each).
	assert.LessOrEqual(t, fake.answered, 7*(5*2+5*2+5*2*2), "samples answered in 7 refreshes")
}

// With no window open, a refresh asks Prometheus nothing.
func TestFollowOnlyAsksNothingWhenNoWindowIsOpen(t *testing.T) {
	fake := fleetCounters()
	few := NewAnalyzer(fake, 2*time.Second, time.Second).FollowOnly(time.Minute)
	s, err := few.take(context.Background(), t0, map[group]bool{})
	require.NoError(t, err)
	assert.Empty(t, s.groups)
	assert.Zero(t, few.Queries())
	assert.Empty(t, fake.queries)
}

// A window measured without having been followed (after a restart, or an
// analyzer used without the controller) waits for a refresh that keeps it:
// never a window read as empty.
func TestFollowOnlyReadsAGroupMeasuredFirstWithoutFollow(t *testing.T) {
	all := NewAnalyzer(fleetCounters(), 2*time.Second, time.Second)
	few := NewAnalyzer(fleetCounters(), 2*time.Second, time.Second).FollowOnly(time.Minute)
	since := t0.Add(60 * time.Second)
	few.Follow(webTarget(0, since, since), since)
	_, err := few.Measure(context.Background(), webTarget(0, since, since.Add(time.Second)), analysis.Thresholds{LatencyQuantile: 0.99})
	require.NoError(t, err)
	until := since.Add(20 * time.Second)
	want, err := all.Measure(context.Background(), webTarget(3, since, until), analysis.Thresholds{LatencyQuantile: 0.99})
	require.NoError(t, err)
	got, err := few.Measure(context.Background(), webTarget(3, since, until), analysis.Thresholds{LatencyQuantile: 0.99})
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Greater(t, got.Stable.Requests, 0.0)
}

// A window nobody followed or measured for longer than the ttl is closed:
// the next snapshots drop it.
func TestFollowOnlyForgetsClosedWindows(t *testing.T) {
	few := NewAnalyzer(fleetCounters(), 2*time.Second, time.Second).FollowOnly(30 * time.Second)
	since := t0.Add(60 * time.Second)
	few.Follow(webTarget(1, since, since), since)
	for tick := 1; tick <= 12; tick++ {
		until := since.Add(time.Duration(tick) * 5 * time.Second)
		_, err := few.Measure(context.Background(), webTarget(0, since, until), analysis.Thresholds{LatencyQuantile: 0.99})
		require.NoError(t, err)
	}
	few.mu.Lock()
	defer few.mu.Unlock()
	_, kept := few.latest().groups[group{"shop", "web1"}]
	assert.False(t, kept, "web1 was last followed 60 s ago")
	_, kept = few.latest().groups[group{"shop", "web0"}]
	assert.True(t, kept)
}

// A window that ended is dropped at once: its start, and, when the rollout
// has no next window, its Ingress from the next queries.
func TestCloseDropsAnEndedWindow(t *testing.T) {
	fake := fleetCounters()
	few := NewAnalyzer(fake, 2*time.Second, time.Second).FollowOnly(time.Hour)
	since := t0.Add(60 * time.Second)
	for i := range 2 {
		few.Follow(webTarget(i, since, since), since)
	}
	until := since.Add(10 * time.Second)
	for i := range 2 {
		_, err := few.Measure(context.Background(), webTarget(i, since, until), analysis.Thresholds{LatencyQuantile: 0.99})
		require.NoError(t, err)
	}
	few.Close(webTarget(0, since, until), true)
	few.Close(webTarget(1, since, until), false)
	few.mu.Lock()
	assert.NotContains(t, few.baseline, baselineKey{group{"shop", "web0"}, since.UnixNano()})
	assert.NotContains(t, few.baseline, baselineKey{group{"shop", "web1"}, since.UnixNano()})
	keep := few.keepSet(until)
	few.mu.Unlock()
	assert.Equal(t, map[group]bool{{"shop", "web0"}: true}, keep, "web0 steps on; web1 ended")
}

// Past bucketGroupsPerQuery followed groups, a refresh asks their buckets in
// parts, each answer bounded, and measures every window as one answer would.
// The two namespaces share their Ingresses' names, so each part's matchers
// select some of another part's groups too: kept, they would count twice.
func TestFollowOnlyAsksManyGroupsBucketsInParts(t *testing.T) {
	fleet := func() *fakeCounters {
		return &fakeCounters{at: func(ts time.Time) map[string][2]float64 {
			s := ts.Sub(t0).Seconds()
			out := map[string][2]float64{}
			for _, ns := range []string{"cart", "shop"} {
				for i := range 300 {
					out[fmt.Sprintf("%s web%d -", ns, i)] = [2]float64{90 * s, 0.5 * s}
					out[fmt.Sprintf("%s web%d %s-web%d-v2-80", ns, i, ns, i)] = [2]float64{10 * s, 0.1 * s}
				}
			}
			return out
		}}
	}
	target := func(ns string, i int, since, until time.Time) analysis.Target {
		return analysis.Target{Namespace: ns, Ingress: fmt.Sprintf("web%d", i), CanaryUpstream: fmt.Sprintf("%s-web%d-v2-80", ns, i), Since: since, Until: until}
	}
	// The fake matches every query's regular expressions against 1,200
	// series, slowly: a long timeout.
	all := NewAnalyzer(fleet(), 2*time.Second, time.Minute)
	fake := fleet()
	few := NewAnalyzer(fake, 2*time.Second, time.Minute).FollowOnly(time.Minute)
	since := t0.Add(60 * time.Second)
	for _, ns := range []string{"cart", "shop"} {
		for i := range 300 {
			few.Follow(target(ns, i, since, since), since)
		}
	}
	th := analysis.Thresholds{LatencyQuantile: 0.99, MaxLatency: 100 * time.Millisecond}
	until := since.Add(10 * time.Second)
	for _, ns := range []string{"cart", "shop"} {
		for _, i := range []int{0, 149, 150, 299} {
			want, err := all.Measure(context.Background(), target(ns, i, since, until), th)
			require.NoError(t, err)
			got, err := few.Measure(context.Background(), target(ns, i, since, until), th)
			require.NoError(t, err)
			assert.Equal(t, want, got, "%s/web%d", ns, i)
			assert.Equal(t, 100.0, got.Canary.Timed, "%s/web%d: each bucket once", ns, i)
		}
	}
	// Two refreshes (since and until), each the requests, the errors and
	// 600 groups' buckets in 3 parts.
	assert.Equal(t, int64(2*(2+3)), few.Queries())
	assert.Len(t, fake.queries, 2*(2+3))
}

// A window-start read keeps the groups whose windows start near it, not
// every followed group: each such read would otherwise cost as much as a
// refresh.
func TestStartReadKeepsTheWindowsThatStartNearIt(t *testing.T) {
	all := NewAnalyzer(fleetCounters(), 2*time.Second, time.Minute)
	fake := fleetCounters()
	few := NewAnalyzer(fake, 2*time.Second, time.Minute).FollowOnly(time.Hour)
	early, late := t0.Add(60*time.Second), t0.Add(120*time.Second)
	for i := range 200 {
		since := early
		if i >= 100 {
			since = late
		}
		few.Follow(webTarget(i, since, since), since)
	}
	until := late.Add(30 * time.Second)
	th := analysis.Thresholds{LatencyQuantile: 0.99}
	for _, i := range []int{150, 120} { // the second shares the first's start read
		want, err := all.Measure(context.Background(), webTarget(i, late, until), th)
		require.NoError(t, err)
		got, err := few.Measure(context.Background(), webTarget(i, late, until), th)
		require.NoError(t, err)
		assert.Equal(t, want, got, "web%d", i)
		assert.Greater(t, got.Stable.Requests, 0.0)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	require.Len(t, fake.queries, 6, "a refresh at until and one start read")
	for i, at := range fake.queries {
		if !at.Equal(late) {
			continue
		}
		q := fake.texts[i]
		assert.True(t, selects(q, "ingress", "web150") && selects(q, "ingress", "web120"), "the start read asks for the windows that started then: %s", q)
		assert.False(t, selects(q, "ingress", "web7"), "a window that started a minute earlier: %s", q)
	}
}

// A window whose first look comes late, when the snapshots near its start
// are no longer the recent ones, still starts at the snapshot nearest its
// start: it was kept when the next refreshes landed, and no read at its
// start time is needed.
func TestLateFirstLookStartsWhereAPromptOneWould(t *testing.T) {
	since := t0.Add(60 * time.Second)
	th := analysis.Thresholds{LatencyQuantile: 0.99}
	run := func(lookAtWeb0Early bool) (analysis.Measurement, *fakeCounters) {
		fake := fleetCounters()
		w := NewAnalyzer(fake, 2*time.Second, time.Minute).FollowOnly(time.Hour)
		for i := range 2 {
			w.Follow(webTarget(i, since, since), since)
		}
		for s := 1; s < 30; s += 2 {
			until := since.Add(time.Duration(s) * time.Second)
			_, err := w.Measure(context.Background(), webTarget(1, since, until), th)
			require.NoError(t, err)
			if lookAtWeb0Early {
				_, err := w.Measure(context.Background(), webTarget(0, since, until), th)
				require.NoError(t, err)
			}
		}
		m, err := w.Measure(context.Background(), webTarget(0, since, since.Add(30*time.Second)), th)
		require.NoError(t, err)
		return m, fake
	}
	prompt, _ := run(true)
	late, fake := run(false)
	assert.Equal(t, prompt, late)
	assert.Greater(t, late.Canary.Requests, 0.0)
	fake.mu.Lock()
	defer fake.mu.Unlock()
	for _, at := range fake.queries {
		assert.True(t, at.After(since), "no read at the window's start (%s)", at.Sub(since))
	}
}
