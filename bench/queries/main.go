// Command queries measures how many PromQL queries the controller's analysis
// sends per --analysis-tick, and shows that the number does not grow with the
// number of active rollouts. It serves a fake ingress-nginx /metrics for a
// fleet of Ingresses, has a real Prometheus (Debian's /usr/bin/prometheus)
// scrape it every second, and drives prom.Analyzer the way the controller
// does: every open window analysed at every tick, Since its step's start,
// Until now. Each fleet size has its own analyzer, as one controller would.
//
//	go run ./bench/queries                          # 10, 100 and 1000 rollouts over 2,000 Ingresses
//	go run ./bench/queries -rollouts 1000 -ticks 24 # one size, longer
//
// Everything listens on 127.0.0.1 only; the run stops by itself after
// ticks+2 ticks (or -deadline), and Prometheus is killed and its storage
// removed on every exit path but SIGKILL (where the kernel kills it).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Config is one benchmark run.
type Config struct {
	// Rollouts are the fleet sizes measured side by side; the largest is how
	// many Ingresses export a canary side.
	Rollouts  []int
	Ingresses int
	// Ticks are the measured ticks after the opening one.
	Ticks int
	// Tick is the controller's --analysis-tick; the analyzer's fresh is half of it.
	Tick time.Duration
	// Interval is the step interval: how long a window stays open before it is due.
	Interval time.Duration
	// Timeout is the controller's --analysis-timeout.
	Timeout time.Duration
	// Restart is how many windows a restarted analyzer reads at the end; 0 skips it.
	Restart int
	Seed    uint64
	// Deadline bounds the whole run.
	Deadline time.Duration
}

func parseFlags(args []string) (Config, error) {
	fs := flag.NewFlagSet("queries", flag.ContinueOnError)
	var c Config
	sizes := fs.String("rollouts", "10,100,1000", "active rollouts, one fleet per comma-separated size")
	// 2,000 by default: with 10,000 one refresh takes longer than fresh on a
	// 2-core machine that also runs Prometheus, and every analysis refreshes
	// (see docs/benchmarks.md); -ingresses 10000 measures exactly that.
	fs.IntVar(&c.Ingresses, "ingresses", 2000, "Ingresses the fake ingress-nginx exports")
	fs.IntVar(&c.Ticks, "ticks", 12, "measured ticks, after the opening one")
	fs.DurationVar(&c.Tick, "tick", 5*time.Second, "the controller's --analysis-tick")
	fs.DurationVar(&c.Interval, "interval", time.Minute, "step interval: how long a window stays open")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "the controller's --analysis-timeout")
	fs.IntVar(&c.Restart, "restart", 5, "windows a restarted controller reads at the end (0: skip)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the fleet's rates")
	fs.DurationVar(&c.Deadline, "deadline", 10*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return c, fmt.Errorf("-rollouts %q: want positive integers separated by commas", *sizes)
		}
		c.Rollouts = append(c.Rollouts, n)
	}
	slices.Sort(c.Rollouts)
	c.Rollouts = slices.Compact(c.Rollouts)
	switch {
	case c.Rollouts[len(c.Rollouts)-1] > c.Ingresses:
		return c, fmt.Errorf("-rollouts %d is more than -ingresses %d", c.Rollouts[len(c.Rollouts)-1], c.Ingresses)
	case c.Ticks < 1 || c.Ticks > 1000:
		return c, fmt.Errorf("-ticks %d: want 1 to 1000", c.Ticks)
	case c.Tick < time.Second:
		// Prometheus scrapes every second: a shorter tick would reread the
		// same samples.
		return c, fmt.Errorf("-tick %s: want at least 1s", c.Tick)
	case c.Interval < c.Tick:
		return c, fmt.Errorf("-interval %s: want at least -tick %s", c.Interval, c.Tick)
	}
	return c, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// Ctrl-C cancels the run; Run's deferred cleanup then stops Prometheus.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	res, err := Run(ctx, cfg, os.Stderr)
	stop()
	if res != nil {
		WriteReport(os.Stdout, cfg, res)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Result is everything a run measured.
type Result struct {
	Exporter ExporterStats
	// Ticks[i][k] is fleet i's tick k; tick 0 opens the windows.
	Ticks [][]TickStats
	// Sent is how many queries each fleet's client sent, to check Queries against.
	Sent    []int64
	Restart *TickStats
	// Memory is VmHWM (peak) of this process and VmRSS of Prometheus at the end.
	BenchPeakRSS, PrometheusRSS string
	Took                        time.Duration
}

// ExporterStats describe the fake ingress-nginx's scrape.
type ExporterStats struct {
	Series int
	Bytes  int
	Render time.Duration
}

// Run sets up the exporter and Prometheus, runs the ticks and returns what it
// measured, partial on error. Progress goes to log, one line per fleet and tick.
func Run(ctx context.Context, cfg Config, log io.Writer) (*Result, error) {
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cfg.Deadline)
	defer cancel()
	exporter, err := NewExporter(cfg.Ingresses, cfg.Rollouts[len(cfg.Rollouts)-1], cfg.Seed, time.Now)
	if err != nil {
		return nil, err
	}
	res := &Result{Exporter: measureRender(exporter)}
	fmt.Fprintf(log, "fake ingress-nginx: %d Ingresses, %d with a canary, %d requests series, %.1f MB per scrape rendered in %s\n",
		cfg.Ingresses, len(exporter.Rollouts()), res.Exporter.Series, float64(res.Exporter.Bytes)/1e6, res.Exporter.Render.Round(time.Millisecond))
	addr, stopExporter, err := serve(exporter)
	if err != nil {
		return nil, err
	}
	defer stopExporter()

	bin, err := prometheusBinary()
	if err != nil {
		return nil, err
	}
	prom, err := StartPrometheus(ctx, bin, addr)
	defer prom.Stop()
	if err != nil {
		return nil, err
	}
	if err := prom.WaitForSeries(ctx, exporter.Series(), 60*time.Second); err != nil {
		return nil, fmt.Errorf("%w\nprometheus log: %s", err, prom.LogTail())
	}
	fmt.Fprintf(log, "prometheus %s has every series after %s\n", prom.URL, time.Since(began).Round(time.Millisecond))

	err = runTicks(ctx, cfg, exporter.Rollouts(), prom, res, log)
	res.BenchPeakRSS = procStatus("/proc/self/status", "VmHWM")
	res.PrometheusRSS = prom.RSS()
	res.Took = time.Since(began)
	return res, err
}

// runTicks drives one fleet per size at every tick, smallest first, then the
// restart read.
func runTicks(ctx context.Context, cfg Config, rollouts []Rollout, prom *Prometheus, res *Result, log io.Writer) error {
	var fleets []*Fleet
	for _, n := range cfg.Rollouts {
		fleets = append(fleets, NewFleet(prom.API, rollouts[:n], cfg.Tick, cfg.Interval, cfg.Timeout))
	}
	res.Ticks = make([][]TickStats, len(fleets))
	res.Sent = make([]int64, len(fleets))
	start := time.Now()
	for k := 0; k <= cfg.Ticks; k++ {
		if err := sleepUntil(ctx, start.Add(time.Duration(k)*cfg.Tick)); err != nil {
			return err
		}
		for i, f := range fleets {
			var st TickStats
			if k == 0 {
				st = f.Open(ctx)
			} else {
				st = f.Tick(ctx)
			}
			res.Ticks[i] = append(res.Ticks[i], st)
			res.Sent[i] = f.SentQueries()
			fmt.Fprintf(log, "tick %2d  %5d rollouts  %4d opened  %3d queries  %7d series  %s  %v\n",
				k, st.Analysed, st.Opened, st.Queries, st.Series, st.Wall.Round(time.Millisecond), st.Outcomes)
			if err := ctx.Err(); err != nil {
				return err // the tick's last analyses were cut short
			}
		}
	}
	if cfg.Restart == 0 {
		return nil
	}
	// One tick later every window's start is more than fresh away from the
	// restarted analyzer's first snapshot, as after a real restart.
	if err := sleepUntil(ctx, start.Add(time.Duration(cfg.Ticks+1)*cfg.Tick)); err != nil {
		return err
	}
	st := fleets[len(fleets)-1].Restart(ctx, cfg.Restart)
	res.Restart = &st
	fmt.Fprintf(log, "restart  %d windows  %d queries  %s  %v\n", st.Analysed, st.Queries, st.Wall.Round(time.Millisecond), st.Outcomes)
	return nil
}

// sleepUntil waits for t. A cancelled ctx wins even when t has passed, which
// it has whenever a tick overran.
func sleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
