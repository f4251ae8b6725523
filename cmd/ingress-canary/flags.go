package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ingress-canary/ingress-canary/routers"
	"github.com/ingress-canary/ingress-canary/weights"
)

// options are the command-line flags, named as controller-runtime names them so
// that operators meet familiar flags.
type options struct {
	kubeconfig              string
	prometheusURL           string
	namespace               string
	ingressClass            string
	router                  string
	gatewayAPI              string
	metricsAddr             string
	probeAddr               string
	leaderElect             bool
	leaderElectionNamespace string
	leaderElectionID        string
	leaseDuration           time.Duration
	renewDeadline           time.Duration
	retryPeriod             time.Duration
	kubeAPIQPS              float64
	kubeAPIBurst            int
	trimCache               bool
	workers                 int
	logLevel                string
	logFormat               string
	analysisTimeout         time.Duration
	analysisTick            time.Duration
	settle                  time.Duration
	memoryLimitRatio        float64
}

func parseFlags(fs *flag.FlagSet, args []string) (options, error) {
	var o options
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "Path to a kubeconfig. Empty: $KUBECONFIG, then in-cluster config.")
	fs.StringVar(&o.prometheusURL, "prometheus-url", "", "Base URL of the Prometheus that scrapes ingress-nginx (required).")
	fs.StringVar(&o.namespace, "namespace", "", "Only watch Ingresses in this namespace. Empty: all namespaces.")
	fs.StringVar(&o.ingressClass, "ingress-class", "nginx", "Ingress class of the ingress-nginx controller to drive.")
	fs.StringVar(&o.router, "router", "nginx", "Data plane that serves the Ingress class: "+strings.Join(routers.Names(), " or ")+". It decides which metrics the analysis reads; the canary Ingress is the same for both.")
	fs.StringVar(&o.gatewayAPI, "gateway-api", gatewayAPIAuto, "Follow annotated Gateway API HTTPRoutes too: auto (when the cluster serves the HTTPRoute, Gateway and GatewayClass APIs), true (required: exit if not served), or false.")
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "Address of the /metrics endpoint. \"0\" disables it.")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address of /healthz and /readyz. \"0\" disables it.")
	fs.BoolVar(&o.leaderElect, "leader-elect", true, "Elect a leader with a Lease, so that only one replica acts.")
	fs.StringVar(&o.leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the Lease. Empty: the Pod's namespace, else ingress-canary.")
	fs.StringVar(&o.leaderElectionID, "leader-election-id", "ingress-canary", "Name of the Lease.")
	// 10 s and 1 s, not kube-controller-manager's 15 s and 2 s: after a crash a
	// standby waits out the lease from the last renewal it saw, and it polls at a
	// jittered 1–2.2 retry periods, so it may see the last renewal one poll late and
	// the expiry one poll late. 10 + 2 × 2.2 s keeps a takeover under 15 s.
	fs.DurationVar(&o.leaseDuration, "leader-elect-lease-duration", 10*time.Second, "How long a standby waits, after the last renewal it saw, before taking over a crashed leader's Lease.")
	fs.DurationVar(&o.renewDeadline, "leader-elect-renew-deadline", 7*time.Second, "How long the leader keeps trying to renew before it gives up leading (and exits).")
	fs.DurationVar(&o.retryPeriod, "leader-elect-retry-period", time.Second, "How often the Lease is renewed, or tried by a standby.")
	// client-go's default is 5 QPS: a thousand rollouts stepping every minute need
	// more than that, and a step that waits for the rate limiter is a late step.
	fs.Float64Var(&o.kubeAPIQPS, "kube-api-qps", 50, "Sustained rate of requests to the Kubernetes API.")
	fs.IntVar(&o.kubeAPIBurst, "kube-api-burst", 100, "Burst of requests to the Kubernetes API.")
	fs.BoolVar(&o.trimCache, "trim-cache", true, "Drop managedFields and kubectl's last-applied-configuration from cached objects; the controller reads neither, and they are most of an Ingress's size.")
	fs.IntVar(&o.workers, "workers", 4, "Workers per queue: the rollback queue (regressions the scan found), the urgent queue (due steps, promotion stages) and the queue of informer events each get this many. Each waits on the API server for its writes, so a few keep the queue moving.")
	fs.StringVar(&o.logLevel, "log-level", "info", "Log level: debug, info, warn or error.")
	fs.StringVar(&o.logFormat, "log-format", "json", "Log format: json or console.")
	fs.DurationVar(&o.analysisTimeout, "analysis-timeout", 10*time.Second, "Time limit of one Prometheus analysis's wait, and of each query; past it the step holds.")
	fs.DurationVar(&o.analysisTick, "analysis-tick", 5*time.Second, "How often an open step window is looked at, to roll back a conclusive regression before the interval ends.")
	fs.DurationVar(&o.settle, "promotion-settle", weights.DefaultConfig.Settle, "Wait between promotion stages, for ingress-nginx to apply each change.")
	fs.Float64Var(&o.memoryLimitRatio, "memory-limit-ratio", 0.9, "Set the Go runtime's soft memory limit to this share of the container's memory limit (cgroup), so that the garbage collector works harder before the kernel kills the process. GOMEMLIMIT, when set, wins; 0 turns it off.")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	return o, o.validate()
}

func (o options) validate() error {
	var errs []error
	if o.prometheusURL == "" {
		errs = append(errs, errors.New("--prometheus-url is required"))
	} else if u, err := url.Parse(o.prometheusURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("--prometheus-url=%q: want an http:// or https:// URL such as http://prometheus:9090", o.prometheusURL))
	}
	if _, err := routers.Lookup(o.router); err != nil {
		errs = append(errs, fmt.Errorf("--router=%q: %w", o.router, err))
	}
	if !gatewayAPIModes[o.gatewayAPI] {
		errs = append(errs, fmt.Errorf("--gateway-api=%q: want auto, true or false", o.gatewayAPI))
	}
	if o.workers < 1 {
		errs = append(errs, fmt.Errorf("--workers=%d: want at least 1", o.workers))
	}
	if o.logFormat != "json" && o.logFormat != "console" {
		errs = append(errs, fmt.Errorf("--log-format=%q: want json or console", o.logFormat))
	}
	if o.analysisTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--analysis-timeout=%s: want a positive duration", o.analysisTimeout))
	}
	if o.analysisTick < time.Second {
		errs = append(errs, fmt.Errorf("--analysis-tick=%s: want at least 1s", o.analysisTick))
	}
	if o.leaderElect && !(o.retryPeriod > 0 && o.renewDeadline > o.retryPeriod && o.leaseDuration > o.renewDeadline) {
		errs = append(errs, fmt.Errorf("--leader-elect-lease-duration=%s, --leader-elect-renew-deadline=%s, --leader-elect-retry-period=%s: want lease duration > renew deadline > retry period > 0",
			o.leaseDuration, o.renewDeadline, o.retryPeriod))
	}
	if o.kubeAPIQPS <= 0 || o.kubeAPIBurst < 1 {
		errs = append(errs, fmt.Errorf("--kube-api-qps=%g, --kube-api-burst=%d: want both positive", o.kubeAPIQPS, o.kubeAPIBurst))
	}
	if !(o.memoryLimitRatio >= 0 && o.memoryLimitRatio <= 1) {
		errs = append(errs, fmt.Errorf("--memory-limit-ratio=%g: want 0 (off) to 1", o.memoryLimitRatio))
	}
	if o.settle < 0 {
		errs = append(errs, fmt.Errorf("--promotion-settle=%s: want zero or more", o.settle))
	}
	return errors.Join(errs...)
}

// machineConfig is weights.DefaultConfig with the flags that override it.
func (o options) machineConfig() weights.Config {
	config := weights.DefaultConfig
	config.Settle = o.settle
	return config
}
