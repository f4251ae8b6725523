package prom

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
	"sync"
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

	"github.com/ingress-canary/ingress-canary/analysis"
)

// skipRealPrometheusEnv skips TestRealPrometheus when set to 1.
const skipRealPrometheusEnv = "ANALYSIS_SKIP_REAL_PROMETHEUS"

// evilNamespace is a real namespace label value, exported by the fake nginx,
// that would break out of a badly quoted matcher in several ways.
const evilNamespace = "shop\",namespace=~\".+\"} or vector(1) or up{a=\"\\\n\tü\u00a0"

// realFresh is how old the shared snapshot may be in TestRealPrometheus.
const realFresh = 500 * time.Millisecond

// bulkIngresses is how many extra Ingresses the fake nginx serves, to show that a
// refresh costs three queries whatever their number.
const bulkIngresses = 200

// TestRealPrometheus runs Analyzer against Debian's Prometheus scraping two fake
// ingress-nginx pods (two scrape targets, so two instance labels) once a second.
//
// Timeline: the pods start with some history; Prometheus scrapes them; a burst of
// slow errors happens before the window (it would spoil every figure if it
// leaked in); the window opens at since, where the previous step's analysis
// takes a snapshot for every rollout; one scrape later the in-window traffic
// arrives together with a restart of pod b (its counters reset); once both pods
// have been scraped again, every rollout is analysed at until.
//
// Analyzer subtracts two scrapes of the same counters, so every count is exact.
// Prometheus's own increase() is only used as a reference for the quantile.
func TestRealPrometheus(t *testing.T) {
	if os.Getenv(skipRealPrometheusEnv) == "1" {
		t.Skipf("%s=1", skipRealPrometheusEnv)
	}
	bin := prometheusBinary(t)
	began := time.Now()
	t.Cleanup(func() { t.Logf("real Prometheus test took %s", time.Since(began).Round(time.Millisecond)) })

	nginx := newFakeNginx()
	nginx.update(history(nginx))
	promAPI := startPrometheus(t, bin, exportPods(t, nginx, "a", "b")...)
	// Prometheus 2.42 applies new scrape targets every 5 s, so the first
	// samples take that long; this is most of the test's time.
	waitForValue(t, promAPI, `count(nginx_ingress_controller_requests)`, float64(nginx.seriesCount()), 10*time.Second)

	nginx.update(beforeWindow(nginx))
	waitForPods(t, promAPI, nginx)
	since := time.Now()

	rec := &recordingAPI{API: promAPI}
	w := NewAnalyzer(rec, realFresh, 5*time.Second)
	rollouts := allRollouts()
	// The previous step passes at since and the new weight is written then: its
	// analysis takes the snapshot the new step's window starts from. (Its own
	// window started within fresh, so it reads no older snapshot.)
	atStart := measureAll(t, w, rec, rollouts, since.Add(-realFresh/2), since)

	// increase(), the reference for the quantile, only counts growth between
	// samples inside its range: let each pod be scraped once before the traffic.
	time.Sleep(1100 * time.Millisecond)
	nginx.update(inWindow(nginx))
	waitForPods(t, promAPI, nginx)
	// A window of at least 2.5 s holds two samples of each pod for increase().
	time.Sleep(time.Until(since.Add(2500 * time.Millisecond)))
	until := time.Now()
	atUntil := measureAll(t, w, rec, rollouts, since, until)

	t.Run("three queries per refresh whatever the number of Ingresses", func(t *testing.T) {
		assert.Len(t, atStart.sent, 3, "at since: %d rollouts over %d+ Ingresses", len(rollouts), bulkIngresses)
		// At until the snapshot at since is no longer the latest and keeps
		// only the Ingresses that had a canary then. The odd Ingresses without
		// history had none (as on a first step), so one read at since, shared
		// by all of them, is their start.
		var refresh, start []sentQuery
		for _, q := range atUntil.sent {
			if q.at.Equal(since) {
				start = append(start, q)
			} else {
				refresh = append(refresh, q)
			}
		}
		assert.Len(t, refresh, 3, "at until: %d rollouts over %d+ Ingresses", len(rollouts), bulkIngresses)
		assert.Len(t, start, 3, "one start read for the first steps")
		for _, q := range append(atStart.sent, atUntil.sent...) {
			assert.Contains(t, []string{Nginx{}.Queries(nil).Requests, Nginx{}.Queries(nil).Errors, Nginx{}.Queries(nil).Buckets}, q.query)
		}
		assert.Equal(t, int64(len(rec.all())), w.Queries())
	})

	web := analysis.Target{Namespace: "shop", Ingress: "web", CanaryUpstream: "shop-web-v2-80", Since: since, Until: until}

	t.Run("exact window counts", func(t *testing.T) {
		// See inWindow for the figures. The burst before since does not count;
		// pod b's reset and the two pods' sum do.
		m := atUntil.of(t, web)
		assert.Equal(t, analysis.Side{Requests: 200, Errors: 10, ErrorRate: 0.05, LatencySeconds: 0.45}, round(m.Canary))
		assert.Equal(t, analysis.Side{Requests: 1000, Errors: 2, ErrorRate: 0.002, LatencySeconds: 0.175}, round(m.Stable))

		anyUpstream := web
		anyUpstream.CanaryUpstream = ""
		m, err := w.Measure(context.Background(), anyUpstream, analysis.Thresholds{LatencyQuantile: 0.99})
		require.NoError(t, err)
		assert.Equal(t, 300.0, m.Canary.Requests, "v2 and v3 canaries")

		// Slow requests are counted above the largest bucket bound at or
		// below max-latency: 150ms falls between 100ms and 250ms.
		m, err = w.Measure(context.Background(), web, analysis.Thresholds{LatencyQuantile: 0.99, MaxLatency: 150 * time.Millisecond})
		require.NoError(t, err)
		assert.Equal(t, 0.1, m.SlowAbove)
		assert.Equal(t, []float64{200, 50}, []float64{m.Canary.Timed, m.Canary.Slow}, "40 at 200ms and 10 at 300ms")
		assert.Equal(t, []float64{1000, 20}, []float64{m.Stable.Timed, m.Stable.Slow}, "20 at 200ms")
		m, err = w.Measure(context.Background(), web, analysis.Thresholds{LatencyQuantile: 0.99, MaxLatency: 10 * time.Millisecond})
		require.NoError(t, err)
		assert.Zero(t, m.SlowAbove, "below the smallest bucket: nothing can be counted")

		// The rollout's start reads stable's last hour in one range query.
		b, err := w.Baseline(context.Background(), analysis.Target{Namespace: "shop", Ingress: "web"}, until)
		require.NoError(t, err)
		assert.Positive(t, b.Dispersion.Intervals)
		assert.Positive(t, b.RPS)

		for i := range bulkIngresses {
			got := atUntil.of(t, bulkTarget(i, since, until))
			want := bulkWindow(i)
			assert.Equal(t, [2]float64{want.Canary.Requests, want.Canary.Errors}, [2]float64{got.Canary.Requests, got.Canary.Errors}, "bulk %d canary", i)
			assert.Equal(t, [2]float64{want.Stable.Requests, want.Stable.Errors}, [2]float64{got.Stable.Requests, got.Stable.Errors}, "bulk %d stable", i)
		}
	})

	t.Run("quantile agrees with histogram_quantile over increase", func(t *testing.T) {
		// All of one bulk Ingress's series come from one pod and one scrape, so
		// increase() stretches every bucket by the same factor and the quantile
		// comes out the same to rounding.
		bulk := bulkTarget(150, since, until)
		for _, q := range []float64{0.5, 0.9, 0.99} {
			m, err := w.Measure(context.Background(), bulk, analysis.Thresholds{LatencyQuantile: q})
			require.NoError(t, err)
			assert.InDelta(t, promQuantile(t, promAPI, q, bulk, bulk.CanaryUpstream), m.Canary.LatencySeconds, 1e-9, "bulk canary p%v", q*100)
			assert.InDelta(t, promQuantile(t, promAPI, q, bulk, ""), m.Stable.LatencySeconds, 1e-9, "bulk stable p%v", q*100)
		}
		// web's two pods are scraped at different moments, so increase()
		// stretches their counts by different factors (each up to 2.5 for a
		// 2.5 s window scraped every second), which moves its answer inside the
		// bucket: by at most 0.0225 s here. Analyzer' figures are exact (above).
		m := atUntil.of(t, web)
		canary, stable := promQuantile(t, promAPI, 0.99, web, web.CanaryUpstream), promQuantile(t, promAPI, 0.99, web, "")
		t.Logf("web p99 from increase(): canary %.4f s, stable %.4f s; exact: 0.45 s, 0.175 s", canary, stable)
		assert.InDelta(t, canary, m.Canary.LatencySeconds, 0.025, "web canary p99")
		assert.InDelta(t, stable, m.Stable.LatencySeconds, 0.025, "web stable p99")
	})

	t.Run("start read at since after a restart", func(t *testing.T) {
		// A new Analyzer has no snapshot near since: it reads one at since.
		rec := &recordingAPI{API: promAPI}
		restarted := NewAnalyzer(rec, realFresh, 5*time.Second)
		m, err := restarted.Measure(context.Background(), web, analysis.Thresholds{LatencyQuantile: 0.99})
		require.NoError(t, err)
		assert.Equal(t, round(atUntil.of(t, web).Canary), round(m.Canary))
		assert.Equal(t, round(atUntil.of(t, web).Stable), round(m.Stable))
		var at []time.Time
		for _, q := range rec.all() {
			at = append(at, q.at)
		}
		assert.Equal(t, []time.Time{until, until, until, since, since, since}, at, "the latest snapshot, then the start at since")
	})

	t.Run("odd label values are their own series", func(t *testing.T) {
		for _, s := range oddSeries() {
			target := analysis.Target{Namespace: s.namespace, Ingress: s.ingress, CanaryUpstream: s.canary, Since: since, Until: until}
			m := atUntil.of(t, target)
			assert.Equal(t, float64(s.ok+s.errors), m.Canary.Requests, "%q", s)
			assert.Equal(t, float64(s.errors), m.Canary.Errors, "%q", s)
			assert.Equal(t, analysis.Side{LatencySeconds: -1}, m.Stable, "%q", s)
		}
	})

	t.Run("injection-looking targets match nothing", func(t *testing.T) {
		before := len(rec.all())
		for _, target := range injectionTargets(web) {
			m, err := w.Measure(context.Background(), target, analysis.Thresholds{LatencyQuantile: 0.99})
			require.NoError(t, err, "%q/%q/%q", target.Namespace, target.Ingress, target.CanaryUpstream)
			assert.Equal(t, analysis.Side{LatencySeconds: -1}, m.Canary, "%q/%q/%q", target.Namespace, target.Ingress, target.CanaryUpstream)
			if target.Namespace != web.Namespace || target.Ingress != web.Ingress {
				assert.Equal(t, analysis.Side{LatencySeconds: -1}, m.Stable, "%q/%q", target.Namespace, target.Ingress)
			}
		}
		assert.Len(t, rec.all(), before, "answered from the snapshots already taken")
	})

	t.Run("following some Ingresses asks Prometheus for theirs alone", func(t *testing.T) {
		followed := []analysis.Target{web, bulkTarget(7, since, until)}
		for _, s := range oddSeries() {
			followed = append(followed, analysis.Target{Namespace: s.namespace, Ingress: s.ingress, CanaryUpstream: s.canary, Since: since, Until: until})
		}
		rec := &recordingAPI{API: promAPI}
		few := NewAnalyzer(rec, realFresh, 5*time.Second).FollowOnly(time.Minute)
		for _, f := range append(followed, injectionTargets(web)...) {
			few.Follow(f, until)
		}
		for _, f := range followed {
			m, err := few.Measure(context.Background(), f, analysis.Thresholds{LatencyQuantile: 0.99})
			require.NoError(t, err, rolloutKey(f))
			assert.Equal(t, round(atUntil.of(t, f).Canary), round(m.Canary), rolloutKey(f))
			assert.Equal(t, round(atUntil.of(t, f).Stable), round(m.Stable), rolloutKey(f))
		}
		for _, target := range injectionTargets(web) {
			m, err := few.Measure(context.Background(), target, analysis.Thresholds{LatencyQuantile: 0.99})
			require.NoError(t, err, rolloutKey(target))
			assert.Equal(t, analysis.Side{LatencySeconds: -1}, m.Canary, rolloutKey(target))
		}
		assert.Len(t, rec.all(), 6, "one refresh and one start read, for all of them")

		// What Prometheus answers the followed groups' query: their series,
		// odd label values included, and nobody else's.
		want := map[group]bool{}
		var only []group
		for _, f := range followed {
			g, _, _ := Nginx{}.Sides(f)
			want[g] = true
			only = append(only, g)
		}
		for _, q := range []string{Nginx{}.Queries(only).Requests, Nginx{}.Queries(only).Buckets} {
			v, _, err := promAPI.Query(context.Background(), q, until)
			require.NoError(t, err, q)
			got := map[group]bool{}
			for _, s := range v.(model.Vector) {
				g, _, _ := Nginx{}.File(s.Metric)
				got[g] = true
			}
			for g := range got {
				if !want[g] {
					// The matchers select namespaces times names.
					assert.Contains(t, []string{"shop", "bulk", `shop\`, evilNamespace}, g.scope, "%q", g)
				}
			}
			for g := range want {
				assert.True(t, got[g], "%q answered by %s", g, q)
			}
			assert.Less(t, len(got), 12, "of %d+ Ingresses", bulkIngresses)
		}
	})

	t.Run("analyze fails the canary", func(t *testing.T) {
		v := w.Analyze(context.Background(), web, analysis.Thresholds{MaxErrorRate: 0.01, LatencyQuantile: 0.99, MinRequests: 50})
		assert.Equal(t, analysis.Fail, v.Outcome, v.Reason)
		t.Log(v.Reason)
	})
}

// recordingAPI passes queries on to Prometheus and records them.
type recordingAPI struct {
	v1.API
	mu   sync.Mutex
	sent []sentQuery
}

type sentQuery struct {
	query string
	at    time.Time
}

func (r *recordingAPI) Query(ctx context.Context, q string, ts time.Time, opts ...v1.Option) (model.Value, v1.Warnings, error) {
	r.mu.Lock()
	r.sent = append(r.sent, sentQuery{q, ts})
	r.mu.Unlock()
	return r.API.Query(ctx, q, ts, opts...)
}

func (r *recordingAPI) all() []sentQuery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sentQuery(nil), r.sent...)
}

// tickRecord is what one analysis tick measured and asked.
type tickRecord struct {
	measured map[string]analysis.Measurement
	sent     []sentQuery
}

// of returns the measurement of the rollout t names.
func (r tickRecord) of(t *testing.T, target analysis.Target) analysis.Measurement {
	t.Helper()
	m, ok := r.measured[rolloutKey(target)]
	require.True(t, ok, "no measurement for %s", rolloutKey(target))
	return m
}

func rolloutKey(t analysis.Target) string {
	return fmt.Sprintf("%q/%q/%q", t.Namespace, t.Ingress, t.CanaryUpstream)
}

// measureAll analyses every rollout once for the window [since, until], as one
// controller tick does.
func measureAll(t *testing.T, w *Analyzer, rec *recordingAPI, rollouts []analysis.Target, since, until time.Time) tickRecord {
	t.Helper()
	before := len(rec.all())
	out := tickRecord{measured: map[string]analysis.Measurement{}}
	for _, r := range rollouts {
		r.Since, r.Until = since, until
		m, err := w.Measure(context.Background(), r, analysis.Thresholds{LatencyQuantile: 0.99})
		require.NoError(t, err, rolloutKey(r))
		out.measured[rolloutKey(r)] = m
	}
	out.sent = rec.all()[before:]
	return out
}

// allRollouts is every rollout the test analyses, without its window.
func allRollouts() []analysis.Target {
	out := []analysis.Target{{Namespace: "shop", Ingress: "web", CanaryUpstream: "shop-web-v2-80"}}
	for i := range bulkIngresses {
		out = append(out, bulkTarget(i, time.Time{}, time.Time{}))
	}
	for _, s := range oddSeries() {
		out = append(out, analysis.Target{Namespace: s.namespace, Ingress: s.ingress, CanaryUpstream: s.canary})
	}
	return out
}

// round keeps 12 significant digits of the ratio and the latency, which the
// interpolation computes with a rounding error.
func round(s analysis.Side) analysis.Side {
	r := func(v float64) float64 {
		if v == 0 {
			return 0
		}
		scale := math.Pow(10, 11-math.Floor(math.Log10(math.Abs(v))))
		return math.Round(v*scale) / scale
	}
	s.ErrorRate, s.LatencySeconds = r(s.ErrorRate), r(s.LatencySeconds)
	return s
}

// promQuantile asks Prometheus for the quantile the way an increase()-based
// query would: histogram_quantile over the buckets' increase during the window.
// canary "" selects the stable side. The label values are the test's own plain
// names.
func promQuantile(t *testing.T, promAPI v1.API, q float64, target analysis.Target, canary string) float64 {
	t.Helper()
	ms := target.Until.Sub(target.Since).Milliseconds()
	query := fmt.Sprintf(`histogram_quantile(%g, sum by (le) (increase(%s{namespace=%q,ingress=%q,canary=%q}[%dms] @ %.3f)))`,
		q, nginxLatency, target.Namespace, target.Ingress, canary, ms, float64(target.Until.UnixMilli())/1000)
	v, _, err := promAPI.Query(context.Background(), query, target.Until)
	require.NoError(t, err, query)
	vec, ok := v.(model.Vector)
	require.True(t, ok && len(vec) == 1, "%s gave %v", query, v)
	return float64(vec[0].Value)
}

// injectionTargets returns targets whose label values, pasted into a query
// unquoted, would widen the selection to the real traffic, add a constant, or
// break the query. Analyzer never puts them into PromQL; no series has them.
func injectionTargets(web analysis.Target) []analysis.Target {
	var out []analysis.Target
	for _, ns := range []string{
		`shop",namespace=~".+`,
		`shop"} or vector(1e9) or up{a="`,
		`shop\`,
		"shop\"\n,namespace=~\".+",
		"shop\xff",
		"shop}",
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

func seriesOf(pod, ns, ingress, canary, status string) nginxSeries {
	return nginxSeries{pod: pod, namespace: ns, ingress: ingress, canary: canary, status: status}
}

// oddSeries are canary series whose label values would break out of a badly
// quoted matcher; each gets its own in-window traffic. The last one first
// appears inside the window.
func oddSeries() []struct {
	namespace, ingress, canary string
	ok, errors                 int
} {
	return []struct {
		namespace, ingress, canary string
		ok, errors                 int
	}{
		{evilNamespace, "web", "shop-web-v2-80", 30, 3},
		{"shop", `web"} or vector(1) or {a="`, `shop-{web}-v2\80`, 7, 0},
		{`shop\`, "web\n", `x"}`, 11, 1},
	}
}

func bulkTarget(i int, since, until time.Time) analysis.Target {
	name := fmt.Sprintf("app%03d", i)
	return analysis.Target{Namespace: "bulk", Ingress: name, CanaryUpstream: "bulk-" + name + "-v2-80", Since: since, Until: until}
}

// bulkWindow is what bulk Ingress i serves inside the window (see inWindow).
func bulkWindow(i int) analysis.Measurement {
	return analysis.Measurement{
		Canary: analysis.Side{Requests: float64(i + 1 + i%4), Errors: float64(i % 4)},
		Stable: analysis.Side{Requests: float64(5*(i+1) + i%3)},
	}
}

// history gives every series but the last odd one a large starting value, with
// all latencies in the lowest bucket. Large values keep increase() from limiting
// its extrapolation where a counter would reach zero, which would give buckets of
// one series different factors.
func history(n *fakeNginx) func() {
	return func() {
		for _, pod := range []string{"a", "b"} {
			for _, ic := range [][2]string{{"web", "shop-web-v2-80"}, {"web", "shop-web-v3-80"}, {"web", ""}, {"api", "shop-api-v2-80"}, {"api", ""}} {
				n.serve(seriesOf(pod, "shop", ic[0], ic[1], "200"), 1000, 0.01)
				n.serve(seriesOf(pod, "shop", ic[0], ic[1], "500"), 100, 0.01)
			}
		}
		for i := range bulkIngresses {
			b := bulkTarget(i, time.Time{}, time.Time{})
			for _, canary := range []string{b.CanaryUpstream, ""} {
				n.serve(seriesOf("a", b.Namespace, b.Ingress, canary, "200"), 1000, 0.01)
				n.serve(seriesOf("a", b.Namespace, b.Ingress, canary, "500"), 10, 0.01)
			}
		}
		for _, s := range oddSeries()[:2] {
			n.serve(seriesOf("a", s.namespace, s.ingress, s.canary, "200"), 1000, 0.01)
			n.serve(seriesOf("a", s.namespace, s.ingress, s.canary, "500"), 100, 0.01)
		}
	}
}

// beforeWindow is a burst of slow errors on both sides of web, on both pods,
// before since.
func beforeWindow(n *fakeNginx) func() {
	return func() {
		n.serve(seriesOf("a", "shop", "web", "shop-web-v2-80", "500"), 5000, 5)
		n.serve(seriesOf("a", "shop", "web", "", "500"), 5000, 5)
		n.serve(seriesOf("b", "shop", "web", "", "500"), 500, 5)
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
// The v3 canary (100 on a), the other Ingress (5000 slow errors a side, which
// must not count), the bulk Ingresses and the odd series complete it.
func inWindow(n *fakeNginx) func() {
	return func() {
		n.restart("b")
		n.serve(seriesOf("a", "shop", "web", "shop-web-v2-80", "200"), 150, 0.075)
		n.serve(seriesOf("a", "shop", "web", "shop-web-v2-80", "500"), 10, 0.3)
		n.serve(seriesOf("b", "shop", "web", "shop-web-v2-80", "200"), 40, 0.2)

		n.serve(seriesOf("a", "shop", "web", "", "200"), 778, 0.04)
		n.serve(seriesOf("a", "shop", "web", "", "200"), 20, 0.2)
		n.serve(seriesOf("a", "shop", "web", "", "500"), 2, 0.04)
		n.serve(seriesOf("b", "shop", "web", "", "200"), 200, 0.04)

		n.serve(seriesOf("a", "shop", "web", "shop-web-v3-80", "200"), 100, 0.04)
		n.serve(seriesOf("a", "shop", "api", "shop-api-v2-80", "500"), 5000, 5)
		n.serve(seriesOf("a", "shop", "api", "", "500"), 5000, 5)

		for i := range bulkIngresses {
			b := bulkTarget(i, time.Time{}, time.Time{})
			n.serve(seriesOf("a", b.Namespace, b.Ingress, b.CanaryUpstream, "200"), i+1, 0.075)
			n.serve(seriesOf("a", b.Namespace, b.Ingress, b.CanaryUpstream, "500"), i%4, 0.3)
			n.serve(seriesOf("a", b.Namespace, b.Ingress, "", "200"), 5*(i+1), 0.04)
			n.serve(seriesOf("a", b.Namespace, b.Ingress, "", "200"), i%3, 0.2)
		}
		for _, s := range oddSeries() {
			n.serve(seriesOf("a", s.namespace, s.ingress, s.canary, "200"), s.ok, 0.075)
			n.serve(seriesOf("a", s.namespace, s.ingress, s.canary, "500"), s.errors, 0.075)
		}
	}
}

// exportPods serves each pod's metrics on its own loopback endpoint and returns
// their addresses.
func exportPods(t *testing.T, n *fakeNginx, pods ...string) []string {
	t.Helper()
	var addrs []string
	for _, pod := range pods {
		reg := prometheus.NewRegistry()
		reg.MustRegister(n.pod(pod))
		srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		t.Cleanup(srv.Close)
		addrs = append(addrs, srv.Listener.Addr().String())
	}
	return addrs
}

// waitForPods waits until Prometheus has scraped both pods' current totals.
func waitForPods(t *testing.T, promAPI v1.API, n *fakeNginx) {
	t.Helper()
	for _, pod := range []string{"a", "b"} {
		want := n.total(func(s nginxSeries) bool { return s.pod == pod })
		waitForValue(t, promAPI, fmt.Sprintf(`sum(nginx_ingress_controller_requests{controller_pod=%q})`, pod), want, 3*time.Second)
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

// startPrometheus runs Prometheus on a free loopback port, scraping targets
// every second, with its storage in a temporary directory. It is killed when
// the test ends.
func startPrometheus(t *testing.T, bin string, targets ...string) v1.API {
	t.Helper()
	dir := t.TempDir()
	config := "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: nginx\n    static_configs:\n      - targets:\n"
	for _, target := range targets {
		config += fmt.Sprintf("          - %q\n", target)
	}
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
