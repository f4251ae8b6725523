package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/ingress-canary/ingress-canary/bench/internal/fakenginx"
	"github.com/ingress-canary/ingress-canary/weights"
)

// Goals of the issue, to compare against.
const (
	goalRSSMiB  = 80
	goalLateP99 = time.Second
)

// machine describes where the benchmark ran.
func machine() string {
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("Go %s, %d CPUs, Linux %s", strings.TrimPrefix(runtime.Version(), "go"), runtime.NumCPU(), strings.TrimSpace(string(kernel)))
}

// WriteReport writes res as markdown tables.
func WriteReport(w io.Writer, cfg Config, res *Result) {
	fmt.Fprintf(w, "Command: `go run ./bench/scale %s` (%s; %s in all).\n\n", flagsOf(cfg), res.Machine, res.Took.Round(time.Second))
	s := res.Setup
	fmt.Fprintf(w, "Cluster (etcd, kube-apiserver, kube-controller-manager, Prometheus) started in %s. %d Ingresses in %d namespaces, each with its (headless) Service and EndpointSlice, "+
		"and per rollout a canary Service and EndpointSlice with ready endpoints: %d objects, created as `kubectl apply` does "+
		"(last-applied-configuration and managedFields) in %s. Fake ingress-nginx: %d requests series with %d-bucket histograms, %.1f MB per scrape "+
		"(rendered in %s), scraped every %s; Prometheus had them %s later. Every rollout: steps %s, interval %s, default thresholds (min-requests 50); "+
		"starts spread over one interval; the canary's share of its Ingress's requests follows the canary Ingress's weight.\n\n",
		s.ClusterStart.Round(100*time.Millisecond), cfg.Ingresses, (cfg.Ingresses+99)/100, s.Objects, s.Create.Round(time.Second),
		s.Series, fakenginx.Buckets(), float64(s.ScrapeBytes)/1e6, s.Render.Round(time.Millisecond), cfg.ScrapeInterval, s.Scraped.Round(100*time.Millisecond),
		cfg.Steps, cfg.Interval)
	if len(res.Runs) == 0 {
		return
	}
	writeController(w, res.Runs)
	writeLateness(w, cfg, res.Runs)
	writeWrites(w, res.Runs, cfg.MeasureFromAnnotated)
	writeQueries(w, res.Runs)
	writeInternals(w, res.Runs)
	writeAgainstLimit(w, res.WriteLimit, res.Runs)
	writeMachine(w, res.Runs)
	writeGoals(w, cfg, res.Runs)
	if s.FollowErrors > 0 {
		fmt.Fprintf(w, "The fake ingress-nginx could not follow %d canary Ingress changes; last: %s\n\n", s.FollowErrors, s.LastFollowError)
	}
	for _, r := range res.Runs {
		if r.Err != nil {
			fmt.Fprintf(w, "Stopped early: %v\n\n", r.Err)
		}
	}
}

func runName(r *RunResult) string {
	return fmt.Sprintf("%d: %d rollouts, trim %s", r.Spec.Index, r.Spec.Rollouts, map[bool]string{true: "on", false: "off"}[r.Spec.Trim])
}

func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

func medianMax(kb []int64) string {
	if len(kb) == 0 {
		return "–"
	}
	s := slices.Clone(kb)
	slices.Sort(s)
	return fmt.Sprintf("%.1f / %.1f MiB", float64(s[(len(s)-1)/2])/1024, float64(s[len(s)-1])/1024)
}

func writeController(w io.Writer, runs []*RunResult) {
	fmt.Fprintln(w, "| run | controller start → led, synced, idle | peak RSS (VmHWM) after sync / at end | RSS median / max, measured | RSS median / max, steady | RSS at end: anonymous / file (the binary) | Go heap in use at end | CPU, measured / steady |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range runs {
		heap, cpu := "–", "–"
		if r.Measured != nil {
			heap = fmt.Sprintf("%.1f MiB", r.Measured.heapEnd/(1<<20))
			cpu = fmt.Sprintf("%.2f / –", r.Measured.cpu)
			if r.Quiet != nil {
				cpu = fmt.Sprintf("%.2f / %.3f cores", r.Measured.cpu, r.Quiet.cpu)
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s / %s | %s | %s | %s / %s | %s | %s |\n", runName(r), r.Startup.Round(100*time.Millisecond),
			mib(r.HWMSynced), mib(r.HWM), medianMax(r.RSSMeasured), medianMax(r.RSSQuiet), mib(r.RSSAnon), mib(r.RSSFile), heap, cpu)
	}
	fmt.Fprintln(w)
}

func dur(d time.Duration) string {
	if d.Abs() < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func pct(p Percentiles) string {
	if p.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%s / %s / %s", dur(p.P50), dur(p.P99), dur(p.Max))
}

func count(ts []Transition, kind string) int {
	n := 0
	for _, t := range ts {
		if t.Kind == kind {
			n++
		}
	}
	return n
}

func writeLateness(w io.Writer, cfg Config, runs []*RunResult) {
	steps := len(mustPlan(cfg))
	fmt.Fprintln(w, "Step lateness: for every step taken (the next weight, or promotion), the time the new status became visible to a watch on the Ingresses, "+
		"and the controller's own stepStarted, minus the previous status's nextCheck (when the step was due).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| run | steps taken / due in all | visible − due, p50 / p99 / max | stepStarted − due, p50 / p99 / max | held windows | rolled back | succeeded / of |")
	fmt.Fprintln(w, "|---|---:|---|---|---:|---:|---|")
	for _, r := range runs {
		seen, reported := lateness(r.Transitions)
		fmt.Fprintf(w, "| %s | %d / %d | %s | %s | %d | %d | %d / %d |\n", runName(r), seen.N, steps*r.Spec.Rollouts, pct(seen), pct(reported),
			count(r.Transitions, kindHold), count(r.Transitions, kindFailed), r.Phases[weights.PhaseSucceeded], r.Spec.Rollouts)
	}
	fmt.Fprintln(w)
}

func perChange(n float64, changes int) string {
	if changes == 0 {
		return fmt.Sprintf("%.0f", n)
	}
	return fmt.Sprintf("%.0f (%.2f)", n, n/float64(changes))
}

func writeWrites(w io.Writer, runs []*RunResult, fromAnnotated bool) {
	from := "every rollout had started (the benchmark's last write)"
	if fromAnnotated {
		from = "the benchmark had annotated every rollout (its last write; -measure-from-annotated: the controller's starts count)"
	}
	fmt.Fprintln(w, "API writes (kube-apiserver's apiserver_request_total, verbs POST, PUT, PATCH, DELETE, APPLY), measured from the moment "+from+
		" until all had ended; in brackets per status change of a rollout (a step, a promotion stage, the end). "+
		"Steady state: the period after all had ended.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| run | measured | status changes (steps + stages + ends) | ingresses | of them refused (4xx) | events | leases | other | steady state (after the keepers went) | ingresses | events | leases (controller's renewals) | Prometheus queries |")
	fmt.Fprintln(w, "|---|---:|---|---|---:|---|---:|---|---:|---:|---:|---|---:|")
	for _, r := range runs {
		m := r.Measured
		if m == nil {
			continue
		}
		ts := transitionsIn(r.Transitions, m.from, m.to)
		changes := len(ts)
		_, other := others(m.writes, "ingresses", "events", "leases")
		if other == "" {
			other = "0"
		}
		var refused []string
		verbs := ingressVerbs(m.writes)
		for _, v := range writeVerbs {
			for k, n := range m.writes {
				if code, ok := strings.CutPrefix(k, "ingresses "+v+"/"); ok && n > 0 {
					refused = append(refused, fmt.Sprintf("%s %s %.0f", v, code, n))
				}
			}
		}
		slices.Sort(refused)
		if len(refused) == 0 {
			refused = []string{"0"}
		}
		row := fmt.Sprintf("| %s | %s | %d (%d + %d + %d) | %s: %s | %s | %s | %.0f | %s |", runName(r), m.Duration().Round(time.Second), changes,
			count(ts, kindAdvance)+count(ts, kindHold), count(ts, kindStage), count(ts, kindDone)+count(ts, kindFailed),
			perChange(m.writes["ingresses"], changes), strings.Join(verbs, ", "), strings.Join(refused, ", "), perChange(m.writes["events"], changes), m.writes["leases"], other)
		if q := r.Quiet; q != nil {
			quietIngresses := fmt.Sprintf("%.0f", q.writes["ingresses"])
			if v := ingressVerbs(q.writes); len(v) > 0 {
				quietIngresses += ": " + strings.Join(v, ", ")
			}
			row += fmt.Sprintf(" %s | %s | %.0f | %.0f (%d) | %.0f |", q.Duration().Round(time.Second), quietIngresses, q.writes["events"],
				q.writes["leases"], r.QuietLeases, q.queries)
		} else {
			row += " – | | | | |"
		}
		fmt.Fprintln(w, row)
	}
	fmt.Fprintln(w)
}

// writeVerbs are the write verbs the report names.
var writeVerbs = []string{"POST", "PATCH", "PUT", "DELETE", "APPLY"}

// ingressVerbs are the Ingress writes of writes by verb, e.g. "PATCH 12".
func ingressVerbs(writes map[string]float64) []string {
	var verbs []string
	for _, v := range writeVerbs {
		if n := writes["ingresses "+v]; n > 0 {
			verbs = append(verbs, fmt.Sprintf("%s %.0f", v, n))
		}
	}
	return verbs
}

// queriesPerTick is Prometheus instant queries per controller analysis tick
// over the measured period.
func queriesPerTick(r *RunResult) (ticks, perTick float64) {
	if r.Measured == nil || r.Tick <= 0 {
		return math.NaN(), math.NaN()
	}
	ticks = r.Measured.Duration().Seconds() / r.Tick.Seconds()
	return ticks, r.Measured.queries / ticks
}

func writeQueries(w io.Writer, runs []*RunResult) {
	fmt.Fprintln(w, "Prometheus queries (its own prometheus_http_requests_total{handler=\"/api/v1/query\"}; the benchmark sends none while measuring), "+
		"per controller analysis tick, over the measured period.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| run | active rollouts | ticks | queries | per tick | mean query time | fake ingress-nginx scrape, mean / max | failed scrapes |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---|---|---:|")
	for _, r := range runs {
		if r.Measured == nil {
			continue
		}
		ticks, per := queriesPerTick(r)
		mean := "–"
		if r.Measured.queries > 0 {
			mean = dur(time.Duration(r.Measured.queryTime / r.Measured.queries * float64(time.Second)))
		}
		fmt.Fprintf(w, "| %s | %d | %.1f | %.0f | %.2f | %s | %s / %s | %.0f |\n", runName(r), r.Spec.Rollouts, ticks, r.Measured.queries, per, mean,
			dur(secs(r.Scrape.Mean)), dur(secs(r.Scrape.Max)), r.Scrape.Failed)
	}
	fmt.Fprintln(w)
	for _, r := range runs {
		if r.Trace != nil {
			fmt.Fprintf(w, "Queries traced in run %s: %s.\n", runName(r), r.Trace)
		}
	}
	fmt.Fprintln(w)
}

func secs(s float64) time.Duration {
	if math.IsNaN(s) {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}

func writeInternals(w io.Writer, runs []*RunResult) {
	fmt.Fprintln(w, "Controller internals over the measured period (its /metrics): the workqueue's wait and work, one reconcile (analysis included), and a due step's look inside its sync (a wait for Prometheus included; a look that would wait answers at once and requeues instead since this column was added).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| run | syncs | queue depth median / max (sampled each second) | queue wait mean / share over 1 s | work mean | reconcile p50 / p99 (from buckets) | due looks; p50 / p99 / mean | rollbacks: decision to rolled back, p50 / p99 / share over 1.02 s |")
	fmt.Fprintln(w, "|---|---:|---|---|---|---|---|---|")
	for _, r := range runs {
		m := r.Measured
		if m == nil {
			continue
		}
		depth := "–"
		if d := slices.Clone(r.DepthMeasured); len(d) > 0 {
			slices.Sort(d)
			depth = fmt.Sprintf("%.0f / %.0f", d[(len(d)-1)/2], d[len(d)-1])
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s / %.1f %% | %s | %s / %s | %.0f; %s / %s / %s | %s |\n", runName(r), m.work.Count, depth,
			dur(secs(m.queue.Mean())), 100*m.queue.Above(1), dur(secs(m.work.Mean())),
			dur(secs(m.reconcile.Quantile(0.5))), dur(secs(m.reconcile.Quantile(0.99))),
			m.dueLook.Count, dur(secs(m.dueLook.Quantile(0.5))), dur(secs(m.dueLook.Quantile(0.99))), dur(secs(m.dueLook.Mean())),
			rollbackLateness(m.rollbacks))
	}
	fmt.Fprintln(w)
}

// writeAgainstLimit compares the controller's sync rate while its queue held
// work with the bare loop's rate of steps' writes.
func writeAgainstLimit(w io.Writer, l *WriteLimit, runs []*RunResult) {
	if l == nil {
		return
	}
	fmt.Fprintf(w, "Write limit: a bare client loop (%d loops, as many as the controller's workers, no client-side rate limit) did a step's writes "+
		"(a conditional status patch and a weight patch, on two Ingresses) %.0f times a second (%.0f patches/s; %s a pair; %d errors%s) for %s, load %s. "+
		"The controller's rate is its syncs per second over the seconds its queue was never empty (sampled each second).\n\n",
		l.Workers, l.PairsPerSecond(), l.Requests, dur(l.PerPair), l.Errors, lastErr(l.LastErr), l.Took.Round(time.Second), l.Load)
	fmt.Fprintln(w, "| run | syncs/s, mean over the measured period | seconds with a backlog | syncs/s with a backlog | ratio to the bare loop |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	for _, r := range slices.DeleteFunc(slices.Clone(runs), func(r *RunResult) bool { return r.Measured == nil }) {
		ratio, b := "–", r.Backlog
		if b.Seconds > 0 && l.PairsPerSecond() > 0 {
			ratio = fmt.Sprintf("%.0f %%", 100*b.Rate()/l.PairsPerSecond())
		}
		fmt.Fprintf(w, "| %s | %.1f | %.0f | %.1f | %s |\n", runName(r), r.Measured.work.Count/r.Measured.Duration().Seconds(), b.Seconds, b.Rate(), ratio)
	}
	fmt.Fprintln(w)
}

func lastErr(e string) string {
	if e == "" {
		return ""
	}
	return ", last: " + e
}

func writeMachine(w io.Writer, runs []*RunResult) {
	fmt.Fprintln(w, "Machine during the measured period: load average (1, 5, 15 min) at the run's start and end, CPU in cores: the whole machine "+
		"(whatever else runs on it too) and each process of the benchmark's sandbox.")
	fmt.Fprintln(w)
	names := []string{"controller", "kube-apiserver", "etcd", "prometheus", "kube-controller-manager", "benchmark"}
	fmt.Fprintf(w, "| run | load at start / end | machine busy | %s | outside the sandbox |\n", strings.Join(names, " | "))
	fmt.Fprintf(w, "|---|---|---:|%s---:|\n", strings.Repeat("---:|", len(names)))
	for _, r := range runs {
		for _, m := range []*period{r.Measured, r.Quiet} {
			if m == nil {
				continue
			}
			name, load := runName(r), r.LoadStart+" / "+r.LoadEnd
			if m == r.Quiet {
				name, load = runName(r)+", steady state", ""
			}
			cells := make([]string, len(names))
			var inside float64
			for i, n := range names {
				cells[i] = fmt.Sprintf("%.2f", m.components[n])
				inside += m.components[n]
			}
			fmt.Fprintf(w, "| %s | %s | %.2f | %s | %.2f |\n", name, load, m.machineBusy, strings.Join(cells, " | "), max(m.machineBusy-inside, 0))
		}
	}
	fmt.Fprintln(w)
}

func writeGoals(w io.Writer, cfg Config, runs []*RunResult) {
	fmt.Fprintln(w, "| goal | measured | met |")
	fmt.Fprintln(w, "|---|---|---|")
	yes := map[bool]string{true: "yes", false: "**no**"}
	for _, r := range runs {
		if r.Spec.Rollouts != cfg.Rollouts {
			continue
		}
		fmt.Fprintf(w, "| controller RSS ≤ %d MiB (run %s) | peak %s, steady median %s | %s |\n", goalRSSMiB, runName(r), mib(r.HWM),
			strings.Split(medianMax(r.RSSQuiet), " /")[0]+" MiB", yes[r.HWM <= goalRSSMiB*1024])
		seen, _ := lateness(r.Transitions)
		fmt.Fprintf(w, "| step lateness p99 ≤ %s (run %s) | %s | %s |\n", dur(goalLateP99), runName(r), dur(seen.P99), yes[seen.N > 0 && seen.P99 <= goalLateP99])
		if m := r.Measured; m != nil && m.rollbacks.Count > 0 {
			// Buckets double from 1 ms: 1.024 s is the bound nearest 1 s.
			fmt.Fprintf(w, "| every rollback within 1 s of its decision (run %s) | %s | %s |\n", runName(r), rollbackLateness(m.rollbacks), yes[m.rollbacks.Above(1.024) == 0])
		}
	}
	var small, large *RunResult
	for _, r := range runs {
		if r.Measured == nil {
			continue
		}
		if small == nil || r.Spec.Rollouts < small.Spec.Rollouts {
			small = r
		}
		if large == nil || r.Spec.Rollouts > large.Spec.Rollouts {
			large = r
		}
	}
	if small != nil && large != nil && small != large {
		_, a := queriesPerTick(small)
		_, b := queriesPerTick(large)
		// Independent: ten times the rollouts cost at most one more query
		// per tick (a refresh is three).
		fmt.Fprintf(w, "| Prometheus queries per tick independent of the rollout count | %.2f at %d rollouts, %.2f at %d | %s |\n",
			a, small.Spec.Rollouts, b, large.Spec.Rollouts, yes[b-a <= 1])
	}
	fmt.Fprintln(w)
}

// rollbackLateness is the controller's own measure of how late it rolled
// back after the scan decided to (ingress_canary_decision_lateness_seconds).
func rollbackLateness(h histogram) string {
	if h.Count == 0 {
		return "– (none)"
	}
	return fmt.Sprintf("%.0f: %s / %s / %.1f %%", h.Count, dur(secs(h.Quantile(0.5))), dur(secs(h.Quantile(0.99))), 100*h.Above(1.024))
}
