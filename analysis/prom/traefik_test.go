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

// fakeTraefik answers the Traefik dialect's queries from per-service counters
// that grow with time: what traefik_service_requests_total would hold.
type fakeTraefik struct {
	v1.API
	mu      sync.Mutex
	queries []string
	// perSecond is, per service label, requests and 5xx per second.
	perSecond map[string][2]float64
	// dialect is whose queries are answered; nil: Traefik's Ingress one.
	dialect Dialect
}

func (f *fakeTraefik) Query(_ context.Context, q string, ts time.Time, _ ...v1.Option) (model.Value, v1.Warnings, error) {
	f.mu.Lock()
	f.queries = append(f.queries, q)
	f.mu.Unlock()
	s := ts.Sub(t0).Seconds()
	d := f.dialect
	if d == nil {
		d = Traefik{}
	}
	var vec model.Vector
	for service, rate := range f.perSecond {
		m := model.Metric{"service": model.LabelValue(service), "instance": "traefik:9188"}
		switch q {
		case d.Queries(nil).Requests:
			vec = append(vec, &model.Sample{Metric: m, Value: model.SampleValue(rate[0] * s)})
		case d.Queries(nil).Errors:
			vec = append(vec, &model.Sample{Metric: m, Value: model.SampleValue(rate[1] * s)})
		case d.Queries(nil).Buckets:
			for _, le := range []string{"0.1", "+Inf"} {
				mm := m.Clone()
				mm["le"] = model.LabelValue(le)
				vec = append(vec, &model.Sample{Metric: mm, Value: model.SampleValue(rate[0] * s)})
			}
		}
	}
	return vec, nil, nil
}

func TestTraefikSidesAreTheReplacedUpstreamAndItsCanary(t *testing.T) {
	fake := &fakeTraefik{perSecond: map[string][2]float64{
		"shop-web-web-v1-80@kubernetesingressnginx":        {10, 0},
		"shop-web-web-v1-80-canary@kubernetesingressnginx": {10, 0.5},
		"shop-web-api-v1-80@kubernetesingressnginx":        {20, 4}, // another path of the Ingress
		"shop-admin-web-v1-80@kubernetesingressnginx":      {30, 0}, // another Ingress
		"dashboard@internal":                               {5, 0},  // not an Ingress of the provider
	}}
	w := NewAnalyzer(fake, 2*time.Second, time.Second).ReadAs(Traefik{})
	target := analysis.Target{Namespace: "shop", Ingress: "web", StableService: "web-v1", StablePort: "80",
		Since: t0.Add(100 * time.Second), Until: t0.Add(160 * time.Second)}
	m, err := w.Measure(context.Background(), target, analysis.Thresholds{LatencyQuantile: 0.99})
	require.NoError(t, err)
	assert.InDelta(t, 600, m.Canary.Requests, 1e-9)
	assert.InDelta(t, 0.05, m.Canary.ErrorRate, 1e-12)
	assert.InDelta(t, 600, m.Stable.Requests, 1e-9, "only the replaced upstream, not /api or another Ingress")
	assert.InDelta(t, 0, m.Stable.ErrorRate, 1e-12)
	assert.InDelta(t, 0.099, m.Canary.LatencySeconds, 1e-9)
	assert.Len(t, fake.queries, 6, "a start read and a refresh, three queries each")
}

func TestTraefikFileIgnoresOtherProviders(t *testing.T) {
	_, _, ok := Traefik{}.File(model.Metric{"service": "api@internal"})
	assert.False(t, ok)
	g, l, ok := Traefik{}.File(model.Metric{"service": "ns-web-svc-http-canary@kubernetesingressnginx", "instance": "a"})
	require.True(t, ok)
	assert.Equal(t, group{name: "ns-web-svc-http"}, g)
	assert.Equal(t, "ns-web-svc-http-canary@kubernetesingressnginx", l.canary)
}
