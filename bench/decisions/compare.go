package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
)

// The comparison of issue 15: today's judge, Flagger's rule, the sequential
// judge and the fixed-sample limit, on the same seeds, over traffic levels,
// error models and traffic shapes.
var (
	compareRPS     = []float64{1, 5, 20, 200}
	compareWeights = []float64{0.05, 0.10, 0.25, 0.50}
)

// The sequential judge's settings in the comparison: the policy's defaults,
// interval 1m as today's default, and a bound of two hours per step.
const (
	compareMinStep = time.Minute
	compareMaxStep = 2 * time.Hour
	compareLook    = 15 * time.Second
	compareHistory = time.Hour
)

// Contender is one way of deciding a whole rollout.
type Contender struct {
	Name     string
	Simulate func(Scenario, *rand.Rand) Outcome
}

// Contenders returns the rules compared, in table order.
func Contenders() ([]Contender, error) {
	var out []Contender
	for _, r := range Rules()[:3] { // today's defaults and Flagger's thresholds 1 and 5
		spec, err := ParseRule(r)
		if err != nil {
			return nil, err
		}
		out = append(out, Contender{Name: r.Name, Simulate: func(sc Scenario, rng *rand.Rand) Outcome {
			return Simulate(r, spec, sc, rng)
		}})
	}
	seq := Sequential{
		Policy:  analysis.SequentialPolicy{MaxErrorRate: 0.01},
		Weights: compareWeights, MinStep: compareMinStep, MaxStep: compareMaxStep, Look: compareLook,
		EstimateDispersion: true, History: compareHistory, AtBound: analysis.FailAtBound,
	}
	controller, err := annotations.Parse(map[string]string{
		annotations.KeyCanaryService: "web-v2", annotations.KeySteps: weightsString(compareWeights),
		annotations.KeyInterval: compareMinStep.String(), annotations.KeyMaxStepDuration: compareMaxStep.String(),
	})
	if err != nil {
		return nil, err
	}
	out = append(out, Contender{Name: controllerName, Simulate: func(sc Scenario, rng *rand.Rand) Outcome {
		return SimulateController(controller, sc, rng)
	}})
	limit := NewFixedSampleLimit(Baseline, analysis.DefaultSequentialAlpha, analysis.DefaultSequentialBeta, compareWeights, compareMinStep)
	return append(out,
		Contender{Name: sequentialName, Simulate: seq.Simulate},
		Contender{Name: limitName, Simulate: limit.Simulate},
	), nil
}

const (
	// controllerName is the controller's own code: weights.Decide with the
	// default annotations but the compared steps, looked at every 5 s.
	controllerName = "controller (weights.Decide)"
	sequentialName = "sequential (new)"
	limitName      = "fixed-sample limit"
)

// CompareScenarios returns every traffic level × error model × traffic
// shape × canary quality.
func CompareScenarios() []Scenario {
	var out []Scenario
	for _, rps := range compareRPS {
		for _, bursty := range []bool{false, true} {
			for _, ramp := range []bool{false, true} {
				for _, k := range multipliers {
					out = append(out, Scenario{RPS: rps, StableRate: Baseline, CanaryRate: k * Baseline, Bursty: bursty, Ramp: ramp})
				}
			}
		}
	}
	return out
}

// Cell is the result of many rollouts of one scenario by one contender.
type Cell struct {
	Contender                        string
	Scenario                         Scenario
	Runs                             int
	Promoted, RolledBack, Unfinished int
	// Inconclusive counts runs rolled back at a step's bound: with
	// PromoteAtBound they would have been promoted instead, at the same time.
	Inconclusive int
	// Median is the median time to a decision, over the decided runs.
	Median time.Duration
}

// RunCompare runs every contender on every scenario, in parallel. Each
// scenario has its own stream from seed, the same for every contender.
func RunCompare(contenders []Contender, scenarios []Scenario, runs int, seed uint64) []Cell {
	type job struct{ i, c, s int }
	out := make([]Cell, len(contenders)*len(scenarios))
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for j := range jobs {
				out[j.i] = runCell(contenders[j.c], scenarios[j.s], runs, seed)
			}
		})
	}
	for c := range contenders {
		for s := range scenarios {
			jobs <- job{c*len(scenarios) + s, c, s}
		}
	}
	close(jobs)
	wg.Wait()
	return out
}

func runCell(c Contender, sc Scenario, runs int, seed uint64) Cell {
	rng := rand.New(rand.NewPCG(seed, streamID(sc)))
	cell := Cell{Contender: c.Name, Scenario: sc, Runs: runs}
	var decided []time.Duration
	for range runs {
		o := c.Simulate(sc, rng)
		switch {
		case o.Promoted:
			cell.Promoted++
		case o.RolledBack:
			cell.RolledBack++
		default:
			cell.Unfinished++
			continue
		}
		if o.Inconclusive {
			cell.Inconclusive++
		}
		decided = append(decided, o.Elapsed)
	}
	cell.Median = median(decided)
	return cell
}

// WriteCompare writes the comparison as markdown, one row per traffic
// level, error model, traffic shape and contender.
func WriteCompare(w io.Writer, names []string, cells []Cell, runs int, seed uint64) {
	fmt.Fprintf(w, "Command: `nice go run ./bench/decisions -compare -seed %d -runs %d -write` (Go %s, %d CPUs).\n\n",
		seed, runs, strings.TrimPrefix(runtime.Version(), "go"), runtime.NumCPU())
	fmt.Fprintf(w, "%d rollouts per cell. Stable 5xx ratio %.1f %%; healthy canary the same, bad ones 2× and 5×. Steps %s, interval 1m, max-error-rate 1%%. "+
		"*Bursty*: errors in incidents of a geometric number of errors, mean %g (variance %g× the mean). *Ramp*: total traffic falls linearly to %g× over %s, then stays. "+
		"Sequential: defaults of `analysis.SequentialPolicy` (α %g, β %g, margin %g× at the last step), evidence read every %s, errors divided by the 90 %% upper bound of their dispersion, estimated from stable's counts per look over the %s before the rollout and during it, max-step-duration %s, fail at the bound.\n\n",
		runs, Baseline*100, weightsString(compareWeights), BurstMean, BurstDispersion, rampFloor, rampLength,
		analysis.DefaultSequentialAlpha, analysis.DefaultSequentialBeta, 1+analysis.DefaultMargin, compareLook, compareHistory, compareMaxStep)
	fmt.Fprintln(w, "| rps | errors | traffic | rule | healthy rolled back | 2× promoted | 5× promoted | healthy: median min to decision | 2×: median min | 5×: median min |")
	fmt.Fprintln(w, "|---:|---|---|---|---:|---:|---:|---:|---:|---:|")
	byKey := map[string]Cell{}
	for _, c := range cells {
		byKey[compareKey(c.Contender, c.Scenario.RPS, c.Scenario.CanaryRate, c.Scenario.Bursty, c.Scenario.Ramp)] = c
	}
	for _, rps := range compareRPS {
		for _, bursty := range []bool{false, true} {
			for _, ramp := range []bool{false, true} {
				get := func(name string, k float64) Cell { return byKey[compareKey(name, rps, k*Baseline, bursty, ramp)] }
				for _, name := range names {
					h, x2, x5 := get(name, 1), get(name, 2), get(name, 5)
					fmt.Fprintf(w, "| %g | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
						rps, pick(bursty, "bursty", "Poisson"), pick(ramp, "ramp", "steady"), name,
						rolledBack(h), promoted(x2), promoted(x5),
						versusLimit(h, get(limitName, 1)), versusLimit(x2, get(limitName, 2)), versusLimit(x5, get(limitName, 5)))
				}
			}
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Columns: percentages of the rollouts of a cell. In brackets after *rolled back*: how many of those rollouts the sequential judge rolled back at max-step-duration, inconclusive; after *promoted*: how many more percent would be promoted if the bound promoted instead (`AtBound: promote`); "+
		"a trailing *u* counts rollouts still running after 100000 slices of 5 s. Times are medians over the decided rollouts, in minutes from the start; in brackets, the ratio to the fixed-sample limit's median in the same cell.")
}

func compareKey(name string, rps, rate float64, bursty, ramp bool) string {
	return fmt.Sprintf("%s|%g|%g|%t|%t", name, rps, rate, bursty, ramp)
}

func pick(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func weightsString(ws []float64) string {
	var parts []string
	for _, w := range ws {
		parts = append(parts, fmt.Sprintf("%g", w*100))
	}
	return strings.Join(parts, ",")
}

func rolledBack(c Cell) string {
	out := percentOf(c.RolledBack, c.Runs)
	if c.Inconclusive > 0 {
		out += fmt.Sprintf(" (%d at bound)", c.Inconclusive)
	}
	return out + unfinished(c)
}

func promoted(c Cell) string {
	out := percentOf(c.Promoted, c.Runs)
	if c.Inconclusive > 0 {
		out += " (+" + percentOf(c.Inconclusive, c.Runs) + ")"
	}
	return out + unfinished(c)
}

func unfinished(c Cell) string {
	if c.Unfinished == 0 {
		return ""
	}
	return fmt.Sprintf(" %du", c.Unfinished)
}

func versusLimit(c, limit Cell) string {
	out := minutes(c.Median)
	if c.Contender != limitName && c.Median > 0 && limit.Median > 0 {
		out += fmt.Sprintf(" (%.1f×)", float64(c.Median)/float64(limit.Median))
	}
	return out
}
