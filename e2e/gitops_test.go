package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ingress-canary/ingress-canary/weights"
)

// promote-by: weight, for GitOps: the controller never edits the primary's spec.
// It holds 100 % on the canary Ingress until the primary's backend is changed at
// its source (here: a patch, as Argo CD or Flux would apply), then removes the
// canary Ingress, and no request fails on the way.
func TestPromoteByWeightWaitsForTheSource(t *testing.T) {
	t.Parallel()
	a := newApp(t, "gitops", 2)
	g, stop := a.traffic(60, nil)
	defer stop()
	a.start(map[string]string{"canary-service": "web-v2", "steps": "50", "interval": "6s", "min-requests": "20", "promote-by": "weight"})
	st := a.waitStatus(60*time.Second, "holding 100 %", func(s weights.Status) bool {
		return s.Phase == weights.PhasePromoting && s.Message != "" && s.Weight.String() == "100" && containsAll(s.Message, []string{"at its source"})
	})
	t.Logf("status: %s", st.Message)
	time.Sleep(4 * time.Second)
	assert.Equal(t, "web-v1", a.primary().Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name, "the primary's spec is never edited")
	assert.Equal(t, weights.PhasePromoting, a.status().Phase, "held until the source changes")
	before := g.Snapshot()
	time.Sleep(2 * time.Second)
	held := g.Snapshot().Sub(before)
	assert.Equal(t, held.Responses(), held.ByVersion[a.version(2)], "100 %% of traffic on the canary while held")

	_, err := suite.cluster.Client.NetworkingV1().Ingresses(a.ns).Patch(context.Background(), "web", types.JSONPatchType,
		[]byte(`[{"op":"replace","path":"/spec/rules/0/http/paths/0/backend/service/name","value":"web-v2"}]`), metav1.PatchOptions{})
	require.NoError(t, err)
	a.waitPhase(30*time.Second, weights.PhaseSucceeded)
	// The status is written before the canary Ingress is deleted (it is the
	// intent), so the deletion may follow the phase by a moment.
	a.eventually(10*time.Second, "canary Ingress removed once the source routes to web-v2", func() bool {
		_, exists := a.canary()
		return !exists
	})
	time.Sleep(4 * time.Second)
	final := stop()
	t.Logf("traffic: %s", final)
	assert.Zero(t, final.NonSuccess)
}
