// Command scale measures the controller at scale on the real local cluster
// (package e2e/cluster): 10,000 Ingresses, 1,000 of them in active rollouts
// on short intervals, against the real kube-apiserver and the real
// Prometheus, and prints markdown tables for docs/benchmarks.md:
//
//   - the controller's memory (peak VmHWM, sampled VmRSS) and CPU, from /proc;
//   - step lateness: when each step became visible to a watch, and when the
//     controller says it began it, minus when it was due (nextCheck);
//   - API writes per status change, from kube-apiserver's own
//     apiserver_request_total, and in steady state after every rollout ended
//     (Ingresses and Events must be 0; Lease renewals are shown apart);
//   - Prometheus queries per analysis tick, from Prometheus' own counters,
//     for a small run (-compare) and the large ones;
//   - all of it with the informer transform (--trim-cache=true) and without.
//
// Run it from the checkout, as root (like the e2e tests, it runs inside its
// own network, mount and PID namespaces, and `make setup` must have run):
//
//	go run ./bench/scale                       # 12 min on 2 cores; up to 17 when rollouts do not end in time
//	go run ./bench/scale -trim on -compare 0   # one run of 1,000 rollouts
//	go run ./bench/scale -ingresses 2000 -rollouts 100 -compare 10 -interval 10s -quiet 10s  # a quick look
//	go run ./bench/scale -controller-args "--kube-api-qps=300 --kube-api-burst=600"
//	go run ./bench/scale -scrape-interval 5s   # Prometheus ingests a fifth as much beside the controller
//
// To find out why a figure is what it is: -trace-queries puts a recording
// proxy between the controller and Prometheus and tells the shared refreshes
// from window-start reads; -controller-bin runs another build of the
// controller (e.g. one with net/http/pprof added by `go build -overlay`,
// outside the checkout) and -controller-env sets its environment (e.g.
// GODEBUG=gctrace=1, whose lines land in the controller's log).
//
// The world: etcd, kube-apiserver, kube-controller-manager and Prometheus
// (no ingress-nginx, no backends); per Ingress a headless Service (the
// apiserver allocates ClusterIPs one at a time, 0.8 s each here) and an EndpointSlice,
// all applied as `kubectl apply` does, so that the Ingresses carry
// last-applied-configuration and managedFields as real ones do; per rollout a
// canary Service with ready endpoints. A fake ingress-nginx /metrics (package
// bench/internal/fakenginx), served by this process and scraped every second
// (-scrape-interval),
// has every Ingress's traffic and follows each canary Ingress's weight, so
// that the controller's split check and min-requests see what they would
// see with nginx.
//
// Each run starts the controller binary (built from ./cmd/ingress-canary,
// leader election on) as a process, waits until it leads and has synced,
// starts its rollouts with their starts spread over one interval, measures
// from the last start until every rollout has ended, then a steady-state
// period (-quiet), and stops the controller. Runs use disjoint Ingresses of
// the same cluster; the benchmark writes nothing while it measures.
//
// Everything listens on loopback inside the sandbox; -deadline bounds the
// whole run; every process is stopped on every exit path (and the kernel
// ends the sandbox with this process). Progress goes to stderr, the report
// to stdout; component logs stay in the cluster's work dir.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if !cluster.InSandbox() {
		prefetchModules()
	}
	os.Exit(cluster.Sandboxed(func() int { return run(cfg) }))
}

// run is the benchmark inside the sandbox, whose first process it is.
func run(cfg Config) int {
	// PID 1 ignores signals it does not handle: catch Ctrl-C and SIGTERM so
	// that they end the run with a report and a tear-down.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.Deadline)
	defer cancel()
	res, err := Run(ctx, cfg, os.Stderr)
	if res != nil {
		WriteReport(os.Stdout, cfg, res)
	}
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("-deadline %s passed: %w", cfg.Deadline, err)
		}
		fmt.Fprintln(os.Stderr, "scale:", err)
		return 1
	}
	return 0
}

// prefetchModules puts the modules the controller imports in the module
// cache while there is a network: inside the sandbox GoBuild runs with
// GOPROXY=off. Failing here is only a warning; the build then says what is
// missing.
func prefetchModules() {
	root, err := cluster.ModuleRoot()
	if err != nil {
		return
	}
	cmd := exec.Command("go", "list", "-e", "-deps", controllerPkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "scale: warning: fetching Go modules failed (%v); the build may fail offline:\n%s", err, out)
	}
}
