package main

import (
	"math"
	"slices"
	"time"

	"github.com/ingress-canary/ingress-canary/weights"
)

// Kinds of status change the benchmark tells apart.
const (
	kindStart   = "start"   // a rollout began (step 0 or 1)
	kindAdvance = "advance" // a due window passed: the next step, or promotion
	kindHold    = "hold"    // a due window was judged and the step held (or a tolerated failure)
	kindStage   = "stage"   // a promotion stage: primary switched
	kindDone    = "done"    // Succeeded
	kindFailed  = "failed"  // Failed: rolled back
	kindOther   = "other"
)

// Transition is one change of a rollout's status annotation as the
// benchmark's watch saw it.
type Transition struct {
	Kind string
	// Seen is when the watch delivered it.
	Seen time.Time
	// Due is the previous status's nextCheck, for advance and hold.
	Due time.Time
	// Reported is when the controller says it acted: the new step's
	// stepStarted, promotion's stageStarted, or the held analysis's time.
	Reported time.Time
}

// Late is how long after its due time the change became visible.
func (t Transition) Late() time.Duration { return t.Seen.Sub(t.Due) }

// ReportedLate is how long after its due time the controller began the step.
func (t Transition) ReportedLate() time.Duration { return t.Reported.Sub(t.Due) }

// classify names the change from old to cur; false when the status did not
// change (e.g. only the primary's spec did, at the promotion switch).
func classify(old, cur weights.Status, seen time.Time) (Transition, bool) {
	if cur.SameAs(old) {
		return Transition{}, false
	}
	t := Transition{Kind: kindOther, Seen: seen}
	open := old.Phase == weights.PhaseProgressing && old.Step >= 1 && old.NextCheck != nil
	switch {
	case open && cur.Phase == weights.PhaseProgressing && cur.Step > old.Step && cur.StepStarted != nil:
		t.Kind, t.Due, t.Reported = kindAdvance, *old.NextCheck, *cur.StepStarted
	case open && cur.Phase == weights.PhasePromoting && cur.StageStarted != nil:
		t.Kind, t.Due, t.Reported = kindAdvance, *old.NextCheck, *cur.StageStarted
	case open && cur.Phase == weights.PhaseProgressing && cur.Step == old.Step && cur.LastAnalysis != nil &&
		(old.LastAnalysis == nil || !cur.LastAnalysis.At.Equal(old.LastAnalysis.At)):
		t.Kind, t.Due, t.Reported = kindHold, *old.NextCheck, cur.LastAnalysis.At
	case cur.Phase == weights.PhaseFailed:
		t.Kind = kindFailed
	case cur.Phase == weights.PhaseSucceeded:
		t.Kind = kindDone
	case cur.Phase == weights.PhasePromoting && old.Phase == weights.PhasePromoting:
		t.Kind = kindStage
	case cur.Phase == weights.PhaseProgressing && old.Phase != weights.PhaseProgressing,
		cur.Phase == weights.PhaseProgressing && old.Step == 0 && cur.Step == 1:
		t.Kind = kindStart
	}
	return t, true
}

// Percentiles are nearest-rank percentiles of a set of durations.
type Percentiles struct {
	N             int
	P50, P99, Max time.Duration
}

func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	rank := func(q float64) time.Duration { return s[max(int(math.Ceil(q*float64(len(s))))-1, 0)] }
	return Percentiles{N: len(s), P50: rank(0.5), P99: rank(0.99), Max: s[len(s)-1]}
}

// lateness summarises the advances among ts: as seen, and as reported.
func lateness(ts []Transition) (seen, reported Percentiles) {
	var a, b []time.Duration
	for _, t := range ts {
		if t.Kind == kindAdvance {
			a = append(a, t.Late())
			b = append(b, t.ReportedLate())
		}
	}
	return percentiles(a), percentiles(b)
}
