package controller

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestRenderCanaryMultiHostTLS renders the canary Ingress of a primary with three
// hosts, several paths (one to a Service that is not being replaced), a default
// backend and TLS, and compares it with a golden file.
func TestRenderCanaryMultiHostTLS(t *testing.T) {
	p := primary("shop", nil)
	exact := networkingv1.PathTypeExact
	p.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"shop.example", "api.shop.example"}, SecretName: "shop-tls"}}
	p.Spec.DefaultBackend = ptr(backend("web-v1", 80))
	p.Spec.Rules[0].HTTP.Paths = append(p.Spec.Rules[0].HTTP.Paths,
		networkingv1.HTTPIngressPath{Path: "/static", PathType: &exact, Backend: backend("cdn", 8080)})
	p.Spec.Rules = append(p.Spec.Rules, networkingv1.IngressRule{Host: "api.shop.example", IngressRuleValue: networkingv1.IngressRuleValue{
		HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
			{Path: "/v1", PathType: &exact, Backend: backend("web-v1", 80)},
			{Path: "/v2", PathType: &exact, Backend: backend("web-v1", 80)},
		}},
	}}, networkingv1.IngressRule{Host: "cdn.shop.example", IngressRuleValue: networkingv1.IngressRuleValue{
		HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &exact, Backend: backend("cdn", 8080)}}},
	}})
	routing := annotations.Routing{Header: "X-Canary", Cookie: "canary"}

	got := renderCanary(p, "web-v1", "web-v2", networkingv1.ServiceBackendPort{}, routing, 50)
	out, err := json.MarshalIndent(got, "", "  ")
	require.NoError(t, err)
	golden := filepath.Join("testdata", "canary-multihost-tls.json")
	if *update {
		require.NoError(t, os.WriteFile(golden, append(out, '\n'), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(out))

	// The default backend web-v1 serves the root of every host whose rules
	// do not name "/" (Prefix): api and cdn get a "/" rule for the canary.
	require.Len(t, got.Spec.Rules, 3)
	assert.Len(t, got.Spec.Rules[0].HTTP.Paths, 1, "only paths to the stable Service")
	assert.Equal(t, "/", got.Spec.Rules[1].HTTP.Paths[2].Path, "api's root joins its rule")
	assert.Equal(t, "cdn.shop.example", got.Spec.Rules[2].Host)
	assert.Len(t, got.Spec.Rules[2].HTTP.Paths, 1, "cdn's own /static-like paths are not split; its root is")
	assert.Equal(t, p.Spec.TLS, got.Spec.TLS)
}

func TestSwitchOpsTestBeforeReplace(t *testing.T) {
	p := primary("shop", nil)
	ops := switchOps(p, "web-v1", "web-v2", networkingv1.ServiceBackendPort{Name: "http"})
	require.Len(t, ops, 2)
	assert.Equal(t, jsonPatchOp{Op: "test", Path: "/spec/rules/0/http/paths/0/backend/service/name", Value: "web-v1"}, ops[0])
	assert.Equal(t, "replace", ops[1].Op)
	assert.Equal(t, networkingv1.IngressServiceBackend{Name: "web-v2", Port: networkingv1.ServiceBackendPort{Name: "http"}}, ops[1].Value)
}

func ptr[T any](v T) *T { return &v }
