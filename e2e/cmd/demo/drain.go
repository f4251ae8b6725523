package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ingress-canary/ingress-canary/e2e/traffic"
	"github.com/ingress-canary/ingress-canary/weights"
)

// Waiting for nginx to apply a rollout's end. ingress-nginx rate-limits its
// syncs to about one per 3.3 s and then applies a change in about a second.
const (
	drainQuiet   = 2 * time.Second  // no plain request to the old version for this long
	drainTimeout = 20 * time.Second // bound of that wait
	afterWindow  = 3 * time.Second  // traffic shown after it
)

// answers remembers when each version last answered a plain request, as seen
// by polling the traffic generator's counts.
type answers struct {
	count map[string]int
	at    map[string]time.Time
}

func newAnswers(c traffic.Counts) *answers {
	return &answers{count: c.ByVersion, at: map[string]time.Time{}}
}

// update notes the versions whose count grew since the last update.
func (a *answers) update(c traffic.Counts) {
	now := time.Now()
	for version, n := range c.ByVersion {
		if n > a.count[version] {
			a.at[version] = now
		}
	}
	a.count = c.ByVersion
}

// last is when version last answered; zero if not since the start.
func (a *answers) last(version string) time.Time { return a.at[version] }

// showOutcome says what the Ingress routes to now, then waits until nginx
// stops sending plain users to the version that lost: web-v1 after a
// promotion, the canary after a rollback.
func (d *demo) showOutcome(ctx context.Context, res *result) {
	if backend, err := d.shop.backend(ctx); err == nil {
		say("%s %s routes to %s; %s", d.shop.kind(), ingressName, backend, d.shop.canaryState(ctx))
	}
	gone := res.to
	if res.final.Phase == weights.PhaseSucceeded {
		gone = res.from
	}
	last, quiet := d.waitDrained(ctx, res.answers, versionOf(gone))
	switch {
	case !quiet:
		say("%s still got plain requests %s after the end", gone, drainTimeout)
	case last.IsZero():
		say("%s got no plain request since the rollout started", gone)
	case last.After(res.ended):
		say("the last plain request reached %s %s the status said %s (nginx syncs at most every ~3.3 s)",
			gone, beforeOrAfter(last.Sub(res.ended)), res.final.Phase)
	default:
		say("the last plain request reached %s %s the status said %s",
			gone, beforeOrAfter(last.Sub(res.ended)), res.final.Phase)
	}
}

// waitDrained waits until version has answered no plain request for
// drainQuiet, bounded by drainTimeout. It returns when version last
// answered (zero: not since the rollout started) and whether it went quiet.
func (d *demo) waitDrained(ctx context.Context, seen *answers, version string) (last time.Time, quiet bool) {
	deadline := time.Now().Add(drainTimeout)
	for {
		seen.update(d.plain.snapshot())
		last = seen.last(version)
		if time.Since(last) >= drainQuiet {
			return last, true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return last, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// beforeOrAfter renders a signed duration as "1.2s before" or "0.8s after".
func beforeOrAfter(d time.Duration) string {
	if d < 0 {
		return fmt.Sprintf("%.1fs before", -d.Seconds())
	}
	return fmt.Sprintf("%.1fs after", d.Seconds())
}

// measureAfter shows the traffic of a short window once nginx has applied
// the end: everyone on the stable version, and no error.
func (d *demo) measureAfter(ctx context.Context) tally {
	before := d.tally(ctx)
	select {
	case <-ctx.Done():
	case <-time.After(afterWindow):
	}
	after := d.tally(ctx).sub(before)
	say("the next %s, plain users: %s", afterWindow, countsLine(after.plain))
	say("the next %s, testers:     %s", afterWindow, countsLine(after.testers))
	return after
}
