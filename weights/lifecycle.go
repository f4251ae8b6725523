package weights

import (
	"fmt"
	"strings"

	"github.com/ingress-canary/ingress-canary/annotations"
)

// optOut handles an Ingress whose canary-service was removed: any canary Ingress
// goes, and the rollout ends Idle.
func (m *machine) optOut() {
	m.noCanary()
	m.clear = m.in.Commands.Any()
	if m.in.Status.Phase == PhaseIdle {
		return
	}
	if m.in.Status.Active() {
		m.event("RolloutCancelled", "%s removed: canary Ingress deleted, all traffic on the stable Service", annotations.KeyCanaryService)
	}
	m.next = Status{Phase: PhaseIdle, Message: annotations.KeyCanaryService + " is not set"}
}

// refuse reports bad input and leaves traffic exactly as it is, but remembers
// the rollout's place so that a fix resumes it.
func (m *machine) refuse(problem error) {
	msg := problem.Error()
	if m.in.Status.Phase == PhaseInvalid && m.in.Status.Message == msg {
		return
	}
	m.next.Phase = PhaseInvalid
	m.next.Message = msg
	m.warn("InvalidSpec", "%s", msg)
}

// settled handles canary-service equal to the stable Service: nothing to do, and
// no canary Ingress. A promoted rollout stays Succeeded.
func (m *machine) settled() {
	m.noCanary()
	st := m.in.Status
	if st.Phase == PhaseSucceeded && st.Revision == m.in.Spec.CanaryService {
		m.keepStableWhileDue()
		return
	}
	if st.Active() {
		m.event("RolloutCancelled", "%s is now the stable Service %s: canary Ingress deleted", annotations.KeyCanaryService, m.in.StableService)
	}
	m.next = Status{Phase: PhaseIdle, Message: "canary-service equals the stable Service " + m.in.StableService + "; nothing to roll out"}
}

// start begins a rollout of the spec's revision from its first step.
func (m *machine) start(reason, why string) {
	if m.in.Conflict != nil {
		// Another Ingress or rollout shares the upstream: no traffic may move.
		m.refuse(m.in.Conflict)
		return
	}
	spec := m.in.Spec
	if reason != "RevisionChanged" && m.in.Status.Active() && m.in.Status.Revision != spec.CanaryService && m.in.Status.Revision != "" {
		reason, why = "RevisionChanged", fmt.Sprintf("%s changed from %s to %s mid-rollout: restarting", annotations.KeyCanaryService, m.in.Status.Revision, spec.CanaryService)
	}
	m.next = Status{Phase: PhaseProgressing, Revision: spec.CanaryService, Stable: m.in.StableService, Steps: len(m.plan()), Weight: WeightOf(0)}
	m.event(reason, "%s; plan %s %%, each step at least %s and at most %s", why, planString(m.plan()), spec.Interval, spec.Analysis.MaxStepDuration)
	m.enterFirstStep()
}

// enterFirstStep waits for ready endpoints before sending any weighted traffic,
// because nginx would answer 503 for the canary's share.
func (m *machine) enterFirstStep() {
	if !m.in.CanaryReady {
		m.next.Step, m.next.Weight, m.next.StepStarted, m.next.NextCheck = 0, WeightOf(0), nil, nil
		m.next.Message = "waiting for ready endpoints of Service " + m.in.Spec.CanaryService
		m.keepTraffic()
		m.requeue = m.cfg.ReadinessRecheck
		return
	}
	m.enterStep(1, "")
}

// enterStep writes step i's weight and opens its window.
func (m *machine) enterStep(i int, why string) {
	plan := m.plan()
	w := plan[i-1]
	m.closeSegment()
	m.next.Step, m.next.Steps, m.next.Weight = i, len(plan), WeightOf(w)
	m.next.StepStarted = m.at(m.in.Now)
	m.next.NextCheck = m.at(m.in.Now.Add(m.in.Spec.Interval))
	m.next.NoData = 0
	m.next.AwaitingPromotion = false
	m.next.Phase = PhaseProgressing
	m.next.Message = fmt.Sprintf("step %d/%d: canary weight %s %%", i, len(plan), w)
	if why != "" {
		m.next.Message = why + "; " + m.next.Message
	}
	m.event("StepStarted", "%s", m.next.Message)
	m.keepTraffic()
	m.requeue = m.in.Spec.Interval
}

// recover resumes a rollout after its spec became valid again. The window restarts
// because nothing can say what was served while the spec was broken.
func (m *machine) recover() {
	st := m.in.Status
	if st.Step < 1 {
		m.start("RolloutStarted", "spec valid again")
		return
	}
	m.enterStep(min(st.Step, len(m.plan())), "spec valid again")
}

// rollback removes the canary Ingress so that no request reaches the bad version.
func (m *machine) rollback(why string) {
	m.noCanary()
	m.next.Phase = PhaseFailed
	m.next.Weight = WeightOf(0)
	m.next.Stage, m.next.StageStarted, m.next.NextCheck = "", nil, nil
	m.next.AwaitingPromotion = false
	m.next.Message = "rolled back: " + why
	m.warn("RolledBack", "%s: canary Ingress deleted, all traffic on the stable Service", why)
}

func planString(plan []annotations.Weight) string {
	parts := make([]string, len(plan))
	for i, w := range plan {
		parts[i] = w.String()
	}
	return strings.Join(parts, ",")
}
