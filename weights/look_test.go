package weights

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ingress-canary/ingress-canary/analysis"
)

func TestNextLook(t *testing.T) {
	tick := 5 * time.Second
	cases := []struct {
		name string
		st   Status
		now  time.Duration
		tick time.Duration
		want bool
	}{
		{"no window before the first step", Status{Phase: PhaseProgressing, Revision: "web-v2"}, time.Hour, tick, false},
		{"paused: no window", func() Status { s := onStep(1, "5"); s.Phase = PhasePaused; return s }(), time.Hour, tick, false},
		{"younger than a tick: nothing yet", onStep(1, "5"), 4 * time.Second, tick, false},
		{"a tick old: a look", onStep(1, "5"), 5 * time.Second, tick, true},
		{"no tick: only the due looks", onStep(1, "5"), 30 * time.Second, 0, false},
		{"at the due time", onStep(1, "5"), time.Minute, tick, true},
		{"past the due time", onStep(1, "5"), 2 * time.Minute, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			look, ok := NextLook(spec(), tc.st, t0.Add(tc.now), tc.tick)
			assert.Equal(t, tc.want, ok)
			if !ok {
				return
			}
			assert.Equal(t, t0, look.Since)
			assert.Equal(t, t0.Add(tc.now), look.Until)
			assert.Equal(t, 0.01, look.Thresholds.MaxErrorRate)
		})
	}
}

func TestCheckSplitUsesThePlansWeights(t *testing.T) {
	pass := func(canary, stable float64) analysis.Verdict {
		return analysis.Verdict{Outcome: analysis.Pass, Measurement: analysis.Measurement{
			Canary: analysis.Side{Requests: canary}, Stable: analysis.Side{Requests: stable}}}
	}
	cases := []struct {
		name           string
		st             Status
		canary, stable float64
		want           analysis.Outcome
	}{
		{"step 2 at 10 %: 10 % measured passes", onStep(2, "10"), 600, 5400, analysis.Pass},
		{"step 2 at 10 %: 2 % measured is a mismatch", onStep(2, "10"), 120, 5880, analysis.Mismatch},
		{"step 1 at 5 %: 0 canary requests is a mismatch", onStep(1, "5"), 0, 6000, analysis.Mismatch},
		{"no open window: left alone", Status{Phase: PhasePaused, Step: 2, Weight: percent("10")}, 0, 6000, analysis.Pass},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckSplit(spec(), tc.st, pass(tc.canary, tc.stable), t0.Add(time.Minute))
			assert.Equal(t, tc.want, got.Outcome, got.Reason)
		})
	}
}
