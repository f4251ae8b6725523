package prom

import (
	"context"
	"time"
)

// A window starts at the kept snapshot nearest the step's start (nearest).
// Where none is near because refreshes come further apart than fresh+grace,
// as when Prometheus is slow (at 3,000 rollouts a refresh took 24 s), the
// window starts at the first snapshot after its start, if that came no later
// than a refresh's own cadence allows (lateStart), instead of at a read of
// its start time. The window is that much shorter, and it counts no request
// from before the new weight. Those reads were most of the queries at 3,000
// rollouts, each as slow as a refresh, and they slowed the refreshes
// further. A window whose first snapshot came later than that (after a
// restart; or nobody looked for a while) still reads its start.

// lateStart is how long after a window's start a snapshot may start it, by
// the time s took to read: a refresh in flight when the window opened is
// followed by one that starts within about that time.
func (w *Analyzer) lateStart(s *Snapshot) time.Duration {
	return max(w.fresh+w.grace, 2*s.fetch)
}

// keptStart is the kept snapshot g's window, started at since, starts from,
// nil if there is none: the nearest, else the first after since within
// lateStart. w.mu is held.
func (w *Analyzer) keptStart(g group, since, now time.Time) *Snapshot {
	if s := w.nearest(g, since, now); s != nil {
		return s
	}
	for _, s := range w.recent {
		if !s.At.Before(since) && s.covers(g) {
			if s.At.Sub(since) <= w.lateStart(s) {
				return s
			}
			return nil
		}
	}
	return nil
}

// startWithoutRead returns the snapshot g's window starts from without a
// read at since: a kept one, or, where every snapshot is older than since
// and the window opened within lateStart of now, the next refresh (waited
// for; notReady under noWaitKey). It returns nil where only a read at since
// will do. w.mu is held.
func (w *Analyzer) startWithoutRead(ctx context.Context, g group, since, now time.Time) (*Snapshot, error) {
	for {
		if s := w.keptStart(g, since, now); s != nil {
			return s, nil
		}
		latest := w.latest()
		if latest == nil || !latest.At.Before(since) || now.Sub(since) > w.lateStart(latest) {
			return nil, nil
		}
		r := w.refreshing
		if r == nil {
			if err := w.recentFailure(now); err != nil {
				return nil, err
			}
			r = w.startRefresh(ctx, now)
		}
		if _, err := w.wait(ctx, r); err != nil {
			return nil, err
		}
	}
}
