package prom

import (
	"context"
	"time"
)

// A window starts at the kept snapshot nearest the step's start (nearest).
// Where none is near because refreshes come further apart than fresh+grace,
// as when Prometheus is slow (at 3,000 rollouts a refresh took 24 s), the
// window starts at the first snapshot after its start, if refreshes were
// running back to back (that one began within fresh+grace of the previous
// one's landing) and it came no later than twice its own read's time
// (lateStart): no snapshot could have come sooner. The window is that much
// shorter, and it counts no request from before the new weight. Otherwise a
// read at the start time is as cheap, and a window still reads its start
// (after a restart; or when nobody looked for a while): those reads were most
// of the queries at 3,000 rollouts, each as slow as a refresh.

// lateStart is how long after a window's start a snapshot may start it, by
// the time s took to read.
func (w *Analyzer) lateStart(s *Snapshot) time.Duration {
	return max(w.fresh+w.grace, 2*s.fetch)
}

// arrived is when s landed: its read began at s.At and took s.fetch.
func arrived(s *Snapshot) time.Time { return s.At.Add(s.fetch) }

// keptStart is the kept snapshot g's window, started at since, starts from,
// nil if there is none: the nearest, else the first after since, if it was
// read back to back with the one before it and within lateStart. w.mu is
// held.
func (w *Analyzer) keptStart(g group, since, now time.Time) *Snapshot {
	if s := w.nearest(g, since, now); s != nil {
		return s
	}
	for i, s := range w.recent {
		if s.At.Before(since) || !s.covers(g) {
			continue
		}
		if i > 0 && s.At.Sub(arrived(w.recent[i-1])) <= w.fresh+w.grace && s.At.Sub(since) <= w.lateStart(s) {
			return s
		}
		return nil
	}
	return nil
}

// startWithoutRead returns the snapshot g's window starts from without a
// read at since: a kept one, or, where every snapshot is older than since
// and refreshes run back to back, the next refresh (waited for; notReady
// under noWaitKey). It returns nil where only a read at since will do. w.mu
// is held.
func (w *Analyzer) startWithoutRead(ctx context.Context, g group, since, now time.Time) (*Snapshot, error) {
	for {
		if s := w.keptStart(g, since, now); s != nil {
			return s, nil
		}
		latest := w.latest()
		if latest == nil || !latest.At.Before(since) {
			return nil, nil
		}
		if w.refreshing == nil && now.Sub(arrived(latest)) > w.fresh+w.grace {
			return nil, nil // no refresh running: the next would not be back to back
		}
		if err := w.awaitRefresh(ctx, now); err != nil {
			return nil, err
		}
	}
}
