package weights

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// Phase is where a rollout is. The values are part of the contract (docs/design.md).
type Phase string

const (
	PhaseIdle        Phase = "Idle"
	PhaseProgressing Phase = "Progressing"
	PhasePaused      Phase = "Paused"
	PhasePromoting   Phase = "Promoting"
	PhaseSucceeded   Phase = "Succeeded"
	PhaseFailed      Phase = "Failed"
	PhaseInvalid     Phase = "Invalid"
)

// Phases lists every phase, for metrics.
var Phases = []Phase{PhaseIdle, PhaseProgressing, PhasePaused, PhasePromoting, PhaseSucceeded, PhaseFailed, PhaseInvalid}

// Stage is how far a promotion has come. Each stage waits for nginx to apply the
// previous one, so that no request is dropped.
type Stage string

const (
	// StageFullWeight: the canary Ingress carries 100 %.
	StageFullWeight Stage = "FullWeight"
	// StageSwitched: the primary's backend points at the canary Service.
	StageSwitched Stage = "Switched"
)

// Status is the JSON in the ingress-canary.dev/status annotation. It carries all
// the state the machine needs, so a restarted controller resumes exactly where the
// last one stopped: same step, same window start.
type Status struct {
	Phase    Phase  `json:"phase"`
	Revision string `json:"revision,omitempty"`
	// Stable is the Service the rollout replaces, fixed when it starts.
	Stable string `json:"stable,omitempty"`
	// Step is the 1-based index of the current step in the plan; 0 before the first.
	Step int `json:"step"`
	// Steps is the number of steps in the plan, for display.
	Steps int `json:"steps,omitempty"`
	// Weight is the canary's share, as written to ingress-nginx; in the JSON a
	// string in percent, e.g. "10".
	Weight StatusWeight `json:"weight"`
	// StepStarted is when the current step's weight was written; its window starts there.
	StepStarted *time.Time `json:"stepStarted,omitempty"`
	// NextCheck is when the current window is next judged.
	NextCheck *time.Time `json:"nextCheck,omitempty"`
	// Stage and StageStarted track a promotion in progress.
	Stage        Stage      `json:"stage,omitempty"`
	StageStarted *time.Time `json:"stageStarted,omitempty"`
	// KeepUntil is when a promoted rollout stops keeping the old stable
	// Service referenced (see Traffic.KeepStable).
	KeepUntil *time.Time `json:"keepUntil,omitempty"`
	// AwaitingPromotion marks a Paused rollout that waits for a manual promote.
	AwaitingPromotion bool `json:"awaitingPromotion,omitempty"`
	Failures          int  `json:"failures,omitempty"`
	// NoData counts consecutive due looks without a measurement (Prometheus
	// unavailable, or the split not as asked).
	NoData       int           `json:"noData,omitempty"`
	LastAnalysis *LastAnalysis `json:"lastAnalysis,omitempty"`
	// Evidence is the rollout's evidence: the closed steps' counts, and the
	// open step's as of the last written look (see Observe).
	Evidence *analysis.RolloutEvidence `json:"evidence,omitempty"`
	// Dispersion estimates how clustered stable's errors are, from the hour
	// before the rollout (WithBaseline) and stable's counts at each written look.
	Dispersion *analysis.DispersionEstimate `json:"dispersion,omitempty"`
	// Judgement is the evidence so far and the forecast of the open step.
	Judgement *StepJudgement `json:"judgement,omitempty"`
	Message   string         `json:"message,omitempty"`
	Updated   *time.Time     `json:"updated,omitempty"`
}

// LastAnalysis is the most recent verdict with the canary's figures at the top
// level (as docs/design.md shows) and stable's for comparison.
type LastAnalysis struct {
	Outcome        analysis.Outcome `json:"outcome"`
	Requests       float64          `json:"requests"`
	ErrorRate      float64          `json:"errorRate"`
	LatencySeconds float64          `json:"latencySeconds"`
	// Slow is how many canary requests took longer than SlowAbove seconds
	// (the histogram bound max-latency is judged at); set when latency is gated.
	Slow      float64       `json:"slow,omitempty"`
	SlowAbove float64       `json:"slowAbove,omitempty"`
	Stable    analysis.Side `json:"stable"`
	At        time.Time     `json:"at"`
}

// ParseStatus reads the status annotation; an empty value is the zero Status.
func ParseStatus(raw string) (Status, error) {
	var s Status
	if raw == "" {
		return s, nil
	}
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return Status{}, fmt.Errorf("status annotation is not valid JSON: %w", err)
	}
	return s, nil
}

// Encode renders the status annotation value. Figures that JSON cannot carry
// (NaN, ±Inf from an empty histogram) are written as -1, meaning unknown.
func (s Status) Encode() string {
	if a := s.LastAnalysis; a != nil {
		c := *a
		c.Requests, c.ErrorRate, c.LatencySeconds = finite(c.Requests), finite(c.ErrorRate), finite(c.LatencySeconds)
		c.Stable.Requests, c.Stable.Errors = finite(c.Stable.Requests), finite(c.Stable.Errors)
		c.Stable.ErrorRate, c.Stable.LatencySeconds = finite(c.Stable.ErrorRate), finite(c.Stable.LatencySeconds)
		s.LastAnalysis = &c
	}
	if j := s.Judgement; j != nil {
		c := *j
		c.Regression, c.Progress, c.Within, c.CanaryRPS = finite(c.Regression), finite(c.Progress), finite(c.Within), finite(c.CanaryRPS)
		s.Judgement = &c
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Sprintf(`{"phase":%q,"message":"status could not be encoded"}`, s.Phase)
	}
	return string(b)
}

func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return -1
	}
	return f
}

// SameAs compares two statuses ignoring Updated, so that rewriting an unchanged
// status with a new timestamp is recognised as no change.
func (s Status) SameAs(o Status) bool {
	s.Updated, o.Updated = nil, nil
	return s.Encode() == o.Encode()
}

// PinnedStable is the stable Service a rollout of revision keeps while it runs,
// or while it waits for a fix: "" when no such rollout is under way. A
// running rollout is never retargeted at another Service on its own.
func (s Status) PinnedStable(revision string) string {
	if s.Revision != revision || !(s.Active() || s.Phase == PhaseInvalid) {
		return ""
	}
	return s.Stable
}

// Active reports whether a canary Ingress may carry traffic in this phase.
func (s Status) Active() bool {
	switch s.Phase {
	case PhaseProgressing, PhasePaused, PhasePromoting:
		return true
	}
	return false
}
