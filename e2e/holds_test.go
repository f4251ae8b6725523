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

// (e) No traffic: the step holds and says how far its evidence got, the
// weight never rises, it never promotes, and at max-step-duration the
// rollout fails as inconclusive and says why.
func TestNoTrafficHoldsThenFails(t *testing.T) {
	t.Parallel()
	a := newApp(t, "quiet", 2)
	a.start(map[string]string{
		"canary-service": "web-v2", "steps": "10,50", "interval": "3s", "min-requests": "20", "max-step-duration": "12s",
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
	assert.Contains(t, st.Message, "inconclusive at this traffic after 12")
	held := 0
	for _, e := range a.events() {
		if containsAll(e, []string{"Normal StepHeld", "holding at weight 10 %", "of the way"}) {
			held++
		}
	}
	assert.Equal(t, 1, held, "a hold is reported once per step: %v", a.events())
	a.waitEvent(5*time.Second, "Warning", "RolledBack", "inconclusive")
}

// (e2) A healthy canary on little traffic: its step lasts longer than
// interval, until the evidence shows it healthy, with the evidence so far
// and a forecast in the status meanwhile; then it passes and promotes.
func TestLowTrafficStepOutlastsInterval(t *testing.T) {
	t.Parallel()
	a := newApp(t, "lowtraffic", 2)
	_, stop := a.traffic(8, nil)
	defer stop()
	// At 4 canary rps a spotless canary is shown below 5 % after about 85
	// requests: some 20 s, five intervals.
	a.start(map[string]string{"canary-service": "web-v2", "steps": "50", "interval": "4s", "min-requests": "20", "max-error-rate": "5%"})
	step := a.waitStatus(60*time.Second, "step 1", func(s weights.Status) bool { return s.Step == 1 && s.StepStarted != nil })
	// The first hold may come before the data plane has applied the weight
	// (no canary request yet: no forecast); a later one has the traffic.
	held := a.waitStatus(30*time.Second, "a hold with its forecast", func(s weights.Status) bool {
		return s.Judgement != nil && s.Judgement.Remaining != "" && s.Phase == weights.PhaseProgressing
	})
	t.Logf("holding: %s", held.Message)
	assert.Contains(t, held.Message, "of the way to showing the canary no worse than")
	assert.Contains(t, held.Message, "more at")
	assert.NotEmpty(t, held.Judgement.Remaining, "a forecast at the current traffic")
	assert.Greater(t, held.Judgement.Progress, 0.0)
	require.NotNil(t, held.Evidence)
	assert.Positive(t, held.Evidence.Errors.Open.CanaryRequests)
	promoting := a.waitPhase(90*time.Second, weights.PhasePromoting)
	require.NotNil(t, promoting.StageStarted)
	took := promoting.StageStarted.Sub(*step.StepStarted)
	t.Logf("step 1 lasted %s (interval 4s): %s", took.Round(time.Second), promoting.Message)
	assert.Greater(t, took, 8*time.Second, "the step outlasted interval until the evidence was there")
	a.waitEvent(5*time.Second, "Normal", "AnalysisPassed", "canary shown")
	a.waitPhase(60*time.Second, weights.PhaseSucceeded)
	a.waitEvent(5*time.Second, "Normal", "StepHeld", "holding at weight 50 %")
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
