package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

// Bounds of the set-up stages (warm caches: about 8 s, 3 s and 5 s).
const (
	clusterStartTimeout = 3 * time.Minute
	buildTimeout        = 3 * time.Minute
	deployTimeout       = time.Minute
)

// demo is what the stages share once the world is up.
type demo struct {
	c          *cluster.Cluster
	controller *cluster.Process
	shop       shop
	events     *eventFeed
	plain      *stream // plain users
	testers    *stream // testers who send the canary header
	plugin     string  // the kubectl-canary binary; "" when it did not build
}

// demoRouter is the data plane the demo runs: $ROUTER (make demo ROUTER=traefik,
// or ROUTER=gateway for an HTTPRoute on Traefik), else ingress-nginx.
func demoRouter() string {
	if r := os.Getenv("ROUTER"); r != "" {
		return r
	}
	return "nginx"
}

// setUp starts the cluster and the controller, deploys the shop and starts
// the traffic. On error it returns what it started so far (or nil), for
// tearDown.
func setUp(ctx context.Context) (*demo, error) {
	router := demoRouter()
	opts := cluster.Options{Log: os.Stdout}
	dataPlane := "ingress-nginx"
	switch router {
	case "traefik":
		opts.Routers, dataPlane = []cluster.Router{cluster.RouterTraefik}, "Traefik (no ingress-nginx)"
	case gatewayRouter:
		opts.Routers, opts.GatewayAPI = []cluster.Router{cluster.RouterTraefik}, true
		dataPlane = "Traefik's Gateway API provider (an HTTPRoute, no Ingress)"
	}
	section("Starting a local cluster: etcd, kube-apiserver, kube-controller-manager, %s, Prometheus, test backends", dataPlane)
	startCtx, cancel := context.WithTimeout(ctx, clusterStartTimeout)
	defer cancel()
	c, err := cluster.Start(startCtx, opts)
	if err != nil {
		return nil, err // Start stopped what it had started
	}
	if router != "nginx" {
		c.HTTPURL = c.TraefikURL // the shop's traffic goes through Traefik
	}
	d := &demo{c: c, shop: shop{c: c}}
	if onGateway() {
		if d.shop.gw, err = gatewayClient(c); err != nil {
			return d, err
		}
	}
	d.events = newEventFeed(d.shop)

	section("Starting the controller (go build %s)", controllerPkg)
	buildCtx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	t := time.Now()
	if d.controller, err = startController(buildCtx, c); err != nil {
		return d, err
	}
	say("ready in %.1fs; its log: %s", time.Since(t).Seconds(), d.controller.LogPath())
	d.plugin = buildPlugin(buildCtx, c)

	section("Deploying the shop in namespace %s", namespace)
	deployCtx, cancel := context.WithTimeout(ctx, deployTimeout)
	defer cancel()
	if err := d.shop.deploy(deployCtx); err != nil {
		return d, err
	}
	say("Services web-v1, web-v2, web-v3; web-v3 answers %.0f%% of its requests with 500", 100*badErrorRate)
	if onGateway() {
		say("Gateway edge (class %s) and HTTPRoute %s (host %s) -> web-v1; Traefik serves it", cluster.GatewayClassName, ingressName, host)
	} else {
		say("Ingress %s (class nginx, host %s) -> web-v1; nginx serves it", ingressName, host)
	}
	return d, d.startTraffic()
}

// startTraffic starts the plain users and the testers.
func (d *demo) startTraffic() (err error) {
	if d.plain, err = startStream(d.c, plainRPS, nil); err != nil {
		return err
	}
	if d.testers, err = startStream(d.c, testerRPS, http.Header{testerHeader: {"always"}}); err != nil {
		return err
	}
	say("traffic through nginx: %d req/s of plain users, %d req/s of testers who send '%s: always'",
		plainRPS, testerRPS, testerHeader)
	return nil
}

// tearDown stops the traffic and every process (the controller first), says
// where the logs are (they stay in the work dir), and ends with the verdict
// and the demo's total time.
func (d *demo) tearDown(t0 time.Time, verdict string) {
	section("Tearing down")
	d.testers.stop()
	d.plain.stop()
	if err := d.c.Stop(); err != nil {
		fmt.Println("   stop:", err)
	}
	// Every component logs to <name>.log there (see Cluster.Logs).
	say("logs: %s/ (the controller's: %s)", filepath.Join(d.c.WorkDir(), "logs"), filepath.Base(d.controllerLog()))
	fmt.Printf("\ndemo: %s in %s\n", verdict, time.Since(t0).Round(100*time.Millisecond))
}

func (d *demo) controllerLog() string {
	if d.controller == nil {
		return "(not started)"
	}
	return d.controller.LogPath()
}
