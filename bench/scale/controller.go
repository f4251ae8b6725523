package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

// controllerPkg is the controller's main package, built inside the sandbox.
const controllerPkg = "./cmd/ingress-canary"

// The controller's listen addresses inside the sandbox (its loopback is private).
const (
	controllerMetricsAddr = "127.0.0.1:18090"
	controllerProbeAddr   = "127.0.0.1:18091"
	leaseNamespace        = "kube-system"
	leaseName             = "ingress-canary" // the controller's default --leader-election-id
)

// controllerArgs are the controller's flags for one run, as a deployment
// would set them: leader election on, the class of the benchmark's
// Ingresses, the local Prometheus; extra flags come last and win.
func controllerArgs(c *cluster.Cluster, promURL string, trim bool, extra []string) []string {
	return append([]string{
		"--kubeconfig=" + c.Kubeconfig,
		"--prometheus-url=" + promURL,
		"--ingress-class=" + ingressClass,
		"--metrics-bind-address=" + controllerMetricsAddr,
		"--health-probe-bind-address=" + controllerProbeAddr,
		"--leader-elect=true",
		"--leader-election-namespace=" + leaseNamespace,
		"--trim-cache=" + strconv.FormatBool(trim),
	}, extra...)
}

// analysisTick is the controller's --analysis-tick as the extra flags set
// it, else its default.
func analysisTick(extra []string) time.Duration {
	tick := 5 * time.Second
	for _, a := range extra {
		if v, ok := strings.CutPrefix(a, "--analysis-tick="); ok {
			if d, err := time.ParseDuration(v); err == nil {
				tick = d
			}
		}
	}
	return tick
}

// waitSynced waits until the controller leads, its caches have synced (it
// logs "starting workers") and its workqueue is empty twice in a row: the
// first sync of every opted-in Ingress is done.
func waitSynced(ctx context.Context, p *cluster.Process, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	empty := 0
	for {
		if p.Exited() {
			return fmt.Errorf("the controller exited; log %s", p.LogPath())
		}
		if b, err := os.ReadFile(p.LogPath()); err == nil && strings.Contains(string(b), "starting workers") {
			fams, err := scrape(ctx, client, "http://"+controllerMetricsAddr+"/metrics")
			if err == nil && len(fams["workqueue_depth"].GetMetric()) > 0 && fams.sum("workqueue_depth", nil) == 0 {
				empty++
			} else {
				empty = 0
			}
			if empty == 2 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the controller did not lead and sync within %s; log %s", timeout, p.LogPath())
		case <-time.After(500 * time.Millisecond):
		}
	}
}
