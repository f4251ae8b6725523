package prom

import (
	"strings"

	"github.com/prometheus/common/model"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// The Traefik metrics a snapshot reads.
const (
	traefikRequests = "traefik_service_requests_total"
	traefikLatency  = "traefik_service_request_duration_seconds_bucket"
	// traefikProvider ends the service label of an Ingress that Traefik's
	// kubernetesIngressNGINX provider serves.
	traefikProvider = "@kubernetesingressnginx"
	// traefikCanary marks the canary's service, just before the provider.
	traefikCanary = "-canary"
)

// Traefik reads Traefik's service metrics for Ingresses served by its
// kubernetesIngressNGINX provider, which reads the same canary annotations as
// ingress-nginx. Each upstream of an Ingress is one service,
// "<ns>-<ingress>-<service>-<port>@kubernetesingressnginx", and its canary is
// the same name with "-canary" before the "@". The stable side is then the
// replaced Service's upstream of the primary Ingress alone: other paths are
// other upstreams.
type Traefik struct{}

// Name implements Dialect.
func (Traefik) Name() string { return "traefik" }

// Queries implements Dialect. Only the provider's services are asked for;
// code, method and protocol are summed away. only, when set, names each
// upstream and its canary exactly.
func (Traefik) Queries(only []group) Queries {
	services, canaryServices := `service=~".+`+traefikProvider+`"`, `service=~".+`+traefikCanary+traefikProvider+`"`
	if only != nil {
		var stable, canary []string
		for _, g := range only {
			stable = append(stable, g.name+traefikProvider)
			canary = append(canary, g.name+traefikCanary+traefikProvider)
		}
		services = `service=~` + anyOf("", append(stable, canary...), "")
		canaryServices = `service=~` + anyOf("", canary, "")
	}
	sel := selector(services)
	canaries := traefikRequests + selector(canaryServices)
	by := `sum by (service, instance`
	return Queries{
		Requests: by + `) (` + traefikRequests + sel + `)`,
		Errors:   by + `) (` + traefikRequests + selector(services, `code=~"5.."`) + `)`,
		// Only upstreams that have a canary need latency: the canary's
		// service and, named by stripping "-canary", its stable one.
		Buckets: by + `, le) (` + traefikLatency + sel + ` and on (service) (` +
			`group by (service) (` + canaries + `) or ` +
			`group by (service) (label_replace(` + canaries + `, "service", "$1` + traefikProvider + `", "service", "(.+)` + traefikCanary + traefikProvider + `"))))`,
	}
}

// File implements Dialect: one group per stable upstream, holding its canary
// too, so that a window reads one group.
func (Traefik) File(m model.Metric) (group, labels, bool) {
	service := string(m["service"])
	base, ok := strings.CutSuffix(service, traefikProvider)
	if !ok || base == "" {
		return group{}, labels{}, false
	}
	l := labels{instance: string(m["instance"])}
	if stable, isCanary := strings.CutSuffix(base, traefikCanary); isCanary {
		base, l.canary = stable, service
	}
	return group{name: base}, l, true
}

// Sides implements Dialect.
func (Traefik) Sides(t analysis.Target) (group, func(labels) bool, func(labels) bool) {
	g := group{name: t.Namespace + "-" + t.Ingress + "-" + t.StableService + "-" + t.StablePort}
	return g, func(l labels) bool { return l.canary != "" }, func(l labels) bool { return l.canary == "" }
}

// Dialects lists every data plane the analysis can read, by name.
var Dialects = map[string]Dialect{Nginx{}.Name(): Nginx{}, Traefik{}.Name(): Traefik{}, TraefikGateway{}.Name(): TraefikGateway{}}
