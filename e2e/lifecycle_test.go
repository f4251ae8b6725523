package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingress-canary/ingress-canary/weights"
)

// (h) Invalid annotations: Invalid, a Warning naming the key and value, and no
// canary Ingress.
func TestInvalidAnnotations(t *testing.T) {
	t.Parallel()
	a := newApp(t, "invalid", 2)
	a.start(map[string]string{"canary-service": "web-v2", "steps": "50,10", "interval": "soon"})
	st := a.waitPhase(30*time.Second, weights.PhaseInvalid)
	assert.Contains(t, st.Message, `ingress-canary.dev/steps="50,10"`)
	assert.Contains(t, st.Message, `ingress-canary.dev/interval="soon"`)
	a.waitEvent(10*time.Second, "Warning", "InvalidSpec", `ingress-canary.dev/steps="50,10"`)
	time.Sleep(2 * time.Second)
	_, exists := a.canary()
	assert.False(t, exists, "no canary Ingress for bad input")

	// Fixing the input starts the rollout.
	a.start(map[string]string{"steps": "10,50", "interval": "5s"})
	a.waitStatus(30*time.Second, "progressing", func(s weights.Status) bool { return s.Phase == weights.PhaseProgressing })
	waitCanary(a)
}

// (i) Deleting the primary garbage-collects the canary Ingress (ownerReference,
// the real garbage collector in kube-controller-manager).
func TestDeletingPrimaryCollectsCanary(t *testing.T) {
	t.Parallel()
	a := newApp(t, "gc", 2)
	a.start(map[string]string{"canary-service": "web-v2", "steps": "10,50", "interval": "1m"})
	waitCanary(a)
	err := suite.cluster.Client.NetworkingV1().Ingresses(a.ns).Delete(context.Background(), "web", metav1.DeleteOptions{})
	assert.NoError(t, err)
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	for {
		if _, exists := a.canary(); !exists {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("canary Ingress not garbage-collected within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("canary Ingress collected %.2fs after the primary was deleted", time.Since(start).Seconds())
}
