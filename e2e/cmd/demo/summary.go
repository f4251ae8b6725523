package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/e2e/traffic"
	"github.com/ingress-canary/ingress-canary/weights"
)

// printSummary prints, per rollout: its result and duration, the steps it
// took, the traffic each version served, and the errors users saw.
func (d *demo) printSummary(results []result) {
	section("Summary")
	for _, r := range results {
		fmt.Printf("   %s: %s -> %s, %s\n", r.name, r.from, r.to, r.about)
		if !r.ran {
			row("result", "not run: the rollout before it did not end as expected")
			continue
		}
		if r.err != nil {
			row("result", "did not end as expected: "+r.err.Error())
			continue
		}
		row("result", resultLine(r))
		row("steps", stepsLine(r))
		if ev := r.lastEvent[endReason(r.final.Phase)]; ev != "" {
			row("event", ev)
		}
		row("plain users", countsLine(r.during.plain))
		row("testers", countsLine(r.during.testers))
		if r.during.backends != nil {
			row("backends", backendsLine(r))
		}
		row("errors seen", errorsLine(r))
	}
}

// rolloutsAsExpected reports whether every planned rollout ended as planned:
// the healthy one Succeeded, the failing one Failed.
func rolloutsAsExpected(results []result) bool {
	for _, r := range results {
		if !r.asExpected() {
			return false
		}
	}
	return len(results) > 0
}

func row(label, text string) { fmt.Printf("     %-12s %s\n", label, text) }

// resultLine gives the phase, what it means and how long it took.
func resultLine(r result) string {
	took := r.ended.Sub(r.started).Round(100 * time.Millisecond)
	switch r.final.Phase {
	case weights.PhaseSucceeded:
		return fmt.Sprintf("Succeeded: %s promoted %s after the annotation", r.to, took)
	case weights.PhaseFailed:
		return fmt.Sprintf("Failed: rolled back %s after the annotation, at step %d/%d (%s%%)",
			took, r.final.Step, r.final.Steps, lastStepWeight(r))
	}
	return fmt.Sprintf("%s after %s: %s", r.final.Phase, took, r.final.Message)
}

func lastStepWeight(r result) string {
	if n := len(r.stepWeights); n > 0 {
		return r.stepWeights[n-1]
	}
	return r.final.Weight.String()
}

// stepsLine lists the weights the rollout went through and the analyses'
// verdicts seen in its status.
func stepsLine(r result) string {
	var b strings.Builder
	b.WriteString(weightsTaken(r))
	switch r.final.Phase {
	case weights.PhaseSucceeded:
		b.WriteString(" -> promoted")
	case weights.PhaseFailed:
		b.WriteString(" -> rolled back")
	}
	fmt.Fprintf(&b, " (%d of %d steps); analyses: %s", len(r.stepWeights), r.final.Steps, verdictsLine(r))
	return b.String()
}

// weightsTaken renders the steps' weights, e.g. "10% -> 25%".
func weightsTaken(r result) string {
	return strings.Join(r.stepWeights, "% -> ") + "%"
}

// verdictsLine counts the analyses by outcome, e.g. "1 NoData, 3 Pass".
func verdictsLine(r result) string {
	counts := map[analysis.Outcome]int{}
	for _, o := range r.verdicts {
		counts[o]++
	}
	var parts []string
	for _, o := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// countsLine renders a client's counts: requests per version and status.
func countsLine(c traffic.Counts) string {
	var versions []string
	for _, v := range slices.Sorted(maps.Keys(c.ByVersion)) {
		name := v
		if name == "" {
			name = "nginx itself" // no X-Version header: nginx answered
		}
		versions = append(versions, fmt.Sprintf("%s %d (%.1f%%)", name, c.ByVersion[v], 100*c.Share(v)))
	}
	var statuses []string
	for _, s := range slices.Sorted(maps.Keys(c.ByStatus)) {
		statuses = append(statuses, fmt.Sprintf("%d=%d", s, c.ByStatus[s]))
	}
	line := fmt.Sprintf("%d requests: %s; status %s", c.Total, strings.Join(versions, ", "), strings.Join(statuses, " "))
	if c.TransportErrors > 0 {
		line += fmt.Sprintf("; %d without a response", c.TransportErrors)
	}
	return line
}

// backendsLine renders what the two versions' backends counted themselves.
func backendsLine(r result) string {
	var parts []string
	for _, service := range []string{r.from, r.to} {
		v := r.during.backends[versionOf(service)]
		parts = append(parts, fmt.Sprintf("%s answered %d, with %d errors", versionOf(service), v.Requests, v.Errors))
	}
	return strings.Join(parts, "; ") + " (plain users and testers)"
}

// errorsLine says how many plain users' requests failed during the rollout
// and just after it, and, when the backends' own counts prove it, that every
// failure came from the canary.
func errorsLine(r result) string {
	p := r.during.plain
	line := fmt.Sprintf("plain users: %d of %d", p.NonSuccess, p.Total)
	canary, stable := r.during.backends[versionOf(r.to)], r.during.backends[versionOf(r.from)]
	if p.NonSuccess > 0 && r.during.backends != nil && stable.Errors == 0 && int64(p.NonSuccess) <= canary.Errors {
		steps := "step"
		if len(r.stepWeights) > 1 {
			steps = "steps"
		}
		line += fmt.Sprintf(", all from %s during its %s %s (%s returned no error)",
			r.to, weightsTaken(r), steps, r.from)
	}
	after := "the promotion"
	if r.final.Phase != weights.PhaseSucceeded {
		after = "the rollback"
	}
	return line + fmt.Sprintf("; in the %s after %s: %d of %d", afterWindow, after, r.after.plain.NonSuccess, r.after.plain.Total)
}
