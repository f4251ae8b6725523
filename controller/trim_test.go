package controller

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/cache"

	"github.com/ingress-canary/ingress-canary/preflight"
)

func TestTrimForCacheDropsWhatIsNeverRead(t *testing.T) {
	owner := metav1.OwnerReference{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Name: "web", UID: "u-web", Controller: ptr(true)}
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-canary", Namespace: "shop", UID: "u-canary", ResourceVersion: "12", Generation: 3, CreationTimestamp: metav1.NewTime(t0),
			Annotations: map[string]string{
				LastAppliedAnnotation:                        `{"apiVersion":"networking.k8s.io/v1","kind":"Ingress"}`,
				"ingress-canary.dev/canary-service":          "web-v2",
				"nginx.ingress.kubernetes.io/canary":         "true",
				"nginx.ingress.kubernetes.io/canary-weight":  "10",
				"nginx.ingress.kubernetes.io/rewrite-target": "/",
				"kubernetes.io/ingress.class":                "nginx",
				"meta.helm.sh/release-name":                  "web",
			},
			Labels:          map[string]string{"app": "web", ManagedByLabel: ManagedByValue},
			OwnerReferences: []metav1.OwnerReference{owner},
			ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
		},
		Spec: networkingv1.IngressSpec{IngressClassName: ptr("nginx"), Rules: []networkingv1.IngressRule{{Host: "shop.example.com"}}},
		Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{
			Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1"}}}},
	}
	out, err := TrimForCache(ing)
	require.NoError(t, err)
	assert.Equal(t, &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-canary", Namespace: "shop", UID: "u-canary", ResourceVersion: "12", CreationTimestamp: metav1.NewTime(t0),
			Annotations: map[string]string{
				"ingress-canary.dev/canary-service":         "web-v2",
				"nginx.ingress.kubernetes.io/canary":        "true",
				"nginx.ingress.kubernetes.io/canary-weight": "10",
				"kubernetes.io/ingress.class":               "nginx",
			},
			Labels:          map[string]string{ManagedByLabel: ManagedByValue},
			OwnerReferences: []metav1.OwnerReference{owner},
		},
		Spec: ing.Spec,
	}, out, "the spec, the owners, the creation time, our label and the annotations the controller reads")
}

// A bystander, an Ingress neither a rollout's nor a canary (most of a
// cluster's), keeps only what the shared-Service checks read of it: its
// class and the Service ports it routes to, once each.
func TestTrimForCacheKeepsOfABystanderItsRoutesToServices(t *testing.T) {
	prefix := networkingv1.PathTypePrefix
	svc := func(name string, port networkingv1.ServiceBackendPort) networkingv1.IngressBackend {
		return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: port}}
	}
	path := func(p string, b networkingv1.IngressBackend) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{Path: p, PathType: &prefix, Backend: b}
	}
	http80, named := networkingv1.ServiceBackendPort{Number: 80}, networkingv1.ServiceBackendPort{Name: "http"}
	bucket := networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{Kind: "StorageBucket", Name: "static"}}
	spec := networkingv1.IngressSpec{
		IngressClassName: ptr("nginx"),
		DefaultBackend:   ptr(svc("fallback", http80)),
		TLS:              []networkingv1.IngressTLS{{Hosts: []string{"shop.example.com", "api.example.com"}, SecretName: "shop-tls"}},
		Rules: []networkingv1.IngressRule{
			{Host: "shop.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
				path("/", svc("web", http80)), path("/cart", svc("cart", named)), path("/static", bucket)}}}},
			{Host: "api.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
				path("/v1", svc("web", http80)), path("/v2", svc("web", named))}}}},
			{Host: "empty.example.com"},
		},
	}
	meta := metav1.ObjectMeta{Name: "shop", Namespace: "shop", UID: "u-shop", ResourceVersion: "5",
		Labels:      map[string]string{ManagedByLabel: "Helm"},
		Annotations: map[string]string{preflight.LegacyClassAnnotation: "nginx", "cert-manager.io/cluster-issuer": "prod"}}

	out, err := TrimForCache(&networkingv1.Ingress{ObjectMeta: meta, Spec: spec})
	require.NoError(t, err)
	only := func(b networkingv1.IngressBackend) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{Backend: b}
	}
	assert.Equal(t, &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "shop", UID: "u-shop", ResourceVersion: "5",
			Annotations: map[string]string{preflight.LegacyClassAnnotation: "nginx"}},
		Spec: networkingv1.IngressSpec{IngressClassName: ptr("nginx"), DefaultBackend: ptr(svc("fallback", http80)),
			Rules: []networkingv1.IngressRule{{IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{only(svc("web", http80)), only(svc("cart", named)), only(svc("web", named))}}}}}},
	}, out, "no hosts, paths, TLS or resource backends; each Service port once; not Helm's label")

	for name, ing := range map[string]*networkingv1.Ingress{
		"a rollout's primary": {ObjectMeta: metav1.ObjectMeta{Name: "shop", Annotations: map[string]string{"ingress-canary.dev/canary-service": "web-v2"}}, Spec: spec},
		"a canary Ingress":    {ObjectMeta: metav1.ObjectMeta{Name: "shop", Annotations: map[string]string{"nginx.ingress.kubernetes.io/canary": "true"}}, Spec: spec},
		"ours":                {ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{ManagedByLabel: ManagedByValue}}, Spec: spec},
	} {
		out, err := TrimForCache(ing)
		require.NoError(t, err)
		assert.Equal(t, spec, out.(*networkingv1.Ingress).Spec, "%s keeps its whole spec", name)
	}
}

func TestTrimForCacheKeepsTombstonesAndBareObjects(t *testing.T) {
	tomb := cache.DeletedFinalStateUnknown{Key: "shop/web"}
	out, err := TrimForCache(tomb)
	require.NoError(t, err)
	assert.Equal(t, tomb, out)

	bare := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web"}}
	out, err = TrimForCache(bare)
	require.NoError(t, err)
	assert.Nil(t, out.(*networkingv1.Ingress).Annotations)
}

func TestTrimForCacheKeepsWhatTheLintReads(t *testing.T) {
	notReady := false
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web-v2", Namespace: "shop", ResourceVersion: "7",
			Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"team": "a"}},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"}, ClusterIP: "10.0.0.7",
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}},
		},
	}
	slice := func(conds ...*bool) *discoveryv1.EndpointSlice {
		s := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: "web-v2-abc", Namespace: "shop", ResourceVersion: "9", Labels: map[string]string{
				discoveryv1.LabelServiceName: "web-v2", discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io"}},
			AddressType: discoveryv1.AddressTypeIPv4,
		}
		for i, c := range conds {
			s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.1.0.%d", i)}, Conditions: discoveryv1.EndpointConditions{Ready: c}})
		}
		return s
	}
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"service keeps its ports", svc, &preflight.ServicePorts{Namespace: "shop", Name: "web-v2", ResourceVersion: "7",
			Ports: []preflight.ServicePort{{Name: "http", Number: 80}}}},
		{"slice with a ready endpoint", slice(&notReady, nil), trimmedSlice(true)},
		{"slice with none ready", slice(&notReady, &notReady), trimmedSlice(false)},
		{"slice with no endpoints", slice(), trimmedSlice(false)},
		{"a compact entry stays as it is", trimmedSlice(true), trimmedSlice(true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := TrimForCache(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, out)
		})
	}
}

func trimmedSlice(ready bool) *preflight.SliceReadiness {
	return &preflight.SliceReadiness{Namespace: "shop", Name: "web-v2-abc", ResourceVersion: "9", Service: "web-v2", Ready: ready}
}

// Only a change the checks read wakes the rollouts that use a Service.
func TestSameForChecks(t *testing.T) {
	ports := func(n ...int32) *preflight.ServicePorts {
		s := &preflight.ServicePorts{Namespace: "shop", Name: "web"}
		for _, p := range n {
			s.Ports = append(s.Ports, preflight.ServicePort{Number: p})
		}
		return s
	}
	assert.True(t, sameForChecks(ports(80), ports(80)))
	assert.False(t, sameForChecks(ports(80), ports(8080)))
	assert.True(t, sameForChecks(trimmedSlice(true), trimmedSlice(true)), "an endpoint moved, still ready")
	assert.False(t, sameForChecks(trimmedSlice(false), trimmedSlice(true)), "became ready")
	svc := &corev1.Service{}
	assert.False(t, sameForChecks(svc, svc), "an API object always counts as changed")
}
