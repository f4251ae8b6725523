package cluster

import "fmt"

// Router is a data plane that serves the cluster's Ingresses of class nginx
// (IngressClassName) from their nginx.ingress.kubernetes.io annotations.
type Router string

const (
	// RouterIngressNginx is the ingress-nginx controller driving nginx, on
	// HTTPURL, with its metrics on IngressMetricsURL.
	RouterIngressNginx Router = "ingress-nginx"
	// RouterTraefik is Traefik with its kubernetesIngressNGINX provider, on
	// TraefikURL, with its metrics on TraefikMetricsURL.
	RouterTraefik Router = "traefik"
)

// routerSet is the validated Options.Routers.
type routerSet struct{ nginx, traefik bool }

// parseRouters validates routers; none means ingress-nginx alone, which is
// what every suite got before there was a choice.
func parseRouters(routers []Router) (routerSet, error) {
	if len(routers) == 0 {
		return routerSet{nginx: true}, nil
	}
	var s routerSet
	for _, r := range routers {
		switch r {
		case RouterIngressNginx:
			s.nginx = true
		case RouterTraefik:
			s.traefik = true
		default:
			return s, fmt.Errorf("cluster: Options.Routers: unknown router %q (want %q or %q)", r, RouterIngressNginx, RouterTraefik)
		}
	}
	return s, nil
}
