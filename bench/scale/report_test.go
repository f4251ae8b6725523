package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/weights"
)

func TestReportRendersPartialRuns(t *testing.T) {
	cfg, err := parseFlags(nil)
	require.NoError(t, err)
	t0 := time.Unix(1_800_000_000, 0)
	m := &period{from: t0, to: t0.Add(100 * time.Second), queries: 60, components: map[string]float64{"prometheus": 0.5},
		writes: map[string]float64{"ingresses": 20, "ingresses PATCH": 18, "ingresses DELETE": 2, "ingresses DELETE/404": 1, "events": 12}}
	due := t0.Add(10 * time.Second)
	res := &Result{Runs: []*RunResult{
		{Spec: RunSpec{0, 100, true}, Measured: m, Quiet: m, Tick: 5 * time.Second, Phases: map[weights.Phase]int{weights.PhaseSucceeded: 100},
			Transitions: []Transition{{Kind: kindAdvance, Seen: due.Add(time.Second), Due: due, Reported: due}}},
		{Spec: RunSpec{1, 1000, true}, Err: assert.AnError}, // stopped before measuring
	}}
	var b strings.Builder
	WriteReport(&b, cfg, res)
	out := b.String()
	assert.Contains(t, out, "| 0: 100 rollouts, trim on | 1 / 300 | 1.00 s / 1.00 s / 1.00 s |")
	assert.Contains(t, out, "20 (20.00): PATCH 18, DELETE 2 | DELETE 404 1 |")
	assert.Contains(t, out, "| 0: 100 rollouts, trim on | 100 | 20.0 | 60 | 3.00 |")
	assert.Contains(t, out, "controller RSS ≤ 80 MiB (run 1: 1000 rollouts, trim on)")
	assert.Contains(t, out, "Stopped early: "+assert.AnError.Error())
}
