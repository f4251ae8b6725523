package prom

import (
	"github.com/prometheus/common/model"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// The ingress-nginx metrics a snapshot reads.
const (
	nginxRequests = "nginx_ingress_controller_requests"
	nginxLatency  = "nginx_ingress_controller_request_duration_seconds_bucket"
)

// Nginx reads ingress-nginx's metrics. It labels a canary-routed request with
// the primary Ingress's namespace, name and service, and with
// canary="<ns>-<svc>-<port>" (the canary upstream); a stable request has
// canary="".
type Nginx struct{}

// Name implements Dialect.
func (Nginx) Name() string { return "nginx" }

// Queries implements Dialect. Summing away method, path, status and host
// keeps the answer to a few series per Ingress; only, when set, asks for its
// Ingresses alone (their namespaces times their names, a superset that File
// and the snapshot's keep set narrow).
func (Nginx) Queries(only []group) Queries {
	var in string
	if only != nil {
		in = `namespace=~` + anyOf("", scopes(only), "") + `,ingress=~` + anyOf("", names(only), "")
	}
	by := `sum by (namespace, ingress, service, canary, instance`
	return Queries{
		Requests: by + `) (` + nginxRequests + selector(in) + `)`,
		Errors:   by + `) (` + nginxRequests + selector(`status=~"5.."`, in) + `)`,
		// Buckets are most of any answer (12 per side). Only Ingresses that
		// have a canary need latency, so the rest are joined away in Prometheus.
		Buckets: by + `, le) (` + nginxLatency + selector(in) +
			` and on (namespace, ingress) group by (namespace, ingress) (` + nginxRequests + selector(`canary!=""`, in) + `))`,
	}
}

// File implements Dialect: one group per Ingress.
func (Nginx) File(m model.Metric) (group, labels, bool) {
	g := group{string(m["namespace"]), string(m["ingress"])}
	return g, labels{service: string(m["service"]), canary: string(m["canary"]), instance: string(m["instance"])}, g.name != ""
}

// Sides implements Dialect. The canary side is the canary upstream (any
// canary when t names none). The stable side is what the canary competes
// with: the requests to the replaced Service that nginx did not send to the
// canary. Another path of the Ingress is another Service; its errors must
// neither fail nor mask the canary.
func (Nginx) Sides(t analysis.Target) (group, func(labels) bool, func(labels) bool) {
	canary := func(l labels) bool { return l.canary != "" && (t.CanaryUpstream == "" || l.canary == t.CanaryUpstream) }
	stable := func(l labels) bool { return l.canary == "" && (t.StableService == "" || l.service == t.StableService) }
	return group{t.Namespace, t.Ingress}, canary, stable
}
