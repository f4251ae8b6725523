package weights

import (
	"fmt"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
)

// progress moves a rollout on by its phase when no command decided.
func (m *machine) progress() {
	st := m.in.Status
	switch st.Phase {
	case PhaseProgressing:
		if st.Step < 1 {
			m.enterFirstStep()
			return
		}
		m.judge()
	case PhasePaused:
		m.keepTraffic()
	default: // Succeeded or Failed for this revision: nothing carries traffic.
		m.noCanary()
		m.keepStableWhileDue()
	}
}

// judge applies the verdict of the current window, if one was due.
func (m *machine) judge() {
	m.keepTraffic()
	v := m.in.Verdict
	if v == nil && m.in.Interim != nil && m.in.Interim.Outcome == analysis.Fail {
		v = m.in.Interim
	}
	if v == nil {
		if m.next.NextCheck != nil {
			m.requeue = max(m.next.NextCheck.Sub(m.in.Now), 0)
		}
		return
	}
	m.recordAnalysis(*v)
	switch v.Outcome {
	case analysis.Pass:
		m.next.NoData = 0
		m.passed(v.Reason)
	case analysis.Fail:
		m.next.NoData = 0
		m.failed(v.Reason)
	default:
		m.held(*v)
	}
}

func (m *machine) recordAnalysis(v analysis.Verdict) {
	c := v.Measurement.Canary
	m.next.LastAnalysis = &LastAnalysis{
		Outcome: v.Outcome, Requests: c.Requests, ErrorRate: c.ErrorRate,
		LatencySeconds: c.LatencySeconds, Stable: v.Measurement.Stable, At: m.in.Now,
	}
}

func (m *machine) passed(figures string) {
	st, plan, spec := m.in.Status, m.plan(), m.in.Spec
	why := fmt.Sprintf("step %d/%d passed (%s)", st.Step, len(plan), figures)
	switch {
	case st.Step < len(plan):
		m.enterStep(st.Step+1, why)
	case spec.Promotion == annotations.PromotionManual:
		m.next.Phase = PhasePaused
		m.next.AwaitingPromotion = true
		m.next.NextCheck = nil
		m.next.Message = why + "; waiting for " + annotations.KeyPromote + `: "true"`
		m.event("AwaitingPromotion", "%s", m.next.Message)
	default:
		m.event("AnalysisPassed", "%s", why)
		m.enterPromoting()
	}
}

func (m *machine) failed(figures string) {
	m.next.Failures++
	limit := m.in.Spec.Analysis.FailureLimit
	if m.next.Failures > limit {
		m.rollback(fmt.Sprintf("analysis failed at step %d/%d: %s", m.in.Status.Step, len(m.plan()), figures))
		return
	}
	m.newWindow(fmt.Sprintf("analysis failed (%d of %d tolerated): %s", m.next.Failures, limit, figures))
	m.warn("AnalysisFailed", "%s", m.next.Message)
}

// held is too little data or no Prometheus: never a regression, never progress.
// The window keeps its start, so a quiet service accumulates data until it can be
// judged, and fails only after no-data-limit checks in a row.
func (m *machine) held(v analysis.Verdict) {
	m.next.NoData++
	limit := m.in.Spec.Analysis.NoDataLimit
	if m.next.NoData > limit {
		m.rollback(fmt.Sprintf("no verdict for %d checks in a row (%s: %s)", m.next.NoData, annotations.KeyNoDataLimit+" is "+fmt.Sprint(limit), v.Reason))
		return
	}
	m.next.NextCheck = m.at(m.in.Now.Add(m.in.Spec.Interval))
	m.next.Message = fmt.Sprintf("holding at weight %s %%: %s (%d of %d checks without a verdict)", m.next.Weight, v.Reason, m.next.NoData, limit)
	m.requeue = m.in.Spec.Interval
	switch v.Outcome {
	case analysis.Unavailable:
		m.warn("PrometheusUnavailable", "%s", m.next.Message)
		return
	case analysis.Mismatch:
		m.warn("SplitMismatch", "%s", m.next.Message)
		return
	}
	m.event("StepHeld", "%s", m.next.Message)
}

// newWindow judges the current step again from now on.
func (m *machine) newWindow(msg string) {
	m.next.StepStarted = m.at(m.in.Now)
	m.next.NextCheck = m.at(m.in.Now.Add(m.in.Spec.Interval))
	m.next.Message = msg
	m.requeue = m.in.Spec.Interval
}

// holdForConflict keeps a running rollout at its weight while another Ingress
// shares the stable upstream: a higher weight would reach that Ingress's users
// too. A failing canary is still rolled back; a passing step is judged again a
// window later, and moves on once the conflict is gone. The window counts only
// this Ingress's requests, so the other Ingress's traffic never enters it.
func (m *machine) holdForConflict() {
	v := m.in.Verdict
	if v == nil && m.in.Interim != nil && m.in.Interim.Outcome == analysis.Fail {
		v = m.in.Interim
	}
	if v != nil && v.Outcome == analysis.Fail {
		m.judge()
		return
	}
	m.keepTraffic()
	msg := fmt.Sprintf("holding at weight %s %%: %s", m.next.Weight, m.in.Conflict)
	if m.in.Status.Message != msg {
		m.warn("SharedStableService", "%s", msg)
	}
	m.next.Message = msg
	if v != nil {
		m.recordAnalysis(*v)
		m.newWindow(msg)
		return
	}
	if m.next.NextCheck != nil {
		m.requeue = max(m.next.NextCheck.Sub(m.in.Now), 0)
	}
}
