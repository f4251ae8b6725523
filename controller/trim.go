package controller

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/preflight"
)

// LastAppliedAnnotation is where `kubectl apply` keeps the whole object it last
// applied, as JSON.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// TrimForCache is an informer transform (informers.WithTransform) that keeps of
// each cached object only what the controller reads. The cache holds every
// Ingress, Service and EndpointSlice of the cluster, not only the rollouts',
// so what it drops is most of the controller's memory:
//
//   - an Ingress keeps its spec, owners, creation time, our label, and the annotations the
//     controller reads: its own keys, ingress-nginx's canary keys and the
//     legacy class; no status, no managedFields, no kubectl last-applied copy
//     (on an applied Ingress most of its size). Of a bystander's spec (an
//     Ingress neither a rollout's nor a canary) only its routes to Services;
//   - a Service becomes a preflight.ServicePorts: its name and its ports'
//     names and numbers, about a tenth of a trimmed *corev1.Service;
//   - an EndpointSlice becomes a preflight.SliceReadiness: its Service's name
//     and whether any endpoint is ready.
//
// Nothing is lost by it: writes are patches of the fields and keys the
// controller owns, never an update of a cached object, and Services and
// EndpointSlices are only read, by the pre-flight checks. Other kinds lose managedFields and
// the last-applied copy.
func TrimForCache(obj any) (any, error) {
	switch o := obj.(type) {
	case *networkingv1.Ingress:
		return trimIngress(o), nil
	case *corev1.Service:
		return preflight.CompactService(o), nil
	case *discoveryv1.EndpointSlice:
		return preflight.CompactSlice(o), nil
	case *preflight.ServicePorts, *preflight.SliceReadiness:
		return obj, nil // already compact: a transform may see an object twice
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		// A DeletedFinalStateUnknown tombstone, or something else without
		// metadata: keep it as it is.
		return obj, nil
	}
	m.SetManagedFields(nil)
	if a := m.GetAnnotations(); a != nil {
		if _, ok := a[LastAppliedAnnotation]; ok {
			delete(a, LastAppliedAnnotation)
		}
	}
	return obj, nil
}

// identity is the metadata every trimmed Ingress keeps: enough for the
// cache's keys, for telling an update from a resync, and the creation time,
// by which the older of two rollouts that raced onto one canary Service keeps
// it (without it they were ordered by name).
func identity(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, ResourceVersion: m.ResourceVersion, CreationTimestamp: m.CreationTimestamp}
}

func trimIngress(ing *networkingv1.Ingress) *networkingv1.Ingress {
	out := &networkingv1.Ingress{ObjectMeta: identity(ing.ObjectMeta), Spec: ing.Spec}
	// The UID and the owners tell our canary Ingresses from others.
	out.UID, out.OwnerReferences = ing.UID, ing.OwnerReferences
	// Only our value of the label is read (enqueueIngress); Helm puts its own
	// on most Ingresses, and a map each would cost 300 B.
	if ing.Labels[ManagedByLabel] == ManagedByValue {
		out.Labels = map[string]string{ManagedByLabel: ManagedByValue}
	}
	bystander := true
	for k, v := range ing.Annotations {
		if readAnnotation(k) {
			if out.Annotations == nil {
				out.Annotations = map[string]string{}
			}
			out.Annotations[k] = v
			bystander = bystander && k == preflight.LegacyClassAnnotation
		}
	}
	if bystander && out.Labels == nil {
		out.Spec = routesOnly(ing.Spec)
	}
	return out
}

// routesOnly is what the checks read of a bystander, an Ingress that is
// neither a rollout's nor a canary: its class and the Service ports it routes
// to (is the rollout's stable or canary Service shared with it?). Hosts,
// paths and TLS are read only of the primary (the canary's render) and of
// canary Ingresses (their host/paths), so a bystander, most of a cluster's
// Ingresses, keeps none of them.
func routesOnly(spec networkingv1.IngressSpec) networkingv1.IngressSpec {
	out := networkingv1.IngressSpec{IngressClassName: spec.IngressClassName, DefaultBackend: spec.DefaultBackend}
	var paths []networkingv1.HTTPIngressPath
	for _, r := range spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			s := p.Backend.Service
			if s != nil && !slices.ContainsFunc(paths, func(k networkingv1.HTTPIngressPath) bool { return *k.Backend.Service == *s }) {
				paths = append(paths, networkingv1.HTTPIngressPath{Backend: networkingv1.IngressBackend{Service: s}})
			}
		}
	}
	if len(paths) > 0 {
		out.Rules = []networkingv1.IngressRule{{IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}}
	}
	return out
}

// readAnnotation says whether the controller reads an Ingress annotation.
func readAnnotation(key string) bool {
	return strings.HasPrefix(key, annotations.Prefix) || strings.HasPrefix(key, annotations.NginxCanary) || key == preflight.LegacyClassAnnotation
}
