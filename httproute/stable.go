package httproute

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/preflight"
)

// ResolveStable finds the Service being replaced in the source spec, with
// the same rule as for an Ingress (preflight.ResolveStable): stable-service,
// else the rollout's pinned Service, else the one Service besides the canary
// that the rules route to. Once no rule routes to the stable Service any
// more and some route to the canary, the canary is the stable Service: the
// route has been promoted.
func ResolveStable(src gwv1.HTTPRouteSpec, namespace string, spec *annotations.Spec, pinned string) (string, error) {
	return preflight.ResolveStable(Services(src, namespace), spec, pinned, preflight.Router{Kind: "HTTPRoute",
		Empty: &preflight.Problem{Field: "spec.rules", Value: "", Expected: "at least one rule with a backendRef to a Service of namespace " + namespace}})
}
