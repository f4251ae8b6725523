package prom

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func key(namespace, ingress, service, canary, instance string) seriesKey {
	return seriesKey{group{namespace, ingress}, labels{service, canary, instance}}
}

func snap(at time.Time, counts map[seriesKey]series) *Snapshot {
	s := newSnapshot(at)
	for k, c := range counts {
		*s.upsert(k.group, k.labels) = series{labels: k.labels, requests: c.requests, errors: c.errors, latency: c.latency}
	}
	return s
}

func TestWindowSideHandlesResetsAndNewSeries(t *testing.T) {
	a := key("shop", "web", "web-v1", "shop-web-v2-80", "pod-a:10254")
	b := key("shop", "web", "web-v1", "shop-web-v2-80", "pod-b:10254")
	other := key("shop", "api", "api-v1", "shop-api-v2-80", "pod-a:10254")
	stable := key("shop", "web", "web-v1", "", "pod-a:10254")
	base := snap(t0, map[seriesKey]series{
		a:      {requests: 100, errors: 1},
		b:      {requests: 500, errors: 5}, // pod b restarts inside the window
		stable: {requests: 1000},
		other:  {requests: 7},
	})
	cur := snap(t0.Add(time.Minute), map[seriesKey]series{
		a:      {requests: 160, errors: 4},
		b:      {requests: 30, errors: 2}, // reset: 30 new requests
		stable: {requests: 1900, errors: 9},
		other:  {requests: 70},
		key("shop", "web", "web-v1", "shop-web-v2-80", "pod-c:10254"): {requests: 10}, // new pod
	})
	web := group{"shop", "web"}
	canary := windowSide(base, cur, web, func(l labels) bool { return l.canary != "" })
	assert.Equal(t, 60.0+30+10, canary.requests)
	assert.Equal(t, 3.0+2, canary.errors)
	st := windowSide(base, cur, web, func(l labels) bool { return l.canary == "" })
	assert.Equal(t, 900.0, st.requests)
	assert.Equal(t, 9.0, st.errors)
	assert.InDelta(t, 0.01, st.side(0.99, 0).ErrorRate, 1e-12)
}

func TestBucketQuantileMatchesHistogramQuantile(t *testing.T) {
	inf := math.Inf(1)
	// 100 observations: 50 ≤ 0.1 s, 40 in (0.1, 0.5], 10 in (0.5, 1].
	b := map[float64]float64{0.1: 50, 0.5: 90, 1: 100, inf: 100}
	// histogram_quantile(0.5): rank 50 falls at the top of the first bucket.
	assert.InDelta(t, 0.1, bucketQuantile(0.5, b), 1e-12)
	// 0.9: rank 90, top of (0.1, 0.5].
	assert.InDelta(t, 0.5, bucketQuantile(0.9, b), 1e-12)
	// 0.95: rank 95, halfway through (0.5, 1].
	assert.InDelta(t, 0.75, bucketQuantile(0.95, b), 1e-12)
	// 0.25: rank 25, halfway through [0, 0.1].
	assert.InDelta(t, 0.05, bucketQuantile(0.25, b), 1e-12)
	// Everything above the highest finite bucket: its bound.
	assert.InDelta(t, 1, bucketQuantile(0.99, map[float64]float64{1: 0, inf: 10}), 1e-12)
	assert.Equal(t, -1.0, bucketQuantile(0.99, map[float64]float64{1: 0, inf: 0}), "no observation")
	assert.Equal(t, -1.0, bucketQuantile(0.99, nil))
}

func TestSlowRequestsAreCountedAboveABucketBound(t *testing.T) {
	inf := math.Inf(1)
	// Traefik's buckets: 0.1, 0.3, 1.2, 5, +Inf.
	c := counters{requests: 100, buckets: map[float64]float64{0.1: 60, 0.3: 90, 1.2: 97, 5: 99, inf: 100}}
	assert.Equal(t, 0.3, slowBound(0.3, c), "on a bound: that bound")
	assert.Equal(t, 0.3, slowBound(0.5, c), "between bounds: the one below")
	assert.Equal(t, 0.0, slowBound(0.05, c), "below every bound: none")
	s := c.side(0.99, 0.3)
	assert.Equal(t, 100.0, s.Timed)
	assert.Equal(t, 10.0, s.Slow, "total minus the bucket at the bound")
	assert.Zero(t, c.side(0.99, 0).Slow, "latency not gated")
}
