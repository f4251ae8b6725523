package annotations

import (
	"time"
)

// Strategy is how traffic moves to the canary.
type Strategy string

const (
	// StrategyCanary raises the weight step by step.
	StrategyCanary Strategy = "canary"
	// StrategyBlueGreen previews by header or cookie at weight 0, then switches at once.
	StrategyBlueGreen Strategy = "blue-green"
)

// Promotion says whether the last step promotes by itself.
type Promotion string

const (
	PromotionAuto   Promotion = "auto"
	PromotionManual Promotion = "manual"
)

// PromoteBy says how a promotion reaches its end.
type PromoteBy string

const (
	// PromoteBySwitch patches the primary's backend to the canary Service.
	PromoteBySwitch PromoteBy = "switch"
	// PromoteByWeight never edits the primary's spec: it holds 100 % until the
	// primary's stable Service is changed at its source (GitOps).
	PromoteByWeight PromoteBy = "weight"
)

// Routing sends testers to the canary at every step, through ingress-nginx's
// canary-by-header and canary-by-cookie.
type Routing struct {
	Header        string
	HeaderValue   string
	HeaderPattern string
	Cookie        string
}

// Inconclusive is what a step does when it reaches max-step-duration
// without a verdict from the evidence.
type Inconclusive string

const (
	// InconclusiveFail rolls the canary back: nothing unproven reaches 100 %.
	InconclusiveFail Inconclusive = "fail"
	// InconclusivePromote passes the step with a Warning.
	InconclusivePromote Inconclusive = "promote"
)

// Analysis are the limits the steps are judged against.
type Analysis struct {
	MaxErrorRate    float64
	MaxLatency      time.Duration // 0: latency is not gated
	LatencyQuantile float64
	// MinRequests is how many canary requests a step needs before it may pass.
	MinRequests  int
	FailureLimit int
	// NoDataLimit is how many looks in a row a step may go without a
	// measurement (Prometheus unavailable, or the split not as asked).
	NoDataLimit int
	// MaxStepDuration bounds how long a step holds for evidence; Inconclusive
	// says what happens then.
	MaxStepDuration time.Duration
	Inconclusive    Inconclusive
}

// Port names a Service port by name or by number, as an Ingress backend does.
// It is its own type so that the rollout rules do not depend on the API types.
type Port struct {
	Name   string
	Number int32
}

// Spec is a valid rollout specification read from a primary Ingress.
type Spec struct {
	CanaryService string
	// CanaryPort is empty (zero) when the stable backend's port is to be used.
	CanaryPort Port
	// StableService is empty when the Ingress uses only one Service.
	StableService string
	Strategy      Strategy
	Steps         []Weight
	Interval      time.Duration
	Analysis      Analysis
	Routing       Routing
	Promotion     Promotion
	PromoteBy     PromoteBy
}

// Plan is the sequence of weights the rollout walks through. A blue-green rollout
// has a single preview step at weight 0; the switch to 100 % is the promotion.
func (s *Spec) Plan() []Weight {
	if s.Strategy == StrategyBlueGreen {
		return []Weight{0}
	}
	return s.Steps
}

// Followed reports whether the controller follows an Ingress with these
// annotations: it has opted in (canary-service), or it still carries the status
// of an earlier rollout, which the controller brings to an end. The controller's
// informer and kubectl canary both ask it.
func Followed(ann map[string]string) bool {
	_, optedIn := ann[KeyCanaryService]
	_, hasStatus := ann[KeyStatus]
	return optedIn || hasStatus
}

// Commands are the one-shot requests present on the Ingress.
type Commands struct {
	Pause, Resume, Abort, Promote, Retry bool
}

// Any reports whether any command is present.
func (c Commands) Any() bool { return c.Pause || c.Resume || c.Abort || c.Promote || c.Retry }

// Keys lists the keys of the commands present, in the order of CommandKeys, so
// that what is reported about them comes in the same order every time.
func (c Commands) Keys() []string {
	var keys []string
	for _, k := range CommandKeys {
		if *k.field(&c) {
			keys = append(keys, k.Name)
		}
	}
	return keys
}
