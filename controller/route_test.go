package controller

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwfake "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/fake"
	gwinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/httproute"
	"github.com/ingress-canary/ingress-canary/weights"
)

// routeFixture is a RouteController over fake clientsets: Services web-v1
// to web-v3 (ready), GatewayClass controllerName, Gateway edge, and the
// accepted HTTPRoute web with one rule to web-v1.
type routeFixture struct {
	t        *testing.T
	gw       *gwfake.Clientset
	ctrl     *RouteController
	recorder *record.FakeRecorder
	analyzer *stubAnalyzer
	metrics  *Metrics
	now      time.Time
}

func newRouteFixture(t *testing.T, controllerName string, ann map[string]string) *routeFixture {
	ready := true
	port := gwv1.PortNumber(80)
	var kube []runtime.Object
	for _, svc := range []string{"web-v1", "web-v2", "web-v3"} {
		kube = append(kube,
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: svc, Namespace: ns}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}},
			&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: svc, Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
				Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}}})
	}
	accepted := []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue}, {Type: "ResolvedRefs", Status: metav1.ConditionTrue}}
	route := &gwv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns, UID: "route-uid", Annotations: ann},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "edge"}}},
			Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
				BackendObjectReference: gwv1.BackendObjectReference{Name: "web-v1", Port: &port}, Weight: new(httproute.DefaultWeight)}}}}},
		},
		Status: gwv1.HTTPRouteStatus{RouteStatus: gwv1.RouteStatus{Parents: []gwv1.RouteParentStatus{{ParentRef: gwv1.ParentReference{Name: "edge"}, Conditions: accepted}}}},
	}
	// Created through the v1 client: the fake's constructor files a typed
	// object under any of the versions its type is registered for (v1beta1
	// aliases the v1 types), and the v1 informers would not see it.
	gw := gwfake.NewSimpleClientset() //nolint:staticcheck // NewClientset needs an apply type converter the module does not generate for its fake

	ctx := context.Background()
	_, err := gw.GatewayV1().GatewayClasses().Create(ctx, &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "edge-class"},
		Spec: gwv1.GatewayClassSpec{ControllerName: gwv1.GatewayController(controllerName)}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = gw.GatewayV1().Gateways(ns).Create(ctx, &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Name: "edge", Namespace: ns},
		Spec: gwv1.GatewaySpec{GatewayClassName: "edge-class"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = gw.GatewayV1().HTTPRoutes(ns).Create(ctx, route, metav1.CreateOptions{})
	require.NoError(t, err)
	f := &routeFixture{t: t, gw: gw, recorder: record.NewFakeRecorder(100), now: t0, metrics: NewMetrics(prometheus.NewRegistry()),
		analyzer: &stubAnalyzer{verdict: measured(1000, 0, 1000, 0)}}
	factory := informers.NewSharedInformerFactory(fake.NewClientset(kube...), 0)
	gwFactory := gwinformers.NewSharedInformerFactory(gw, 0)
	var ctrl *RouteController
	ctrl, err = NewRoutes(gw, gwFactory, factory, f.recorder, map[string]Analyzer{"traefik-gateway": f.analyzer},
		f.metrics, zap.NewNop(),
		Options{Machine: weights.Config{Settle: 5 * time.Second, ReadinessRecheck: 10 * time.Second}, Now: func() time.Time { return f.now }})
	require.NoError(t, err)
	f.ctrl = ctrl
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	factory.Start(ctx.Done())
	gwFactory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	gwFactory.WaitForCacheSync(ctx.Done())
	return f
}

// sync runs one reconcile on a cache that holds the route as the API does
// (also after a test's own write), and waits for the cache to hold its writes.
func (f *routeFixture) sync() {
	f.t.Helper()
	f.waitForCache()
	_, err := f.ctrl.sync(context.Background(), ns+"/web")
	require.NoError(f.t, err)
	f.waitForCache()
}

func (f *routeFixture) waitForCache() {
	f.t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 2*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		cached, cerr := f.ctrl.listers.routes.HTTPRoutes(ns).Get("web")
		// The simple fake keeps no resourceVersion: compare what matters.
		live := f.route()
		return cerr == nil && apiequality.Semantic.DeepEqual(cached.Spec, live.Spec) &&
			apiequality.Semantic.DeepEqual(cached.Annotations, live.Annotations), nil
	})
	require.NoError(f.t, err)
}

func (f *routeFixture) route() *gwv1.HTTPRoute {
	r, err := f.gw.GatewayV1().HTTPRoutes(ns).Get(context.Background(), "web", metav1.GetOptions{})
	require.NoError(f.t, err)
	return r
}

func (f *routeFixture) status() weights.Status {
	st, err := weights.ParseStatus(f.route().Annotations[annotations.KeyStatus])
	require.NoError(f.t, err)
	return st
}

func rolloutKeys() map[string]string {
	return map[string]string{annotations.KeyCanaryService: "web-v2", annotations.KeySteps: "20,50", annotations.KeyInterval: "1m",
		annotations.KeyHeader: "X-Canary"}
}

func TestRouteRolloutStepsThenRollsBackExactly(t *testing.T) {
	f := newRouteFixture(t, "traefik.io/gateway-controller", rolloutKeys())
	source := f.route().Spec
	f.sync()
	st := f.status()
	require.Equal(t, weights.PhaseProgressing, st.Phase, st.Message)
	r := f.route()
	require.Len(t, r.Spec.Rules, 2, "the rule and its testers' rule")
	assert.Equal(t, int32(8000), *r.Spec.Rules[0].BackendRefs[0].Weight)
	assert.Equal(t, int32(2000), *r.Spec.Rules[0].BackendRefs[1].Weight)
	assert.Equal(t, httproute.TesterRuleName(0), *r.Spec.Rules[1].Name)

	f.now = f.now.Add(61 * time.Second)
	f.analyzer.verdict = measured(400, 120, 1600, 0) // 30 % errors against a spotless stable
	f.sync()
	assert.Equal(t, weights.PhaseFailed, f.status().Phase, f.status().Message)
	assert.Equal(t, source, f.route().Spec, "rollback restores the rules exactly")
	var failed dto.Metric
	require.NoError(t, f.metrics.rollouts.WithLabelValues(ns, "httproute/web", "Failed").Write(&failed))
	assert.Equal(t, 1.0, failed.GetCounter().GetValue(), "the route's series, named httproute/web")
	assert.Equal(t, "web", f.analyzer.targets[0].Ingress)
	assert.Equal(t, "web-v2", f.analyzer.targets[0].CanaryUpstream)
	assert.Equal(t, "web-v1", f.analyzer.targets[0].StableService)
}

func TestRouteUnknownImplementationIsRefusedUntouched(t *testing.T) {
	f := newRouteFixture(t, "gateway.envoyproxy.io/gatewayclass-controller", rolloutKeys())
	source := f.route().Spec
	f.sync()
	st := f.status()
	assert.Equal(t, weights.PhaseInvalid, st.Phase)
	assert.Contains(t, st.Message, `GatewayClass controllerName="gateway.envoyproxy.io/gatewayclass-controller"`)
	assert.Equal(t, source, f.route().Spec)
	assert.Contains(t, <-f.recorder.Events, "Warning InvalidSpec")
}

// A user's edit lands between the controller's read and its update: the
// update conflicts, the route is read again, and the step is written onto
// the user's version.
func TestRouteConcurrentEditIsKept(t *testing.T) {
	f := newRouteFixture(t, "traefik.io/gateway-controller", rolloutKeys())
	conflicted := false
	f.gw.PrependReactor("update", "httproutes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if conflicted {
			return false, nil, nil
		}
		conflicted = true
		// The tracker, not the client: a reactor runs under the client's lock.
		gvr := gwv1.SchemeGroupVersion.WithResource("httproutes")
		obj, err := f.gw.Tracker().Get(gvr, ns, "web")
		require.NoError(t, err)
		live := obj.(*gwv1.HTTPRoute).DeepCopy()
		live.Spec.Hostnames = append(live.Spec.Hostnames, "edited.example")
		require.NoError(t, f.gw.Tracker().Update(gvr, live, ns))
		return true, nil, apierrors.NewConflict(schema.GroupResource{Group: gwv1.GroupName, Resource: "httproutes"}, "web", nil)
	})
	f.sync()
	r := f.route()
	assert.True(t, conflicted, f.status().Message)
	assert.Equal(t, []gwv1.Hostname{"edited.example"}, r.Spec.Hostnames, "the user's edit is kept")
	assert.Len(t, r.Spec.Rules[0].BackendRefs, 2, "and the step is written onto it")
}

// promote-by: weight holds 100 % on the canary backendRef until the route's
// source names the canary (a GitOps commit that rewrites the rules), then
// succeeds with the source as written.
func TestRoutePromoteByWeightWaitsForTheSource(t *testing.T) {
	keys := rolloutKeys()
	keys[annotations.KeySteps], keys[annotations.KeyPromoteBy] = "50", "weight"
	f := newRouteFixture(t, "traefik.io/gateway-controller", keys)
	f.sync()
	for range 3 {
		f.now = f.now.Add(61 * time.Second)
		f.sync()
	}
	st := f.status()
	require.Equal(t, weights.PhasePromoting, st.Phase, st.Message)
	refs := f.route().Spec.Rules[0].BackendRefs
	require.Len(t, refs, 2)
	assert.Equal(t, int32(0), *refs[0].Weight, "stable holds 0 %")
	assert.Equal(t, int32(10000), *refs[1].Weight, "the canary holds 100 %")

	// GitOps applies the new source: the rule names web-v2, as the user wrote it.
	live := f.route()
	live.Spec.Rules = []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{refs[1]}}}
	live.Spec.Rules[0].BackendRefs[0].Weight = new(httproute.DefaultWeight)
	source := live.Spec
	_, err := f.gw.GatewayV1().HTTPRoutes(ns).Update(context.Background(), live, metav1.UpdateOptions{})
	require.NoError(t, err)
	f.now = f.now.Add(time.Second)
	f.sync()
	assert.Equal(t, weights.PhaseSucceeded, f.status().Phase, f.status().Message)
	assert.Equal(t, source, f.route().Spec, "the route is exactly the new source")
}

// A redeploy mid-rollout (canary-service changed): the old canary's
// backendRef and testers' rule go in the same write that adds the new one's;
// the route never carries both, and is never refused for the old weights.
func TestRouteRedeployReplacesTheOldCanary(t *testing.T) {
	f := newRouteFixture(t, "traefik.io/gateway-controller", rolloutKeys())
	f.sync()
	require.Len(t, f.route().Spec.Rules[0].BackendRefs, 2)
	r := f.route()
	r.Annotations[annotations.KeyCanaryService] = "web-v3"
	_, err := f.gw.GatewayV1().HTTPRoutes(ns).Update(context.Background(), r, metav1.UpdateOptions{})
	require.NoError(t, err)
	for range 3 {
		f.now = f.now.Add(time.Second)
		f.sync()
	}
	st := f.status()
	assert.NotEqual(t, weights.PhaseInvalid, st.Phase, st.Message)
	assert.Equal(t, "web-v3", st.Revision)
	refs := f.route().Spec.Rules[0].BackendRefs
	require.Len(t, refs, 2, st.Message)
	assert.Equal(t, gwv1.ObjectName("web-v3"), refs[1].Name, "the new canary's backendRef")
	for _, rule := range f.route().Spec.Rules {
		for _, b := range rule.BackendRefs {
			assert.NotEqual(t, gwv1.ObjectName("web-v2"), b.Name, "the old canary's backendRef is gone")
		}
	}
}
