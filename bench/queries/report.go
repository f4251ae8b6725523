package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/bench/internal/fakenginx"
)

// WriteReport writes res as markdown: the command, the per-tick table, the
// summary per fleet size, the restart read and memory.
func WriteReport(w io.Writer, cfg Config, res *Result) {
	fmt.Fprintf(w, "Command: `go run ./bench/queries %s` (Go %s, %d CPUs, %s).\n\n",
		flagsOf(cfg), strings.TrimPrefix(runtime.Version(), "go"), runtime.NumCPU(), res.Took.Round(time.Second))
	fmt.Fprintf(w, "Fake ingress-nginx: %d Ingresses (%d with a canary side), %d requests series and %d histograms of %d buckets; "+
		"%.1f MB per scrape, rendered in %s. Prometheus scrapes it every 1 s.\n\n",
		cfg.Ingresses, cfg.Rollouts[len(cfg.Rollouts)-1], res.Exporter.Series, res.Exporter.Series, fakenginx.Buckets(),
		float64(res.Exporter.Bytes)/1e6, ms(res.Exporter.Render))
	if len(res.Ticks) == 0 {
		return // stopped before the first tick
	}
	writeTicks(w, cfg, res)
	writeSummary(w, cfg, res)
	if r := res.Restart; r != nil {
		fmt.Fprintf(w, "After a restart (a new analyzer, the first %d open windows, every start more than fresh ago): "+
			"%d queries in %s, of which %d read window starts at Since and %d refreshed the shared snapshot.\n\n",
			r.Analysed, r.Queries, ms(r.Wall), r.StartReads, r.Queries-r.StartReads)
	}
	fmt.Fprintf(w, "Memory at the end: benchmark process peak RSS (VmHWM, exporter and all analyzers) %s; Prometheus RSS %s.\n\n",
		res.BenchPeakRSS, res.PrometheusRSS)
}

func flagsOf(cfg Config) string {
	sizes := make([]string, len(cfg.Rollouts))
	for i, n := range cfg.Rollouts {
		sizes[i] = fmt.Sprint(n)
	}
	return fmt.Sprintf("-rollouts %s -ingresses %d -ticks %d -tick %s -interval %s -restart %d -seed %d",
		strings.Join(sizes, ","), cfg.Ingresses, cfg.Ticks, cfg.Tick, cfg.Interval, cfg.Restart, cfg.Seed)
}

// writeTicks writes one row per tick, with one figure per fleet size in each cell.
func writeTicks(w io.Writer, cfg Config, res *Result) {
	sizes := joinSizes(cfg.Rollouts)
	fmt.Fprintf(w, "| tick | queries (%s rollouts) | windows opened | series returned | wall time |\n", sizes)
	fmt.Fprintln(w, "|---:|---|---|---|---|")
	for k := range len(res.Ticks[0]) {
		var queries, opened, series, wall []string
		for i := range res.Ticks {
			if k >= len(res.Ticks[i]) {
				continue
			}
			st := res.Ticks[i][k]
			queries = append(queries, fmt.Sprint(st.Queries))
			opened = append(opened, fmt.Sprint(st.Opened))
			series = append(series, fmt.Sprint(st.Series))
			wall = append(wall, ms(st.Wall))
		}
		name := fmt.Sprint(k)
		if k == 0 {
			name = "0 (open)"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", name, strings.Join(queries, " / "), strings.Join(opened, " / "),
			strings.Join(series, " / "), strings.Join(wall, " / "))
	}
	fmt.Fprintln(w)
}

// writeSummary writes one row per fleet size over all its ticks.
func writeSummary(w io.Writer, cfg Config, res *Result) {
	fmt.Fprintln(w, "| active rollouts | ticks | analyses | queries per tick, p50 / max | queries in all (client count) | series per query | wall per tick, p50 / max | verdicts |")
	fmt.Fprintln(w, "|---:|---:|---:|---|---|---:|---|---|")
	for i, ticks := range res.Ticks {
		if len(ticks) == 0 {
			continue // the run stopped before this fleet's first tick
		}
		var queries, walls []int64
		var analyses, total, series int64
		outcomes := map[analysis.Outcome]int{}
		for _, st := range ticks {
			queries = append(queries, st.Queries)
			walls = append(walls, int64(st.Wall))
			analyses += int64(st.Analysed)
			total += st.Queries
			series += st.Series
			for o, n := range st.Outcomes {
				outcomes[o] += n
			}
		}
		perQuery := "–"
		if total > 0 {
			perQuery = fmt.Sprint(series / total)
		}
		fmt.Fprintf(w, "| %d | %d | %d | %d / %d | %d (%d) | %s | %s / %s | %s |\n",
			cfg.Rollouts[i], len(ticks), analyses, p50(queries), slices.Max(queries), total, res.Sent[i], perQuery,
			ms(time.Duration(p50(walls))), ms(time.Duration(slices.Max(walls))), verdicts(outcomes))
	}
	fmt.Fprintln(w)
}

func joinSizes(sizes []int) string {
	out := make([]string, len(sizes))
	for i, n := range sizes {
		out[i] = fmt.Sprint(n)
	}
	return strings.Join(out, " / ")
}

// p50 is the nearest-rank median.
func p50(v []int64) int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

func verdicts(o map[analysis.Outcome]int) string {
	var parts []string
	for _, k := range []analysis.Outcome{analysis.Pass, analysis.Fail, analysis.NoData, analysis.Unavailable} {
		if o[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, o[k]))
		}
	}
	return strings.Join(parts, ", ")
}
