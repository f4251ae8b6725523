package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultsPlanDisjointRuns(t *testing.T) {
	cfg, err := parseFlags(nil)
	require.NoError(t, err)
	assert.Equal(t, []RunSpec{{0, 100, true}, {1, 1000, true}, {2, 1000, false}}, cfg.Runs())
	f, err := planFleet(cfg)
	require.NoError(t, err)
	require.Len(t, f.runs, 3)
	seen := map[int]bool{}
	namespaces := map[string]bool{}
	for k, run := range f.runs {
		assert.Len(t, run, cfg.Runs()[k].Rollouts)
		for _, i := range run {
			assert.False(t, seen[i], "Ingress %d in two runs", i)
			seen[i] = true
			p := f.ingresses[i]
			assert.Equal(t, k, p.Run)
			assert.GreaterOrEqual(t, p.Rate, 50.0, "enough canary requests at 10 %% in 30 s")
			namespaces[p.Namespace] = true
		}
	}
	assert.Len(t, namespaces, 100, "every namespace has rollouts")
	p, ok := f.lookup("ns042", "app04201")
	require.True(t, ok)
	assert.Equal(t, "app04201-v2", p.Canary())

	cfg, err = parseFlags([]string{"-rollouts", "1000", "-compare", "0", "-repeat", "3", "-trim", "on"})
	require.NoError(t, err)
	assert.Equal(t, []RunSpec{{0, 1000, true}, {1, 1000, true}, {2, 1000, true}}, cfg.Runs(), "each repeat is a run of its own")
	_, err = parseFlags([]string{"-repeat", "0"})
	assert.ErrorContains(t, err, "-repeat 0")

	_, err = parseFlags([]string{"-ingresses", "2000", "-rollouts", "1000"})
	assert.ErrorContains(t, err, "too few")
	_, err = parseFlags([]string{"-steps", "50,10"})
	assert.ErrorContains(t, err, "-steps")
	_, err = parseFlags([]string{"-trim", "maybe"})
	assert.ErrorContains(t, err, "-trim")
}

// A failing canary errs like stable at the first step, and regresses past it.
func TestFailingCanaryRegressesPastItsFirstStep(t *testing.T) {
	cfg, err := parseFlags([]string{"-rollouts", "1000", "-compare", "0", "-trim", "on", "-failing", "20", "-steps", "5,25"})
	require.NoError(t, err)
	f, err := planFleet(cfg)
	require.NoError(t, err)
	failing, healthy := f.ingresses[f.runs[0][0]], f.ingresses[f.runs[0][20]]
	assert.Equal(t, failing.Errors, failing.canaryErrors(0.05), "at the first step")
	assert.Equal(t, failingErrors, failing.canaryErrors(0.25), "at the second")
	assert.Equal(t, failingErrors, failing.canaryErrors(1), "promoted")
	assert.Equal(t, healthy.Errors, healthy.canaryErrors(0.25))
}
