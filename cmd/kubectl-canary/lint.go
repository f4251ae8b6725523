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

Prints each problem (key, value, what was expected), or "ok". Exits 3 when
there are problems, so it can gate a pipeline.

Examples:
  kubectl canary lint web -n shop
  kubectl canary lint web --ingress-class nginx-internal -o json
`,
	setup: func(fs *flag.FlagSet) runFunc {
		class := fs.String("ingress-class", "nginx", "Ingress class the controller drives (its --ingress-class).")
		return func(ctx context.Context, a *app, g globalOptions, args []string) error {
			return a.lint(ctx, g, args[0], *class)
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
}

func (a *app) lint(ctx context.Context, g globalOptions, name, ingressClass string) error {
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
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tEXPECTED")
	for _, p := range r.Problems {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Key, orNone(p.Value), p.Expected)
	}
	return tw.Flush()
}
