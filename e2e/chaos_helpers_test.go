package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/preflight"
	"github.com/ingress-canary/ingress-canary/weights"
)

// The chaos tests share three testapp versions across their namespaces, so that
// twenty rollouts use three of the sandbox's bridge addresses, not forty.
const (
	chaosStable = "chaos-v1"  // the stable version of every chaos app
	chaosGood   = "chaos-v2"  // a healthy canary
	chaosBad    = "chaos-bad" // a canary answering half its requests with 500
)

// chaosLease is the suite controller's Lease (and the replicas' in the leader test).
const chaosLeaseNamespace, chaosLeaseName = "kube-system", "ingress-canary"

// newChaosApps deploys one app per name: namespace e2e-<name>, Service web-v1
// serving chaosStable, web-v2 serving canaries[i], and the primary Ingress web
// routing to web-v1. It creates everything first and only then waits for nginx
// to serve each host, so that one nginx reload serves many apps.
func newChaosApps(t *testing.T, names, canaries []string) []*app {
	t.Helper()
	require.Len(t, canaries, len(names))
	ctx := context.Background()
	apps := make([]*app, len(names))
	for i, name := range names {
		a := &app{t: t, name: name, ns: "e2e-" + name, host: name + ".e2e.local", primaryName: "web"}
		require.NoError(t, suite.cluster.DeployVersion(ctx, a.ns, "web-v1", chaosStable))
		require.NoError(t, suite.cluster.DeployVersion(ctx, a.ns, "web-v2", canaries[i]))
		class := "nginx"
		prefix := networkingv1.PathTypePrefix
		ing := &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: a.primaryName, Namespace: a.ns, Annotations: map[string]string{"team.example/owner": a.name}},
			Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{
				Host: a.host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
						Service: &networkingv1.IngressServiceBackend{Name: "web-v1", Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
				}},
			}}},
		}
		_, err := suite.cluster.Client.NetworkingV1().Ingresses(a.ns).Create(ctx, ing, metav1.CreateOptions{})
		require.NoError(t, err)
		apps[i] = a
	}
	for _, a := range apps {
		a.waitServing(chaosStable)
	}
	return apps
}

// chaosSteps and chaosInterval are the rollout every chaos test runs: two short
// steps, and few requests (min-requests 10) to judge a window.
var chaosSteps = []float64{20, 50}

const chaosInterval = 10 * time.Second

// chaosRollout is the annotations that start it.
func chaosRollout() map[string]any {
	steps := make([]string, len(chaosSteps))
	for i, w := range chaosSteps {
		steps[i] = strconv.FormatFloat(w, 'f', -1, 64)
	}
	return map[string]any{
		annotations.KeyCanaryService: "web-v2", annotations.KeySteps: strings.Join(steps, ","),
		annotations.KeyInterval: chaosInterval.String(), annotations.KeyMinRequests: "10",
		annotations.KeyMaxErrorRate: suiteMaxErrorRate,
	}
}

// chaosPlan is what history.check expects of a's chaosRollout.
func chaosPlan(a *app, want weights.Phase) rolloutPlan {
	return rolloutPlan{ns: a.ns, primary: a.primaryName, revision: "web-v2", steps: chaosSteps, interval: chaosInterval, want: want}
}

// patchAnnotations merge-patches annotations on an Ingress and returns the error
// (for goroutines, which must not call t.FailNow).
func patchAnnotations(ctx context.Context, ns, name string, kv map[string]any) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": kv}})
	if err != nil {
		return err
	}
	_, err = suite.cluster.Client.NetworkingV1().Ingresses(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

// leaseHolder reads the holder of the controller's Lease ("" when released or
// unreadable).
func leaseHolder(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	l, err := suite.cluster.Client.CoordinationV1().Leases(chaosLeaseNamespace).Get(ctx, chaosLeaseName, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	return ptrValue(l.Spec.HolderIdentity)
}

// waitLeading waits until the process last started by p, whose identity is not
// notID (the one before it), holds the Lease, and returns its identity and how
// long that took from the call.
func waitLeading(t *testing.T, p *controllerProc, notID string, timeout time.Duration) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		id := p.identity()
		if id != "" && id != notID && leaseHolder(context.Background()) == id {
			return id, time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s (identity %q) did not take the Lease within %s; holder %q; log %s", p.logPath, id, timeout, leaseHolder(context.Background()), p.logPath)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// chaosSeed is CHAOS_SEED when set (to replay a run), else the clock.
func chaosSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "CHAOS_SEED")
		seed = v
	}
	t.Logf("seed %d (replay with CHAOS_SEED=%d)", seed, seed)
	return seed
}

// requireNoViolations fails the test with the rollout's recorded timeline when
// the history shows a broken invariant.
// awaitCanaryGone waits until the API and h's watch both say that a's canary
// Ingress is gone. The status is written before the canary Ingress is deleted
// (it is the intent), so the deletion follows a terminal phase by a moment; a
// test that reads the history in between would see a canary left behind (two
// runs of the chaos tests did).
func awaitCanaryGone(h *history, a *app) {
	began := time.Now()
	a.eventually(10*time.Second, "canary Ingress deleted, and seen deleted", func() bool {
		_, exists := a.canary()
		return !exists && !h.exists(a.ns, preflight.CanaryName(a.primaryName))
	})
	if waited := time.Since(began); waited > 0 {
		a.t.Logf("%s: canary Ingress seen deleted %.2fs after the terminal phase was seen", a.ns, waited.Seconds())
	}
}

func requireNoViolations(t *testing.T, h *history, a *app, r rolloutReport) {
	t.Helper()
	if len(r.Violations) > 0 {
		t.Errorf("%s: %d violations:\n  %s\nrecorded timeline:\n%scontroller log: %s", a.ns, len(r.Violations),
			strings.Join(r.Violations, "\n  "), h.statusTimeline(a.ns, a.primaryName), suite.controller.logPath)
	}
}

// tryStatus reads a primary's status, tolerating API errors (the apiserver may
// be restarting): ok is false when it could not be read.
func tryStatus(a *app) (weights.Status, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ing, err := suite.cluster.Client.NetworkingV1().Ingresses(a.ns).Get(ctx, a.primaryName, metav1.GetOptions{})
	if err != nil {
		return weights.Status{}, false
	}
	st, err := weights.ParseStatus(ing.Annotations[annotations.KeyStatus])
	return st, err == nil
}

// backendOf is the Service of the primary's first path.
func backendOf(ing *networkingv1.Ingress) string {
	return ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name
}

// stateOf renders a status compactly, e.g. "Progressing/2", "Promoting/Switched".
func stateOf(s weights.Status, ok bool) string {
	switch {
	case !ok || s.Phase == "":
		return "not started"
	case s.Phase == weights.PhasePromoting:
		return "Promoting/" + string(s.Stage)
	case s.Phase == weights.PhaseProgressing || s.Phase == weights.PhasePaused:
		return fmt.Sprintf("%s/%d", s.Phase, s.Step)
	}
	return string(s.Phase)
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// tailFrom returns a file's content from offset on.
func tailFrom(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	return string(b[offset:])
}
