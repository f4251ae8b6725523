package routers

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/annotations"
)

func TestLookup(t *testing.T) {
	assert.Equal(t, []string{"nginx", "traefik"}, Names())
	for _, name := range Names() {
		r, err := Lookup(name)
		require.NoError(t, err)
		assert.Equal(t, name, r.Metrics.Name(), "the router reads its own data plane's metrics")
		assert.Equal(t, CanaryIngress, r.Writes)
	}
	_, err := Lookup("envoy")
	assert.EqualError(t, err, `unknown router "envoy": want one of nginx, traefik`)
}

func TestRefuseNamesTheRouterAndKey(t *testing.T) {
	r := Router{Name: "partial", Unsupported: map[string]string{annotations.KeyHeaderPattern: "it matches headers exactly only"}}
	assert.Empty(t, r.Refuse(map[string]string{annotations.KeyHeader: "X-Canary"}))
	got := r.Refuse(map[string]string{annotations.KeyHeader: "X-Canary", annotations.KeyHeaderPattern: "^a$"})
	require.Len(t, got, 1)
	assert.Equal(t, `annotation ingress-canary.dev/header-pattern="^a$" is invalid: not set with --router=partial: it matches headers exactly only`, got[0].Error())
}
func TestLookupGateway(t *testing.T) {
	g, err := LookupGateway("traefik.io/gateway-controller")
	require.NoError(t, err)
	assert.Equal(t, HTTPRouteBackendRefs, g.Writes)
	assert.Equal(t, "traefik-gateway", g.Metrics.Name())
	assert.Empty(t, g.NameProblem("web"))
	assert.NotEmpty(t, g.NameProblem("edge-gw-web"))
	_, err = LookupGateway("gateway.envoyproxy.io/gatewayclass-controller")
	assert.ErrorContains(t, err, `not "gateway.envoyproxy.io/gatewayclass-controller"`)
}
