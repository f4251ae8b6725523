package prom

import (
	"context"
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// FollowOnly makes w keep, of every snapshot it reads, only the groups of
// the windows it follows (Follow, and every window it measures) within the
// last ttl, and returns w. The queries still answer every Ingress of the
// cluster, but what is kept between refreshes is the few groups with an open
// window, not 10,000 Ingresses' counters several times over. 0 keeps every
// group, as without it.
func (w *Analyzer) FollowOnly(ttl time.Duration) *Analyzer {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.followTTL = max(ttl, 0)
	if w.followed == nil {
		w.followed, w.opened = map[group]time.Time{}, map[group]time.Time{}
	}
	return w
}

// Follow says that t's window, which started at t.Since, is open at now: the
// next snapshots keep its group. The controller calls it when a step's window
// opens, so that the snapshot taken just after the new weight was written can
// start the window, and at every sync while it is open.
func (w *Analyzer) Follow(t analysis.Target, now time.Time) {
	g, _, _ := w.dialect.Sides(t)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.follow(g, now)
	if w.followTTL > 0 && !t.Since.IsZero() {
		w.opened[g] = t.Since
	}
}

// Close says that t's window ended: its start snapshot is dropped, and
// unless followOn (the rollout's next window is open) the next snapshots no
// longer keep its group. Without it a finished rollout's counters stayed in
// every query for the follow ttl.
func (w *Analyzer) Close(t analysis.Target, followOn bool) {
	g, _, _ := w.dialect.Sides(t)
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.baseline, baselineKey{g, t.Since.UnixNano()})
	if since, ok := w.opened[g]; ok && since.Equal(t.Since) {
		delete(w.opened, g) // the next window's Follow sets its own
	}
	if !followOn {
		delete(w.followed, g)
		delete(w.opened, g)
	}
}

// follow marks g as followed at now; w.mu is held.
func (w *Analyzer) follow(g group, now time.Time) {
	if w.followTTL > 0 && now.After(w.followed[g]) {
		w.followed[g] = now
	}
}

// keepSet is the groups a read starting at `at` keeps, nil for all; it
// forgets the groups nobody followed within the ttl. w.mu is held.
func (w *Analyzer) keepSet(at time.Time) map[group]bool {
	if w.followTTL == 0 {
		return nil
	}
	keep := make(map[group]bool, len(w.followed))
	for g, last := range w.followed {
		if at.Sub(last) > w.followTTL {
			delete(w.followed, g)
			delete(w.opened, g)
			continue
		}
		keep[g] = true
	}
	return keep
}

// startKeep is the groups a window-start read at `at`, asked for g's window,
// keeps: g and the followed groups whose windows start within fresh of at
// (those that may share the read), or whose start is not known; nil for all.
//
// Such a read is needed where no kept snapshot is near a window's start:
// after a restart, or where refreshes come further apart than fresh+grace.
// Keeping every followed group, each of them cost as much as a refresh (at
// 3,000 rollouts, 14 queries over 3,000 Ingresses). w.mu is held.
func (w *Analyzer) startKeep(at time.Time, g group) map[group]bool {
	keep := w.keepSet(at)
	if keep == nil {
		return nil
	}
	for other := range keep {
		if since, ok := w.opened[other]; ok && since.Sub(at).Abs() > w.fresh {
			delete(keep, other)
		}
	}
	keep[g] = true
	return keep
}

// captureStarts keeps the start of every followed window that has none yet,
// once no later snapshot can be nearer its start than those kept (at is the
// latest's time): its first look may come much later than a tick (behind a
// backlog of syncs), when the snapshots near its start are no longer kept,
// and it would then need a read of its own at its start time. w.mu is held.
func (w *Analyzer) captureStarts(at time.Time) {
	for g, since := range w.opened {
		key := baselineKey{g, since.UnixNano()}
		if _, ok := w.baseline[key]; ok || at.Sub(since) <= w.fresh+w.grace {
			continue // kept, or a nearer snapshot may still come
		}
		if found := w.keptStart(g, since, at); found != nil {
			w.baseline[key] = &baselineEntry{snap: found.only(g), lastUsed: at}
		}
	}
}

// covering waits until the latest snapshot covers g: a group followed only
// now is not in the snapshots read before, so a refresh that keeps it is
// read (after the one in flight, which may not) and waited for. w.mu is held.
func (w *Analyzer) covering(ctx context.Context, g group, now time.Time) error {
	for {
		latest := w.latest()
		if latest == nil || latest.covers(g) {
			return nil
		}
		if err := w.awaitRefresh(ctx, now); err != nil {
			return err
		}
	}
}

// awaitRefresh waits for the refresh in flight, or for one it starts at now
// (unless the latest read failed within fresh). w.mu is held.
func (w *Analyzer) awaitRefresh(ctx context.Context, now time.Time) error {
	r := w.refreshing
	if r == nil {
		if err := w.recentFailure(now); err != nil {
			return err
		}
		r = w.startRefresh(ctx, now)
	}
	_, err := w.wait(ctx, r)
	return err
}
