package main

import (
	"context"
	"errors"
	"fmt"
	flag "github.com/spf13/pflag"
	"io"
	"os"
	"time"

	"k8s.io/client-go/kubernetes"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
)

// Exit codes; main.go's package comment documents them for users.
const (
	exitOK            = 0
	exitError         = 1
	exitUsage         = 2
	exitLintProblems  = 3
	exitRolloutFailed = 4
)

// app is the plugin with its outside world injected, so that tests run commands
// against a fake clientset, a fixed clock and buffers.
type app struct {
	stdout, stderr io.Writer
	// connect builds a client from the global flags and resolves the namespace.
	connect func(globalOptions) (kubernetes.Interface, string, error)
	// connectRoutes builds a Gateway API client; nil: HTTPRoutes are not read.
	connectRoutes func(globalOptions) (gwclient.Interface, error)
	now           func() time.Time
	// sleep waits between redraws of `status --watch`; it returns early with the
	// context's error when the user presses Ctrl-C.
	sleep func(ctx context.Context, d time.Duration) error
	// terminal reports whether stdout is a terminal, where a watch clears the
	// screen between redraws instead of appending.
	terminal bool
}

func newApp(stdout, stderr *os.File) *app {
	return &app{
		stdout:        stdout,
		stderr:        stderr,
		connect:       connect,
		connectRoutes: connectRoutes,
		now:           time.Now,
		sleep:         sleepContext,
		terminal:      isTerminal(stdout),
	}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// usageError is a mistake in the command line: exit 2, with a pointer to --help.
type usageError struct {
	command string
	msg     string
}

func (e *usageError) Error() string { return e.msg }

func usagef(command, format string, args ...any) error {
	return &usageError{command: command, msg: fmt.Sprintf(format, args...)}
}

// exitCodeError ends the program with a code after the command has already said
// what it had to say (lint problems, a failed rollout).
type exitCodeError struct{ code int }

func (e *exitCodeError) Error() string { return fmt.Sprintf("exit code %d", e.code) }

// errHelp means --help was asked for and printed: success.
var errHelp = errors.New("help requested")

// run executes one command line and returns the exit code.
func (a *app) run(ctx context.Context, args []string) int {
	err := a.dispatch(ctx, args)
	var usage *usageError
	var code *exitCodeError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &code):
		return code.code
	case errors.As(err, &usage):
		fmt.Fprintf(a.stderr, "error: %s\n", usage.msg)
		hint := "kubectl canary --help"
		if usage.command != "" {
			hint = "kubectl canary " + usage.command + " --help"
		}
		fmt.Fprintf(a.stderr, "See '%s' for usage.\n", hint)
		return exitUsage
	default:
		fmt.Fprintf(a.stderr, "error: %s\n", err)
		return exitError
	}
}

// dispatch finds the subcommand. Global flags may come before it (kubectl canary
// -n shop list) or anywhere after it, as with kubectl.
func (a *app) dispatch(ctx context.Context, args []string) error {
	var g globalOptions
	fs := newFlagSet("")
	addGlobalFlags(fs, &g)
	fs.SetInterspersed(false) // stop at the command's name; its own flags follow
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printTopUsage(a.stdout)
			return errHelp
		}
		return usagef("", "%s", err)
	}
	if fs.NArg() == 0 {
		printTopUsage(a.stderr)
		return usagef("", "no command given")
	}
	name := fs.Arg(0)
	leading := args[:len(args)-fs.NArg()]
	rest := append(append([]string(nil), leading...), fs.Args()[1:]...)
	if name == "help" {
		return a.help(rest)
	}
	cmd, ok := lookupCommand(name)
	if !ok {
		return usagef("", "unknown command %q", name)
	}
	return cmd.run(ctx, a, rest)
}

// help prints the top usage, or one command's with `help COMMAND`.
func (a *app) help(args []string) error {
	if len(args) == 0 {
		printTopUsage(a.stdout)
		return errHelp
	}
	cmd, ok := lookupCommand(args[0])
	if !ok {
		return usagef("", "unknown command %q", args[0])
	}
	printCommandUsage(a.stdout, cmd)
	return errHelp
}
