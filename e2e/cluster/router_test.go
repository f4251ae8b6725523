package cluster_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

// TestStartRejectsBadRouters: a bad router choice fails before anything starts.
func TestStartRejectsBadRouters(t *testing.T) {
	for name, tc := range map[string]struct {
		o    cluster.Options
		want string
	}{
		"unknown router":          {cluster.Options{Routers: []cluster.Router{"haproxy"}}, `unknown router "haproxy"`},
		"gateway without traefik": {cluster.Options{GatewayAPI: true}, "GatewayAPI needs RouterTraefik"},
		"gateway with nginx only": {cluster.Options{GatewayAPI: true, Routers: []cluster.Router{cluster.RouterIngressNginx}}, "GatewayAPI needs RouterTraefik"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := cluster.Start(context.Background(), tc.o)
			assert.Nil(t, c)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
