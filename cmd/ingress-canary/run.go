package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"

	"github.com/ingress-canary/ingress-canary/analysis/prom"
	"github.com/ingress-canary/ingress-canary/controller"
	"github.com/ingress-canary/ingress-canary/routers"
)

// resync re-reads every Ingress now and then, as a safety net for a missed event.
const resync = 10 * time.Minute

// followTTL is how long the analyzer keeps a window's counters after it
// last heard of the window. Every open window is looked at every tick, but
// when Prometheus is slow a scan of 1,000 windows takes minutes: the scale
// benchmark saw a 2-minute ttl drop open windows from the snapshots, and each
// of their next looks then waited for a refresh of its own, which slowed the
// scan further. Windows closed within it cost a few series each.
const followTTL = 30 * time.Minute

// eventCacheSize bounds each of the Event correlator's three caches
// (aggregation, counting, the per-object spam filter) to this many recent
// objects and reasons. client-go's 4096 cost about 9.5 MB at 1,000 rollouts
// in the scale benchmark's heap profiles; a rollout records an Event per
// decision, so there is nothing to aggregate across more objects than are
// deciding at once, and an object that floods stays among the recent ones.
const eventCacheSize = 512

func run(ctx context.Context, o options) error {
	log, err := newLogger(o.logLevel, o.logFormat)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	applyMemoryLimit(log, o.memoryLimitRatio, os.DirFS("/"))
	cfg, err := restConfig(o.kubeconfig)
	if err != nil {
		return err
	}
	cfg.UserAgent = "ingress-canary"
	cfg.QPS, cfg.Burst = float32(o.kubeAPIQPS), o.kubeAPIBurst
	// Protobuf, as the kube controllers use: the initial list of every Ingress
	// decodes with far less garbage than JSON. Patches keep their own types.
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	// Events and the Lease get clients of their own, each with its own rate
	// limit, as kube-controller-manager gives them: a burst of steps must
	// neither delay a Lease renewal (the leader would lose the Lease) nor wait
	// behind its own Events (docs/benchmarks.md, "Findings behind the code").
	eventClient, err := clientFor(cfg, "events")
	if err != nil {
		return err
	}
	leaseClient, err := clientFor(cfg, "leader-election")
	if err != nil {
		return err
	}
	promAPI, err := prom.APIFor(o.prometheusURL)
	if err != nil {
		return fmt.Errorf("--prometheus-url: %w", err)
	}
	// One shared snapshot per half tick serves every rollout's analysis; up to a
	// tick old, it answers while the next is read, so no due step waits on Prometheus.
	router, err := routers.Lookup(o.router)
	if err != nil {
		return fmt.Errorf("--router: %w", err)
	}
	// Snapshots keep the counters of open windows only (the controller says
	// which are open at every sync, the fast-fail scan asks about each at
	// every tick), not of every Ingress of the cluster.
	analyzer := prom.NewAnalyzer(promAPI, o.analysisTick/2, o.analysisTimeout).ServeStale(o.analysisTick / 2).ReadAs(router.Metrics).
		FollowOnly(followTTL)
	// HTTPRoutes get an analyzer per Gateway implementation, over full
	// snapshots of that implementation's route series (few, next to the
	// Ingresses').
	newRouteAnalyzer := func(d prom.Dialect) controller.Analyzer {
		return prom.NewAnalyzer(promAPI, o.analysisTick/2, o.analysisTimeout).ServeStale(o.analysisTick / 2).ReadAs(d)
	}
	var routes *routeRunner
	if on, err := gatewayAPIEnabled(o.gatewayAPI, client.Discovery(), log); err != nil {
		return err
	} else if on {
		if routes, err = newRouteRunner(cfg, newRouteAnalyzer); err != nil {
			return err
		}
	}
	reg := controller.NewRegistry()
	metrics := controller.NewMetrics(reg)
	controller.RegisterWorkqueueMetrics(reg)
	controller.RegisterLeaderMetrics(reg)
	go probePrometheus(ctx, log, promAPI, reg, o.analysisTick, o.analysisTimeout)
	var ready atomic.Bool
	if err := serveHTTP(ctx, log, "metrics", o.metricsAddr, metricsHandler(reg)); err != nil {
		return fmt.Errorf("--metrics-bind-address: %w", err)
	}
	if err := serveHTTP(ctx, log, "probes", o.probeAddr, probeHandler(&ready)); err != nil {
		return fmt.Errorf("--health-probe-bind-address: %w", err)
	}

	broadcaster := record.NewBroadcaster(record.WithContext(ctx), record.WithCorrelatorOptions(record.CorrelatorOptions{LRUCacheSize: eventCacheSize}))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: eventClient.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "ingress-canary"})

	reconcile := func(ctx context.Context) error {
		factoryOpts := []informers.SharedInformerOption{informers.WithNamespace(o.namespace)}
		if o.trimCache {
			factoryOpts = append(factoryOpts, informers.WithTransform(controller.TrimForCache))
		}
		factory := informers.NewSharedInformerFactoryWithOptions(client, resync, factoryOpts...)
		opts := controller.Options{
			IngressClass: o.ingressClass,
			Router:       router,
			AnalysisTick: o.analysisTick,
			Machine:      o.machineConfig(),
		}
		ctrl, err := controller.New(client, factory, recorder, analyzer, metrics, log, opts)
		if err != nil {
			return err
		}
		if routes != nil {
			gwFactory, runRoutes, err := routes.start(o, factory, recorder, metrics, log, opts)
			if err != nil {
				return err
			}
			gwFactory.Start(ctx.Done())
			defer gwFactory.Shutdown()
			go func() {
				if err := runRoutes(ctx); err != nil {
					log.Error("HTTPRoute controller stopped", zap.Error(err))
				}
			}()
		}
		factory.Start(ctx.Done())
		defer factory.Shutdown()
		go func() {
			factory.WaitForCacheSync(ctx.Done())
			ready.Store(true)
		}()
		return ctrl.Run(ctx, o.workers)
	}
	if !o.leaderElect {
		return reconcile(ctx)
	}
	ready.Store(true) // a standby is healthy and ready to take over
	return leadAndReconcile(ctx, log, leaseClient, o, reconcile)
}

// clientFor is a client with cfg's settings and a rate limiter of its own,
// named purpose in its user agent.
func clientFor(cfg *rest.Config, purpose string) (kubernetes.Interface, error) {
	c := rest.CopyConfig(cfg)
	c.UserAgent = cfg.UserAgent + "/" + purpose
	return kubernetes.NewForConfig(c)
}

// leadAndReconcile runs reconcile only while holding the Lease. The Lease is
// released on shutdown so that a rolling update hands over at once.
func leadAndReconcile(ctx context.Context, log *zap.Logger, client kubernetes.Interface, o options, reconcile func(context.Context) error) error {
	host, _ := os.Hostname()
	id := host + "_" + string(uuid.NewUUID())
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metaFor(o.leaderElectionID, leaseNamespace(o.leaderElectionNamespace)),
		Client:     client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: id},
	}
	var runErr error
	leading := make(chan struct{})
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   o.leaseDuration,
		RenewDeadline:   o.renewDeadline,
		RetryPeriod:     o.retryPeriod,
		ReleaseOnCancel: true,
		Name:            o.leaderElectionID,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				close(leading)
				log.Info("became leader", zap.String("identity", id))
				runErr = reconcile(ctx)
			},
			OnStoppedLeading: func() { log.Info("stopped leading", zap.String("identity", id)) },
		},
	})
	if err != nil {
		return err
	}
	log.Info("waiting for leadership", zap.String("lease", lock.LeaseMeta.Namespace+"/"+lock.LeaseMeta.Name), zap.String("identity", id))
	elector.Run(ctx)
	select {
	case <-leading:
	default:
		return ctx.Err()
	}
	if runErr != nil {
		return runErr
	}
	if ctx.Err() == nil {
		// Lost the Lease while still meant to run: exit, so that the restarted
		// process starts clean and never acts beside the new leader.
		return errors.New("leader election lost")
	}
	return nil
}

// leaseNamespace is the flag, else the Pod's own namespace, else ingress-canary.
func leaseNamespace(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	if b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace"); err == nil {
		if ns := strings.TrimSpace(string(b)); ns != "" {
			return ns
		}
	}
	return "ingress-canary"
}

// restConfig loads --kubeconfig, else $KUBECONFIG or ~/.kube/config, else the
// in-cluster config, like kubectl and controller-runtime do.
func restConfig(path string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	return cfg, nil
}
