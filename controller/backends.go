package controller

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
)

// backendRef is one place where an Ingress routes to a backend: its default
// backend, or one path of one rule. Every check, render and patch that looks at
// an Ingress's backends walks them through backendsOf, so that none of them
// forgets the default backend or a rule without paths.
type backendRef struct {
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
func (b backendRef) Service() string { return backendService(b.Backend) }

// HostPath is where the backend serves, e.g. "shop.example/api"; "" for the
// default backend.
func (b backendRef) HostPath() string {
	if b.Path == nil {
		return ""
	}
	return b.Host + b.Path.Path
}

// backendsOf lists the Ingress's backends: the default backend first, then the
// rules' paths in order.
func backendsOf(ing *networkingv1.Ingress) []backendRef {
	var out []backendRef
	if db := ing.Spec.DefaultBackend; db != nil {
		out = append(out, backendRef{Pointer: "/spec/defaultBackend", Rule: -1, Backend: *db})
	}
	for i, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for j := range r.HTTP.Paths {
			p := r.HTTP.Paths[j]
			out = append(out, backendRef{
				Pointer: fmt.Sprintf("/spec/rules/%d/http/paths/%d/backend", i, j),
				Rule:    i, Host: r.Host, Path: &p, Backend: p.Backend,
			})
		}
	}
	return out
}

// backendsTo lists the backends that route to the Service.
func backendsTo(ing *networkingv1.Ingress, service string) []backendRef {
	var out []backendRef
	for _, b := range backendsOf(ing) {
		if b.Service() == service {
			out = append(out, b)
		}
	}
	return out
}

// servicesRouted is the set of Services the Ingress routes to.
func servicesRouted(ing *networkingv1.Ingress) map[string]bool {
	out := map[string]bool{}
	for _, b := range backendsOf(ing) {
		if s := b.Service(); s != "" {
			out[s] = true
		}
	}
	return out
}

func backendService(b networkingv1.IngressBackend) string {
	if b.Service == nil {
		return ""
	}
	return b.Service.Name
}
