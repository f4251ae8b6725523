package prom

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// A caller that must not wait gets, while the read its look needs is in
// flight, the channel that closes when it lands, and then the verdict.
func TestLookOrReadyAnswersReadyInsteadOfWaiting(t *testing.T) {
	api := &gatedAPI{fakeCounters: &fakeCounters{at: func(ts time.Time) map[string][2]float64 {
		s := ts.Sub(t0).Seconds()
		return map[string][2]float64{"shop web shop-web-v2-80": {10 * s, 0}, "shop web -": {90 * s, 0}}
	}}}
	api.hold()
	w := NewAnalyzer(api, 2*time.Second, time.Minute).ServeStale(2 * time.Second)
	target := analysis.Target{Namespace: "shop", Ingress: "web", Since: t0.Add(10 * time.Second), Until: t0.Add(40 * time.Second)}
	th := analysis.Thresholds{LatencyQuantile: 0.99}

	v, ready := w.LookOrReady(context.Background(), target, th)
	require.NotNil(t, ready, "no snapshot yet: the look needs a read")
	assert.Equal(t, analysis.Verdict{}, v)
	select {
	case <-ready:
		t.Fatal("ready before the read landed")
	default:
	}
	_, again := w.LookOrReady(context.Background(), target, th)
	assert.Equal(t, ready, again, "the same read, not a second one")

	api.open()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("ready never closed")
	}
	// The latest snapshot landed; the window's start is read next (a first
	// look after a restart), then the look answers.
	for range 3 {
		if v, ready = w.LookOrReady(context.Background(), target, th); ready == nil {
			break
		}
		<-ready
	}
	require.Nil(t, ready)
	assert.Equal(t, analysis.Hold, v.Outcome, v.Reason)
	assert.InDelta(t, 300, v.Measurement.Canary.Requests, 1e-9)
}

// A failed read answers the looks within fresh of it with its error: a
// caller that must not wait is not sent round a loop of reads, and an outage
// costs one read per fresh.
func TestAFailedReadAnswersWithinFresh(t *testing.T) {
	api := &failingAPI{err: errors.New("connection refused")}
	w := NewAnalyzer(api, 2*time.Second, time.Second)
	target := analysis.Target{Namespace: "shop", Ingress: "web", Since: t0, Until: t0.Add(time.Minute)}
	th := analysis.Thresholds{LatencyQuantile: 0.99}

	_, ready := w.LookOrReady(context.Background(), target, th)
	require.NotNil(t, ready)
	<-ready
	v, ready := w.LookOrReady(context.Background(), target, th)
	assert.Nil(t, ready)
	assert.Equal(t, analysis.Unavailable, v.Outcome)
	assert.Contains(t, v.Reason, "connection refused")
	target.Until = target.Until.Add(time.Second)
	assert.Equal(t, analysis.Unavailable, w.Look(context.Background(), target, th).Outcome, "a waiting look too")
	assert.Equal(t, int64(1), api.queries.Load(), "one read within fresh")

	api.err = nil
	api.answer = model.Vector{}
	target.Until = target.Until.Add(2 * time.Second)
	_, ready = w.LookOrReady(context.Background(), target, th)
	require.NotNil(t, ready, "fresh later, Prometheus is asked again")
	<-ready
}
