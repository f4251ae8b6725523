package preflight

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/ingress-canary/ingress-canary/annotations"
)

const ns = "shop"

func service(name string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
}

func readySlice(svc string) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: svc + "-1", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.203.0.2"}}},
	}
}

// ingress routes shop.example/ to svc on port 80.
func ingress(name, uid, svc string, ann map[string]string) *networkingv1.Ingress {
	class := "nginx"
	prefix := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID(uid), Annotations: ann},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			Rules: []networkingv1.IngressRule{{Host: "shop.example", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
			}}}},
		},
	}
}

func TestLint(t *testing.T) {
	optedIn := map[string]string{annotations.KeyCanaryService: "web-v2"}
	other := "traefik"
	tests := []struct {
		name      string
		mut       func(*networkingv1.Ingress)
		objects   []runtime.Object
		want      []string
		fieldOnly bool // every problem is a *Problem, none an annotation
	}{
		{"valid", nil, nil, nil, false},
		{"not our class", func(i *networkingv1.Ingress) { i.Spec.IngressClassName = &other }, nil,
			[]string{`spec.ingressClassName="traefik": want ingress class "nginx": ingress-canary drives ingress-nginx only`}, true},
		{"legacy class annotation", func(i *networkingv1.Ingress) {
			i.Spec.IngressClassName = nil
			i.Annotations[LegacyClassAnnotation] = "traefik"
		}, nil, []string{`spec.ingressClassName="traefik": want`}, true},
		{"no path", func(i *networkingv1.Ingress) { i.Spec.Rules = nil }, nil,
			[]string{`spec.rules="": want at least one path routed to a Service`}, true},
		{"same-named Ingress not ours", nil, []runtime.Object{ingress("web-canary", "squatter", "other", nil)},
			[]string{`metadata.name="web-canary": want no Ingress of that name, or one created by ingress-canary for web`}, true},
		{"another canary Ingress on our host/path", nil,
			[]runtime.Object{ingress("hand-made", "hand-made", "other", map[string]string{annotations.NginxCanary: "true"})},
			[]string{`Ingress hand-made="shop.example/": want no other canary Ingress on shop.example/`}, true},
		{"missing canary Service", func(i *networkingv1.Ingress) { i.Annotations[annotations.KeyCanaryService] = "web-v9" }, nil,
			[]string{`annotation ingress-canary.dev/canary-service="web-v9" is invalid: an existing Service in namespace shop`}, false},
		{"canary Service routed to by another Ingress", nil, []runtime.Object{ingress("beta", "beta", "web-v2", nil)},
			[]string{`annotation ingress-canary.dev/canary-service="web-v2" is invalid: a Service no other Ingress routes to, but Ingress beta does`}, false},
		{"stable Service shared", nil, []runtime.Object{ingress("beta", "beta", "web-v1", nil)},
			[]string{`annotation ingress-canary.dev/stable-service="web-v1" is invalid: a Service only this Ingress routes to, but Ingress beta also routes to web-v1`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			primary := ingress("web", "web", "web-v1", map[string]string{})
			for k, v := range optedIn {
				primary.Annotations[k] = v
			}
			if tt.mut != nil {
				tt.mut(primary)
			}
			objects := append([]runtime.Object{primary, service("web-v1"), service("web-v2"), readySlice("web-v2")}, tt.objects...)
			report, err := Lint(t.Context(), fake.NewSimpleClientset(objects...), "nginx", primary)
			require.NoError(t, err)
			var got []string
			for _, p := range report.Problems {
				got = append(got, p.Error())
				var field *Problem
				if tt.fieldOnly {
					assert.True(t, errors.As(p, &field), "%s is a field problem", p)
				}
			}
			require.Len(t, got, len(tt.want), "%q", got)
			for i, want := range tt.want {
				assert.Contains(t, got[i], want)
			}
			if tt.want == nil {
				assert.Equal(t, "web-v1", report.StableService)
				assert.True(t, report.CanaryReady)
			}
		})
	}
}
