package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/e2e/testapp"
	"github.com/ingress-canary/ingress-canary/weights"
)

func testappCounts(t *testing.T) map[string]testapp.VersionInfo {
	t.Helper()
	list, err := suite.cluster.Versions(context.Background())
	require.NoError(t, err)
	out := map[string]testapp.VersionInfo{}
	for _, v := range list {
		out[v.Name] = v
	}
	return out
}

// (e) No traffic: the step holds, the weight never rises, it never promotes, and
// after no-data-limit checks the rollout fails and says why.
func TestNoTrafficHoldsThenFails(t *testing.T) {
	t.Parallel()
	a := newApp(t, "quiet", 2)
	a.start(map[string]string{
		"canary-service": "web-v2", "steps": "10,50", "interval": "3s", "min-requests": "20", "no-data-limit": "3",
	})
	seen := map[int]bool{}
	a.eventually(60*time.Second, "rollout ends", func() bool {
		st := a.status()
		seen[st.Step] = true
		assert.NotEqual(t, weights.PhasePromoting, st.Phase)
		assert.NotEqual(t, weights.PhaseSucceeded, st.Phase)
		return st.Phase == weights.PhaseFailed
	})
	assert.False(t, seen[2], "never advanced past step 1")
	st := a.status()
	assert.Contains(t, st.Message, "no verdict for 4 checks")
	held := 0
	for _, e := range a.events() {
		if containsAll(e, []string{"Normal StepHeld", "canary requests, need 20"}) {
			held++
		}
	}
	assert.GreaterOrEqual(t, held, 1, "holds are reported as Events: %v", a.events())
	a.waitEvent(5*time.Second, "Warning", "RolledBack", "no verdict")
}

// (f) Prometheus stopped mid-rollout: the step holds and says so; once Prometheus
// is back, the rollout resumes and completes. Sequential: it stops the shared Prometheus.
func TestPrometheusOutageHoldsThenResumes(t *testing.T) {
	a := newApp(t, "outage", 2)
	_, stop := a.traffic(60, nil)
	defer stop()
	a.start(map[string]string{"canary-service": "web-v2", "steps": "20,50", "interval": "5s", "min-requests": "20"})
	a.waitStatus(60*time.Second, "step 1", func(s weights.Status) bool { return s.Step == 1 && s.StepStarted != nil })
	require.NoError(t, suite.cluster.StopPrometheus())
	restarted := false
	defer func() {
		if !restarted {
			_ = suite.cluster.StartPrometheus()
		}
	}()
	a.waitEvent(30*time.Second, "Warning", "PrometheusUnavailable", "holding at weight 20")
	held := a.status()
	assert.Equal(t, 1, held.Step, "no step taken while Prometheus is down")
	assert.Equal(t, weights.PhaseProgressing, held.Phase)
	time.Sleep(6 * time.Second)
	assert.Equal(t, 1, a.status().Step, "still holding a full interval later")

	require.NoError(t, suite.cluster.StartPrometheus())
	restarted = true
	a.waitPhase(90*time.Second, weights.PhaseSucceeded)
}
