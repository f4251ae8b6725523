package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.uber.org/zap"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/httproute"
	"github.com/ingress-canary/ingress-canary/weights"
)

// sync reconciles one HTTPRoute: read → checks → analyse → decide → write
// status → write the route's rules → record, like Controller.sync.
func (c *RouteController) sync(ctx context.Context, key string) (time.Duration, error) {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, nil
	}
	cached, err := c.listers.routes.HTTPRoutes(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		c.openWindows.forget(key)
		c.metrics.forget(namespace, metricsName(name))
		return 0, nil // what we added went with the route
	}
	if err != nil {
		return 0, err
	}
	route := cached.DeepCopy()
	log := c.log.With(routeFields(route)...)
	in, w := c.readRoute(route)
	in.Now = c.opts.Now()
	var analyzer Analyzer
	known := false
	if in.Spec != nil && in.Invalid == nil {
		if analyzer, known = c.analyzers[w.impl.Metrics.Name()]; !known {
			in.Invalid = fmt.Errorf("no analyzer for %s metrics", w.impl.Metrics.Name())
		}
	}
	l := look{analyzer: analyzer, metrics: c.metrics, tick: c.opts.AnalysisTick, namespace: namespace, name: metricsName(name), log: log}
	if known {
		if ready := l.analyse(ctx, &in, routeTarget(route, in.Spec, w)); ready != nil {
			whenReady(ctx, ready, func() { c.queue.Add(key) })
			return 0, nil
		}
	}
	d := weights.Decide(c.opts.Machine, in)
	// Status first, as for an Ingress: it is the intent a restart resumes from.
	if err := c.writeStatus(ctx, route, in, d); err != nil {
		return 0, err
	}
	if in.Spec != nil && in.Invalid == nil {
		c.openWindows.track(key, in.Spec, d.Status, routeTarget(route, in.Spec, w)) // routes keep every group (no FollowOnly)
	} else {
		c.openWindows.forget(key)
	}
	for _, e := range d.Events {
		c.record(route, e, log)
	}
	c.metrics.observe(namespace, metricsName(name), d.Status, in.Status)
	if err := c.applyTraffic(ctx, route, in, w, d.Traffic); err != nil {
		return 0, err
	}
	if known {
		write := func(in weights.Input, d weights.Decision) error { return c.writeStatus(ctx, route, in, d) }
		record := func(e weights.Event) { c.record(route, e, log) }
		again := func() { c.queue.Add(key) }
		if err := l.seedBaseline(ctx, in, d, routeTarget(route, in.Spec, w), write, record, again); err != nil {
			return 0, err
		}
	}
	return d.RequeueAfter, nil
}

func routeFields(r *gwv1.HTTPRoute) []zap.Field {
	return []zap.Field{zap.String("namespace", r.Namespace), zap.String("httproute", r.Name)}
}

// routeTarget names the route's traffic in its data plane's metrics; the
// dialect (routers.GatewayImplementation.Metrics) reads Ingress as the route
// and CanaryUpstream as the canary Service.
func routeTarget(route *gwv1.HTTPRoute, spec *annotations.Spec, w routeWorld) analysis.Target {
	return analysis.Target{Namespace: route.Namespace, Ingress: route.Name, CanaryUpstream: spec.CanaryService, StableService: w.stable}
}

// writeStatus merge-patches our annotations only, conditional on the
// resourceVersion read (see Controller.writeStatus).
func (c *RouteController) writeStatus(ctx context.Context, route *gwv1.HTTPRoute, in weights.Input, d weights.Decision) error {
	updated, err := patchStatus(ctx, route, in, d, c.gw.GatewayV1().HTTPRoutes(route.Namespace).Patch)
	if err != nil {
		return fmt.Errorf("patch status of HTTPRoute %s/%s: %w", route.Namespace, route.Name, err)
	}
	if updated != nil {
		route.ResourceVersion = updated.ResourceVersion
	}
	return nil
}

// applyTraffic converges the route's rules to the decision: the source
// (what the user wrote: Strip) plus this step's edit (Apply). The route is
// read from the API and updated with its resourceVersion, and a conflict
// reads it again: a user's edit made meanwhile is built upon, never lost.
func (c *RouteController) applyTraffic(ctx context.Context, route *gwv1.HTTPRoute, in weights.Input, w routeWorld, t *weights.Traffic) error {
	if t == nil {
		return nil // bad input: traffic stays exactly as it is
	}
	canary, stable := in.Status.Revision, in.Status.Stable
	var edit httproute.Edit
	if in.Spec != nil {
		canary, stable = in.Spec.CanaryService, w.stable
		edit = c.edit(route, in.Spec, w, t.Weight)
		edit.Switch = t.SwitchPrimary
	}
	client := c.gw.GatewayV1().HTTPRoutes(route.Namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		live, err := client.Get(ctx, route.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		desired := httproute.Strip(live.Spec, live.Namespace, stable, canary, in.Status.Revision)
		if t.Canary && in.Spec != nil {
			desired = httproute.Apply(desired, edit)
		}
		if apiequality.Semantic.DeepEqual(desired, live.Spec) {
			return nil
		}
		live.Spec = desired
		_, err = client.Update(ctx, live, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update rules of HTTPRoute %s/%s: %w", route.Namespace, route.Name, err)
	}
	return nil
}

// record emits an Event on the route and logs the same decision. The
// recorder's scheme does not know Gateway API types: the object says what it
// is.
func (c *RouteController) record(route *gwv1.HTTPRoute, e weights.Event, log *zap.Logger) {
	ref := route.DeepCopy()
	ref.APIVersion, ref.Kind = gwv1.GroupVersion.String(), "HTTPRoute"
	recordEvent(c.recorder, ref, e, log)
}

// patchFunc is a typed client's Patch.
type patchFunc[T any] func(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (*T, error)

// patchStatus writes the status annotation and removes the consumed
// commands of obj with patch, in one merge patch that names only our keys,
// conditional on obj's resourceVersion. It returns the patched object, or
// nil when nothing changed.
func patchStatus[T any](ctx context.Context, obj metav1.Object, in weights.Input, d weights.Decision, patch patchFunc[T]) (*T, error) {
	changes := map[string]any{}
	if !d.Status.SameAs(in.Status) {
		changes[annotations.KeyStatus] = d.Status.Encode()
	}
	if d.ClearCommands {
		for _, k := range annotations.CommandKeys {
			if _, ok := obj.GetAnnotations()[k.Name]; ok {
				changes[k.Name] = nil
			}
		}
	}
	if len(changes) == 0 {
		return nil, nil
	}
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"resourceVersion": obj.GetResourceVersion(), "annotations": changes,
	}})
	if err != nil {
		return nil, err
	}
	return patch(ctx, obj.GetName(), types.MergePatchType, body, metav1.PatchOptions{FieldManager: FieldManager})
}
