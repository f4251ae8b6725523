package controller

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/backends"
	"github.com/ingress-canary/ingress-canary/preflight"
	"github.com/ingress-canary/ingress-canary/routers"
	"github.com/ingress-canary/ingress-canary/weights"
)

// Analyzer measures one step window: a Hold verdict carrying the
// measurement (weights judges its evidence), or Unavailable. prom.Analyzer
// implements it; tests stub it.
type Analyzer interface {
	Look(ctx context.Context, t analysis.Target, th analysis.Thresholds) analysis.Verdict
	// Baseline reads t's stable traffic before until, once per rollout.
	Baseline(ctx context.Context, t analysis.Target, until time.Time) (analysis.Baseline, error)
}

// Options configure a Controller.
type Options struct {
	IngressClass string
	// Router is the data plane; the zero value is ingress-nginx's behaviour
	// with nothing refused.
	Router  routers.Router
	Machine weights.Config
	// AnalysisTick is how often the evidence of every open step is read, so
	// that a regression fails, and a step with its evidence passes, within a
	// tick. 0 leaves only the due looks (every interval).
	AnalysisTick time.Duration
	// Now is the clock; tests pass their own.
	Now func() time.Time
}

// Controller reconciles opted-in primary Ingresses, one key at a time.
type Controller struct {
	client  kubernetes.Interface
	listers preflight.Listers
	// ingressIndex finds primaries by the Services they name.
	ingressIndex cache.Indexer
	synced       []cache.InformerSynced
	// queue is event-driven work, urgent time-driven work, rollbacks the
	// regressions the scan found (see queues.go).
	queue, urgent, rollbacks workqueue.TypedRateLimitingInterface[string]
	keyLocks                 *keyLocks
	// syncKey is sync; tests replace it.
	syncKey  func(ctx context.Context, key string) (time.Duration, error)
	recorder record.EventRecorder
	analyzer Analyzer
	// openWindows are the open steps the scan looks at.
	openWindows *openWindows
	// ownWrites tell the informer's echoes of our writes from other changes.
	ownWrites *ownWrites
	opts      Options
	log       *zap.Logger
	metrics   *Metrics
}

// serviceIndex maps "<namespace>/<service>" to the Ingresses that name it, so a
// Service or EndpointSlice change wakes exactly the rollouts it concerns.
const serviceIndex = "service"

// New wires the informer handlers. Start the factory and call Run afterwards.
func New(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder,
	analyzer Analyzer, metrics *Metrics, log *zap.Logger, opts Options) (*Controller, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ingInf := factory.Networking().V1().Ingresses()
	svcInf := factory.Core().V1().Services()
	epsInf := factory.Discovery().V1().EndpointSlices()
	c := &Controller{
		client: client,
		listers: preflight.Listers{
			Ingresses:      ingInf.Lister(),
			Services:       preflight.Services{Store: svcInf.Informer().GetStore()},
			EndpointSlices: preflight.EndpointSlices{Indexer: epsInf.Informer().GetIndexer()},
		},
		ingressIndex: ingInf.Informer().GetIndexer(),
		synced:       []cache.InformerSynced{ingInf.Informer().HasSynced, svcInf.Informer().HasSynced, epsInf.Informer().HasSynced},
		queue:        newQueue(queueName),
		urgent:       newQueue(urgentQueueName),
		rollbacks:    newQueue(rollbackQueueName),
		keyLocks:     newKeyLocks(),
		recorder:     recorder,
		analyzer:     analyzer,
		openWindows:  newOpenWindows(),
		ownWrites:    newOwnWrites(),
		opts:         opts,
		log:          log,
		metrics:      metrics,
	}
	c.syncKey = c.sync
	if err := ingInf.Informer().AddIndexers(cache.Indexers{serviceIndex: servicesOf}); err != nil {
		return nil, fmt.Errorf("add service index: %w", err)
	}
	if _, err := ingInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if ing, ok := obj.(*networkingv1.Ingress); ok && c.ownWrites.isEcho(ing) {
				return // the canary Ingress we just created
			}
			c.enqueueIngress(obj)
			c.enqueueSharers(obj)
		},
		UpdateFunc: func(old, cur any) {
			ing := cur.(*networkingv1.Ingress)
			// An unchanged resourceVersion is a periodic resync: nothing happened.
			if old.(*networkingv1.Ingress).ResourceVersion == ing.ResourceVersion || c.ownWrites.isEcho(ing) {
				return
			}
			c.enqueueIngress(cur)
			c.enqueueSharers(old)
			c.enqueueSharers(cur)
		},
		DeleteFunc: func(obj any) {
			c.enqueueIngress(obj)
			c.enqueueSharers(obj)
		},
	}); err != nil {
		return nil, err
	}
	if err := onEveryChange(c.enqueueUsers, svcInf.Informer(), epsInf.Informer()); err != nil {
		return nil, err
	}
	return c, nil
}

// servicesOf indexes a primary by the Services it names: its canary-service and
// every backend.
func servicesOf(obj any) ([]string, error) {
	ing, ok := obj.(*networkingv1.Ingress)
	if !ok {
		return nil, nil
	}
	if _, opted := ing.Annotations[annotations.KeyCanaryService]; !opted {
		return nil, nil
	}
	names := backends.Services(ing)
	names[ing.Annotations[annotations.KeyCanaryService]] = true
	var out []string
	for n := range names {
		if n != "" {
			out = append(out, ing.Namespace+"/"+n)
		}
	}
	return out, nil
}

// ingressOf is the Ingress an informer event carries, also inside a deletion
// tombstone.
func ingressOf(obj any) (*networkingv1.Ingress, bool) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	ing, ok := obj.(*networkingv1.Ingress)
	return ing, ok
}

// enqueueIngress queues a primary, or the owner of a canary Ingress we manage.
func (c *Controller) enqueueIngress(obj any) {
	ing, ok := ingressOf(obj)
	if !ok {
		return
	}
	if ing.Labels[ManagedByLabel] == ManagedByValue {
		if owner := metav1.GetControllerOf(ing); owner != nil && owner.Kind == "Ingress" {
			c.queue.Add(ing.Namespace + "/" + owner.Name)
		}
		return
	}
	if annotations.Followed(ing.Annotations) {
		key, err := cache.MetaNamespaceKeyFunc(ing)
		if err == nil {
			c.queue.Add(key)
		}
	}
}

// enqueueSharers queues the primaries that name a Service the Ingress routes
// to: an Ingress that starts or stops sharing a rollout's stable or canary
// Service changes what that rollout's pre-flight checks say.
func (c *Controller) enqueueSharers(obj any) {
	ing, ok := ingressOf(obj)
	if !ok {
		return
	}
	for service := range backends.Services(ing) {
		users, err := c.ingressIndex.ByIndex(serviceIndex, ing.Namespace+"/"+service)
		if err != nil {
			continue
		}
		for _, u := range users {
			if u.(*networkingv1.Ingress).UID != ing.UID {
				c.enqueueIngress(u)
			}
		}
	}
}

// enqueueUsers queues every primary that names the Service (or the Service of the
// EndpointSlice) that changed.
func (c *Controller) enqueueUsers(obj any) {
	for _, u := range usersOf(c.ingressIndex, obj) {
		c.enqueueIngress(u)
	}
}

// sameForChecks reports that a Service or EndpointSlice update changed
// nothing the checks read: an endpoint that moved, a label, a resync. The
// compact entries hold only what they read; an API object (an untrimmed
// cache) always counts as changed.
func sameForChecks(old, cur any) bool {
	switch o := old.(type) {
	case *preflight.ServicePorts:
		c, ok := cur.(*preflight.ServicePorts)
		return ok && slices.Equal(o.Ports, c.Ports)
	case *preflight.SliceReadiness:
		c, ok := cur.(*preflight.SliceReadiness)
		return ok && o.Service == c.Service && o.Ready == c.Ready
	}
	return false
}

// Run waits for the caches, then runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	defer c.urgent.ShutDown()
	defer c.rollbacks.ShutDown()
	c.log.Info("waiting for informer caches")
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return fmt.Errorf("caches did not sync")
	}
	c.log.Info("starting workers", zap.Int("workers", workers), zap.Int("urgentWorkers", workers), zap.Int("rollbackWorkers", workers))
	c.runWorkers(ctx, workers)
	if c.opts.AnalysisTick > 0 {
		// Non-sliding: a tick is a tick, however long the last scan took.
		go wait.NonSlidingUntilWithContext(ctx, c.scanOpenWindows, c.opts.AnalysisTick)
	}
	<-ctx.Done()
	c.log.Info("stopping workers")
	return nil
}
