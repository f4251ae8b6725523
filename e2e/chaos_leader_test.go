package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingress-canary/ingress-canary/weights"
)

// Chaos: two replicas share the Lease, as the Deployment's two Pods do, with the
// default lease timings. The leader is SIGKILLed mid-step: the standby must hold
// the Lease within 15 s of the kill, take no step twice (every step's window
// start written once, steps strictly +1, at most one StepStarted Event per
// step), and finish the rollout. Sequential: it stops the shared controller for
// its duration.
func TestChaosLeaderKilledStandbyTakesOver(t *testing.T) {
	t0 := time.Now()
	ctx := context.Background()
	a := newChaosApps(t, []string{"chaos-leader"}, []string{chaosGood})[0]

	// SIGTERM releases the shared controller's Lease, so the replicas need not
	// wait it out; it is started again after them (Cleanup runs last-in first).
	sharedID := suite.controller.identity()
	require.NoError(t, suite.controller.Stop())
	t.Cleanup(func() {
		require.NoError(t, suite.controller.Start())
		waitLeading(t, suite.controller, sharedID, 30*time.Second)
	})
	bin := filepath.Join(suite.bin, "ingress-canary")
	replicas := []*controllerProc{
		newControllerProcWith(bin, suite.cluster, "ingress-canary-replica-a", suite.cluster.Kubeconfig, chaosLeaseNamespace, "127.0.0.1:18094", "127.0.0.1:18095"),
		newControllerProcWith(bin, suite.cluster, "ingress-canary-replica-b", suite.cluster.Kubeconfig, chaosLeaseNamespace, "127.0.0.1:18096", "127.0.0.1:18097"),
	}
	for _, r := range replicas {
		require.NoError(t, r.Start())
		t.Cleanup(func() { _ = r.Stop() })
	}

	// The leader: the Lease's holder, mapped to a process by the identity each
	// logs at start, and confirmed by its "became leader" line and its metric.
	var leader, standby *controllerProc
	a.eventually(30*time.Second, "a replica holds the Lease", func() bool {
		holder := leaseHolder(ctx)
		for i, r := range replicas {
			if holder != "" && r.identity() == holder {
				leader, standby = r, replicas[1-i]
				return true
			}
		}
		return false
	})
	leaderID, standbyID := leader.identity(), standby.identity()
	require.NotEmpty(t, standbyID)
	assert.Contains(t, leader.logIdentities("became leader"), leaderID, "the leader logged its identity")
	assert.Empty(t, standby.logIdentities("became leader"), "the standby did not lead")
	assert.Equal(t, 1, leader.leaderMetric(), "leader_election_master_status of the leader")
	assert.Equal(t, 0, standby.leaderMetric(), "leader_election_master_status of the standby")
	t.Logf("leader %s (%s), standby %s (%s)", filepath.Base(leader.logPath), leaderID, filepath.Base(standby.logPath), standbyID)

	h := recordIngresses(t, "e2e-chaos-leader")
	_, stop := a.traffic(30, nil)
	defer stop()
	require.NoError(t, patchAnnotations(ctx, a.ns, a.primaryName, chaosRollout()))
	st := a.waitStatus(60*time.Second, "step 1", func(s weights.Status) bool { return s.Step == 1 && s.StepStarted != nil })

	// Mid-step: 4 s into step 1's 10 s window.
	time.Sleep(time.Until(st.StepStarted.Add(4 * time.Second)))
	require.NoError(t, leader.Kill())
	killedAt := time.Now()
	for leaseHolder(ctx) != standbyID {
		require.Less(t, time.Since(killedAt), 40*time.Second, "the standby never took the Lease; holder %q", leaseHolder(ctx))
		time.Sleep(50 * time.Millisecond)
	}
	takeover := time.Since(killedAt)
	t.Logf("standby took the Lease %.2fs after the leader's SIGKILL (the defaults: lease 10s, retry period 1s)", takeover.Seconds())
	assert.LessOrEqual(t, takeover, 15*time.Second, "takeover after a crash")
	a.eventually(5*time.Second, "the standby logs that it leads", func() bool {
		return len(standby.logIdentities("became leader")) == 1 && standby.leaderMetric() == 1
	})
	assert.Equal(t, []string{standbyID}, standby.logIdentities("became leader"))

	end := a.waitPhase(60*time.Second, weights.PhaseSucceeded)
	awaitCanaryGone(h, a)
	r := h.check(chaosPlan(a, weights.PhaseSucceeded))
	requireNoViolations(t, h, a, r)
	assert.True(t, r.StepStarted[1].Equal(*st.StepStarted), "step 1's window kept the start the killed leader wrote")
	assert.Equal(t, "web-v2", backendOf(a.primary()))

	// Who wrote what: the first status write after the kill came from the new leader.
	var firstAfter time.Time
	for _, o := range h.snapshot() {
		if o.Name == a.primaryName && o.At.After(killedAt) && o.RawStatus != "" {
			firstAfter = o.At
			break
		}
	}
	require.False(t, firstAfter.IsZero())

	// Events: a step taken twice would carry a second StepStarted Event. The
	// killed leader may have lost an Event it had not sent yet, so at most one.
	stepEvents := map[int]int32{}
	list, err := suite.cluster.Client.CoreV1().Events(a.ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + a.primaryName})
	require.NoError(t, err)
	for _, e := range list.Items {
		for k := 1; k <= len(chaosSteps); k++ {
			if e.Reason == "StepStarted" && strings.Contains(e.Message, fmt.Sprintf("step %d/%d: canary weight", k, len(chaosSteps))) {
				stepEvents[k] += max(e.Count, 1)
			}
		}
	}
	for k := 1; k <= len(chaosSteps); k++ {
		assert.LessOrEqual(t, stepEvents[k], int32(1), "StepStarted Events for step %d", k)
	}
	t.Logf("rollout %s, %d status writes; first write by the new leader %.2fs after the kill; StepStarted Events per step %v; windows began %s; ended %s; test ran %.1fs",
		r, r.Statuses, firstAfter.Sub(killedAt).Seconds(), stepEvents, formatStarts(r.StepStarted), end.Message, time.Since(t0).Seconds())
}

// formatStarts renders each step's window start relative to the first.
func formatStarts(m map[int]time.Time) string {
	first, ok := m[1]
	if !ok {
		return "?"
	}
	var parts []string
	for k := 1; ; k++ {
		s, ok := m[k]
		if !ok {
			break
		}
		parts = append(parts, fmt.Sprintf("step %d at +%.1fs", k, s.Sub(first).Seconds()))
	}
	return strings.Join(parts, ", ")
}
