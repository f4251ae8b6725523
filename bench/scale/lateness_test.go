package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/weights"
)

func TestPercentilesNearestRank(t *testing.T) {
	assert.Equal(t, Percentiles{}, percentiles(nil))
	var d []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, Percentiles{N: 100, P50: 50 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}, percentiles(d))
	assert.Equal(t, Percentiles{N: 1, P50: time.Second, P99: time.Second, Max: time.Second}, percentiles([]time.Duration{time.Second}))
	assert.Equal(t, 100*time.Millisecond, d[0], "the input is left alone")
}

func TestClassifyMeasuresLatenessFromTheDueTime(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	at := func(s float64) *time.Time { v := t0.Add(time.Duration(s * float64(time.Second))); return &v }
	step := func(n int, started, next float64) weights.Status {
		return weights.Status{Phase: weights.PhaseProgressing, Step: n, Steps: 3, Weight: weights.WeightOf(1000), StepStarted: at(started), NextCheck: at(next)}
	}
	seen := *at(30.4)

	tr, ok := classify(step(1, 0, 30), step(2, 30.1, 60.1), seen)
	assert.True(t, ok)
	assert.Equal(t, kindAdvance, tr.Kind)
	assert.Equal(t, 400*time.Millisecond, tr.Late())
	assert.Equal(t, 100*time.Millisecond, tr.ReportedLate())

	promoting := weights.Status{Phase: weights.PhasePromoting, Stage: weights.StageFullWeight, StageStarted: at(30.2), Weight: weights.WeightOf(10000)}
	tr, _ = classify(step(3, 0, 30), promoting, seen)
	assert.Equal(t, kindAdvance, tr.Kind, "promotion is the last step's advance")
	assert.Equal(t, 200*time.Millisecond, tr.ReportedLate())

	held := step(1, 0, 60.3)
	held.NoData = 1
	held.LastAnalysis = &weights.LastAnalysis{Outcome: analysis.NoData, At: *at(30.3)}
	tr, _ = classify(step(1, 0, 30), held, seen)
	assert.Equal(t, kindHold, tr.Kind)
	assert.Equal(t, 300*time.Millisecond, tr.ReportedLate())

	switched := promoting
	switched.Stage, switched.StageStarted = weights.StageSwitched, at(35.2)
	for name, tc := range map[string]struct {
		old, cur weights.Status
		want     string
	}{
		"start":    {weights.Status{}, step(1, 0, 30), kindStart},
		"ready":    {weights.Status{Phase: weights.PhaseProgressing, Weight: weights.WeightOf(0)}, step(1, 0, 30), kindStart},
		"switched": {promoting, switched, kindStage},
		"promoted": {switched, weights.Status{Phase: weights.PhaseSucceeded, Weight: weights.WeightOf(10000)}, kindDone},
		"rollback": {step(2, 0, 30), weights.Status{Phase: weights.PhaseFailed, Weight: weights.WeightOf(0)}, kindFailed},
	} {
		tr, ok := classify(tc.old, tc.cur, seen)
		assert.True(t, ok, name)
		assert.Equal(t, tc.want, tr.Kind, name)
	}
	updated := step(2, 0, 30)
	updated.Updated = at(31)
	_, ok = classify(step(2, 0, 30), updated, seen)
	assert.False(t, ok, "a new updated time alone is no change")

	got, reported := lateness([]Transition{{Kind: kindHold, Seen: seen, Due: t0}, {Kind: kindAdvance, Seen: seen, Due: *at(30), Reported: *at(30.1)}})
	assert.Equal(t, 1, got.N, "only advances count")
	assert.Equal(t, 400*time.Millisecond, got.Max)
	assert.Equal(t, 100*time.Millisecond, reported.P50)
}
