package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingress-canary/ingress-canary/weights"
)

// Fast fail: with one-minute steps, a canary that starts answering 5xx is rolled
// back long before its window ends. The target is at most 15 s from the first
// 5xx to the canary Ingress being gone.
func TestFastFailWithinFifteenSeconds(t *testing.T) {
	t.Parallel()
	a := newApp(t, "fastfail", 2)
	_, stop := a.traffic(60, nil)
	defer stop()
	a.start(map[string]string{"canary-service": "web-v2", "steps": "20,50", "interval": "1m", "min-requests": "20"})
	a.waitStatus(60*time.Second, "step 1", func(s weights.Status) bool { return s.Step == 1 && s.StepStarted != nil })
	waitCanary(a)
	time.Sleep(5 * time.Second) // healthy traffic first, so the window is not all errors
	require.NoError(t, suite.cluster.SetBehavior(a.version(2), 0.3, 0))
	burst := time.Now()
	a.eventually(60*time.Second, "canary Ingress gone", func() bool { _, ok := a.canary(); return !ok })
	took := time.Since(burst)
	st := a.status()
	t.Logf("fast fail: canary Ingress gone %.1fs after the first 5xx (interval 1m); %s", took.Seconds(), st.Message)
	assert.Equal(t, weights.PhaseFailed, st.Phase)
	assert.LessOrEqual(t, took, 15*time.Second)
	assert.True(t, time.Now().Before(st.StepStarted.Add(time.Minute)), "rolled back before the window was due")
}

// Split verification: a canary Ingress in another namespace already claims our
// host and path. ingress-nginx keeps the first canary for a location and
// ignores ours, and the pre-flight checks look only at the primary's namespace,
// so only the measured split can tell. The controller must notice, say so with
// the figures, and not advance. On Traefik the same world is harmless, and the
// test shows that instead.
func TestSplitMismatchIsFlagged(t *testing.T) {
	t.Parallel()
	a := newApp(t, "split", 2)
	squatter := "e2e-split-other"
	require.NoError(t, suite.cluster.DeployVersion(context.Background(), squatter, "other-v1", a.name+"-other"))
	foreign := a.primary().DeepCopy()
	foreign.ObjectMeta = metav1.ObjectMeta{Name: "their-canary", Namespace: squatter, Annotations: map[string]string{
		"nginx.ingress.kubernetes.io/canary": "true", "nginx.ingress.kubernetes.io/canary-weight": "0"}}
	foreign.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = "other-v1"
	_, err := suite.cluster.Client.NetworkingV1().Ingresses(squatter).Create(context.Background(), foreign, metav1.CreateOptions{})
	require.NoError(t, err)
	time.Sleep(4 * time.Second) // the data plane takes the first canary
	_, stop := a.traffic(60, nil)
	defer stop()
	a.start(map[string]string{"canary-service": "web-v2", "steps": "20,50", "interval": "8s", "min-requests": "20"})
	if suiteRouter() == "traefik" {
		// Traefik's provider keeps a canary to the Ingresses of its own
		// namespace (measured): the squatter changes nothing, the split is
		// what the weight says, and the rollout goes on.
		a.waitStatus(60*time.Second, "step 2", func(s weights.Status) bool { return s.Step == 2 })
		noWarnings(a, "SplitMismatch")
		return
	}
	ev := a.waitEvent(60*time.Second, "Warning", "SplitMismatch", "to the canary, but its weight is 20.00%")
	t.Logf("event: %s", ev)
	st := a.status()
	assert.Equal(t, 1, st.Step, "never advanced on a split the data plane did not apply")
	assert.Equal(t, weights.PhaseProgressing, st.Phase)
}

// sibling is a second primary Ingress in a's namespace, on its own host, routing
// to the same stable Service web-v1.
func (a *app) sibling(name string) *app {
	a.t.Helper()
	b := &app{t: a.t, name: a.name, ns: a.ns, host: name + "." + a.host, primaryName: name}
	ing := a.primary().DeepCopy()
	ing.ObjectMeta = metav1.ObjectMeta{Name: name, Namespace: a.ns}
	ing.Spec.Rules[0].Host = b.host
	_, err := suite.cluster.Client.NetworkingV1().Ingresses(a.ns).Create(context.Background(), ing, metav1.CreateOptions{})
	require.NoError(a.t, err)
	b.waitServing(a.version(1))
	return b
}
