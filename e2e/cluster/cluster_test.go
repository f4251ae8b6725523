package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

func TestMain(m *testing.M) { os.Exit(cluster.RunInSandbox(m)) }

const (
	ns   = "smoke"
	host = "demo.local"
)

// TestSmoke proves each real part of the harness: ingress-nginx splits
// traffic by a hand-made canary Ingress, Prometheus sees the split in
// ingress-nginx's metrics, the controller-manager garbage-collects owned
// objects, and Stop leaves no process behind.
func TestSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	t0 := time.Now()
	c, err := cluster.Start(ctx, cluster.Options{Log: testLog{t}})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Stop()
		if t.Failed() || os.Getenv("E2E_KEEP_WORKDIR") != "" {
			t.Logf("logs kept: %s", c.Logs())
		} else {
			_ = os.RemoveAll(c.WorkDir())
		}
	})
	t.Logf("cluster started in %.1fs", time.Since(t0).Seconds())

	require.NoError(t, c.DeployVersion(ctx, ns, "web-v1", "v1"))
	require.NoError(t, c.DeployVersion(ctx, ns, "web-v2", "v2"))
	primary, err := c.Client.NetworkingV1().Ingresses(ns).Create(ctx, ingress("web", "web-v1", nil), metav1.CreateOptions{})
	require.NoError(t, err)
	canary := ingress("web-canary", "web-v2", map[string]string{
		"nginx.ingress.kubernetes.io/canary":           "true",
		"nginx.ingress.kubernetes.io/canary-weight":    "20",
		"nginx.ingress.kubernetes.io/canary-by-header": "X-Canary",
	})
	// Owned by the primary, like the controller's own canary Ingress, so that
	// deleting the primary must garbage-collect it.
	canary.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Name: primary.Name, UID: primary.UID,
	}}
	_, err = c.Client.NetworkingV1().Ingresses(ns).Create(ctx, canary, metav1.CreateOptions{})
	require.NoError(t, err)

	// Wait (GET, which the metric assertions below ignore) until both routes
	// are live: nginx reloads for the new host, then syncs the canary.
	waitFor(t, 30*time.Second, "canary route live", func() error {
		v, code, err := send(c.HTTPURL, http.MethodGet, "always")
		if err != nil || code != 200 || v != "v2" {
			return fmt.Errorf("X-Canary: always -> %q %d %v", v, code, err)
		}
		v, code, err = send(c.HTTPURL, http.MethodGet, "never")
		if err != nil || code != 200 || v != "v1" {
			return fmt.Errorf("X-Canary: never -> %q %d %v", v, code, err)
		}
		return nil
	})

	// Weighted traffic uses POST and header-forced traffic PUT, so that their
	// counters in Prometheus start at zero: exact deltas, whatever the
	// readiness polling (and its post-reload 503s) added under GET.
	const n = 500
	weighted := sendMany(t, c.HTTPURL, http.MethodPost, "", n)
	t.Logf("weighted: %v", weighted)
	share := float64(weighted["v2"]) / n
	// 4.5 standard deviations of a binomial(500, 0.2) share is about 0.08.
	assert.InDelta(t, 0.20, share, 0.08, "v2 share of %d requests (%v)", n, weighted)
	assert.Equal(t, n, weighted["v1"]+weighted["v2"], "every request answered 200 by v1 or v2: %v", weighted)

	forced := sendMany(t, c.HTTPURL, http.MethodPut, "always", 50)
	assert.Equal(t, map[string]int{"v2": 50}, forced, "X-Canary: always must always reach v2")

	// Prometheus must see exactly the same split, canary-routed requests with
	// the canary upstream in `canary` and the primary's name in `ingress`.
	prom := promClient{base: c.PrometheusURL}
	query := func(method string) string {
		return fmt.Sprintf(`sum by (canary, ingress, service) (nginx_ingress_controller_requests{namespace=%q,host=%q,method=%q,status="200"})`,
			ns, host, method)
	}
	key := func(s promSample) string { return "canary=" + s.Metric["canary"] + " ingress=" + s.Metric["ingress"] }
	got := waitForCounts(t, prom, query, key, map[string]int{
		"POST canary= ingress=web":                weighted["v1"],
		"POST canary=smoke-web-v2-80 ingress=web": weighted["v2"],
		"PUT canary=smoke-web-v2-80 ingress=web":  50,
	})
	t.Logf("prometheus: %v", got)

	// Extra scrape targets are picked up on reload.
	require.NoError(t, c.AddScrapeTarget("prometheus-self", strings.TrimPrefix(c.PrometheusURL, "http://")))
	waitFor(t, 15*time.Second, "extra scrape target up", func() error {
		s, err := prom.query(`up{job="prometheus-self"} == 1`)
		if err == nil && len(s) != 1 {
			err = fmt.Errorf("got %v", s)
		}
		return err
	})
	// A Prometheus outage: queries fail; after the restart, earlier samples
	// are still there (same TSDB directory).
	require.NoError(t, c.StopPrometheus())
	_, err = prom.query("up")
	require.Error(t, err, "query while Prometheus is stopped")
	require.NoError(t, c.StartPrometheus())
	waitFor(t, 15*time.Second, "samples survive a restart", func() error {
		s, err := prom.query(fmt.Sprintf(`max_over_time(sum(nginx_ingress_controller_requests{namespace=%q,method="PUT"})[5m:1s])`, ns))
		if err == nil && (len(s) != 1 || s[0].Value != 50) {
			err = fmt.Errorf("got %v", s)
		}
		return err
	})

	// A process started through the cluster is stopped by Stop.
	_, err = c.StartProcess("sleeper", nil, "sleep", "300")
	require.NoError(t, err)

	// Garbage collection by the controller-manager: deleting the primary
	// deletes the canary Ingress it owns.
	require.NoError(t, c.Client.NetworkingV1().Ingresses(ns).Delete(ctx, "web", metav1.DeleteOptions{}))
	gcStart := time.Now()
	waitFor(t, 20*time.Second, "owned Ingress garbage-collected", func() error {
		_, err := c.Client.NetworkingV1().Ingresses(ns).Get(ctx, "web-canary", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("web-canary still there (err %v)", err)
	})
	t.Logf("owned Ingress collected %.2fs after the primary's deletion", time.Since(gcStart).Seconds())

	tStop := time.Now()
	require.NoError(t, c.Stop())
	t.Logf("stopped in %.2fs", time.Since(tStop).Seconds())
	require.NoError(t, c.Stop(), "Stop is idempotent")
	// Inside the sandbox's PID namespace every other process was started by
	// the harness (or this test); none may survive Stop.
	assert.Empty(t, cluster.OtherProcesses(), "processes left after Stop")
}

func ingress(name, service string, annotations map[string]string) *networkingv1.Ingress {
	class := "nginx"
	prefix := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: annotations},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			Rules: []networkingv1.IngressRule{{
				Host: host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{
						Path: "/", PathType: &prefix,
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
							Name: service, Port: networkingv1.ServiceBackendPort{Number: 80},
						}},
					}},
				}},
			}},
		},
	}
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

// send makes one request through nginx to the smoke test's host, with the
// X-Canary header when canaryHeader is set, and returns the X-Version that answered.
func send(base, method, canaryHeader string) (string, int, error) {
	return hit(base, host, method, canaryHeaders(canaryHeader))
}

// sendMany is hitMany on the smoke test's host.
func sendMany(t *testing.T, base, method, canaryHeader string, n int) map[string]int {
	t.Helper()
	return hitMany(base, host, method, canaryHeaders(canaryHeader), n)
}

func canaryHeaders(value string) map[string]string {
	if value == "" {
		return nil
	}
	return map[string]string{"X-Canary": value}
}

// waitFor polls f every 200 ms until it succeeds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s: %v", what, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitForCounts waits until Prometheus' POST and PUT counts, read with
// query(method) and keyed by "METHOD "+key(sample), equal want, and returns
// the last counts read.
func waitForCounts(t *testing.T, prom promClient, query func(method string) string, key func(promSample) string, want map[string]int) map[string]int {
	t.Helper()
	var got map[string]int
	waitFor(t, 20*time.Second, "Prometheus' counts equal the client's", func() error {
		got = map[string]int{}
		for _, method := range []string{http.MethodPost, http.MethodPut} {
			samples, err := prom.query(query(method))
			if err != nil {
				return err
			}
			for _, s := range samples {
				got[method+" "+key(s)] += int(s.Value)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
	return got
}

type promSample struct {
	Metric map[string]string
	Value  float64
}

type promClient struct{ base string }

// query runs an instant query (plain HTTP API: the smoke test checks the
// harness, not the project's Prometheus client).
func (p promClient) query(q string) ([]promSample, error) {
	resp, err := httpClient.Get(p.base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", q, body.Error)
	}
	out := make([]promSample, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, err
		}
		out = append(out, promSample{Metric: r.Metric, Value: v})
	}
	return out, nil
}

// testLog sends the harness's progress lines to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
