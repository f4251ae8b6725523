package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

// barWidth is the number of cells in the progress bar.
const barWidth = 30

// renderStatus draws the view. It reads no clock and does no I/O but writing to w.
func renderStatus(w io.Writer, v statusView) {
	st := v.Status
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	field := func(name, value string) { fmt.Fprintf(tw, "%s:\t%s\n", name, value) }
	kind := v.Kind
	if kind == "" {
		kind = kindIngress
	}
	field(kind, v.Namespace+"/"+v.Name)
	phase := string(st.Phase)
	if !v.HasStatus {
		phase = "<none> (the controller has not written a status yet)"
	}
	field("Phase", phase)
	if v.Revision != "" {
		canary := v.Revision
		if v.Stable != "" {
			canary += " replacing " + v.Stable
		}
		field("Canary", canary)
	}
	if v.HasStatus {
		field("Progress", progressBar(v))
		if steps := stepList(v); steps != "" {
			field("Steps", steps)
		}
		field("Weight", orNone(formatWeight(st.Weight)))
		field("Next check", nextCheck(st.NextCheck, v.Now))
		if j := st.Judgement; j != nil && st.Active() {
			field("Evidence", evidenceLine(*j))
			field("Forecast", forecastLine(*j))
		}
	}
	if st.Message != "" {
		field("Message", st.Message)
	}
	if len(v.Pending) > 0 {
		field("Pending", strings.Join(v.Pending, ", ")+" (not yet acted on)")
	}
	for _, p := range v.Problems {
		field("Problem", p)
	}
	_ = tw.Flush()
	if st.LastAnalysis != nil {
		renderAnalysis(w, st.LastAnalysis, v.Quantile, v.Now)
	}
	renderEvents(w, v.Events, v.Now)
}

// progressBar fills in proportion to the steps done: "[#######---------] step 2/4".
func progressBar(v statusView) string {
	st := v.Status
	total := st.Steps
	if total == 0 {
		total = len(v.Plan)
	}
	filled := 0
	switch {
	case st.Phase == weights.PhasePromoting || st.Phase == weights.PhaseSucceeded:
		filled = barWidth
	case total > 0:
		filled = min(barWidth, barWidth*max(st.Step, 0)/total)
	}
	bar := "[" + strings.Repeat("#", filled) + strings.Repeat("-", barWidth-filled) + "]"
	switch {
	case st.Phase == weights.PhaseSucceeded:
		return bar + " done"
	case st.Phase == weights.PhasePromoting:
		return bar + " promoting"
	case total > 0:
		return fmt.Sprintf("%s step %d/%d", bar, st.Step, total)
	}
	return bar
}

// stepList names every step, the current one in brackets: "5%  [10%]  25%  50%  then promote".
func stepList(v statusView) string {
	if len(v.Plan) == 0 {
		return ""
	}
	if v.Strategy == annotations.StrategyBlueGreen {
		return "preview at 0% (header/cookie only), then switch to 100%"
	}
	parts := make([]string, 0, len(v.Plan)+1)
	for i, w := range v.Plan {
		s := w.String() + "%"
		if i+1 == v.Status.Step && v.Status.Phase != weights.PhaseSucceeded {
			s = "[" + s + "]"
		}
		parts = append(parts, s)
	}
	parts = append(parts, "then promote")
	return strings.Join(parts, "  ")
}

// evidenceLine is the step's evidence so far: "regression 0.31 (rollback at
// 100); 71% of the way to no worse than 2× stable".
func evidenceLine(j weights.StepJudgement) string {
	return fmt.Sprintf("of regression %.3g (rollback at %.3g); %s", j.Regression, j.RollbackAt, j.PassLine())
}

// forecastLine is how much longer the step should take at its traffic.
func forecastLine(j weights.StepJudgement) string {
	if j.Remaining == "" {
		return fmt.Sprintf("not expected to decide within max-step-duration at %.3g canary req/s", j.CanaryRPS)
	}
	return fmt.Sprintf("about %s more at %.3g canary req/s, if the canary is as healthy as stable", j.Remaining, j.CanaryRPS)
}

func nextCheck(at *time.Time, now time.Time) string {
	switch {
	case at == nil:
		return "<none>"
	case !at.After(now):
		return "due now"
	}
	return "in " + duration.HumanDuration(at.Sub(now))
}

func renderAnalysis(w io.Writer, a *weights.LastAnalysis, quantile float64, now time.Time) {
	when := ""
	if !a.At.IsZero() {
		when = ", " + duration.HumanDuration(now.Sub(a.At)) + " ago"
	}
	if a.Outcome == analysis.Unavailable {
		// No figures were measured; the message says what went wrong.
		fmt.Fprintf(w, "\nLast analysis: %s%s (Prometheus could not be asked)\n", a.Outcome, when)
		return
	}
	fmt.Fprintf(w, "\nLast analysis: %s%s\n", a.Outcome, when)
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "  \tCANARY\tSTABLE")
	fmt.Fprintf(tw, "  requests\t%s\t%s\n", formatRequests(a.Requests), formatRequests(a.Stable.Requests))
	fmt.Fprintf(tw, "  error rate\t%s\t%s\n", formatRatio(a.ErrorRate), formatRatio(a.Stable.ErrorRate))
	fmt.Fprintf(tw, "  %s latency\t%s\t%s\n", quantileLabel(quantile), formatSeconds(a.LatencySeconds), formatSeconds(a.Stable.LatencySeconds))
	if a.SlowAbove > 0 {
		fmt.Fprintf(tw, "  slower than %gs\t%s\t%s\n", a.SlowAbove, formatRequests(a.Slow), formatRequests(a.Stable.Slow))
	}
	_ = tw.Flush()
}

func renderEvents(w io.Writer, events []eventLine, now time.Time) {
	if len(events) == 0 {
		fmt.Fprint(w, "\nEvents: <none>\n")
		return
	}
	fmt.Fprint(w, "\nEvents:\n")
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "  LAST SEEN\tTYPE\tREASON\tMESSAGE")
	for _, e := range events {
		seen := "<unknown>"
		if !e.Time.IsZero() {
			seen = duration.HumanDuration(now.Sub(e.Time))
		}
		if e.Count > 1 {
			seen += fmt.Sprintf(" (x%d)", e.Count)
		}
		// Event messages may hold newlines; one Event stays on one line.
		msg := strings.Join(strings.Fields(e.Message), " ")
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", seen, e.Type, e.Reason, msg)
	}
	_ = tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
