package main

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
	"github.com/ingress-canary/ingress-canary/httproute"
)

// gatewayRouter is ROUTER=gateway: the shop is an annotated Gateway API
// HTTPRoute on Traefik's kubernetesGateway provider instead of an Ingress.
const gatewayRouter = "gateway"

// onGateway says whether the demo runs the HTTPRoute variant.
func onGateway() bool { return demoRouter() == gatewayRouter }

// controllerRouter is the controller's --router: Traefik serves the
// gateway variant's routes.
func controllerRouter() string {
	if onGateway() {
		return "traefik"
	}
	return demoRouter()
}

// objectKind is what the demo annotates, as kubectl names it.
func objectKind() string {
	if onGateway() {
		return "httproute"
	}
	return "ingress"
}

// pluginName is the rollout's name as kubectl canary takes it.
func pluginName() string {
	if onGateway() {
		return "httproute/" + ingressName
	}
	return ingressName
}

// gatewayClient is a Gateway API client for the cluster (JSON: custom
// resources have no protobuf).
func gatewayClient(c *cluster.Cluster) (gwclient.Interface, error) {
	cfg := rest.CopyConfig(c.RESTConfig)
	cfg.ContentType = "application/json"
	return gwclient.NewForConfig(cfg)
}

// deployRoute creates the Gateway "edge" on Traefik's entry point and the
// HTTPRoute "web" to service, as a user would have them before any rollout.
func (s shop) deployRoute(ctx context.Context, service string) error {
	_, err := s.gw.GatewayV1().Gateways(namespace).Create(ctx, &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "edge", Namespace: namespace},
		Spec: gwv1.GatewaySpec{GatewayClassName: cluster.GatewayClassName, Listeners: []gwv1.Listener{{
			Name: "web", Port: gwv1.PortNumber(cluster.TraefikGatewayPort), Protocol: gwv1.HTTPProtocolType}}},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create Gateway %s/edge: %w", namespace, err)
	}
	port := gwv1.PortNumber(80)
	_, err = s.gw.GatewayV1().HTTPRoutes(namespace).Create(ctx, &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: ingressName, Namespace: namespace},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "edge"}}},
			Hostnames:       []gwv1.Hostname{host},
			Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
				BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(service), Port: &port}}}}}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create HTTPRoute %s/%s: %w", namespace, ingressName, err)
	}
	return nil
}

func (s shop) route(ctx context.Context) (*gwv1.HTTPRoute, error) {
	return s.gw.GatewayV1().HTTPRoutes(namespace).Get(ctx, ingressName, metav1.GetOptions{})
}

// routeState says what the controller has added to the route.
func (s shop) routeState(ctx context.Context) string {
	r, err := s.route(ctx)
	if err != nil {
		return "HTTPRoute " + ingressName + ": " + err.Error()
	}
	testers, refs := 0, len(r.Spec.Rules[0].BackendRefs)
	for _, rule := range r.Spec.Rules {
		if httproute.IsTesterRule(rule) {
			testers++
		}
	}
	if testers == 0 && refs == 1 {
		return "no canary backendRef and no testers' rule left in HTTPRoute " + ingressName
	}
	return fmt.Sprintf("HTTPRoute %s still has %d backendRefs in its rule and %d testers' rules", ingressName, refs, testers)
}
