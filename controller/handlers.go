package controller

import (
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/ingress-canary/ingress-canary/preflight"
	"github.com/ingress-canary/ingress-canary/weights"
)

// onEveryChange calls handle with the object of every add, update (the new
// object) and delete of each informer; an update that changed nothing the
// checks read (sameForChecks) is skipped.
func onEveryChange(handle func(any), infs ...cache.SharedIndexInformer) error {
	for _, inf := range infs {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: handle,
			UpdateFunc: func(old, cur any) {
				if !sameForChecks(old, cur) {
					handle(cur)
				}
			},
			DeleteFunc: handle,
		}); err != nil {
			return err
		}
	}
	return nil
}

// usersOf returns what the service index holds for the Service (or the
// Service of the EndpointSlice) an informer event carries.
func usersOf(index cache.Indexer, obj any) []any {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	var namespace, service string
	switch o := obj.(type) {
	case *corev1.Service:
		namespace, service = o.Namespace, o.Name
	case *preflight.ServicePorts:
		namespace, service = o.Namespace, o.Name
	case *discoveryv1.EndpointSlice:
		namespace, service = o.Namespace, o.Labels[discoveryv1.LabelServiceName]
	case *preflight.SliceReadiness:
		namespace, service = o.Namespace, o.Service
	default:
		return nil
	}
	users, err := index.ByIndex(serviceIndex, namespace+"/"+service)
	if err != nil {
		return nil
	}
	return users
}

// recordEvent emits an Event on obj and logs the same decision.
func recordEvent(recorder record.EventRecorder, obj runtime.Object, e weights.Event, log *zap.Logger) {
	kind := corev1.EventTypeNormal
	if e.Warning {
		kind = corev1.EventTypeWarning
		log.Warn(e.Message, zap.String("reason", e.Reason))
	} else {
		log.Info(e.Message, zap.String("reason", e.Reason))
	}
	recorder.Event(obj, kind, e.Reason, e.Message)
}
