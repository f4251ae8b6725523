package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

// suite is the one cluster and controller every test of the package shares; each
// test works in its own namespace and host.
var suite struct {
	cluster    *cluster.Cluster
	controller *controllerProc
	// bin holds the binaries under test: ingress-canary and kubectl-canary.
	bin string
}

// TestMain re-executes the test binary inside a fresh sandbox (network, mount and
// PID namespaces), starts the cluster and the controller there once, and runs the
// tests.
func TestMain(m *testing.M) {
	if !cluster.InSandbox() {
		os.Exit(cluster.RunInSandbox(m))
	}
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	t0 := time.Now()
	err := startSuite()
	defer stopSuite()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start:", err)
		return 1
	}
	code := m.Run()
	fmt.Printf("e2e: suite ran in %.1fs\n", time.Since(t0).Seconds())
	if code != 0 {
		fmt.Println("e2e: logs:", suite.cluster.Logs(), suite.controller.logPath)
	}
	return code
}

func startSuite() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t0 := time.Now()
	opts := cluster.Options{Log: cluster.PrefixWriter("cluster: ")}
	if suiteRouter() != "nginx" {
		// Traefik alone: no ingress-nginx process runs, so every rollout
		// below is served and measured by Traefik only.
		opts.Routers = []cluster.Router{cluster.RouterTraefik}
	}
	// The gateway suite: HTTPRoutes on Traefik's kubernetesGateway provider.
	opts.GatewayAPI = suiteRouter() == gatewaySuite
	c, err := cluster.Start(ctx, opts)
	if err != nil {
		return err
	}
	if suiteRouter() != "nginx" {
		// The tests send traffic to the data plane's entry point.
		c.HTTPURL = c.TraefikURL
	}
	suite.cluster = c
	suite.bin = filepath.Join(c.WorkDir(), "bin")
	for _, cmd := range []string{"ingress-canary", "kubectl-canary"} {
		if err := cluster.GoBuild(ctx, "./cmd/"+cmd, filepath.Join(suite.bin, cmd), filepath.Join(c.WorkDir(), "gotmp")); err != nil {
			return err
		}
	}
	suite.controller = newControllerProc(filepath.Join(suite.bin, "ingress-canary"), c)
	if err := suite.controller.Start(); err != nil {
		return err
	}
	if err := c.AddScrapeTarget("ingress-canary", controllerMetricsAddr); err != nil {
		return err
	}
	fmt.Printf("e2e: cluster and controller (--router=%s) ready in %.1fs\n", suiteRouter(), time.Since(t0).Seconds())
	return nil
}

// routerEnv chooses the data plane of the suite: nginx (the default),
// traefik, or gateway (Traefik serving Gateway API HTTPRoutes: the
// TestGateway* tests). make test runs the suite once per router (see the
// Makefile).
const routerEnv = "E2E_ROUTER"

// gatewaySuite is the E2E_ROUTER value of the Gateway API suite.
const gatewaySuite = "gateway"

// controllerRouter is the controller's --router: the gateway suite's
// Ingress router is Traefik, the data plane that serves its HTTPRoutes.
func controllerRouter() string {
	if suiteRouter() == gatewaySuite {
		return "traefik"
	}
	return suiteRouter()
}

// suiteRouter is the suite's --router.
func suiteRouter() string {
	if r := os.Getenv(routerEnv); r != "" {
		return r
	}
	return "nginx"
}

func stopSuite() {
	if suite.controller != nil {
		_ = suite.controller.Stop()
	}
	if suite.cluster != nil {
		_ = suite.cluster.Stop()
	}
}
