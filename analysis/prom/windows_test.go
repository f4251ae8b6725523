package prom

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// fakeCounters answers the three snapshot queries from a function of time, and
// counts the queries. Only Query is implemented; Analyzer needs nothing else.
type fakeCounters struct {
	v1.API
	mu      sync.Mutex
	queries []time.Time
	// texts are the queries, in the same order.
	texts []string
	// answered counts the samples of every answer.
	answered int
	// at returns, per "namespace ingress canary [service]", requests and errors
	// at a time; canary "-" is stable.
	at func(t time.Time) map[string][2]float64
}

func (f *fakeCounters) Query(_ context.Context, q string, ts time.Time, _ ...v1.Option) (model.Value, v1.Warnings, error) {
	f.mu.Lock()
	f.queries, f.texts = append(f.queries, ts), append(f.texts, q)
	f.mu.Unlock()
	var vec model.Vector
	for key, v := range f.at(ts) {
		var ns, ing, canary, service string
		fmt.Sscanf(key, "%s %s %s %s", &ns, &ing, &canary, &service)
		if canary == "-" {
			canary = ""
		}
		m := model.Metric{"namespace": model.LabelValue(ns), "ingress": model.LabelValue(ing), "canary": model.LabelValue(canary), "instance": "pod-a"}
		if service != "" {
			m["service"] = model.LabelValue(service)
		}
		if !selects(q, "namespace", ns) || !selects(q, "ingress", ing) {
			continue
		}
		switch nginxQueryKind(q) {
		case "requests":
			vec = append(vec, &model.Sample{Metric: m, Value: model.SampleValue(v[0])})
		case "errors":
			vec = append(vec, &model.Sample{Metric: m, Value: model.SampleValue(v[1])})
		case "buckets":
			for _, le := range []string{"0.1", "+Inf"} {
				mm := m.Clone()
				mm["le"] = model.LabelValue(le)
				vec = append(vec, &model.Sample{Metric: mm, Value: model.SampleValue(v[0])})
			}
		}
	}
	f.mu.Lock()
	f.answered += len(vec)
	f.mu.Unlock()
	return vec, nil, nil
}

// nginxQueryKind says which of Nginx's three queries q is, for any groups.
func nginxQueryKind(q string) string {
	switch {
	case strings.Contains(q, nginxLatency):
		return "buckets"
	case strings.Contains(q, `status=~"5.."`):
		return "errors"
	case strings.HasPrefix(q, "sum by"):
		return "requests"
	}
	return ""
}

// selects applies q's regular-expression matcher on label, if it has one, to
// value, as Prometheus would (anchored).
func selects(q, label, value string) bool {
	_, rest, ok := strings.Cut(q, label+"=~")
	if !ok {
		return true
	}
	lit, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return false
	}
	pattern, _ := strconv.Unquote(lit)
	return regexp.MustCompile("^(?:" + pattern + ")$").MatchString(value)
}

func TestWindowsCountsOnlyTheStepAndBatchesQueries(t *testing.T) {
	// 10 canary requests per second, 1 % errors; stable 90 per second.
	fake := &fakeCounters{at: func(ts time.Time) map[string][2]float64 {
		s := ts.Sub(t0).Seconds()
		out := map[string][2]float64{}
		for i := range 50 {
			out[fmt.Sprintf("shop web%d shop-web%d-v2-80", i, i)] = [2]float64{10 * s, 0.1 * s}
			out[fmt.Sprintf("shop web%d -", i)] = [2]float64{90 * s, 0}
		}
		return out
	}}
	w := NewAnalyzer(fake, 2*time.Second, time.Second)
	since := t0.Add(60 * time.Second)
	th := analysis.Thresholds{MaxErrorRate: 0.05, LatencyQuantile: 0.99, MinRequests: 50}
	// The previous step passed at `since`: its analysis took a snapshot then.
	for i := range 50 {
		w.Analyze(context.Background(), analysis.Target{Namespace: "shop", Ingress: fmt.Sprintf("web%d", i), Since: t0, Until: since}, th)
	}
	// Ticks every 5 s in the new step; all 50 rollouts analysed each tick.
	var last analysis.Verdict
	for tick := since.Add(5 * time.Second); !tick.After(since.Add(60 * time.Second)); tick = tick.Add(5 * time.Second) {
		before := len(fake.queries)
		for i := range 50 {
			last = w.Analyze(context.Background(), analysis.Target{Namespace: "shop", Ingress: fmt.Sprintf("web%d", i), Since: since, Until: tick}, th)
		}
		assert.Equal(t, 3, len(fake.queries)-before, "one batch per tick, whatever the number of rollouts")
	}
	require.Equal(t, analysis.Pass, last.Outcome, last.Reason)
	assert.InDelta(t, 600, last.Measurement.Canary.Requests, 1e-9, "exactly the 60 s since the step started")
	assert.InDelta(t, 5400, last.Measurement.Stable.Requests, 1e-9)
	assert.InDelta(t, 0.01, last.Measurement.Canary.ErrorRate, 1e-12)
	assert.InDelta(t, 0.099, last.Measurement.Canary.LatencySeconds, 1e-9)
	assert.Equal(t, int64(len(fake.queries)), w.Queries())
}

func TestWindowsReadsTheStartAfterARestart(t *testing.T) {
	fake := &fakeCounters{at: func(ts time.Time) map[string][2]float64 {
		s := ts.Sub(t0).Seconds()
		return map[string][2]float64{"shop web shop-web-v2-80": {10 * s, 0}, "shop web -": {90 * s, 0}}
	}}
	w := NewAnalyzer(fake, 2*time.Second, time.Second)
	since := t0.Add(100 * time.Second)
	m, err := w.Measure(context.Background(), analysis.Target{Namespace: "shop", Ingress: "web", Since: since, Until: since.Add(30 * time.Second)}, analysis.Thresholds{LatencyQuantile: 0.99})
	require.NoError(t, err)
	assert.InDelta(t, 300, m.Canary.Requests, 1e-9)
	assert.Contains(t, fake.queries, since, "the window's start was read at Since")
}

func TestWindowsStartsAfterARestartAreShared(t *testing.T) {
	fake := &fakeCounters{at: func(ts time.Time) map[string][2]float64 {
		s := ts.Sub(t0).Seconds()
		return map[string][2]float64{"shop web shop-web-v2-80": {10 * s, 0}, "shop api shop-api-v2-80": {20 * s, 0}}
	}}
	w := NewAnalyzer(fake, 2*time.Second, time.Second)
	since := t0.Add(100 * time.Second)
	until := since.Add(time.Minute)
	measure := func(ingress string, since time.Time) analysis.Measurement {
		m, err := w.Measure(context.Background(), analysis.Target{Namespace: "shop", Ingress: ingress, Since: since, Until: until}, analysis.Thresholds{LatencyQuantile: 0.99})
		require.NoError(t, err)
		return m
	}
	assert.InDelta(t, 600, measure("web", since).Canary.Requests, 1e-9)
	// api's step began a second later, in the same controller tick: the start
	// read for web serves it, so the second before api's step counts too.
	assert.InDelta(t, 20*60, measure("api", since.Add(time.Second)).Canary.Requests, 1e-9)
	assert.Len(t, fake.queries, 6, "one refresh and one start read")
	// A step that began long before needs its own read.
	assert.InDelta(t, 20*180, measure("api", since.Add(-2*time.Minute)).Canary.Requests, 1e-9)
	assert.Len(t, fake.queries, 9)
}

// failingAPI fails every query, or blocks until the query's context ends.
type failingAPI struct {
	v1.API
	err     error
	block   bool
	answer  model.Value
	queries atomic.Int64
}

func (f *failingAPI) Query(ctx context.Context, _ string, _ time.Time, _ ...v1.Option) (model.Value, v1.Warnings, error) {
	f.queries.Add(1)
	if f.block {
		<-ctx.Done()
		return nil, nil, ctx.Err()
	}
	return f.answer, nil, f.err
}

func TestWindowsUnavailable(t *testing.T) {
	good := analysis.Target{Namespace: "shop", Ingress: "web", Since: t0, Until: t0.Add(time.Minute)}
	th := analysis.Thresholds{MaxErrorRate: 0.01, MinRequests: 1}
	tests := []struct {
		name        string
		api         *failingAPI
		target      analysis.Target
		wantReason  []string
		wantQueries int
	}{
		{"API error names the query", &failingAPI{err: errors.New("bad_data: parse error")}, good,
			[]string{"prometheus: query \"" + Nginx{}.Queries(nil).Requests + "\"", "bad_data: parse error"}, 1},
		{"not a vector", &failingAPI{answer: &model.Scalar{Value: 1}}, good,
			[]string{"want a vector, got scalar"}, 1},
		{"no answer and no error", &failingAPI{}, good,
			[]string{"no answer"}, 1},
		{"timeout", &failingAPI{block: true}, good,
			[]string{"context deadline exceeded"}, 1},
		{"no namespace", &failingAPI{}, analysis.Target{Ingress: "web", Since: t0, Until: t0.Add(time.Minute)},
			[]string{"prometheus: target has no namespace"}, 0},
		{"empty window", &failingAPI{}, analysis.Target{Namespace: "shop", Ingress: "web", Since: t0, Until: t0},
			[]string{"target window is empty"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			w := NewAnalyzer(tt.api, time.Second, 100*time.Millisecond)
			v := w.Analyze(context.Background(), tt.target, th)
			assert.Less(t, time.Since(start), 2*time.Second)
			w.settle()
			assert.Equal(t, analysis.Unavailable, v.Outcome)
			for _, want := range tt.wantReason {
				assert.Contains(t, v.Reason, want)
			}
			assert.Equal(t, int64(tt.wantQueries), tt.api.queries.Load(), "nothing more is asked after a failure")
		})
	}
}

func TestWindowsRejectsAQuantileOutOfRange(t *testing.T) {
	w := NewAnalyzer(&failingAPI{}, time.Second, time.Second)
	// 0 is the latency-quantile default (Thresholds.Quantile).
	for _, q := range []float64{-0.5, 1.5} {
		_, err := w.Measure(context.Background(), analysis.Target{Namespace: "shop", Ingress: "web", Since: t0, Until: t0.Add(time.Minute)}, analysis.Thresholds{LatencyQuantile: q})
		assert.ErrorContains(t, err, "not in (0, 1]")
	}
}

func TestAPIFor(t *testing.T) {
	_, err := APIFor("")
	assert.ErrorContains(t, err, "url is empty")
	_, err = APIFor("http://[::1")
	assert.Error(t, err)
	a, err := APIFor("http://prometheus.monitoring:9090")
	require.NoError(t, err)
	assert.NotNil(t, a)
}

// settle waits for the refresh in flight, if any, so that a test reads what it
// did.
func (w *Analyzer) settle() {
	w.mu.Lock()
	r := w.refreshing
	w.mu.Unlock()
	if r != nil {
		<-r.done
	}
}
