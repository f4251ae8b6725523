package controller

import (
	"context"
	"maps"
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

// openWindow is what a look at one rollout's open step needs.
type openWindow struct {
	target     analysis.Target // Until is set at each look
	thresholds analysis.Thresholds
	spec       *annotations.Spec
	status     weights.Status
	// decision is the scan's finding on the step, zero until it has one.
	decision decision
}

// decision is what the scan found of a step: when (wall clock; the sync that
// acts on it measures its lateness from it), the outcome, and the look it
// found it with (see look.decidedWith).
type decision struct {
	at      time.Time
	outcome analysis.Outcome
	look    analysis.Verdict
}

// openWindows are the rollouts whose step is open, by queue key. The sync
// that opens, moves or closes a step updates them; the scan reads them. They
// are derived from the status annotations, so a restarted controller rebuilds
// them with the first sync of every Ingress.
type openWindows struct {
	mu    sync.Mutex
	byKey map[string]openWindow
}

func newOpenWindows() *openWindows { return &openWindows{byKey: map[string]openWindow{}} }

// track records key's step as the status st leaves it: open, or closed.
// It reports whether the step is open, and the window that ended with this
// status (the previous step's, or the last), if one did.
func (o *openWindows) track(key string, spec *annotations.Spec, st weights.Status, target analysis.Target) (open bool, ended *analysis.Target) {
	o.mu.Lock()
	defer o.mu.Unlock()
	old, had := o.byKey[key]
	since, _, open := st.Window()
	if had && (!open || !old.target.Since.Equal(since)) {
		ended = &old.target
	}
	if !open {
		delete(o.byKey, key)
		return false, ended
	}
	target.Since = since
	w := openWindow{target: target, thresholds: weights.Thresholds(spec), spec: spec, status: st}
	if had && old.status.Step == st.Step && old.status.Phase == st.Phase {
		w.decision = old.decision // the same step: a sync that did not act on it
	}
	o.byKey[key] = w
	return true, ended
}

// follower is an Analyzer that keeps the counters of the windows it is told
// are open, and only those (prom.Analyzer.FollowOnly).
type follower interface {
	Follow(t analysis.Target, now time.Time)
	Close(t analysis.Target, followOn bool)
}

// follow tells the analyzer, if it cares, that t's window is open.
func (c *Controller) follow(t analysis.Target, now time.Time) {
	if f, ok := c.analyzer.(follower); ok {
		f.Follow(t, now)
	}
}

// closeWindow tells the analyzer, if it cares, that the window ended ended;
// followOn says whether the rollout's next window is open.
func (c *Controller) closeWindow(ended *analysis.Target, followOn bool) {
	if f, ok := c.analyzer.(follower); ok && ended != nil {
		f.Close(*ended, followOn)
	}
}

// decide marks key's step, the window that opened at since, as decided by
// the scan at `at` with outcome from the look v, and reports whether that
// window is still open. The first decision's time stays (lateness counts from it); a
// regression found after a pass not yet acted on replaces the outcome, so
// that its sync goes on the rollback queue.
//
// A scan works from a copy of the windows, and one look may wait for
// Prometheus: a verdict on a step that a sync has closed meanwhile says
// nothing of the next step, and marking that one decided made its rollback
// count as late from the old step's pass.
func (o *openWindows) decide(key string, since, at time.Time, v analysis.Verdict, outcome analysis.Outcome) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	w, ok := o.byKey[key]
	switch {
	case !ok || !w.target.Since.Equal(since):
		return false
	case w.decision.at.IsZero():
		w.decision = decision{at: at, outcome: outcome, look: v}
	case outcome == analysis.Fail:
		w.decision.outcome, w.decision.look = outcome, v
	}
	o.byKey[key] = w
	return true
}

// regressing tells whether the scan found key's step failing.
func (o *openWindows) regressing(key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.byKey[key].decision.outcome == analysis.Fail // set only with at
}

// decided is the scan's finding on key's step, if it has one.
func (o *openWindows) decided(key string) (decision, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	w, ok := o.byKey[key]
	return w.decision, ok && !w.decision.at.IsZero()
}

// forget drops key's window, and returns it if there was one.
func (o *openWindows) forget(key string) *analysis.Target {
	o.mu.Lock()
	defer o.mu.Unlock()
	w, ok := o.byKey[key]
	if !ok {
		return nil
	}
	delete(o.byKey, key)
	return &w.target
}

func (o *openWindows) all() map[string]openWindow {
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.byKey)
}

// scanOpenWindows reads the evidence of every open step at every tick, so
// that a regression is rolled back, and a step that has its evidence passes,
// within a tick. Only a rollout whose step is decided is queued, as soon as
// it is found, and its sync looks again and acts: every look sent through a
// queue would take the workers' time that due steps need. A regression goes
// on the rollback queue, ahead of every step (see queues.go).
func (c *Controller) scanOpenWindows(ctx context.Context) {
	c.scan(ctx, func(key string, since time.Time, v analysis.Verdict, outcome analysis.Outcome) {
		if c.openWindows.decide(key, since, time.Now(), v, outcome) {
			c.queueFor(key).Add(key)
		}
	})
}

// queueFor is the queue that time-driven work on key goes on: the rollback
// queue while the scan has found its step regressing, so that a rollback
// whose sync must wait for a Prometheus read is queued again there, not
// behind hundreds of steps; the urgent queue otherwise.
func (c *Controller) queueFor(key string) workqueue.TypedRateLimitingInterface[string] {
	if c.openWindows.regressing(key) {
		return c.rollbacks
	}
	return c.urgent
}

// scan looks at every open step that is at least a tick old and whose
// status is not yet due (the sync looks at those), and calls decided with
// the key, the window's start, the look and the outcome of each the
// evidence decides.
func (c *Controller) scan(ctx context.Context, decided func(key string, since time.Time, v analysis.Verdict, outcome analysis.Outcome)) {
	for key, w := range c.openWindows.all() {
		now := c.opts.Now()
		_, due, _ := w.status.Window()
		if !now.Before(due) || !weights.LookDue(w.target.Since, due, now, c.opts.AnalysisTick) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		t := w.target
		t.Until = now
		// The scan has its own goroutine: it may wait for Prometheus.
		v, _ := c.metrics.timedLook(ctx, c.analyzer, "scan", t, w.thresholds, true)
		if o, _, _ := weights.JudgeVerdict(w.spec, w.status, v, now); o == analysis.Pass || o == analysis.Fail {
			decided(key, t.Since, v, o)
		}
	}
}
