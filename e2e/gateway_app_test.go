package e2e

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/e2e/cluster"
	"github.com/ingress-canary/ingress-canary/weights"
)

// routeApp is a gateway test's world: app's namespace, host, versions and
// traffic, with a Gateway "edge" on Traefik and an HTTPRoute "web" in place
// of the primary Ingress.
type routeApp struct {
	*app
	gw gwclient.Interface
}

// requireGatewaySuite skips a Gateway API test outside the gateway suite
// (E2E_ROUTER=gateway, which make e2e runs): other suites' clusters serve no
// Gateway API.
func requireGatewaySuite(t *testing.T) {
	t.Helper()
	if suiteRouter() != gatewaySuite {
		t.Skipf("%s=%s runs this test (make e2e)", routerEnv, gatewaySuite)
	}
}

// newRouteApp deploys versions 1..n (Services web-v1..), the Gateway, and the
// HTTPRoute "web" with rules (nil: one rule, every path to web-v1), and waits
// until Traefik serves version 1.
func newRouteApp(t *testing.T, name string, versions int, rules []gwv1.HTTPRouteRule) *routeApp {
	t.Helper()
	requireGatewaySuite(t)
	a := &routeApp{app: &app{t: t, name: name, ns: routeNamespace(name), host: name + ".route.e2e.local", primaryName: "web"}}
	cfg := rest.CopyConfig(suite.cluster.RESTConfig)
	cfg.ContentType = "application/json"
	var err error
	a.gw, err = gwclient.NewForConfig(cfg)
	require.NoError(t, err)
	a.describe = func() string { return a.route().Annotations[annotations.KeyStatus] }
	a.readStatus = a.routeStatus
	ctx := context.Background()
	for i := 1; i <= versions; i++ {
		require.NoError(t, suite.cluster.DeployVersion(ctx, a.ns, a.service(i), a.version(i)))
	}
	_, err = a.gw.GatewayV1().Gateways(a.ns).Create(ctx, &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "edge", Namespace: a.ns},
		Spec: gwv1.GatewaySpec{GatewayClassName: cluster.GatewayClassName, Listeners: []gwv1.Listener{{
			Name: "web", Port: gwv1.PortNumber(cluster.TraefikGatewayPort), Protocol: gwv1.HTTPProtocolType,
		}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	if rules == nil {
		rules = []gwv1.HTTPRouteRule{pathRule("/", a.service(1))}
	}
	_, err = a.gw.GatewayV1().HTTPRoutes(a.ns).Create(ctx, &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: a.ns, Annotations: map[string]string{"team.example/owner": a.name}},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "edge"}}},
			Hostnames:       []gwv1.Hostname{gwv1.Hostname(a.host)},
			Rules:           rules,
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	a.waitServing(a.version(1))
	return a
}

// routeNamespace is a gateway test's namespace. No "-gw-" in it: the
// controller refuses such names on Traefik (its metrics could not be read).
func routeNamespace(name string) string { return "e2e-route-" + name }

// pathRule is a rule routing the path prefix to service port 80.
func pathRule(path, service string) gwv1.HTTPRouteRule {
	prefix := gwv1.PathMatchPathPrefix
	port := gwv1.PortNumber(80)
	return gwv1.HTTPRouteRule{
		Matches: []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: &prefix, Value: &path}}},
		BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
			Name: gwv1.ObjectName(service), Port: &port}}}},
	}
}

func (a *routeApp) route() *gwv1.HTTPRoute {
	a.t.Helper()
	r, err := a.gw.GatewayV1().HTTPRoutes(a.ns).Get(context.Background(), "web", metav1.GetOptions{})
	require.NoError(a.t, err)
	return r
}

// annotateRoute merge-patches annotations on the route (nil removes a key).
func (a *routeApp) annotateRoute(kv map[string]any) {
	a.t.Helper()
	_, err := a.gw.GatewayV1().HTTPRoutes(a.ns).Patch(context.Background(), "web", types.MergePatchType, annotationPatch(a.t, kv), metav1.PatchOptions{})
	require.NoError(a.t, err)
}

// startRoute opts the route in with the given keys (short names).
func (a *routeApp) startRoute(keys map[string]string) { a.annotateRoute(prefixed(keys)) }

// routeStatus is the route's status annotation (app.readStatus).
func (a *routeApp) routeStatus() weights.Status {
	a.t.Helper()
	s, err := weights.ParseStatus(a.route().Annotations[annotations.KeyStatus])
	require.NoError(a.t, err)
	return s
}
