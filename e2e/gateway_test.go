package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/e2e/traffic"
	"github.com/ingress-canary/ingress-canary/httproute"
	"github.com/ingress-canary/ingress-canary/weights"
)

// A healthy rollout on a route with two rules, of which only "/" routes to
// the stable Service: every step's split is what the weight says, testers
// reach the canary at every step, "/other" never does, a user's edit of the
// other rule during the rollout is kept, and the promotion (the stable
// backendRef replaced by the canary) drops no request.
func TestGatewayHealthyRolloutPromotes(t *testing.T) {
	requireGatewaySuite(t)
	t.Parallel()
	const name = "healthy"
	ctx := context.Background()
	other := name + "-other"
	require.NoError(t, suite.cluster.DeployVersion(ctx, routeNamespace(name), "web-other", other))
	a := newRouteApp(t, name, 2, []gwv1.HTTPRouteRule{pathRule("/", "web-v1"), pathRule("/other", "web-other")})
	a.waitRoutedAt(a.host, "/other", other, nil)
	plain, stopPlain := a.traffic(100, nil)
	otherTraffic, stopOther := a.trafficTo(a.host, "/other", 20, nil)
	a.startRoute(map[string]string{
		"canary-service": "web-v2", "stable-service": "web-v1", "steps": "10,30,60", "interval": "9s", "min-requests": "20", "header": "X-Canary",
	})
	var stopTesters func() traffic.Counts
	for i, w := range []float64{0.10, 0.30, 0.60} {
		assertStepSplit(t, a, plain, i+1, w, a.version(2))
		r := a.route()
		require.Len(t, r.Spec.Rules, 3, "the two user rules and the testers' rule")
		refs := r.Spec.Rules[0].BackendRefs
		require.Len(t, refs, 2)
		assert.Equal(t, int32(w*annotations.WeightTotal), *refs[1].Weight, "step %d canary weight", i+1)
		assert.Equal(t, int32((1-w)*annotations.WeightTotal), *refs[0].Weight)
		assert.Equal(t, httproute.TesterRuleName(0), *r.Spec.Rules[2].Name)
		assert.Equal(t, httproute.DefaultWeight, *r.Spec.Rules[2].BackendRefs[0].Weight, "no split in the testers' rule")
		switch i {
		case 0:
			_, stopTesters = a.traffic(10, http.Header{"X-Canary": {"always"}})
		case 1:
			// A user's edit of the unrelated rule, mid-rollout: another path.
			r.Spec.Rules[1].Matches = append(r.Spec.Rules[1].Matches, pathMatch("/also-other"))
			_, err := a.gw.GatewayV1().HTTPRoutes(a.ns).Update(ctx, r, metav1.UpdateOptions{})
			require.NoError(t, err)
		}
	}
	st, failures := waitSucceeded(a, plain)
	time.Sleep(2 * time.Second) // traffic after the testers' rule is gone
	final, otherFinal, testerFinal := stopPlain(), stopOther(), stopTesters()
	assert.Empty(t, failures, "failed requests, by the phase they were seen in")
	t.Logf("plain traffic: %s", final)
	t.Logf("/other traffic: %s", otherFinal)
	t.Logf("tester traffic: %s", testerFinal)
	assert.Zero(t, final.NonSuccess, "no request failed during the whole rollout and promotion")
	assert.Greater(t, final.Total, 1000)
	assert.Zero(t, testerFinal.ByVersion[a.version(1)], "header testers always reached the canary")
	assert.Zero(t, testerFinal.NonSuccess)
	assert.Equal(t, otherFinal.Total, otherFinal.ByVersion[other], "/other was never canaried")
	assert.Zero(t, otherTraffic.Snapshot().ByVersion[a.version(2)])

	r := a.route()
	require.Len(t, r.Spec.Rules, 2, "the testers' rule is gone; no user rule was removed")
	assert.Equal(t, []gwv1.HTTPBackendRef{backendRef("web-v2")}, r.Spec.Rules[0].BackendRefs, "promoted: the stable backendRef replaced, no weight left")
	assert.Equal(t, []gwv1.HTTPRouteMatch{pathMatch("/other"), pathMatch("/also-other")}, r.Spec.Rules[1].Matches, "the user's mid-rollout edit is kept")
	assert.Equal(t, a.name, r.Annotations["team.example/owner"], "foreign annotations untouched")
	assert.Equal(t, "web-v2", st.Revision)
	a.waitRoutedAt(a.host, "/also-other", other, nil)
	a.waitEvent(10*time.Second, "Normal", "Promoted")
}

// A canary answering 5xx is rolled back within the step's window by the
// interim look, with a Warning, and the route is exactly what the user wrote.
func TestGatewayErroringCanaryRollsBack(t *testing.T) {
	requireGatewaySuite(t)
	t.Parallel()
	a := newRouteApp(t, "errors", 2, nil)
	source := a.route().Spec
	g, stop := a.traffic(60, nil)
	defer stop()
	a.startRoute(map[string]string{"canary-service": "web-v2", "steps": "20,50", "interval": "1m", "min-requests": "20",
		"header": "X-Canary", "cookie": "canary"})
	a.waitStatus(60*time.Second, "step 1", func(s weights.Status) bool { return s.Step == 1 && s.StepStarted != nil })
	a.waitRouted(a.version(2), func(r *http.Request) { r.Header.Set("X-Canary", "always") })
	a.waitRouted(a.version(2), func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "canary", Value: "always"}) })
	time.Sleep(5 * time.Second) // healthy traffic first, so the window is not all errors
	require.NoError(t, suite.cluster.SetBehavior(a.version(2), 0.3, 0))
	burst := time.Now()
	a.eventually(60*time.Second, "route restored", func() bool {
		return len(a.route().Spec.Rules) == len(source.Rules) && len(a.route().Spec.Rules[0].BackendRefs) == 1
	})
	took := time.Since(burst)
	st := a.status()
	t.Logf("detection: route restored %.1fs after the first 5xx (interval 1m); %s", took.Seconds(), st.Message)
	assert.Equal(t, weights.PhaseFailed, st.Phase)
	assert.LessOrEqual(t, took, 15*time.Second)
	assert.Equal(t, source, a.route().Spec, "rollback restores the rules exactly")
	ev := a.waitEvent(10*time.Second, "Warning", "RolledBack", "error rate")
	t.Logf("event: %s", ev)

	drainedBy := time.Now().Add(20 * time.Second)
	for g.Snapshot().ByVersion[a.version(2)] != 0 && time.Now().Before(drainedBy) {
		before := g.Snapshot()
		time.Sleep(time.Second)
		if g.Snapshot().Sub(before).ByVersion[a.version(2)] == 0 {
			break
		}
	}
	before := g.Snapshot()
	time.Sleep(3 * time.Second)
	after := g.Snapshot().Sub(before)
	assert.Zero(t, after.ByVersion[a.version(2)], "no traffic to the rolled-back canary")
	assert.Zero(t, after.NonSuccess)
	assert.Greater(t, after.Total, 100)
}

// The controller is killed mid-step and started again: the rollout resumes
// at the same step with the same window, and the route carries one canary
// backendRef and one testers' rule throughout (no duplicate, none lost).
// Sequential: it kills the shared controller.
func TestGatewayControllerKilledMidStepResumes(t *testing.T) {
	a := newRouteApp(t, "restart", 2, nil)
	g, stop := a.traffic(60, nil)
	defer stop()
	a.startRoute(map[string]string{"canary-service": "web-v2", "steps": "10,20,40", "interval": "10s", "min-requests": "20", "header": "X-Canary"})
	before := a.waitStatus(60*time.Second, "step 2", func(s weights.Status) bool { return s.Step == 2 && s.StepStarted != nil })
	time.Sleep(2 * time.Second)
	killAndRestart(t)
	awaitResumed(t, a, before, 10*time.Second, func(st weights.Status) {
		if r := a.route(); st.Phase == weights.PhaseProgressing {
			assert.LessOrEqual(t, len(r.Spec.Rules), 2, "one user rule and at most one testers' rule")
			assert.LessOrEqual(t, len(r.Spec.Rules[0].BackendRefs), 2, "at most one canary backendRef")
		}
	})
	assert.Equal(t, []gwv1.HTTPBackendRef{backendRef("web-v2")}, a.route().Spec.Rules[0].BackendRefs)
	assert.Zero(t, g.Snapshot().NonSuccess, "no request failed across the restart")
}

// Lint: a rule that already splits its traffic (another controller's
// weights), and a stable-service that no rule routes to, are refused:
// Invalid, a Warning naming the field and the value, and the route is not
// touched.
func TestGatewayLintRefuses(t *testing.T) {
	requireGatewaySuite(t)
	t.Parallel()
	ctx := context.Background()
	require.NoError(t, suite.cluster.DeployVersion(ctx, routeNamespace("lint"), "web-argo", "lint-argo"))
	split := pathRule("/", "web-v1")
	split.BackendRefs = append(split.BackendRefs, backendRef("web-argo"))
	split.BackendRefs[0].Weight, split.BackendRefs[1].Weight = new(int32(90)), new(int32(10))
	a := newRouteApp(t, "lint", 2, []gwv1.HTTPRouteRule{split})
	source := a.route().Spec
	a.startRoute(map[string]string{"canary-service": "web-v2", "stable-service": "web-v1"})
	st := a.waitPhase(30*time.Second, weights.PhaseInvalid)
	t.Logf("refused: %s", st.Message)
	a.waitEvent(10*time.Second, "Warning", "InvalidSpec", `spec.rules[0].backendRefs="web-v1, web-argo"`)
	a.startRoute(map[string]string{"stable-service": "web-nope"})
	a.waitEvent(30*time.Second, "Warning", "InvalidSpec", `ingress-canary.dev/stable-service="web-nope"`)
	assert.Equal(t, source, a.route().Spec, "a refused route is never written")

	// kubectl canary shows the refused route beside Ingresses, with its Events.
	out, _, code := plugin(t, "list", "-n", a.ns)
	assert.Zero(t, code)
	assert.Regexp(t, `httproute/web\s+Invalid`, out)
	out, _, code = plugin(t, "status", "httproute/web", "-n", a.ns, "--exit-code")
	assert.Equal(t, 4, code, "Invalid exits 4 with --exit-code")
	assert.Contains(t, out, "HTTPRoute:   "+a.ns+"/web")
	assert.Contains(t, out, "InvalidSpec")
}

func pathMatch(path string) gwv1.HTTPRouteMatch {
	return pathRule(path, "").Matches[0]
}

// backendRef is a backendRef to service port 80 as the API returns it, with
// the CRD's defaults (core group, kind Service).
func backendRef(service string) gwv1.HTTPBackendRef {
	ref := pathRule("/", service).BackendRefs[0]
	ref.Group, ref.Kind, ref.Weight = new(gwv1.Group("")), new(gwv1.Kind("Service")), new(httproute.DefaultWeight)
	return ref
}

// deploy/'s ClusterRole on the real apiserver with the Gateway API served:
// the ServiceAccount's controller completes an HTTPRoute rollout (so the
// HTTPRoute, Gateway and GatewayClass verbs suffice), and the verbs it does
// not need are refused. Sequential: it replaces the suite's controller.
func TestGatewayDeployManifestsLeastPrivilege(t *testing.T) {
	requireGatewaySuite(t)
	kubeconfig := applyDeploy(t)
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	require.NoError(t, err)
	sa, err := gwclient.NewForConfig(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	forbidden := map[string]error{}
	forbidden["delete httproutes"] = sa.GatewayV1().HTTPRoutes("default").Delete(ctx, "x", metav1.DeleteOptions{})
	_, forbidden["create httproutes"] = sa.GatewayV1().HTTPRoutes("default").Create(ctx, &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	_, forbidden["get gateways (the informer lists)"] = sa.GatewayV1().Gateways("default").Get(ctx, "x", metav1.GetOptions{})
	_, forbidden["patch gateways"] = sa.GatewayV1().Gateways("default").Patch(ctx, "x", types.MergePatchType, []byte(`{}`), metav1.PatchOptions{})
	_, forbidden["update gatewayclasses"] = sa.GatewayV1().GatewayClasses().Update(ctx, &gwv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.UpdateOptions{})
	for what, err := range forbidden {
		assert.True(t, apierrors.IsForbidden(err), "%s must be refused (403), got %v", what, err)
	}
	restricted := runAsServiceAccount(t, kubeconfig)
	a := newRouteApp(t, "rbac", 2, nil)
	_, stop := a.traffic(60, nil)
	defer stop()
	a.startRoute(map[string]string{"canary-service": "web-v2", "steps": "30", "interval": "5s", "min-requests": "20", "header": "X-Canary"})
	a.waitPhase(90*time.Second, weights.PhaseSucceeded)
	assert.Equal(t, []gwv1.HTTPBackendRef{backendRef("web-v2")}, a.route().Spec.Rules[0].BackendRefs)
	a.waitEvent(10*time.Second, "Normal", "Promoted")
	assertNeverForbidden(t, restricted)
}

// GitOps: with promote-by: weight the controller never rewrites the user's
// backendRef; it holds 100 % on the canary until the source names it. Here
// "Git" applies the new source (the whole rules list, as a GitOps tool
// would): the rollout succeeds and the route is exactly that source.
func TestGatewayPromoteByWeightWaitsForTheSource(t *testing.T) {
	requireGatewaySuite(t)
	t.Parallel()
	a := newRouteApp(t, "gitops", 2, nil)
	plain, stop := a.traffic(60, nil)
	defer stop()
	a.startRoute(map[string]string{"canary-service": "web-v2", "steps": "50", "interval": "6s", "min-requests": "20",
		"header": "X-Canary", "promote-by": "weight"})
	st := a.waitStatus(60*time.Second, "holding 100 %", func(s weights.Status) bool {
		return s.Phase == weights.PhasePromoting && s.Message != "" && strings.Contains(s.Message, "holding")
	})
	t.Logf("held: %s", st.Message)
	refs := a.route().Spec.Rules[0].BackendRefs
	require.Len(t, refs, 2)
	assert.Equal(t, int32(0), *refs[0].Weight)
	assert.Equal(t, int32(annotations.WeightTotal), *refs[1].Weight)
	a.waitServing(a.version(2))

	r := a.route()
	r.Spec.Rules = []gwv1.HTTPRouteRule{pathRule("/", "web-v2")}
	_, err := a.gw.GatewayV1().HTTPRoutes(a.ns).Update(context.Background(), r, metav1.UpdateOptions{})
	require.NoError(t, err)
	source := a.route().Spec
	a.waitPhase(30*time.Second, weights.PhaseSucceeded)
	time.Sleep(2 * time.Second)
	assert.Equal(t, source, a.route().Spec, "after the promotion the route is exactly the new source")
	final := stop()
	t.Logf("plain traffic: %s", final)
	assert.Zero(t, final.NonSuccess, "no request failed while the source changed")
	assert.Zero(t, plain.Snapshot().NonSuccess)
}
