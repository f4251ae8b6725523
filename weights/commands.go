package weights

import (
	"github.com/ingress-canary/ingress-canary/annotations"
)

// command acts on at most one command, in the order of their safety: abort (done
// earlier), promote, retry, pause, resume. It reports whether it decided.
func (m *machine) command() bool {
	c, st := m.in.Commands, m.in.Status
	if !c.Any() {
		return false
	}
	switch {
	case c.Promote && (st.Phase == PhaseProgressing || st.Phase == PhasePaused):
		m.event("PromoteRequested", "promotion requested (%s): skipping the remaining steps", annotations.KeyPromote)
		m.enterPromoting()
	case c.Retry && st.Phase == PhaseFailed:
		m.start("RolloutRetried", "retry requested ("+annotations.KeyRetry+")")
	case c.Pause && st.Phase == PhaseProgressing:
		m.next.Phase = PhasePaused
		m.next.NextCheck = nil
		m.next.Message = "paused at weight " + st.Weight.String() + " % (" + annotations.KeyPause + ")"
		m.event("Paused", "%s", m.next.Message)
		m.keepTraffic()
	case c.Resume && st.Phase == PhasePaused && !st.AwaitingPromotion:
		m.enterStep(max(st.Step, 1), "resumed ("+annotations.KeyResume+")")
	default:
		m.ignoreCommands("it does not apply in phase " + string(st.Phase))
		return false
	}
	return true
}

// ignoreCommands explains why present commands were removed without effect, so a
// command never lingers and fires later by surprise.
func (m *machine) ignoreCommands(why string) {
	for _, key := range m.in.Commands.Keys() {
		m.warn("CommandIgnored", "%s ignored: %s", key, why)
	}
}

// abortAllowed is false once the primary points at the canary: there is nothing
// left to roll back to. The promotion path then reports the command as ignored.
func (m *machine) abortAllowed() bool {
	return m.in.Status.Phase != PhasePromoting || m.in.Status.Stage != StageSwitched
}
