package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ingress-canary/ingress-canary/annotations"
)

// Config is one benchmark invocation.
type Config struct {
	Ingresses int
	// Rollouts is the number of active rollouts of each measured run (one
	// per -trim setting); Compare, when set, adds a first, smaller run with
	// the first setting, to compare queries per tick with.
	Rollouts, Compare int
	// Repeat runs every measured run this many times, each with its own
	// Ingresses and controller process, for the spread from run to run.
	Repeat   int
	Trim     []bool
	Steps    string
	Interval time.Duration
	// Quiet is the steady-state period measured after all rollouts are done.
	Quiet time.Duration
	// ScrapeInterval is how often Prometheus scrapes the fake ingress-nginx.
	ScrapeInterval time.Duration
	// WriteLimit is how long the bare client loop runs that measures the
	// API server's write limit (0: not measured).
	WriteLimit time.Duration
	// Deadline bounds the whole benchmark, set-up and tear-down included.
	Deadline time.Duration
	// Creators is how many objects are created concurrently at set-up.
	Creators int
	// ControllerArgs are appended to the controller's flags (they win);
	// ControllerEnv to its environment. ControllerBin, when set, is run
	// instead of building ./cmd/ingress-canary (e.g. a copy with pprof).
	ControllerArgs, ControllerEnv []string
	ControllerBin                 string
	// TraceQueries puts a recording proxy between the controller and
	// Prometheus, to tell refreshes from window-start reads.
	TraceQueries bool
	Seed         uint64
	// MeasureFromAnnotated begins the measured period when the benchmark has
	// annotated every rollout, not when the controller has started them all:
	// at 3,000 rollouts the starts are themselves the backlog to measure.
	MeasureFromAnnotated bool
	// Failing is how many rollouts of each run have a canary that answers
	// 30 % 5xx, to measure rollbacks while the others step.
	Failing int
	// firstStep is the share of the rollouts' first step: a failing canary
	// regresses only past it (-steps).
	firstStep float64
}

// RunSpec is one measured run: a new controller process driving n rollouts.
type RunSpec struct {
	Index    int
	Rollouts int
	Trim     bool
}

// Runs lists the measured runs in order: the comparison run first.
func (c Config) Runs() []RunSpec {
	var out []RunSpec
	if c.Compare > 0 {
		out = append(out, RunSpec{Rollouts: c.Compare, Trim: c.Trim[0]})
	}
	for range max(c.Repeat, 1) {
		for _, t := range c.Trim {
			out = append(out, RunSpec{Rollouts: c.Rollouts, Trim: t})
		}
	}
	for i := range out {
		out[i].Index = i
	}
	return out
}

func parseFlags(args []string) (Config, error) {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	c := Config{}
	trim := fs.String("trim", "both", "controller --trim-cache: on, off, or both (one run each)")
	extra := fs.String("controller-args", "", "extra controller flags, space-separated (e.g. \"--kube-api-qps=200 --workers=4\")")
	env := fs.String("controller-env", "", "extra controller environment, space-separated KEY=VALUE (e.g. GODEBUG=gctrace=1)")
	fs.StringVar(&c.ControllerBin, "controller-bin", "", "run this controller binary instead of building ./cmd/ingress-canary")
	fs.BoolVar(&c.TraceQueries, "trace-queries", false, "put a recording proxy between the controller and Prometheus and report refreshes and window-start reads apart")
	fs.IntVar(&c.Ingresses, "ingresses", 10000, "Ingresses in the cluster (100 per namespace), each with its Service and EndpointSlice")
	fs.IntVar(&c.Rollouts, "rollouts", 1000, "active rollouts in each measured run")
	fs.IntVar(&c.Repeat, "repeat", 1, "run every measured run this many times (each with its own Ingresses and controller), for the spread")
	fs.DurationVar(&c.WriteLimit, "write-limit", 20*time.Second, "how long a bare client loop doing the controller's patches runs before the runs, to measure the API server's write limit (0: skip)")
	fs.IntVar(&c.Compare, "compare", 100, "rollouts of a first, smaller run to compare Prometheus queries per tick with (0: skip)")
	fs.StringVar(&c.Steps, "steps", "10,25,50", "ingress-canary.dev/steps of every rollout")
	fs.DurationVar(&c.Interval, "interval", 30*time.Second, "ingress-canary.dev/interval of every rollout; starts are spread over one interval")
	fs.DurationVar(&c.Quiet, "quiet", time.Minute, "steady-state period measured after all rollouts are done")
	fs.DurationVar(&c.ScrapeInterval, "scrape-interval", 5*time.Second, "how often Prometheus scrapes the fake ingress-nginx (whose 10,000 Ingresses' series take most of Prometheus's CPU, on the same cores as everything else); 5s is the controller's analysis tick, so that each tick's refresh sees a new scrape")
	fs.DurationVar(&c.Deadline, "deadline", 30*time.Minute, "hard limit of the whole benchmark")
	fs.IntVar(&c.Creators, "creators", 48, "objects created concurrently at set-up")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the fleet's request rates")
	fs.BoolVar(&c.MeasureFromAnnotated, "measure-from-annotated", false, "begin the measured period when the benchmark has annotated every rollout, not when every rollout has started (where the controller cannot start them all in time, e.g. 3,000 rollouts)")
	fs.IntVar(&c.Failing, "failing", 0, "rollouts of each run whose canary answers 30% 5xx once past its first step (rolled back while the others step)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch *trim {
	case "both":
		c.Trim = []bool{true, false}
	case "on":
		c.Trim = []bool{true}
	case "off":
		c.Trim = []bool{false}
	default:
		return c, fmt.Errorf("-trim %q: want on, off or both", *trim)
	}
	c.ControllerArgs, c.ControllerEnv = strings.Fields(*extra), strings.Fields(*env)
	spec, err := annotations.Parse(map[string]string{
		annotations.KeyCanaryService: "v2", annotations.KeySteps: c.Steps, annotations.KeyInterval: c.Interval.String(),
	})
	if err != nil {
		return c, fmt.Errorf("-steps %q -interval %s: %w", c.Steps, c.Interval, err)
	}
	c.firstStep = spec.Plan()[0].Ratio()
	runs := len(c.Runs())
	switch {
	case c.Ingresses < 1 || c.Ingresses > 100000:
		return c, fmt.Errorf("-ingresses %d: want 1 to 100000", c.Ingresses)
	case c.Repeat < 1 || c.WriteLimit < 0:
		return c, fmt.Errorf("-repeat %d -write-limit %s: want repeat >= 1, write-limit >= 0", c.Repeat, c.WriteLimit)
	case c.Failing < 0 || c.Failing > c.Rollouts:
		return c, fmt.Errorf("-failing %d: want 0 to -rollouts", c.Failing)
	case c.Rollouts < 1 || c.Compare < 0:
		return c, fmt.Errorf("-rollouts %d -compare %d: want at least one rollout", c.Rollouts, c.Compare)
	case c.Ingresses/max(c.Rollouts, c.Compare) < runs:
		// Each run rolls out its own Ingresses: run k uses i*stride+k.
		return c, fmt.Errorf("-ingresses %d is too few for %d runs of up to %d rollouts each (each run uses its own Ingresses)",
			c.Ingresses, runs, max(c.Rollouts, c.Compare))
	case c.Quiet < 0 || c.Deadline <= 0 || c.Creators < 1:
		return c, fmt.Errorf("-quiet %s -deadline %s -creators %d: want quiet >= 0, deadline > 0, creators >= 1", c.Quiet, c.Deadline, c.Creators)
	case c.ScrapeInterval < time.Second || c.ScrapeInterval > c.Interval/3:
		return c, fmt.Errorf("-scrape-interval %s: want 1s to a third of -interval %s, so that every window holds scrapes", c.ScrapeInterval, c.Interval)
	}
	return c, nil
}

// flagsOf is the command line that reproduces cfg, for the report.
func flagsOf(c Config) string {
	trim := map[int]string{2: "both"}[len(c.Trim)]
	if trim == "" {
		trim = map[bool]string{true: "on", false: "off"}[c.Trim[0]]
	}
	s := fmt.Sprintf("-ingresses %d -rollouts %d -compare %d -repeat %d -trim %s -steps %s -interval %s -quiet %s -scrape-interval %s -write-limit %s",
		c.Ingresses, c.Rollouts, c.Compare, c.Repeat, trim, c.Steps, c.Interval, c.Quiet, c.ScrapeInterval, c.WriteLimit)
	if c.MeasureFromAnnotated {
		s += " -measure-from-annotated"
	}
	if len(c.ControllerArgs) > 0 {
		s += " -controller-args " + strconv.Quote(strings.Join(c.ControllerArgs, " "))
	}
	if len(c.ControllerEnv) > 0 {
		s += " -controller-env " + strconv.Quote(strings.Join(c.ControllerEnv, " "))
	}
	if c.TraceQueries {
		s += " -trace-queries"
	}
	if c.Failing > 0 {
		s += fmt.Sprintf(" -failing %d", c.Failing)
	}
	if c.ControllerBin != "" {
		s += " -controller-bin " + c.ControllerBin
	}
	return s
}
