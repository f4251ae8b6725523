package prom

import (
	"testing"
	"time"

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
