package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/ingress-canary/ingress-canary/e2e/traffic"
	"github.com/ingress-canary/ingress-canary/weights"
)

// The Ingress shapes people write, on the real ingress-nginx: several paths
// and Services, several hosts, a default backend, ports by name, and Services
// shared between Ingresses. Each test logs the figures it measured.

// reshape edits the primary's spec (retrying on conflicts with the controller's
// status writes).
func (a *app) reshape(mut func(*networkingv1.Ingress)) {
	a.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ing := a.primary()
		mut(ing)
		_, err := suite.cluster.Client.NetworkingV1().Ingresses(a.ns).Update(context.Background(), ing, metav1.UpdateOptions{})
		return err
	})
	require.NoError(a.t, err)
}

// deploy publishes one more testapp version as service, and returns the version.
func (a *app) deploy(service, version string) string {
	a.t.Helper()
	require.NoError(a.t, suite.cluster.DeployVersion(context.Background(), a.ns, service, version))
	return version
}

func prefixPath(path, service string, port networkingv1.ServiceBackendPort) networkingv1.HTTPIngressPath {
	prefix := networkingv1.PathTypePrefix
	return networkingv1.HTTPIngressPath{Path: path, PathType: &prefix, Backend: networkingv1.IngressBackend{
		Service: &networkingv1.IngressServiceBackend{Name: service, Port: port}}}
}

var port80 = networkingv1.ServiceBackendPort{Number: 80}

// addAPIPath puts /api → api-v1 (its own version, answering errorRate 5xx)
// before the primary's / path: a multi-path Ingress whose other path is not
// being replaced.
func (a *app) addAPIPath(errorRate float64) {
	a.t.Helper()
	api := a.deploy("api-v1", a.name+"-api")
	a.reshape(func(ing *networkingv1.Ingress) {
		paths := &ing.Spec.Rules[0].HTTP.Paths
		*paths = append([]networkingv1.HTTPIngressPath{prefixPath("/api", "api-v1", port80)}, *paths...)
	})
	a.waitRoutedAt(a.host, "/api", api, nil)
	require.NoError(a.t, suite.cluster.SetBehavior(api, errorRate, 0))
}

// walkSteps measures every step's split on g and checks it against the weight.
func walkSteps(a *app, g *traffic.Generator, canaryVersion string, plan []float64) {
	a.t.Helper()
	for i, w := range plan {
		share, n := measureStep(a, g, i+1, canaryVersion)
		tol := splitTolerance(w, n)
		a.t.Logf("step %d: weight %.0f%%, measured canary share %.2f%% of %d requests (tolerance ±%.2f points)", i+1, w*100, share*100, n, tol*100)
		assert.InDelta(a.t, w, share, tol, "step %d split", i+1)
	}
}

// noWarnings asserts that the rollout never held on its split or failed a step.
func noWarnings(a *app, reasons ...string) {
	a.t.Helper()
	for _, e := range a.events() {
		for _, r := range reasons {
			assert.NotContains(a.t, e, "Warning "+r, "unexpected Event")
		}
	}
}

// A multi-path Ingress: / → web-v1 is replaced, /api → api-v1 is not, and
// /api answers 30 % errors. The analysis counts only /'s traffic: the split
// matches the weight at every step, /api's errors fail nothing, the promotion
// ends Succeeded with the canary Ingress deleted, and /api never reaches web-v2.
func TestMultiPathIngressPromotes(t *testing.T) {
	t.Parallel()
	a := newApp(t, "multipath", 2)
	a.addAPIPath(0.3)
	root, stopRoot := a.traffic(40, nil)
	apiTraffic, stopAPI := a.trafficTo(a.host, "/api", 40, nil)
	_ = apiTraffic
	a.start(map[string]string{"canary-service": "web-v2", "stable-service": "web-v1", "steps": "20,50", "interval": "10s", "min-requests": "20"})
	walkSteps(a, root, a.version(2), []float64{0.2, 0.5})
	st := a.waitPhase(90*time.Second, weights.PhaseSucceeded)
	time.Sleep(2 * time.Second)
	rootFinal, apiFinal := stopRoot(), stopAPI()
	t.Logf("/ traffic: %s", rootFinal)
	t.Logf("/api traffic: %s", apiFinal)
	t.Logf("final status: %s", st.Message)

	paths := a.primary().Spec.Rules[0].HTTP.Paths
	assert.Equal(t, "api-v1", paths[0].Backend.Service.Name, "/api untouched")
	assert.Equal(t, "web-v2", paths[1].Backend.Service.Name, "/ switched")
	_, exists := a.canary()
	assert.False(t, exists, "canary Ingress deleted")
	assert.Zero(t, apiFinal.ByVersion[a.version(2)], "no /api request reached web-v2")
	assert.Zero(t, rootFinal.NonSuccess, "no / request failed")
	assert.Greater(t, apiFinal.NonSuccess, 0, "/api really failed meanwhile")
	noWarnings(a, "SplitMismatch", "AnalysisFailed", "RolledBack", "InvalidSpec")
}

// The same shape with a failing canary: /api's 40 % errors must not mask a
// canary that is worse than web-v1. max-error-rate is high, so only the
// comparison with stable can fail it; counted over the whole Ingress, stable
// would look worse than the canary.
func TestMultiPathCanaryRegressionIsNotMasked(t *testing.T) {
	t.Parallel()
	a := newApp(t, "masked", 2)
	a.addAPIPath(0.4)
	require.NoError(t, suite.cluster.SetBehavior(a.version(2), 0.2, 0))
	_, stopRoot := a.traffic(40, nil)
	defer stopRoot()
	_, stopAPI := a.trafficTo(a.host, "/api", 40, nil)
	defer stopAPI()
	a.start(map[string]string{"canary-service": "web-v2", "stable-service": "web-v1", "steps": "50", "interval": "20s",
		"min-requests": "50", "max-error-rate": "50%"})
	st := a.waitPhase(90*time.Second, weights.PhaseFailed)
	t.Logf("rolled back: %s", st.Message)
	require.NotNil(t, st.LastAnalysis)
	t.Logf("canary %0.f requests at %.2f%% errors; stable %0.f requests at %.2f%% errors",
		st.LastAnalysis.Requests, st.LastAnalysis.ErrorRate*100, st.LastAnalysis.Stable.Requests, st.LastAnalysis.Stable.ErrorRate*100)
	assert.Less(t, st.LastAnalysis.Stable.ErrorRate, 0.05, "stable is web-v1 alone, not /api")
	assert.Contains(t, st.Message, "stable")
}

// Two hosts in one Ingress, and only one of them routes to the stable Service.
func TestTwoHostsOnlyOneReplaced(t *testing.T) {
	t.Parallel()
	a := newApp(t, "twohosts", 2)
	other := a.deploy("shop-v1", a.name+"-shop")
	otherHost := "shop." + a.host
	a.reshape(func(ing *networkingv1.Ingress) {
		ing.Spec.Rules = append(ing.Spec.Rules, networkingv1.IngressRule{Host: otherHost,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{prefixPath("/", "shop-v1", port80)}}}})
	})
	a.waitRoutedAt(otherHost, "/", other, nil)
	g, stop := a.traffic(40, nil)
	defer stop()
	_, stopOther := a.trafficTo(otherHost, "/", 40, nil)
	a.start(map[string]string{"canary-service": "web-v2", "stable-service": "web-v1", "steps": "30", "interval": "10s", "min-requests": "20"})
	walkSteps(a, g, a.version(2), []float64{0.3})
	canary, ok := a.canary()
	require.True(t, ok)
	require.Len(t, canary.Spec.Rules, 1)
	assert.Equal(t, a.host, canary.Spec.Rules[0].Host)
	a.waitPhase(60*time.Second, weights.PhaseSucceeded)
	otherFinal := stopOther()
	t.Logf("%s traffic: %s", otherHost, otherFinal)
	assert.Zero(t, otherFinal.ByVersion[a.version(2)], "the other host never reached the canary")
	assert.Zero(t, otherFinal.NonSuccess)
	assert.Equal(t, "shop-v1", a.primary().Spec.Rules[1].HTTP.Paths[0].Backend.Service.Name)
	noWarnings(a, "SplitMismatch", "InvalidSpec")
}

// A stable backend named by its port name (http) rather than its number: the
// canary Ingress, the metrics' upstream name and the switch use the name too.
func TestStableBackendByPortName(t *testing.T) {
	t.Parallel()
	a := newApp(t, "portname", 2)
	a.reshape(func(ing *networkingv1.Ingress) {
		ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port = networkingv1.ServiceBackendPort{Name: "http"}
	})
	time.Sleep(2 * time.Second) // the same upstream under a new name: let nginx apply it
	a.waitServing(a.version(1))
	g, stop := a.traffic(40, nil)
	a.start(map[string]string{"canary-service": "web-v2", "steps": "30", "interval": "10s", "min-requests": "20"})
	canary := waitCanary(a)
	assert.Equal(t, "http", canary.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port.Name)
	walkSteps(a, g, a.version(2), []float64{0.3})
	a.waitPhase(60*time.Second, weights.PhaseSucceeded)
	time.Sleep(2 * time.Second)
	final := stop()
	t.Logf("traffic: %s", final)
	assert.Zero(t, final.NonSuccess)
	backend := a.primary().Spec.Rules[0].HTTP.Paths[0].Backend.Service
	assert.Equal(t, "web-v2", backend.Name)
	assert.Equal(t, "http", backend.Port.Name, "the switch keeps the port name")
	noWarnings(a, "SplitMismatch", "StepHeld")
}

// An Ingress with a default backend and rules: the default backend web-v1
// serves every path of the host that no rule names, /api goes to api-v1.
func TestDefaultBackendWithRules(t *testing.T) {
	t.Parallel()
	a := newApp(t, "defaultbackend", 2)
	api := a.deploy("api-v1", a.name+"-api")
	a.reshape(func(ing *networkingv1.Ingress) {
		ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web-v1", Port: port80}}
		ing.Spec.Rules[0].HTTP.Paths = []networkingv1.HTTPIngressPath{prefixPath("/api", "api-v1", port80)}
	})
	a.waitRoutedAt(a.host, "/api", api, nil)
	a.waitRoutedAt(a.host, "/shop", a.version(1), nil)
	g, stop := a.trafficTo(a.host, "/shop", 40, nil)
	defer stop()
	_, stopAPI := a.trafficTo(a.host, "/api", 20, nil)
	a.start(map[string]string{"canary-service": "web-v2", "stable-service": "web-v1", "steps": "30", "interval": "10s", "min-requests": "20"})
	walkSteps(a, g, a.version(2), []float64{0.3})
	a.waitPhase(60*time.Second, weights.PhaseSucceeded)
	apiFinal := stopAPI()
	t.Logf("/api traffic: %s", apiFinal)
	assert.Zero(t, apiFinal.ByVersion[a.version(2)])
	assert.Equal(t, "web-v2", a.primary().Spec.DefaultBackend.Service.Name)
	a.waitRoutedAt(a.host, "/shop", a.version(2), nil)
	noWarnings(a, "SplitMismatch", "InvalidSpec")
}

// Two Ingresses share the stable Service web-v1: a rollout is refused before
// any traffic moves, and the other Ingress's users never see the canary. Once
// the other Ingress goes, the rollout starts; if one appears mid-rollout, the
// rollout holds until it is gone.
func TestSharedStableServiceIsRefusedThenHolds(t *testing.T) {
	t.Parallel()
	a := newApp(t, "sharedstable", 2)
	_, stopA := a.traffic(40, nil)
	defer stopA()
	b := a.sibling("beta")
	bTraffic, stopB := b.traffic(40, nil)
	_ = bTraffic
	a.start(map[string]string{"canary-service": "web-v2", "steps": "20,50", "interval": "8s", "min-requests": "20"})
	ev := a.waitEvent(30*time.Second, "Warning", "InvalidSpec", "Ingress beta also routes to web-v1")
	t.Logf("refused: %s", ev)
	assert.Equal(t, weights.PhaseInvalid, a.status().Phase)
	time.Sleep(5 * time.Second)
	_, exists := a.canary()
	assert.False(t, exists, "no canary Ingress while the stable Service is shared")
	bFinal := stopB()
	t.Logf("beta traffic while refused: %s", bFinal)
	assert.Zero(t, bFinal.ByVersion[a.version(2)], "beta's users never reached the canary")
	assert.Greater(t, bFinal.Total, 100)

	require.NoError(t, suite.cluster.Client.NetworkingV1().Ingresses(a.ns).Delete(context.Background(), "beta", metav1.DeleteOptions{}))
	st := a.waitStatus(30*time.Second, "step 1", func(s weights.Status) bool { return s.Phase == weights.PhaseProgressing && s.Step == 1 })
	t.Logf("started once beta was gone: %s", st.Message)

	b = a.sibling("gamma")
	ev = a.waitEvent(30*time.Second, "Warning", "SharedStableService", "holding at weight 20 %", "Ingress gamma")
	t.Logf("held: %s", ev)
	held := a.status()
	require.NotNil(t, held.NextCheck)
	time.Sleep(time.Until(held.NextCheck.Add(3 * time.Second)))
	assert.Equal(t, 1, a.status().Step, "no step past a due check while shared")
	require.NoError(t, suite.cluster.Client.NetworkingV1().Ingresses(a.ns).Delete(context.Background(), "gamma", metav1.DeleteOptions{}))
	a.waitStatus(40*time.Second, "step 2 once gamma is gone", func(s weights.Status) bool { return s.Step == 2 })
}

// Two rollouts on one canary Service: the second is refused, and the first's
// split is what its weight says.
func TestSecondRolloutOnOneCanaryServiceIsRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t, "onecanary", 2)
	a.deploy("shop-v1", a.name+"-shop")
	b := &app{t: t, name: a.name, ns: a.ns, host: "shop." + a.host, primaryName: "shop"}
	ing := a.primary().DeepCopy()
	ing.ObjectMeta = metav1.ObjectMeta{Name: "shop", Namespace: a.ns}
	ing.Spec.Rules[0].Host = b.host
	ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = "shop-v1"
	_, err := suite.cluster.Client.NetworkingV1().Ingresses(a.ns).Create(context.Background(), ing, metav1.CreateOptions{})
	require.NoError(t, err)
	b.waitServing(a.name + "-shop")
	g, stop := a.traffic(40, nil)
	defer stop()
	a.start(map[string]string{"canary-service": "web-v2", "steps": "30", "interval": "30s", "min-requests": "20"})
	waitCanary(a)
	b.start(map[string]string{"canary-service": "web-v2", "steps": "90", "interval": "10s"})
	ev := b.waitEvent(30*time.Second, "Warning", "InvalidSpec", "canary Ingress web-canary (of Ingress web) routes to it")
	t.Logf("refused: %s", ev)
	_, exists := b.canary()
	assert.False(t, exists)
	share, n := measureStep(a, g, 1, a.version(2))
	t.Logf("first rollout: weight 30%%, measured %.2f%% of %d requests", share*100, n)
	assert.InDelta(t, 0.3, share, splitTolerance(0.3, n))
	a.annotate(map[string]any{"ingress-canary.dev/abort": "true"})
	a.waitPhase(30*time.Second, weights.PhaseFailed)
}

// A canary's first seconds, as GitOps applies them: the canary Service, its
// endpoints and the annotation land at the same moment. Ten releases in a row
// under steady traffic: no request may fail from the annotation to the end of
// the first step's window, and no rollout may roll back. Each release is then
// promoted; requests lost at the promotion's switch are counted and logged
// apart (see docs/benchmarks.md: an nginx reload under keep-alive load).
func TestCanaryFirstSecondsTenReleases(t *testing.T) {
	t.Parallel()
	a := newApp(t, "firstseconds", 1)
	g, stop := a.traffic(50, nil)
	defer stop()
	var failed []string
	switchLost := 0
	for i := 2; i <= 11; i++ {
		service, version := fmt.Sprintf("web-v%d", i), fmt.Sprintf("%s-v%d", a.name, i)
		before := g.Snapshot()
		deployed := make(chan error, 1)
		go func() { deployed <- suite.cluster.DeployVersion(context.Background(), a.ns, service, version) }()
		a.start(map[string]string{"canary-service": service, "steps": "50", "interval": "4s", "min-requests": "10"})
		require.NoError(t, <-deployed)
		st := a.waitStatus(60*time.Second, "release "+service+" step 1", func(s weights.Status) bool {
			return s.Revision == service && (s.Step == 1 && s.NextCheck != nil || s.Phase != weights.PhaseProgressing && s.Phase != weights.PhaseInvalid)
		})
		if st.NextCheck != nil {
			time.Sleep(time.Until(st.NextCheck.Add(-200 * time.Millisecond)))
		}
		first := g.Snapshot().Sub(before)
		st = a.waitStatus(60*time.Second, "release "+service, func(s weights.Status) bool {
			return s.Revision == service && (s.Phase == weights.PhaseSucceeded || s.Phase == weights.PhaseFailed)
		})
		time.Sleep(time.Second)
		promotion := g.Snapshot().Sub(before).Sub(first)
		t.Logf("release %d (%s): %s; first seconds %d requests, %d non-2xx, %d to the new version (%s); promotion %d requests, %d non-2xx",
			i-1, service, st.Phase, first.Total, first.NonSuccess, first.ByVersion[version], first, promotion.Total, promotion.NonSuccess)
		if st.Phase != weights.PhaseSucceeded {
			failed = append(failed, service+": "+st.Message)
		}
		assert.Zero(t, first.NonSuccess, "release %s: failed requests in the canary's first seconds", service)
		assert.Greater(t, first.ByVersion[version], 0, "release %s: the canary served", service)
		switchLost += promotion.NonSuccess
	}
	assert.Empty(t, failed, "rollouts that did not succeed")
	t.Logf("requests lost at the promotion switch over 10 releases: %d", switchLost)
}
