package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

func mustStatus(t *testing.T, raw string) weights.Status {
	t.Helper()
	st, err := weights.ParseStatus(raw)
	require.NoError(t, err)
	return st
}

func TestRenderStatusProgressing(t *testing.T) {
	v := statusView{
		Namespace: "shop", Name: "web", Revision: "web-v2", Stable: "web-v1",
		Strategy: annotations.StrategyCanary, Plan: annotations.DefaultSpec().Steps,
		HasStatus: true, Status: mustStatus(t, progressing), Quantile: 0.99,
		Pending: []string{annotations.KeyPause},
		Events: []eventLine{
			{Time: testNow.Add(-5 * time.Minute), Type: "Normal", Reason: "RolloutStarted", Message: "rolling out web-v2\nin place of web-v1", Count: 1},
			{Time: testNow.Add(-2 * time.Minute), Type: "Normal", Reason: "StepAdvanced", Message: "weight 10 %", Count: 3},
		},
		Now: testNow,
	}
	var b bytes.Buffer
	renderStatus(&b, v)
	want := `Ingress:     shop/web
Phase:       Progressing
Canary:      web-v2 replacing web-v1
Progress:    [###############---------------] step 2/4
Steps:       5%  [10%]  25%  50%  then promote
Weight:      10%
Next check:  in 42s
Message:     step 2/4: weight 10 %
Pending:     ingress-canary.dev/pause (not yet acted on)

Last analysis: Pass, 30s ago
                CANARY   STABLE
  requests      5120     48210
  error rate    0.20%    0.15%
  p99 latency   0.081s   0.075s

Events:
  LAST SEEN   TYPE     REASON           MESSAGE
  5m          Normal   RolloutStarted   rolling out web-v2 in place of web-v1
  2m (x3)     Normal   StepAdvanced     weight 10 %
`
	assert.Equal(t, want, b.String())
}

func TestRenderStatusBeforeTheController(t *testing.T) {
	var b bytes.Buffer
	renderStatus(&b, statusView{Namespace: "shop", Name: "web", Revision: "web-v2", Stable: "web-v1", Now: testNow,
		Problems: []string{`annotation ingress-canary.dev/steps="10,5" is invalid: strictly increasing weights, got 5 after 10`}})
	out := b.String()
	assert.Contains(t, out, "Phase:    <none> (the controller has not written a status yet)")
	assert.Contains(t, out, `Problem:  annotation ingress-canary.dev/steps="10,5" is invalid`)
	assert.NotContains(t, out, "Progress:")
	assert.Contains(t, out, "Events: <none>")
}

func TestProgressBar(t *testing.T) {
	plan := annotations.DefaultSpec().Steps
	tests := []struct {
		name   string
		status weights.Status
		plan   []annotations.Weight
		want   string
	}{
		{"before the first step", weights.Status{Phase: weights.PhaseProgressing}, plan, "[------------------------------] step 0/4"},
		{"last step", weights.Status{Phase: weights.PhasePaused, Step: 4, Steps: 4}, plan, "[##############################] step 4/4"},
		{"promoting", weights.Status{Phase: weights.PhasePromoting, Step: 4}, plan, "[##############################] promoting"},
		{"succeeded", weights.Status{Phase: weights.PhaseSucceeded, Step: 4}, plan, "[##############################] done"},
		{"failed keeps its step", weights.Status{Phase: weights.PhaseFailed, Step: 1}, plan, "[#######-----------------------] step 1/4"},
		{"status count wins over the plan", weights.Status{Phase: weights.PhaseProgressing, Step: 1, Steps: 2}, plan, "[###############---------------] step 1/2"},
		{"no plan known", weights.Status{Phase: weights.PhaseInvalid}, nil, "[------------------------------]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, progressBar(statusView{Status: tt.status, Plan: tt.plan}))
		})
	}
}

func TestStepList(t *testing.T) {
	fine := []annotations.Weight{50, 100, 500}
	assert.Equal(t, "[0.5%]  1%  5%  then promote",
		stepList(statusView{Plan: fine, Status: weights.Status{Phase: weights.PhaseProgressing, Step: 1}}))
	assert.Equal(t, "0.5%  1%  5%  then promote",
		stepList(statusView{Plan: fine, Status: weights.Status{Phase: weights.PhaseSucceeded, Step: 3}}))
	assert.Equal(t, "preview at 0% (header/cookie only), then switch to 100%",
		stepList(statusView{Plan: []annotations.Weight{0}, Strategy: annotations.StrategyBlueGreen}))
	assert.Empty(t, stepList(statusView{}))
}

func TestNextCheck(t *testing.T) {
	soon, past := testNow.Add(90*time.Second), testNow.Add(-time.Second)
	assert.Equal(t, "in 90s", nextCheck(&soon, testNow))
	assert.Equal(t, "due now", nextCheck(&past, testNow))
	assert.Equal(t, "<none>", nextCheck(nil, testNow))
}

func TestFigures(t *testing.T) {
	assert.Equal(t, "p99", quantileLabel(0.99))
	assert.Equal(t, "p99.9", quantileLabel(0.999))
	assert.Equal(t, "p50", quantileLabel(0.5))
	assert.Equal(t, "0.20%", formatRatio(0.002))
	assert.Equal(t, "?", formatRatio(-1))
	assert.Equal(t, "?", formatRequests(-1))
	assert.Equal(t, "1.250s", formatSeconds(1.25))
	assert.Equal(t, "n/a", formatSeconds(-1))
	assert.Empty(t, summarizeAnalysis(nil, 0.99))
	assert.Equal(t, "", formatWeight(weights.StatusWeight{}))
}

func TestUnavailableAnalysisShowsNoFigures(t *testing.T) {
	st := mustStatus(t, `{"phase":"Progressing","step":1,"weight":"5","lastAnalysis":{"outcome":"Unavailable","requests":0,"errorRate":0,"latencySeconds":0,"at":"2026-11-22T04:59:58Z"}}`)
	var b bytes.Buffer
	renderStatus(&b, statusView{HasStatus: true, Status: st, Now: testNow})
	assert.Contains(t, b.String(), "Last analysis: Unavailable, 2s ago (Prometheus could not be asked)\n")
	assert.NotContains(t, b.String(), "CANARY")
	assert.Equal(t, "Unavailable", summarizeAnalysis(st.LastAnalysis, 0.99))
}

func TestEventsStayOnOneLine(t *testing.T) {
	var b bytes.Buffer
	renderEvents(&b, []eventLine{{Type: "Warning", Reason: "Invalid", Message: "a\n\tb"}}, testNow)
	assert.Equal(t, 4, strings.Count(b.String(), "\n"), "blank line, title, header, one Event")
	assert.Contains(t, b.String(), "<unknown>   Warning   Invalid   a b")
}

func TestRenderStatusShowsTheEvidenceAndForecast(t *testing.T) {
	st := mustStatus(t, progressing)
	st.Judgement = &weights.StepJudgement{Regression: 0.311, RollbackAt: 100, Progress: 0.71, Within: 2, Remaining: "9m25s", CanaryRPS: 2.5}
	st.LastAnalysis.Slow, st.LastAnalysis.SlowAbove = 12, 0.25
	v := statusView{Namespace: "shop", Name: "web", Revision: "web-v2", HasStatus: true, Status: st, Quantile: 0.99, Now: testNow}
	var b bytes.Buffer
	renderStatus(&b, v)
	assert.Contains(t, b.String(), "Evidence:    of regression 0.311 (rollback at 100); 71% of the way to showing the canary no worse than 2× stable\n")
	assert.Contains(t, b.String(), "Forecast:    about 9m25s more at 2.5 canary req/s, if the canary is as healthy as stable\n")
	assert.Contains(t, b.String(), "slower than 0.25s   12")

	st.Judgement.Remaining = ""
	b.Reset()
	renderStatus(&b, statusView{Namespace: "shop", Name: "web", HasStatus: true, Status: st, Now: testNow})
	assert.Contains(t, b.String(), "Forecast:    not expected to decide within max-step-duration at 2.5 canary req/s")
}
