package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ingress-canary/ingress-canary/e2e/traffic"
	"github.com/ingress-canary/ingress-canary/weights"
)

// section starts a part of the demo's output.
func section(format string, args ...any) {
	fmt.Printf("\n== "+format+"\n", args...)
}

// say prints one line of the demo's narration.
func say(format string, args ...any) {
	fmt.Printf("   "+format+"\n", args...)
}

// liveView prints a rollout's progress lines: the controller's status (from
// the Ingress's status annotation) beside the split nginx really applied,
// measured by the traffic generators over the last measureWindow.
type liveView struct {
	started time.Time
	canary  string   // the canary's testapp version, e.g. "v2"
	samples []sample // the generators' counts, oldest first, spanning measureWindow
}

// measureWindow is how far back a progress line's measured split looks.
const measureWindow = 2 * time.Second

// sample is the traffic generators' counts at one moment.
type sample struct {
	at            time.Time
	plain, tester traffic.Counts
}

func newLiveView(started time.Time, canary string, plain, tester traffic.Counts) *liveView {
	return &liveView{started: started, canary: canary, samples: []sample{{started, plain, tester}}}
}

// sample records the counts now, keeping just enough older samples that the
// first is at least measureWindow old.
func (v *liveView) sample(plain, tester traffic.Counts) {
	now := time.Now()
	v.samples = append(v.samples, sample{now, plain, tester})
	for len(v.samples) > 2 && now.Sub(v.samples[1].at) >= measureWindow {
		v.samples = v.samples[1:]
	}
}

// Column layout of the progress lines. The analysis figures change only when
// a step's window is judged; the measured ones are new on every line.
const (
	statusColumns   = "%7s  %-11s %4s %6s"
	analysisLayout  = "%10s %6s %6s  %10s %6s %6s"
	analysisWidth   = 10 + 1 + 6 + 1 + 6 + 2 + 10 + 1 + 6 + 1 + 6
	measuredColumns = "%5s %7s %7s  %s"
)

// printHeader names the columns.
func (v *liveView) printHeader() {
	fmt.Printf("   "+statusColumns+" | %-*s | %s\n", "", "", "", "",
		analysisWidth, "last analysis (from Prometheus)", fmt.Sprintf("measured by the demo over the last %s", measureWindow))
	fmt.Printf("   "+statusColumns+" | "+analysisLayout+" | "+measuredColumns+"\n",
		"time", "phase", "step", "weight",
		"canary req", "5xx", "p99", "stable req", "5xx", "p99",
		"plain", "to "+v.canary, "non-2xx", "testers to "+v.canary)
}

// print writes one progress line for st, with the traffic of the last
// measureWindow (up to the last sample).
func (v *liveView) print(st weights.Status) {
	first, last := v.samples[0], v.samples[len(v.samples)-1]
	dp, dt := last.plain.Sub(first.plain), last.tester.Sub(first.tester)
	fmt.Printf("   "+statusColumns+" | %s | "+measuredColumns+"\n",
		elapsed(v.started), st.Phase, stepOf(st), weightOf(st),
		analysisColumns(st.LastAnalysis),
		strconv.Itoa(dp.Responses()), percent(dp.Share(v.canary), dp.Responses()), strconv.Itoa(dp.NonSuccess),
		fmt.Sprintf("%d of %d", dt.ByVersion[v.canary], dt.Responses()))
}

// printEvent writes an Event on its own line, in the time column of the
// progress lines so that the two read as one story.
func (v *liveView) printEvent(event string) {
	fmt.Printf("   %7s  > %s\n", elapsed(v.started), event)
}

func weightOf(st weights.Status) string {
	if !st.Weight.Known() {
		return "-"
	}
	return st.Weight.String() + "%"
}

func stepOf(st weights.Status) string {
	if st.Steps == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", st.Step, st.Steps)
}

// analysisColumns renders the canary's and stable's figures of the last
// analysis: requests, 5xx ratio and p99 latency.
func analysisColumns(a *weights.LastAnalysis) string {
	if a == nil {
		return fmt.Sprintf("%-*s", analysisWidth, "  (no window judged yet)")
	}
	return fmt.Sprintf(analysisLayout,
		count(a.Requests), ratio(a.ErrorRate), latency(a.LatencySeconds),
		count(a.Stable.Requests), ratio(a.Stable.ErrorRate), latency(a.Stable.LatencySeconds))
}

// count renders a request count from Prometheus' increase(), which
// extrapolates, so it is rarely a whole number; negative means unknown.
func count(f float64) string {
	if f < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f", f)
}

func ratio(f float64) string {
	if f < 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f%%", 100*f)
}

func latency(seconds float64) string {
	if seconds < 0 {
		return "-"
	}
	return fmt.Sprintf("%.0fms", 1000*seconds)
}

// percent renders a share, or "-" when nothing was measured.
func percent(share float64, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*share)
}

// elapsed renders the time since start, e.g. "12.5s".
func elapsed(start time.Time) string {
	return fmt.Sprintf("%.1fs", time.Since(start).Seconds())
}

// indent prefixes every line of text, for output of other commands.
func indent(text, prefix string) string {
	text = strings.TrimRight(text, "\n")
	return prefix + strings.ReplaceAll(text, "\n", "\n"+prefix)
}
