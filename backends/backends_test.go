package backends

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

func svc(name string, port int32) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: port}}}
}

func TestOfWalksTheDefaultBackendAndEveryPath(t *testing.T) {
	db := svc("web-v1", 80)
	ing := &networkingv1.Ingress{Spec: networkingv1.IngressSpec{
		DefaultBackend: &db,
		Rules: []networkingv1.IngressRule{
			{Host: "a.example", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
				{Path: "/api", Backend: svc("api-v1", 80)}, {Path: "/", Backend: svc("web-v1", 8080)},
			}}}},
			{Host: "no-http.example"}, // a rule without paths is skipped, not a crash
			{Host: "b.example", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
				{Path: "/", Backend: networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{Kind: "Bucket", Name: "static"}}},
			}}}},
		},
	}}
	all := Of(ing)
	assert.Len(t, all, 4)
	assert.Equal(t, "/spec/defaultBackend", all[0].Pointer)
	assert.Nil(t, all[0].Path)
	assert.Equal(t, "", all[0].HostPath())
	assert.Equal(t, "/spec/rules/0/http/paths/1/backend", all[2].Pointer)
	assert.Equal(t, "a.example/", all[2].HostPath())
	assert.Equal(t, "", all[3].Service(), "a resource backend names no Service")

	to := To(ing, "web-v1")
	assert.Len(t, to, 2, "the default backend and a.example/")
	assert.Equal(t, map[string]bool{"web-v1": true, "api-v1": true}, Services(ing))
}
