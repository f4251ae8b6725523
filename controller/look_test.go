package controller

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

// readyAnalyzer answers a look "not yet" while pending is set, as
// prom.Analyzer.LookOrReady does while a Prometheus read is in flight.
type readyAnalyzer struct {
	*stubAnalyzer
	pending chan struct{}
	waited  int
}

func (r *readyAnalyzer) LookOrReady(ctx context.Context, t analysis.Target, th analysis.Thresholds) (analysis.Verdict, <-chan struct{}) {
	if r.pending != nil {
		r.waited++
		return analysis.Verdict{}, r.pending
	}
	return r.Look(ctx, t, th), nil
}

// A due step whose look waits for Prometheus frees its worker: the sync
// writes nothing and ends, and the key is queued again when the read lands.
func TestDueLookThatWaitsForPrometheusRequeuesInsteadOfBlocking(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(nil)), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	ra := &readyAnalyzer{stubAnalyzer: f.analyzer}
	f.ctrl.analyzer = ra
	f.sync("web")
	require.Equal(t, "10", f.status("web").Weight.String())

	ra.pending = make(chan struct{})
	f.now = t0.Add(time.Minute)
	assert.Zero(t, f.sync("web"), "nothing to requeue after: the read's landing queues it")
	assert.Empty(t, f.writes(), "no status, no weight while the look waits")
	assert.Equal(t, "10", f.status("web").Weight.String())
	assert.Zero(t, f.ctrl.urgent.Len())

	close(ra.pending)
	ra.pending = nil
	require.NoError(t, wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 5*time.Second, true,
		func(context.Context) (bool, error) { return f.ctrl.urgent.Len() == 1, nil }), "queued again when the read landed")
	key, _ := f.ctrl.urgent.Get()
	f.ctrl.urgent.Done(key)
	assert.Equal(t, ns+"/web", key)
	f.sync("web")
	assert.Equal(t, "50", f.status("web").Weight.String(), "the step is taken once the look answers")
}

// A look that is not due (an event's sync during an open step) and would
// wait is skipped: the scan and the due look cover it.
func TestLookThatIsNotDueIsSkippedWhileWaiting(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(map[string]string{annotations.KeyInterval: "10m"})), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	ra := &readyAnalyzer{stubAnalyzer: f.analyzer, pending: make(chan struct{})}
	f.ctrl.analyzer = ra
	f.ctrl.opts.AnalysisTick = 5 * time.Second
	f.sync("web")
	f.now = t0.Add(time.Minute)
	f.sync("web")
	assert.Equal(t, 1, ra.waited, "a tick-old step is looked at by its syncs")
	assert.Empty(t, f.writes())
	close(ra.pending)
	time.Sleep(10 * time.Millisecond)
	assert.Zero(t, f.ctrl.urgent.Len(), "nothing queued for a look that was not due")
}

// The sync that acts on the scan's decision measures how late it acted,
// from the scan's finding to the status and the traffic written.
func TestRollbackLatenessIsMeasuredFromTheScansDecision(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(nil)), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.ctrl.opts.AnalysisTick = 5 * time.Second
	f.sync("web")
	f.analyzer.verdict = measured(150, 45, 1350, 0)
	f.now = t0.Add(15 * time.Second)
	f.ctrl.scanOpenWindows(t.Context())
	require.Equal(t, 1, f.ctrl.rollbacks.Len(), "the scan queued the rollback, on the rollback queue")
	assert.Zero(t, f.ctrl.urgent.Len())
	time.Sleep(30 * time.Millisecond) // the queue's wait
	f.sync("web")
	require.Equal(t, weights.PhaseFailed, f.status("web").Phase)

	var m dto.Metric
	require.NoError(t, f.ctrl.metrics.decisionLateness.WithLabelValues("rollback").(prometheus.Histogram).Write(&m))
	assert.Equal(t, uint64(1), m.GetHistogram().GetSampleCount())
	assert.GreaterOrEqual(t, m.GetHistogram().GetSampleSum(), 0.03)
	_, decided := f.ctrl.openWindows.decided(ns + "/web")
	assert.False(t, decided, "the window is closed with the rollback")
}

// A rollback the scan found, whose sync's own look would wait for a
// Prometheus read, acts on the scan's look at once: it never waits for a
// refresh.
func TestRollbackActsOnTheScansLookRatherThanWait(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(nil)), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	ra := &readyAnalyzer{stubAnalyzer: f.analyzer}
	f.ctrl.analyzer = ra
	f.ctrl.opts.AnalysisTick = 5 * time.Second
	f.sync("web")
	f.analyzer.verdict = measured(150, 45, 1350, 0)
	f.now = t0.Add(15 * time.Second)
	f.ctrl.scanOpenWindows(t.Context())
	key, _ := f.ctrl.rollbacks.Get()
	f.ctrl.rollbacks.Done(key)

	ra.pending = make(chan struct{})
	f.analyzer.verdict = measured(0, 0, 0, 0) // what a new look would say, were it ready
	f.sync("web")
	assert.Equal(t, 1, ra.waited, "the sync's own look was not ready")
	st := f.status("web")
	assert.Equal(t, weights.PhaseFailed, st.Phase, st.Message)
	close(ra.pending)
	time.Sleep(10 * time.Millisecond)
	assert.Zero(t, f.ctrl.rollbacks.Len()+f.ctrl.urgent.Len(), "nothing left to do")
}

// A regression the scan finds after a pass that no sync has acted on yet
// sends the key to the rollback queue; lateness still counts from the first
// decision.
func TestRegressionAfterAPassGoesOnTheRollbackQueue(t *testing.T) {
	o := newOpenWindows()
	since := t0.Add(-time.Minute)
	o.byKey["ns/web"] = openWindow{target: analysis.Target{Since: since}}
	assert.True(t, o.decide("ns/web", since, t0, analysis.Verdict{}, analysis.Pass))
	assert.False(t, o.regressing("ns/web"))
	assert.True(t, o.decide("ns/web", since, t0.Add(5*time.Second), analysis.Verdict{}, analysis.Fail))
	assert.True(t, o.regressing("ns/web"))
	d, ok := o.decided("ns/web")
	require.True(t, ok)
	assert.Equal(t, t0, d.at)
	assert.False(t, o.decide("ns/gone", since, t0, analysis.Verdict{}, analysis.Fail))
	assert.False(t, o.regressing("ns/gone"), "no open window, nothing to decide")
}

// A scan's verdict on a step that a sync closed while the scan ran (it
// works from a copy of the windows, and may wait for Prometheus) does not
// mark the next step decided: that step's rollback would count as late from
// the old step's pass.
func TestAVerdictOnAClosedStepDecidesNothing(t *testing.T) {
	o := newOpenWindows()
	step1, step2 := t0.Add(-time.Minute), t0
	o.byKey["ns/web"] = openWindow{target: analysis.Target{Since: step2}}
	assert.False(t, o.decide("ns/web", step1, t0.Add(time.Second), analysis.Verdict{}, analysis.Pass), "step 1 closed")
	_, ok := o.decided("ns/web")
	assert.False(t, ok)
	assert.True(t, o.decide("ns/web", step2, t0.Add(15*time.Second), analysis.Verdict{}, analysis.Fail))
	d, ok := o.decided("ns/web")
	require.True(t, ok)
	assert.Equal(t, t0.Add(15*time.Second), d.at, "the rollback's lateness counts from its own decision")
}

// baselineReadyAnalyzer answers a baseline the way prom.Analyzer's
// BaselineOrReady does: not yet, until pending closes.
type baselineReadyAnalyzer struct {
	*stubAnalyzer
	pending chan struct{}
}

func (r *baselineReadyAnalyzer) BaselineOrReady(ctx context.Context, t analysis.Target, until time.Time) (analysis.Baseline, <-chan struct{}, error) {
	select {
	case <-r.pending:
		b, err := r.Baseline(ctx, t, until)
		return b, nil, err
	default:
		return analysis.Baseline{}, r.pending, nil
	}
}

// A rollout's start does not wait for the range query of stable's last
// hour: the first step's weight is out, and the status is seeded by the sync
// the query's landing queues, on the event queue.
func TestBaselineSeedingNeverWaitsForPrometheus(t *testing.T) {
	f := newFixture(t, primary("web", optedIn(nil)), service("web-v1"), service("web-v2"), readySlice("web-v2"))
	f.analyzer.baseline = analysis.Baseline{RPS: 200, ErrorRate: 0.005, Span: time.Hour, Step: 30 * time.Second}
	for range 120 {
		f.analyzer.baseline.Dispersion.Add(30, 6000)
	}
	ra := &baselineReadyAnalyzer{stubAnalyzer: f.analyzer, pending: make(chan struct{})}
	f.ctrl.analyzer = ra
	f.sync("web")
	assert.Equal(t, []string{
		"patch ingresses web application/merge-patch+json", // the first step
		"create ingresses web-canary",
	}, f.writes(), "no seeding while the read is out")
	assert.Equal(t, "10", f.status("web").Weight.String())
	assert.Nil(t, f.status("web").Dispersion)
	drain := func() {
		for f.ctrl.queue.Len() > 0 { // the informer's echoes of the writes
			key, _ := f.ctrl.queue.Get()
			f.ctrl.queue.Done(key)
		}
	}
	drain()
	time.Sleep(20 * time.Millisecond)
	drain()

	close(ra.pending)
	require.NoError(t, wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 5*time.Second, true,
		func(context.Context) (bool, error) { return f.ctrl.queue.Len() == 1, nil }), "queued again when the read landed")
	key, _ := f.ctrl.queue.Get()
	f.ctrl.queue.Done(key)
	assert.Equal(t, ns+"/web", key)
	assert.Zero(t, f.ctrl.urgent.Len(), "seeding is not a step")
	f.sync("web")
	assert.Equal(t, []string{"patch ingresses web application/merge-patch+json"}, f.writes(), "seeded")
	require.NotNil(t, f.status("web").Dispersion)
	assert.Equal(t, 120.0, f.status("web").Dispersion.Intervals)
	assert.Contains(t, f.events(), "Normal Forecast at 200 rps (0.50% errors), a healthy canary should take about 2m0s (stable's traffic over the last 1h0m0s, errors 1× as clustered as independent ones)")
}
