package controller

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"

	"github.com/ingress-canary/ingress-canary/annotations"
)

// BenchmarkCacheHeap measures the live heap of the controller's informer
// caches (as New configures them, trimmed as --trim-cache does) for each kind
// of a bench/scale-shaped cluster: 10,000 Ingresses in 100 namespaces, 1,000
// of them opted in, 11,000 Services and EndpointSlices. Each listed object is
// a protobuf round trip, as a watch decodes it, so that its strings are its
// own. Run with -benchtime=1x:
//
//	go test ./controller -run '^$' -bench CacheHeap -benchtime=1x
func BenchmarkCacheHeap(b *testing.B) {
	const ingresses, rollouts, services = 10000, 1000, 11000
	for _, kind := range []string{"ingresses", "services", "endpointslices"} {
		b.Run(kind, func(b *testing.B) {
			var items []apiruntime.Object
			switch kind {
			case "ingresses":
				for i := range ingresses {
					items = append(items, benchIngress(i, i%(ingresses/rollouts) == 0))
				}
			case "services":
				for i := range services {
					items = append(items, benchService(i))
				}
			case "endpointslices":
				for i := range services {
					items = append(items, benchSlice(i))
				}
			}
			for range b.N {
				b.ReportMetric(cacheHeap(b, kind, items)/float64(len(items)), "B/object")
			}
		})
	}
}

// cacheHeap is the live heap a synced controller cache adds, with the items
// listed as kind and nothing else.
func cacheHeap(b *testing.B, kind string, items []apiruntime.Object) float64 {
	client := fake.NewClientset()
	client.PrependReactor("list", kind, func(k8stesting.Action) (bool, apiruntime.Object, error) {
		return true, decodedList(b, kind, items), nil
	})
	before := liveHeap()
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(TrimForCache))
	ctrl, err := New(client, factory, record.NewFakeRecorder(1), &stubAnalyzer{}, NewMetrics(prometheus.NewRegistry()), zap.NewNop(), Options{IngressClass: "nginx"})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	after := liveHeap()
	runtime.KeepAlive(ctrl)
	cancel()
	factory.Shutdown()
	return after - before
}

func liveHeap() float64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc)
}

// protoObject is what the generated API types give a protobuf codec.
type protoObject interface {
	apiruntime.Object
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
}

// decodedList lists fresh copies of items, each decoded from protobuf.
func decodedList(b *testing.B, kind string, items []apiruntime.Object) apiruntime.Object {
	decode := func(in apiruntime.Object, out protoObject) {
		data, err := in.(protoObject).Marshal()
		if err == nil {
			err = out.Unmarshal(data)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	switch kind {
	case "ingresses":
		list := &networkingv1.IngressList{Items: make([]networkingv1.Ingress, len(items))}
		for i, it := range items {
			decode(it, &list.Items[i])
		}
		return list
	case "services":
		list := &corev1.ServiceList{Items: make([]corev1.Service, len(items))}
		for i, it := range items {
			decode(it, &list.Items[i])
		}
		return list
	}
	list := &discoveryv1.EndpointSliceList{Items: make([]discoveryv1.EndpointSlice, len(items))}
	for i, it := range items {
		decode(it, &list.Items[i])
	}
	return list
}

func benchMeta(i int, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: name, Namespace: fmt.Sprintf("ns%03d", i%100), UID: types.UID(fmt.Sprintf("5f0c3a1e-%04d-4d2f-9a61-%012d", i%10000, i)),
		ResourceVersion: fmt.Sprint(100000 + i), CreationTimestamp: metav1.NewTime(t0),
		Labels: map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name,
			"app.kubernetes.io/part-of": "shop", "app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "app-1.4.2"},
		Annotations: map[string]string{LastAppliedAnnotation: `{"apiVersion":"v1","kind":"Thing","metadata":{"name":"` + name + `"},"spec":{"a very long":"copy of the object as kubectl applied it"}}`},
	}
}

// benchIngress is bench/scale's primary Ingress: a class, TLS, one host and
// path, a few annotations; a rollout's also carries the opt-in keys.
func benchIngress(i int, rollout bool) *networkingv1.Ingress {
	name := fmt.Sprintf("app%05d", i)
	class, prefix := "nginx", networkingv1.PathTypePrefix
	host := name + ".example.com"
	ing := &networkingv1.Ingress{ObjectMeta: benchMeta(i, name), Spec: networkingv1.IngressSpec{
		IngressClassName: &class,
		TLS:              []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: name + "-tls"}},
		Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
				Service: &networkingv1.IngressServiceBackend{Name: name + "-v1", Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
		}}}},
	}}
	for k, v := range map[string]string{"cert-manager.io/cluster-issuer": "letsencrypt-prod", "nginx.ingress.kubernetes.io/proxy-body-size": "8m"} {
		ing.Annotations[k] = v
	}
	if rollout {
		ing.Annotations[annotations.KeyCanaryService] = name + "-v2"
		ing.Annotations[annotations.KeySteps] = "10,25,50"
	}
	return ing
}

func benchService(i int) *corev1.Service {
	name := fmt.Sprintf("app%05d-v1", i)
	return &corev1.Service{ObjectMeta: benchMeta(i, name), Spec: corev1.ServiceSpec{
		ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app.kubernetes.io/name": name},
		Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}},
	}}
}

func benchSlice(i int) *discoveryv1.EndpointSlice {
	service := fmt.Sprintf("app%05d-v1", i)
	yes := true
	s := &discoveryv1.EndpointSlice{ObjectMeta: benchMeta(i, service+"-x7k2p"), AddressType: discoveryv1.AddressTypeIPv4}
	s.Labels[discoveryv1.LabelServiceName] = service
	for j := range 2 {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.244.%d.%d", j, i%250)},
			Conditions: discoveryv1.EndpointConditions{Ready: &yes}})
	}
	return s
}
