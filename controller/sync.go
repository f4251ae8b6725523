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
	"github.com/ingress-canary/ingress-canary/backends"
	"github.com/ingress-canary/ingress-canary/preflight"
	"github.com/ingress-canary/ingress-canary/weights"
)

// sync reconciles one primary Ingress: read → pre-flight checks → analyse (when due, or at a
// tick) → decide → write → record. It returns when to look again; an error means
// "retry with backoff".
func (c *Controller) sync(ctx context.Context, key string) (time.Duration, error) {
	// The metric is real time; the rollout's clock (opts.Now) may be a test's.
	start := time.Now()
	defer func() { c.metrics.reconcileDuration.Observe(time.Since(start).Seconds()) }()
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, nil // a malformed key will never become valid
	}
	cached, err := c.listers.Ingresses.Ingresses(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		// The canary Ingress has an ownerReference: the garbage collector removes it.
		c.metrics.forget(namespace, name)
		c.closeWindow(c.openWindows.forget(key), false)
		c.ownWrites.forget(namespace, name)
		c.ownWrites.forget(namespace, preflight.CanaryName(name))
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	// Never mutate the cache's copy.
	primary := cached.DeepCopy()
	log := c.log.With(zap.String("namespace", namespace), zap.String("ingress", name))

	in, w := c.read(primary)
	in.Now = c.opts.Now()
	decided, wasDecided := c.openWindows.decided(key)
	l := look{analyzer: c.analyzer, metrics: c.metrics, tick: c.opts.AnalysisTick, namespace: namespace, name: name, log: log}
	if wasDecided {
		l.decidedWith = &decided.look
	}
	if in.Spec != nil {
		if ready := l.analyse(ctx, &in, targetOf(primary, in.Spec, w)); ready != nil {
			whenReady(ctx, ready, func() { c.queueFor(key).Add(key) })
			return 0, nil
		}
	}

	d := weights.Decide(c.opts.Machine, in)
	// Status first: it is the intent. If we crash after it, the next sync converges
	// the Ingresses to it; the reverse order could take a step twice.
	if err := c.writeStatus(ctx, primary, in, d); err != nil {
		return 0, err
	}
	if in.Spec != nil && in.Invalid == nil {
		t := targetOf(primary, in.Spec, w)
		open, ended := c.openWindows.track(key, in.Spec, d.Status, t)
		c.closeWindow(ended, open)
		if open {
			c.follow(t, in.Now)
		}
	} else {
		c.closeWindow(c.openWindows.forget(key), false)
	}
	for _, e := range d.Events {
		c.record(primary, e, log)
	}
	c.metrics.observe(namespace, name, d.Status, in.Status)
	if err := c.applyTraffic(ctx, primary, in, w, d.Traffic); err != nil {
		return 0, err
	}
	if wasDecided {
		c.metrics.actedOn(decided.at, d.Status, in.Status)
	}
	if in.Spec != nil {
		write := func(in weights.Input, d weights.Decision) error { return c.writeStatus(ctx, primary, in, d) }
		record := func(e weights.Event) { c.record(primary, e, log) }
		// Seeding is a status write, not a step: the event queue's.
		again := func() { c.queue.Add(key) }
		if err := l.seedBaseline(ctx, in, d, targetOf(primary, in.Spec, w), write, record, again); err != nil {
			return 0, err
		}
	}
	return d.RequeueAfter, nil
}

// targetOf names the primary's traffic in ingress-nginx's metrics; the caller
// sets the window.
func targetOf(primary *networkingv1.Ingress, spec *annotations.Spec, w preflight.World) analysis.Target {
	return analysis.Target{
		Namespace: primary.Namespace, Ingress: primary.Name,
		CanaryUpstream: upstreamName(primary.Namespace, spec.CanaryService, w.CanaryPort),
		StableService:  w.Stable,
		StablePort:     stablePort(primary, w.Stable),
	}
}

// stablePort is the port of the primary's first backend to the stable Service,
// as written (name or number): the data plane names the upstream by it.
func stablePort(primary *networkingv1.Ingress, stable string) string {
	for _, b := range backends.To(primary, stable) {
		return preflight.PortString(b.Backend.Service.Port)
	}
	return ""
}

// read parses the primary and runs the pre-flight checks; problems land in Invalid.
func (c *Controller) read(primary *networkingv1.Ingress) (weights.Input, preflight.World) {
	var in weights.Input
	var w preflight.World
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
	for _, problem := range c.opts.Router.Refuse(primary.Annotations) {
		in.Invalid = joinErr(in.Invalid, problem)
	}
	if in.Invalid != nil {
		return in, w // bad input: Spec stays nil and traffic is left alone
	}
	if spec == nil {
		// Opted out: find our canary Ingress so that it can be removed. One that is
		// not ours is not our business here.
		w.Canary, _ = preflight.OwnCanary(c.listers, primary)
		return in, w
	}
	w, err = preflight.Check(c.listers, c.opts.IngressClass, primary, spec, status.PinnedStable(spec.CanaryService))
	if err != nil {
		in.Invalid = err
		return in, w
	}
	in.Conflict = preflight.ConflictOf(spec, w)
	in.Spec, in.StableService, in.CanaryReady = spec, w.Stable, w.CanaryReady
	return in, w
}
