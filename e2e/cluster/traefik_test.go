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

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

const (
	trNS          = "traefik-canary"
	trHost        = "web.traefik.local"
	trPatternHost = "pattern.traefik.local"
	trCookieHost  = "cookie.traefik.local"
	canaryAnn     = "nginx.ingress.kubernetes.io/canary"
)

// TestTraefikCanary proves, on the real Traefik with only Traefik serving
// (no ingress-nginx process), what the project relies on from its
// kubernetesIngressNGINX provider: canary-weight 2000 of canary-weight-total
// 10000 sends 20 % of the requests to the canary, X-Canary: always always
// does, and Prometheus' traefik_service_requests_total for the stable and the
// canary service equals the client's counts. It also records whether
// canary-by-header-pattern and canary-by-cookie behave as in ingress-nginx,
// and the shape of traefik_service_request_duration_seconds.
func TestTraefikCanary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Options{Log: testLog{t}, Routers: []cluster.Router{cluster.RouterTraefik}})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Stop()
		if t.Failed() || os.Getenv("E2E_KEEP_WORKDIR") != "" {
			t.Logf("logs kept: %s", c.Logs())
		} else {
			_ = os.RemoveAll(c.WorkDir())
		}
	})
	require.Empty(t, c.HTTPURL, "no ingress-nginx entry point")
	require.Empty(t, procNamed("nginx"), "no ingress-nginx or nginx process")

	// Each host's pair routes to Services of its own: a canary applies to
	// every Ingress that routes to its primary's Service (traefik#12906).
	for svc, v := range map[string]string{"web-v1": "v1", "web-v2": "v2", "pat-v1": "v1", "pat-v2": "v2", "cookie-v1": "v1", "cookie-v2": "v2"} {
		require.NoError(t, c.DeployVersion(ctx, trNS, svc, v))
	}
	ings := c.Client.NetworkingV1().Ingresses(trNS)
	for _, ing := range []struct{ name, host, svc string }{
		{"web", trHost, "web-v1"}, {"pat", trPatternHost, "pat-v1"}, {"cookie", trCookieHost, "cookie-v1"},
	} {
		_, err := ings.Create(ctx, ingressFor(trNS, ing.name, ing.host, ing.svc, nil), metav1.CreateOptions{})
		require.NoError(t, err)
	}
	// Weight 0: only the header pattern or the cookie can pick the canary.
	_, err = ings.Create(ctx, ingressFor(trNS, "pat-canary", trPatternHost, "pat-v2", map[string]string{
		canaryAnn: "true", canaryAnn + "-weight": "0",
		canaryAnn + "-by-header": "X-Canary", canaryAnn + "-by-header-pattern": "^(yes|on)$",
	}), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = ings.Create(ctx, ingressFor(trNS, "cookie-canary", trCookieHost, "cookie-v2", map[string]string{
		canaryAnn: "true", canaryAnn + "-weight": "0", canaryAnn + "-by-cookie": "canary",
	}), metav1.CreateOptions{})
	require.NoError(t, err)
	// Created last: once it routes, Traefik's cache has all the others.
	_, err = ings.Create(ctx, ingressFor(trNS, "web-canary", trHost, "web-v2", map[string]string{
		canaryAnn: "true", canaryAnn + "-weight": "2000", canaryAnn + "-weight-total": "10000",
		canaryAnn + "-by-header": "X-Canary",
	}), metav1.CreateOptions{})
	require.NoError(t, err)

	t0 := time.Now()
	waitFor(t, 30*time.Second, "canary route live on Traefik", func() error {
		for hdr, want := range map[string]string{"always": "v2", "never": "v1"} {
			v, code, err := hit(c.TraefikURL, trHost, http.MethodGet, map[string]string{"X-Canary": hdr})
			if err != nil || code != 200 || v != want {
				return fmt.Errorf("X-Canary: %s -> %q %d %v", hdr, v, code, err)
			}
		}
		return nil
	})
	t.Logf("canary route live %.2fs after the Ingresses were created", time.Since(t0).Seconds())

	// POST for the weighted requests and PUT for the testers: their series
	// start at zero, whatever the GETs above added, so deltas are exact.
	const n = 500
	weighted := hitMany(c.TraefikURL, trHost, http.MethodPost, nil, n)
	t.Logf("weighted split on Traefik: %v of %d", weighted, n)
	require.Equal(t, n, weighted["v1"]+weighted["v2"], "every request answered 200 by v1 or v2: %v", weighted)
	assert.InDelta(t, 0.20, float64(weighted["v2"])/n, 0.05, "canary share (%v)", weighted)
	const testers = 50
	forced := hitMany(c.TraefikURL, trHost, http.MethodPut, map[string]string{"X-Canary": "always"}, testers)
	assert.Equal(t, map[string]int{"v2": testers}, forced, "X-Canary: always must always reach the canary")

	checkTraefikSeries(t, c, weighted, testers)
	checkPatternAndCookie(t, c)
	checkDurationHistogram(t, c)
}

// checkTraefikSeries waits until Prometheus' traefik_service_requests_total
// for the stable and the canary service equal the client's counts.
func checkTraefikSeries(t *testing.T, c *cluster.Cluster, weighted map[string]int, testers int) {
	stable := trNS + "-web-web-v1-80@kubernetesingressnginx"
	canary := trNS + "-web-web-v1-80-canary@kubernetesingressnginx"
	prom := promClient{base: c.PrometheusURL}
	q := func(method string) string {
		return fmt.Sprintf(`sum by (service) (traefik_service_requests_total{job="traefik",method=%q,code="200",service=~%q})`,
			method, trNS+"-web-.*")
	}
	got := waitForCounts(t, prom, q, func(s promSample) string { return s.Metric["service"] },
		map[string]int{"POST " + stable: weighted["v1"], "POST " + canary: weighted["v2"], "PUT " + canary: testers})
	t.Logf("prometheus: %v", got)
}

// checkPatternAndCookie checks canary-by-header-pattern and canary-by-cookie
// against ingress-nginx's rules (weight 0, so only they can pick the
// canary). Observed on Traefik v3.7.13: both are honoured like ingress-nginx —
// a header matching the pattern goes to the canary, any other value to the
// primary; cookie "always" to the canary, "never" and other values to the
// primary (others would fall through to the weight).
func checkPatternAndCookie(t *testing.T, c *cluster.Cluster) {
	const k = 20
	cases := []struct {
		name, host string
		headers    map[string]string
		want       string
	}{
		{"pattern match X-Canary: yes", trPatternHost, map[string]string{"X-Canary": "yes"}, "v2"},
		{"pattern match X-Canary: on", trPatternHost, map[string]string{"X-Canary": "on"}, "v2"},
		{"pattern miss X-Canary: nope", trPatternHost, map[string]string{"X-Canary": "nope"}, "v1"},
		{"pattern host, no header", trPatternHost, nil, "v1"},
		{"cookie canary=always", trCookieHost, map[string]string{"Cookie": "canary=always"}, "v2"},
		{"cookie among others", trCookieHost, map[string]string{"Cookie": "a=1; canary=always; b=2"}, "v2"},
		{"cookie canary=never", trCookieHost, map[string]string{"Cookie": "canary=never"}, "v1"},
		{"cookie canary=other", trCookieHost, map[string]string{"Cookie": "canary=other"}, "v1"},
		{"cookie host, no cookie", trCookieHost, nil, "v1"},
	}
	for _, tc := range cases {
		got := hitMany(c.TraefikURL, tc.host, http.MethodGet, tc.headers, k)
		t.Logf("%-30s -> %v", tc.name, got)
		assert.Equal(t, map[string]int{tc.want: k}, got, tc.name)
	}
}

// checkDurationHistogram records the label set and the bucket boundaries of
// traefik_service_request_duration_seconds for the canary service.
func checkDurationHistogram(t *testing.T, c *cluster.Cluster) {
	fams, err := scrapeFamilies(c.TraefikMetricsURL)
	require.NoError(t, err)
	f := fams["traefik_service_request_duration_seconds"]
	require.NotNil(t, f, "traefik_service_request_duration_seconds on %s", c.TraefikMetricsURL)
	labels, buckets := histogramShape(t, f, func(l map[string]string) bool {
		return l["service"] == trNS+"-web-web-v1-80-canary@kubernetesingressnginx"
	})
	t.Logf("traefik_service_request_duration_seconds: labels %v, buckets %v", labels, buckets)
	// Traefik's defaults (e2e/setup/README.md): coarse, so latency checks on
	// Traefik can only tell 100 ms, 300 ms, 1.2 s and 5 s apart.
	assert.Equal(t, []string{"code", "method", "protocol", "service"}, labels)
	assert.Equal(t, []string{"0.1", "0.3", "1.2", "5", "+Inf"}, buckets)
}
