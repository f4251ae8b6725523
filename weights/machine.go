package weights

import (
	"fmt"
	"time"

	"github.com/ingress-canary/ingress-canary/annotations"
)

// Decide is the state machine. It is total: every input yields a decision, and it
// never raises the weight on an error.
func Decide(cfg Config, in Input) Decision {
	m := &machine{cfg: cfg, in: in, next: in.Status}
	m.decide()
	// Updated moves only on a real change, so that an unchanged decision writes nothing.
	if m.next.SameAs(in.Status) {
		m.next.Updated = in.Status.Updated
	} else {
		m.next.Updated = m.at(in.Now)
	}
	return Decision{
		Status:        m.next,
		Traffic:       m.traffic,
		ClearCommands: m.clear,
		Events:        m.events,
		RequeueAfter:  m.requeue,
	}
}

// machine carries one decision while it is being made.
type machine struct {
	cfg     Config
	in      Input
	next    Status
	traffic *Traffic
	clear   bool
	events  []Event
	requeue time.Duration
}

func (m *machine) decide() {
	in := m.in
	if in.Commands.Abort && in.Status.Active() && m.abortAllowed() {
		// Abort works even when the rest of the spec is broken: it only removes traffic.
		m.clear = true
		m.rollback("aborted by request (" + annotations.KeyAbort + ")")
		return
	}
	if in.Spec == nil && in.Invalid == nil {
		m.optOut()
		return
	}
	if in.Invalid != nil {
		m.refuse(in.Invalid)
		return
	}
	spec := in.Spec
	m.clear = in.Commands.Any()
	switch {
	case in.Status.Phase == PhasePromoting && in.Status.Revision == spec.CanaryService:
		m.ignoreCommands("a promotion is in progress")
		m.promote()
	case spec.CanaryService == in.StableService:
		m.ignoreCommands("there is nothing to roll out")
		m.settled()
	case in.Status.Revision != spec.CanaryService, in.Status.Phase == "", in.Status.Phase == PhaseIdle:
		if in.Conflict != nil {
			m.refuse(in.Conflict)
			return
		}
		m.ignoreCommands("a new rollout starts")
		m.start("RolloutStarted", fmt.Sprintf("rolling out %s in place of %s", spec.CanaryService, in.StableService))
	case in.Status.Stable != "" && in.Status.Stable != in.StableService && (in.Status.Active() || in.Status.Phase == PhaseInvalid):
		m.ignoreCommands("a new rollout starts")
		m.start("RevisionChanged", fmt.Sprintf("%s changed from %s to %s mid-rollout: restarting", annotations.KeyStableService, in.Status.Stable, in.StableService))
	case in.Status.Phase == PhaseInvalid:
		if in.Conflict != nil {
			m.refuse(in.Conflict)
			return
		}
		m.recover()
	default:
		if m.command() {
			return
		}
		if in.Conflict != nil && in.Status.Phase == PhaseProgressing && in.Status.Step >= 1 {
			m.holdForConflict()
			return
		}
		m.progress()
	}
}

func (m *machine) plan() []annotations.Weight { return m.in.Spec.Plan() }

func (m *machine) event(reason, format string, args ...any) {
	m.events = append(m.events, Event{Reason: reason, Message: fmt.Sprintf(format, args...)})
}

func (m *machine) warn(reason, format string, args ...any) {
	m.events = append(m.events, Event{Warning: true, Reason: reason, Message: fmt.Sprintf(format, args...)})
}

func (m *machine) at(t time.Time) *time.Time { return &t }

// keepTraffic converges to the current step's weight, which the status records.
func (m *machine) keepTraffic() {
	m.traffic = &Traffic{Canary: true, Weight: m.next.Weight.Value()}
}

func (m *machine) noCanary() { m.traffic = &Traffic{} }
