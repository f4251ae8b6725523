package controller

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

// multiPath is the primary "web": shop.example /api → api-v1, / → web-v1.
func multiPath(ann map[string]string) *networkingv1.Ingress {
	p := primary("web", optedIn(ann))
	prefix := networkingv1.PathTypePrefix
	p.Spec.Rules[0].HTTP.Paths = append([]networkingv1.HTTPIngressPath{{Path: "/api", PathType: &prefix, Backend: backend("api-v1", 80)}},
		p.Spec.Rules[0].HTTP.Paths...)
	return p
}

// promote walks a rollout from its first sync to the end of its promotion.
func (f *fixture) promote(name string) {
	f.t.Helper()
	f.sync(name)
	f.annotate(name, map[string]string{annotations.KeyPromote: "true"})
	for range 4 {
		f.sync(name)
		f.now = f.now.Add(5 * time.Second)
	}
}

func TestMultiServicePromotionSucceedsAndDeletesTheCanary(t *testing.T) {
	f := newFixture(t, multiPath(map[string]string{annotations.KeyStableService: "web-v1"}),
		service("api-v1"), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.promote("web")
	paths := f.ingress("web").Spec.Rules[0].HTTP.Paths
	assert.Equal(t, "api-v1", paths[0].Backend.Service.Name, "the other path is never touched")
	assert.Equal(t, "web-v2", paths[1].Backend.Service.Name)
	st := f.status("web")
	assert.Equal(t, weights.PhaseSucceeded, st.Phase, st.Message)
	assert.False(t, f.canaryExists("web"))

	f.now = f.now.Add(time.Hour)
	f.sync("web") // the keeper goes
	f.sync("web")
	assert.Empty(t, f.writes(), "stable-service naming the replaced Service stays valid after the switch")
	assert.Equal(t, weights.PhaseSucceeded, f.status("web").Phase)
}

func TestRunningRolloutKeepsItsStableService(t *testing.T) {
	f := newFixture(t, multiPath(map[string]string{annotations.KeyStableService: "web-v1"}),
		service("api-v1"), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.sync("web")
	require.Equal(t, "web-v1", f.status("web").Stable)

	// The annotation goes: the rollout still replaces web-v1, not api-v1.
	f.unannotate("web", annotations.KeyStableService)
	f.sync("web")
	assert.Empty(t, f.writes())
	canary := f.ingress("web-canary")
	require.Len(t, canary.Spec.Rules[0].HTTP.Paths, 1)
	assert.Equal(t, "/", canary.Spec.Rules[0].HTTP.Paths[0].Path)

	// An explicit new stable-service is a new rollout, announced as such.
	f.annotate("web", map[string]string{annotations.KeyStableService: "api-v1"})
	f.sync("web")
	st := f.status("web")
	assert.Equal(t, "api-v1", st.Stable)
	assert.Equal(t, 1, st.Step)
	assert.Contains(t, f.events(), "Normal RevisionChanged ingress-canary.dev/stable-service changed from web-v1 to api-v1 mid-rollout: restarting; plan 10,50 %, each step at least 1m0s and at most 2h0m0s")
	assert.Equal(t, "/api", f.ingress("web-canary").Spec.Rules[0].HTTP.Paths[0].Path)
}

func TestRemovedStableServiceAfterTheSwitchIsNeverANewTarget(t *testing.T) {
	// The state the issue found: promoted by switch with stable-service set,
	// then the annotation removed. api-v1 must not become the target.
	p := multiPath(nil)
	p.Spec.Rules[0].HTTP.Paths[1].Backend = backend("web-v2", 80)
	p.Annotations[annotations.KeyStatus] = weights.Status{Phase: weights.PhasePromoting, Revision: "web-v2", Stable: "web-v1",
		Step: 2, Weight: weights.WeightOf(annotations.Full), Stage: weights.StageSwitched, StageStarted: &t0}.Encode()
	f := newFixture(t, p, service("api-v1"), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.now = t0.Add(10 * time.Second)
	f.sync("web")
	st := f.status("web")
	assert.Equal(t, weights.PhaseSucceeded, st.Phase, st.Message)
	assert.False(t, f.canaryExists("web"))
}

// anotherIngress is Ingress "b" on b.example, routing to service.
func anotherIngress(service string) *networkingv1.Ingress {
	other := primary("b", nil)
	other.UID = "b"
	other.Spec.Rules[0].Host = "b.example"
	other.Spec.Rules[0].HTTP.Paths[0].Backend = backend(service, 80)
	return other
}

// refusedBeforeAnyTraffic syncs the primary "web" (web-v1 to web-v2) beside
// other and checks that it is Invalid, says want, and has no canary Ingress.
func refusedBeforeAnyTraffic(t *testing.T, other *networkingv1.Ingress, want string) *fixture {
	f := newFixture(t, primary("web", optedIn(nil)), other, service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.sync("web")
	st := f.status("web")
	assert.Equal(t, weights.PhaseInvalid, st.Phase)
	assert.Contains(t, st.Message, want)
	assert.False(t, f.canaryExists("web"), "no canary Ingress is created")
	return f
}

func TestSharedStableServiceIsRefusedBeforeAnyTraffic(t *testing.T) {
	f := refusedBeforeAnyTraffic(t, anotherIngress("web-v1"), "Ingress b also routes to web-v1 on the same port")
	ev := f.events()
	require.Len(t, ev, 1)
	assert.Contains(t, ev[0], "Warning InvalidSpec")
	assert.Contains(t, ev[0], "a Service of its own")
}

func TestSharedStableServiceByPortNameIsTheSamePort(t *testing.T) {
	other := primary("b", nil)
	other.UID = "b"
	other.Spec.Rules[0].Host = "b.example"
	other.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port = networkingv1.ServiceBackendPort{Name: "http"}
	f := newFixture(t, primary("web", optedIn(nil)), other, service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.sync("web")
	assert.Equal(t, weights.PhaseInvalid, f.status("web").Phase, "port http is port 80 of web-v1")
}

func TestSharedStableServiceOnAnotherPortOrClassIsFine(t *testing.T) {
	otherPort := primary("b", nil)
	otherPort.UID = "b"
	otherPort.Spec.Rules[0].Host = "b.example"
	otherPort.Spec.Rules[0].HTTP.Paths[0].Backend = backend("web-v1", 8080)
	traefik := "traefik"
	otherClass := primary("c", nil)
	otherClass.UID = "c"
	otherClass.Spec.IngressClassName = &traefik
	f := newFixture(t, primary("web", optedIn(nil)), otherPort, otherClass, readySlice("web-v2"), service("web-v2"),
		service("web-v1", []corev1.ServicePort{{Name: "http", Port: 80}, {Name: "admin", Port: 8080}}...))
	f.sync("web")
	assert.Equal(t, weights.PhaseProgressing, f.status("web").Phase, f.status("web").Message)
}

func TestSharedStableServiceDuringARolloutHolds(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(nil)), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.sync("web")
	require.Equal(t, "1000", f.ingress("web-canary").Annotations[annotations.NginxCanaryWeight])

	other := primary("b", nil)
	other.UID = "b"
	other.Spec.Rules[0].Host = "b.example"
	_, err := f.client.NetworkingV1().Ingresses(ns).Create(t.Context(), other, metav1.CreateOptions{})
	require.NoError(t, err)
	f.waitForCache("b")
	f.events()
	f.now = t0.Add(time.Minute)
	f.sync("web")
	st := f.status("web")
	assert.Equal(t, weights.PhaseProgressing, st.Phase)
	assert.Equal(t, 1, st.Step)
	assert.Equal(t, "1000", f.ingress("web-canary").Annotations[annotations.NginxCanaryWeight], "a passing step does not raise the weight")
	ev := f.events()
	require.Len(t, ev, 1)
	assert.Contains(t, ev[0], "Warning SharedStableService holding at weight 10 %")

	require.NoError(t, f.client.NetworkingV1().Ingresses(ns).Delete(t.Context(), "b", metav1.DeleteOptions{}))
	f.waitForCache("b")
	f.now = t0.Add(2 * time.Minute)
	f.sync("web")
	assert.Equal(t, 2, f.status("web").Step, "the conflict is gone: the next due look moves on")
	assert.Equal(t, "5000", f.ingress("web-canary").Annotations[annotations.NginxCanaryWeight])
}

// The canary Service as a plain backend of another Ingress: ingress-nginx
// merges canaries per upstream, so that Ingress would be split too. Found
// through the compact caches the controller runs with.
func TestCanaryServiceUsedByAnotherIngressIsRefused(t *testing.T) {
	refusedBeforeAnyTraffic(t, anotherIngress("web-v2"), "a Service no other Ingress routes to, but Ingress b does")
}

func TestSecondRolloutOnOneCanaryServiceIsRefused(t *testing.T) {
	first := primary("a", optedIn(map[string]string{}))
	first.UID = "a"
	first.Spec.Rules[0].Host = "a.example"
	first.Spec.Rules[0].HTTP.Paths[0].Backend = backend("a-v1", 80)
	second := primary("web", optedIn(nil))
	f := newFixture(t, first, second, service("a-v1"), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.sync("a")
	require.True(t, f.canaryExists("a"))
	f.sync("web")
	st := f.status("web")
	assert.Equal(t, weights.PhaseInvalid, st.Phase)
	assert.Contains(t, st.Message, "canary Ingress a-canary (of Ingress a) routes to it")
	assert.False(t, f.canaryExists("web"))
	f.sync("a")
	assert.Equal(t, weights.PhaseProgressing, f.status("a").Phase, "the first rollout carries on")
}

// Two rollouts that raced onto one canary Service: the one whose canary
// Ingress was created first carries on, whatever the names. The cache keeps
// the creation time for it; ordered by name, "web" would win here.
func TestOlderCanaryIngressKeepsASharedCanaryService(t *testing.T) {
	older := primary("zeta", optedIn(nil))
	older.UID = "zeta"
	older.Spec.Rules[0].Host = "zeta.example"
	older.Spec.Rules[0].HTTP.Paths[0].Backend = backend("zeta-v1", 80)
	younger := primary("web", optedIn(nil))
	younger.UID = "web"
	canaryOf := func(owner *networkingv1.Ingress, created time.Time) *networkingv1.Ingress {
		c := renderCanary(owner, owner.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name, "web-v2", networkingv1.ServiceBackendPort{}, annotations.Routing{}, 1000)
		c.CreationTimestamp = metav1.NewTime(created)
		return c
	}
	f := newFixture(t, older, younger, canaryOf(older, t0.Add(-2*time.Minute)), canaryOf(younger, t0.Add(-time.Minute)),
		service("zeta-v1"), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.sync("web")
	st := f.status("web")
	assert.Equal(t, weights.PhaseInvalid, st.Phase, st.Message)
	assert.Contains(t, st.Message, "canary Ingress zeta-canary (of Ingress zeta) routes to it")
	f.sync("zeta")
	st = f.status("zeta")
	assert.Equal(t, weights.PhaseProgressing, st.Phase, "the older rollout carries on: %s", st.Message)
}

func TestDefaultBackendIsWalked(t *testing.T) {
	p := primary("web", optedIn(nil))
	db := backend("web-v1", 80)
	p.Spec.DefaultBackend = &db
	f := newFixture(t, p, service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.sync("web")
	canary := f.ingress("web-canary")
	assert.Nil(t, canary.Spec.DefaultBackend, "with rules, the default backend is canaried at its hosts' roots")
	names, err := servicesOf(p)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"shop/web-v1", "shop/web-v2"}, names)

	p.Spec.Rules = nil // a default backend alone is a valid shape too
	names, err = servicesOf(p)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"shop/web-v1", "shop/web-v2"}, names, "servicesOf once skipped the default backend")
	alone := renderCanary(p, "web-v1", "web-v2", networkingv1.ServiceBackendPort{}, annotations.Routing{}, 1000)
	require.NotNil(t, alone.Spec.DefaultBackend, "without rules, the catch-all default backend is canaried")
	assert.Equal(t, "web-v2", alone.Spec.DefaultBackend.Service.Name)
	assert.Empty(t, alone.Spec.Rules)
}
