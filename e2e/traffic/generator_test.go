package traffic

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/e2e/testapp"
)

// startBackends serves the named testapp versions on loopback ports.
func startBackends(t *testing.T, names ...string) (*testapp.Server, map[string]*url.URL) {
	t.Helper()
	app := testapp.NewServer()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, app.Shutdown(ctx))
	})
	urls := map[string]*url.URL{}
	for _, name := range names {
		addr, err := app.Serve(name, "127.0.0.1:0")
		require.NoError(t, err)
		urls[name] = &url.URL{Scheme: "http", Host: addr}
	}
	return app, urls
}

// startSplitter stands in for nginx: it sends request n to targets[n % len],
// so repeating a target in the list gives it a weight, and counts are exact.
func startSplitter(t *testing.T, targets ...*url.URL) *httptest.Server {
	t.Helper()
	var n atomic.Int64
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(targets[(n.Add(1)-1)%int64(len(targets))])
	}}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	return front
}

func run(t *testing.T, cfg Config) (Counts, time.Duration) {
	t.Helper()
	g, err := New(cfg)
	require.NoError(t, err)
	start := time.Now()
	counts := g.Run(t.Context())
	return counts, time.Since(start)
}

func TestCountsPerVersionAndStatusAreExact(t *testing.T) {
	app, backends := startBackends(t, "web-v1", "web-v2")
	require.NoError(t, app.SetErrorRate("web-v2", 0.5))
	v1, v2 := backends["web-v1"], backends["web-v2"]
	front := startSplitter(t, v1, v1, v1, v2) // 3:1

	counts, _ := run(t, Config{URL: front.URL + "/", RPS: 1000, Concurrency: 4, MaxRequests: 40, MaxDuration: 10 * time.Second})

	assert.Equal(t, Counts{
		Total:      40,
		ByVersion:  map[string]int{"web-v1": 30, "web-v2": 10},
		ByStatus:   map[int]int{200: 35, 500: 5},
		NonSuccess: 5,
	}, counts)
	assert.Equal(t, 0.75, counts.Share("web-v1"))
	versions := app.Versions()
	assert.Equal(t, int64(30), versions[0].Requests, "the backend saw exactly what was counted")
	assert.Equal(t, int64(10), versions[1].Requests)
}

func TestMaxRequestsStopsTheRun(t *testing.T) {
	_, backends := startBackends(t, "web-v1")
	counts, elapsed := run(t, Config{URL: backends["web-v1"].String(), RPS: 500, Concurrency: 3, MaxRequests: 25, MaxDuration: 10 * time.Second})
	assert.Equal(t, 25, counts.Total)
	assert.Less(t, elapsed, 2*time.Second)
}

func TestRunEndsWithTheLastRequestNotLaterTicks(t *testing.T) {
	_, backends := startBackends(t, "web-v1")
	// At 5 rps the 2nd request starts at 200 ms. Idle workers then hold
	// reservations for 400 and 600 ms; the run must not wait for them.
	counts, elapsed := run(t, Config{URL: backends["web-v1"].String(), RPS: 5, Concurrency: 4, MaxRequests: 2, MaxDuration: 10 * time.Second})
	assert.Equal(t, 2, counts.Total)
	assert.Less(t, elapsed, 380*time.Millisecond)
}

func TestMaxDurationStopsTheRun(t *testing.T) {
	_, backends := startBackends(t, "web-v1")
	counts, elapsed := run(t, Config{URL: backends["web-v1"].String(), RPS: 50, Concurrency: 2, MaxRequests: 1_000_000, MaxDuration: 300 * time.Millisecond})
	// 50 rps for 0.3 s with a burst of one: the first at once, then one every
	// 20 ms, so 16 at most; fewer only if this machine is very slow.
	assert.LessOrEqual(t, counts.Total, 16)
	assert.GreaterOrEqual(t, counts.Total, 8)
	assert.GreaterOrEqual(t, elapsed, 250*time.Millisecond)
	assert.Less(t, elapsed, time.Second)
}

func TestRateIsPaced(t *testing.T) {
	_, backends := startBackends(t, "web-v1")
	counts, elapsed := run(t, Config{URL: backends["web-v1"].String(), RPS: 100, Concurrency: 4, MaxRequests: 21, MaxDuration: 10 * time.Second})
	require.Equal(t, 21, counts.Total)
	// 21 requests at 100 rps take 200 ms after the first, however many workers there are.
	assert.GreaterOrEqual(t, elapsed, 180*time.Millisecond)
	assert.Less(t, elapsed, time.Second)
}

func TestSlowBackendIsNotFloodedWithBacklog(t *testing.T) {
	app, backends := startBackends(t, "web-v1")
	require.NoError(t, app.SetLatency("web-v1", 200*time.Millisecond))
	counts, elapsed := run(t, Config{URL: backends["web-v1"].String(), RPS: 1000, Concurrency: 1, MaxRequests: 1000, MaxDuration: 500 * time.Millisecond})
	// One worker and 200 ms per answer allow 3 requests in 0.5 s (the last
	// finishes after the bound); a queued design would go on to send hundreds.
	assert.LessOrEqual(t, counts.Total, 3)
	assert.GreaterOrEqual(t, counts.Total, 2)
	assert.Less(t, elapsed, 900*time.Millisecond)
}

func TestContextEndsTheRun(t *testing.T) {
	_, backends := startBackends(t, "web-v1")
	g, err := New(Config{URL: backends["web-v1"].String(), RPS: 20, MaxRequests: 1000, MaxDuration: time.Minute})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	counts := g.Run(ctx)
	assert.Less(t, time.Since(start), time.Second)
	assert.LessOrEqual(t, counts.Total, 5, "20 rps for 0.2 s")
	assert.GreaterOrEqual(t, counts.Total, 2)
	assert.Zero(t, counts.TransportErrors, "requests cut by the caller's context are not counted as errors")
}

func TestTransportErrorsAreCounted(t *testing.T) {
	closed := closedLoopbackURL(t)
	counts, _ := run(t, Config{URL: closed, RPS: 1000, MaxRequests: 5, MaxDuration: 5 * time.Second})
	assert.Equal(t, Counts{Total: 5, ByVersion: map[string]int{}, ByStatus: map[int]int{}, TransportErrors: 5, NonSuccess: 5}, counts)
}

func TestTimeoutIsATransportError(t *testing.T) {
	app, backends := startBackends(t, "web-v1")
	require.NoError(t, app.SetLatency("web-v1", time.Second))
	counts, elapsed := run(t, Config{URL: backends["web-v1"].String(), RPS: 1000, Concurrency: 2, MaxRequests: 2, MaxDuration: 5 * time.Second, Timeout: 50 * time.Millisecond})
	assert.Equal(t, 2, counts.TransportErrors)
	assert.Less(t, elapsed, 500*time.Millisecond)
}

func TestHostHeaderAndCookieAreSent(t *testing.T) {
	type seen struct{ host, canary, cookie string }
	var mu sync.Mutex
	var got []seen
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookie, _ := r.Cookie("canary")
		mu.Lock()
		got = append(got, seen{host: r.Host, canary: r.Header.Get("X-Canary"), cookie: cookie.String()})
		mu.Unlock()
	}))
	defer backend.Close()

	counts, _ := run(t, Config{
		URL: backend.URL + "/", Host: "demo.local", RPS: 1000, MaxRequests: 3, MaxDuration: 5 * time.Second,
		Header:  http.Header{"X-Canary": {"always"}},
		Cookies: []*http.Cookie{{Name: "canary", Value: "always"}},
	})
	require.Equal(t, 3, counts.Total)
	assert.Equal(t, map[string]int{"": 3}, counts.ByVersion, "a response without X-Version counts under \"\"")
	want := seen{host: "demo.local", canary: "always", cookie: "canary=always"}
	assert.Equal(t, []seen{want, want, want}, got)
}

func TestRedirectsAreCountedNotFollowed(t *testing.T) {
	backend := httptest.NewServer(http.RedirectHandler("https://127.0.0.1:1/", http.StatusPermanentRedirect))
	defer backend.Close()
	counts, _ := run(t, Config{URL: backend.URL, RPS: 1000, MaxRequests: 2, MaxDuration: 5 * time.Second})
	assert.Equal(t, map[int]int{308: 2}, counts.ByStatus)
	assert.Equal(t, 2, counts.NonSuccess)
}

func TestSnapshotWhileRunning(t *testing.T) {
	_, backends := startBackends(t, "web-v1")
	g, err := New(Config{URL: backends["web-v1"].String(), RPS: 200, Concurrency: 4, MaxRequests: 60, MaxDuration: 5 * time.Second})
	require.NoError(t, err)

	done := make(chan Counts)
	go func() { done <- g.Run(t.Context()) }()
	var snapshots []Counts
	var final Counts
	for running := true; running; {
		select {
		case final = <-done:
			running = false
		case <-time.After(5 * time.Millisecond):
			snap := g.Snapshot()
			snap.ByVersion["scribble"] = 1 // a snapshot is a copy; this must not reach the generator
			snapshots = append(snapshots, snap)
		}
	}

	require.Greater(t, len(snapshots), 5, "the run lasts about 300 ms")
	for i := 1; i < len(snapshots); i++ {
		assert.GreaterOrEqual(t, snapshots[i].Total, snapshots[i-1].Total, "totals never go back")
	}
	assert.Less(t, snapshots[len(snapshots)/2].Total, 60, "mid-run snapshots show progress, not only the end")
	assert.Equal(t, Counts{Total: 60, ByVersion: map[string]int{"web-v1": 60}, ByStatus: map[int]int{200: 60}}, final)
	assert.Equal(t, final, g.Snapshot())
}

// closedLoopbackURL returns a loopback URL where nothing listens.
func closedLoopbackURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr + "/"
}
