package weights

import (
	"fmt"
	"strings"

	"github.com/ingress-canary/ingress-canary/annotations"
)

// CommandIgnored says why a command (its key, e.g. annotations.KeyPause) does not
// apply to a rollout with status st, or "" when it does. It is the machine's own
// rule, and kubectl canary asks it to warn before it writes a command.
func CommandIgnored(key string, st Status) string {
	applies := false
	switch key {
	case annotations.KeyPause:
		applies = st.Phase == PhaseProgressing
	case annotations.KeyResume:
		if st.Phase == PhasePaused && st.AwaitingPromotion {
			return "resume does not end a wait for manual promotion; use promote"
		}
		applies = st.Phase == PhasePaused
	case annotations.KeyAbort:
		// Once the primary points at the canary there is nothing left to roll back to.
		if st.Phase == PhasePromoting && st.Stage == StageSwitched {
			return "abort is too late: the primary already routes to the canary Service"
		}
		applies = st.Active()
	case annotations.KeyPromote:
		applies = st.Phase == PhaseProgressing || st.Phase == PhasePaused
	case annotations.KeyRetry:
		applies = st.Phase == PhaseFailed
	}
	if applies {
		return ""
	}
	phase := string(st.Phase)
	if phase == "" {
		phase = "<none>"
	}
	return fmt.Sprintf("%s does not apply in phase %s", strings.TrimPrefix(key, annotations.Prefix), phase)
}

func commandApplies(key string, st Status) bool { return CommandIgnored(key, st) == "" }

// command acts on at most one command, in the order of their safety: abort (done
// earlier), promote, retry, pause, resume. It reports whether it decided.
func (m *machine) command() bool {
	c, st := m.in.Commands, m.in.Status
	if !c.Any() {
		return false
	}
	switch {
	case c.Promote && commandApplies(annotations.KeyPromote, st):
		m.event("PromoteRequested", "promotion requested (%s): skipping the remaining steps", annotations.KeyPromote)
		m.enterPromoting()
	case c.Retry && commandApplies(annotations.KeyRetry, st):
		m.start("RolloutRetried", "retry requested ("+annotations.KeyRetry+")")
	case c.Pause && commandApplies(annotations.KeyPause, st):
		m.next.Phase = PhasePaused
		m.next.NextCheck = nil
		m.next.Message = "paused at weight " + st.Weight.String() + " % (" + annotations.KeyPause + ")"
		m.event("Paused", "%s", m.next.Message)
		m.keepTraffic()
	case c.Resume && commandApplies(annotations.KeyResume, st):
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
	return commandApplies(annotations.KeyAbort, m.in.Status)
}
