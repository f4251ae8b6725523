package weights

import (
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
)

// Config tunes the machine. It is not user input.
type Config struct {
	// Settle is how long a promotion stage waits for ingress-nginx to apply the
	// previous change (a canary weight applies in about 1 s, a backend switch may
	// need a reload) before taking the next one.
	Settle time.Duration
	// ReadinessRecheck is a fallback requeue while the canary has no ready endpoints.
	ReadinessRecheck time.Duration
	// KeepStableFor is how long the stable Service stays referenced after the
	// primary stopped routing to it: the data plane's sync (ingress-nginx:
	// up to ~3.3 s) plus a reload under load.
	KeepStableFor time.Duration
}

// DefaultConfig is what the controller uses unless its flags say otherwise: its
// --promotion-settle defaults to Settle, and ReadinessRecheck has no flag.
var DefaultConfig = Config{Settle: 5 * time.Second, ReadinessRecheck: 10 * time.Second, KeepStableFor: 10 * time.Second}

// Input is everything the controller read for one primary Ingress.
type Input struct {
	// Spec is nil when the Ingress has no canary-service (it has opted out).
	Spec *annotations.Spec
	// Invalid is a parse or pre-flight error; the spec is then not to be acted on.
	Invalid error
	// StableService is the Service the primary currently routes the replaced paths to.
	StableService string
	// Conflict is a problem with the world around a valid spec that makes a
	// higher weight unsafe (another Ingress shares the stable upstream, or
	// another rollout the canary Service): no rollout starts (Invalid), a
	// running one holds until it is gone, a finished one is left alone.
	Conflict error
	Status   Status
	Commands annotations.Commands
	// Verdict is the measurement of the open step at this look (NextLook),
	// else nil. Its counts are what the sequential judge reads; its Outcome
	// matters only when it is Unavailable or Mismatch (no usable measurement).
	Verdict *analysis.Verdict
	// CanaryReady reports that the canary Service has ready endpoints.
	CanaryReady bool
	Now         time.Time
}

// Traffic is the state the controller converges the Ingresses to.
type Traffic struct {
	// Canary says the canary Ingress should exist, carrying Weight.
	Canary bool
	Weight annotations.Weight
	// SwitchPrimary says the primary's replaced paths should point at the canary Service.
	SwitchPrimary bool
	// KeepStable says an Ingress of ours should keep routing (on a host no
	// client uses) to the stable Service across the promotion's switch.
	// ingress-nginx reloads nginx when the primary's backend changes and drops
	// the stable upstream at once; workers that still run the old
	// configuration then answer 503 for it (seen in e2e: 3 to 11 requests per
	// switch under load). Kept referenced, the upstream outlives the reload.
	KeepStable bool
}

// Event is a user-visible decision, recorded on the primary Ingress.
type Event struct {
	Warning bool
	Reason  string
	Message string
}

// Decision is what to write.
type Decision struct {
	Status Status
	// Traffic is nil when traffic must stay exactly as it is (bad input).
	Traffic *Traffic
	// ClearCommands asks to remove the command annotations that were read.
	ClearCommands bool
	Events        []Event
	// RequeueAfter is when to look again without an external change; 0 means never.
	RequeueAfter time.Duration
}

// Window returns the open step window: when it began and when it is next
// judged. Only a Progressing rollout on a real step has one.
func (s Status) Window() (since, next time.Time, open bool) {
	if s.Phase != PhaseProgressing || s.Step < 1 || s.StepStarted == nil || s.NextCheck == nil {
		return time.Time{}, time.Time{}, false
	}
	return *s.StepStarted, *s.NextCheck, true
}
