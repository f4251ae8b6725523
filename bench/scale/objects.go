package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/ingress-canary/ingress-canary/annotations"
)

// The field managers real clients use: `kubectl apply` (client-side) for
// what a person or a pipeline applies, kube-controller-manager's for
// EndpointSlices, and the kubectl plugin for starting a rollout.
const (
	kubectlApply     = "kubectl-client-side-apply"
	endpointsManager = "kube-controller-manager"
	pluginManager    = "kubectl-canary"
	lastApplied      = "kubectl.kubernetes.io/last-applied-configuration"
	ingressClass     = "nginx"
)

// createObjects creates the fleet as a cluster that has run for a while has
// it: per Ingress a Service and an EndpointSlice, per rollout a canary
// Service and its EndpointSlice with ready endpoints, and the Ingresses, all
// as `kubectl apply` creates them (a last-applied-configuration annotation and
// managedFields). n workers create concurrently, spread over the clients.
func createObjects(ctx context.Context, clients []kubernetes.Interface, f *fleet, workers int) (int, error) {
	client := clients[0]
	namespaces := map[string]bool{}
	for _, p := range f.ingresses {
		namespaces[p.Namespace] = true
	}
	var jobs []func(context.Context) error
	for ns := range namespaces {
		jobs = append(jobs, func(ctx context.Context) error {
			_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
			return err
		})
	}
	if err := runJobs(ctx, workers, jobs); err != nil {
		return 0, fmt.Errorf("namespaces: %w", err)
	}
	created := len(jobs)
	jobs = jobs[:0]
	for i, p := range f.ingresses {
		client := clients[i%len(clients)]
		jobs = append(jobs,
			func(ctx context.Context) error { return createService(ctx, client, p.Namespace, p.Stable()) },
			func(ctx context.Context) error { return createSlice(ctx, client, p.Namespace, p.Stable()) },
		)
		if p.Run >= 0 {
			jobs = append(jobs,
				func(ctx context.Context) error { return createService(ctx, client, p.Namespace, p.Canary()) },
				func(ctx context.Context) error { return createSlice(ctx, client, p.Namespace, p.Canary()) },
			)
		}
		jobs = append(jobs, func(ctx context.Context) error { return createIngress(ctx, client, p) })
	}
	return created + len(jobs), runJobs(ctx, workers, jobs)
}

// runJobs runs jobs on n workers and returns the first error.
func runJobs(ctx context.Context, n int, jobs []func(context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) {
					return
				}
				if err := jobs[i](ctx); err != nil && !apierrors.IsAlreadyExists(err) {
					cancel(err)
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// applied sets the annotation `kubectl apply` keeps: the object as applied,
// as JSON, without the annotation itself.
func applied(obj any, meta *metav1.ObjectMeta) {
	b, err := json.Marshal(obj)
	if err != nil {
		panic(err) // typed API objects always marshal
	}
	if meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	meta.Annotations[lastApplied] = string(b) + "\n"
}

func appLabels(name string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name,
		"app.kubernetes.io/part-of": "shop", "app.kubernetes.io/managed-by": "Helm",
		"helm.sh/chart": "app-1.4.2",
	}
}

// createService creates a headless Service: kube-apiserver allocates
// ClusterIPs one at a time (0.8 s per Service here, against 2 ms for an
// Ingress), and the controller reads only a Service's ports.
func createService(ctx context.Context, client kubernetes.Interface, namespace, name string) error {
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: appLabels(name)},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Selector:  map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name},
			Ports:     []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}},
		},
	}
	applied(svc, &svc.ObjectMeta)
	_, err := client.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{FieldManager: kubectlApply})
	return err
}

// createSlice creates the Service's EndpointSlice with two ready endpoints,
// as the EndpointSlice controller writes them (the local cluster runs none).
func createSlice(ctx context.Context, client kubernetes.Interface, namespace, service string) error {
	yes, no := true, false
	port, proto, name := int32(8080), corev1.ProtocolTCP, "http"
	zone := "zone-a"
	var eps []discoveryv1.Endpoint
	for i := range 2 {
		node := fmt.Sprintf("node-%d", i)
		pod := fmt.Sprintf("%s-7c9d5f6b8-%c%c%c%c%c", service, 'a'+i, 'k', 'x', 'q', 'z')
		eps = append(eps, discoveryv1.Endpoint{
			Addresses:  []string{fmt.Sprintf("10.244.%d.%d", i, 10+i)},
			Conditions: discoveryv1.EndpointConditions{Ready: &yes, Serving: &yes, Terminating: &no},
			NodeName:   &node, Zone: &zone,
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: namespace, Name: pod, UID: types.UID(fmt.Sprintf("0b6a3c1e-%04d-4d2f-9a61-%012d", i, len(service)))},
		})
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: service + "-", Namespace: namespace,
			Labels: map[string]string{
				discoveryv1.LabelServiceName: service, discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io",
				"app.kubernetes.io/name": service,
			},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   eps,
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port, Protocol: &proto}},
	}
	_, err := client.DiscoveryV1().EndpointSlices(namespace).Create(ctx, slice, metav1.CreateOptions{FieldManager: endpointsManager})
	return err
}

// createIngress creates the primary Ingress with what real ones carry: a
// class, TLS, a few annotations and labels, applied by kubectl. A rollout's
// Ingress also carries its run's label.
func createIngress(ctx context.Context, client kubernetes.Interface, p ingressPlan) error {
	class, prefix := ingressClass, networkingv1.PathTypePrefix
	host := p.Name + "." + p.Namespace + ".example.com"
	ing := &networkingv1.Ingress{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{
			Name: p.Name, Namespace: p.Namespace, Labels: appLabels(p.Name),
			Annotations: map[string]string{
				"cert-manager.io/cluster-issuer":                 "letsencrypt-prod",
				"nginx.ingress.kubernetes.io/proxy-body-size":    "8m",
				"nginx.ingress.kubernetes.io/proxy-read-timeout": "60",
				"meta.helm.sh/release-name":                      p.Name,
				"meta.helm.sh/release-namespace":                 p.Namespace,
			},
		},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			TLS:              []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: p.Name + "-tls"}},
			Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: p.Stable(), Port: networkingv1.ServiceBackendPort{Number: 80}},
				}}},
			}}}},
		},
	}
	if p.Run >= 0 {
		ing.Labels[runLabel] = runLabelValue(p.Run)
	}
	applied(ing, &ing.ObjectMeta)
	_, err := client.NetworkingV1().Ingresses(p.Namespace).Create(ctx, ing, metav1.CreateOptions{FieldManager: kubectlApply})
	return err
}

// startRollout opts the Ingress into a rollout to its canary Service, as
// `kubectl canary start` does: a merge patch of the user's keys.
func startRollout(ctx context.Context, client kubernetes.Interface, p ingressPlan, steps string, interval time.Duration) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		annotations.KeyCanaryService: p.Canary(),
		annotations.KeySteps:         steps,
		annotations.KeyInterval:      interval.String(),
	}}})
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		_, err = client.NetworkingV1().Ingresses(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: pluginManager})
		if err == nil || attempt == 3 || ctx.Err() != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
