package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

// controllerPkg is the controller's main package.
const controllerPkg = "./cmd/ingress-canary"

// The controller's listen addresses inside the sandbox (its loopback is private).
const (
	controllerMetricsAddr = "127.0.0.1:18090"
	controllerProbeAddr   = "127.0.0.1:18091"
)

// startController builds cmd/ingress-canary into the work dir, runs it as the
// cluster's process (so Cluster.Stop stops it first), waits for /readyz and
// has Prometheus scrape its metrics.
func startController(ctx context.Context, c *cluster.Cluster) (*cluster.Process, error) {
	bin := filepath.Join(c.WorkDir(), "bin", "ingress-canary")
	if err := cluster.GoBuild(ctx, controllerPkg, bin, filepath.Join(c.WorkDir(), "gotmp")); err != nil {
		return nil, err
	}
	p, err := c.StartProcess("ingress-canary", nil, bin,
		"--kubeconfig="+c.Kubeconfig,
		"--prometheus-url="+c.PrometheusURL,
		"--metrics-bind-address="+controllerMetricsAddr,
		"--health-probe-bind-address="+controllerProbeAddr,
		// One replica: no Lease to wait for.
		"--leader-elect=false",
		// Promotion stages wait for nginx; 2 s is enough here and keeps the demo short.
		"--promotion-settle=2s",
		"--log-format=console",
		"--router="+controllerRouter(),
		"--gateway-api="+map[bool]string{true: "true", false: "auto"}[onGateway()],
	)
	if err != nil {
		return nil, err
	}
	if err := waitControllerReady(ctx, p, 30*time.Second); err != nil {
		return p, err
	}
	return p, c.AddScrapeTarget("ingress-canary", controllerMetricsAddr)
}

// waitControllerReady polls /readyz until it answers 200, the process exits,
// or timeout passes.
func waitControllerReady(ctx context.Context, p *cluster.Process, timeout time.Duration) error {
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if p.Exited() {
			return fmt.Errorf("the controller exited at start; log %s", p.LogPath())
		}
		if resp, err := client.Get("http://" + controllerProbeAddr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the controller was not ready within %s; log %s", timeout, p.LogPath())
}
