package weights

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) *time.Time { t := t0.Add(d); return &t }

func spec(mut ...func(*annotations.Spec)) *annotations.Spec {
	s, err := annotations.Parse(map[string]string{
		annotations.KeyCanaryService: "web-v2", annotations.KeySteps: "5,10,50", annotations.KeyInterval: "1m",
	})
	if err != nil {
		panic(err)
	}
	for _, m := range mut {
		m(s)
	}
	return s
}

// onStep is a rollout on step n whose window opened at t0.
func onStep(n int, weight string) Status {
	return Status{Phase: PhaseProgressing, Revision: "web-v2", Step: n, Steps: 3, Weight: percent(weight),
		StepStarted: at(0), NextCheck: at(time.Minute), Updated: at(0)}
}

func verdict(o analysis.Outcome, reason string) *analysis.Verdict {
	return &analysis.Verdict{Outcome: o, Reason: reason, Measurement: analysis.Measurement{
		Canary: analysis.Side{Requests: 120, Errors: 6, ErrorRate: 0.05, LatencySeconds: 0.08},
		Stable: analysis.Side{Requests: 2000, Errors: 2, ErrorRate: 0.001, LatencySeconds: 0.07}}}
}

// healthy is a look at a step whose canary served 1000 requests without an
// error: shown below max-error-rate 1 % (about 420 would do).
func healthy() *analysis.Verdict {
	return looked(1000, 0, 19000, 0)
}

// failing is a look at a canary failing 30 % of its requests.
func failing() *analysis.Verdict {
	return looked(120, 36, 2000, 2)
}

// mismatched is v with a split mismatch: the canary got far less than its weight.
func mismatched(v *analysis.Verdict) *analysis.Verdict {
	v.Outcome = analysis.Mismatch
	v.Reason = "the data plane sent 2.00% of 1000 requests to the canary, but its weight is 10.00%"
	return v
}

func looked(canary, canaryErrors, stable, stableErrors float64) *analysis.Verdict {
	return &analysis.Verdict{Outcome: analysis.Hold, Measurement: analysis.Measurement{
		Canary: analysis.Side{Requests: canary, Errors: canaryErrors, ErrorRate: canaryErrors / canary, LatencySeconds: 0.08},
		Stable: analysis.Side{Requests: stable, Errors: stableErrors, ErrorRate: stableErrors / stable, LatencySeconds: 0.07}}}
}

func input(mut ...func(*Input)) Input {
	in := Input{Spec: spec(), StableService: "web-v1", CanaryReady: true, Now: t0.Add(time.Minute)}
	for _, m := range mut {
		m(&in)
	}
	return in
}

func reasons(d Decision) []string {
	var out []string
	for _, e := range d.Events {
		out = append(out, e.Reason)
	}
	return out
}

func canaryAt(w annotations.Weight) *Traffic { return &Traffic{Canary: true, Weight: w} }

var noCanary = &Traffic{}

// promoting is 100 % on the canary with the stable Service kept referenced.
var promoting = &Traffic{Canary: true, Weight: annotations.Full, KeepStable: true}

// keeping is no canary, with the old stable Service still referenced.
var keeping = &Traffic{KeepStable: true}

var cfg = Config{Settle: 5 * time.Second, ReadinessRecheck: 10 * time.Second, KeepStableFor: 10 * time.Second}

func TestDecide(t *testing.T) {
	cases := []struct {
		name    string
		in      Input
		phase   Phase
		step    int
		weight  string
		traffic *Traffic
		events  []string
		requeue time.Duration
		check   func(t *testing.T, d Decision)
	}{
		{
			name: "start with ready canary enters step 1", in: input(func(in *Input) { in.Now = t0 }),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500),
			events: []string{"RolloutStarted", "StepStarted"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) {
				assert.Equal(t, at(0), d.Status.StepStarted)
				assert.Equal(t, at(time.Minute), d.Status.NextCheck)
				assert.Equal(t, "web-v2", d.Status.Revision)
				assert.Equal(t, 3, d.Status.Steps)
			},
		},
		{
			name: "start without ready endpoints waits at weight 0", in: input(func(in *Input) { in.CanaryReady = false }),
			phase: PhaseProgressing, step: 0, weight: "0", traffic: canaryAt(0),
			events: []string{"RolloutStarted"}, requeue: 10 * time.Second,
			check: func(t *testing.T, d Decision) { assert.Contains(t, d.Status.Message, "waiting for ready endpoints") },
		},
		{
			name: "endpoints become ready: step 1", in: input(func(in *Input) {
				in.Status = Status{Phase: PhaseProgressing, Revision: "web-v2", Steps: 3, Weight: percent("0")}
			}),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500), events: []string{"StepStarted"}, requeue: time.Minute,
		},
		{
			name: "window not over: nothing changes", in: input(func(in *Input) { in.Status = onStep(2, "10"); in.Now = t0.Add(40 * time.Second) }),
			phase: PhaseProgressing, step: 2, weight: "10", traffic: canaryAt(1000), requeue: 20 * time.Second,
			check: func(t *testing.T, d Decision) { assert.True(t, d.Status.SameAs(onStep(2, "10"))) },
		},
		{
			name: "pass advances to the next step and opens a new window", in: input(func(in *Input) {
				in.Status = onStep(1, "5")
				in.Verdict = healthy()
			}),
			phase: PhaseProgressing, step: 2, weight: "10", traffic: canaryAt(1000), events: []string{"StepStarted"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) {
				assert.Equal(t, at(time.Minute), d.Status.StepStarted)
				assert.Equal(t, at(2*time.Minute), d.Status.NextCheck)
				require.NotNil(t, d.Status.LastAnalysis)
				assert.Equal(t, 1000.0, d.Status.LastAnalysis.Requests)
				assert.Contains(t, d.Events[0].Message, "step 1/3 passed (canary shown")
				require.NotNil(t, d.Status.Evidence)
				assert.Equal(t, []analysis.Counts{{CanaryRequests: 1000, StableRequests: 19000}}, d.Status.Evidence.Errors.Closed, "the step's segment is closed")
				assert.Zero(t, d.Status.Evidence.Errors.Open)
			},
		},
		{
			name: "pass at the last step promotes", in: input(func(in *Input) {
				in.Status = onStep(3, "50")
				in.Verdict = healthy()
			}),
			phase: PhasePromoting, step: 3, weight: "100", traffic: promoting,
			events: []string{"AnalysisPassed", "Promoting"}, requeue: 5 * time.Second,
			check: func(t *testing.T, d Decision) { assert.Equal(t, StageFullWeight, d.Status.Stage) },
		},
		{
			name: "pass at the last step with manual promotion waits", in: input(func(in *Input) {
				in.Spec = spec(func(s *annotations.Spec) { s.Promotion = annotations.PromotionManual })
				in.Status = onStep(3, "50")
				in.Verdict = healthy()
			}),
			phase: PhasePaused, step: 3, weight: "50", traffic: canaryAt(5000), events: []string{"AwaitingPromotion"},
			check: func(t *testing.T, d Decision) { assert.True(t, d.Status.AwaitingPromotion) },
		},
		{
			name: "fail with failure-limit 0 rolls back at once", in: input(func(in *Input) {
				in.Status = onStep(2, "10")
				in.Verdict = failing()
			}),
			phase: PhaseFailed, step: 2, weight: "0", traffic: noCanary, events: []string{"RolledBack"},
			check: func(t *testing.T, d Decision) {
				assert.True(t, d.Events[0].Warning)
				assert.Contains(t, d.Events[0].Message, "evidence of regression")
				assert.Contains(t, d.Status.Message, "rolled back")
			},
		},
		{
			name: "fail within failure-limit holds the step with a new window", in: input(func(in *Input) {
				in.Spec = spec(func(s *annotations.Spec) { s.Analysis.FailureLimit = 1 })
				in.Status = onStep(2, "10")
				in.Verdict = failing()
			}),
			phase: PhaseProgressing, step: 2, weight: "10", traffic: canaryAt(1000), events: []string{"AnalysisFailed"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) {
				assert.Equal(t, 1, d.Status.Failures)
				assert.Equal(t, at(time.Minute), d.Status.StepStarted)
			},
		},
		{
			name: "second fail beyond failure-limit rolls back", in: input(func(in *Input) {
				in.Spec = spec(func(s *annotations.Spec) { s.Analysis.FailureLimit = 1 })
				in.Status = onStep(2, "10")
				in.Status.Failures = 1
				in.Verdict = failing()
			}),
			phase: PhaseFailed, step: 2, weight: "0", traffic: noCanary, events: []string{"RolledBack"},
		},
		{
			name: "too little evidence holds, keeps the step's start, says how far it got", in: input(func(in *Input) {
				in.Status = onStep(1, "5")
				in.Verdict = looked(120, 0, 2280, 0)
			}),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500), events: []string{"StepHeld"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) {
				assert.Zero(t, d.Status.NoData, "a hold is not a missing measurement")
				assert.Equal(t, at(0), d.Status.StepStarted, "the step grows until it can be judged")
				assert.Equal(t, at(2*time.Minute), d.Status.NextCheck)
				assert.Contains(t, d.Status.Message, "step 1/3 holding at weight 5 %: evidence of regression")
				assert.Contains(t, d.Status.Message, "of the way to showing the canary no worse than")
				require.NotNil(t, d.Status.Judgement)
				assert.Equal(t, "2m30s", d.Status.Judgement.Remaining, "2 canary rps, about 420 requests in all")
				assert.Equal(t, analysis.Counts{CanaryRequests: 120, StableRequests: 2280}, d.Status.Evidence.Errors.Open)
			},
		},
		{
			name: "a second hold refreshes the status without another Event", in: input(func(in *Input) {
				in.Status = onStep(1, "5")
				in.Status.Judgement = &StepJudgement{Progress: 0.1}
				in.Status.Evidence = &analysis.RolloutEvidence{Errors: analysis.Evidence{Open: analysis.Counts{CanaryRequests: 60, StableRequests: 1140}}}
				in.Now = t0.Add(2 * time.Minute)
				in.Status.NextCheck = at(2 * time.Minute)
				in.Verdict = looked(240, 0, 4560, 0)
			}),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500), requeue: time.Minute,
			check: func(t *testing.T, d Decision) {
				assert.Equal(t, at(3*time.Minute), d.Status.NextCheck)
				assert.Greater(t, d.Status.Judgement.Progress, 0.1)
				require.NotNil(t, d.Status.Dispersion)
				assert.Equal(t, 1.0, d.Status.Dispersion.Intervals, "stable's counts since the last written look")
				assert.Equal(t, 3420.0, d.Status.Dispersion.Requests)
			},
		},
		{
			name: "a hold before the status is due writes nothing", in: input(func(in *Input) {
				in.Status = onStep(1, "5")
				in.Now = t0.Add(20 * time.Second)
				in.Verdict = looked(40, 0, 760, 0)
			}),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500), requeue: 40 * time.Second,
			check: func(t *testing.T, d Decision) { assert.True(t, d.Status.SameAs(onStep(1, "5"))) },
		},
		{
			name: "evidence before the step's minimum duration waits for it", in: input(func(in *Input) {
				in.Status = onStep(1, "5")
				in.Now = t0.Add(30 * time.Second)
				in.Verdict = healthy()
			}),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500), requeue: 30 * time.Second,
			check: func(t *testing.T, d Decision) { assert.Empty(t, d.Events) },
		},
		{
			name: "a step held past interval passes as soon as the evidence is there", in: input(func(in *Input) {
				in.Status = onStep(1, "5")
				in.Status.NextCheck = at(5 * time.Minute)
				in.Now = t0.Add(4*time.Minute + 5*time.Second)
				in.Verdict = healthy()
			}),
			phase: PhaseProgressing, step: 2, weight: "10", traffic: canaryAt(1000), events: []string{"StepStarted"}, requeue: time.Minute,
		},
		{
			name: "min-requests holds a step the evidence would pass", in: input(func(in *Input) {
				in.Spec = spec(func(s *annotations.Spec) { s.Analysis.MinRequests = 5000 })
				in.Status = onStep(1, "5")
				in.Verdict = healthy()
			}),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500), events: []string{"StepHeld"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) {
				assert.Contains(t, d.Status.Message, "1000 canary requests in this step, ingress-canary.dev/min-requests needs 5000")
			},
		},
		{
			name: "max-latency below every bucket bound holds and says why", in: input(func(in *Input) {
				in.Spec = spec(func(s *annotations.Spec) { s.Analysis.MaxLatency = 2 * time.Millisecond })
				in.Status = onStep(1, "5")
				in.Verdict = healthy() // no SlowAbove: no bucket bound at or below 2ms
			}),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500), events: []string{"StepHeld"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) {
				assert.Contains(t, d.Status.Message, "max-latency 2ms is below every bucket bound")
			},
		},
		{
			name: "max-latency between bucket bounds: the pass says which bound", in: input(func(in *Input) {
				in.Spec = spec(func(s *annotations.Spec) { s.Analysis.MaxLatency = 150 * time.Millisecond })
				in.Status = onStep(1, "5")
				v := healthy()
				v.Measurement.SlowAbove = 0.1
				v.Measurement.Canary.Timed, v.Measurement.Stable.Timed = 1000, 19000
				in.Verdict = v
			}),
			phase: PhaseProgressing, step: 2, weight: "10", traffic: canaryAt(1000), events: []string{"StepStarted"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) {
				assert.Contains(t, d.Events[0].Message, "requests slower than 0.1s count as slow")
				assert.Equal(t, 0.1, d.Status.LastAnalysis.SlowAbove)
			},
		},
		{
			name: "a regression fails before the step is due", in: input(func(in *Input) {
				in.Status = onStep(1, "5")
				in.Now = t0.Add(10 * time.Second)
				in.Verdict = failing()
			}),
			phase: PhaseFailed, step: 1, weight: "0", traffic: noCanary, events: []string{"RolledBack"},
		},
		{
			name: "a split mismatch does not hold back evidence of a regression", in: input(func(in *Input) {
				in.Status = onStep(2, "10")
				in.Now = t0.Add(15 * time.Second)
				in.Verdict = mismatched(failing())
			}),
			phase: PhaseFailed, step: 2, weight: "0", traffic: noCanary, events: []string{"RolledBack"},
			check: func(t *testing.T, d Decision) {
				assert.Contains(t, d.Status.Message, "evidence of regression")
				assert.Contains(t, d.Status.Message, "the data plane sent", "the message says the split was off too")
			},
		},
		{
			name: "a split mismatch holds a step at its bound instead of failing it inconclusive", in: input(func(in *Input) {
				in.Spec = spec(func(s *annotations.Spec) { s.Analysis.MaxStepDuration = 10 * time.Minute })
				in.Status = onStep(1, "5")
				in.Now = t0.Add(10 * time.Minute)
				in.Verdict = mismatched(looked(120, 0, 2280, 0))
			}),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500), events: []string{"SplitMismatch"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) {
				assert.Equal(t, 1, d.Status.NoData, "it counts toward no-data-limit")
			},
		},
		{
			name: "at max-step-duration an inconclusive step fails by default", in: input(func(in *Input) {
				in.Spec = spec(func(s *annotations.Spec) { s.Analysis.MaxStepDuration = 10 * time.Minute })
				in.Status = onStep(1, "5")
				in.Now = t0.Add(10 * time.Minute)
				in.Verdict = looked(120, 0, 2280, 0)
			}),
			phase: PhaseFailed, step: 1, weight: "0", traffic: noCanary, events: []string{"RolledBack"},
			check: func(t *testing.T, d Decision) {
				assert.Contains(t, d.Status.Message, "inconclusive at this traffic after 10m0s")
			},
		},
		{
			name: "or passes with a Warning when inconclusive is promote", in: input(func(in *Input) {
				in.Spec = spec(func(s *annotations.Spec) {
					s.Analysis.MaxStepDuration = 10 * time.Minute
					s.Analysis.Inconclusive = annotations.InconclusivePromote
				})
				in.Status = onStep(1, "5")
				in.Now = t0.Add(10 * time.Minute)
				in.Verdict = looked(120, 0, 2280, 0)
			}),
			phase: PhaseProgressing, step: 2, weight: "10", traffic: canaryAt(1000), events: []string{"Inconclusive", "StepStarted"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) {
				assert.True(t, d.Events[0].Warning)
				assert.Contains(t, d.Events[0].Message, "inconclusive at this traffic")
			},
		},
		{
			name: "a waiting step looks again at its bound if that comes first", in: input(func(in *Input) {
				in.Spec = spec(func(s *annotations.Spec) { s.Analysis.MaxStepDuration = 90 * time.Second })
				in.Status = onStep(1, "5")
				in.Status.NextCheck = at(2 * time.Minute)
				in.Now = t0.Add(70 * time.Second)
			}),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500), requeue: 20 * time.Second,
		},
		{
			name: "Prometheus unavailable holds with a Warning", in: input(func(in *Input) {
				in.Status = onStep(1, "5")
				in.Verdict = &analysis.Verdict{Outcome: analysis.Unavailable, Reason: "connection refused"}
			}),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500), events: []string{"PrometheusUnavailable"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) { assert.True(t, d.Events[0].Warning) },
		},
		{
			name: "no-data-limit exceeded fails the rollout", in: input(func(in *Input) {
				in.Status = onStep(1, "5")
				in.Status.NoData = 10
				in.Verdict = &analysis.Verdict{Outcome: analysis.Unavailable, Reason: "connection refused"}
			}),
			phase: PhaseFailed, step: 1, weight: "0", traffic: noCanary, events: []string{"RolledBack"},
			check: func(t *testing.T, d Decision) { assert.Contains(t, d.Events[0].Message, "no measurement for 11 looks") },
		},
		{
			name: "a pass resets the no-data count", in: input(func(in *Input) {
				in.Status = onStep(1, "5")
				in.Status.NoData = 4
				in.Verdict = healthy()
			}),
			phase: PhaseProgressing, step: 2, weight: "10", traffic: canaryAt(1000), events: []string{"StepStarted"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) { assert.Zero(t, d.Status.NoData) },
		},
		{
			name: "pause holds the weight", in: input(func(in *Input) { in.Status = onStep(2, "10"); in.Commands.Pause = true }),
			phase: PhasePaused, step: 2, weight: "10", traffic: canaryAt(1000), events: []string{"Paused"},
			check: func(t *testing.T, d Decision) { assert.True(t, d.ClearCommands) },
		},
		{
			name: "paused stays paused even when a window would be due", in: input(func(in *Input) {
				in.Status = onStep(2, "10")
				in.Status.Phase = PhasePaused
				in.Now = t0.Add(time.Hour)
			}),
			phase: PhasePaused, step: 2, weight: "10", traffic: canaryAt(1000),
		},
		{
			name: "resume continues the same step with a new window", in: input(func(in *Input) {
				in.Status = onStep(2, "10")
				in.Status.Phase = PhasePaused
				in.Commands.Resume = true
			}),
			phase: PhaseProgressing, step: 2, weight: "10", traffic: canaryAt(1000), events: []string{"StepStarted"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) { assert.Equal(t, at(time.Minute), d.Status.StepStarted) },
		},
		{
			name: "resume does not skip a manual promotion", in: input(func(in *Input) {
				in.Status = onStep(3, "50")
				in.Status.Phase, in.Status.AwaitingPromotion = PhasePaused, true
				in.Commands.Resume = true
			}),
			phase: PhasePaused, step: 3, weight: "50", traffic: canaryAt(5000), events: []string{"CommandIgnored"},
			check: func(t *testing.T, d Decision) { assert.True(t, d.ClearCommands) },
		},
		{
			name: "promote skips the remaining steps", in: input(func(in *Input) { in.Status = onStep(1, "5"); in.Commands.Promote = true }),
			phase: PhasePromoting, step: 1, weight: "100", traffic: promoting,
			events: []string{"PromoteRequested", "Promoting"}, requeue: 5 * time.Second,
		},
		{
			name: "manual promotion by command", in: input(func(in *Input) {
				in.Spec = spec(func(s *annotations.Spec) { s.Promotion = annotations.PromotionManual })
				in.Status = onStep(3, "50")
				in.Status.Phase, in.Status.AwaitingPromotion = PhasePaused, true
				in.Commands.Promote = true
			}),
			phase: PhasePromoting, step: 3, weight: "100", traffic: promoting,
			events: []string{"PromoteRequested", "Promoting"}, requeue: 5 * time.Second,
		},
		{
			name: "abort rolls back now", in: input(func(in *Input) { in.Status = onStep(2, "10"); in.Commands.Abort = true }),
			phase: PhaseFailed, step: 2, weight: "0", traffic: noCanary, events: []string{"RolledBack"},
			check: func(t *testing.T, d Decision) {
				assert.True(t, d.ClearCommands)
				assert.Contains(t, d.Status.Message, "aborted")
			},
		},
		{
			name: "abort works even with a broken spec", in: input(func(in *Input) {
				in.Status = onStep(2, "10")
				in.Spec, in.Invalid = nil, errors.New("bad steps")
				in.Commands.Abort = true
			}),
			phase: PhaseFailed, step: 2, weight: "0", traffic: noCanary, events: []string{"RolledBack"},
		},
		{
			name: "abort after the primary switched is refused", in: input(func(in *Input) {
				in.Status = Status{Phase: PhasePromoting, Revision: "web-v2", Step: 3, Weight: percent("100"), Stage: StageSwitched, StageStarted: at(58 * time.Second)}
				in.StableService = "web-v2"
				in.Commands.Abort = true
			}),
			phase: PhasePromoting, step: 3, weight: "100", traffic: &Traffic{Canary: true, Weight: annotations.Full, SwitchPrimary: true, KeepStable: true},
			events: []string{"CommandIgnored"}, requeue: 3 * time.Second,
		},
		{
			name: "retry restarts a failed rollout", in: input(func(in *Input) {
				in.Status = Status{Phase: PhaseFailed, Revision: "web-v2", Step: 2, Weight: percent("0"), Failures: 1}
				in.Commands.Retry = true
			}),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500),
			events: []string{"RolloutRetried", "StepStarted"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) { assert.Zero(t, d.Status.Failures) },
		},
		{
			name: "a command that does not apply is removed with a Warning", in: input(func(in *Input) {
				in.Status = Status{Phase: PhaseFailed, Revision: "web-v2", Step: 2, Weight: percent("0")}
				in.Commands.Promote = true
			}),
			phase: PhaseFailed, step: 2, weight: "0", traffic: noCanary, events: []string{"CommandIgnored"},
			check: func(t *testing.T, d Decision) { assert.True(t, d.ClearCommands) },
		},
		{
			name: "failed stays failed", in: input(func(in *Input) { in.Status = Status{Phase: PhaseFailed, Revision: "web-v2", Weight: percent("0")} }),
			phase: PhaseFailed, weight: "0", traffic: noCanary,
		},
		{
			name: "promotion waits for nginx to apply 100 %", in: input(func(in *Input) {
				in.Status = Status{Phase: PhasePromoting, Revision: "web-v2", Step: 3, Weight: percent("100"), Stage: StageFullWeight, StageStarted: at(58 * time.Second)}
			}),
			phase: PhasePromoting, step: 3, weight: "100", traffic: promoting, requeue: 3 * time.Second,
		},
		{
			name: "promotion switches the primary after settling", in: input(func(in *Input) {
				in.Status = Status{Phase: PhasePromoting, Revision: "web-v2", Step: 3, Weight: percent("100"), Stage: StageFullWeight, StageStarted: at(50 * time.Second)}
			}),
			phase: PhasePromoting, step: 3, weight: "100", traffic: &Traffic{Canary: true, Weight: annotations.Full, SwitchPrimary: true, KeepStable: true},
			events: []string{"PrimarySwitched"}, requeue: 5 * time.Second,
			check: func(t *testing.T, d Decision) { assert.Equal(t, StageSwitched, d.Status.Stage) },
		},
		{
			name: "promotion ends by deleting the canary Ingress", in: input(func(in *Input) {
				in.Status = Status{Phase: PhasePromoting, Revision: "web-v2", Step: 3, Weight: percent("100"), Stage: StageSwitched, StageStarted: at(50 * time.Second)}
				in.StableService = "web-v2"
			}),
			phase: PhaseSucceeded, step: 3, weight: "100", traffic: keeping, events: []string{"Promoted"}, requeue: 10 * time.Second,
		},
		{
			name: "promote-by weight holds 100 % until the source changes", in: input(func(in *Input) {
				in.Spec = spec(func(s *annotations.Spec) { s.PromoteBy = annotations.PromoteByWeight })
				in.Status = Status{Phase: PhasePromoting, Revision: "web-v2", Step: 3, Weight: percent("100"), Stage: StageFullWeight, StageStarted: at(0)}
			}),
			phase: PhasePromoting, step: 3, weight: "100", traffic: promoting, events: []string{"AwaitingSourceUpdate"},
		},
		{
			name: "promote-by weight succeeds once the primary routes to the canary", in: input(func(in *Input) {
				in.Spec = spec(func(s *annotations.Spec) { s.PromoteBy = annotations.PromoteByWeight })
				in.Status = Status{Phase: PhasePromoting, Revision: "web-v2", Step: 3, Weight: percent("100"), Stage: StageFullWeight, StageStarted: at(0)}
				in.StableService = "web-v2"
			}),
			phase: PhaseSucceeded, step: 3, weight: "100", traffic: keeping, events: []string{"Promoted"}, requeue: 10 * time.Second,
		},
		{
			name: "succeeded stays succeeded with nothing to write", in: input(func(in *Input) {
				in.Status = Status{Phase: PhaseSucceeded, Revision: "web-v2", Step: 3, Weight: percent("100"), Updated: at(0)}
				in.StableService = "web-v2"
			}),
			phase: PhaseSucceeded, step: 3, weight: "100", traffic: noCanary,
		},
		{
			name: "a new canary-service mid-rollout restarts on it", in: input(func(in *Input) {
				in.Status = onStep(2, "10")
				in.Spec = spec(func(s *annotations.Spec) { s.CanaryService = "web-v3" })
			}),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500), events: []string{"RevisionChanged", "StepStarted"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) { assert.Equal(t, "web-v3", d.Status.Revision) },
		},
		{
			name: "a new revision after success starts a new rollout", in: input(func(in *Input) {
				in.Status = Status{Phase: PhaseSucceeded, Revision: "web-v2", Step: 3, Weight: percent("100")}
				in.Spec = spec(func(s *annotations.Spec) { s.CanaryService = "web-v3" })
				in.StableService = "web-v2"
			}),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500), events: []string{"RolloutStarted", "StepStarted"}, requeue: time.Minute,
		},
		{
			name: "canary-service removed mid-rollout cleans up and goes Idle", in: input(func(in *Input) { in.Status = onStep(2, "10"); in.Spec = nil }),
			phase: PhaseIdle, traffic: noCanary, events: []string{"RolloutCancelled"},
		},
		{
			name: "canary-service set back to the stable Service cancels", in: input(func(in *Input) {
				in.Status = onStep(2, "10")
				in.Spec = spec(func(s *annotations.Spec) { s.CanaryService = "web-v1" })
			}),
			phase: PhaseIdle, traffic: noCanary, events: []string{"RolloutCancelled"},
		},
		{
			name: "canary equal to stable with no history is Idle", in: input(func(in *Input) {
				in.Spec = spec(func(s *annotations.Spec) { s.CanaryService = "web-v1" })
			}),
			phase: PhaseIdle, traffic: noCanary,
		},
		{
			name: "invalid input mid-rollout leaves traffic alone", in: input(func(in *Input) {
				in.Status = onStep(2, "10")
				in.Spec, in.Invalid = nil, errors.New(`annotation ingress-canary.dev/steps="5,3" is invalid`)
			}),
			phase: PhaseInvalid, step: 2, weight: "10", traffic: nil, events: []string{"InvalidSpec"},
			check: func(t *testing.T, d Decision) {
				assert.True(t, d.Events[0].Warning)
				assert.Contains(t, d.Status.Message, `steps="5,3"`)
			},
		},
		{
			name: "the same invalid input again is silent", in: input(func(in *Input) {
				in.Status = onStep(2, "10")
				in.Status.Phase, in.Status.Message = PhaseInvalid, "bad"
				in.Spec, in.Invalid = nil, errors.New("bad")
			}),
			phase: PhaseInvalid, step: 2, weight: "10", traffic: nil,
		},
		{
			name: "a fixed spec resumes the same step", in: input(func(in *Input) {
				in.Status = onStep(2, "10")
				in.Status.Phase, in.Status.Message = PhaseInvalid, "bad"
			}),
			phase: PhaseProgressing, step: 2, weight: "10", traffic: canaryAt(1000), events: []string{"StepStarted"}, requeue: time.Minute,
		},
		{
			name: "invalid before any rollout", in: input(func(in *Input) { in.Spec, in.Invalid = nil, errors.New("bad") }),
			phase: PhaseInvalid, traffic: nil, events: []string{"InvalidSpec"},
		},
		{
			name: "blue-green previews at weight 0", in: input(func(in *Input) {
				in.Spec = spec(func(s *annotations.Spec) { s.Strategy = annotations.StrategyBlueGreen })
			}),
			phase: PhaseProgressing, step: 1, weight: "0", traffic: canaryAt(0), events: []string{"RolloutStarted", "StepStarted"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) { assert.Equal(t, 1, d.Status.Steps) },
		},
		{
			name: "blue-green switches to 100 % after its analysis passes", in: input(func(in *Input) {
				in.Spec = spec(func(s *annotations.Spec) { s.Strategy = annotations.StrategyBlueGreen })
				in.Status = onStep(1, "0")
				in.Verdict = healthy()
			}),
			phase: PhasePromoting, step: 1, weight: "100", traffic: promoting,
			events: []string{"AnalysisPassed", "Promoting"}, requeue: 5 * time.Second,
		},
		{
			name: "a rollout records the stable Service it replaces", in: input(func(in *Input) { in.Now = t0 }),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500),
			events: []string{"RolloutStarted", "StepStarted"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) { assert.Equal(t, "web-v1", d.Status.Stable) },
		},
		{
			name: "a shared stable upstream refuses a new rollout, with no traffic", in: input(func(in *Input) { in.Conflict = errors.New("shared") }),
			phase: PhaseInvalid, traffic: nil, events: []string{"InvalidSpec"},
		},
		{
			name: "a shared stable upstream keeps an Invalid rollout Invalid", in: input(func(in *Input) {
				in.Status = onStep(2, "10")
				in.Status.Phase, in.Status.Message = PhaseInvalid, "bad"
				in.Conflict = errors.New("shared")
			}),
			phase: PhaseInvalid, step: 2, weight: "10", traffic: nil, events: []string{"InvalidSpec"},
		},
		{
			name: "a shared stable upstream mid-rollout holds a passing step", in: input(func(in *Input) {
				in.Status = onStep(1, "5")
				in.Verdict = healthy()
				in.Conflict = errors.New("shared")
			}),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500), events: []string{"SharedStableService"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) {
				assert.Equal(t, "holding at weight 5 %: shared", d.Status.Message)
				assert.Equal(t, at(2*time.Minute), d.Status.NextCheck, "judged again a window later")
			},
		},
		{
			name: "a shared stable upstream between looks warns once", in: input(func(in *Input) {
				in.Status = onStep(1, "5")
				in.Status.Message = "holding at weight 5 %: shared"
				in.Now = t0.Add(20 * time.Second)
				in.Conflict = errors.New("shared")
			}),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500), requeue: 40 * time.Second,
		},
		{
			name: "a shared stable upstream never stops a rollback", in: input(func(in *Input) {
				in.Status = onStep(1, "5")
				in.Verdict = failing()
				in.Conflict = errors.New("shared")
			}),
			phase: PhaseFailed, step: 1, weight: "0", traffic: noCanary, events: []string{"RolledBack"},
		},
		{
			name: "a conflict leaves a finished rollout alone", in: input(func(in *Input) {
				in.Status = Status{Phase: PhaseFailed, Revision: "web-v2", Stable: "web-v1", Step: 1, Weight: percent("0"), Message: "rolled back: x"}
				in.Conflict = errors.New("shared")
			}),
			phase: PhaseFailed, step: 1, weight: "0", traffic: noCanary,
			check: func(t *testing.T, d Decision) { assert.Equal(t, "rolled back: x", d.Status.Message) },
		},
		{
			name: "a conflict refuses a retry", in: input(func(in *Input) {
				in.Status = Status{Phase: PhaseFailed, Revision: "web-v2", Stable: "web-v1", Step: 1, Weight: percent("0")}
				in.Commands.Retry = true
				in.Conflict = errors.New("shared")
			}),
			phase: PhaseInvalid, step: 1, weight: "0", traffic: nil, events: []string{"InvalidSpec"},
		},
		{
			name: "a promoted rollout keeps the old stable Service until KeepUntil", in: input(func(in *Input) {
				in.Status = Status{Phase: PhaseSucceeded, Revision: "web-v2", Stable: "web-v1", Step: 3, Weight: percent("100"), KeepUntil: at(time.Minute + 4*time.Second)}
				in.StableService = "web-v2"
			}),
			phase: PhaseSucceeded, step: 3, weight: "100", traffic: keeping, requeue: 4 * time.Second,
		},
		{
			name: "then lets it go", in: input(func(in *Input) {
				in.Status = Status{Phase: PhaseSucceeded, Revision: "web-v2", Stable: "web-v1", Step: 3, Weight: percent("100"), KeepUntil: at(time.Minute)}
				in.StableService = "web-v2"
			}),
			phase: PhaseSucceeded, step: 3, weight: "100", traffic: noCanary,
			check: func(t *testing.T, d Decision) { assert.Nil(t, d.Status.KeepUntil) },
		},
		{
			name: "a new stable-service mid-rollout restarts it", in: input(func(in *Input) {
				in.Status = onStep(2, "10")
				in.Status.Stable = "api-v1"
			}),
			phase: PhaseProgressing, step: 1, weight: "5", traffic: canaryAt(500), events: []string{"RevisionChanged", "StepStarted"}, requeue: time.Minute,
			check: func(t *testing.T, d Decision) {
				assert.Equal(t, "web-v1", d.Status.Stable)
				assert.Contains(t, d.Events[0].Message, "stable-service changed from api-v1 to web-v1 mid-rollout")
			},
		},
		{
			name: "after the switch the canary is the stable Service: promoted", in: input(func(in *Input) {
				in.Status = Status{Phase: PhasePromoting, Revision: "web-v2", Stable: "web-v1", Step: 3, Weight: percent("100"), Stage: StageSwitched, StageStarted: at(0)}
				in.StableService = "web-v2"
			}),
			phase: PhaseSucceeded, step: 3, weight: "100", traffic: keeping, events: []string{"Promoted"}, requeue: 10 * time.Second,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(cfg, tc.in)
			assert.Equal(t, tc.phase, d.Status.Phase, d.Status.Message)
			assert.Equal(t, tc.step, d.Status.Step)
			assert.Equal(t, tc.weight, d.Status.Weight.String())
			assert.Equal(t, tc.traffic, d.Traffic)
			assert.Equal(t, tc.events, reasons(d))
			assert.Equal(t, tc.requeue, d.RequeueAfter)
			if tc.check != nil {
				tc.check(t, d)
			}
			assertNeverRaisesOnTrouble(t, tc.in, d)
		})
	}
}

// assertNeverRaisesOnTrouble is the safety rule: bad input, a failed analysis, or
// no data never sends more traffic to the canary than before.
func assertNeverRaisesOnTrouble(t *testing.T, in Input, d Decision) {
	trouble := in.Invalid != nil || in.Conflict != nil
	if v := in.Verdict; v != nil {
		trouble = trouble || v.Outcome == analysis.Unavailable || v.Outcome == analysis.Mismatch
		if _, _, open := in.Status.Window(); open && in.Spec != nil && !trouble {
			sv, _ := JudgeLook(in.Spec, in.Status, v.Measurement, in.Now)
			trouble = sv.Outcome != analysis.Pass
		}
	}
	if !trouble || d.Traffic == nil || !d.Traffic.Canary {
		return
	}
	before := in.Status.Weight.Value()
	assert.LessOrEqual(t, d.Traffic.Weight, before, "weight raised on trouble")
}

func TestDecideUpdatedMovesOnlyOnChange(t *testing.T) {
	in := input(func(in *Input) { in.Status = onStep(2, "10"); in.Now = t0.Add(30 * time.Second) })
	d := Decide(cfg, in)
	assert.Equal(t, in.Status.Updated, d.Status.Updated)
	assert.Equal(t, in.Status.Encode(), d.Status.Encode(), "a status-only re-read must encode identically: no write")

	in.Verdict = healthy()
	in.Now = t0.Add(time.Minute)
	d = Decide(cfg, in)
	assert.Equal(t, at(time.Minute), d.Status.Updated)
}

// TestRestartResumesTheSameWindow replays a controller restart: the status read
// back from the annotation yields the same step and window start.
func TestRestartResumesTheSameWindow(t *testing.T) {
	first := Decide(cfg, input(func(in *Input) { in.Now = t0 }))
	reread, err := ParseStatus(first.Status.Encode())
	require.NoError(t, err)
	second := Decide(cfg, input(func(in *Input) { in.Status = reread; in.Now = t0.Add(30 * time.Second) }))
	assert.Equal(t, 1, second.Status.Step)
	assert.True(t, second.Status.StepStarted.Equal(t0))
	assert.Empty(t, second.Events)
	assert.Equal(t, 30*time.Second, second.RequeueAfter)
}

func TestStatusEncodeSurvivesNaN(t *testing.T) {
	s := onStep(1, "5")
	s.LastAnalysis = &LastAnalysis{LatencySeconds: nan(), Stable: analysis.Side{LatencySeconds: nan()}}
	got, err := ParseStatus(s.Encode())
	require.NoError(t, err)
	assert.Equal(t, -1.0, got.LastAnalysis.LatencySeconds)
	_, err = ParseStatus("{not json")
	assert.Error(t, err)
}

func TestDecideFastFailAndSplit(t *testing.T) {
	// Evidence of a regression rolls back before the step is due.
	d := Decide(cfg, input(func(in *Input) {
		in.Status = onStep(2, "10")
		in.Now = t0.Add(15 * time.Second)
		in.Verdict = failing()
	}))
	assert.Equal(t, PhaseFailed, d.Status.Phase)
	assert.Equal(t, noCanary, d.Traffic)

	// Nothing else decides before the status is due: holds and missing
	// measurements wait for it.
	for _, v := range []*analysis.Verdict{looked(30, 0, 270, 0), {Outcome: analysis.Unavailable, Reason: "x"}, {Outcome: analysis.Mismatch, Reason: "x"}} {
		in := input(func(in *Input) {
			in.Status = onStep(2, "10")
			in.Now = t0.Add(15 * time.Second)
			in.Verdict = v
		})
		d := Decide(cfg, in)
		assert.True(t, d.Status.SameAs(in.Status), "early %s", v.Outcome)
		assert.Empty(t, d.Events)
		assert.Equal(t, 45*time.Second, d.RequeueAfter)
	}

	// A split mismatch holds with a Warning and counts toward no-data-limit,
	// unless what the canary did get is evidence of a regression (the table
	// in TestDecide).
	d = Decide(cfg, input(func(in *Input) {
		in.Status = onStep(2, "10")
		in.Verdict = mismatched(looked(30, 0, 970, 0))
	}))
	assert.Equal(t, PhaseProgressing, d.Status.Phase)
	assert.Equal(t, 2, d.Status.Step)
	assert.Equal(t, 1, d.Status.NoData)
	assert.Equal(t, []string{"SplitMismatch"}, reasons(d))
	assert.True(t, d.Events[0].Warning)
}
