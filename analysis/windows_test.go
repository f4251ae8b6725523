package analysis

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeCounters answers the three snapshot queries from a function of time, and
// counts the queries. Only Query is implemented; Windows needs nothing else.
type fakeCounters struct {
	v1.API
	mu      sync.Mutex
	queries []time.Time
	// at returns, per "namespace/ingress/canary", requests and errors at a time.
	at func(t time.Time) map[string][2]float64
}

func (f *fakeCounters) Query(_ context.Context, q string, ts time.Time, _ ...v1.Option) (model.Value, v1.Warnings, error) {
	f.mu.Lock()
	f.queries = append(f.queries, ts)
	f.mu.Unlock()
	var vec model.Vector
	for key, v := range f.at(ts) {
		var ns, ing, canary string
		fmt.Sscanf(key, "%s %s %s", &ns, &ing, &canary)
		if canary == "-" {
			canary = ""
		}
		m := model.Metric{"namespace": model.LabelValue(ns), "ingress": model.LabelValue(ing), "canary": model.LabelValue(canary), "instance": "pod-a"}
		switch q {
		case snapshotQueries.requests:
			vec = append(vec, &model.Sample{Metric: m, Value: model.SampleValue(v[0])})
		case snapshotQueries.errors:
			vec = append(vec, &model.Sample{Metric: m, Value: model.SampleValue(v[1])})
		case snapshotQueries.buckets:
			for _, le := range []string{"0.1", "+Inf"} {
				mm := m.Clone()
				mm["le"] = model.LabelValue(le)
				vec = append(vec, &model.Sample{Metric: mm, Value: model.SampleValue(v[0])})
			}
		}
	}
	return vec, nil, nil
}

func TestWindowsCountsOnlyTheStepAndBatchesQueries(t *testing.T) {
	// 10 canary requests per second, 1 % errors; stable 90 per second.
	fake := &fakeCounters{at: func(ts time.Time) map[string][2]float64 {
		s := ts.Sub(t0).Seconds()
		out := map[string][2]float64{}
		for i := range 50 {
			out[fmt.Sprintf("shop web%d shop-web%d-v2-80", i, i)] = [2]float64{10 * s, 0.1 * s}
			out[fmt.Sprintf("shop web%d -", i)] = [2]float64{90 * s, 0}
		}
		return out
	}}
	w := NewWindows(fake, 2*time.Second, time.Second)
	since := t0.Add(60 * time.Second)
	th := Thresholds{MaxErrorRate: 0.05, LatencyQuantile: 0.99, MinRequests: 50}
	// The previous step passed at `since`: its analysis took a snapshot then.
	for i := range 50 {
		w.Analyze(context.Background(), Target{Namespace: "shop", Ingress: fmt.Sprintf("web%d", i), Since: t0, Until: since}, th)
	}
	// Ticks every 5 s in the new step; all 50 rollouts analysed each tick.
	var last Verdict
	for tick := since.Add(5 * time.Second); !tick.After(since.Add(60 * time.Second)); tick = tick.Add(5 * time.Second) {
		before := len(fake.queries)
		for i := range 50 {
			last = w.Analyze(context.Background(), Target{Namespace: "shop", Ingress: fmt.Sprintf("web%d", i), Since: since, Until: tick}, th)
		}
		assert.Equal(t, 3, len(fake.queries)-before, "one batch per tick, whatever the number of rollouts")
	}
	require.Equal(t, Pass, last.Outcome, last.Reason)
	assert.InDelta(t, 600, last.Measurement.Canary.Requests, 1e-9, "exactly the 60 s since the step started")
	assert.InDelta(t, 5400, last.Measurement.Stable.Requests, 1e-9)
	assert.InDelta(t, 0.01, last.Measurement.Canary.ErrorRate, 1e-12)
	assert.InDelta(t, 0.099, last.Measurement.Canary.LatencySeconds, 1e-9)
	assert.Equal(t, int64(len(fake.queries)), w.Queries())
}

func TestWindowsReadsTheStartAfterARestart(t *testing.T) {
	fake := &fakeCounters{at: func(ts time.Time) map[string][2]float64 {
		s := ts.Sub(t0).Seconds()
		return map[string][2]float64{"shop web shop-web-v2-80": {10 * s, 0}, "shop web -": {90 * s, 0}}
	}}
	w := NewWindows(fake, 2*time.Second, time.Second)
	since := t0.Add(100 * time.Second)
	m, err := w.Measure(context.Background(), Target{Namespace: "shop", Ingress: "web", Since: since, Until: since.Add(30 * time.Second)}, 0.99)
	require.NoError(t, err)
	assert.InDelta(t, 300, m.Canary.Requests, 1e-9)
	assert.Contains(t, fake.queries, since, "the window's start was read at Since")
}
