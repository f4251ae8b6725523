package controller

import (
	"context"
	"time"

	"go.uber.org/zap"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

// sync reconciles one primary Ingress: read → lint → analyse (when due) → decide →
// write → record. It returns when to look again; an error means "retry with backoff".
func (c *Controller) sync(ctx context.Context, key string) (time.Duration, error) {
	start := c.opts.Now()
	defer func() { c.metrics.reconcileDuration.Observe(time.Since(start).Seconds()) }()
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, nil // a malformed key will never become valid
	}
	cached, err := c.listers.ingresses.Ingresses(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		// The canary Ingress has an ownerReference: the garbage collector removes it.
		c.metrics.forget(namespace, name)
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	// Never mutate the cache's copy.
	primary := cached.DeepCopy()
	log := c.log.With(zap.String("namespace", namespace), zap.String("ingress", name))

	in, w := c.read(primary)
	now := c.opts.Now()
	in.Now = now
	if since, due := weights.AnalysisDue(in.Status, now); due && in.Spec != nil && in.Invalid == nil {
		v := c.analyzer.Analyze(ctx, analysis.Target{
			Namespace: namespace, Ingress: name,
			CanaryUpstream: upstreamName(namespace, in.Spec.CanaryService, w.canaryPort),
			Since:          since, Until: now,
		}, thresholds(in.Spec))
		in.Verdict = &v
		c.metrics.analyses.WithLabelValues(namespace, name, string(v.Outcome)).Inc()
		log.Info("analysis", zap.String("outcome", string(v.Outcome)), zap.String("reason", v.Reason),
			zap.Float64("canaryRequests", v.Measurement.Canary.Requests), zap.Float64("canaryErrorRate", v.Measurement.Canary.ErrorRate))
	}

	d := weights.Decide(c.opts.Machine, in)
	// Status first: it is the intent. If we crash after it, the next sync converges
	// the Ingresses to it; the reverse order could take a step twice.
	if err := c.writeStatus(ctx, primary, in, d); err != nil {
		return 0, err
	}
	for _, e := range d.Events {
		c.record(primary, e, log)
	}
	c.metrics.observe(namespace, name, d.Status, in.Status)
	if err := c.applyTraffic(ctx, primary, in, w, d.Traffic); err != nil {
		return 0, err
	}
	return d.RequeueAfter, nil
}

// read parses the primary and runs the pre-flight lint; problems land in Invalid.
func (c *Controller) read(primary *networkingv1.Ingress) (weights.Input, world) {
	var in weights.Input
	var w world
	status, err := weights.ParseStatus(primary.Annotations[annotations.KeyStatus])
	if err != nil {
		// A damaged status must not stop the rollout from being handled safely:
		// start over from a blank one, which never raises traffic on its own.
		c.log.Warn("ignoring unreadable status", zap.String("namespace", primary.Namespace), zap.String("ingress", primary.Name), zap.Error(err))
	}
	in.Status = status
	in.Commands, in.Invalid = annotations.ParseCommands(primary.Annotations)
	spec, err := annotations.Parse(primary.Annotations)
	in.Invalid = joinErr(in.Invalid, err)
	if in.Invalid != nil {
		return in, w // bad input: Spec stays nil and traffic is left alone
	}
	if spec == nil {
		// Opted out: find our canary Ingress so that it can be removed. One that is
		// not ours is not our business here.
		w.canary, _ = ownCanary(c.listers, primary)
		return in, w
	}
	w, err = lint(c.listers, c.opts.IngressClass, primary, spec)
	if err != nil {
		in.Invalid = err
		return in, w
	}
	in.Spec, in.StableService, in.CanaryReady = spec, w.stable, w.canaryReady
	return in, w
}

func thresholds(s *annotations.Spec) analysis.Thresholds {
	return analysis.Thresholds{
		MaxErrorRate: s.Analysis.MaxErrorRate, MaxLatency: s.Analysis.MaxLatency,
		LatencyQuantile: s.Analysis.LatencyQuantile, MinRequests: s.Analysis.MinRequests,
	}
}
