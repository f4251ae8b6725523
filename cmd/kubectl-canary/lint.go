package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	flag "github.com/spf13/pflag"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/preflight"
)

var lintCommand = command{
	name:  "lint",
	args:  "NAME",
	nargs: 1,
	short: "Check an Ingress as the controller would, without changing anything.",
	long: `
Runs the controller's own checks on the primary Ingress NAME: every
ingress-canary.dev annotation must parse, the Ingress class must be the one
ingress-nginx serves, the canary Service and its port must exist, the stable
Service must be clear, and no other canary Ingress or Ingress may conflict.
It reads Ingresses, the canary Service and its EndpointSlices; it writes
nothing.

Prints each problem (key, value, what was expected), or "ok" and a
forecast: how long the rollout should take if the canary is as healthy as
stable. The forecast is at the traffic Prometheus saw over the last hour
(--prometheus-url, the controller's own query), at --rps, or else at a few
example rates. Exits 3 when there are problems, so it can gate a pipeline.

Examples:
  kubectl canary lint web -n shop
  kubectl canary lint web --ingress-class nginx-internal -o json
  kubectl canary lint web --prometheus-url http://prometheus:9090
  kubectl canary lint web --rps 5 --error-rate 0.002
`,
	setup: func(fs *flag.FlagSet) runFunc {
		class := fs.String("ingress-class", "nginx", "Ingress class the controller drives (its --ingress-class).")
		var f forecastOptions
		fs.StringVar(&f.prometheusURL, "prometheus-url", "", "Prometheus to read the stable Service's last hour from, for the forecast.")
		fs.StringVar(&f.router, "router", "nginx", "Data plane whose metrics --prometheus-url holds: nginx or traefik.")
		fs.Float64Var(&f.rps, "rps", 0, "Forecast at this many requests per second to the Ingress instead.")
		fs.Float64Var(&f.errorRate, "error-rate", exampleErrorRate, "Stable's error ratio for --rps, e.g. 0.002.")
		return func(ctx context.Context, a *app, g globalOptions, args []string) error {
			return a.lint(ctx, g, args[0], *class, f)
		}
	},
}

// lintProblem is one rejected annotation or field, as the controller's Warning
// Event would name it. Key is the annotation key or, for any other field, the field.
type lintProblem struct {
	Key      string `json:"key"`
	Value    string `json:"value"`
	Expected string `json:"expected"`
}

// lintResult is the JSON form of `lint -o json`.
type lintResult struct {
	Namespace     string        `json:"namespace"`
	Name          string        `json:"name"`
	OK            bool          `json:"ok"`
	Problems      []lintProblem `json:"problems"`
	StableService string        `json:"stableService,omitempty"`
	CanaryReady   bool          `json:"canaryReady"`
	// Forecast says how long the rollout should take (see forecastLines).
	Forecast []string `json:"forecast,omitempty"`
	// Notes are what the rollout will do that the user may not expect.
	Notes []string `json:"notes,omitempty"`
}

func (a *app) lint(ctx context.Context, g globalOptions, name, ingressClass string, f forecastOptions) error {
	client, namespace, ing, err := a.connectAndGet(ctx, g, name)
	if err != nil {
		return err
	}
	report, err := preflight.Lint(ctx, client, ingressClass, ing)
	if err != nil {
		return err
	}
	result := lintResult{
		Namespace: namespace, Name: name, OK: len(report.Problems) == 0,
		Problems: []lintProblem{}, StableService: report.StableService, CanaryReady: report.CanaryReady,
	}
	for _, p := range report.Problems {
		key, value, expected, ok := preflight.Describe(p)
		if !ok {
			key, expected = "", p.Error()
		}
		result.Problems = append(result.Problems, lintProblem{Key: key, Value: value, Expected: expected})
	}
	if spec, err := annotations.Parse(ing.Annotations); result.OK && err == nil && spec != nil && spec.CanaryService != report.StableService {
		result.Forecast = forecastLines(ctx, f, spec, ing, report.StableService)
		result.Notes = latencyNotes(spec, f.router)
	}
	if g.output == outputJSON {
		err = writeJSON(a.stdout, result)
	} else {
		err = renderLint(a.stdout, result, ing.Annotations[annotations.KeyCanaryService])
	}
	if err != nil {
		return err
	}
	if !result.OK {
		return &exitCodeError{code: exitLintProblems}
	}
	return nil
}

// renderLint prints the problems as a table, or "ok" with what the rollout would do.
func renderLint(w io.Writer, r lintResult, canary string) error {
	if r.OK && canary == r.StableService {
		fmt.Fprintf(w, "ok: %s/%s already routes to %s; there is nothing to roll out\n", r.Namespace, r.Name, canary)
		return nil
	}
	if r.OK {
		fmt.Fprintf(w, "ok: %s/%s can roll out %s in place of %s\n", r.Namespace, r.Name, canary, r.StableService)
		if !r.CanaryReady {
			fmt.Fprintf(w, "note: Service %s has no ready endpoint yet; the first step waits until it has one\n", canary)
		}
		for _, f := range r.Forecast {
			fmt.Fprintf(w, "forecast: %s\n", f)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "note: %s\n", n)
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tEXPECTED")
	for _, p := range r.Problems {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Key, orNone(p.Value), p.Expected)
	}
	return tw.Flush()
}
