// Package backends walks an Ingress's backends: its default backend and every
// path of every rule. Everything that reads or rewrites where an Ingress routes
// (the pre-flight checks, the canary's render, the promotion switch, the
// controller's index, the kubectl plugin) walks through it, so that none of them
// forgets the default backend or a rule without paths.
package backends

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
)

// Ref is one place where an Ingress routes to a backend: its default backend,
// or one path of one rule.
type Ref struct {
	// Pointer is the backend's JSON pointer, for patches.
	Pointer string
	// Rule is the index of its rule in spec.rules; -1 for the default backend.
	Rule int
	Host string
	// Path is the path entry, nil for the default backend.
	Path    *networkingv1.HTTPIngressPath
	Backend networkingv1.IngressBackend
}

// Service is the Service the backend names, "" for a resource backend.
func (b Ref) Service() string { return ServiceName(b.Backend) }

// HostPath is where the backend serves, e.g. "shop.example/api"; "" for the
// default backend.
func (b Ref) HostPath() string {
	if b.Path == nil {
		return ""
	}
	return b.Host + b.Path.Path
}

// Of lists the Ingress's backends: the default backend first, then the rules'
// paths in order.
func Of(ing *networkingv1.Ingress) []Ref {
	var out []Ref
	if db := ing.Spec.DefaultBackend; db != nil {
		out = append(out, Ref{Pointer: "/spec/defaultBackend", Rule: -1, Backend: *db})
	}
	for i, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for j := range r.HTTP.Paths {
			p := r.HTTP.Paths[j]
			out = append(out, Ref{
				Pointer: fmt.Sprintf("/spec/rules/%d/http/paths/%d/backend", i, j),
				Rule:    i, Host: r.Host, Path: &p, Backend: p.Backend,
			})
		}
	}
	return out
}

// To lists the backends that route to the Service.
func To(ing *networkingv1.Ingress, service string) []Ref {
	var out []Ref
	for _, b := range Of(ing) {
		if b.Service() == service {
			out = append(out, b)
		}
	}
	return out
}

// Services is the set of Services the Ingress routes to.
func Services(ing *networkingv1.Ingress) map[string]bool {
	out := map[string]bool{}
	for _, b := range Of(ing) {
		if s := b.Service(); s != "" {
			out[s] = true
		}
	}
	return out
}

// ServiceName is the Service a backend names, "" for a resource backend.
func ServiceName(b networkingv1.IngressBackend) string {
	if b.Service == nil {
		return ""
	}
	return b.Service.Name
}
