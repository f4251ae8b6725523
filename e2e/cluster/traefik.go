package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// TraefikGatewayPort is the port a Gateway's listener must name for Traefik
// to serve it: its kubernetesGateway provider maps listeners to the entry
// point with that port, and Traefik's HTTP entry point has this one.
const TraefikGatewayPort = traefikHTTPPort

// traefikArgs are Traefik's static configuration as flags (Traefik takes one
// source only: flags, a file or the environment). Both Kubernetes providers
// talk to the apiserver as an external client: endpoint, bearer token file
// and CA file. Routes attach to the web entry point only, so the metrics
// entry point serves nothing but /metrics and /ping.
func (c *Cluster) traefikArgs(tokenFile string, gateway bool) []string {
	kube := func(provider string) []string {
		p := "--providers." + provider
		return []string{p + "=true", p + ".endpoint=" + c.apiURL(), p + ".token=" + tokenFile,
			p + ".certAuthFilePath=" + c.pki.caCert}
	}
	args := []string{
		"--global.checkNewVersion=false", "--global.sendAnonymousUsage=false",
		"--log.level=INFO", "--accessLog=true",
		"--entryPoints.web.address=127.0.0.1:" + strconv.Itoa(traefikHTTPPort),
		"--entryPoints.metrics.address=127.0.0.1:" + strconv.Itoa(traefikMetricsPort),
		"--ping=true", "--ping.entryPoint=metrics",
		"--metrics.prometheus=true", "--metrics.prometheus.entryPoint=metrics",
		// The provider that reads the nginx.ingress.kubernetes.io annotations
		// is experimental in 3.7 and needs both switches.
		"--experimental.kubernetesIngressNGINX=true",
		"--providers.kubernetesIngressNGINX.httpEntryPoint=web",
	}
	args = append(args, kube("kubernetesIngressNGINX")...)
	if gateway {
		args = append(args, kube("kubernetesGateway")...)
	}
	return args
}

// startTraefik starts Traefik beside (or instead of) ingress-nginx and returns
// once it serves: /ping answers and the web entry point answers 404 for an
// unknown host. Routes for existing Ingresses may take a moment longer.
func (c *Cluster) startTraefik(ctx context.Context, gateway bool) error {
	if c.bins.Traefik == "" {
		return errors.New("TRAEFIK_BIN unset; run e2e/setup/setup.sh traefik manifest")
	}
	if _, err := os.Stat(c.bins.Traefik); err != nil {
		return fmt.Errorf("TRAEFIK_BIN: %w; run e2e/setup/setup.sh traefik manifest", err)
	}
	// A file, not a flag value: argv is readable by every process.
	tokenFile := filepath.Join(c.pki.dir, "traefik.token")
	if err := os.WriteFile(tokenFile, []byte(c.AdminToken), 0o600); err != nil {
		return err
	}
	argv := append([]string{c.bins.Traefik}, c.traefikArgs(tokenFile, gateway)...)
	p, err := startComponent("traefik", c.logPath("traefik"), nil, argv...)
	if err != nil {
		return err
	}
	c.traefik = p
	ping := "http://127.0.0.1:" + strconv.Itoa(traefikMetricsPort) + "/ping"
	if err := waitReady(ctx, p, 30*time.Second, expectStatus(ping, "", 200)); err != nil {
		return err
	}
	return waitReady(ctx, p, 30*time.Second, expectStatus(c.TraefikURL+"/", "", 404))
}
