package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// ingressPlan is one Ingress of the fleet and the traffic the fake
// ingress-nginx gives it.
type ingressPlan struct {
	Namespace, Name string
	// Rate is its requests per second; Errors the share answered 5xx, on
	// both sides (a healthy canary errs like stable).
	Rate, Errors float64
	// CanaryErrors, when set, is the canary's share of 5xx instead, once its
	// weight is past FailsPast (-failing).
	CanaryErrors, FailsPast float64
	// Run is the run whose rollouts include it, or -1.
	Run int
}

// Stable is the Service the Ingress routes to; Canary the one its rollout
// moves to.
func (p ingressPlan) Stable() string { return p.Name }
func (p ingressPlan) Canary() string { return p.Name + "-v2" }

// fleet is every Ingress and which of them each run rolls out.
type fleet struct {
	ingresses []ingressPlan
	runs      [][]int // run -> indices into ingresses
	index     map[string]int
}

// planFleet names the Ingresses (100 per namespace) and gives run k the
// Ingresses i*stride+k, so that every run's rollouts are spread over all
// namespaces and no two runs share one. Rates are log-uniform between 0.05
// and 50 requests/s, and 50 to 200 for the Ingresses with a rollout, so that
// even the first step's 10 % brings min-requests (50) within a 30 s window.
func planFleet(cfg Config) (*fleet, error) {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5ca1e))
	f := &fleet{index: map[string]int{}}
	for i := range cfg.Ingresses {
		p := ingressPlan{Namespace: fmt.Sprintf("ns%03d", i/100), Name: fmt.Sprintf("app%05d", i), Run: -1}
		p.Rate = 0.05 * math.Pow(50/0.05, rng.Float64())
		if i%5 == 0 {
			p.Errors = 0.005
		}
		f.index[p.Namespace+"/"+p.Name] = i
		f.ingresses = append(f.ingresses, p)
	}
	for _, r := range cfg.Runs() {
		stride := cfg.Ingresses / r.Rollouts
		var idx []int
		for i := range r.Rollouts {
			j := i*stride + r.Index
			p := &f.ingresses[j]
			if p.Run >= 0 {
				return nil, fmt.Errorf("Ingress %d is in runs %d and %d", j, p.Run, r.Index)
			}
			p.Run = r.Index
			p.Rate = 50 * math.Pow(4, rng.Float64())
			if i < cfg.Failing {
				p.CanaryErrors, p.FailsPast = failingErrors, cfg.firstStep
			}
			idx = append(idx, j)
		}
		f.runs = append(f.runs, idx)
	}
	return f, nil
}

// failingErrors is the share of 5xx of a failing canary (-failing).
const failingErrors = 0.3

// canaryErrors is the share of 5xx p's canary answers at weight (a share).
// A failing canary is healthy at the first step and regresses at the second,
// as a release that breaks only under more load does: its rollback then comes
// while every other rollout steps, which is when it must not wait.
func (p ingressPlan) canaryErrors(weight float64) float64 {
	if p.CanaryErrors > 0 && weight > p.FailsPast {
		return p.CanaryErrors
	}
	return p.Errors
}

// lookup finds an Ingress of the fleet by namespace and name.
func (f *fleet) lookup(namespace, name string) (ingressPlan, bool) {
	i, ok := f.index[namespace+"/"+name]
	if !ok {
		return ingressPlan{}, false
	}
	return f.ingresses[i], true
}

// runLabel marks the primaries of one run, so that its watch sees only them.
const runLabel = "scale-bench.ingress-canary.dev/run"

func runLabelValue(run int) string { return strconv.Itoa(run) }
