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

// (g) SIGKILL mid-step: the restarted controller resumes the same step with the
// same window start (no restart, no skip) and finishes. Sequential: it kills the
// shared controller.
func TestControllerKilledMidStepResumes(t *testing.T) {
	a := newApp(t, "restart", 2)
	_, stop := a.traffic(60, nil)
	defer stop()
	a.start(map[string]string{"canary-service": "web-v2", "steps": "10,20,40", "interval": "20s", "min-requests": "20"})
	before := a.waitStatus(60*time.Second, "step 2", func(s weights.Status) bool { return s.Step == 2 && s.StepStarted != nil })
	time.Sleep(3 * time.Second)
	killAndRestart(t)
	awaitResumed(t, a, before, 20*time.Second, nil)
}

// killAndRestart SIGKILLs the suite's controller and starts it again.
func killAndRestart(t *testing.T) {
	t.Helper()
	require.NoError(t, suite.controller.Kill())
	killedAt := time.Now()
	require.NoError(t, suite.controller.Start())
	t.Logf("controller restarted %.1fs after SIGKILL", time.Since(killedAt).Seconds())
}

// resumable is a rollout a restart test follows: an Ingress's (app) or an
// HTTPRoute's (routeApp).
type resumable interface {
	status() weights.Status
	eventually(timeout time.Duration, what string, cond func() bool)
}

// awaitResumed follows a rollout killed at step 2 (status before) of a
// three-step plan to Succeeded: the step advances only when the original
// window (interval) ends, never earlier, and never skips 3. each, if set,
// checks every status seen.
func awaitResumed(t *testing.T, a resumable, before weights.Status, interval time.Duration, each func(weights.Status)) {
	t.Helper()
	var steps []int
	a.eventually(120*time.Second, "succeeded", func() bool {
		st := a.status()
		if len(steps) == 0 || steps[len(steps)-1] != st.Step {
			steps = append(steps, st.Step)
		}
		if st.Step == 2 {
			assert.True(t, st.StepStarted.Equal(*before.StepStarted), "window start kept across the restart")
		}
		if st.Step == 3 && st.StepStarted != nil {
			assert.False(t, st.StepStarted.Before(before.StepStarted.Add(interval)), "step 2's window was not cut short")
		}
		if each != nil {
			each(st)
		}
		return st.Phase == weights.PhaseSucceeded
	})
	assert.Equal(t, []int{2, 3}, steps, "resumed at step 2, then 3, no skip")
}

// SIGTERM releases the Lease at once (ReleaseOnCancel), so a successor need not
// wait out the lease duration. Sequential: it stops the shared controller.
func TestGracefulShutdownReleasesTheLease(t *testing.T) {
	ctx := context.Background()
	leases := suite.cluster.Client.CoordinationV1().Leases("kube-system")
	lease, err := leases.Get(ctx, "ingress-canary", metav1.GetOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, ptrValue(lease.Spec.HolderIdentity), "the suite's controller holds the Lease")

	require.NoError(t, suite.controller.Stop())
	lease, err = leases.Get(ctx, "ingress-canary", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Empty(t, ptrValue(lease.Spec.HolderIdentity), "released on SIGTERM")

	start := time.Now()
	require.NoError(t, suite.controller.Start())
	deadline := time.Now().Add(20 * time.Second)
	for {
		lease, err = leases.Get(ctx, "ingress-canary", metav1.GetOptions{})
		require.NoError(t, err)
		if ptrValue(lease.Spec.HolderIdentity) != "" {
			break
		}
		require.True(t, time.Now().Before(deadline), "the restarted controller did not take the released Lease")
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the restarted controller took the released Lease %.1fs after start", time.Since(start).Seconds())
	assert.Less(t, time.Since(start), 10*time.Second, "no wait for the old lease to expire (15 s)")
}

func ptrValue(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
