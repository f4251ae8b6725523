package httproute

import (
	"fmt"
	"sort"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/preflight"
)

// ResolveStable finds the Service being replaced in the source spec, with
// the same rules as for an Ingress: stable-service, else the rollout's pinned
// Service, else the one Service besides the canary that the rules route to.
// Once no rule routes to the stable Service any more and some route to the
// canary, the canary is the stable Service: the route has been promoted.
func ResolveStable(src gwv1.HTTPRouteSpec, namespace string, spec *annotations.Spec, pinned string) (string, error) {
	used := Services(src, namespace)
	var others []string
	for name := range used {
		if name != spec.CanaryService {
			others = append(others, name)
		}
	}
	sort.Strings(others)
	want := spec.StableService
	if want == "" {
		want = pinned
	}
	switch {
	case want != "" && used[want]:
		return want, nil
	case want != "" && used[spec.CanaryService] && (pinned == "" || pinned == want):
		return spec.CanaryService, nil
	case want != "":
		return "", &annotations.Error{Key: annotations.KeyStableService, Value: want,
			Expected: fmt.Sprintf("a Service that a rule of the HTTPRoute routes to in namespace %s (it routes to %s)", namespace, orNone(others))}
	case len(others) == 1:
		return others[0], nil
	case len(others) == 0 && used[spec.CanaryService]:
		return spec.CanaryService, nil
	case len(others) == 0:
		return "", &preflight.Problem{Field: "spec.rules", Value: "", Expected: "at least one rule with a backendRef to a Service of namespace " + namespace}
	}
	return "", &annotations.Error{Key: annotations.KeyStableService, Value: "",
		Expected: "the Service to replace, because the HTTPRoute routes to several: " + strings.Join(others, ", ")}
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "no Service"
	}
	return strings.Join(names, ", ")
}
