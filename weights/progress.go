package weights

import (
	"fmt"
	"slices"
	"strings"
	"time"

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

// judge reads the evidence at a look at the open step, if one was taken. A
// look that only holds writes nothing until the step's next due time
// (NextCheck, every interval), which refreshes the evidence and the forecast
// in the status.
func (m *machine) judge() {
	m.keepTraffic()
	v := m.in.Verdict
	if v == nil {
		m.waitForNextCheck()
		return
	}
	outcome, sv, ev := JudgeVerdict(m.in.Spec, m.in.Status, *v, m.in.Now)
	switch outcome {
	case analysis.Unavailable, analysis.Mismatch:
		if !m.due() {
			m.waitForNextCheck()
			return
		}
		m.recordAnalysis(*v)
		m.held(*v)
	case analysis.Fail:
		m.recordLook(*v, ev, sv)
		m.next.NoData = 0
		why := sv.Reason + "; " + figures(v.Measurement)
		if v.Outcome == analysis.Mismatch {
			why += "; and " + v.Reason
		}
		m.failed(why)
	case analysis.Pass:
		m.recordLook(*v, ev, sv)
		m.next.NoData = 0
		if sv.Inconclusive {
			m.warn("Inconclusive", "step %d/%d passed inconclusive at this traffic (%s: %s): %s",
				m.in.Status.Step, len(m.plan()), annotations.KeyInconclusive, annotations.InconclusivePromote, sv.Reason)
		}
		m.passed(sv.Reason)
	default:
		if !m.due() {
			m.waitForNextCheck()
			return
		}
		m.recordLook(*v, ev, sv)
		m.next.NoData = 0
		m.holding(sv, v.Measurement)
	}
}

// figures are the step's counts a verdict rests on, as the Events say them.
func figures(m analysis.Measurement) string {
	c, s := m.Canary, m.Stable
	out := fmt.Sprintf("canary error rate %s (%.0f of %.0f requests), stable %s (%.0f of %.0f) in this step",
		rate(c.Errors, c.Requests), c.Errors, c.Requests, rate(s.Errors, s.Requests), s.Errors, s.Requests)
	if m.SlowAbove > 0 {
		out += fmt.Sprintf("; slower than %gs: canary %s (%.0f of %.0f), stable %s (%.0f of %.0f)", m.SlowAbove,
			rate(c.Slow, c.Timed), c.Slow, c.Timed, rate(s.Slow, s.Timed), s.Slow, s.Timed)
	}
	return out
}

func rate(events, requests float64) string {
	if !(requests > 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f%%", 100*events/requests)
}

// due says whether the open step's status is due to be written: its
// minimum duration, or an interval since the last written hold, has passed.
func (m *machine) due() bool {
	return m.next.NextCheck != nil && !m.in.Now.Before(*m.next.NextCheck)
}

// waitForNextCheck changes nothing and looks again when the status is due,
// or at the step's bound if that comes first.
func (m *machine) waitForNextCheck() {
	if m.next.NextCheck == nil {
		return
	}
	next := *m.next.NextCheck
	if bound := m.stepBound(); bound != nil && bound.Before(next) {
		next = *bound
	}
	m.requeue = max(next.Sub(m.in.Now), 0)
}

// stepBound is when the open step reaches max-step-duration.
func (m *machine) stepBound() *time.Time {
	if m.next.StepStarted == nil || m.in.Spec.Analysis.MaxStepDuration <= 0 {
		return nil
	}
	return m.at(m.next.StepStarted.Add(m.in.Spec.Analysis.MaxStepDuration))
}

// recordLook keeps the evidence of a written look, and stable's counts since
// the last written one for the dispersion estimate.
func (m *machine) recordLook(v analysis.Verdict, ev analysis.RolloutEvidence, sv analysis.SequentialVerdict) {
	m.recordAnalysis(v)
	d := m.in.Status.dispersion()
	if prev := m.in.Status.Evidence; prev != nil {
		d.Add(ev.Errors.Open.StableEvents-prev.Errors.Open.StableEvents, ev.Errors.Open.StableRequests-prev.Errors.Open.StableRequests)
	} else {
		d.Add(ev.Errors.Open.StableEvents, ev.Errors.Open.StableRequests)
	}
	m.next.Dispersion = &d
	m.next.Evidence = &ev
	j := judgement(m.in.Spec, m.in.Status, ev, sv, m.in.Now)
	m.next.Judgement = &j
}

// holding writes a step that needs more evidence: the evidence so far and
// the forecast, and the Event once per step.
func (m *machine) holding(sv analysis.SequentialVerdict, measured analysis.Measurement) {
	st := m.in.Status
	m.next.NextCheck = m.at(m.in.Now.Add(m.in.Spec.Interval))
	why := m.next.Judgement.String() + latencyNote(m.in.Spec, measured)
	if !strings.Contains(sv.Reason, "of the way") {
		// A hold of JudgeLook's own (min-requests, latency): say which first.
		why = sv.Reason + "; " + m.next.Judgement.String()
	}
	m.next.Message = fmt.Sprintf("step %d/%d holding at weight %s %%: %s", st.Step, len(m.plan()), m.next.Weight, why)
	m.waitForNextCheck()
	if st.Judgement == nil {
		m.event("StepHeld", "%s", m.next.Message)
	}
}

func (m *machine) recordAnalysis(v analysis.Verdict) {
	c := v.Measurement.Canary
	m.next.LastAnalysis = &LastAnalysis{
		Outcome: v.Outcome, Requests: c.Requests, ErrorRate: c.ErrorRate,
		LatencySeconds: c.LatencySeconds, Slow: c.Slow, SlowAbove: v.Measurement.SlowAbove,
		Stable: v.Measurement.Stable, At: m.in.Now,
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

// failed rolls back, or, within failure-limit, starts the step and its
// evidence afresh: evidence that crossed the line stays across it, so a
// tolerated failure must begin a new e-process (each one spends another α).
func (m *machine) failed(figures string) {
	m.next.Failures++
	limit := m.in.Spec.Analysis.FailureLimit
	if m.next.Failures > limit {
		m.rollback(fmt.Sprintf("analysis failed at step %d/%d: %s", m.in.Status.Step, len(m.plan()), figures))
		return
	}
	m.next.Evidence, m.next.Judgement = nil, nil
	m.newWindow(fmt.Sprintf("analysis failed (%d of %d tolerated): %s", m.next.Failures, limit, figures))
	m.warn("AnalysisFailed", "%s", m.next.Message)
}

// held is a due look without a measurement (Prometheus unavailable, or the
// split not as asked): never a regression, never progress. The step keeps its
// start, and the rollout fails after no-data-limit such looks in a row.
func (m *machine) held(v analysis.Verdict) {
	m.next.NoData++
	limit := m.in.Spec.Analysis.NoDataLimit
	if m.next.NoData > limit {
		m.rollback(fmt.Sprintf("no measurement for %d looks in a row (%s: %s)", m.next.NoData, annotations.KeyNoDataLimit+" is "+fmt.Sprint(limit), v.Reason))
		return
	}
	m.next.NextCheck = m.at(m.in.Now.Add(m.in.Spec.Interval))
	m.next.Message = fmt.Sprintf("holding at weight %s %%: %s (%d of %d looks without a measurement)", m.next.Weight, v.Reason, m.next.NoData, limit)
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

// newWindow judges the current step again from now on: a new segment of the
// evidence.
func (m *machine) newWindow(msg string) {
	m.closeSegment()
	m.next.StepStarted = m.at(m.in.Now)
	m.next.NextCheck = m.at(m.in.Now.Add(m.in.Spec.Interval))
	m.next.Message = msg
	m.requeue = m.in.Spec.Interval
}

// closeSegment ends the open step's segment of the evidence: the share of
// the requests must be one within a segment.
func (m *machine) closeSegment() {
	if m.next.Evidence == nil {
		return
	}
	ev := *m.next.Evidence
	ev.Errors.Closed = slices.Clone(ev.Errors.Closed)
	ev.Slow.Closed = slices.Clone(ev.Slow.Closed)
	ev.Errors.CloseSegment()
	ev.Slow.CloseSegment()
	m.next.Evidence = &ev
	m.next.Judgement = nil
}

// holdForConflict keeps a running rollout at its weight while another Ingress
// shares the stable upstream: a higher weight would reach that Ingress's users
// too. A failing canary is still rolled back; a passing step is judged again a
// window later, and moves on once the conflict is gone. The window counts only
// this Ingress's requests, so the other Ingress's traffic never enters it.
func (m *machine) holdForConflict() {
	v := m.in.Verdict
	if v != nil {
		if outcome, _, _ := JudgeVerdict(m.in.Spec, m.in.Status, *v, m.in.Now); outcome == analysis.Fail {
			m.judge()
			return
		}
	}
	m.keepTraffic()
	msg := fmt.Sprintf("holding at weight %s %%: %s", m.next.Weight, m.in.Conflict)
	if m.in.Status.Message != msg {
		m.warn("SharedStableService", "%s", msg)
	}
	m.next.Message = msg
	if v != nil && m.due() {
		m.recordAnalysis(*v)
		m.newWindow(msg)
		return
	}
	m.waitForNextCheck()
}
