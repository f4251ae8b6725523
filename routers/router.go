// Package routers names the data planes ingress-canary drives, and what each
// one needs: how a rollout's traffic is written, how a window's requests are
// read from Prometheus, and which annotations its data plane cannot honour.
// A new data plane is a new file here (and a prom.Dialect with its tests).
package routers

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ingress-canary/ingress-canary/analysis/prom"
	"github.com/ingress-canary/ingress-canary/annotations"
)

// Writer is how a router's traffic is written.
type Writer string

// CanaryIngress writes a companion canary Ingress with the
// nginx.ingress.kubernetes.io/canary* annotations, which ingress-nginx and
// Traefik's kubernetesIngressNGINX provider both read.
const CanaryIngress Writer = "canary-ingress"

// Router is one data plane.
type Router struct {
	Name    string
	Writes  Writer
	Metrics prom.Dialect
	// Unsupported maps an ingress-canary.dev annotation key to why this data
	// plane cannot honour it. Such a key is refused (Invalid), never ignored.
	Unsupported map[string]string
}

// registry holds every router by name; each router's file adds itself.
var registry = map[string]Router{}

func register(r Router) { registry[r.Name] = r }

// Lookup returns the router called name.
func Lookup(name string) (Router, error) {
	if r, ok := registry[name]; ok {
		return r, nil
	}
	return Router{}, fmt.Errorf("unknown router %q: want one of %s", name, strings.Join(Names(), ", "))
}

// Names lists the routers, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Refuse returns the problems of a spec this router cannot honour: one per
// set annotation that its data plane ignores, naming the router and the key.
func (r Router) Refuse(ann map[string]string) []*annotations.Error {
	var keys []string
	for key := range r.Unsupported {
		if strings.TrimSpace(ann[key]) != "" {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	var out []*annotations.Error
	for _, key := range keys {
		out = append(out, &annotations.Error{Key: key, Value: ann[key],
			Expected: fmt.Sprintf("not set with --router=%s: %s", r.Name, r.Unsupported[key])})
	}
	return out
}
