package prom

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// The labels are those Traefik 3.7 gives an HTTPRoute's backendRefs
// (e2e: TestGatewayHealthyRolloutPromotes reads them from the real thing).
func TestTraefikGatewaySidesAreTheRoutesBackendRefs(t *testing.T) {
	const rule0 = "httproute-shop-web-gw-shop-edge-ep-web-0-4f1c2a9e0b7d3c5a1e2f"
	fake := &fakeTraefik{dialect: TraefikGateway{}, perSecond: map[string][2]float64{
		rule0 + "-svc-shop-web-v1-0@kubernetesgateway": {10, 0},
		rule0 + "-svc-shop-web-v2-1@kubernetesgateway": {10, 0.5},
		// The testers' rule: the canary too.
		"httproute-shop-web-gw-shop-edge-ep-web-2-00aa11bb22cc33dd44ee-svc-shop-web-v2-0@kubernetesgateway": {2, 0},
		// Another rule of the route, to another Service.
		"httproute-shop-web-gw-shop-edge-ep-web-1-99887766554433221100-svc-shop-api-0@kubernetesgateway": {20, 4},
		// Another route to the same Services.
		"httproute-shop-admin-gw-shop-edge-ep-web-0-0123456789abcdef0123-svc-shop-web-v1-0@kubernetesgateway": {30, 3},
		"shop-web-web-v1-80@kubernetesingressnginx":                                                           {50, 5},
	}}
	a := NewAnalyzer(fake, 2*time.Second, time.Second).ReadAs(TraefikGateway{})
	target := analysis.Target{Namespace: "shop", Ingress: "web", StableService: "web-v1", CanaryUpstream: "web-v2",
		Since: t0.Add(100 * time.Second), Until: t0.Add(160 * time.Second)}
	m, err := a.Measure(context.Background(), target, analysis.Thresholds{LatencyQuantile: 0.99})
	require.NoError(t, err)
	assert.InDelta(t, 720, m.Canary.Requests, 1e-9, "the weighted backendRef and the testers' rule")
	assert.InDelta(t, 30.0/720, m.Canary.ErrorRate, 1e-12)
	assert.InDelta(t, 600, m.Stable.Requests, 1e-9, "only this route's stable backendRefs")
	assert.InDelta(t, 0, m.Stable.ErrorRate, 1e-12)
}

func TestTraefikGatewayFile(t *testing.T) {
	for label, ok := range map[string]bool{
		"api@internal": false,
		"shop-web-web-v1-80@kubernetesingressnginx":                                               false,
		"httproute-a-b-gw-a-g-ep-web-0-abc-svc-a-s-0@kubernetesgateway":                           true,
		"httproute-a-b-gw-a-g-ep-web-0-abc-svc-a-s-0-err-wrr@kubernetesgateway":                   false,
		"grpcroute-a-b-gw-a-g-ep-web-0-abc-svc-a-s-0@kubernetesgateway":                           false,
		"httproute-my-ns-my-route-gw-gw-ns-my-gw-ep-web-3-0a1b-svc-my-ns-s-1-0@kubernetesgateway": true,
	} {
		g, l, got := TraefikGateway{}.File(model.Metric{"service": model.LabelValue(label)})
		assert.Equal(t, ok, got, label)
		if label == "httproute-my-ns-my-route-gw-gw-ns-my-gw-ep-web-3-0a1b-svc-my-ns-s-1-0@kubernetesgateway" {
			assert.Equal(t, group{scope: "httproute", name: "my-ns-my-route"}, g)
			assert.Equal(t, "my-ns-s-1", l.service, "a Service name that ends in a number")
		}
	}
}

func TestTraefikNormalize(t *testing.T) {
	assert.Equal(t, "shop-web-v1-2", traefikNormalize("shop-web.v1--2"))
}
