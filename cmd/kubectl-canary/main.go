// Command kubectl-canary is a kubectl plugin for ingress-canary rollouts. Put it
// on PATH and run `kubectl canary list`, `kubectl canary status web --watch`,
// `kubectl canary start web --to web-v2`, and so on.
//
// It talks to the API server only: it reads the primary Ingress's annotations
// (ingress-canary.dev/status above all) and Events, and writes the spec and command
// annotations with JSON merge patches that name only those keys. The controller
// does the rest.
//
// Exit codes, for scripts:
//
//	0  success
//	1  runtime or API error (including an Ingress that does not exist)
//	2  usage error: unknown command or flag, missing or extra arguments, or
//	   `start` values that do not parse
//	3  `lint` found problems
//	4  `status --exit-code` saw phase Failed or Invalid (with --watch: at the end)
//
// The user needs these permissions in the namespaces they work with:
// networking.k8s.io ingresses get, list and patch; core services get; core events
// list; discovery.k8s.io endpointslices list (for lint).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Ctrl-C ends `status --watch` cleanly instead of killing the process mid-write.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(newApp(os.Stdout, os.Stderr).run(ctx, os.Args[1:]))
}
