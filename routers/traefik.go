package routers

import "github.com/ingress-canary/ingress-canary/analysis/prom"

// Traefik ≥ 3.7 with its kubernetesIngressNGINX provider: the same canary
// Ingress (it reads canary, -weight, -weight-total, -by-header, -by-header-value,
// -by-header-pattern and -by-cookie; e2e/cluster's Traefik test proves each),
// and its traefik_service_* metrics.
func init() {
	register(Router{Name: "traefik", Writes: CanaryIngress, Metrics: prom.Traefik{}})
}
