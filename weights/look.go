package weights

import (
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
)

// Look is one measurement of the open step that a rollout needs.
type Look struct {
	Since, Until time.Time
	Thresholds   analysis.Thresholds
}

// NextLook says whether the rollout needs a look at now: whenever its step
// is open and at least a tick old (a younger one has too little to say).
// Evidence may be read at every look at no cost in error rates; Decide
// writes only what a look decides, or, every interval, the evidence so far.
func NextLook(spec *annotations.Spec, st Status, now time.Time, tick time.Duration) (Look, bool) {
	since, next, open := st.Window()
	if !open || !LookDue(since, next, now, tick) {
		return Look{}, false
	}
	return Look{Since: since, Until: now, Thresholds: Thresholds(spec)}, true
}

// LookDue says whether a step opened at since, whose status is next due at
// next, is looked at now: once it is a tick old, or due.
func LookDue(since, next, now time.Time, tick time.Duration) bool {
	return !now.Before(next) || (tick > 0 && now.Sub(since) >= tick)
}

// Thresholds are the spec's limits as the analysis reads them.
func Thresholds(s *annotations.Spec) analysis.Thresholds {
	return analysis.Thresholds{
		MaxErrorRate: s.Analysis.MaxErrorRate, MaxLatency: s.Analysis.MaxLatency,
		LatencyQuantile: s.Analysis.LatencyQuantile, MinRequests: s.Analysis.MinRequests,
	}
}

// JudgeVerdict judges the measurement of a look at st's open step (v, as
// CheckSplit left it) and says what the look decides: the judge's outcome,
// unless the measurement cannot be trusted for it. Without Prometheus
// (Unavailable) there is nothing to judge. A split mismatch (the canary got
// far less than its weight) makes a pass, a hold or a failure at the step's
// bound untrustworthy, but not evidence of a regression: the errors and slow
// requests the canary served were served, and the evidence reads the share
// the canary got, not its weight. Holding such a canary would keep it
// failing its share of users until the split recovers.
func JudgeVerdict(spec *annotations.Spec, st Status, v analysis.Verdict, now time.Time) (analysis.Outcome, analysis.SequentialVerdict, analysis.RolloutEvidence) {
	if v.Outcome == analysis.Unavailable {
		return v.Outcome, analysis.SequentialVerdict{}, analysis.RolloutEvidence{}
	}
	sv, ev := JudgeLook(spec, st, v.Measurement, now)
	if v.Outcome == analysis.Mismatch && (sv.Outcome != analysis.Fail || sv.Inconclusive) {
		return v.Outcome, sv, ev
	}
	return sv.Outcome, sv, ev
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
