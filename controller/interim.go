package controller

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/weights"
)

// openWindow is what an interim look at one rollout's open step window needs.
type openWindow struct {
	target     analysis.Target // Until is set at each look
	thresholds analysis.Thresholds
	due        time.Time
}

// openWindows are the rollouts whose step window is open, by queue key. The
// sync that opens, moves or closes a window updates them; the scan reads them.
// They are derived from the status annotations, so a restarted controller
// rebuilds them with the first sync of every Ingress.
type openWindows struct {
	mu    sync.Mutex
	byKey map[string]openWindow
}

func newOpenWindows() *openWindows { return &openWindows{byKey: map[string]openWindow{}} }

// track records key's window as the status st leaves it: open, or closed.
// It reports whether the window is open.
func (o *openWindows) track(key string, st weights.Status, target analysis.Target, th analysis.Thresholds) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	since, due, open := st.Window()
	if !open {
		delete(o.byKey, key)
		return false
	}
	target.Since = since
	o.byKey[key] = openWindow{target: target, thresholds: th, due: due}
	return true
}

// follower is an Analyzer that keeps the counters of the windows it is told
// are open, and only those (prom.Analyzer.FollowOnly).
type follower interface {
	Follow(t analysis.Target, now time.Time)
}

// follow tells the analyzer, if it cares, that t's window is open.
func (c *Controller) follow(t analysis.Target, now time.Time) {
	if f, ok := c.analyzer.(follower); ok {
		f.Follow(t, now)
	}
}

func (o *openWindows) forget(key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.byKey, key)
}

func (o *openWindows) all() map[string]openWindow {
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.byKey)
}

// scanOpenWindows takes an interim look at every open window, so that a
// conclusive regression fails fast. Only a failure puts the rollout on the urgent
// queue, whose sync judges it again and rolls it back: every look sent through
// the queue would take the workers' time that due steps need.
func (c *Controller) scanOpenWindows(ctx context.Context) {
	for _, key := range c.failingWindows(ctx) {
		c.urgent.Add(key)
	}
}

// failingWindows looks at every open window that is at least a tick old and
// not yet due, and returns the keys of those that fail.
func (c *Controller) failingWindows(ctx context.Context) []string {
	var failing []string
	for key, w := range c.openWindows.all() {
		now := c.opts.Now()
		if !weights.InterimLookDue(w.target.Since, w.due, now, c.opts.AnalysisTick) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		t, th := w.target, w.thresholds
		t.Until, th.Confidence = now, weights.InterimConfidence
		if c.timedAnalysis(ctx, "scan", t, th).Outcome == analysis.Fail {
			failing = append(failing, key)
		}
	}
	return failing
}
