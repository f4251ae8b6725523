package httproute

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// isService reports whether ref names the Service name in the route's own
// namespace: the core group, kind Service (both defaults), no other namespace.
func isService(ref gwv1.BackendObjectReference, namespace, name string) bool {
	if ref.Group != nil && *ref.Group != "" {
		return false
	}
	if ref.Kind != nil && *ref.Kind != "Service" {
		return false
	}
	if ref.Namespace != nil && string(*ref.Namespace) != namespace {
		return false
	}
	return string(ref.Name) == name
}

// serviceName is the Service a backendRef names in the route's namespace, or "".
func serviceName(ref gwv1.BackendObjectReference, namespace string) string {
	if isService(ref, namespace, string(ref.Name)) {
		return string(ref.Name)
	}
	return ""
}

// refIndex is the index of the first backendRef of rule to the Service, or -1.
func refIndex(rule gwv1.HTTPRouteRule, namespace, service string) int {
	for i, b := range rule.BackendRefs {
		if isService(b.BackendObjectReference, namespace, service) {
			return i
		}
	}
	return -1
}

// Services lists every Service the rules route to in the route's namespace.
func Services(spec gwv1.HTTPRouteSpec, namespace string) map[string]bool {
	out := map[string]bool{}
	for _, r := range spec.Rules {
		for _, b := range r.BackendRefs {
			if n := serviceName(b.BackendObjectReference, namespace); n != "" {
				out[n] = true
			}
		}
	}
	return out
}
