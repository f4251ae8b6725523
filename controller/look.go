package controller

import (
	"context"
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
}

// analyse measures the open step when the rollout needs a look
// (weights.NextLook), and puts the measurement into in for Decide, which
// reads its evidence. t names the rollout's traffic; analyse sets its window.
func (l look) analyse(ctx context.Context, in *weights.Input, t analysis.Target) {
	if in.Spec == nil || in.Invalid != nil {
		return
	}
	next, ok := weights.NextLook(in.Spec, in.Status, in.Now, l.tick)
	if !ok {
		return
	}
	t.Since, t.Until = next.Since, next.Until
	due := !in.Now.Before(*in.Status.NextCheck)
	kind := "scan"
	if due {
		kind = "due"
		l.metrics.stepLateness.Observe(in.Now.Sub(*in.Status.NextCheck).Seconds())
	}
	v := weights.CheckSplit(in.Spec, in.Status, l.metrics.timedLook(ctx, l.analyzer, kind, t, next.Thresholds), in.Now)
	in.Verdict = &v
	sv, _ := weights.JudgeLook(in.Spec, in.Status, v.Measurement, in.Now)
	outcome := sv.Outcome
	if v.Outcome == analysis.Unavailable || v.Outcome == analysis.Mismatch {
		outcome = v.Outcome
	}
	if !due && outcome == analysis.Hold {
		return // nothing to write, nothing to count
	}
	l.metrics.analyses.WithLabelValues(l.namespace, l.name, string(outcome)).Inc()
	l.log.Info("analysis", zap.String("outcome", string(outcome)), zap.String("reason", sv.Reason+v.Reason),
		zap.Float64("canaryRequests", v.Measurement.Canary.Requests), zap.Float64("canaryErrors", v.Measurement.Canary.Errors),
		zap.Float64("stableRequests", v.Measurement.Stable.Requests), zap.Float64("stableErrors", v.Measurement.Stable.Errors),
		zap.Float64("canarySlow", v.Measurement.Canary.Slow), zap.Float64("regressionEvidence", sv.Regression))
}

// seedBaseline gives a rollout that has none its dispersion estimate and
// forecast from stable's last hour (weights.WithBaseline), once. It runs
// after the traffic is written, with a second status write, so that the
// range query never delays a step's weight: a new step's first seconds are
// what the data plane serves the canary first. write patches the status;
// record emits the resulting Event.
func (l look) seedBaseline(ctx context.Context, in weights.Input, d weights.Decision, t analysis.Target,
	write func(weights.Input, weights.Decision) error, record func(weights.Event)) error {
	if in.Spec == nil || in.Invalid != nil || !weights.NeedsBaseline(d.Status) {
		return nil
	}
	var seed *analysis.Baseline
	b, err := l.analyzer.Baseline(ctx, t, in.Now)
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

// timedLook measures t's window with a and times it as kind ("due", "scan").
func (m *Metrics) timedLook(ctx context.Context, a Analyzer, kind string, t analysis.Target, th analysis.Thresholds) analysis.Verdict {
	start := time.Now()
	defer func() { m.analysisDuration.WithLabelValues(kind).Observe(time.Since(start).Seconds()) }()
	return a.Look(ctx, t, th)
}
