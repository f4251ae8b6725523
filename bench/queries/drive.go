package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/analysis/prom"
)

// countingAPI passes queries on to Prometheus and counts them and the series
// of their answers: how much Prometheus had to send back.
type countingAPI struct {
	v1.API
	queries, series atomic.Int64

	mu sync.Mutex
	at []time.Time // the evaluation time of every query, in order
}

// Query implements v1.API's Query, the only call analysis makes.
func (c *countingAPI) Query(ctx context.Context, q string, ts time.Time, opts ...v1.Option) (model.Value, v1.Warnings, error) {
	v, w, err := c.API.Query(ctx, q, ts, opts...)
	c.queries.Add(1)
	if vec, ok := v.(model.Vector); ok {
		c.series.Add(int64(len(vec)))
	}
	c.mu.Lock()
	c.at = append(c.at, ts)
	c.mu.Unlock()
	return v, w, err
}

// sentAt counts the queries evaluated at one of the times in at.
func (c *countingAPI) sentAt(at map[time.Time]bool) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, ts := range c.at {
		if at[ts] {
			n++
		}
	}
	return n
}

// thresholds are a window's limits at the annotations' defaults (1 % 5xx, 50
// canary requests; annotations.SpecKeys), with latency gated at p99 500 ms.
var thresholds = analysis.Thresholds{MaxErrorRate: 0.01, MaxLatency: 500 * time.Millisecond, LatencyQuantile: 0.99, MinRequests: 50}

// interimConfidence is the controller's confidence for a look at a window
// that is not yet due (controller/sync.go).
const interimConfidence = 0.9999

// window is one rollout's open step window, as its status annotation holds it.
type window struct {
	target    analysis.Target // Since is StepStarted
	nextCheck time.Time
}

// Fleet is one controller's active rollouts, analysed through its own
// prom.Analyzer.
type Fleet struct {
	api      *countingAPI
	analyzer *prom.Analyzer
	windows  []window
	tick     time.Duration
	interval time.Duration
	timeout  time.Duration
}

// TickStats is what one tick of one fleet cost and decided.
type TickStats struct {
	Analysed, Opened int
	Queries, Series  int64
	Wall             time.Duration
	Outcomes         map[analysis.Outcome]int
	// StartReads are the queries that read a window's start at Since; only
	// Restart counts them.
	StartReads int64
}

// NewFleet makes a fleet of rollouts with a new analyzer, configured as
// cmd/ingress-canary configures it: fresh is half the tick.
func NewFleet(promAPI v1.API, rollouts []Rollout, tick, interval, timeout time.Duration) *Fleet {
	f := &Fleet{api: &countingAPI{API: promAPI}, tick: tick, interval: interval, timeout: timeout}
	f.analyzer = prom.NewAnalyzer(f.api, tick/2, timeout)
	for _, r := range rollouts {
		f.windows = append(f.windows, window{target: analysis.Target{Namespace: r.Namespace, Ingress: r.Ingress, CanaryUpstream: r.CanaryUpstream}})
	}
	return f
}

// Open is the first tick: every rollout's previous step passes and its window
// opens. That analysis's own window is made to start within fresh of now, so
// it reads no older snapshot (after a restart it would; see Restart). The
// windows' first checks are spread over one interval, so that at every later
// tick some windows are due and new ones open, as in a fleet of rollouts
// started at different times.
func (f *Fleet) Open(ctx context.Context) TickStats {
	return f.measure(func() (opened int, outcomes map[analysis.Outcome]int) {
		outcomes = map[analysis.Outcome]int{}
		steps := max(1, int(f.interval/f.tick))
		for i := range f.windows {
			w := &f.windows[i]
			now := time.Now()
			w.target.Since, w.target.Until = now.Add(-f.tick/4), now
			outcomes[f.analyzer.Analyze(ctx, w.target, thresholds).Outcome]++
			// Half a tick early, so that the check is due at its tick
			// however late in the tick this rollout's turn comes.
			w.target.Since, w.nextCheck = now, now.Add(time.Duration(1+i%steps)*f.tick-f.tick/2)
		}
		return len(f.windows), outcomes
	})
}

// Tick analyses every open window once, as the controller does at each
// --analysis-tick: Since is the step's start, Until is now. A due window is
// judged and a new one opens from now, whatever the verdict: the next step
// (Pass), the same step again (NoData), or the Ingress's next rollout after a
// promotion or rollback, which keeps the number of active rollouts constant.
func (f *Fleet) Tick(ctx context.Context) TickStats {
	return f.measure(func() (opened int, outcomes map[analysis.Outcome]int) {
		outcomes = map[analysis.Outcome]int{}
		for i := range f.windows {
			w := &f.windows[i]
			now := time.Now()
			w.target.Until = now
			th := thresholds
			due := !now.Before(w.nextCheck)
			if !due {
				th.Confidence = interimConfidence
			}
			outcomes[f.analyzer.Analyze(ctx, w.target, th).Outcome]++
			if due {
				w.target.Since, w.nextCheck = now, now.Add(f.interval-f.tick/2)
				opened++
			}
		}
		return opened, outcomes
	})
}

// Restart analyses the first n open windows with a new analyzer, as a
// restarted controller does: it has no snapshot near any window's start, so
// it reads one at Since (windows that began together may share it). Call it
// at least fresh after the last tick.
func (f *Fleet) Restart(ctx context.Context, n int) TickStats {
	restarted := NewFleet(f.api.API, nil, f.tick, f.interval, f.timeout)
	restarted.windows = f.windows[:min(n, len(f.windows))]
	since := map[time.Time]bool{}
	for _, w := range restarted.windows {
		since[w.target.Since] = true
	}
	st := restarted.measure(func() (int, map[analysis.Outcome]int) {
		outcomes := map[analysis.Outcome]int{}
		for _, w := range restarted.windows {
			w.target.Until = time.Now()
			outcomes[restarted.analyzer.Analyze(ctx, w.target, thresholds).Outcome]++
		}
		return 0, outcomes
	})
	st.StartReads = restarted.api.sentAt(since)
	return st
}

// measure runs one tick and takes its costs from the analyzer's own query
// counter, which the controller exports, and from the counting client.
func (f *Fleet) measure(tick func() (int, map[analysis.Outcome]int)) TickStats {
	q0, s0 := f.analyzer.Queries(), f.api.series.Load()
	began := time.Now()
	opened, outcomes := tick()
	return TickStats{
		Analysed: len(f.windows),
		Opened:   opened,
		Queries:  f.analyzer.Queries() - q0,
		Series:   f.api.series.Load() - s0,
		Wall:     time.Since(began),
		Outcomes: outcomes,
	}
}

// SentQueries is how many queries reached Prometheus through this fleet's
// client, to check the analyzer's own count against.
func (f *Fleet) SentQueries() int64 { return f.api.queries.Load() }
