package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

// Timing of a rollout's watch.
const (
	rolloutTimeout = 3 * time.Minute
	pollEvery      = 250 * time.Millisecond // status and Events
	lineEvery      = 2 * time.Second        // progress lines
)

// rollout is one release the demo shows.
type rollout struct {
	name     string // e.g. "Rollout 1"
	from, to string // the stable and the new Service
	about    string // what kind of release it is
	expected string // what the viewer is about to see
	note     string // how to read it
	// keys are the annotations (short names) written to start it.
	keys   map[string]string
	expect weights.Phase
	// showPluginAt is the step at which `kubectl canary status` is shown; 0: never.
	showPluginAt int
}

// plannedRollouts are the demo's two releases. The first writes the whole
// rollout spec; the second only names the new Service, like a user's next
// release would.
func plannedRollouts() []rollout {
	return []rollout{{
		name: "Rollout 1", from: "web-v1", to: "web-v2", about: "a healthy release",
		keys: map[string]string{
			"canary-service": "web-v2", "steps": "10,25,50", "interval": "8s",
			"min-requests": "20", "max-error-rate": "5%", "header": testerHeader,
		},
		expected: "weight 10% -> 25% -> 50%, each step at least 8 s and until the evidence shows web-v2 below max-error-rate 5% (about 85 error-free canary requests; the status forecasts when), then promotion",
		note:     "nginx applies a change 1 to 4 s after it is written (it syncs at most every ~3.3 s), so the measured split trails the weight",
		expect:   weights.PhaseSucceeded, showPluginAt: 2,
	}, {
		name: "Rollout 2", from: "web-v2", to: "web-v3",
		about:    fmt.Sprintf("a release that answers %.0f%% 5xx", 100*badErrorRate),
		keys:     map[string]string{"canary-service": "web-v3"},
		expected: "the same plan; the evidence that web-v3 breaks max-error-rate (5%) rolls it back at its first step, within seconds",
		note:     "plain users meet web-v3's errors only while it has its 10% share, and testers while the canary Ingress exists",
		expect:   weights.PhaseFailed,
	}}
}

// runRollouts drives the planned rollouts in turn; one that does not end as
// expected skips the rest, which start from its outcome.
func (d *demo) runRollouts(ctx context.Context) []result {
	var results []result
	for _, r := range plannedRollouts() {
		if n := len(results); n > 0 && !results[n-1].asExpected() {
			results = append(results, result{rollout: r})
			continue
		}
		results = append(results, d.drive(ctx, r))
	}
	return results
}

// drive starts one rollout, shows it live until it ends, then shows the
// traffic once nginx has applied the end.
func (d *demo) drive(ctx context.Context, r rollout) result {
	res := result{rollout: r, ran: true, reasons: map[string]int{},
		lastEvent: map[string]string{}, verdicts: map[time.Time]analysis.Outcome{}}
	section("%s: %s -> %s, %s", r.name, r.from, r.to, r.about)
	say("kubectl annotate %s %s -n %s \\\n       %s", objectKind(), ingressName, namespace, annotationArgs(r.keys))
	say("expected: %s.", r.expected)
	say("note: %s.", r.note)
	before := d.tally(ctx)
	res.started = time.Now()
	if err := d.shop.annotate(ctx, r.keys); err != nil {
		res.err = fmt.Errorf("annotate: %w", err)
		return res
	}
	res.answers = newAnswers(before.plain)
	view := newLiveView(res.started, versionOf(r.to), before.plain, before.testers)
	res.final, res.err = d.watch(ctx, &res, view)
	if res.err != nil {
		return res
	}
	// When we saw it (within pollEvery): the status's own time has whole seconds.
	res.ended = time.Now()
	d.waitEndEvent(ctx, &res, view)
	d.showOutcome(ctx, &res)
	res.during = d.tally(ctx).sub(before)
	res.after = d.measureAfter(ctx)
	return res
}

// annotationArgs renders keys as kubectl annotate arguments, one a line, in
// the order of the annotation reference.
func annotationArgs(keys map[string]string) string {
	var args []string
	for _, key := range annotations.SpecKeys {
		if v, ok := keys[strings.TrimPrefix(key.Name, annotations.Prefix)]; ok {
			args = append(args, key.Name+"="+v)
		}
	}
	return strings.Join(args, " \\\n       ")
}

// watch polls the status and the Events until the rollout ends (Succeeded,
// Failed or Invalid), printing a progress line every lineEvery and each
// Event as it appears.
func (d *demo) watch(parent context.Context, res *result, view *liveView) (weights.Status, error) {
	ctx, cancel := context.WithTimeout(parent, rolloutTimeout)
	defer cancel()
	view.printHeader()
	nextLine := time.Now().Add(lineEvery)
	var st weights.Status
	for {
		// A failed read keeps the last status; the next poll catches up.
		if s, err := d.shop.status(ctx); err == nil {
			st = s
		}
		plain := d.plain.snapshot()
		res.answers.update(plain)
		view.sample(plain, d.testers.snapshot())
		d.printEvents(ctx, res, view)
		// Until the controller has taken up the annotation, the status is the
		// previous rollout's (or none): nothing to show yet.
		current := st.Revision == res.to || st.Phase == weights.PhaseInvalid
		if current {
			res.note(st)
			if ended(st) {
				view.print(st)
				return st, nil
			}
			d.maybeShowPluginStatus(ctx, res, st, view)
		}
		if !time.Now().Before(nextLine) {
			if current {
				view.print(st)
			}
			nextLine = nextLine.Add(lineEvery)
		}
		select {
		case <-ctx.Done():
			why := fmt.Sprintf("did not end within %s", rolloutTimeout)
			if parent.Err() != nil {
				why = stopReason(parent)
			}
			return st, fmt.Errorf("%s (last status: %s, %q)", why, st.Phase, st.Message)
		case <-time.After(pollEvery):
		}
	}
}

// ended reports whether st is the end of a rollout.
func ended(st weights.Status) bool {
	switch st.Phase {
	case weights.PhaseSucceeded, weights.PhaseFailed, weights.PhaseInvalid:
		return true
	}
	return false
}

// printEvents prints the Events that appeared since the last call and keeps
// their reasons and messages for the summary.
func (d *demo) printEvents(ctx context.Context, res *result, view *liveView) {
	lines, reasons := d.events.next(ctx)
	for i, line := range lines {
		view.printEvent(line)
		res.reasons[reasons[i]]++
		res.lastEvent[reasons[i]] = line
	}
}

// waitEndEvent waits briefly for the Event that closes the rollout (Promoted
// or RolledBack), which the controller records just after the status.
func (d *demo) waitEndEvent(ctx context.Context, res *result, view *liveView) {
	reason := endReason(res.final.Phase)
	deadline := time.Now().Add(10 * time.Second)
	for res.lastEvent[reason] == "" && reason != "" && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(pollEvery)
		d.printEvents(ctx, res, view)
	}
}

// endReason is the reason of the Event that ends a rollout in phase.
func endReason(phase weights.Phase) string {
	switch phase {
	case weights.PhaseSucceeded:
		return "Promoted"
	case weights.PhaseFailed:
		return "RolledBack"
	case weights.PhaseInvalid:
		return "InvalidSpec"
	}
	return ""
}
