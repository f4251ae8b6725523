package routers

import "github.com/ingress-canary/ingress-canary/analysis/prom"

// ingress-nginx: the canary Ingress, and its nginx_ingress_controller_* metrics.
func init() {
	register(Router{Name: "nginx", Writes: CanaryIngress, Metrics: prom.Nginx{}})
}
