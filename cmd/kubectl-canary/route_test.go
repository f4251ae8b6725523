package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	gwfake "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/fake"

	"github.com/ingress-canary/ingress-canary/httproute"
)

// annotatedRoute is an HTTPRoute at step 2 of 4: its rule to web-v1 carries
// the controller's canary backendRef to web-v2.
func annotatedRoute() *gwv1.HTTPRoute {
	port := gwv1.PortNumber(80)
	ref := func(name string) gwv1.HTTPBackendRef {
		return gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(name), Port: &port}}}
	}
	src := gwv1.HTTPRouteSpec{Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{ref("web-v1")}}}}
	return &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "route-uid", Annotations: rolloutAnnotations("web-v2", progressing)},
		Spec:       httproute.Apply(src, httproute.Edit{Namespace: "shop", Stable: "web-v1", Canary: "web-v2", Weight: 1000}),
	}
}

func withRoutes(h *harness, routes ...*gwv1.HTTPRoute) *harness {
	client := gwfake.NewClientset()
	for _, r := range routes {
		_, err := client.GatewayV1().HTTPRoutes(r.Namespace).Create(context.Background(), r, metav1.CreateOptions{})
		if err != nil {
			panic(err)
		}
	}
	h.app.connectRoutes = func(globalOptions) (gwclient.Interface, error) { return client, nil }
	return h
}

func TestListShowsHTTPRoutesBesideIngresses(t *testing.T) {
	h := withRoutes(newHarness(primary("shop", "api", "api-v1", rolloutAnnotations("api-v2", progressing))), annotatedRoute())
	require.Equal(t, exitOK, h.run("list", "-n", "shop"))
	out := h.stdout.String()
	assert.Contains(t, out, "api ")
	assert.Contains(t, out, "httproute/web")
	assert.Contains(t, out, "Progressing")
}

func TestStatusOfAnHTTPRoute(t *testing.T) {
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "e1", Namespace: "shop"},
		InvolvedObject: corev1.ObjectReference{Kind: "HTTPRoute", Name: "web", Namespace: "shop", UID: "route-uid"},
		Type:           "Normal", Reason: "StepStarted", Message: "step 2/4: canary weight 10 %",
		Source: corev1.EventSource{Component: eventComponent}, LastTimestamp: metav1.NewTime(testNow),
	}
	h := withRoutes(newHarness(ev), annotatedRoute())
	require.Equal(t, exitOK, h.run("status", "-n", "shop", "httproute/web"))
	out := h.stdout.String()
	assert.Contains(t, out, "HTTPRoute:   shop/web")
	assert.Contains(t, out, "web-v2 replacing web-v1", "the stable Service, read from the route's source")
	assert.Contains(t, out, "StepStarted")
	assert.NotEqual(t, exitOK, newHarness().run("status", "-n", "shop", "httproute/web"), "no Gateway API client: an error, not a guess")
}
