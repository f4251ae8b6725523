package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/controller"
	"github.com/ingress-canary/ingress-canary/preflight"
	"github.com/ingress-canary/ingress-canary/weights"
)

// drain is how long after the last rollout ended the measured period goes
// on, for the controller's last Events (sent in the background) to land;
// then it goes on until the keeper Ingresses are gone (waitKeepersGone).
const drain = 5 * time.Second

// promotionSettle is the controller's default --promotion-settle: a
// promotion takes two of them after the last step.
const promotionSettle = 5 * time.Second

// RunResult is what one run measured. Periods: measured, from the moment
// every rollout has started (the benchmark's last write) until all have ended
// plus drain; quiet, the steady state after it.
type RunResult struct {
	Spec RunSpec
	// Err is why the run stopped early, if it did; the figures are partial.
	// Late says it was only that not every rollout ended in time.
	Err  error
	Late bool
	// Startup is from the controller's start to led, synced and idle;
	// HWMSynced its peak RSS by then, HWM at the end (kB); RSSAnon and
	// RSSFile split its RSS at the end: the heap and the runtime's memory,
	// and the binary's own pages, which no Go memory limit counts.
	Startup          time.Duration
	HWMSynced, HWM   int64
	RSSAnon, RSSFile int64
	StartErrors      int64
	Started, Ended   int
	Phases           map[weights.Phase]int
	// Transitions are every status change of the run's rollouts.
	Transitions     []Transition
	Measured, Quiet *period
	// QuietLeases are the controller's Lease renewals seen in the quiet period.
	QuietLeases           int
	RSSMeasured, RSSQuiet []int64
	// DepthMeasured is the controller's workqueue depth, sampled every second.
	DepthMeasured []float64
	// Backlog is the sync rate while the queue held work.
	Backlog            Backlog
	LoadStart, LoadEnd string
	Tick               time.Duration
	Scrape             scrapeStats
	// Trace is the measured period's queries by kind (-trace-queries).
	Trace *traceSummary
}

// runOnce starts a controller, rolls out spec.Rollouts Ingresses with starts
// spread over one interval, measures, and stops the controller.
func (b *bench) runOnce(ctx context.Context, spec RunSpec) (res *RunResult) {
	res = &RunResult{Spec: spec, LoadStart: loadavg(), Tick: analysisTick(b.cfg.ControllerArgs)}
	began := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	fail := func(err error) *RunResult {
		res.Err = err
		res.LoadEnd = loadavg()
		return res
	}
	w, err := watchRun(b.client, spec.Index, stop)
	if err != nil {
		return fail(err)
	}
	defer func() { res.Transitions = w.all(); res.Phases = w.phases(); res.Started, res.Ended = w.progress() }()

	name := fmt.Sprintf("ingress-canary-run%d", spec.Index)
	proc, err := b.c.StartProcess(name, b.cfg.ControllerEnv, append([]string{b.bin}, controllerArgs(b.c, b.promURL, spec.Trim, b.cfg.ControllerArgs)...)...)
	if err != nil {
		return fail(err)
	}
	defer func() {
		if v, err := statusKB(proc.Pid(), "VmHWM"); err == nil && res.HWM == 0 {
			res.HWM = v["VmHWM"]
		}
		if err := proc.Stop(); err != nil {
			b.logf("run %d: stop controller: %v", spec.Index, err)
		}
	}()
	rss := sampleRSS(proc.Pid())
	defer rss.Stop()
	b.logf("run %d: %d rollouts, --trim-cache=%t; controller log %s", spec.Index, spec.Rollouts, spec.Trim, proc.LogPath())
	if err := waitSynced(ctx, proc, 3*time.Minute); err != nil {
		return fail(err)
	}
	res.Startup = time.Since(began)
	if v, err := statusKB(proc.Pid(), "VmHWM"); err == nil {
		res.HWMSynced = v["VmHWM"]
	}
	b.logf("run %d: controller led and synced in %s (peak RSS %d MiB)", spec.Index, res.Startup.Round(100*time.Millisecond), res.HWMSynced>>10)

	var startErrors atomic.Int64
	defer func() { res.StartErrors = startErrors.Load() }()
	starts := b.startRollouts(ctx, spec, &startErrors)
	n := spec.Rollouts
	steps := len(mustPlan(b.cfg))
	startLimit := b.cfg.Interval + 2*time.Minute
	limit := 2*(time.Duration(steps)*b.cfg.Interval+2*promotionSettle) + time.Minute
	if b.cfg.MeasureFromAnnotated {
		// The starts are measured too, and may take longer than startLimit.
		starts.Wait()
		limit += startLimit
	} else {
		if err := b.waitProgress(ctx, w, spec, "started", startLimit, func(s, _ int) bool { return s == n }); err != nil {
			starts.Wait()
			return fail(err)
		}
		starts.Wait()
	}
	p0, err := b.points.take(ctx, proc.Pid())
	if err != nil {
		return fail(err)
	}
	b.logf("run %d: measuring until all have ended", spec.Index)
	err = b.waitProgress(ctx, w, spec, "ended", limit, func(_, e int) bool { return e == n })
	res.Late = err != nil && ctx.Err() == nil
	if err == nil {
		err = sleep(ctx, drain)
	}
	if err == nil {
		// The keeper Ingresses go KeepStableFor after each promotion's
		// switch, later than the end: the steady state starts after them.
		err = b.waitKeepersGone(ctx, spec, weights.DefaultConfig.KeepStableFor+time.Minute)
	}
	p1, err1 := b.points.take(ctx, proc.Pid())
	if err1 != nil {
		return fail(err1)
	}
	m := between(p0, p1)
	res.Measured = &m
	if b.trace != nil {
		t := b.trace.summary(p0.at, p1.at)
		res.Trace = &t
	}
	res.RSSMeasured, res.DepthMeasured = rss.between(p0.at, p1.at)
	res.Backlog = rss.backlog(p0.at, p1.at)
	if err != nil {
		return fail(err)
	}
	b.logf("run %d: all ended; %s of steady state", spec.Index, b.cfg.Quiet)
	if err := sleep(ctx, b.cfg.Quiet); err != nil {
		return fail(err)
	}
	p2, err := b.points.take(ctx, proc.Pid())
	if err != nil {
		return fail(err)
	}
	q := between(p1, p2)
	res.Quiet = &q
	res.RSSQuiet, _ = rss.between(p1.at, p2.at)
	res.QuietLeases = b.lease.count(p1.at, p2.at)
	if v, err := statusKB(proc.Pid(), "VmHWM", "RssAnon", "RssFile"); err == nil {
		res.HWM, res.RSSAnon, res.RSSFile = v["VmHWM"], v["RssAnon"], v["RssFile"]
	}
	res.LoadEnd = loadavg()
	// Only now, outside the measured periods, does the benchmark query Prometheus.
	res.Scrape = b.scrapeStats(ctx, time.Since(began))
	return res
}

// mustPlan is the steps of every rollout (parseFlags checked them).
func mustPlan(cfg Config) []annotations.Weight {
	spec, err := annotations.Parse(map[string]string{
		annotations.KeyCanaryService: "v2", annotations.KeySteps: cfg.Steps, annotations.KeyInterval: cfg.Interval.String(),
	})
	if err != nil || spec == nil {
		panic(fmt.Sprintf("steps %q: %v", cfg.Steps, err))
	}
	return spec.Plan()
}

// startRollouts starts the run's rollouts with their starts spread evenly
// over one interval, so that their due times are spread too, and returns at
// once; Wait waits for the last start.
func (b *bench) startRollouts(ctx context.Context, spec RunSpec, errs *atomic.Int64) *sync.WaitGroup {
	var wg sync.WaitGroup
	ids := b.fleet.runs[spec.Index]
	sem := make(chan struct{}, 16)
	began := time.Now()
	wg.Go(func() {
		for i, j := range ids {
			if sleep(ctx, time.Until(began.Add(b.cfg.Interval*time.Duration(i)/time.Duration(len(ids))))) != nil {
				return
			}
			p := b.fleet.ingresses[j]
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := startRollout(ctx, b.client, p, b.cfg.Steps, b.cfg.Interval); err != nil {
					if errs.Add(1) == 1 {
						b.logf("run %d: start %s/%s: %v", spec.Index, p.Namespace, p.Name, err)
					}
				}
			})
		}
	})
	return &wg
}

// waitProgress polls the run's watch until done says so, logging progress
// every 10 s; it fails after limit.
func (b *bench) waitProgress(ctx context.Context, w *runWatch, spec RunSpec, what string, limit time.Duration, done func(started, ended int) bool) error {
	deadline := time.Now().Add(limit)
	lastLog := time.Now()
	for {
		s, e := w.progress()
		if done(s, e) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("run %d: not all %d rollouts %s within %s: %d started, %d ended, phases %v",
				spec.Index, spec.Rollouts, what, limit, s, e, w.phases())
		}
		if time.Since(lastLog) >= 10*time.Second {
			lastLog = time.Now()
			b.logf("run %d: %d started, %d ended %v; load %s", spec.Index, s, e, w.phases(), loadavg())
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}

// sleep waits for d or ctx.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// waitKeepersGone waits until the controller has deleted every keeper
// Ingress of the run's rollouts, at most limit.
func (b *bench) waitKeepersGone(ctx context.Context, spec RunSpec, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		left := 0
		list, err := b.client.NetworkingV1().Ingresses("").List(ctx, metav1.ListOptions{
			LabelSelector: controller.ManagedByLabel + "=" + controller.ManagedByValue})
		if err == nil {
			for _, ing := range list.Items {
				owner := metav1.GetControllerOf(&ing)
				if p, ok := b.fleet.lookup(ing.Namespace, ownerName(owner)); ok && p.Run == spec.Index && ing.Name == preflight.KeeperName(p.Name) {
					left++
				}
			}
			if left == 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d keeper Ingresses left after %s (last list error: %v)", left, limit, err)
		case <-time.After(time.Second):
		}
	}
}

func ownerName(o *metav1.OwnerReference) string {
	if o == nil {
		return ""
	}
	return o.Name
}
