package controller

import (
	"k8s.io/apimachinery/pkg/api/meta"
)

// LastAppliedAnnotation is where `kubectl apply` keeps the whole object it last
// applied, as JSON.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// TrimForCache is an informer transform (informers.WithTransform) that drops what
// the controller never reads from cached objects: managedFields and kubectl's
// last-applied copy. On an applied Ingress they are most of its size, and the
// cache holds every Ingress of the cluster, not only the rollouts.
//
// Nothing is lost by it: writes are patches of the fields the controller owns,
// never an update of a cached object, so the trimmed fields are never written back.
func TrimForCache(obj any) (any, error) {
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
