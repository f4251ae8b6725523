package controller

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// syncFunc reconciles one key and says when to look again (0: never).
type syncFunc func(ctx context.Context, key string) (time.Duration, error)

// workLoop is one queue of keys and the sync that drains it: the Ingress
// controller's and the HTTPRoute controller's are the same loop.
type workLoop struct {
	queue  workqueue.TypedRateLimitingInterface[string]
	synced []cache.InformerSynced
	sync   syncFunc
	log    *zap.Logger
	// tick, when positive, calls onTick every tick while the workers run.
	tick   time.Duration
	onTick func(context.Context)
}

// run waits for the caches, then runs workers until ctx ends.
func (l workLoop) run(ctx context.Context, workers int) error {
	defer utilruntime.HandleCrash()
	defer l.queue.ShutDown()
	l.log.Info("waiting for informer caches")
	if !cache.WaitForCacheSync(ctx.Done(), l.synced...) {
		return fmt.Errorf("caches did not sync")
	}
	l.log.Info("starting workers", zap.Int("workers", workers))
	for range workers {
		go wait.UntilWithContext(ctx, func(ctx context.Context) {
			for l.processNext(ctx) {
			}
		}, time.Second)
	}
	if l.tick > 0 {
		// Non-sliding: a tick is a tick, however long the last one took.
		go wait.NonSlidingUntilWithContext(ctx, l.onTick, l.tick)
	}
	<-ctx.Done()
	l.log.Info("stopping workers")
	return nil
}

func (l workLoop) processNext(ctx context.Context) bool {
	key, shutdown := l.queue.Get()
	if shutdown {
		return false
	}
	defer l.queue.Done(key)
	requeue, err := l.sync(ctx, key)
	if err != nil {
		// Transient: try again with backoff.
		l.queue.AddRateLimited(key)
		if behindTheCache(err) {
			l.log.Info("write refused: the cache was behind; retrying", zap.String("key", key), zap.Error(err))
			return true
		}
		utilruntime.HandleErrorWithContext(ctx, err, "sync failed", "key", key)
		return true
	}
	l.queue.Forget(key)
	if requeue > 0 {
		l.queue.AddAfter(key, requeue)
	}
	return true
}
