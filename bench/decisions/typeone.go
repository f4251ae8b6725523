package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// The heavier check of the e-processes' error rates that the unit tests are
// too short for (-typeone): simulated traffic at the null's boundary, the
// evidence read at every look for hours, on observed shares drawn from the
// traffic and, for bursty errors, divided by the estimated dispersion. By
// Ville's inequality the share of runs that ever cross is at most the level.
const (
	typeOneHorizon = 4 * time.Hour
	typeOneStep    = 10 * time.Minute
)

// typeOneCase is one e-process at its null's boundary.
type typeOneCase struct {
	name  string
	ratio float64 // the canary's true error rate over stable's
	level float64
	read  func(analysis.Evidence, analysis.Mixture) float64
}

func typeOneCases() []typeOneCase {
	return []typeOneCase{
		{"regression evidence, canary = stable", 1, analysis.DefaultSequentialAlpha,
			func(e analysis.Evidence, m analysis.Mixture) float64 { return e.LogWorseThan(1, m) }},
		{"pass evidence (≤ 2×), canary = 2× stable", 2, analysis.DefaultSequentialBeta,
			func(e analysis.Evidence, m analysis.Mixture) float64 { return e.LogBetterThan(2, m) }},
	}
}

// WriteTypeOne runs reps runs of every case at every traffic level and
// error model and writes the share that ever crossed.
func WriteTypeOne(w io.Writer, reps int, seed uint64) {
	fmt.Fprintf(w, "Command: `nice go run ./bench/decisions -typeone -seed %d -runs %d`.\n\n", seed, reps)
	fmt.Fprintf(w, "Each run: %s of traffic, steps %s changing every %s, evidence read every %s on the observed shares; bursty errors divided by the 90 %% upper bound of the dispersion estimated from stable's counts (an hour of history first).\n\n",
		typeOneHorizon, weightsString(compareWeights), typeOneStep, compareLook)
	fmt.Fprintln(w, "| e-process | rps | errors | ever crossed | level |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|")
	for _, c := range typeOneCases() {
		for _, rps := range []float64{5, 20, 200} {
			for _, bursty := range []bool{false, true} {
				sc := Scenario{RPS: rps, StableRate: Baseline, CanaryRate: c.ratio * Baseline, Bursty: bursty}
				rate := typeOneRate(c, sc, reps, seed)
				fmt.Fprintf(w, "| %s | %g | %s | %.2f %% ± %.2f | %g %% |\n", c.name, rps, pick(bursty, "bursty", "Poisson"),
					100*rate, 100*math.Sqrt(rate*(1-rate)/float64(reps)), 100*c.level)
			}
		}
	}
}

func typeOneRate(c typeOneCase, sc Scenario, reps int, seed uint64) float64 {
	rng := rand.New(rand.NewPCG(seed, streamID(sc)))
	q := Sequential{Look: compareLook, History: compareHistory, EstimateDispersion: sc.Bursty}
	crossed := 0
	for range reps {
		if typeOneCrosses(c, sc, q, rng) {
			crossed++
		}
	}
	return float64(crossed) / float64(reps)
}

// typeOneCrosses runs one rollout's worth of traffic and says whether the
// evidence ever reached its line.
func typeOneCrosses(c typeOneCase, sc Scenario, q Sequential, rng *rand.Rand) bool {
	var ev analysis.Evidence
	dispersion := q.history(sc, rng)
	var m analysis.Mixture
	line := math.Log(1 / c.level)
	for now := time.Duration(0); now < typeOneHorizon; now += q.Look {
		step := min(int(now/typeOneStep), len(compareWeights)-1)
		if now > 0 && now%typeOneStep == 0 && int(now/typeOneStep) < len(compareWeights) {
			ev.CloseSegment()
		}
		slice := drawSlice(rng, sc, compareWeights[step], now, q.Look)
		cs, ss := slice.Canary, slice.Stable
		ev.Add(analysis.Counts{CanaryRequests: cs.Requests, CanaryEvents: cs.Errors, StableRequests: ss.Requests, StableEvents: ss.Errors})
		if q.EstimateDispersion {
			dispersion.Add(ss.Errors, ss.Requests)
			m.Dispersion = dispersion.MixtureDispersion()
		}
		if c.read(ev, m) >= line {
			return true
		}
	}
	return false
}
