package cluster

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// writePrometheusConfig renders the scrape config: the routers' metrics
// (Options.Routers) plus every target added with AddScrapeTarget.
func (c *Cluster) writePrometheusConfig() error {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  evaluation_interval: %s\n", c.scrapeInterval, c.scrapeInterval)
	b.WriteString("scrape_configs:\n")
	job := func(name string, targets []string) {
		fmt.Fprintf(&b, "- job_name: %q\n  static_configs:\n  - targets: [", name)
		for i, t := range targets {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", t)
		}
		b.WriteString("]\n")
	}
	if c.routers.nginx {
		job("ingress-nginx", []string{"127.0.0.1:" + strconv.Itoa(ingressHealthz)})
	}
	if c.routers.traefik {
		job("traefik", []string{"127.0.0.1:" + strconv.Itoa(traefikMetricsPort)})
	}
	c.mu.Lock()
	names := make([]string, 0, len(c.scrapeJobs))
	for n := range c.scrapeJobs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		job(n, c.scrapeJobs[n])
	}
	c.mu.Unlock()
	path := c.prometheusConfig()
	if err := os.WriteFile(path+".tmp", []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

func (c *Cluster) prometheusConfig() string { return filepath.Join(c.dir, "prometheus.yml") }

// StartPrometheus starts Prometheus (again, after StopPrometheus) on the same
// TSDB directory, so earlier samples survive an outage test.
func (c *Cluster) StartPrometheus() error {
	c.mu.Lock()
	running := c.prometheus != nil && !c.prometheus.exited()
	c.mu.Unlock()
	if running {
		return nil
	}
	if err := c.writePrometheusConfig(); err != nil {
		return err
	}
	p, err := startComponent("prometheus", c.logPath("prometheus"), nil, c.bins.Prometheus,
		"--config.file="+c.prometheusConfig(),
		"--storage.tsdb.path="+filepath.Join(c.dir, "prometheus-data"),
		"--storage.tsdb.retention.time=1d",
		"--web.listen-address="+c.listenAddr()+":"+strconv.Itoa(prometheusPort),
		"--web.enable-lifecycle", // POST /-/reload after AddScrapeTarget
		"--log.level=warn")
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.prometheus = p
	c.mu.Unlock()
	return waitReady(context.Background(), p, 30*time.Second, expectStatus(c.PrometheusURL+"/-/ready", "", 200))
}

// StopPrometheus stops Prometheus, e.g. to test how the controller behaves
// while its metrics source is down. Queries then fail with connection refused.
func (c *Cluster) StopPrometheus() error {
	c.mu.Lock()
	p := c.prometheus
	c.prometheus = nil
	c.mu.Unlock()
	return p.stop(10 * time.Second)
}

// AddScrapeTarget makes Prometheus scrape addr (host:port, path /metrics)
// under job, e.g. the controller under test's metrics, and reloads it. Adding
// a second address to a job scrapes both.
func (c *Cluster) AddScrapeTarget(job, addr string) error {
	c.mu.Lock()
	c.scrapeJobs[job] = append(c.scrapeJobs[job], addr)
	c.mu.Unlock()
	if err := c.writePrometheusConfig(); err != nil {
		return err
	}
	c.mu.Lock()
	running := c.prometheus != nil
	c.mu.Unlock()
	if !running {
		return nil // StartPrometheus reads the new config
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.PrometheusURL+"/-/reload", nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return fmt.Errorf("reload prometheus: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reload prometheus: %s", resp.Status)
	}
	return nil
}
