package controller

import (
	"context"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/weights"
)

// look is one rollout's measurement, shared by the Ingress and the HTTPRoute
// controllers: the same window, the same evidence, the same metrics.
type look struct {
	analyzer Analyzer
	metrics  *Metrics
	tick     time.Duration
	// namespace and name label the rollout's metrics series.
	namespace, name string
	log             *zap.Logger
	// decidedWith, when set, is the look with which the scan found the step
	// decided: its sync must act, so its look is needed however early, as a
	// due one is, and where a new look would wait for Prometheus it acts on
	// this one instead: a rollback never waits for a refresh, however long
	// a slow Prometheus makes it.
	decidedWith *analysis.Verdict
}

// analyse measures the open step when the rollout needs a look
// (weights.NextLook), and puts the measurement into in for Decide, which
// reads its evidence. t names the rollout's traffic; analyse sets its window.
//
// A worker never waits for Prometheus: where the look needs a read that has
// not landed, a look that is not due is skipped (the scan and the due look
// follow), one the scan decided uses the scan's look, and a due one returns
// the channel that closes when the read lands, for the sync to stop and look
// again then (whenReady).
func (l look) analyse(ctx context.Context, in *weights.Input, t analysis.Target) (ready <-chan struct{}) {
	if in.Spec == nil || in.Invalid != nil {
		return nil
	}
	next, ok := weights.NextLook(in.Spec, in.Status, in.Now, l.tick)
	if !ok {
		return nil
	}
	t.Since, t.Until = next.Since, next.Until
	due := !in.Now.Before(*in.Status.NextCheck)
	kind := "scan"
	if due {
		kind = "due"
	}
	measured, ready := l.metrics.timedLook(ctx, l.analyzer, kind, t, next.Thresholds, false)
	switch {
	case ready != nil && l.decidedWith != nil:
		measured = *l.decidedWith
	case ready != nil && due:
		return ready
	case ready != nil:
		return nil
	}
	if due {
		l.metrics.stepLateness.Observe(in.Now.Sub(*in.Status.NextCheck).Seconds())
	}
	v := weights.CheckSplit(in.Spec, in.Status, measured, in.Now)
	in.Verdict = &v
	outcome, sv, _ := weights.JudgeVerdict(in.Spec, in.Status, v, in.Now)
	if !due && outcome == analysis.Hold {
		return nil // nothing to write, nothing to count
	}
	l.metrics.analyses.WithLabelValues(l.namespace, l.name, string(outcome)).Inc()
	reason := sv.Reason
	if v.Reason != "" {
		reason = strings.TrimPrefix(reason+"; "+v.Reason, "; ")
	}
	l.log.Info("analysis", zap.String("outcome", string(outcome)), zap.String("reason", reason),
		zap.Float64("canaryRequests", v.Measurement.Canary.Requests), zap.Float64("canaryErrors", v.Measurement.Canary.Errors),
		zap.Float64("stableRequests", v.Measurement.Stable.Requests), zap.Float64("stableErrors", v.Measurement.Stable.Errors),
		zap.Float64("canarySlow", v.Measurement.Canary.Slow), zap.Float64("regressionEvidence", sv.Regression))
	return nil
}

// whenReady calls add when ready closes: the sync that found a Prometheus
// read (a look's, or a baseline's) not landed ends at once, and its key is
// queued again when the read lands.
func whenReady(ctx context.Context, ready <-chan struct{}, add func()) {
	go func() {
		select {
		case <-ready:
			add()
		case <-ctx.Done():
		}
	}()
}

// readyLooker is an Analyzer whose look can answer "not yet, wait for this"
// instead of waiting for Prometheus (prom.Analyzer.LookOrReady).
type readyLooker interface {
	LookOrReady(ctx context.Context, t analysis.Target, th analysis.Thresholds) (analysis.Verdict, <-chan struct{})
}

// seedBaseline gives a rollout that has none its dispersion estimate and
// forecast from stable's last hour (weights.WithBaseline), once. It runs
// after the traffic is written, with a second status write, so that the
// range query never delays a step's weight: a new step's first seconds are
// what the data plane serves the canary first. write patches the status;
// record emits the resulting Event.
//
// Nor does it keep the worker: an analyzer that can (readyBaseliner) reads
// in the background, and again is called when the read lands, for the next
// sync to seed the status.
func (l look) seedBaseline(ctx context.Context, in weights.Input, d weights.Decision, t analysis.Target,
	write func(weights.Input, weights.Decision) error, record func(weights.Event), again func()) error {
	if in.Spec == nil || in.Invalid != nil || !weights.NeedsBaseline(d.Status) {
		return nil
	}
	b, ready, err := l.baseline(ctx, t, in.Now)
	if ready != nil {
		whenReady(ctx, ready, again)
		return nil
	}
	var seed *analysis.Baseline
	if err == nil {
		seed = &b
	}
	seeded, e := weights.WithBaseline(in.Spec, d.Status, seed, err)
	if err := write(weights.Input{Status: d.Status}, weights.Decision{Status: seeded}); err != nil {
		return err // the next sync seeds it
	}
	record(e)
	return nil
}

// baseline reads t's baseline without waiting where the analyzer can
// (readyBaseliner): until the read lands, ready is the channel that closes
// when it does.
func (l look) baseline(ctx context.Context, t analysis.Target, now time.Time) (b analysis.Baseline, ready <-chan struct{}, err error) {
	if r, ok := l.analyzer.(readyBaseliner); ok {
		return r.BaselineOrReady(ctx, t, now)
	}
	b, err = l.analyzer.Baseline(ctx, t, now)
	return b, nil, err
}

// readyBaseliner is an Analyzer whose baseline read can answer "not yet,
// wait for this" (prom.Analyzer.BaselineOrReady).
type readyBaseliner interface {
	BaselineOrReady(ctx context.Context, t analysis.Target, until time.Time) (analysis.Baseline, <-chan struct{}, error)
}

// timedLook measures t's window with a and times it as kind ("due", "scan").
// Unless wait is set, a that can (readyLooker) answers with ready instead of
// waiting for Prometheus.
func (m *Metrics) timedLook(ctx context.Context, a Analyzer, kind string, t analysis.Target, th analysis.Thresholds, wait bool) (analysis.Verdict, <-chan struct{}) {
	start := time.Now()
	defer func() { m.analysisDuration.WithLabelValues(kind).Observe(time.Since(start).Seconds()) }()
	if r, ok := a.(readyLooker); ok && !wait {
		return r.LookOrReady(ctx, t, th)
	}
	return a.Look(ctx, t, th), nil
}
