package prom

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/prometheus/common/model"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// traefikGatewayProvider ends the service label of a backendRef that
// Traefik's kubernetesGateway provider serves.
const traefikGatewayProvider = "@kubernetesgateway"

// traefikGatewayService splits an HTTPRoute backendRef's service label,
// "httproute-<ns>-<route>-gw-<gw ns>-<gw>-ep-<entrypoint>-<rule index>-<hash>-svc-<ns>-<service>-<backendRef index>",
// into the route ("<ns>-<route>", up to the first "-gw-") and the Service
// ("<ns>-<service>", after the hex hash). A route or namespace whose name
// contains "-gw-" would be misread, so the controller refuses those
// (routers.GatewayNameProblem).
var traefikGatewayService = regexp.MustCompile(`^httproute-(.+?)-gw-.+-[0-9]+-[0-9a-f]+-svc-(.+)-[0-9]+$`)

// TraefikGateway reads Traefik's service metrics for HTTPRoutes served by its
// kubernetesGateway provider. Each backendRef of each rule is one service,
// so a route's canary and stable sides are told apart by the Service they
// name, and every rule of the route (the testers' rules too) is in one group.
type TraefikGateway struct{}

// Name implements Dialect.
func (TraefikGateway) Name() string { return "traefik-gateway" }

// Queries implements Dialect. Only HTTPRoute backendRefs are asked for; only,
// when set, those of its routes.
func (TraefikGateway) Queries(only []group) Queries {
	services := `service=~"httproute-.+` + traefikGatewayProvider + `"`
	if only != nil {
		services = `service=~` + anyOf("httproute-", names(only), "-gw-.+"+regexp.QuoteMeta(traefikGatewayProvider))
	}
	by := `sum by (service, instance`
	return Queries{
		Requests: by + `) (` + traefikRequests + selector(services) + `)`,
		Errors:   by + `) (` + traefikRequests + selector(services, `code=~"5.."`) + `)`,
		Buckets:  by + `, le) (` + traefikLatency + selector(services) + `)`,
	}
}

// File implements Dialect: one group per route. Every series carries its
// service as canary too, so that a partial snapshot (withCanaries) keeps the
// route: which Service is the canary is known only to Sides.
func (TraefikGateway) File(m model.Metric) (group, labels, bool) {
	service := string(m["service"])
	base, ok := strings.CutSuffix(service, traefikGatewayProvider)
	if !ok {
		return group{}, labels{}, false
	}
	parts := traefikGatewayService.FindStringSubmatch(base)
	if parts == nil {
		return group{}, labels{}, false
	}
	return group{scope: "httproute", name: parts[1]}, labels{service: parts[2], canary: parts[2], instance: string(m["instance"])}, true
}

// Sides implements Dialect. t.Ingress is the route's name; CanaryUpstream is
// the canary Service's name. Names are compared as Traefik normalises them
// (every run of other characters than letters and digits becomes "-").
func (TraefikGateway) Sides(t analysis.Target) (group, func(labels) bool, func(labels) bool) {
	canary := traefikNormalize(t.Namespace + "-" + t.CanaryUpstream)
	stable := traefikNormalize(t.Namespace + "-" + t.StableService)
	return group{scope: "httproute", name: traefikNormalize(t.Namespace + "-" + t.Ingress)},
		func(l labels) bool { return l.service == canary },
		func(l labels) bool { return l.service == stable }
}

// traefikNormalize is how Traefik turns a name into a label: runs of
// characters other than letters and digits become one "-".
func traefikNormalize(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }), "-")
}
