// Command demo is `make demo`: it starts the real local cluster (package
// e2e/cluster) and the controller, sends steady traffic through ingress-nginx,
// and shows two rollouts live:
//
//  1. web-v1 -> web-v2, a healthy release, to promotion;
//  2. web-v2 -> web-v3, a release that answers 30 % 5xx, to automatic rollback.
//
// It prints a progress line every 2 s and each Event as it appears, then a
// summary, tears everything down and exits 0 only if rollout 1 was promoted
// and rollout 2 rolled back. Like the e2e tests it runs inside its own
// sandbox (network, mount and PID namespaces), so it needs root and touches
// nothing on the host; it takes about a minute with warm caches.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

// demoTimeout bounds the whole demo, set-up and tear-down aside; each stage
// has its own, shorter bound.
const demoTimeout = 8 * time.Minute

func main() {
	if !cluster.InSandbox() {
		// The sandbox has no network; fetch the modules the binaries built
		// inside it need while there still is one.
		prefetchModules()
	}
	os.Exit(cluster.Sandboxed(run))
}

// stopReason says why the demo's context ended: Ctrl-C (or SIGTERM), or demoTimeout.
func stopReason(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("the demo's time limit (%s) passed", demoTimeout)
	}
	return "interrupted"
}

// run is the demo inside the sandbox; it returns the exit code.
func run() int {
	t0 := time.Now()
	// The demo is the sandbox's PID 1, which ignores signals it does not
	// handle: catch Ctrl-C and SIGTERM so that they end it with a tear-down.
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	ctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()

	d, err := setUp(ctx)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%s: %w", stopReason(ctx), err)
		}
		fmt.Printf("\ndemo: set-up failed: %v\n", err)
		if d != nil {
			d.tearDown(t0, "FAILED")
		}
		return 1
	}
	results := d.runRollouts(ctx)
	d.printSummary(results)
	ok := rolloutsAsExpected(results)
	verdict := "done"
	switch {
	case ok:
		fmt.Println("\n   As expected: the healthy release was promoted, the failing one rolled back by itself.")
	case ctx.Err() != nil:
		verdict = stopReason(ctx)
		fmt.Printf("\n   Stopped: %s.\n", verdict)
	default:
		verdict = "FAILED"
		fmt.Println("\n   NOT as expected: see the results above, and the controller's log.")
	}
	if ctx.Err() == nil {
		d.showPluginList(ctx)
	}
	d.tearDown(t0, verdict)
	if !ok {
		return 1
	}
	return 0
}
