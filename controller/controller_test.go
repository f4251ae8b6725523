package controller

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

func optedIn(extra map[string]string) map[string]string {
	ann := map[string]string{
		annotations.KeyCanaryService: "web-v2", annotations.KeySteps: "10,50", annotations.KeyInterval: "1m",
		"team.example/owner": "shop",
	}
	for k, v := range extra {
		ann[k] = v
	}
	return ann
}

func TestRolloutPromotesInOrder(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(nil)), service("web-v1"), service("web-v2"), readySlice("web-v2"))

	f.analyzer.baseline = analysis.Baseline{RPS: 200, ErrorRate: 0.005, Span: time.Hour, Step: 30 * time.Second}
	for range 120 {
		f.analyzer.baseline.Dispersion.Add(30, 6000)
	}
	assert.Equal(t, time.Minute, f.sync("web"))
	assert.Equal(t, []string{
		"patch ingresses web application/merge-patch+json", // the first step
		"create ingresses web-canary",
		"patch ingresses web application/merge-patch+json", // seeded from stable's last hour, after the weight is out
	}, f.writes())
	assert.Contains(t, f.events(), "Normal Forecast at 200 rps (0.50% errors), a healthy canary should take about 2m0s (stable's traffic over the last 1h0m0s, errors 1× as clustered as independent ones)")
	st := f.status("web")
	require.NotNil(t, st.Dispersion)
	assert.Equal(t, 120.0, st.Dispersion.Intervals)
	assert.Equal(t, weights.PhaseProgressing, st.Phase)
	assert.Equal(t, "10", st.Weight.String())
	canary := f.ingress("web-canary")
	assert.Equal(t, "1000", canary.Annotations[annotations.NginxCanaryWeight])
	assert.True(t, metav1.IsControlledBy(canary, f.ingress("web")))

	f.sync("web")
	assert.Empty(t, f.writes(), "steady state writes nothing")
	assert.Empty(t, f.analyzer.targets, "no analysis before the window ends")

	f.now = t0.Add(time.Minute)
	f.sync("web")
	require.Len(t, f.analyzer.targets, 1)
	assert.Equal(t, analysis.Target{Namespace: ns, Ingress: "web", CanaryUpstream: "shop-web-v2-80", StableService: "web-v1", StablePort: "80", Since: t0, Until: f.now}, f.analyzer.targets[0])
	assert.Equal(t, "5000", f.ingress("web-canary").Annotations[annotations.NginxCanaryWeight])

	var order []string
	for _, dt := range []time.Duration{time.Minute, 5 * time.Second, 5 * time.Second} {
		f.now = f.now.Add(dt)
		f.sync("web")
		order = append(order, f.writes()...)
	}
	assert.Equal(t, []string{
		"patch ingresses web application/merge-patch+json",        // Promoting
		"create ingresses web-canary-keep",                        // web-v1 stays referenced
		"patch ingresses web-canary application/merge-patch+json", // weight 100
		"patch ingresses web application/merge-patch+json",        // stage Switched
		"patch ingresses web application/json-patch+json",         // primary → web-v2
		"patch ingresses web application/merge-patch+json",        // Succeeded
		"delete ingresses web-canary",
	}, order)
	assert.False(t, f.canaryExists("web"))
	keeper := f.ingress("web-canary-keep")
	assert.True(t, metav1.IsControlledBy(keeper, f.ingress("web")))
	assert.Equal(t, "uid-primary-1.keep.ingress-canary.invalid", keeper.Spec.Rules[0].Host)
	assert.Equal(t, "web-v1", keeper.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name, "the old stable Service, after the switch")
	f.now = f.now.Add(10 * time.Second)
	f.sync("web")
	assert.Equal(t, []string{"patch ingresses web application/merge-patch+json", "delete ingresses web-canary-keep"}, f.writes(),
		"KeepStableFor after the switch, the keeper goes")
	web := f.ingress("web")
	assert.Equal(t, "web-v2", web.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name)
	assert.Equal(t, int32(80), web.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port.Number)
	assert.Equal(t, "shop", web.Annotations["team.example/owner"], "foreign annotations are never touched")
	assert.Equal(t, weights.PhaseSucceeded, f.status("web").Phase)

	f.now = f.now.Add(time.Hour)
	f.sync("web")
	assert.Empty(t, f.writes(), "a promoted Ingress is left alone")
	assert.Contains(t, f.events(), "Normal Promoted promoted web-v2: the primary routes to web-v2; canary Ingress deleted")
}

func TestRollbackDeletesTheCanary(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(nil)), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.sync("web")
	f.analyzer.verdict = measured(400, 100, 3600, 0)
	f.now = t0.Add(time.Minute)
	f.sync("web")
	assert.Equal(t, []string{"patch ingresses web application/merge-patch+json", "delete ingresses web-canary"}, f.writes())
	assert.False(t, f.canaryExists("web"))
	st := f.status("web")
	assert.Equal(t, weights.PhaseFailed, st.Phase)
	assert.Contains(t, st.Message, "canary error rate 25.00% (100 of 400 requests)")
	assert.Equal(t, "web-v1", f.ingress("web").Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name)
	assert.Contains(t, f.events(), "Warning RolledBack analysis failed at step 1/2: evidence of regression >10000 (rollback at 100): error rate above 1× stable's; canary error rate 25.00% (100 of 400 requests), stable 0.00% (0 of 3600) in this step: canary Ingress deleted, all traffic on the stable Service")
}

func TestBadAnnotationIsInvalidWithoutTraffic(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(map[string]string{annotations.KeySteps: "50,10"})), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	assert.Zero(t, f.sync("web"), "bad input is not retried on a timer")
	assert.Equal(t, []string{"patch ingresses web application/merge-patch+json"}, f.writes())
	assert.False(t, f.canaryExists("web"))
	st := f.status("web")
	assert.Equal(t, weights.PhaseInvalid, st.Phase)
	assert.Contains(t, st.Message, `ingress-canary.dev/steps="50,10"`)
	ev := f.events()
	require.Len(t, ev, 1)
	assert.Contains(t, ev[0], "Warning InvalidSpec annotation ingress-canary.dev/steps=\"50,10\" is invalid: strictly increasing weights")

	f.sync("web")
	assert.Empty(t, f.writes(), "the same bad input is reported once")
	assert.Empty(t, f.events())
}

func TestStatusOrForeignEditsCauseNoWrite(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(nil)), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.sync("web")
	f.annotate("web", map[string]string{"team.example/owner": "payments"})
	f.now = t0.Add(10 * time.Second)
	f.sync("web")
	assert.Empty(t, f.writes())
	assert.Empty(t, f.analyzer.targets)
}

func TestPauseCommandIsConsumed(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(nil)), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.sync("web")
	f.annotate("web", map[string]string{annotations.KeyPause: "true"})
	f.sync("web")
	web := f.ingress("web")
	assert.NotContains(t, web.Annotations, annotations.KeyPause)
	assert.Equal(t, weights.PhasePaused, f.status("web").Phase)
	assert.Equal(t, "1000", f.ingress("web-canary").Annotations[annotations.NginxCanaryWeight])
	f.now = t0.Add(time.Hour)
	f.sync("web")
	assert.Empty(t, f.analyzer.targets, "a paused rollout is not analysed")
}

func TestWaitsForReadyEndpoints(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(nil)), service("web-v1"), service("web-v2"))
	assert.Equal(t, 10*time.Second, f.sync("web"))
	assert.Equal(t, "0", f.ingress("web-canary").Annotations[annotations.NginxCanaryWeight])
	assert.Equal(t, 0, f.status("web").Step)
}

func TestLintFailures(t *testing.T) {
	other := "traefik"
	foreignCanary := primary("hand-made", map[string]string{annotations.NginxCanary: "true"})
	foreignCanary.UID = "other"
	sharesCanary := primary("admin", nil)
	sharesCanary.UID = "admin"
	sharesCanary.Spec.Rules[0].Host = "admin.example"
	sharesCanary.Spec.Rules[0].HTTP.Paths[0].Backend = backend("web-v2", 80)
	squatter := primary("web-canary", nil)
	squatter.UID = "squatter"
	squatter.Spec.Rules[0].Host = "elsewhere.example"
	cases := []struct {
		name  string
		mut   func(*networkingv1.Ingress)
		extra []*networkingv1.Ingress
		want  string
	}{
		{"missing canary Service", func(i *networkingv1.Ingress) { i.Annotations[annotations.KeyCanaryService] = "web-v9" }, nil,
			`annotation ingress-canary.dev/canary-service="web-v9" is invalid: an existing Service in namespace shop`},
		{"not nginx", func(i *networkingv1.Ingress) { i.Spec.IngressClassName = &other }, nil, `spec.ingressClassName="traefik": want ingress class "nginx"`},
		{"missing port", func(i *networkingv1.Ingress) { i.Annotations[annotations.KeyCanaryPort] = "8443" }, nil,
			`ingress-canary.dev/canary-port="8443" is invalid: a port of Service web-v2: http/80`},
		{"stable-service not used", func(i *networkingv1.Ingress) { i.Annotations[annotations.KeyStableService] = "web-v0" }, nil,
			`ingress-canary.dev/stable-service="web-v0"`},
		{"foreign canary on the same host/path", nil, []*networkingv1.Ingress{foreignCanary}, `Ingress hand-made="shop.example/": want no other canary Ingress`},
		{"canary Service is another Ingress's backend", nil, []*networkingv1.Ingress{sharesCanary}, "Ingress admin does"},
		{"same-named Ingress not ours", nil, []*networkingv1.Ingress{squatter}, `metadata.name="web-canary": want no Ingress of that name`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := primary("web", optedIn(nil))
			if tc.mut != nil {
				tc.mut(p)
			}
			f := newFixture(t, p, service("web-v1"), service("web-v2"), readySlice("web-v2"))
			for _, e := range tc.extra {
				_, err := f.client.NetworkingV1().Ingresses(ns).Create(t.Context(), e, metav1.CreateOptions{})
				require.NoError(t, err)
				f.waitForCache(e.Name)
			}
			f.sync("web")
			st := f.status("web")
			assert.Equal(t, weights.PhaseInvalid, st.Phase)
			assert.Contains(t, st.Message, tc.want)
			ev := f.events()
			require.Len(t, ev, 1)
			assert.Contains(t, ev[0], "Warning InvalidSpec")
			if tc.name != "same-named Ingress not ours" {
				assert.False(t, f.canaryExists("web"))
			} else {
				assert.Equal(t, "elsewhere.example", f.ingress("web-canary").Spec.Rules[0].Host, "never overwritten")
			}
		})
	}
}

func TestRemovingCanaryServiceCleansUp(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(nil)), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.sync("web")
	require.True(t, f.canaryExists("web"))
	f.unannotate("web", annotations.KeyCanaryService)
	f.sync("web")
	assert.False(t, f.canaryExists("web"))
	assert.Equal(t, weights.PhaseIdle, f.status("web").Phase)
}

// A regression found at a tick before the step is due rolls back at once
// (fast fail): the scan reads the evidence of every open step a tick old, and
// queues only a decided one, whose sync judges it again. A hold changes
// nothing and writes nothing.
func TestFastFailAtATick(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(nil)), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.ctrl.opts.AnalysisTick = 5 * time.Second
	assert.Equal(t, time.Minute, f.sync("web"), "the sync waits for the due time; the scan looks at every tick")

	f.now = t0.Add(2 * time.Second)
	assert.Empty(t, f.ctrl.decidedWindows(t.Context()))
	assert.Empty(t, f.analyzer.targets, "a window younger than a tick is not looked at")

	f.now = t0.Add(10 * time.Second)
	assert.Empty(t, f.ctrl.decidedWindows(t.Context()), "evidence before the step's minimum holds: nothing queued")
	require.Len(t, f.analyzer.targets, 1)
	assert.Equal(t, t0, f.analyzer.targets[0].Since)
	assert.Equal(t, f.now, f.analyzer.targets[0].Until)
	assert.Equal(t, "shop-web-v2-80", f.analyzer.targets[0].CanaryUpstream)
	f.sync("web")
	assert.Empty(t, f.writes(), "a hold writes nothing")

	f.analyzer.verdict = measured(150, 45, 1350, 0)
	f.now = t0.Add(15 * time.Second)
	assert.Equal(t, []string{ns + "/web"}, f.ctrl.decidedWindows(t.Context()))
	f.sync("web")
	assert.Equal(t, []string{"patch ingresses web application/merge-patch+json", "delete ingresses web-canary"}, f.writes())
	assert.Equal(t, weights.PhaseFailed, f.status("web").Phase)

	f.now = t0.Add(20 * time.Second)
	looks := len(f.analyzer.targets)
	assert.Empty(t, f.ctrl.decidedWindows(t.Context()))
	assert.Len(t, f.analyzer.targets, looks, "a rolled-back rollout has no open window")
}

// A window past its due time is the sync's to judge, not the scan's.
func TestScanLeavesDueWindowsToTheSync(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(nil)), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.ctrl.opts.AnalysisTick = 5 * time.Second
	f.sync("web")
	f.analyzer.verdict = measured(150, 45, 1350, 0)
	f.now = t0.Add(time.Minute)
	assert.Empty(t, f.ctrl.decidedWindows(t.Context()))
	assert.Empty(t, f.analyzer.targets)
}

// A due window that passes while nginx sent the canary far less than its weight
// holds with a SplitMismatch Warning instead of advancing.
func TestSplitMismatchHolds(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(nil)), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.sync("web")
	f.analyzer.verdict = measured(0, 0, 2000, 0)
	f.now = t0.Add(time.Minute)
	f.sync("web")
	st := f.status("web")
	assert.Equal(t, 1, st.Step)
	assert.Equal(t, "10", st.Weight.String())
	assert.Contains(t, st.Message, "0.00% of 2000 requests")
	assert.Contains(t, f.events(), "Warning SplitMismatch "+st.Message)
}

// A canary failing the requests it did get is rolled back at once even while
// nginx sends it far less than its weight: the split mismatch would hold a
// pass, not a regression.
func TestARegressionRollsBackThroughASplitMismatch(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(nil)), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.ctrl.opts.AnalysisTick = 5 * time.Second
	f.sync("web")
	f.analyzer.verdict = measured(60, 30, 5940, 0) // 1 % of the requests at weight 10 %, half of them failed
	f.now = t0.Add(15 * time.Second)
	assert.Equal(t, []string{ns + "/web"}, f.ctrl.decidedWindows(t.Context()), "the scan decides")
	f.sync("web")
	assert.Equal(t, []string{"patch ingresses web application/merge-patch+json", "delete ingresses web-canary"}, f.writes())
	st := f.status("web")
	assert.Equal(t, weights.PhaseFailed, st.Phase, st.Message)
	assert.Contains(t, st.Message, "the data plane sent 1.00% of 6000 requests to the canary")
}

func TestBehindTheCache(t *testing.T) {
	gr := schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"}
	assert.True(t, behindTheCache(fmt.Errorf("create canary Ingress shop/web-canary: %w", apierrors.NewAlreadyExists(gr, "web-canary"))))
	assert.True(t, behindTheCache(fmt.Errorf("patch status: %w", apierrors.NewConflict(gr, "web", errors.New("the object has been modified")))))
	assert.False(t, behindTheCache(apierrors.NewForbidden(gr, "web", errors.New("RBAC"))))
	assert.False(t, behindTheCache(errors.New("connection refused")))
}
