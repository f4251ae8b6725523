package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

const (
	besideNS = "beside"
	gwHost   = "gw.traefik.local"
)

// TestTraefikBesideIngressNginx proves that Traefik and ingress-nginx serve
// the same Ingresses of class nginx at once, each on its own port and each
// scraped by Prometheus, and that Traefik's kubernetesGateway provider routes
// an HTTPRoute with weighted backendRefs and a header-matching tester rule.
func TestTraefikBesideIngressNginx(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Options{Log: testLog{t},
		Routers: []cluster.Router{cluster.RouterIngressNginx, cluster.RouterTraefik}, GatewayAPI: true})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Stop()
		if t.Failed() || os.Getenv("E2E_KEEP_WORKDIR") != "" {
			t.Logf("logs kept: %s", c.Logs())
		} else {
			_ = os.RemoveAll(c.WorkDir())
		}
	})
	require.NoError(t, c.DeployVersion(ctx, besideNS, "web-v1", "v1"))
	require.NoError(t, c.DeployVersion(ctx, besideNS, "web-v2", "v2"))
	ings := c.Client.NetworkingV1().Ingresses(besideNS)
	_, err = ings.Create(ctx, ingressFor(besideNS, "web", host, "web-v1", nil), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = ings.Create(ctx, ingressFor(besideNS, "web-canary", host, "web-v2", map[string]string{
		canaryAnn: "true", canaryAnn + "-weight": "30", canaryAnn + "-by-header": "X-Canary",
	}), metav1.CreateOptions{})
	require.NoError(t, err)

	for name, base := range map[string]string{"ingress-nginx": c.HTTPURL, "traefik": c.TraefikURL} {
		waitFor(t, 30*time.Second, name+" serves the canary", func() error {
			v, code, err := hit(base, host, http.MethodGet, map[string]string{"X-Canary": "always"})
			if err != nil || code != 200 || v != "v2" {
				return fmt.Errorf("X-Canary: always -> %q %d %v", v, code, err)
			}
			return nil
		})
	}
	prom := promClient{base: c.PrometheusURL}
	waitFor(t, 15*time.Second, "both routers scraped", func() error {
		s, err := prom.query(`up{job=~"ingress-nginx|traefik"} == 1`)
		if err == nil && len(s) != 2 {
			err = fmt.Errorf("got %v", s)
		}
		return err
	})

	checkHTTPRoute(ctx, t, c)
}

var (
	gatewayGVR   = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}
	httpRouteGVR = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
)

// checkHTTPRoute routes gwHost through a Gateway on Traefik's entry point:
// testers (X-Canary: always) to v2, the rest 70/30 to v1/v2.
func checkHTTPRoute(ctx context.Context, t *testing.T, c *cluster.Cluster) {
	dyn, err := dynamic.NewForConfig(c.RESTConfig)
	require.NoError(t, err)
	gw := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
		"metadata": map[string]any{"name": "gw", "namespace": besideNS},
		"spec": map[string]any{
			"gatewayClassName": cluster.GatewayClassName,
			"listeners": []any{map[string]any{
				"name": "web", "port": int64(cluster.TraefikGatewayPort), "protocol": "HTTP",
			}},
		},
	}}
	_, err = dyn.Resource(gatewayGVR).Namespace(besideNS).Create(ctx, gw, metav1.CreateOptions{})
	require.NoError(t, err)
	backend := func(svc string, weight int64) map[string]any {
		return map[string]any{"name": svc, "port": int64(80), "weight": weight}
	}
	route := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "web", "namespace": besideNS},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "gw"}},
			"hostnames":  []any{gwHost},
			"rules": []any{
				map[string]any{
					"matches":     []any{map[string]any{"headers": []any{map[string]any{"name": "X-Canary", "value": "always"}}}},
					"backendRefs": []any{backend("web-v2", 1)},
				},
				map[string]any{"backendRefs": []any{backend("web-v1", 70), backend("web-v2", 30)}},
			},
		},
	}}
	_, err = dyn.Resource(httpRouteGVR).Namespace(besideNS).Create(ctx, route, metav1.CreateOptions{})
	require.NoError(t, err)

	waitFor(t, 30*time.Second, "HTTPRoute served by Traefik", func() error {
		v, code, err := hit(c.TraefikURL, gwHost, http.MethodGet, map[string]string{"X-Canary": "always"})
		if err != nil || code != 200 || v != "v2" {
			return fmt.Errorf("X-Canary: always -> %q %d %v", v, code, err)
		}
		return nil
	})
	const n = 200
	weighted := hitMany(c.TraefikURL, gwHost, http.MethodPost, nil, n)
	t.Logf("HTTPRoute 70/30 split: %v of %d", weighted, n)
	require.Equal(t, n, weighted["v1"]+weighted["v2"], "every request answered 200: %v", weighted)
	assert.InDelta(t, 0.30, float64(weighted["v2"])/n, 0.05, "v2 share (%v)", weighted)
	forced := hitMany(c.TraefikURL, gwHost, http.MethodPut, map[string]string{"X-Canary": "always"}, 20)
	assert.Equal(t, map[string]int{"v2": 20}, forced, "testers always reach v2")

	r, err := dyn.Resource(httpRouteGVR).Namespace(besideNS).Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	parents, _, _ := unstructured.NestedSlice(r.Object, "status", "parents")
	t.Logf("HTTPRoute status.parents: %v", parents)
	assert.NotEmpty(t, parents, "Traefik writes the route's status")
}
