package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ingress-canary/ingress-canary/e2e/testapp"
)

// Options configure Start.
type Options struct {
	// WorkDir holds every file of this cluster (keys, kubeconfig, data, logs).
	// Empty: a new directory under CacheDir()/run, not under the host's /tmp.
	WorkDir string
	// Log receives one progress line per component, with timings. Nil: discard.
	Log io.Writer
	// ControlPlaneOnly starts etcd, kube-apiserver, kube-controller-manager
	// and Prometheus only: no ingress-nginx (nor its objects and stream
	// sink) and no testapp. For benchmarks that bring their own fake
	// ingress-nginx metrics (AddScrapeTarget) and need no traffic; HTTPURL,
	// IngressMetricsURL and the backend methods are then unusable.
	ControlPlaneOnly bool
	// ScrapeInterval is Prometheus' scrape interval. Zero: one second, so that
	// a test sees a counter move within about two seconds.
	ScrapeInterval time.Duration
	// Routers are the data planes that serve the Ingresses of class nginx,
	// each on its own port and each scraped by Prometheus. Nil: ingress-nginx
	// alone, as before there was a choice. []Router{RouterTraefik} runs no
	// ingress-nginx process at all (HTTPURL and IngressMetricsURL are then
	// empty). Ignored with ControlPlaneOnly, except for the scrape job.
	Routers []Router
	// GatewayAPI installs the standard Gateway API CRDs and the GatewayClass
	// GatewayClassName, and turns on Traefik's kubernetesGateway provider.
	// It needs RouterTraefik in Routers.
	GatewayAPI bool
	// Node, if set, also starts a real node (containerd, runc, CNI bridge,
	// kubelet) and kube-scheduler, and the kube-controller-manager controllers
	// Deployments, Services and PDBs need, so Pods run; see node.go. The
	// apiserver and Prometheus then listen on NodeIP too, for the Pods.
	Node *NodeOptions
}

// Cluster is a running local cluster; see the package documentation.
type Cluster struct {
	// Kubeconfig is the path of an admin kubeconfig (token of system:masters).
	Kubeconfig string
	// Client and RESTConfig act as cluster admin.
	Client     kubernetes.Interface
	RESTConfig *rest.Config
	// HTTPURL is nginx's HTTP entry point, e.g. http://127.0.0.1:18080; set
	// the Host header to route to an Ingress.
	HTTPURL string
	// PrometheusURL is Prometheus' base URL, e.g. http://127.0.0.1:9090.
	PrometheusURL string
	// IngressMetricsURL is ingress-nginx's own /metrics (what Prometheus scrapes).
	IngressMetricsURL string
	// AdminToken is the bearer token in Kubeconfig.
	AdminToken string
	// TraefikURL is Traefik's HTTP entry point, e.g. http://127.0.0.1:18070,
	// and TraefikMetricsURL its /metrics (scraped as job "traefik"); both are
	// empty unless Options.Routers has RouterTraefik.
	TraefikURL        string
	TraefikMetricsURL string

	dir  string
	log  io.Writer
	bins Binaries
	pki  *pki

	mu         sync.Mutex
	etcd       *component
	apiserver  *component
	kcm        *component
	prometheus *component
	ingress    *component
	traefik    *component
	testapp    *component
	extra      []*component // StartProcess
	sink       net.Listener
	admin      testapp.AdminClient
	versions   map[string]string   // testapp version -> bridge host:port
	scrapeJobs map[string][]string // extra Prometheus jobs
	// scrapeInterval is Prometheus' scrape interval (Options.ScrapeInterval).
	scrapeInterval time.Duration
	routers        routerSet // Options.Routers
	// withNode is Options.Node != nil; node is the running node.
	withNode bool
	node     *node
	stopped  bool
	stopErr  error
}

// Start starts etcd, kube-apiserver, kube-controller-manager, Prometheus,
// ingress-nginx (with nginx) and the testapp backend, and returns when nginx
// serves. It must run inside the sandbox (see RunInSandbox). On error, what
// was started is stopped again.
func Start(ctx context.Context, o Options) (_ *Cluster, err error) {
	if !InSandbox() {
		return nil, errors.New("cluster: Start must run inside the sandbox (TestMain: os.Exit(cluster.RunInSandbox(m)))")
	}
	routers, err := parseRouters(o.Routers)
	if err != nil {
		return nil, err
	}
	if o.GatewayAPI && !routers.traefik {
		return nil, errors.New("cluster: Options.GatewayAPI needs RouterTraefik in Options.Routers")
	}
	bins, err := LoadBinaries()
	if err != nil {
		return nil, err
	}
	dir := o.WorkDir
	if dir == "" {
		if dir, err = newRunDir(); err != nil {
			return nil, err
		}
	}
	if err := mkdirs(filepath.Join(dir, "logs")); err != nil {
		return nil, err
	}
	c := &Cluster{
		dir:            dir,
		log:            o.Log,
		bins:           bins,
		Kubeconfig:     filepath.Join(dir, "kubeconfig"),
		PrometheusURL:  "http://127.0.0.1:" + strconv.Itoa(prometheusPort),
		versions:       map[string]string{},
		scrapeJobs:     map[string][]string{},
		scrapeInterval: o.ScrapeInterval,
		routers:        routers,
		withNode:       o.Node != nil,
	}
	if routers.nginx {
		c.HTTPURL = "http://127.0.0.1:" + strconv.Itoa(nginxHTTPPort)
		c.IngressMetricsURL = "http://127.0.0.1:" + strconv.Itoa(ingressHealthz) + "/metrics"
	}
	if routers.traefik {
		c.TraefikURL = "http://127.0.0.1:" + strconv.Itoa(traefikHTTPPort)
		c.TraefikMetricsURL = "http://127.0.0.1:" + strconv.Itoa(traefikMetricsPort) + "/metrics"
	}
	if c.withNode {
		if err := bins.checkNode(); err != nil {
			return nil, err
		}
	}
	if c.scrapeInterval <= 0 {
		c.scrapeInterval = time.Second
	}
	if c.log == nil {
		c.log = io.Discard
	}
	defer func() {
		if err != nil {
			_ = c.Stop()
			err = fmt.Errorf("%w\ncomponent logs: %s", err, c.Logs())
		}
	}()
	t0 := time.Now()
	step := func(name string, f func() error) error {
		t := time.Now()
		if err := f(); err != nil {
			return fmt.Errorf("cluster: %s: %w", name, err)
		}
		c.logf("%-24s ready in %5.2fs (at %5.2fs)", name, time.Since(t).Seconds(), time.Since(t0).Seconds())
		return nil
	}
	c.logf("starting in %s", dir)

	// The testapp build (about a second with a warm Go cache) and Prometheus
	// do not depend on the control plane: run them alongside it.
	full := !o.ControlPlaneOnly
	nginx, traefik := full && routers.nginx, full && routers.traefik
	side := make(chan error, 1)
	go func() {
		var err error
		if full {
			err = step("testapp", func() error { return c.startTestApp(ctx) })
		}
		side <- errors.Join(err, step("prometheus", c.StartPrometheus))
	}()
	err = step("pki", func() (err error) { c.pki, err = newPKI(filepath.Join(dir, "pki")); return err })
	if err == nil && nginx {
		err = step("stream sink", c.startStreamSink)
	}
	if err != nil {
		<-side
		return c, err
	}
	err = step("etcd", func() error { return c.startEtcd(ctx) })
	if err == nil {
		err = step("kube-apiserver", func() error { return c.startAPIServer(ctx) })
	}
	if err == nil {
		err = c.connect()
	}
	if err == nil {
		err = step("kube-controller-manager", func() error { return c.startControllerManager(ctx) })
	}
	if err == nil && o.Node != nil {
		err = step("node", func() error { return c.startNode(ctx, *o.Node) })
	}
	if err == nil && full {
		err = step("ingress class", func() error { return c.createIngressClass(ctx) })
	}
	if err == nil && nginx {
		err = step("ingress objects", func() error { return c.createIngressObjects(ctx) })
	}
	if err == nil && nginx {
		err = step("ingress-nginx", func() error { return c.startIngressNginx(ctx) })
	}
	if err == nil && traefik && o.GatewayAPI {
		err = step("gateway api", func() error { return c.installGatewayAPI(ctx) })
	}
	if err == nil && traefik {
		err = step("traefik", func() error { return c.startTraefik(ctx, o.GatewayAPI) })
	}
	if err = errors.Join(err, <-side); err != nil {
		return c, err
	}
	c.logf("cluster ready in %.2fs; kubeconfig %s", time.Since(t0).Seconds(), c.Kubeconfig)
	return c, nil
}

// connect writes the admin kubeconfig and builds the client.
func (c *Cluster) connect() error {
	c.AdminToken = c.pki.adminToken
	if err := writeKubeconfig(c.Kubeconfig, c.apiURL(), c.pki.caPEM, "admin", c.AdminToken); err != nil {
		return err
	}
	c.RESTConfig = &rest.Config{
		Host:            c.apiURL(),
		BearerToken:     c.AdminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.pki.caPEM},
		QPS:             100,
		Burst:           200,
	}
	cs, err := kubernetes.NewForConfig(c.RESTConfig)
	if err != nil {
		return err
	}
	c.Client = cs
	return nil
}

// Stop stops every process the cluster started, in reverse order, and waits
// for them (and their children) to be gone. It is idempotent; the work dir is
// left for the logs (see WorkDir).
func (c *Cluster) Stop() error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return c.stopErr
	}
	c.stopped = true
	// Test processes first (they may talk to the rest), then the reverse of
	// the start order.
	extra := append([]*component{}, c.extra...)
	procs := []*component{c.testapp, c.traefik, c.ingress, c.prometheus, c.kcm, c.apiserver, c.etcd}
	sink, node := c.sink, c.node
	c.mu.Unlock()
	t := time.Now()
	var errs []error
	for _, p := range extra {
		errs = append(errs, p.stop(10*time.Second))
	}
	// The node's Pods are test processes too.
	errs = append(errs, node.stop())
	for _, p := range procs {
		if p != nil {
			errs = append(errs, p.stop(10*time.Second))
		}
	}
	if sink != nil {
		_ = sink.Close()
	}
	c.stopErr = errors.Join(errs...)
	c.logf("stopped in %.2fs", time.Since(t).Seconds())
	return c.stopErr
}

// WorkDir is the directory holding this cluster's files and logs. Remove it
// after a successful test; keep it to read the logs after a failure.
func (c *Cluster) WorkDir() string { return c.dir }

// Logs lists the component log files, for failure messages.
func (c *Cluster) Logs() string {
	names := []string{"etcd", "kube-apiserver", "kube-controller-manager", "prometheus", "ingress-nginx", "testapp"}
	if c.routers.traefik {
		names = append(names, "traefik")
	}
	if c.withNode {
		names = append(names, "containerd", "kubelet", "kube-scheduler")
	}
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, n+"="+c.logPath(n))
	}
	parts = append(parts, c.extraLogs()...)
	return strings.Join(parts, " ")
}

func (c *Cluster) logPath(name string) string { return filepath.Join(c.dir, "logs", name+".log") }

func (c *Cluster) logf(format string, args ...any) {
	fmt.Fprintf(c.log, "cluster: "+format+"\n", args...)
}

// newRunDir makes a fresh work dir under CacheDir()/run and removes run dirs
// older than a day, so that kept logs do not pile up.
func newRunDir() (string, error) {
	base := filepath.Join(CacheDir(), "run")
	if err := mkdirs(base); err != nil {
		return "", err
	}
	if entries, err := os.ReadDir(base); err == nil {
		for _, e := range entries {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > 24*time.Hour {
				_ = os.RemoveAll(filepath.Join(base, e.Name()))
			}
		}
	}
	return os.MkdirTemp(base, time.Now().Format("20060102-150405-"))
}

func mkdirs(dir string) error { return os.MkdirAll(dir, 0o755) }
