package controller

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	gwinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"
	gwlisters "sigs.k8s.io/gateway-api/pkg/client/listers/apis/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/httproute"
	"github.com/ingress-canary/ingress-canary/preflight"
)

// RouteController reconciles opted-in HTTPRoutes, the Gateway API twin of
// Controller: the same annotations, the same state machine (weights.Decide)
// and the same analysis, with the rollout written into the route itself
// (package httproute) instead of a companion Ingress.
type RouteController struct {
	gw      gwclient.Interface
	listers routeListers
	// routeIndex finds routes by the Services they name.
	routeIndex cache.Indexer
	synced     []cache.InformerSynced
	queue      workqueue.TypedRateLimitingInterface[string]
	recorder   record.EventRecorder
	// analyzers read each Gateway implementation's metrics, by Dialect name.
	analyzers   map[string]Analyzer
	openWindows *openWindows
	// metrics are the Ingress controller's, with the route's series under
	// ingress="httproute/<name>" (metricsName), so that dashboards and alerts
	// show both and a route never shares series with an Ingress of its name.
	metrics *Metrics
	opts    Options
	log     *zap.Logger
}

// metricsName is a route's value of the metrics' ingress label.
func metricsName(route string) string { return "httproute/" + route }

type routeListers struct {
	routes   gwlisters.HTTPRouteLister
	gateways gwlisters.GatewayLister
	classes  gwlisters.GatewayClassLister
	core     preflight.Listers
}

// NewRoutes wires the HTTPRoute, Gateway and GatewayClass informers (from
// gwFactory) and the Service and EndpointSlice ones (from factory, shared
// with the Ingress controller). Start both factories and call Run afterwards.
func NewRoutes(gw gwclient.Interface, gwFactory gwinformers.SharedInformerFactory, factory informers.SharedInformerFactory,
	recorder record.EventRecorder, analyzers map[string]Analyzer, metrics *Metrics, log *zap.Logger, opts Options) (*RouteController, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	routeInf := gwFactory.Gateway().V1().HTTPRoutes()
	gwInf := gwFactory.Gateway().V1().Gateways()
	classInf := gwFactory.Gateway().V1().GatewayClasses()
	svcInf := factory.Core().V1().Services()
	epsInf := factory.Discovery().V1().EndpointSlices()
	c := &RouteController{
		gw: gw,
		listers: routeListers{routes: routeInf.Lister(), gateways: gwInf.Lister(), classes: classInf.Lister(),
			core: preflight.Listers{Services: preflight.Services{Store: svcInf.Informer().GetStore()},
				EndpointSlices: preflight.EndpointSlices{Indexer: epsInf.Informer().GetIndexer()}}},
		routeIndex: routeInf.Informer().GetIndexer(),
		synced: []cache.InformerSynced{routeInf.Informer().HasSynced, gwInf.Informer().HasSynced, classInf.Informer().HasSynced,
			svcInf.Informer().HasSynced, epsInf.Informer().HasSynced},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "ingress-canary-httproutes"}),
		recorder:    recorder,
		analyzers:   analyzers,
		openWindows: newOpenWindows(),
		metrics:     metrics,
		opts:        opts,
		log:         log.With(zap.String("kind", "HTTPRoute")),
	}
	if err := routeInf.Informer().AddIndexers(cache.Indexers{serviceIndex: routeServices}); err != nil {
		return nil, fmt.Errorf("add service index: %w", err)
	}
	if _, err := routeInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueueRoute,
		UpdateFunc: func(old, cur any) {
			if old.(*gwv1.HTTPRoute).ResourceVersion != cur.(*gwv1.HTTPRoute).ResourceVersion {
				c.enqueueRoute(cur)
			}
		},
		DeleteFunc: c.enqueueRoute,
	}); err != nil {
		return nil, err
	}
	if err := onEveryChange(func(obj any) {
		for _, u := range usersOf(c.routeIndex, obj) {
			c.enqueueRoute(u)
		}
	}, svcInf.Informer(), epsInf.Informer()); err != nil {
		return nil, err
	}
	// A Gateway or GatewayClass change may change which data plane serves a
	// route (and so whether it can be measured): every followed route is read
	// again. They change rarely.
	if err := onEveryChange(func(any) { c.enqueueAllRoutes() }, gwInf.Informer(), classInf.Informer()); err != nil {
		return nil, err
	}
	return c, nil
}

// routeServices indexes an opted-in route by its canary-service and every
// Service its rules name.
func routeServices(obj any) ([]string, error) {
	r, ok := obj.(*gwv1.HTTPRoute)
	if !ok || !annotations.Followed(r.Annotations) {
		return nil, nil
	}
	names := httproute.Services(r.Spec, r.Namespace)
	names[r.Annotations[annotations.KeyCanaryService]] = true
	var out []string
	for n := range names {
		if n != "" {
			out = append(out, r.Namespace+"/"+n)
		}
	}
	return out, nil
}

func (c *RouteController) enqueueRoute(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	r, ok := obj.(*gwv1.HTTPRoute)
	if !ok || !annotations.Followed(r.Annotations) {
		return
	}
	c.queue.Add(r.Namespace + "/" + r.Name)
}

func (c *RouteController) enqueueAllRoutes() {
	for _, obj := range c.routeIndex.List() {
		c.enqueueRoute(obj)
	}
}

// Run waits for the caches, then runs workers until ctx ends. Each sync of
// a route with an open window looks at the window so far
// (weights.NextLook): queueing them every tick is the fast fail.
func (c *RouteController) Run(ctx context.Context, workers int) error {
	return workLoop{queue: c.queue, synced: c.synced, sync: c.sync, log: c.log, tick: c.opts.AnalysisTick,
		onTick: func(context.Context) {
			for key := range c.openWindows.all() {
				c.queue.Add(key)
			}
		}}.run(ctx, workers)
}
