package main

import (
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/backends"
	"github.com/ingress-canary/ingress-canary/httproute"
	"github.com/ingress-canary/ingress-canary/weights"
)

// Kinds of object a rollout is annotated on.
const (
	kindIngress   = "Ingress"
	kindHTTPRoute = "HTTPRoute"
)

// followed is the object a rollout lives on, an Ingress or an HTTPRoute, as
// far as list and status need it.
type followed struct {
	Kind            string
	Namespace, Name string
	UID             types.UID
	Annotations     map[string]string
	// Services are the Services it routes to as its source says (for an
	// HTTPRoute, without what the controller added).
	Services map[string]bool
}

func followedIngress(ing *networkingv1.Ingress) followed {
	return followed{Kind: kindIngress, Namespace: ing.Namespace, Name: ing.Name, UID: ing.UID,
		Annotations: ing.Annotations, Services: backends.Services(ing)}
}

func followedRoute(r *gwv1.HTTPRoute) followed {
	st, _ := weights.ParseStatus(r.Annotations[annotations.KeyStatus])
	src := httproute.Strip(r.Spec, r.Namespace, st.Stable, r.Annotations[annotations.KeyCanaryService], st.Revision)
	return followed{Kind: kindHTTPRoute, Namespace: r.Namespace, Name: r.Name, UID: r.UID,
		Annotations: r.Annotations, Services: httproute.Services(src, r.Namespace)}
}

// displayName is how list and status name the object: an Ingress by its
// name, as before there were routes; an HTTPRoute as kubectl would,
// "httproute/<name>".
func (f followed) displayName() string {
	if f.Kind == kindHTTPRoute {
		return routePrefix + f.Name
	}
	return f.Name
}

// routePrefix names an HTTPRoute on the command line: status httproute/web.
const routePrefix = "httproute/"
