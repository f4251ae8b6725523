package main

import (
	"context"
	"errors"
	"fmt"
	flag "github.com/spf13/pflag"
	"io"
	"strings"
)

// runFunc executes a command once its flags are parsed.
type runFunc func(ctx context.Context, a *app, g globalOptions, args []string) error

// command is one subcommand: its help text, its own flags and how it runs.
type command struct {
	name  string
	args  string // the positional part of the synopsis, e.g. "NAME"
	nargs int    // how many positional arguments it takes
	short string
	long  string
	// setup registers the command's own flags on fs and returns the function that
	// runs the command with their parsed values.
	setup func(fs *flag.FlagSet) runFunc
}

// commands is the table of subcommands, in the order help lists them.
var commands = []command{
	listCommand,
	statusCommand,
	startCommand,
	signalCommand("pause", "Hold the rollout at its current weight.",
		"The controller stops analysing and keeps the current weight until `resume`.\nIt applies to a Progressing rollout."),
	signalCommand("resume", "Continue a paused rollout.",
		"The controller starts the current step's window again.\nIt applies to a Paused rollout that does not wait for a manual promotion\n(use `promote` for that)."),
	signalCommand("abort", "Roll back now: remove the canary Ingress.",
		"All traffic goes back to the stable Service and the rollout ends Failed.\nIt applies to an active rollout (Progressing, Paused, Promoting) until the\nprimary's backend has been switched to the canary Service."),
	signalCommand("promote", "Promote now, skipping the remaining steps.",
		"It applies to a Progressing or Paused rollout, and is how a rollout with\ningress-canary.dev/promotion: manual ends once it waits at its last step."),
	signalCommand("retry", "Start a failed rollout again from its first step.",
		"It applies to a Failed rollout. Fix the cause first: `kubectl canary status`\nshows why it failed."),
	lintCommand,
}

func lookupCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// run parses the command's flags (global ones included, anywhere on the line),
// checks the arguments and runs it.
func (c command) run(ctx context.Context, a *app, args []string) error {
	var g globalOptions
	fs := newFlagSet(c.name)
	addGlobalFlags(fs, &g)
	exec := c.setup(fs)
	positional, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printCommandUsage(a.stdout, c)
		return errHelp
	}
	if err != nil {
		return usagef(c.name, "%s", err)
	}
	if err := g.validate(c.name); err != nil {
		return err
	}
	if len(positional) != c.nargs {
		if c.nargs == 0 {
			return usagef(c.name, "%s takes no arguments, got %q", c.name, strings.Join(positional, " "))
		}
		return usagef(c.name, "%s needs exactly one Ingress %s, got %d argument(s)", c.name, c.args, len(positional))
	}
	if g.allNamespaces && c.nargs > 0 {
		return usagef(c.name, "--all-namespaces does not apply to %s: name one Ingress with -n NAMESPACE", c.name)
	}
	return exec(ctx, a, g, positional)
}

func printTopUsage(w io.Writer) {
	fmt.Fprint(w, `kubectl canary drives ingress-canary rollouts: progressive, Prometheus-gated
canary releases of an annotated Ingress on ingress-nginx.

Usage:
  kubectl canary COMMAND [NAME] [flags]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.short)
	}
	fmt.Fprint(w, `
Examples:
  kubectl canary start web --to web-v2 --steps 5,25,50 --interval 2m
  kubectl canary status web --watch
  kubectl canary list -A

Global flags:
`)
	fs := newFlagSet("")
	addGlobalFlags(fs, &globalOptions{})
	printFlags(w, fs)
	fmt.Fprint(w, `
Exit codes: 0 success, 1 runtime or API error, 2 usage error, 3 lint found
problems, 4 status --exit-code saw a Failed or Invalid rollout.

Use "kubectl canary COMMAND --help" for more about a command.
`)
}

func printCommandUsage(w io.Writer, c command) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  kubectl canary %s", c.short, c.name)
	if c.args != "" {
		fmt.Fprintf(w, " %s", c.args)
	}
	fmt.Fprintf(w, " [flags]\n\n%s\n", strings.TrimSpace(c.long))
	own := newFlagSet(c.name)
	c.setup(own)
	if hasFlags(own) {
		fmt.Fprint(w, "\nFlags:\n")
		printFlags(w, own)
	}
	global := newFlagSet("")
	addGlobalFlags(global, &globalOptions{})
	fmt.Fprint(w, "\nGlobal flags:\n")
	printFlags(w, global)
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}
