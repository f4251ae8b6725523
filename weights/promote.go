package weights

import (
	"fmt"

	"github.com/ingress-canary/ingress-canary/annotations"
)

// enterPromoting sends all traffic to the canary Ingress first; only once nginx has
// applied that does the primary change, so no request meets a half-done switch.
func (m *machine) enterPromoting() {
	m.next.Phase = PhasePromoting
	m.next.Stage = StageFullWeight
	m.next.StageStarted = m.at(m.in.Now)
	m.next.Weight = WeightOf(annotations.Full)
	m.next.NextCheck = nil
	m.next.AwaitingPromotion = false
	m.next.Message = fmt.Sprintf("promoting %s: canary weight 100 %%", m.in.Spec.CanaryService)
	m.event("Promoting", "%s", m.next.Message)
	m.traffic = &Traffic{Canary: true, Weight: annotations.Full, KeepStable: true}
	m.requeue = m.cfg.Settle
}

// promote walks the promotion stages, each after nginx had Settle to apply the last.
func (m *machine) promote() {
	st, spec := m.in.Status, m.in.Spec
	settled := st.StageStarted == nil || !m.in.Now.Before(st.StageStarted.Add(m.cfg.Settle))
	switched := st.Stage == StageSwitched
	m.traffic = &Traffic{Canary: true, Weight: annotations.Full, SwitchPrimary: switched, KeepStable: true}
	if !settled {
		m.requeue = st.StageStarted.Add(m.cfg.Settle).Sub(m.in.Now)
		return
	}
	switch {
	case switched:
		m.succeed(fmt.Sprintf("the primary routes to %s", spec.CanaryService))
	case spec.PromoteBy == annotations.PromoteBySwitch:
		m.next.Stage = StageSwitched
		m.next.StageStarted = m.at(m.in.Now)
		m.next.Message = fmt.Sprintf("promoting %s: primary Ingress switched to it", spec.CanaryService)
		m.event("PrimarySwitched", "%s", m.next.Message)
		m.traffic.SwitchPrimary = true
		m.requeue = m.cfg.Settle
	case m.in.StableService == spec.CanaryService:
		m.succeed(fmt.Sprintf("the primary's source now routes to %s", spec.CanaryService))
	default:
		msg := fmt.Sprintf("holding 100 %% on the canary Ingress until the primary's backend is changed to %s at its source (%s: weight)", spec.CanaryService, annotations.KeyPromoteBy)
		if m.next.Message != msg {
			m.next.Message = msg
			m.event("AwaitingSourceUpdate", "%s", msg)
		}
	}
}

func (m *machine) succeed(why string) {
	m.noCanary()
	m.next.Phase = PhaseSucceeded
	m.next.Stage, m.next.StageStarted, m.next.NextCheck = "", nil, nil
	m.next.Message = fmt.Sprintf("promoted %s: %s; canary Ingress deleted", m.in.Spec.CanaryService, why)
	m.event("Promoted", "%s", m.next.Message)
	if m.cfg.KeepStableFor > 0 {
		m.next.KeepUntil = m.at(m.in.Now.Add(m.cfg.KeepStableFor))
	}
	m.keepStableWhileDue()
}

// keepStableWhileDue keeps the old stable Service referenced until KeepUntil,
// then lets it go (see Traffic.KeepStable).
func (m *machine) keepStableWhileDue() {
	until := m.next.KeepUntil
	if until == nil {
		return
	}
	if m.in.Now.Before(*until) {
		m.traffic.KeepStable = true
		m.requeue = until.Sub(m.in.Now)
		return
	}
	m.next.KeepUntil = nil
}
