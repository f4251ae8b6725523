package analysis

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeAPI is an httptest server that speaks Prometheus's /api/v1/query with
// canned answers, keyed by the exact query text, and records what it was sent.
type fakeAPI struct {
	t       *testing.T
	answers map[string]answer
	// block makes every query wait for the client to give up.
	block bool

	mu    sync.Mutex
	sent  []string
	times []string
}

type answer struct {
	code int
	body string
}

// vector is a successful answer with one sample of value v ("NaN" allowed).
func vector(v string) answer {
	return answer{http.StatusOK, fmt.Sprintf(
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1800000300.25,%q]}]}}`, v)}
}

var (
	emptyVector = answer{http.StatusOK, `{"status":"success","data":{"resultType":"vector","result":[]}}`}
	badData     = answer{http.StatusBadRequest, `{"status":"error","errorType":"bad_data","error":"parse error at char 3"}`}
)

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/query" {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q := r.Form.Get("query")
	f.mu.Lock()
	f.sent = append(f.sent, q)
	f.times = append(f.times, r.Form.Get("time"))
	f.mu.Unlock()
	if f.block {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return
	}
	a, ok := f.answers[q]
	if !ok {
		f.t.Errorf("unexpected query %s", q)
		a = badData
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.code)
	_, _ = w.Write([]byte(a.body))
}

func (f *fakeAPI) queries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}

// startFake serves f and returns a Prometheus that queries it.
func startFake(t *testing.T, f *fakeAPI, timeout time.Duration) *Prometheus {
	t.Helper()
	f.t = t
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	p, err := NewFromURL(srv.URL, timeout)
	require.NoError(t, err)
	return p
}

var (
	fakeTarget = Target{Namespace: "shop", Ingress: "web", CanaryUpstream: "shop-web-v2-80", Since: testSince, Until: testUntil}
	canaryQs   = mustQueries(fakeTarget, canarySide, 0.99)
	stableQs   = mustQueries(fakeTarget, stableSide, 0.99)
)

func mustQueries(t Target, s side, q float64) sideQueries {
	qs, err := buildQueries(t, s, q)
	if err != nil {
		panic(err)
	}
	return qs
}

// answersFor returns answers for all six queries: canary then stable, each
// requests, errors, latency.
func answersFor(c, s [3]answer) map[string]answer {
	return map[string]answer{
		canaryQs.Requests: c[0], canaryQs.Errors: c[1], canaryQs.Latency: c[2],
		stableQs.Requests: s[0], stableQs.Errors: s[1], stableQs.Latency: s[2],
	}
}

func TestMeasureSendsQueriesAndParsesVectors(t *testing.T) {
	f := &fakeAPI{answers: answersFor(
		[3]answer{vector("1000"), vector("42"), vector("0.412")},
		[3]answer{vector("9000"), vector("9"), vector("0.08")},
	)}
	p := startFake(t, f, 5*time.Second)

	m, err := p.Measure(context.Background(), fakeTarget, 0.99)
	require.NoError(t, err)

	assert.Equal(t, Measurement{
		Canary: Side{Requests: 1000, Errors: 42, ErrorRate: 0.042, LatencySeconds: 0.412},
		Stable: Side{Requests: 9000, Errors: 9, ErrorRate: 0.001, LatencySeconds: 0.08},
	}, m)
	assert.Equal(t, []string{
		`sum(increase(nginx_ingress_controller_requests{namespace="shop",ingress="web",canary="shop-web-v2-80"}[301s] @ 1800000300.250))`,
		`sum(increase(nginx_ingress_controller_requests{namespace="shop",ingress="web",canary="shop-web-v2-80",status=~"5.."}[301s] @ 1800000300.250))`,
		`histogram_quantile(0.99, sum by (le) (increase(nginx_ingress_controller_request_duration_seconds_bucket{namespace="shop",ingress="web",canary="shop-web-v2-80"}[301s] @ 1800000300.250)))`,
		`sum(increase(nginx_ingress_controller_requests{namespace="shop",ingress="web",canary=""}[301s] @ 1800000300.250))`,
		`sum(increase(nginx_ingress_controller_requests{namespace="shop",ingress="web",canary="",status=~"5.."}[301s] @ 1800000300.250))`,
		`histogram_quantile(0.99, sum by (le) (increase(nginx_ingress_controller_request_duration_seconds_bucket{namespace="shop",ingress="web",canary=""}[301s] @ 1800000300.250)))`,
	}, f.queries())
	for _, ts := range f.times {
		assert.Equal(t, "1800000300.25", ts, "queries are evaluated at Until")
	}
}

func TestMeasureEmptyAndNaN(t *testing.T) {
	tests := []struct {
		name string
		c, s [3]answer
		want Measurement
	}{
		{
			name: "empty results are no requests and unknown latency",
			c:    [3]answer{emptyVector, emptyVector, emptyVector},
			s:    [3]answer{emptyVector, emptyVector, emptyVector},
			want: Measurement{Canary: Side{LatencySeconds: -1}, Stable: Side{LatencySeconds: -1}},
		},
		{
			name: "requests without errors: the errors series is absent",
			c:    [3]answer{vector("120"), emptyVector, vector("0.05")},
			s:    [3]answer{vector("880"), emptyVector, vector("0.04")},
			want: Measurement{
				Canary: Side{Requests: 120, LatencySeconds: 0.05},
				Stable: Side{Requests: 880, LatencySeconds: 0.04},
			},
		},
		{
			name: "NaN latency is unknown",
			c:    [3]answer{vector("120"), vector("0"), vector("NaN")},
			s:    [3]answer{vector("0"), vector("0"), vector("NaN")},
			want: Measurement{Canary: Side{Requests: 120, LatencySeconds: -1}, Stable: Side{LatencySeconds: -1}},
		},
		{
			name: "infinite latency is unknown",
			c:    [3]answer{vector("120"), vector("0"), vector("+Inf")},
			s:    [3]answer{vector("10"), vector("0"), vector("0.1")},
			want: Measurement{Canary: Side{Requests: 120, LatencySeconds: -1}, Stable: Side{Requests: 10, LatencySeconds: 0.1}},
		},
		{
			name: "fractional counts from extrapolation are kept",
			c:    [3]answer{vector("100.5"), vector("2.01"), vector("0.1")},
			s:    [3]answer{vector("0"), vector("0"), vector("NaN")},
			want: Measurement{Canary: Side{Requests: 100.5, Errors: 2.01, ErrorRate: 0.02, LatencySeconds: 0.1}, Stable: Side{LatencySeconds: -1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startFake(t, &fakeAPI{answers: answersFor(tt.c, tt.s)}, 5*time.Second)
			m, err := p.Measure(context.Background(), fakeTarget, 0.99)
			require.NoError(t, err)
			assert.InDelta(t, tt.want.Canary.ErrorRate, m.Canary.ErrorRate, 1e-12)
			tt.want.Canary.ErrorRate = m.Canary.ErrorRate
			assert.Equal(t, tt.want, m)
		})
	}
}

func TestMeasureErrors(t *testing.T) {
	multi := answer{http.StatusOK, `{"status":"success","data":{"resultType":"vector","result":[` +
		`{"metric":{"pod":"a"},"value":[1800000300.25,"1"]},{"metric":{"pod":"b"},"value":[1800000300.25,"2"]}]}}`}
	scalar := answer{http.StatusOK, `{"status":"success","data":{"resultType":"scalar","result":[1800000300.25,"1"]}}`}
	serverError := answer{http.StatusServiceUnavailable, "overloaded"}
	ok := vector("1")

	tests := []struct {
		name    string
		c, s    [3]answer
		wantErr []string
	}{
		{"API error names the query", [3]answer{badData, ok, ok}, [3]answer{ok, ok, ok},
			[]string{`query "sum(increase(nginx_ingress_controller_requests{namespace=\"shop\"`, "bad_data", "parse error at char 3"}},
		{"HTTP 503", [3]answer{ok, ok, ok}, [3]answer{ok, serverError, ok},
			[]string{`canary=\"\",status=~\"5..\"`, "server error: 503"}},
		{"several samples", [3]answer{ok, multi, ok}, [3]answer{ok, ok, ok},
			[]string{"got 2 samples, want at most one"}},
		{"not a vector", [3]answer{ok, ok, scalar}, [3]answer{ok, ok, ok},
			[]string{"histogram_quantile", "got a scalar, want a vector"}},
		{"negative count", [3]answer{vector("-1"), ok, ok}, [3]answer{ok, ok, ok},
			[]string{"count is -1"}},
		{"NaN count", [3]answer{vector("NaN"), ok, ok}, [3]answer{ok, ok, ok},
			[]string{"count is NaN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startFake(t, &fakeAPI{answers: answersFor(tt.c, tt.s)}, 5*time.Second)

			_, err := p.Measure(context.Background(), fakeTarget, 0.99)
			require.Error(t, err)
			for _, want := range tt.wantErr {
				assert.Contains(t, err.Error(), want)
			}

			v := p.Analyze(context.Background(), fakeTarget, Thresholds{MaxErrorRate: 0.01, MinRequests: 1})
			assert.Equal(t, Unavailable, v.Outcome)
			assert.Equal(t, "prometheus: "+err.Error(), v.Reason)
		})
	}
}

func TestAnalyzeTimeoutIsUnavailable(t *testing.T) {
	f := &fakeAPI{block: true}
	p := startFake(t, f, 100*time.Millisecond)

	start := time.Now()
	v := p.Analyze(context.Background(), fakeTarget, Thresholds{MaxErrorRate: 0.01, MinRequests: 1})

	assert.Less(t, time.Since(start), 3*time.Second, "the timeout must cut the query short")
	assert.Equal(t, Unavailable, v.Outcome)
	assert.Contains(t, v.Reason, "context deadline exceeded")
	assert.Contains(t, v.Reason, `query "sum(increase(`)
	assert.Len(t, f.queries(), 1, "nothing more is asked after a timeout")
}

func TestAnalyzeCancelledIsUnavailable(t *testing.T) {
	p := startFake(t, &fakeAPI{block: true}, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	v := p.Analyze(ctx, fakeTarget, Thresholds{MaxErrorRate: 0.01, MinRequests: 1})

	assert.Equal(t, Unavailable, v.Outcome)
	assert.Contains(t, v.Reason, "context canceled")
}

func TestAnalyzeUnreachableIsUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // Nothing listens there any more.
	p, err := NewFromURL(url, time.Second)
	require.NoError(t, err)

	v := p.Analyze(context.Background(), fakeTarget, Thresholds{MaxErrorRate: 0.01, MinRequests: 1})

	assert.Equal(t, Unavailable, v.Outcome)
	assert.Contains(t, v.Reason, "connection refused")
}

func TestAnalyzeInvalidTargetIsUnavailable(t *testing.T) {
	f := &fakeAPI{}
	p := startFake(t, f, time.Second)
	bad := fakeTarget
	bad.Namespace = ""

	v := p.Analyze(context.Background(), bad, Thresholds{MaxErrorRate: 0.01, MinRequests: 1})

	assert.Equal(t, Unavailable, v.Outcome)
	assert.Equal(t, "prometheus: canary queries: target has no namespace", v.Reason)
	assert.Empty(t, f.queries())
}

func TestAnalyzeJudges(t *testing.T) {
	healthy := [3]answer{vector("1000"), vector("1"), vector("0.1")}
	stable := [3]answer{vector("9000"), vector("9"), vector("0.08")}
	th := Thresholds{MaxErrorRate: 0.01, MaxLatency: 250 * time.Millisecond, LatencyQuantile: 0.99, MinRequests: 50}

	tests := []struct {
		name   string
		canary [3]answer
		want   Outcome
	}{
		{"pass", healthy, Pass},
		{"errors fail", [3]answer{vector("1000"), vector("42"), vector("0.1")}, Fail},
		{"slow fails", [3]answer{vector("1000"), vector("0"), vector("0.412")}, Fail},
		{"too little traffic holds", [3]answer{vector("12"), vector("0"), vector("0.1")}, NoData},
		{"no buckets holds when gated", [3]answer{vector("1000"), vector("0"), vector("NaN")}, NoData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startFake(t, &fakeAPI{answers: answersFor(tt.canary, stable)}, 5*time.Second)
			v := p.Analyze(context.Background(), fakeTarget, th)
			assert.Equal(t, tt.want, v.Outcome, v.Reason)
			assert.Equal(t, 9000.0, v.Measurement.Stable.Requests)
		})
	}
}

func TestAnalyzeDefaultsTheQuantile(t *testing.T) {
	f := &fakeAPI{answers: answersFor(
		[3]answer{vector("1000"), vector("1"), vector("0.1")},
		[3]answer{vector("9000"), vector("9"), vector("0.08")},
	)}
	p := startFake(t, f, 5*time.Second)

	v := p.Analyze(context.Background(), fakeTarget, Thresholds{MaxErrorRate: 0.01, MinRequests: 50})

	assert.Equal(t, Pass, v.Outcome, v.Reason)
	assert.Contains(t, f.queries()[2], "histogram_quantile(0.99, ")
}

func TestNewFromURL(t *testing.T) {
	_, err := NewFromURL("", time.Second)
	assert.ErrorContains(t, err, "url is empty")
	_, err = NewFromURL("http://[::1", time.Second)
	assert.Error(t, err)
}
