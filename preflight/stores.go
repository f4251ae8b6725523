package preflight

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// The checks read two things of the cluster's Services and EndpointSlices:
// a Service's ports, and whether a Service has a ready endpoint. A store may
// hold them as the API objects (a one-time snapshot, or an untrimmed cache)
// or as the compact entries below, which is how the controller caches every
// Service and EndpointSlice of the cluster: an API object, even trimmed, costs
// several times more (docs/benchmarks.md, "Scale").

// ServicePorts is a Service as the checks read it: its name and its ports.
type ServicePorts struct {
	Namespace, Name, ResourceVersion string
	Ports                            []ServicePort
}

// ServicePort is one port of a Service: its name (may be empty) and number.
type ServicePort struct {
	Name   string
	Number int32
}

// SliceReadiness is an EndpointSlice as the checks read it: its Service, and
// whether any of its endpoints is ready.
type SliceReadiness struct {
	Namespace, Name, ResourceVersion, Service string
	Ready                                     bool
}

// GetObjectMeta gives a store its key and an informer its resourceVersion
// (meta.Accessor), without the entry carrying a whole ObjectMeta.
func (s *ServicePorts) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Namespace: s.Namespace, Name: s.Name, ResourceVersion: s.ResourceVersion}
}

// GetObjectMeta: see ServicePorts.GetObjectMeta.
func (s *SliceReadiness) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Namespace: s.Namespace, Name: s.Name, ResourceVersion: s.ResourceVersion}
}

// CompactService keeps of a Service what the checks read.
func CompactService(s *corev1.Service) *ServicePorts {
	out := &ServicePorts{Namespace: s.Namespace, Name: s.Name, ResourceVersion: s.ResourceVersion}
	if len(s.Spec.Ports) > 0 {
		out.Ports = make([]ServicePort, len(s.Spec.Ports))
		for i, p := range s.Spec.Ports {
			out.Ports[i] = ServicePort{Name: p.Name, Number: p.Port}
		}
	}
	return out
}

// CompactSlice keeps of an EndpointSlice what the checks read.
func CompactSlice(s *discoveryv1.EndpointSlice) *SliceReadiness {
	out := &SliceReadiness{Namespace: s.Namespace, Name: s.Name, ResourceVersion: s.ResourceVersion,
		Service: s.Labels[discoveryv1.LabelServiceName]}
	for _, e := range s.Endpoints {
		if EndpointReady(e) {
			out.Ready = true
			break
		}
	}
	return out
}

// Services reads Services from a store of *corev1.Service or *ServicePorts.
type Services struct{ Store cache.Store }

// Get returns the Service's ports as a Service, or a NotFound error.
func (s Services) Get(namespace, name string) (*corev1.Service, error) {
	obj, _, err := s.Store.GetByKey(namespace + "/" + name)
	if err != nil {
		return nil, err
	}
	switch o := obj.(type) {
	case *corev1.Service:
		return o, nil
	case *ServicePorts:
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: o.Namespace, Name: o.Name}}
		for _, p := range o.Ports {
			svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: p.Name, Port: p.Number})
		}
		return svc, nil
	}
	return nil, apierrors.NewNotFound(corev1.Resource("services"), name)
}

// EndpointSlices reads readiness from an indexer of *discoveryv1.EndpointSlice
// or *SliceReadiness that has the namespace index, as every informer's has.
// It scans the namespace's slices rather than keep an index by Service: that
// index holds a set for every Service of the cluster, 2.5 MB at 11,000
// Services, more than the compact slices themselves, while a scan of a
// namespace's slices costs microseconds (docs/benchmarks.md, "Scale").
type EndpointSlices struct{ Indexer cache.Indexer }

// Ready reports whether any EndpointSlice of the Service has a ready endpoint.
func (e EndpointSlices) Ready(namespace, service string) (bool, error) {
	slices, err := e.Indexer.ByIndex(cache.NamespaceIndex, namespace)
	if err != nil {
		return false, err
	}
	for _, obj := range slices {
		switch s := obj.(type) {
		case *SliceReadiness:
			if s.Service == service && s.Ready {
				return true, nil
			}
		case *discoveryv1.EndpointSlice:
			if c := CompactSlice(s); c.Service == service && c.Ready {
				return true, nil
			}
		}
	}
	return false, nil
}
