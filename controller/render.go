package controller

import (
	"fmt"
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
)

var ingressKind = networkingv1.SchemeGroupVersion.WithKind("Ingress")

// renderCanary builds the canary Ingress: the primary's class and TLS, and only the
// paths that route to the stable Service, pointed at the canary Service. Paths to
// other Services are left out, because ingress-nginx would otherwise split them too.
func renderCanary(primary *networkingv1.Ingress, stable, canary string, port networkingv1.ServiceBackendPort, routing annotations.Routing, w annotations.Weight) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{
			Name:            CanaryName(primary.Name),
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
	if class, ok := primary.Annotations[legacyClassAnnotation]; ok {
		ing.Annotations[legacyClassAnnotation] = class
	}
	for _, rule := range primary.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		var paths []networkingv1.HTTPIngressPath
		for _, p := range rule.HTTP.Paths {
			if backendService(p.Backend) != stable {
				continue
			}
			p.Backend = networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: canary, Port: canaryPort(port, p.Backend)}}
			paths = append(paths, p)
		}
		if len(paths) > 0 {
			ing.Spec.Rules = append(ing.Spec.Rules, networkingv1.IngressRule{
				Host: rule.Host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}},
			})
		}
	}
	if db := primary.Spec.DefaultBackend; db != nil && backendService(*db) == stable {
		ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: canary, Port: canaryPort(port, *db)}}
	}
	return ing
}

// canaryPort is canary-port when set, else the stable backend's own port.
func canaryPort(set networkingv1.ServiceBackendPort, stable networkingv1.IngressBackend) networkingv1.ServiceBackendPort {
	if set.Name != "" || set.Number != 0 {
		return set
	}
	return stable.Service.Port
}

func backendService(b networkingv1.IngressBackend) string {
	if b.Service == nil {
		return ""
	}
	return b.Service.Name
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

// stableBackends lists every backend of the primary that routes to the service.
func stableBackends(ing *networkingv1.Ingress, service string) []networkingv1.IngressBackend {
	var out []networkingv1.IngressBackend
	if db := ing.Spec.DefaultBackend; db != nil && backendService(*db) == service {
		out = append(out, *db)
	}
	for _, rule := range ing.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		for _, p := range rule.HTTP.Paths {
			if backendService(p.Backend) == service {
				out = append(out, p.Backend)
			}
		}
	}
	return out
}

// ownerRef makes the primary the canary's controller, so deleting the primary
// garbage-collects the canary. BlockOwnerDeletion stays unset: it would need
// permission on the primary's finalizers, and nothing waits on the canary.
func ownerRef(primary *networkingv1.Ingress) metav1.OwnerReference {
	ref := metav1.NewControllerRef(primary, ingressKind)
	ref.BlockOwnerDeletion = nil
	return *ref
}
