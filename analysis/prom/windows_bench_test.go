package prom

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// Scale of BenchmarkWindows: ingress-nginx's default buckets, two nginx pods, and
// a canary and a stable series per Ingress and pod.
const (
	benchIngresses = 10_000
	benchRollouts  = 1_000
	benchPods      = 2
	benchTick      = 5 * time.Second
)

var benchBuckets = []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}

// bigCounters answers the three snapshot queries for benchIngresses Ingresses
// with counters that grow with time. The answers are built once and their
// values rewritten in place, so the benchmark measures Analyzer rather than the
// fake. A real client also decodes the JSON answers, which this leaves out.
type bigCounters struct {
	v1.API
	queries atomic.Int64
	answers map[string]model.Vector
	// rate of each sample per second, parallel to answers.
	rates map[string][]float64
}

func newBigCounters() *bigCounters {
	f := &bigCounters{answers: map[string]model.Vector{}, rates: map[string][]float64{}}
	for i := range benchIngresses {
		ns, ing := benchIngress(i)
		for pod := range benchPods {
			for _, canary := range []string{"", ns + "-" + ing + "-v2-80"} {
				m := model.Metric{"namespace": model.LabelValue(ns), "ingress": model.LabelValue(ing), "canary": model.LabelValue(canary), "instance": model.LabelValue(fmt.Sprintf("10.0.0.%d:10254", pod))}
				f.add(Nginx{}.Queries(nil).Requests, m, 10)
				f.add(Nginx{}.Queries(nil).Errors, m, 0.1)
				for b, le := range benchBuckets {
					mm := m.Clone()
					mm["le"] = model.LabelValue(le)
					f.add(Nginx{}.Queries(nil).Buckets, mm, 10*float64(b+1)/float64(len(benchBuckets)))
				}
			}
		}
	}
	return f
}

func (f *bigCounters) add(q string, m model.Metric, rate float64) {
	f.answers[q] = append(f.answers[q], &model.Sample{Metric: m})
	f.rates[q] = append(f.rates[q], rate)
}

func (f *bigCounters) Query(_ context.Context, q string, ts time.Time, _ ...v1.Option) (model.Value, v1.Warnings, error) {
	f.queries.Add(1)
	vec, ok := f.answers[q]
	if !ok {
		return nil, nil, fmt.Errorf("unexpected query %q", q)
	}
	s := ts.Sub(t0).Seconds()
	for i, sample := range vec {
		sample.Value = model.SampleValue(f.rates[q][i] * s)
	}
	return vec, nil, nil
}

func benchIngress(i int) (namespace, ingress string) {
	return "team" + strconv.Itoa(i/100), "app" + strconv.Itoa(i%100)
}

// BenchmarkWindows measures one analysis tick of benchRollouts rollouts over
// benchIngresses Ingresses: "steady" is a tick inside open windows (one refresh
// of the shared snapshot, every window measured and judged); "after-restart" is
// the first tick of a new Analyzer, whose windows started at four different
// times, so their starts are read at Since (rollouts that started together share
// the read).
func BenchmarkWindows(b *testing.B) {
	fake := newBigCounters()
	targets := make([]analysis.Target, benchRollouts)
	for r := range targets {
		ns, ing := benchIngress(r * benchIngresses / benchRollouts)
		targets[r] = analysis.Target{Namespace: ns, Ingress: ing, CanaryUpstream: ns + "-" + ing + "-v2-80"}
	}
	th := analysis.Thresholds{MaxErrorRate: 0.05, LatencyQuantile: 0.99, MinRequests: 50}
	tick := func(b *testing.B, w *Analyzer, since func(r int) time.Time, now time.Time) {
		for r, t := range targets {
			t.Since, t.Until = since(r), now
			if v := w.Analyze(context.Background(), t, th); v.Outcome == analysis.Unavailable {
				b.Fatal(v.Reason)
			}
		}
	}
	measure := func(b *testing.B, run func()) {
		before, ticks := fake.queries.Load(), 0
		b.ReportAllocs()
		for b.Loop() {
			run()
			ticks++
		}
		b.ReportMetric(float64(fake.queries.Load()-before)/float64(ticks), "queries/tick")
	}

	b.Run("steady", func(b *testing.B) {
		w := NewAnalyzer(fake, benchTick/2, 0)
		// The previous step passes and every rollout's step starts at since; the
		// first tick after it keeps each window's starting series.
		now := t0.Add(time.Hour)
		since := now
		at := func(int) time.Time { return since }
		tick(b, w, func(int) time.Time { return since.Add(-time.Minute) }, since)
		now = now.Add(benchTick)
		tick(b, w, at, now)
		measure(b, func() {
			now = now.Add(benchTick)
			tick(b, w, at, now)
		})
	})

	b.Run("after-restart", func(b *testing.B) {
		now := t0.Add(time.Hour)
		// Steps started at one of four ticks; the rollouts come round-robin.
		at := func(r int) time.Time { return now.Add(-time.Duration(1+r%keepStarts) * benchTick) }
		measure(b, func() {
			tick(b, NewAnalyzer(fake, benchTick/2, 0), at, now)
		})
	})
}
