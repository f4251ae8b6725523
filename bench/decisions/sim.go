package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

// JudgeFunc turns one window's figures into a verdict, like analysis.Judge.
type JudgeFunc func(analysis.Measurement, analysis.Thresholds) analysis.Verdict

// Rule is one way of deciding: a judge for each window, and the annotations
// that configure the real state machine (steps, interval, failure-limit,
// no-data-limit) around it.
type Rule struct {
	Name string
	// Annotations are the user keys without the prefix, e.g. "failure-limit".
	Annotations map[string]string
	Judge       JudgeFunc
	// Confidence is passed to Judge in Thresholds; 0 is analysis's default.
	Confidence float64
	// FastFail, when set, adds a sequential check at every Slice between the
	// regular ones, handed to weights.Decide as Input.Interim.
	FastFail *FastFail
	// Interim, when set, also runs Judge on the open window at every Slice and
	// hands the verdict to weights.Decide as Input.Interim (which acts on a
	// Fail only), the way the controller's --analysis-tick (5s) does.
	Interim bool
	// InterimConfidence is the Thresholds.Confidence of the interim checks;
	// 0 means the same as the due ones.
	InterimConfidence float64
}

// Slice is the step of the fake clock: traffic is drawn in 5 s slices for
// every rule (the sum of Poisson draws is a Poisson draw, so the slicing
// changes nothing in distribution), which gives every rule the same traffic
// per scenario and lets the interim rules look at the window every 5 s, the
// controller's default --analysis-tick.
const Slice = 5 * time.Second

// Scenario is one kind of canary under one traffic level.
type Scenario struct {
	// RPS is the Ingress's total request rate; the canary gets the step weight's share.
	RPS float64
	// StableRate and CanaryRate are the true 5xx ratios.
	StableRate, CanaryRate float64
	// Bursty makes errors come in incidents of several (traffic.go).
	Bursty bool
	// Ramp makes the total rate fall during the rollout, as in the evening (traffic.go).
	Ramp bool
}

// Bad reports whether the canary is a regression that should be rolled back.
func (s Scenario) Bad() bool { return s.CanaryRate > s.StableRate }

// Outcome is how one simulated rollout ended.
type Outcome struct {
	Promoted, RolledBack bool
	// NoDataRollback marks a rollback by no-data-limit rather than a failed analysis.
	NoDataRollback bool
	// Inconclusive marks a verdict forced by a step's bound, not the evidence.
	Inconclusive bool
	// Elapsed is the time from the start to the promotion or rollback.
	Elapsed time.Duration
	// CanaryRequests and CanaryErrors are what the canary served before the end.
	CanaryRequests, CanaryErrors float64
	// ExcessErrors are canary 5xx beyond what the stable rate would have given
	// the same requests: the harm the rollout did.
	ExcessErrors float64
}

// maxSlices stops a rollout that never ends; no setting simulated comes near
// it (100000 slices of 5 s are almost six days).
const maxSlices = 100000

// Simulate runs one rollout of scenario under rule, drawing traffic from rng.
// Time is a fake clock advancing in Slices; each slice's requests are drawn
// as Poisson arrivals (so the canary and stable counts, and the errors among
// them, are independent Poisson draws) and added to the open window, which
// the rule judges when the window is due, and, for the interim rules, at
// every slice before that. The step rules are the fixed-window machine the
// controller ran before issue 15 (fixedWindow); the controller's own is
// SimulateController.
func Simulate(rule Rule, spec *annotations.Spec, sc Scenario, rng *rand.Rand) Outcome {
	th := thresholds(spec, rule.Confidence)
	m := newFixedWindow(spec)
	var out Outcome
	var window analysis.Measurement // accumulated since the window's start
	var windowStart time.Duration
	var now time.Duration
	for range maxSlices {
		if m.phase != weights.PhaseProgressing {
			break
		}
		if m.stepStarted != windowStart {
			// A new step, or a new window after a tolerated failure: count afresh.
			window, windowStart = analysis.Measurement{}, m.stepStarted
		}
		until := min(now+Slice, m.nextCheck)
		slice := drawSlice(rng, sc, m.share(), now, until-now)
		add(&window.Canary, slice.Canary)
		add(&window.Stable, slice.Stable)
		out.served(sc, slice.Canary)
		now = until
		due := now >= m.nextCheck
		if v, ok := rule.look(rated(window), th, due); ok {
			m.decide(v, due, now)
		}
	}
	out.Elapsed = now
	switch m.phase {
	case weights.PhasePromoting:
		out.Promoted = true
	case weights.PhaseFailed:
		out.RolledBack = true
		out.NoDataRollback = m.noDataRollback
	}
	return out
}

// look returns the rule's verdict on window: the due verdict when due, else
// an interim Fail when the rule has interim looks and they fail.
func (r Rule) look(window analysis.Measurement, th analysis.Thresholds, due bool) (analysis.Verdict, bool) {
	switch {
	case due:
		return r.Judge(window, th), true
	case r.FastFail != nil && r.FastFail.Crossed(window, th):
		return fastFailVerdict(window), true
	case r.Interim:
		if r.InterimConfidence > 0 {
			th.Confidence = r.InterimConfidence
		}
		v := r.Judge(window, th)
		return v, v.Outcome == analysis.Fail // an interim look acts on a Fail only
	}
	return analysis.Verdict{}, false
}

// SimulateController runs one rollout of scenario through weights.Decide,
// the controller's own state machine and judge, looking at every Slice (the
// controller's --analysis-tick) with the window's counts since the step
// began, as the controller measures them, after seeding the dispersion from
// an hour of stable's traffic, as the controller does at the start.
func SimulateController(spec *annotations.Spec, sc Scenario, rng *rand.Rand) Outcome {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	status := weights.Decide(weights.DefaultConfig, weights.Input{Spec: spec, StableService: "web-v1", CanaryReady: true, Now: t0}).Status
	var history analysis.DispersionEstimate
	for at := -compareHistory; at < 0; at += Slice {
		s := drawSlice(rng, sc, 0, at, Slice).Stable
		history.Add(s.Errors, s.Requests)
	}
	status.Dispersion = &history
	var out Outcome
	var window analysis.Measurement
	var windowStart time.Time
	now := t0
	for range maxSlices {
		if status.Phase != weights.PhaseProgressing || status.StepStarted == nil {
			break
		}
		if !status.StepStarted.Equal(windowStart) {
			window, windowStart = analysis.Measurement{}, *status.StepStarted
		}
		slice := drawSlice(rng, sc, shareOf(status), now.Sub(t0), Slice)
		add(&window.Canary, slice.Canary)
		add(&window.Stable, slice.Stable)
		out.served(sc, slice.Canary)
		now = now.Add(Slice)
		v := analysis.Verdict{Outcome: analysis.Hold, Measurement: rated(window)}
		status = weights.Decide(weights.DefaultConfig, weights.Input{
			Spec: spec, StableService: "web-v1", Status: status, CanaryReady: true, Now: now, Verdict: &v,
		}).Status
	}
	out.Elapsed = now.Sub(t0)
	switch status.Phase {
	case weights.PhasePromoting, weights.PhaseSucceeded:
		out.Promoted = true
	case weights.PhaseFailed:
		out.RolledBack = true
		out.Inconclusive = strings.Contains(status.Message, "inconclusive")
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// shareOf returns the canary's share of traffic at st's weight, 0 to 1.
func shareOf(st weights.Status) float64 {
	return st.Weight.Value().Ratio()
}

func add(dst *analysis.Side, s analysis.Side) {
	dst.Requests += s.Requests
	dst.Errors += s.Errors
}

// rated fills in the error rates the way Prometheus.Measure does, with the
// latency unknown (latency is not simulated and not gated).
func rated(m analysis.Measurement) analysis.Measurement {
	for _, s := range []*analysis.Side{&m.Canary, &m.Stable} {
		s.ErrorRate = 0
		if s.Requests > 0 {
			s.ErrorRate = s.Errors / s.Requests
		}
		s.LatencySeconds = -1
	}
	return m
}

func thresholds(spec *annotations.Spec, confidence float64) analysis.Thresholds {
	a := spec.Analysis
	return analysis.Thresholds{
		MaxErrorRate: a.MaxErrorRate, MaxLatency: a.MaxLatency, LatencyQuantile: a.LatencyQuantile,
		MinRequests: a.MinRequests, Confidence: confidence,
	}
}

// ParseRule builds the spec for rule through the real annotation parser.
func ParseRule(rule Rule) (*annotations.Spec, error) {
	ann := map[string]string{annotations.KeyCanaryService: "web-v2"}
	for k, v := range rule.Annotations {
		ann[annotations.Prefix+k] = v
	}
	spec, err := annotations.Parse(ann)
	if err != nil {
		return nil, fmt.Errorf("rule %q: %w", rule.Name, err)
	}
	return spec, nil
}

// FlaggerJudge is Flagger's request-success-rate check as a verdict: a window
// whose error rate is above max-error-rate is a failed check, and so is a
// window without a single canary request ("no values found"), which Flagger
// also counts as failed. There is no minimum sample. With failure-limit set to
// Flagger's threshold - 1, weights.Decide then does what Flagger's scheduler
// does: it counts failed checks over the whole rollout (a pass does not reset
// them), re-checks the same weight on a fresh window, and rolls back at the
// threshold.
func FlaggerJudge(m analysis.Measurement, th analysis.Thresholds) analysis.Verdict {
	v := analysis.Verdict{Measurement: m, Outcome: analysis.Pass}
	switch c := m.Canary; {
	case c.Requests == 0:
		v.Outcome, v.Reason = analysis.Fail, "no values found"
	case c.ErrorRate > th.MaxErrorRate:
		v.Outcome, v.Reason = analysis.Fail, "error rate above max"
	}
	return v
}

// Summary is the result of many rollouts of one scenario under one rule.
type Summary struct {
	Rule                                              string
	Scenario                                          Scenario
	Runs                                              int
	Promoted, RolledBack, NoDataRollbacks, Unfinished int
	// DetectMedian is the median time to rollback among rolled-back runs.
	DetectMedian time.Duration
	// PromoteMedian is the median time to promotion among promoted runs.
	PromoteMedian time.Duration
	// ExcessMean is the mean number of canary 5xx beyond the stable rate, per
	// rollout, served until the rollout ended (rollback or promotion).
	ExcessMean float64
}

// Run simulates runs rollouts of sc under rule. Each scenario gets its own
// stream from seed, so adding a rule or scenario does not change the others.
func Run(rule Rule, sc Scenario, runs int, seed uint64) (Summary, error) {
	spec, err := ParseRule(rule)
	if err != nil {
		return Summary{}, err
	}
	rng := rand.New(rand.NewPCG(seed, streamID(sc)))
	s := Summary{Rule: rule.Name, Scenario: sc, Runs: runs}
	var detect, promote []time.Duration
	for range runs {
		o := Simulate(rule, spec, sc, rng)
		switch {
		case o.Promoted:
			s.Promoted++
			promote = append(promote, o.Elapsed)
		case o.RolledBack:
			s.RolledBack++
			detect = append(detect, o.Elapsed)
			if o.NoDataRollback {
				s.NoDataRollbacks++
			}
		default:
			s.Unfinished++
		}
		s.ExcessMean += o.ExcessErrors / float64(runs)
	}
	s.DetectMedian, s.PromoteMedian = median(detect), median(promote)
	return s, nil
}

// streamID derives a stream from the scenario, so that every rule sees the
// same traffic for a scenario (common random numbers make rules comparable).
func streamID(sc Scenario) uint64 {
	id := math.Float64bits(sc.RPS)*31 ^ math.Float64bits(sc.CanaryRate)*17 ^ math.Float64bits(sc.StableRate)
	// Poisson and steady scenarios keep the streams they had before bursts
	// and ramps existed, so older tables reproduce.
	if sc.Bursty {
		id ^= 0x9e3779b97f4a7c15
	}
	if sc.Ramp {
		id ^= 0xbf58476d1ce4e5b9
	}
	return id
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return -1
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// Poisson draws from a Poisson distribution with mean lambda: Knuth's
// multiplication method for small means and Hörmann's PTRS (transformed
// rejection with squeeze, 1993, as numpy uses it) for large ones, both exact.
func Poisson(rng *rand.Rand, lambda float64) float64 {
	switch {
	case !(lambda > 0):
		return 0
	case lambda < 10:
		limit, prod, k := math.Exp(-lambda), rng.Float64(), 0
		for prod > limit {
			prod *= rng.Float64()
			k++
		}
		return float64(k)
	}
	slam, loglam := math.Sqrt(lambda), math.Log(lambda)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invAlpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := rng.Float64() - 0.5
		v := rng.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lambda + 0.43)
		if us >= 0.07 && v <= vr {
			return k
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invAlpha)-math.Log(a/(us*us)+b) <= -lambda+k*loglam-lg {
			return k
		}
	}
}
