package main

import (
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

// fixedWindow is the step machine the controller ran before issue 15, kept
// here to simulate today's judge and Flagger's rule on the same traffic: a
// window of interval per look; a pass takes the next step; a fail counts
// toward failure-limit and opens a new window; any other verdict holds the
// window (it keeps its start) and counts toward no-data-limit; an interim
// Fail acts at once.
type fixedWindow struct {
	spec                   *annotations.Spec
	phase                  weights.Phase
	step                   int // 1-based
	stepStarted, nextCheck time.Duration
	failures, noData       int
	noDataRollback         bool
}

func newFixedWindow(spec *annotations.Spec) *fixedWindow {
	return &fixedWindow{spec: spec, phase: weights.PhaseProgressing, step: 1, nextCheck: spec.Interval}
}

// share is the canary's share of the traffic at the current step.
func (m *fixedWindow) share() float64 { return m.spec.Plan()[m.step-1].Ratio() }

// decide acts on a verdict at now; due says the window's time has come.
func (m *fixedWindow) decide(v analysis.Verdict, due bool, now time.Duration) {
	a := m.spec.Analysis
	switch v.Outcome {
	case analysis.Pass:
		if !due {
			return
		}
		m.noData = 0
		if m.step == len(m.spec.Plan()) {
			m.phase = weights.PhasePromoting
			return
		}
		m.step++
		m.newWindow(now)
	case analysis.Fail:
		m.noData = 0
		if m.failures++; m.failures > a.FailureLimit {
			m.phase = weights.PhaseFailed
			return
		}
		m.newWindow(now)
	default:
		if !due {
			return
		}
		if m.noData++; m.noData > a.NoDataLimit {
			m.phase, m.noDataRollback = weights.PhaseFailed, true
			return
		}
		m.nextCheck = now + m.spec.Interval
	}
}

func (m *fixedWindow) newWindow(now time.Duration) {
	m.stepStarted, m.nextCheck = now, now+m.spec.Interval
}
