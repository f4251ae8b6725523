package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/weights"
)

// Chaos: kube-apiserver is restarted in the middle of a step. The rollout still
// reaches Succeeded with no step skipped and no window restarted. The controller
// may exit by design when it cannot renew its Lease within the renew deadline
// ("leader election lost"); then it is started again, as the kubelet would, and
// the test says so. Sequential: it restarts the shared apiserver.
func TestChaosAPIServerRestartMidRollout(t *testing.T) {
	t0 := time.Now()
	ctx := context.Background()
	a := newChaosApps(t, []string{"chaos-apiserver"}, []string{chaosGood})[0]
	h := recordIngresses(t, "e2e-chaos-apiserver")
	_, stop := a.traffic(30, nil)
	defer stop()
	logBefore := fileSize(suite.controller.logPath)
	require.NoError(t, patchAnnotations(ctx, a.ns, a.primaryName, chaosRollout()))
	st := a.waitStatus(60*time.Second, "step 1", func(s weights.Status) bool { return s.Step == 1 && s.StepStarted != nil })

	// 3 s into step 1's 10 s window.
	time.Sleep(time.Until(st.StepStarted.Add(3 * time.Second)))
	restartAt := time.Now()
	require.NoError(t, suite.cluster.RestartAPIServer(ctx))
	downtime := time.Since(restartAt)
	t.Logf("kube-apiserver down and back (SIGTERM to /readyz) in %.2fs, %.1fs into step 1", downtime.Seconds(), restartAt.Sub(*st.StepStarted).Seconds())

	// Until the end, a controller that exited is started again, as a kubelet
	// restarts a container.
	restarts := 0
	a.eventually(90*time.Second, "phase Succeeded", func() bool {
		if suite.controller.Exited() {
			restarts++
			t.Logf("the controller exited %.1fs after the restart began; starting it again", time.Since(restartAt).Seconds())
			require.NoError(t, suite.controller.Start())
		}
		s, ok := tryStatus(a)
		return ok && s.Phase == weights.PhaseSucceeded
	})
	// It may also exit a little after the rollout ended; leave it running and leading.
	if suite.controller.Exited() {
		restarts++
		require.NoError(t, suite.controller.Start())
	}
	waitLeading(t, suite.controller, "", 30*time.Second)
	awaitCanaryGone(h, a)
	counts := stop()

	r := h.check(chaosPlan(a, weights.PhaseSucceeded))
	requireNoViolations(t, h, a, r)
	assert.Equal(t, "web-v2", backendOf(a.primary()))
	watches, relists, gaps := h.counts()
	ctrlLog := tailFrom(suite.controller.logPath, logBefore)
	lost := strings.Contains(ctrlLog, "leader election lost")
	assert.Equal(t, restarts > 0, lost, "the controller exits only for a lost Lease")
	late := time.Duration(0)
	if s1, s2 := r.StepStarted[1], r.StepStarted[2]; !s1.IsZero() && !s2.IsZero() {
		late = s2.Sub(s1.Add(chaosInterval))
	}
	t.Logf("rollout %s, %d status writes, windows %s (step 2 began %.1fs after step 1's window was due); controller exited and was restarted %d times (leader election lost: %v), %d failed syncs logged; history: %d watches, %d relists, %d objects changed unseen; traffic %s; test ran %.1fs",
		r, r.Statuses, formatStarts(r.StepStarted), late.Seconds(), restarts, lost, strings.Count(ctrlLog, "sync failed"), watches, relists, gaps, counts, time.Since(t0).Seconds())
}
