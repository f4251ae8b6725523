package main

import (
	"maps"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

// statusView is everything `status` draws, resolved from the Ingress, its
// annotations and its Events, so that rendering is a pure function of it.
type statusView struct {
	// Kind is Ingress or HTTPRoute; Name is as list shows it.
	Kind            string
	Namespace, Name string
	Revision        string
	// Stable is the Service (or Services) the primary routes to besides the canary.
	Stable   string
	Strategy annotations.Strategy
	// Plan is the step weights; nil when the annotations do not parse.
	Plan []annotations.Weight
	// HasStatus is false until the controller first writes one.
	HasStatus bool
	Status    weights.Status
	Quantile  float64
	// Pending lists the command annotations the controller has not yet acted on.
	Pending []string
	// Problems are annotation errors and an unreadable status.
	Problems []string
	Events   []eventLine
	Now      time.Time
}

type eventLine struct {
	Time    time.Time
	Type    string
	Reason  string
	Message string
	Count   int32
}

func buildStatusView(f followed, r rollout, events []corev1.Event, now time.Time) statusView {
	v := statusView{
		Kind: f.Kind, Namespace: f.Namespace, Name: f.Name,
		Revision:  r.revision(),
		Stable:    strings.Join(stableServices(f, r), ", "),
		Strategy:  annotations.DefaultSpec().Strategy,
		Plan:      r.plan(),
		HasStatus: r.HasStatus,
		Status:    r.Status,
		Quantile:  r.quantile(),
		Now:       now,
	}
	if r.Spec != nil {
		v.Strategy = r.Spec.Strategy
	}
	for _, k := range annotations.CommandKeys {
		if _, ok := f.Annotations[k.Name]; ok {
			v.Pending = append(v.Pending, k.Name)
		}
	}
	for _, e := range annotations.AsErrors(r.SpecErr) {
		v.Problems = append(v.Problems, e.Error())
	}
	if r.StatusErr != nil {
		v.Problems = append(v.Problems, annotations.KeyStatus+": "+r.StatusErr.Error())
	}
	for _, e := range events {
		v.Events = append(v.Events, eventLine{Time: eventTime(e), Type: e.Type, Reason: e.Reason, Message: e.Message, Count: e.Count})
	}
	return v
}

// stableServices lists the Services the primary routes to other than the canary:
// the running rollout's own, else stable-service when it names one of them, else
// all of them.
func stableServices(f followed, r rollout) []string {
	if pinned := r.Status.PinnedStable(r.CanaryService); pinned != "" {
		return []string{pinned} // the rollout under way keeps its stable Service
	}
	used := maps.Clone(f.Services)
	delete(used, r.CanaryService)
	if r.Spec != nil && used[r.Spec.StableService] {
		return []string{r.Spec.StableService}
	}
	out := make([]string, 0, len(used))
	for name := range used {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
