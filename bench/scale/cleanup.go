package main

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/preflight"
)

// cleanUp makes a run that did not end in time inert, once its controller
// has stopped: every rollout's keys and status are removed and its canary
// Ingress deleted, so that the next run's controller sees plain Ingresses
// and has nothing to do for them.
func (b *bench) cleanUp(ctx context.Context, spec RunSpec) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{
		annotations.KeyCanaryService: nil, annotations.KeySteps: nil, annotations.KeyInterval: nil, annotations.KeyStatus: nil,
	}}})
	if err != nil {
		return err
	}
	var jobs []func(context.Context) error
	for _, i := range b.fleet.runs[spec.Index] {
		p := b.fleet.ingresses[i]
		jobs = append(jobs, func(ctx context.Context) error {
			ings := b.client.NetworkingV1().Ingresses(p.Namespace)
			if _, err := ings.Patch(ctx, p.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: pluginManager}); err != nil {
				return err
			}
			if err := ings.Delete(ctx, preflight.CanaryName(p.Name), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
			return nil
		})
	}
	if err := runJobs(ctx, b.cfg.Creators, jobs); err != nil {
		return fmt.Errorf("run %d: clean up the rollouts that did not end: %w", spec.Index, err)
	}
	b.logf("run %d: rollouts that did not end removed (keys, status and canary Ingresses), so that the next run starts clean", spec.Index)
	return nil
}
