package analysis

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// skipRealPrometheusEnv skips TestRealPrometheus when set to 1.
const skipRealPrometheusEnv = "ANALYSIS_SKIP_REAL_PROMETHEUS"

// evilNamespace is a real namespace label value, exported by the fake nginx,
// that would break out of a badly quoted matcher in several ways.
const evilNamespace = "shop\",namespace=~\".+\"} or vector(1) or up{a=\"\\\n\tü\u00a0"

// TestRealPrometheus runs the queries against Debian's Prometheus scraping a
// fake ingress-nginx exporter once a second.
//
// Timeline: the exporter starts with some history; Prometheus scrapes it; a
// burst of slow errors happens before the window (it would spoil every figure
// if it leaked in); the window opens at since and lasts exactly 4 s; one
// scrape later the in-window traffic arrives together with a restart of
// nginx pod b (a counter reset); the query runs once until has passed.
//
// Tolerance: increase() extrapolates the first-to-last-sample difference to
// the window's edges, so each count is the true delta times one factor,
// window / (last sample - first sample), between 1 and 4/2 here. The test
// reads the sample timestamps back from Prometheus, recomputes that factor
// the way Prometheus 2.42 does, and checks counts exactly after dividing by
// it. Every series comes from the same scrape and so shares the factor, which
// makes error rates and quantiles exact without any correction.
func TestRealPrometheus(t *testing.T) {
	if os.Getenv(skipRealPrometheusEnv) == "1" {
		t.Skipf("%s=1", skipRealPrometheusEnv)
	}
	bin := prometheusBinary(t)
	began := time.Now()
	t.Cleanup(func() { t.Logf("real Prometheus test took %s", time.Since(began).Round(time.Millisecond)) })

	nginx := newFakeNginx()
	s := scenario()
	nginx.update(s.history(nginx))
	reg := prometheus.NewRegistry()
	reg.MustRegister(nginx)
	exporter := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(exporter.Close)

	promAPI := startPrometheus(t, bin, exporter.Listener.Addr().String())
	// Prometheus 2.42 applies new scrape targets every 5 s, so the first
	// samples take that long; this is most of the test's time.
	waitForValue(t, promAPI, `count(nginx_ingress_controller_requests)`, float64(s.seriesCount), 10*time.Second)

	nginx.update(s.beforeWindow(nginx))
	waitForValue(t, promAPI, s.beforeWindowProbe, s.beforeWindowValue, 3*time.Second)
	// The scrape that saw the burst is now at or before this instant, so the
	// window (which the rounding up can stretch by under 1 ms here) starts after it.
	time.Sleep(300 * time.Millisecond)
	since := time.Now()
	// At least one scrape inside the window must see the counters before the
	// traffic: increase() only counts growth between samples inside the window.
	time.Sleep(1100 * time.Millisecond)
	nginx.update(s.inWindow(nginx))
	until := since.Add(4 * time.Second)
	// Let the last scrape at or before until be stored.
	time.Sleep(time.Until(until) + 300*time.Millisecond)

	f := extrapolationFactor(t, promAPI, since, until)
	t.Logf("increase() extrapolation factor: %.4f", f)
	require.GreaterOrEqual(t, f, 1.0)
	require.Less(t, f, 2.0)

	p := New(promAPI, 5*time.Second)
	ctx := context.Background()
	web := Target{Namespace: "shop", Ingress: "web", CanaryUpstream: "shop-web-v2-80", Since: since, Until: until}

	t.Run("window deltas and quantiles", func(t *testing.T) {
		m, err := p.Measure(ctx, web, 0.99)
		require.NoError(t, err)
		assertSide(t, "canary", Side{Requests: 200, Errors: 10, ErrorRate: 0.05, LatencySeconds: 0.45}, m.Canary, f)
		assertSide(t, "stable", Side{Requests: 1000, Errors: 2, ErrorRate: 0.002, LatencySeconds: 0.175}, m.Stable, f)
	})

	t.Run("any canary upstream", func(t *testing.T) {
		anyUpstream := web
		anyUpstream.CanaryUpstream = ""
		m, err := p.Measure(ctx, anyUpstream, 0.99)
		require.NoError(t, err)
		assert.InDelta(t, 300, m.Canary.Requests/f, 1e-6, "v2 and v3 canaries")
	})

	t.Run("analyze fails the canary", func(t *testing.T) {
		v := p.Analyze(ctx, web, Thresholds{MaxErrorRate: 0.01, LatencyQuantile: 0.99, MinRequests: 50})
		assert.Equal(t, Fail, v.Outcome)
		assert.Contains(t, v.Reason, "error rate 5.00% > max-error-rate 1.00%")
		t.Log(v.Reason)
	})

	t.Run("quoted label values round-trip", func(t *testing.T) {
		evil := web
		evil.Namespace = evilNamespace
		m, err := p.Measure(ctx, evil, 0.99)
		require.NoError(t, err)
		assertSide(t, "canary", Side{Requests: 33, Errors: 3, ErrorRate: 3.0 / 33, LatencySeconds: 0.0995}, m.Canary, f)
		assert.Equal(t, Side{LatencySeconds: -1}, m.Stable)
	})

	t.Run("injection attempts match nothing", func(t *testing.T) {
		for _, target := range injectionTargets(web) {
			t.Run(fmt.Sprintf("%q/%q/%q", target.Namespace, target.Ingress, target.CanaryUpstream), func(t *testing.T) {
				m, err := p.Measure(ctx, target, 0.99)
				require.NoError(t, err)
				assert.Equal(t, Side{LatencySeconds: -1}, m.Canary)
				if target.Namespace != web.Namespace || target.Ingress != web.Ingress {
					assert.Equal(t, Side{LatencySeconds: -1}, m.Stable)
				}
			})
		}
	})

	t.Run("unreachable window is empty", func(t *testing.T) {
		before := web
		before.Until = since.Add(-time.Hour)
		before.Since = before.Until.Add(-time.Minute)
		v := p.Analyze(ctx, before, Thresholds{MaxErrorRate: 0.01, MinRequests: 1})
		assert.Equal(t, NoData, v.Outcome, v.Reason)
	})
}

// injectionTargets returns targets whose label values, pasted into the query
// unquoted, would widen the selection to the real traffic, add a constant, or
// break the query. Quoted, each is one odd literal value that no series has.
func injectionTargets(web Target) []Target {
	var out []Target
	for _, ns := range []string{
		`shop",namespace=~".+`,
		`shop"} or vector(1e9) or up{a="`,
		`shop\`,
		"shop\"\n,namespace=~\".+",
		"shop\xff",
	} {
		t := web
		t.Namespace = ns
		out = append(out, t)
	}
	t := web
	t.Ingress = `web",ingress=~".+`
	out = append(out, t)
	t = web
	t.CanaryUpstream = `shop-web-v2-80"} or vector(1e9) or up{a="`
	out = append(out, t)
	return out
}

// assertSide checks a side's figures: counts after removing the extrapolation
// factor f, ratio and latency as they are.
func assertSide(t *testing.T, name string, want, got Side, f float64) {
	t.Helper()
	assert.InDelta(t, want.Requests, got.Requests/f, 1e-6, "%s requests (measured %v)", name, got.Requests)
	assert.InDelta(t, want.Errors, got.Errors/f, 1e-6, "%s errors (measured %v)", name, got.Errors)
	assert.InDelta(t, want.ErrorRate, got.ErrorRate, 1e-9, "%s error rate", name)
	assert.InDelta(t, want.LatencySeconds, got.LatencySeconds, 1e-9, "%s latency", name)
}

// trafficScenario is the traffic the test gives the fake nginx, with the
// figures it expects (see the assertions in TestRealPrometheus).
type trafficScenario struct {
	seriesCount       int
	beforeWindowProbe string
	beforeWindowValue float64
}

func scenario() trafficScenario {
	return trafficScenario{
		// 2 pods x (web v2 canary, web v3 canary, web stable, api canary,
		// api stable) x 2 statuses, plus the evil namespace's 2 statuses.
		seriesCount:       2*5*2 + 2,
		beforeWindowProbe: `sum(nginx_ingress_controller_requests{namespace="shop",ingress="web",controller_pod="a",status="500"})`,
		// Canary v2, v3 and stable at 100 each, plus the burst of 5000 twice.
		beforeWindowValue: 3*100 + 2*5000,
	}
}

func series(pod, ns, ingress, canary, status string) nginxSeries {
	return nginxSeries{pod: pod, namespace: ns, ingress: ingress, canary: canary, status: status}
}

// history gives every series a large starting value, with all latencies in
// the lowest bucket. Large values keep Prometheus from limiting the
// extrapolation where a counter would reach zero, which would give series
// different factors and spoil the exact ratios.
func (trafficScenario) history(n *fakeNginx) func() {
	return func() {
		for _, pod := range []string{"a", "b"} {
			for _, ic := range [][2]string{{"web", "shop-web-v2-80"}, {"web", "shop-web-v3-80"}, {"web", ""}, {"api", "shop-api-v2-80"}, {"api", ""}} {
				n.serve(series(pod, "shop", ic[0], ic[1], "200"), 1000, 0.01)
				n.serve(series(pod, "shop", ic[0], ic[1], "500"), 100, 0.01)
			}
		}
		n.serve(series("a", evilNamespace, "web", "shop-web-v2-80", "200"), 1000, 0.01)
		n.serve(series("a", evilNamespace, "web", "shop-web-v2-80", "500"), 100, 0.01)
	}
}

// beforeWindow is a burst of slow errors on both sides of web, before since.
func (trafficScenario) beforeWindow(n *fakeNginx) func() {
	return func() {
		n.serve(series("a", "shop", "web", "shop-web-v2-80", "500"), 5000, 5)
		n.serve(series("a", "shop", "web", "", "500"), 5000, 5)
	}
}

// inWindow is the traffic the window must report, all at once with a restart
// of pod b.
//
// web canary v2: a 150 OK in (0.05, 0.1], 10 errors in (0.25, 0.5]; b 40 OK
// in (0.1, 0.25] after the restart. 200 requests, 10 errors, 5 %; p99 is
// rank 198 of 200, in (0.25, 0.5] after 190: 0.25 + 0.25*8/10 = 0.45.
//
// web stable: a 778 OK in the lowest bucket, 20 OK in (0.1, 0.25], 2 errors
// in the lowest bucket; b 200 OK in the lowest bucket after the restart. 1000
// requests, 2 errors, 0.2 %; p99 is rank 990, in (0.1, 0.25] after 980:
// 0.1 + 0.15*10/20 = 0.175.
//
// The v3 canary (100), the other Ingress (5000 a side, which must not count)
// and the evil namespace (30 OK and 3 errors in (0.05, 0.1]: 3/33 errors, p99
// 0.05 + 0.05*0.99 = 0.0995) complete it.
func (trafficScenario) inWindow(n *fakeNginx) func() {
	return func() {
		n.restart("b")
		n.serve(series("a", "shop", "web", "shop-web-v2-80", "200"), 150, 0.075)
		n.serve(series("a", "shop", "web", "shop-web-v2-80", "500"), 10, 0.3)
		n.serve(series("b", "shop", "web", "shop-web-v2-80", "200"), 40, 0.2)

		n.serve(series("a", "shop", "web", "", "200"), 778, 0.04)
		n.serve(series("a", "shop", "web", "", "200"), 20, 0.2)
		n.serve(series("a", "shop", "web", "", "500"), 2, 0.04)
		n.serve(series("b", "shop", "web", "", "200"), 200, 0.04)

		n.serve(series("a", "shop", "web", "shop-web-v3-80", "200"), 100, 0.04)
		n.serve(series("a", "shop", "api", "shop-api-v2-80", "500"), 5000, 5)
		n.serve(series("a", "shop", "api", "", "500"), 5000, 5)
		n.serve(series("a", evilNamespace, "web", "shop-web-v2-80", "200"), 30, 0.075)
		n.serve(series("a", evilNamespace, "web", "shop-web-v2-80", "500"), 3, 0.075)
	}
}

// prometheusBinary finds Prometheus, or fails saying how to get it.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p
	}
	const debian = "/usr/bin/prometheus"
	if _, err := os.Stat(debian); err == nil {
		return debian
	}
	t.Fatalf("the prometheus binary is missing: install Debian's package with "+
		"`apt-get install -y --no-install-recommends prometheus` (as root), "+
		"or set %s=1 to skip this test", skipRealPrometheusEnv)
	return ""
}

// startPrometheus runs Prometheus on a free loopback port, scraping target
// every second, with its storage in a temporary directory. It is killed when
// the test ends.
func startPrometheus(t *testing.T, bin, target string) v1.API {
	t.Helper()
	dir := t.TempDir()
	config := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: nginx\n    static_configs:\n      - targets: [%q]\n", target)
	configPath := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(configPath, []byte(config), 0o600))
	logPath := filepath.Join(dir, "prometheus.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)

	addr := freeLoopbackAddr(t)
	cmd := exec.Command(bin,
		"--config.file="+configPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Should the test binary die, the kernel kills Prometheus too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		_ = logFile.Close()
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("prometheus log:\n%s", log)
		}
	})

	client, err := api.NewClient(api.Config{Address: (&url.URL{Scheme: "http", Host: addr}).String()})
	require.NoError(t, err)
	promAPI := v1.NewAPI(client)
	waitReady(t, promAPI, exited)
	return promAPI
}

// freeLoopbackAddr returns a loopback address with a port that was free a
// moment ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// waitReady waits until Prometheus answers queries, or fails if it exits.
func waitReady(t *testing.T, promAPI v1.API, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, _, err := promAPI.Query(ctx, "1", time.Now())
		cancel()
		if err == nil {
			return
		}
		select {
		case <-exited:
			t.Fatalf("prometheus exited before it was ready: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 10s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitForValue waits until the latest value of query is want.
func waitForValue(t *testing.T, promAPI v1.API, query string, want float64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last model.Value
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		v, _, err := promAPI.Query(ctx, query, time.Now())
		cancel()
		require.NoError(t, err)
		last = v
		if vec, ok := v.(model.Vector); ok && len(vec) == 1 && float64(vec[0].Value) == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: want %v, last got %v", query, want, last)
}

// extrapolationFactor reads the scrape timestamps inside the window back
// from Prometheus and returns the factor by which increase() stretches the
// sampled delta, computed as Prometheus 2.42's extrapolatedRate does (the
// limit at a counter's zero point does not apply: the scenario's counters are
// all far from zero).
func extrapolationFactor(t *testing.T, promAPI v1.API, since, until time.Time) float64 {
	t.Helper()
	q := `up{job="nginx"}` + rangeAt(since, until)
	v, _, err := promAPI.Query(context.Background(), q, until)
	require.NoError(t, err, q)
	matrix, ok := v.(model.Matrix)
	require.True(t, ok, "%s gave %s", q, v.Type())
	require.Len(t, matrix, 1, q)
	points := matrix[0].Values
	require.GreaterOrEqual(t, len(points), 3, "samples in the window: %v", points)

	end := float64(until.UnixMilli()) / 1000
	start := end - math.Ceil(until.Sub(since).Seconds())
	firstT := float64(points[0].Timestamp) / 1000
	lastT := float64(points[len(points)-1].Timestamp) / 1000
	sampled := lastT - firstT
	average := sampled / float64(len(points)-1)
	stretched := sampled
	for _, edge := range []float64{firstT - start, end - lastT} {
		if edge < average*1.1 {
			stretched += edge
		} else {
			stretched += average / 2
		}
	}
	return stretched / sampled
}
