package main

import (
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

// rollout is what the plugin reads from one primary Ingress's annotations.
type rollout struct {
	Namespace, Name string
	// CanaryService is the raw canary-service annotation: the intended revision.
	CanaryService string
	// Spec is nil when the Ingress has not opted in or its annotations do not parse.
	Spec    *annotations.Spec
	SpecErr error
	// Status is the controller's status annotation; HasStatus is false before the
	// controller first wrote it.
	Status    weights.Status
	HasStatus bool
	StatusErr error
}

func readRollout(ing *networkingv1.Ingress) rollout { return readRolloutOf(followedIngress(ing)) }

// readRolloutOf reads the rollout of an Ingress or an HTTPRoute.
func readRolloutOf(f followed) rollout {
	r := rollout{Namespace: f.Namespace, Name: f.displayName(), CanaryService: f.Annotations[annotations.KeyCanaryService]}
	r.Spec, r.SpecErr = annotations.Parse(f.Annotations)
	raw, ok := f.Annotations[annotations.KeyStatus]
	r.HasStatus = ok && raw != ""
	r.Status, r.StatusErr = weights.ParseStatus(raw)
	return r
}

// plan is the sequence of step weights, or nil when the spec does not parse.
func (r rollout) plan() []annotations.Weight {
	if r.Spec == nil {
		return nil
	}
	return r.Spec.Plan()
}

// totalSteps prefers the controller's count (the plan it is walking), then the
// current annotations'.
func (r rollout) totalSteps() int {
	if r.Status.Steps > 0 {
		return r.Status.Steps
	}
	return len(r.plan())
}

// quantile is the latency quantile the analysis measured, for labels such as "p99".
func (r rollout) quantile() float64 {
	if r.Spec == nil {
		return annotations.DefaultSpec().Analysis.LatencyQuantile
	}
	return r.Spec.Analysis.LatencyQuantile
}

// revision is the version being rolled out: the controller's, else the intent.
func (r rollout) revision() string {
	if r.Status.Revision != "" {
		return r.Status.Revision
	}
	return r.CanaryService
}

// finished reports whether the rollout has reached an end the controller will not
// leave on its own. A Succeeded or Failed status about an older revision than
// canary-service names is not an end: the controller is about to start the new one.
func (r rollout) finished() bool {
	switch r.Status.Phase {
	case weights.PhaseInvalid:
		return true
	case weights.PhaseSucceeded, weights.PhaseFailed:
		return r.CanaryService == "" || r.Status.Revision == r.CanaryService
	}
	return false
}

// failed reports a rollout that ended badly, for --exit-code.
func (r rollout) failed() bool {
	return r.Status.Phase == weights.PhaseFailed || r.Status.Phase == weights.PhaseInvalid
}
