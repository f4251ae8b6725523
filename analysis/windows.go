package analysis

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// Windows measures step windows exactly and cheaply. Each refresh reads every
// ingress-nginx counter with three batched queries, whatever the number of
// rollouts, and keeps the result for a tick. A window's figures are the growth of
// the counters from the snapshot nearest the step's start (within fresh; the
// previous step's passing analysis took one just before the new weight was
// written) to the latest snapshot, with counter resets handled per series.
// Nothing is extrapolated, and no request served before the step counts.
//
// After a controller restart a window's starting snapshot is gone; it is then
// read once at the step's start time with the @ semantics of an instant query.
type Windows struct {
	api     v1.API
	timeout time.Duration
	// fresh is how old the shared snapshot may be before a refresh.
	fresh time.Duration

	queries atomic.Int64

	mu       sync.Mutex
	recent   []*Snapshot // oldest first, at most keepRecent
	baseline map[baselineKey]*baselineEntry
}

// keepRecent snapshots are enough to find the one nearest a new step's start,
// since every active rollout is analysed at every tick.
const keepRecent = 4

// baselineTTL drops the starting snapshot of a window nobody asked about lately.
const baselineTTL = 30 * time.Minute

type baselineKey struct {
	namespace, ingress string
	since              int64
}

type baselineEntry struct {
	snap     *Snapshot
	lastUsed time.Time
}

// NewWindows returns a Windows reading through api. fresh should be about half
// the controller's analysis tick; timeout bounds one refresh.
func NewWindows(api v1.API, fresh, timeout time.Duration) *Windows {
	return &Windows{api: api, fresh: fresh, timeout: timeout, baseline: map[baselineKey]*baselineEntry{}}
}

// Queries is how many PromQL queries were sent so far, for metrics and benchmarks.
func (w *Windows) Queries() int64 { return w.queries.Load() }

// Analyze measures t's window and judges it. A Prometheus error is Unavailable,
// never Fail.
func (w *Windows) Analyze(ctx context.Context, t Target, th Thresholds) Verdict {
	m, err := w.Measure(ctx, t, latencyQuantile(th))
	if err != nil {
		return Verdict{Outcome: Unavailable, Reason: "prometheus: " + err.Error()}
	}
	return Judge(m, th)
}

// Measure returns both sides' figures for t's window, from the snapshot nearest
// its start to the latest snapshot (at most fresh old at t.Until).
func (w *Windows) Measure(ctx context.Context, t Target, quantile float64) (Measurement, error) {
	if err := checkTarget(t); err != nil {
		return Measurement{}, err
	}
	if w.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.timeout)
		defer cancel()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	cur, err := w.current(ctx, t.Until)
	if err != nil {
		return Measurement{}, err
	}
	base, err := w.start(ctx, t)
	if err != nil {
		return Measurement{}, err
	}
	isCanary := func(c string) bool { return c != "" && (t.CanaryUpstream == "" || c == t.CanaryUpstream) }
	isStable := func(c string) bool { return c == "" }
	return Measurement{
		Canary: windowSide(base, cur, t.Namespace, t.Ingress, isCanary).side(quantile),
		Stable: windowSide(base, cur, t.Namespace, t.Ingress, isStable).side(quantile),
	}, nil
}

// current returns the shared snapshot, refreshed when older than fresh.
func (w *Windows) current(ctx context.Context, now time.Time) (*Snapshot, error) {
	if n := len(w.recent); n > 0 && now.Sub(w.recent[n-1].At) < w.fresh {
		return w.recent[n-1], nil
	}
	s, err := w.take(ctx, now)
	if err != nil {
		return nil, err
	}
	w.recent = append(w.recent, s)
	if len(w.recent) > keepRecent {
		w.recent = w.recent[len(w.recent)-keepRecent:]
	}
	w.prune(now)
	return s, nil
}

// start returns the snapshot t's window starts from: remembered; else a recent
// one within fresh of Since (normally the snapshot whose analysis passed the
// previous step, taken just before this step's weight was written); else one
// read at Since (after a restart, or when no snapshot was taken near the start).
func (w *Windows) start(ctx context.Context, t Target) (*Snapshot, error) {
	key := baselineKey{t.Namespace, t.Ingress, t.Since.UnixNano()}
	if e, ok := w.baseline[key]; ok {
		e.lastUsed = t.Until
		return e.snap, nil
	}
	var found *Snapshot
	for _, s := range w.recent {
		if d := s.At.Sub(t.Since).Abs(); d <= w.fresh && (found == nil || d < found.At.Sub(t.Since).Abs()) {
			found = s
		}
	}
	if found == nil {
		s, err := w.take(ctx, t.Since)
		if err != nil {
			return nil, fmt.Errorf("window start: %w", err)
		}
		found = s
	}
	// Keep only this Ingress's series: a window may live for hours.
	only := found.only(t.Namespace, t.Ingress)
	w.baseline[key] = &baselineEntry{snap: only, lastUsed: t.Until}
	return only, nil
}

func (w *Windows) take(ctx context.Context, at time.Time) (*Snapshot, error) {
	w.queries.Add(3)
	return takeSnapshot(ctx, w.api, at)
}

func (w *Windows) prune(now time.Time) {
	for k, e := range w.baseline {
		if now.Sub(e.lastUsed) > baselineTTL {
			delete(w.baseline, k)
		}
	}
}

// only copies the series of one Ingress.
func (s *Snapshot) only(namespace, ingress string) *Snapshot {
	out := &Snapshot{At: s.At, series: map[seriesKey]*counters{}}
	for k, c := range s.series {
		if k.namespace == namespace && k.ingress == ingress {
			out.series[k] = c
		}
	}
	return out
}
