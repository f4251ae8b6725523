package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ingress-canary/ingress-canary/analysis/prom"
	"github.com/ingress-canary/ingress-canary/bench/internal/fakenginx"
	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

// scrapeJob is the fake ingress-nginx's job in Prometheus.
const scrapeJob = "fake-ingress-nginx"

// bench is what the runs share: one cluster, one fleet, one fake ingress-nginx.
type bench struct {
	cfg      Config
	log      io.Writer
	c        *cluster.Cluster
	client   kubernetes.Interface
	fleet    *fleet
	exporter *fakenginx.Exporter
	follower *follower
	lease    *leaseWatch
	points   endpoints
	prom     v1.API
	bin      string
	// promURL is what the controller is given: Prometheus, or the trace proxy.
	promURL string
	trace   *queryTrace
}

// Result is everything the benchmark measured.
type Result struct {
	Setup Setup
	// WriteLimit is the bare client loop's rate, when measured.
	WriteLimit *WriteLimit
	Runs       []*RunResult
	Took       time.Duration
	Machine    string
}

// Setup is what building the world took.
type Setup struct {
	ClusterStart, Create, Scraped time.Duration
	Objects, Series               int
	ScrapeBytes                   int
	Render                        time.Duration
	FollowErrors                  int64
	LastFollowError               string
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "scale: "+format+"\n", args...)
}

// Run builds the world inside the sandbox and measures every run; on error
// the result holds what was measured so far. Everything it started is
// stopped before it returns.
func Run(ctx context.Context, cfg Config, log io.Writer) (*Result, error) {
	began := time.Now()
	res := &Result{Machine: machine()}
	defer func() { res.Took = time.Since(began) }()
	b := &bench{cfg: cfg, log: log}
	var err error
	if b.fleet, err = planFleet(cfg); err != nil {
		return res, err
	}
	t := time.Now()
	b.c, err = cluster.Start(ctx, cluster.Options{Log: log, ControlPlaneOnly: true, ScrapeInterval: cfg.ScrapeInterval})
	if err != nil {
		return res, err
	}
	defer func() {
		if err := b.c.Stop(); err != nil {
			b.logf("stop cluster: %v", err)
		}
	}()
	res.Setup.ClusterStart = time.Since(t)
	stop := make(chan struct{})
	defer close(stop)
	if err := b.setUp(ctx, &res.Setup, stop); err != nil {
		return res, err
	}
	if cfg.WriteLimit > 0 {
		l, err := b.measureWriteLimit(ctx, cfg.WriteLimit, controllerWorkers(cfg.ControllerArgs))
		if err != nil {
			return res, err
		}
		res.WriteLimit = &l
		b.logf("write limit: %d loops did %.0f steps' writes/s (%.0f patches/s), %d errors", l.Workers, l.PairsPerSecond(), l.Requests, l.Errors)
	}
	var errs []error
	for _, spec := range cfg.Runs() {
		r := b.runOnce(ctx, spec)
		res.Runs = append(res.Runs, r)
		if r.Err == nil {
			continue
		}
		errs = append(errs, r.Err)
		if ctx.Err() != nil || !r.Late {
			break
		}
		// Rollouts that did not end in time must not carry on under the
		// next run's controller.
		if err := b.cleanUp(ctx, spec); err != nil {
			errs = append(errs, err)
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	res.Setup.FollowErrors = b.follower.errors.Load()
	if e, ok := b.follower.lastErr.Load().(string); ok {
		res.Setup.LastFollowError = e
	}
	return res, nil
}

// setUp builds the admin client, the fleet's objects, the fake ingress-nginx
// and its scrape, and the controller binary.
func (b *bench) setUp(ctx context.Context, s *Setup, stop chan struct{}) error {
	// An admin client that creates tens of thousands of objects quickly.
	cfg := rest.CopyConfig(b.c.RESTConfig)
	cfg.QPS, cfg.Burst = 5000, 10000
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	var err error
	if b.client, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	apiHTTP, err := rest.HTTPClientFor(b.c.RESTConfig)
	if err != nil {
		return err
	}
	b.points = endpoints{api: apiHTTP, apiURL: b.c.RESTConfig.Host, plain: &http.Client{Timeout: 15 * time.Second},
		promURL: b.c.PrometheusURL, controller: "http://" + controllerMetricsAddr + "/metrics"}
	if b.prom, err = prom.APIFor(b.c.PrometheusURL); err != nil {
		return err
	}
	b.promURL = b.c.PrometheusURL
	if b.cfg.TraceQueries {
		if b.promURL, b.trace, err = startQueryTrace(b.c.PrometheusURL, stop); err != nil {
			return err
		}
	}

	// The controller builds while the objects are created.
	built := make(chan error, 1)
	go func() {
		if b.cfg.ControllerBin != "" {
			built <- b.linkControllerBin()
			return
		}
		b.bin = filepath.Join(b.c.WorkDir(), "bin", "ingress-canary")
		built <- cluster.GoBuild(ctx, controllerPkg, b.bin, filepath.Join(b.c.WorkDir(), "gotmp"))
	}()
	t := time.Now()
	clients, err := connections(cfg, 8)
	if err != nil {
		<-built
		return err
	}
	n, err := createObjects(ctx, clients, b.fleet, b.cfg.Creators)
	if err != nil {
		<-built
		return fmt.Errorf("create objects: %w", err)
	}
	s.Create, s.Objects = time.Since(t), n
	b.logf("created %d objects in %s", n, s.Create.Round(100*time.Millisecond))
	if err := <-built; err != nil {
		return err
	}

	b.exporter = fakenginx.New(time.Now)
	for _, p := range b.fleet.ingresses {
		if err := b.exporter.AddIngress(p.Namespace, p.Name, p.Rate, p.Errors); err != nil {
			return err
		}
	}
	t = time.Now()
	buf := b.exporter.Render(nil, time.Now())
	s.Render, s.ScrapeBytes, s.Series = time.Since(t), len(buf), b.exporter.Series()
	b.follower = &follower{fleet: b.fleet, exporter: b.exporter, now: time.Now}
	if err := b.follower.start(b.client, stop); err != nil {
		return err
	}
	addr, stopServer, err := fakenginx.Serve(b.exporter)
	if err != nil {
		return err
	}
	go func() { <-stop; stopServer() }()
	if err := b.c.AddScrapeTarget(scrapeJob, addr); err != nil {
		return err
	}
	if b.lease, err = watchLease(b.client, stop); err != nil {
		return err
	}
	t = time.Now()
	if err := b.waitScraped(ctx, 2*time.Minute); err != nil {
		return err
	}
	s.Scraped = time.Since(t)
	b.logf("Prometheus has the fake ingress-nginx's %d series (%.1f MB per scrape) after %s", s.Series, float64(s.ScrapeBytes)/1e6, s.Scraped.Round(100*time.Millisecond))
	return nil
}

// linkControllerBin runs -controller-bin under the name ingress-canary (a
// symbolic link), which is how the CPU figures find the controller's process.
func (b *bench) linkControllerBin() error {
	target, err := filepath.Abs(b.cfg.ControllerBin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(target); err != nil {
		return err
	}
	b.bin = filepath.Join(b.c.WorkDir(), "bin", "ingress-canary")
	if err := os.MkdirAll(filepath.Dir(b.bin), 0o755); err != nil {
		return err
	}
	return os.Symlink(target, b.bin)
}

// connections returns n clients with a connection each: client-go sends
// every request of one client over one HTTP/2 connection, and with one the
// apiserver used little more than one core to create objects. A dialer of
// its own keeps client-go from sharing a cached transport.
func connections(cfg *rest.Config, n int) ([]kubernetes.Interface, error) {
	var out []kubernetes.Interface
	for range n {
		c := rest.CopyConfig(cfg)
		c.Dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		cs, err := kubernetes.NewForConfig(c)
		if err != nil {
			return nil, err
		}
		out = append(out, cs)
	}
	return out, nil
}

// waitScraped waits until Prometheus has scraped every requests series.
func (b *bench) waitScraped(ctx context.Context, timeout time.Duration) error {
	q := `count(` + fakenginx.RequestsMetric + `{job="` + scrapeJob + `"})`
	deadline := time.Now().Add(timeout)
	for {
		v, _, err := b.prom.Query(ctx, q, time.Now())
		if vec, ok := v.(model.Vector); err == nil && ok && len(vec) == 1 && int(vec[0].Value) == b.exporter.Series() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("prometheus did not scrape the fake ingress-nginx's %d series within %s (last error: %v)", b.exporter.Series(), timeout, err)
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
}

// scrapeStats is how Prometheus fared scraping the fake ingress-nginx.
type scrapeStats struct {
	Mean, Max float64 // scrape duration, seconds
	Failed    float64 // scrapes that failed
}

// scrapeStats reads Prometheus' own record of the last d of scrapes.
func (b *bench) scrapeStats(ctx context.Context, d time.Duration) scrapeStats {
	rng := fmt.Sprintf("[%ds]", int(math.Ceil(d.Seconds())))
	one := func(q string) float64 {
		v, _, err := b.prom.Query(ctx, q, time.Now())
		if vec, ok := v.(model.Vector); err == nil && ok && len(vec) == 1 {
			return float64(vec[0].Value)
		}
		return math.NaN()
	}
	sel := `{job="` + scrapeJob + `"}`
	return scrapeStats{
		Mean:   one(`avg_over_time(scrape_duration_seconds` + sel + rng + `)`),
		Max:    one(`max_over_time(scrape_duration_seconds` + sel + rng + `)`),
		Failed: one(`count_over_time(up` + sel + rng + `) - sum_over_time(up` + sel + rng + `)`),
	}
}
