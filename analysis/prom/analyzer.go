package prom

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// Analyzer measures step windows exactly and cheaply. Each refresh reads every
// ingress-nginx counter with three batched queries (the buckets in parts
// past bucketGroupsPerQuery followed groups), and keeps the result for a
// tick. A window's figures are the growth of the counters from the snapshot
// nearest the step's start (within fresh+grace;
// the previous step's passing analysis used one just before the new weight was
// written) to the latest snapshot, with counter resets handled per series.
// Nothing is extrapolated, and no request counted in the starting snapshot
// counts; the package documentation says where the window's edges may move.
//
// Where refreshes are slow, a window starts at the first one after the step's
// start (late_start.go). After a controller restart a window's starting
// snapshot is gone; it is then read at the step's start time with an instant
// query, and shared with the windows that started within fresh of it.
type Analyzer struct {
	api     v1.API
	dialect Dialect
	timeout time.Duration
	// fresh is how old the shared snapshot may be before a refresh.
	fresh time.Duration
	// grace is how much longer than fresh a snapshot may still serve while its
	// refresh runs; see ServeStale.
	grace time.Duration

	queries atomic.Int64
	// followTTL, when set, keeps in snapshots only the groups followed
	// within it; followed holds when each was last (see FollowOnly).
	followTTL time.Duration
	followed  map[group]time.Time
	// opened is when each followed group's window started (Follow's
	// t.Since): a window-start read keeps only the groups whose windows
	// start near it (startKeep).
	opened map[group]time.Time

	mu     sync.Mutex
	recent []*Snapshot // oldest first, at most keepRecent
	// starts are snapshots read at a step's start (the fallback), oldest
	// first, at most keepStarts: after a restart, rollouts whose steps began
	// together (within fresh) share one read instead of three queries each.
	starts   []*baselineEntry
	baseline map[baselineKey]*baselineEntry
	// refreshing is the refresh in flight, nil when none.
	refreshing *read
	// startReads are window-start reads in flight: rollouts whose steps began
	// within fresh of one another wait for the same one.
	startReads []*read
	// histories are Baseline reads in the background (BaselineOrReady).
	histories map[historyKey]*historyRead
	// failed is the latest read, if it failed: within fresh of it, its error
	// answers instead of a new read (recentFailure).
	failed *read
}

// read is one snapshot being read, outside w.mu; done is closed when snap or
// err is set. asked is the time of the analysis that started it; keep is the
// groups it keeps (nil: all).
type read struct {
	at, asked time.Time
	keep      map[group]bool
	done      chan struct{}
	snap      *Snapshot
	err       error
}

// keepRecent snapshots are enough to find the one nearest a new step's start,
// since every active rollout is analysed at every tick.
const keepRecent = 4

// keepStarts bounds the full snapshots kept for fallback reads, each of which
// holds every Ingress's series; startsTTL drops them once the rollouts that
// needed them have their own starting series (all rollouts are analysed at
// every tick).
const (
	keepStarts = 4
	startsTTL  = time.Minute
)

// baselineTTL drops the starting snapshot of a window nobody asked about lately.
const baselineTTL = 30 * time.Minute

type baselineKey struct {
	group
	since int64
}

type baselineEntry struct {
	snap     *Snapshot
	lastUsed time.Time
}

// NewAnalyzer returns an Analyzer reading ingress-nginx's metrics through api.
// fresh should be about half the controller's analysis tick; timeout bounds
// one refresh.
func NewAnalyzer(api v1.API, fresh, timeout time.Duration) *Analyzer {
	return &Analyzer{api: api, dialect: Nginx{}, fresh: fresh, timeout: timeout, baseline: map[baselineKey]*baselineEntry{}}
}

// ReadAs makes w read another data plane's metrics, and returns w.
func (w *Analyzer) ReadAs(d Dialect) *Analyzer {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dialect = d
	return w
}

// ServeStale lets a snapshot up to fresh+grace old serve analyses while a newer
// one is read in the background, and returns w.
//
// Without it every analysis that finds the snapshot stale waits for the three
// queries, and at 10,000 Ingresses they take one to two seconds: a step due in
// that time is taken that much late. With it, the end of a window may be up to
// fresh+grace before the analysis, which costs a few seconds of requests, about
// what one Prometheus scrape interval costs anyway. A snapshot older than that
// is waited for, so a Prometheus outage still shows as Unavailable.
//
// A Prometheus that is slow but answers stretches the grace to twice the last
// refresh's time (up to the timeout): the scale benchmark's refreshes took 3.5
// s on a busy machine, longer than a 2.5 s grace, and every due analysis
// waited for each one.
func (w *Analyzer) ServeStale(grace time.Duration) *Analyzer {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.grace = max(grace, 0)
	return w
}

// Queries is how many PromQL queries were sent so far, for metrics and benchmarks.
func (w *Analyzer) Queries() int64 { return w.queries.Load() }

// Analyze measures t's window and judges it. A Prometheus error is Unavailable,
// never Fail.
func (w *Analyzer) Analyze(ctx context.Context, t analysis.Target, th analysis.Thresholds) analysis.Verdict {
	m, err := w.Measure(ctx, t, th)
	if err != nil {
		return analysis.Verdict{Outcome: analysis.Unavailable, Reason: "prometheus: " + err.Error()}
	}
	return analysis.Judge(m, th)
}

// Look measures t's window for the sequential judge: the verdict is Hold
// with the measurement (the judge reads the counts), or Unavailable.
func (w *Analyzer) Look(ctx context.Context, t analysis.Target, th analysis.Thresholds) analysis.Verdict {
	return lookVerdict(w.Measure(ctx, t, th))
}

// LookOrReady is Look for a caller that must not wait for Prometheus: where
// the measurement needs a read that has not landed, it starts the read and
// returns, instead of a verdict, a channel closed when the read lands.
// Looking again then answers, or, if the read failed, is Unavailable.
//
// The controller's workers use it: at 1,000 rollouts a worker that waited
// for a refresh inside a sync was a worker not writing the steps that were
// due meanwhile.
func (w *Analyzer) LookOrReady(ctx context.Context, t analysis.Target, th analysis.Thresholds) (analysis.Verdict, <-chan struct{}) {
	m, err := w.Measure(context.WithValue(ctx, noWaitKey{}, true), t, th)
	if nr := (*notReady)(nil); errors.As(err, &nr) {
		return analysis.Verdict{}, nr.ready
	}
	return lookVerdict(m, err), nil
}

func lookVerdict(m analysis.Measurement, err error) analysis.Verdict {
	if err != nil {
		return analysis.Verdict{Outcome: analysis.Unavailable, Reason: "prometheus: " + err.Error()}
	}
	return analysis.Verdict{Outcome: analysis.Hold, Measurement: m}
}

// noWaitKey marks a context whose Measure returns notReady instead of waiting.
type noWaitKey struct{}

// notReady is Measure's answer, under noWaitKey, where it would wait for a read.
type notReady struct{ ready <-chan struct{} }

func (*notReady) Error() string { return "waiting for a Prometheus read" }

// Measure returns both sides' figures for t's window, from the snapshot nearest
// its start to the latest snapshot (at most fresh old at t.Until), with the
// latency at th's quantile and, when th gates latency, the slow requests.
func (w *Analyzer) Measure(ctx context.Context, t analysis.Target, th analysis.Thresholds) (analysis.Measurement, error) {
	quantile := th.Quantile()
	if err := checkTarget(t); err != nil {
		return analysis.Measurement{}, err
	}
	if !(quantile > 0 && quantile <= 1) {
		return analysis.Measurement{}, fmt.Errorf("latency quantile %v is not in (0, 1]", quantile)
	}
	if w.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.timeout)
		defer cancel()
	}
	g, isCanary, isStable := w.dialect.Sides(t)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.follow(g, t.Until)
	if err := w.covering(ctx, g, t.Until); err != nil {
		return analysis.Measurement{}, err
	}
	cur, err := w.current(ctx, t.Until)
	if err != nil {
		return analysis.Measurement{}, err
	}
	base, err := w.start(ctx, t)
	if err != nil {
		return analysis.Measurement{}, err
	}
	canary, stable := windowSide(base, cur, g, isCanary), windowSide(base, cur, g, isStable)
	var slowAbove float64
	if th.MaxLatency > 0 {
		slowAbove = slowBound(th.MaxLatency.Seconds(), canary, stable)
	}
	return analysis.Measurement{
		Canary:    canary.side(quantile, slowAbove),
		Stable:    stable.side(quantile, slowAbove),
		SlowAbove: slowAbove,
	}, nil
}

// checkTarget rejects a target that names no Ingress (an empty name would select
// the series that lack the label) or whose window is empty.
func checkTarget(t analysis.Target) error {
	switch {
	case t.Namespace == "":
		return errors.New("target has no namespace")
	case t.Ingress == "":
		return errors.New("target has no ingress")
	case t.Since.IsZero() || t.Until.IsZero():
		return errors.New("target window needs both Since and Until")
	case !t.Until.After(t.Since):
		return fmt.Errorf("target window is empty: until %s is not after since %s",
			t.Until.Format(time.RFC3339Nano), t.Since.Format(time.RFC3339Nano))
	}
	return nil
}

// current returns the shared snapshot. One older than fresh is refreshed; while
// the refresh runs, the old one still serves if it is within grace, and otherwise
// the caller waits for the refresh (without holding w.mu, so that analyses that
// need no refresh go on).
func (w *Analyzer) current(ctx context.Context, now time.Time) (*Snapshot, error) {
	var age time.Duration
	latest := w.latest()
	if latest != nil {
		// Age counts from arrival: a refresh slower than fresh must still count as
		// fresh when it arrives, or every waiting rollout would refresh again.
		age = now.Sub(latest.At) - latest.fetch
		if age < w.fresh {
			return latest, nil
		}
	}
	r := w.refreshing
	failure := w.recentFailure(now)
	if r == nil && failure == nil {
		r = w.startRefresh(ctx, now)
	}
	if latest != nil && age < w.fresh+w.graceNow() {
		return latest, nil
	}
	if r == nil {
		return nil, failure
	}
	return w.wait(ctx, r)
}

// recentFailure is the error of the latest read if it failed within fresh of
// now: a Prometheus outage then costs one read per fresh, not one per
// analysis, and a caller that must not wait (LookOrReady) gets the error
// instead of starting reads in a loop. w.mu is held.
func (w *Analyzer) recentFailure(now time.Time) error {
	if f := w.failed; f != nil && now.Sub(f.asked).Abs() < w.fresh {
		return f.err
	}
	return nil
}

// wait waits for r without holding w.mu, so that analyses that need no read
// go on meanwhile; under noWaitKey it returns notReady instead. w.mu is held
// on entry and on return.
func (w *Analyzer) wait(ctx context.Context, r *read) (*Snapshot, error) {
	select {
	case <-r.done:
		return r.snap, r.err
	default:
	}
	if ctx.Value(noWaitKey{}) != nil {
		return nil, &notReady{ready: r.done}
	}
	w.mu.Unlock()
	defer w.mu.Lock()
	select {
	case <-r.done:
		return r.snap, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// graceNow is how much older than fresh a snapshot may serve: the grace
// ServeStale set, or twice the time the latest refresh took if that is longer,
// up to the timeout. Zero without ServeStale.
func (w *Analyzer) graceNow() time.Duration {
	if w.grace == 0 {
		return 0
	}
	g := w.grace
	if latest := w.latest(); latest != nil {
		g = max(g, 2*latest.fetch)
	}
	if w.timeout > 0 {
		g = min(g, w.timeout)
	}
	return g
}

func (w *Analyzer) latest() *Snapshot {
	if n := len(w.recent); n > 0 {
		return w.recent[n-1]
	}
	return nil
}

// startRefresh reads the shared snapshot at now in the background.
func (w *Analyzer) startRefresh(ctx context.Context, now time.Time) *read {
	r := w.startRead(ctx, now, now, w.keepSet(now), func(s *Snapshot, err error) {
		w.refreshing = nil
		if err != nil {
			return
		}
		// Only the latest snapshot needs every Ingress; the others only
		// serve as window starts (see withCanaries), and 10,000 Ingresses'
		// series several times over were the biggest part of the heap.
		// Snapshots of followed groups only are small already.
		if n := len(w.recent); n > 0 && !w.recent[n-1].partial {
			w.recent[n-1] = w.recent[n-1].withCanaries()
		}
		w.recent = append(w.recent, s)
		if len(w.recent) > keepRecent {
			w.recent = w.recent[len(w.recent)-keepRecent:]
		}
		w.captureStarts(s.At)
		w.prune(now)
	})
	w.refreshing = r
	return r
}

// startRead reads a snapshot at `at` keeping keep (nil: all) for an
// analysis at asked in the background, and calls done with w.mu held. The
// read outlives the analysis that asked for it (others wait for it too), so
// it has its own timeout, per query (takeSnapshot), instead of the caller's
// cancellation.
func (w *Analyzer) startRead(ctx context.Context, at, asked time.Time, keep map[group]bool, done func(*Snapshot, error)) *read {
	r := &read{at: at, asked: asked, keep: keep, done: make(chan struct{})}
	ctx = context.WithoutCancel(ctx)
	go func() {
		defer close(r.done)
		s, err := w.take(ctx, at, keep)
		w.mu.Lock()
		defer w.mu.Unlock()
		r.snap, r.err = s, err
		if w.failed = nil; err != nil {
			w.failed = r
		}
		done(s, err)
	}()
	return r
}

// start returns the snapshot t's window starts from: remembered; else a kept
// one within fresh of Since, which is normally the recent snapshot whose
// analysis passed the previous step, taken just before this step's weight was
// written, and after a restart may be one read for another rollout's start;
// else one read at Since.
func (w *Analyzer) start(ctx context.Context, t analysis.Target) (*Snapshot, error) {
	g, _, _ := w.dialect.Sides(t)
	key := baselineKey{g, t.Since.UnixNano()}
	if e, ok := w.baseline[key]; ok {
		e.lastUsed = t.Until
		return e.snap, nil
	}
	found, err := w.startWithoutRead(ctx, g, t.Since, t.Until)
	if err != nil {
		return nil, fmt.Errorf("window start: %w", err)
	}
	if found == nil {
		s, err := w.readStart(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("window start: %w", err)
		}
		found = s
	}
	// Keep only this window's group: a window may live for hours.
	only := found.only(g)
	w.baseline[key] = &baselineEntry{snap: only, lastUsed: t.Until}
	return only, nil
}

// readStart reads the snapshot at t.Since, or waits for a read in flight
// within fresh of it, and keeps it for the windows that start near it.
func (w *Analyzer) readStart(ctx context.Context, t analysis.Target) (*Snapshot, error) {
	g, _, _ := w.dialect.Sides(t)
	for _, r := range w.startReads {
		if r.at.Sub(t.Since).Abs() <= w.fresh && (r.keep == nil || r.keep[g]) {
			return w.wait(ctx, r)
		}
	}
	if err := w.recentFailure(t.Until); err != nil {
		return nil, err
	}
	var r *read
	r = w.startRead(ctx, t.Since, t.Until, w.startKeep(t.Since, g), func(s *Snapshot, err error) {
		w.startReads = slices.DeleteFunc(w.startReads, func(p *read) bool { return p == r })
		if err != nil {
			return
		}
		w.starts = append(w.starts, &baselineEntry{snap: s, lastUsed: t.Until})
		if len(w.starts) > keepStarts {
			w.starts = w.starts[len(w.starts)-keepStarts:]
		}
	})
	w.startReads = append(w.startReads, r)
	return w.wait(ctx, r)
}

// nearest returns the kept snapshot nearest t.Since, if one is within
// fresh+grace of it: the snapshot that judged the previous step may have been
// served that old, and it is the best start the new step can have. The grace
// is ServeStale's own, never the stretched one: a start seconds before the
// weight was written counts those seconds at the old weight, and the scale
// benchmark saw the split check flag such windows (6.3 % of requests at a
// weight of 10 %) when a slow Prometheus stretched the grace to 4–6 s.
func (w *Analyzer) nearest(g group, since, now time.Time) *Snapshot {
	var found *Snapshot
	closer := func(s *Snapshot) bool {
		d := s.At.Sub(since).Abs()
		return d <= w.fresh+w.grace && s.covers(g) && (found == nil || d < found.At.Sub(since).Abs())
	}
	for _, s := range w.recent {
		if closer(s) {
			found = s
		}
	}
	var entry *baselineEntry
	for _, e := range w.starts {
		if closer(e.snap) {
			found, entry = e.snap, e
		}
	}
	if entry != nil {
		entry.lastUsed = now
	}
	return found
}

// take reads a snapshot at `at` keeping keep (nil: all). With nothing to
// keep it asks nothing: an idle controller sends no query.
func (w *Analyzer) take(ctx context.Context, at time.Time, keep map[group]bool) (*Snapshot, error) {
	if keep != nil && len(keep) == 0 {
		s := newSnapshot(at)
		s.partial = true
		return s, nil
	}
	began := time.Now()
	s, err := takeSnapshot(ctx, w.api, w.dialect, at, keep, w.timeout, &w.queries)
	if s != nil {
		s.fetch = time.Since(began)
	}
	return s, err
}

func (w *Analyzer) prune(now time.Time) {
	for k, e := range w.baseline {
		if now.Sub(e.lastUsed) > baselineTTL {
			delete(w.baseline, k)
		}
	}
	kept := w.starts[:0]
	for _, e := range w.starts {
		if now.Sub(e.lastUsed) <= startsTTL {
			kept = append(kept, e)
		}
	}
	clear(w.starts[len(kept):])
	w.starts = kept
}
