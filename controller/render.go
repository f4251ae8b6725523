package controller

import (
	"fmt"
	"slices"
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/backends"
	"github.com/ingress-canary/ingress-canary/preflight"
)

var ingressKind = networkingv1.SchemeGroupVersion.WithKind("Ingress")

// renderCanary builds the canary Ingress: the primary's class and TLS, and only the
// paths that route to the stable Service, pointed at the canary Service. Paths to
// other Services are left out, because ingress-nginx would otherwise split them too.
func renderCanary(primary *networkingv1.Ingress, stable, canary string, port networkingv1.ServiceBackendPort, routing annotations.Routing, w annotations.Weight) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{
			Name:            preflight.CanaryName(primary.Name),
			Namespace:       primary.Namespace,
			Labels:          map[string]string{ManagedByLabel: ManagedByValue},
			Annotations:     annotations.Render(routing, w),
			OwnerReferences: []metav1.OwnerReference{ownerRef(primary)},
		},
		Spec: networkingv1.IngressSpec{
			IngressClassName: primary.Spec.IngressClassName,
			TLS:              primary.Spec.TLS,
		},
	}
	if class, ok := primary.Annotations[preflight.LegacyClassAnnotation]; ok {
		ing.Annotations[preflight.LegacyClassAnnotation] = class
	}
	// Rules keep the primary's order; a rule with no replaced path is left out.
	ruleAt := map[int]int{}
	for _, b := range backends.To(primary, stable) {
		backend := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: canary, Port: preflight.CanaryPort(port, b.Backend)}}
		if b.Path == nil {
			ing.Spec.DefaultBackend = &backend
			continue
		}
		i, ok := ruleAt[b.Rule]
		if !ok {
			i = len(ing.Spec.Rules)
			ruleAt[b.Rule] = i
			ing.Spec.Rules = append(ing.Spec.Rules, networkingv1.IngressRule{
				Host: b.Host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}},
			})
		}
		p := *b.Path
		p.Backend = backend
		ing.Spec.Rules[i].HTTP.Paths = append(ing.Spec.Rules[i].HTTP.Paths, p)
	}
	if db := ing.Spec.DefaultBackend; db != nil && len(primary.Spec.Rules) > 0 {
		// With rules, ingress-nginx serves the default backend only at the
		// root of their hosts, and a canary default backend would fail to merge
		// into the catch-all server and take the canary upstream with it.
		ing.Spec.DefaultBackend = nil
		for _, root := range defaultBackendRoots(primary, *db) {
			i := slices.IndexFunc(ing.Spec.Rules, func(r networkingv1.IngressRule) bool { return r.Host == root.Host })
			if i < 0 {
				ing.Spec.Rules = append(ing.Spec.Rules, root)
				continue
			}
			ing.Spec.Rules[i].HTTP.Paths = append(ing.Spec.Rules[i].HTTP.Paths, root.HTTP.Paths...)
		}
	}
	return ing
}

// defaultBackendRoots are the rules that carry a default-backend canary to the
// primary's hosts. ingress-nginx serves the root ("/", Prefix) of each host of
// an Ingress that has rules from that Ingress's default backend, but merges a
// canary's default backend only into the catch-all server ("unable to find
// real backend for alternative backend" in its log, seen in e2e): without a
// rule "/" for the host, the canary would never be routed there. A host whose
// rules name "/" already routes it through a path of its own.
func defaultBackendRoots(primary *networkingv1.Ingress, canary networkingv1.IngressBackend) []networkingv1.IngressRule {
	rooted := map[string]bool{}
	var hosts []string
	for _, b := range backends.Of(primary) {
		if b.Path == nil {
			continue
		}
		if !rooted[b.Host] && !slices.Contains(hosts, b.Host) {
			hosts = append(hosts, b.Host)
		}
		if b.Path.Path == "/" && b.Path.PathType != nil && *b.Path.PathType == networkingv1.PathTypePrefix {
			rooted[b.Host] = true
		}
	}
	prefix := networkingv1.PathTypePrefix
	var out []networkingv1.IngressRule
	for _, host := range hosts {
		if host == "" || rooted[host] {
			continue // "" is the catch-all server, which the default backend covers
		}
		out = append(out, networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: canary}},
		}}})
	}
	return out
}

// upstreamName is ingress-nginx's name for a backend: "<namespace>-<service>-<port>",
// which it puts in the `canary` label of canary-routed requests.
func upstreamName(namespace, service string, port networkingv1.ServiceBackendPort) string {
	p := port.Name
	if p == "" {
		p = strconv.Itoa(int(port.Number))
	}
	return fmt.Sprintf("%s-%s-%s", namespace, service, p)
}

// ownerRef makes the primary the canary's controller, so deleting the primary
// garbage-collects the canary. BlockOwnerDeletion stays unset: it would need
// permission on the primary's finalizers, and nothing waits on the canary.
func ownerRef(primary *networkingv1.Ingress) metav1.OwnerReference {
	ref := metav1.NewControllerRef(primary, ingressKind)
	ref.BlockOwnerDeletion = nil
	return *ref
}
