package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func canaryIngress(ann map[string]string, port networkingv1.ServiceBackendPort) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns001", Name: "app00100-canary", Annotations: ann},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "h", IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{Path: "/", Backend: networkingv1.IngressBackend{
				Service: &networkingv1.IngressServiceBackend{Name: "app00100-v2", Port: port},
			}}}},
		}}}},
	}
}

func TestCanarySplitReadsWhatNginxReads(t *testing.T) {
	const nginx = "nginx.ingress.kubernetes.io/"
	up, w, err := canarySplit(canaryIngress(map[string]string{nginx + "canary": "true", nginx + "canary-weight": "1000", nginx + "canary-weight-total": "10000"},
		networkingv1.ServiceBackendPort{Number: 80}))
	require.NoError(t, err)
	assert.Equal(t, "ns001-app00100-v2-80", up)
	assert.InDelta(t, 0.1, w, 1e-12)

	up, w, err = canarySplit(canaryIngress(map[string]string{nginx + "canary": "true", nginx + "canary-weight": "25"}, networkingv1.ServiceBackendPort{Name: "http"}))
	require.NoError(t, err)
	assert.Equal(t, "ns001-app00100-v2-http", up, "a named port names the upstream")
	assert.InDelta(t, 0.25, w, 1e-12, "the total defaults to 100")

	for name, ann := range map[string]map[string]string{
		"not a canary": {nginx + "canary-weight": "10"},
		"no weight":    {nginx + "canary": "true"},
		"zero total":   {nginx + "canary": "true", nginx + "canary-weight": "10", nginx + "canary-weight-total": "0"},
	} {
		_, _, err := canarySplit(canaryIngress(ann, networkingv1.ServiceBackendPort{Number: 80}))
		assert.Error(t, err, name)
	}
}
