package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"go.uber.org/zap"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/backends"
	"github.com/ingress-canary/ingress-canary/preflight"
	"github.com/ingress-canary/ingress-canary/weights"
)

// writeStatus patches the status annotation and removes consumed commands, in one
// merge patch that names only our keys. The resourceVersion makes it conditional:
// if the Ingress changed since we read it, the patch fails and we decide again.
func (c *Controller) writeStatus(ctx context.Context, primary *networkingv1.Ingress, in weights.Input, d weights.Decision) error {
	updated, err := patchStatus(ctx, primary, in, d, c.client.NetworkingV1().Ingresses(primary.Namespace).Patch)
	if err != nil {
		return fmt.Errorf("patch status of %s/%s: %w", primary.Namespace, primary.Name, err)
	}
	if updated == nil {
		return nil
	}
	// Later writes in this sync (the switch) need the new resourceVersion.
	primary.ResourceVersion = updated.ResourceVersion
	c.ownWrites.wrote(updated)
	return nil
}

// applyTraffic converges the canary Ingress and the primary's backends to the
// decision. Each write happens only when the world differs, so a steady state
// writes nothing.
func (c *Controller) applyTraffic(ctx context.Context, primary *networkingv1.Ingress, in weights.Input, w preflight.World, t *weights.Traffic) error {
	if t == nil {
		return nil // bad input: traffic stays exactly as it is
	}
	// Before any switch in this sync: the keeper must already reference the
	// stable Service when the primary stops doing so.
	if err := c.convergeKeeper(ctx, primary, in, w, t.KeepStable); err != nil {
		return err
	}
	if !t.Canary {
		return c.deleteCanary(ctx, w.Canary)
	}
	desired := renderCanary(primary, w.Stable, in.Spec.CanaryService, w.CanaryPort, in.Spec.Routing, t.Weight)
	if t.SwitchPrimary {
		// The switch rewrote the primary's stable paths; the canary keeps routing
		// what it routed before, so render from the pre-switch backends.
		if err := c.switchPrimary(ctx, primary, w.Stable, in.Spec.CanaryService, w.CanaryPort); err != nil {
			return err
		}
		if w.Canary != nil {
			return c.patchCanaryWeight(ctx, w.Canary, desired)
		}
		return nil
	}
	if w.Canary == nil {
		created, err := c.client.NetworkingV1().Ingresses(primary.Namespace).Create(ctx, desired, metav1.CreateOptions{FieldManager: FieldManager})
		if err != nil {
			return fmt.Errorf("create canary Ingress %s/%s: %w", desired.Namespace, desired.Name, err)
		}
		c.ownWrites.wrote(created)
		return nil
	}
	return c.patchCanary(ctx, w.Canary, desired)
}

// patchCanary brings an existing canary Ingress to the desired spec and nginx keys.
func (c *Controller) patchCanary(ctx context.Context, cur, desired *networkingv1.Ingress) error {
	ann := ownedAnnotationChanges(cur, desired)
	specSame := reflect.DeepEqual(cur.Spec, desired.Spec)
	if len(ann) == 0 && specSame {
		return nil
	}
	body := map[string]any{"metadata": map[string]any{"annotations": ann}}
	if !specSame {
		body["spec"] = desired.Spec
	}
	return c.patchIngress(ctx, cur, body)
}

// patchCanaryWeight touches only the nginx keys: during the promotion switch the
// canary's spec must keep routing exactly as it did.
func (c *Controller) patchCanaryWeight(ctx context.Context, cur, desired *networkingv1.Ingress) error {
	ann := ownedAnnotationChanges(cur, desired)
	if len(ann) == 0 {
		return nil
	}
	return c.patchIngress(ctx, cur, map[string]any{"metadata": map[string]any{"annotations": ann}})
}

func (c *Controller) patchIngress(ctx context.Context, cur *networkingv1.Ingress, body map[string]any) error {
	patch, err := json.Marshal(body)
	if err != nil {
		return err
	}
	patched, err := c.client.NetworkingV1().Ingresses(cur.Namespace).Patch(ctx, cur.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: FieldManager})
	if err != nil {
		return fmt.Errorf("patch canary Ingress %s/%s: %w", cur.Namespace, cur.Name, err)
	}
	c.ownWrites.wrote(patched)
	return nil
}

// ownedAnnotationChanges lists the nginx canary keys that differ, with nil for the
// ones to remove.
func ownedAnnotationChanges(cur, desired *networkingv1.Ingress) map[string]any {
	changes := map[string]any{}
	for _, k := range annotations.NginxKeys {
		want, set := desired.Annotations[k]
		have, present := cur.Annotations[k]
		switch {
		case set && (!present || have != want):
			changes[k] = want
		case !set && present:
			changes[k] = nil
		}
	}
	return changes
}

// deleteCanary removes our canary Ingress, with a UID precondition so that a
// same-named Ingress created meanwhile by someone else is never deleted.
// deleteCanary deletes an Ingress of ours (the canary, or the keeper), if it
// still is the one we read.
func (c *Controller) deleteCanary(ctx context.Context, canary *networkingv1.Ingress) error {
	if canary == nil {
		return nil
	}
	uid := canary.UID
	c.ownWrites.forget(canary.Namespace, canary.Name)
	err := c.client.NetworkingV1().Ingresses(canary.Namespace).Delete(ctx, canary.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete canary Ingress %s/%s: %w", canary.Namespace, canary.Name, err)
	}
	return nil
}

// switchPrimary points the primary's stable backends at the canary Service with a
// JSON patch: each replaced field is tested first, so a concurrent edit of that path
// makes the patch fail instead of being overwritten.
func (c *Controller) switchPrimary(ctx context.Context, primary *networkingv1.Ingress, stable, canary string, port networkingv1.ServiceBackendPort) error {
	if stable == canary {
		return nil // already switched: the primary routes only to the canary Service
	}
	ops := switchOps(primary, stable, canary, port)
	if len(ops) == 0 {
		return nil
	}
	patch, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	switched, err := c.client.NetworkingV1().Ingresses(primary.Namespace).Patch(ctx, primary.Name, types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: FieldManager})
	if err == nil {
		c.ownWrites.wrote(switched)
	}
	if apierrors.IsInvalid(err) && c.switchedAlready(ctx, primary, stable, canary, port) {
		// A test op failed because our cached copy was older than our own switch:
		// the informer had delivered the status write but not yet the switch.
		return nil
	}
	if err != nil {
		return fmt.Errorf("switch primary %s/%s to %s: %w", primary.Namespace, primary.Name, canary, err)
	}
	return nil
}

// switchedAlready reads the primary from the API (not the cache) and reports
// whether none of its backends still names the stable Service.
func (c *Controller) switchedAlready(ctx context.Context, primary *networkingv1.Ingress, stable, canary string, port networkingv1.ServiceBackendPort) bool {
	live, err := c.client.NetworkingV1().Ingresses(primary.Namespace).Get(ctx, primary.Name, metav1.GetOptions{})
	return err == nil && len(switchOps(live, stable, canary, port)) == 0
}

type jsonPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

func switchOps(primary *networkingv1.Ingress, stable, canary string, port networkingv1.ServiceBackendPort) []jsonPatchOp {
	var ops []jsonPatchOp
	for _, b := range backends.To(primary, stable) {
		ops = append(ops,
			jsonPatchOp{Op: "test", Path: b.Pointer + "/service/name", Value: stable},
			jsonPatchOp{Op: "replace", Path: b.Pointer + "/service", Value: networkingv1.IngressServiceBackend{Name: canary, Port: preflight.CanaryPort(port, b.Backend)}})
	}
	return ops
}

// record emits an Event on the primary and logs the same decision.
func (c *Controller) record(primary *networkingv1.Ingress, e weights.Event, log *zap.Logger) {
	recordEvent(c.recorder, primary, e, log)
}
