package weights

import (
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
)

// InterimConfidence is the confidence a regression needs before its window is
// due. Looking every tick is many looks at one window: each must be far more
// sure, or healthy canaries would be rolled back by chance
// (docs/decision-quality.md has the figures).
const InterimConfidence = 0.9999

// Look is one analysis of the open step window that a rollout needs.
type Look struct {
	// Due says the window is due: its verdict may pass, fail or hold the step.
	// An interim look (not due) can only fail it.
	Due          bool
	Since, Until time.Time
	Thresholds   analysis.Thresholds
}

// NextLook says which look the rollout needs at now, if any: the due one, or,
// once a tick has passed since the window opened, an interim one that may roll
// a conclusive regression back before the interval ends.
func NextLook(spec *annotations.Spec, st Status, now time.Time, tick time.Duration) (Look, bool) {
	since, next, open := st.Window()
	if !open {
		return Look{}, false
	}
	due := !now.Before(next)
	if !due && !InterimLookDue(since, next, now, tick) {
		return Look{}, false
	}
	th := Thresholds(spec)
	if !due {
		th.Confidence = InterimConfidence
	}
	return Look{Due: due, Since: since, Until: now, Thresholds: th}, true
}

// InterimLookDue says whether a window opened at since and due at next gets an
// interim look at now: at least a tick old (a younger one has too little to
// say), and not yet due (the due look judges it).
func InterimLookDue(since, next, now time.Time, tick time.Duration) bool {
	return tick > 0 && now.Sub(since) >= tick && now.Before(next)
}

// Thresholds are the spec's limits as the analysis reads them.
func Thresholds(s *annotations.Spec) analysis.Thresholds {
	return analysis.Thresholds{
		MaxErrorRate: s.Analysis.MaxErrorRate, MaxLatency: s.Analysis.MaxLatency,
		LatencyQuantile: s.Analysis.LatencyQuantile, MinRequests: s.Analysis.MinRequests,
	}
}

// CheckSplit checks a due verdict against the split the plan asked for: this
// step's weight, after the previous step's for as long as the data plane may
// take to apply it.
func CheckSplit(spec *annotations.Spec, st Status, v analysis.Verdict, now time.Time) analysis.Verdict {
	since, _, open := st.Window()
	if !open || !st.Weight.Known() {
		return v
	}
	return analysis.VerifySplit(v, previousWeight(spec, st).Ratio(), st.Weight.Value().Ratio(), now.Sub(since))
}

// previousWeight is the weight before the current step: 0 on the first.
func previousWeight(spec *annotations.Spec, st Status) annotations.Weight {
	plan := spec.Plan()
	if st.Step < 2 || st.Step-2 >= len(plan) {
		return 0
	}
	return plan[st.Step-2]
}
