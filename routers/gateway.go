package routers

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ingress-canary/ingress-canary/analysis/prom"
)

// HTTPRouteBackendRefs writes a rollout into the user's own HTTPRoute: a
// weighted canary backendRef in each canaried rule and a testers' rule per
// canaried rule (package httproute).
const HTTPRouteBackendRefs Writer = "httproute-backendrefs"

// GatewayImplementation is a Gateway API data plane, known by the
// controllerName of its GatewayClass. Unlike an Ingress router it is not
// chosen by a flag: each HTTPRoute's parent Gateways say which one serves it.
type GatewayImplementation struct {
	ControllerName string
	Writes         Writer
	Metrics        prom.Dialect
	// NameProblem says why a route or namespace name cannot be read back from
	// this data plane's metrics ("" when it can).
	NameProblem func(name string) string
}

// gatewayImplementations are the Gateway API data planes whose metrics the
// analysis can read. Envoy Gateway, NGINX Gateway Fabric and Istio are not
// among them (docs/design.md says how their series would map): a route they
// serve is refused, never measured with a guess.
var gatewayImplementations = map[string]GatewayImplementation{
	"traefik.io/gateway-controller": {
		ControllerName: "traefik.io/gateway-controller",
		Writes:         HTTPRouteBackendRefs,
		Metrics:        prom.TraefikGateway{},
		NameProblem: func(name string) string {
			if strings.Contains(name, "-gw-") {
				return `it contains "-gw-", which ends the route's part of Traefik's service label, so the route's series could not be told from others`
			}
			return ""
		},
	},
}

// LookupGateway returns the implementation of a GatewayClass controllerName.
func LookupGateway(controllerName string) (GatewayImplementation, error) {
	if g, ok := gatewayImplementations[controllerName]; ok {
		return g, nil
	}
	return GatewayImplementation{}, fmt.Errorf("a GatewayClass controllerName whose metrics ingress-canary reads (%s), not %q: its series are unknown, and a rollout is not judged on a guess",
		strings.Join(GatewayControllerNames(), ", "), controllerName)
}

// GatewayControllerNames lists the known controllerNames, sorted.
func GatewayControllerNames() []string {
	out := make([]string, 0, len(gatewayImplementations))
	for n := range gatewayImplementations {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
