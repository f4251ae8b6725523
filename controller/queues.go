package controller

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/workqueue"
)

// Three client-go workqueues, each with workers of its own, so that a
// rollback never waits behind a step, and time-driven work never behind
// event-driven work:
//
//   - rollbacks holds the rollouts the scan found regressing. At 1,000
//     rollouts stepping together the urgent queue may hold hundreds of steps;
//     a regression's traffic is taken back before any of them;
//   - urgent holds what a rollout's clock or its analysis asks for: a step
//     come due, the next promotion stage, a recheck (the requeue a sync
//     returns), and a step the scan found decided;
//   - queue holds what informer events ask for: an Ingress, Service or
//     EndpointSlice changed, or the periodic resync. At 10,000 Ingresses a
//     resync or a controller restart puts every Ingress on it at once, and a
//     burst of steps' own writes echoes back through it.
//
// A key may sit on several; keyLocks make sure its syncs never run at once,
// so a rollback or an urgent sync waits for at most the one sync of its own
// key that is under way, never behind other keys.
const (
	queueName         = "ingress-canary"
	urgentQueueName   = "ingress-canary-urgent"
	rollbackQueueName = "ingress-canary-rollback"
)

func newQueue(name string) workqueue.TypedRateLimitingInterface[string] {
	return workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: name})
}

// keyLocks serialise the syncs of one key across the two queues.
type keyLocks struct {
	mu   sync.Mutex
	held map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	users int
}

func newKeyLocks() *keyLocks { return &keyLocks{held: map[string]*keyLock{}} }

// lock takes key's lock and returns its release.
func (k *keyLocks) lock(key string) func() {
	k.mu.Lock()
	l := k.held[key]
	if l == nil {
		l = &keyLock{}
		k.held[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		defer k.mu.Unlock()
		if l.users--; l.users == 0 {
			delete(k.held, key)
		}
	}
}

// runWorkers runs n workers on each queue until ctx ends.
func (c *Controller) runWorkers(ctx context.Context, n int) {
	for _, q := range []workqueue.TypedRateLimitingInterface[string]{c.rollbacks, c.urgent, c.queue} {
		for range n {
			go wait.UntilWithContext(ctx, func(ctx context.Context) {
				for c.processNextWorkItem(ctx, q) {
				}
			}, time.Second)
		}
	}
}

// processNextWorkItem syncs the next key of q. What the sync asks to be
// looked at again later is time-driven, so it goes on the urgent queue.
func (c *Controller) processNextWorkItem(ctx context.Context, q workqueue.TypedRateLimitingInterface[string]) bool {
	key, shutdown := q.Get()
	if shutdown {
		return false
	}
	defer q.Done(key)
	release := c.keyLocks.lock(key)
	requeue, err := c.syncKey(ctx, key)
	release()
	if err != nil {
		// Transient: try again with backoff.
		q.AddRateLimited(key)
		if behindTheCache(err) {
			c.log.Info("write refused: the cache was behind; retrying", zap.String("key", key), zap.Error(err))
			return true
		}
		utilruntime.HandleErrorWithContext(ctx, err, "sync failed", "key", key)
		return true
	}
	q.Forget(key)
	if requeue > 0 {
		c.urgent.AddAfter(key, requeue)
	}
	return true
}
