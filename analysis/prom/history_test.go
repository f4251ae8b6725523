package prom

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/analysis"
)

func TestStableSelectors(t *testing.T) {
	target := analysis.Target{Namespace: "shop", Ingress: "web", StableService: "web-v1", StablePort: "http"}
	req, errs, err := Nginx{}.StableSelector(target)
	require.NoError(t, err)
	assert.Equal(t, `nginx_ingress_controller_requests{namespace="shop",ingress="web",canary="",service="web-v1"}`, req)
	assert.Equal(t, `nginx_ingress_controller_requests{namespace="shop",ingress="web",canary="",service="web-v1",status=~"5.."}`, errs)
	req, _, err = Traefik{}.StableSelector(target)
	require.NoError(t, err)
	assert.Equal(t, `traefik_service_requests_total{service="shop-web-web-v1-http@kubernetesingressnginx"}`, req)

	// Names come from Kubernetes objects: anything a name cannot hold is
	// refused, never written into PromQL.
	for _, bad := range []string{`web"} or vector(1) or {x="`, "Web", "", "web\n"} {
		target.Ingress = bad
		_, _, err = Nginx{}.StableSelector(target)
		assert.Error(t, err, "%q", bad)
	}
}

func TestBaselineOf(t *testing.T) {
	at := func(i int) model.Time { return model.TimeFromUnix(int64(1800000000 + 30*i)) }
	requests := &model.SampleStream{Metric: model.Metric{"kind": "requests"}}
	errs := &model.SampleStream{Metric: model.Metric{"kind": "errors"}}
	for i := range 4 {
		requests.Values = append(requests.Values, model.SamplePair{Timestamp: at(i), Value: 150})
	}
	requests.Values = append(requests.Values, model.SamplePair{Timestamp: at(4), Value: 0}) // a quiet step says nothing
	errs.Values = []model.SamplePair{{Timestamp: at(1), Value: 3}, {Timestamp: at(3), Value: 1}}
	b := baselineOf(model.Matrix{requests, errs})
	assert.Equal(t, 4.0, b.Dispersion.Intervals)
	assert.Equal(t, 600.0, b.Dispersion.Requests)
	assert.Equal(t, 4.0, b.Dispersion.Events, "steps without an error sample count none")
	assert.Equal(t, 2*time.Minute, b.Span)
	assert.InDelta(t, 5, b.RPS, 1e-9)
	assert.InDelta(t, 4.0/600, b.ErrorRate, 1e-12)
	assert.Zero(t, baselineOf(nil).RPS, "no history")
}

func TestLatencyBoundNote(t *testing.T) {
	traefik := DefaultLatencyBuckets["traefik"]
	assert.Empty(t, LatencyBoundNote(0.3, traefik), "on a bound")
	assert.Equal(t, "between the bucket bounds 0.1s and 0.3s: requests slower than 0.1s count as slow (stricter)", LatencyBoundNote(0.25, traefik))
	assert.Contains(t, LatencyBoundNote(0.05, traefik), "cannot be judged")
	assert.Contains(t, LatencyBoundNote(30, traefik), "slower than 5s")
	assert.Empty(t, LatencyBoundNote(0.25, DefaultLatencyBuckets["nginx"]))
}

// rangeGate answers range queries with a fixed matrix once open is closed.
type rangeGate struct {
	v1.API
	open  chan struct{}
	asked atomic.Int64
}

func (g *rangeGate) QueryRange(ctx context.Context, _ string, _ v1.Range, _ ...v1.Option) (model.Value, v1.Warnings, error) {
	g.asked.Add(1)
	select {
	case <-g.open:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	requests := &model.SampleStream{Metric: model.Metric{"kind": "requests"}, Values: []model.SamplePair{{Timestamp: 1800000000000, Value: 300}}}
	return model.Matrix{requests}, nil, nil
}

// BaselineOrReady reads in the background: not ready until the range query
// lands, then the answer, once, for one query however often it was asked.
func TestBaselineOrReadyReadsInTheBackground(t *testing.T) {
	api := &rangeGate{open: make(chan struct{})}
	w := NewAnalyzer(api, time.Second, time.Minute)
	target := analysis.Target{Namespace: "shop", Ingress: "web", StableService: "web-v1"}
	_, ready, err := w.BaselineOrReady(context.Background(), target, t0)
	require.NoError(t, err)
	require.NotNil(t, ready)
	_, again, err := w.BaselineOrReady(context.Background(), target, t0.Add(time.Second))
	require.NoError(t, err)
	assert.Equal(t, ready, again, "asked again while it is out: the same read")

	close(api.open)
	<-ready
	b, ready, err := w.BaselineOrReady(context.Background(), target, t0.Add(2*time.Second))
	require.NoError(t, err)
	assert.Nil(t, ready)
	assert.InDelta(t, 10, b.RPS, 1e-9, "300 requests in one 30 s step")
	assert.Equal(t, int64(1), api.asked.Load())

	_, ready, _ = w.BaselineOrReady(context.Background(), target, t0.Add(time.Hour))
	assert.NotNil(t, ready, "answered once: a later rollout reads its own")
}
