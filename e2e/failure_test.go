package e2e

import (
	"testing"
	"time"

	"github.com/ingress-canary/ingress-canary/e2e/traffic"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/weights"
)

// (b) A canary answering 5xx is rolled back at its first step, on the
// evidence, with a Warning that carries the figures, and stable traffic never
// failed.
func TestErroringCanaryRollsBack(t *testing.T) {
	t.Parallel()
	a := newApp(t, "errors", 2)
	require.NoError(t, suite.cluster.SetBehavior(a.version(2), 0.3, 0))
	g, stop := a.traffic(60, nil)
	defer stop()
	a.start(map[string]string{"canary-service": "web-v2", "steps": "20,50", "interval": "6s", "min-requests": "20"})
	st := a.waitPhase(60*time.Second, weights.PhaseFailed)
	assert.Equal(t, 1, st.Step, "rolled back after the first window")
	assert.Equal(t, 1, st.Failures)
	ev := a.waitEvent(10*time.Second, "Warning", "RolledBack", "evidence", "canary error rate")
	t.Logf("event: %s", ev)
	_, exists := a.canary()
	assert.False(t, exists, "canary Ingress deleted")
	assert.Equal(t, "web-v1", a.primary().Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name)

	// After rollback, every request goes to stable and succeeds, once ingress-nginx
	// has applied the deletion (its sync is rate-limited to one per ~3 s by default).
	drained := waitDrained(a, g, a.version(2))
	t.Logf("canary traffic stopped %.1fs after the rollback was written", drained.Seconds())
	before := g.Snapshot()
	time.Sleep(3 * time.Second)
	after := g.Snapshot().Sub(before)
	assert.Equal(t, 0, after.ByVersion[a.version(2)], "no traffic to the rolled-back canary")
	assert.Zero(t, after.NonSuccess)
	assert.Greater(t, after.Total, 100)
	versions := testappCounts(t)
	assert.Zero(t, versions[a.version(1)].Errors, "the stable version never failed")
	assert.Positive(t, versions[a.version(2)].Errors, "the canary did fail")
}

// (c) A slow canary breaks max-latency and is rolled back on the count of
// its requests slower than max-latency (100ms is a bucket bound of both
// ingress-nginx's and Traefik's histograms), not on an estimated p99.
func TestSlowCanaryRollsBack(t *testing.T) {
	t.Parallel()
	a := newApp(t, "slow", 2)
	require.NoError(t, suite.cluster.SetBehavior(a.version(2), 0, 300*time.Millisecond))
	_, stop := a.traffic(60, nil)
	defer stop()
	a.start(map[string]string{
		"canary-service": "web-v2", "steps": "30,60", "interval": "6s", "min-requests": "20", "max-latency": "100ms",
	})
	st := a.waitPhase(60*time.Second, weights.PhaseFailed)
	assert.Equal(t, 1, st.Step)
	require.NotNil(t, st.LastAnalysis)
	assert.Equal(t, 0.1, st.LastAnalysis.SlowAbove, "counted above the 100ms bucket")
	assert.Positive(t, st.LastAnalysis.Slow, "slow canary requests counted")
	assert.InDelta(t, st.LastAnalysis.Requests, st.LastAnalysis.Slow, 0.1*st.LastAnalysis.Requests+3, "every canary request is slow")
	assert.Zero(t, st.LastAnalysis.Stable.Slow, "stable answers at once")
	assert.Contains(t, st.Message, "max-latency")
	ev := a.waitEvent(10*time.Second, "Warning", "RolledBack", "max-latency", "slower than 0.1s: canary")
	t.Logf("event: %s", ev)
	_, exists := a.canary()
	assert.False(t, exists)
}

// waitDrained waits until version has had no response for 2 s in a row, and
// returns how long after the status's last update that began.
func waitDrained(a *app, g *traffic.Generator, version string) time.Duration {
	a.t.Helper()
	updated := *a.status().Updated
	last, lastCount := time.Now(), g.Snapshot().ByVersion[version]
	a.eventually(20*time.Second, version+" drained", func() bool {
		if n := g.Snapshot().ByVersion[version]; n != lastCount {
			last, lastCount = time.Now(), n
		}
		return time.Since(last) > 2*time.Second
	})
	return last.Sub(updated)
}
