package controller

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
)

// queueHarness runs a controller's two queues with a sync the test controls:
// a key's sync blocks until the test releases it.
type queueHarness struct {
	c       *Controller
	mu      sync.Mutex
	started []string
	release map[string]chan struct{}
	running map[string]int
	overlap atomic.Bool
	requeue map[string]time.Duration
}

func newQueueHarness(t *testing.T, workers int) *queueHarness {
	h := &queueHarness{
		c: &Controller{queue: newQueue("test"), urgent: newQueue("test-urgent"), rollbacks: newQueue("test-rollback"),
			keyLocks: newKeyLocks(), log: zap.NewNop()},
		release: map[string]chan struct{}{}, running: map[string]int{}, requeue: map[string]time.Duration{},
	}
	h.c.syncKey = func(_ context.Context, key string) (time.Duration, error) {
		h.mu.Lock()
		h.started = append(h.started, key)
		if h.running[key]++; h.running[key] > 1 {
			h.overlap.Store(true)
		}
		ch := h.gate(key)
		requeue := h.requeue[key]
		delete(h.requeue, key)
		h.mu.Unlock()
		<-ch
		h.mu.Lock()
		h.running[key]--
		h.mu.Unlock()
		return requeue, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		h.mu.Lock()
		for _, ch := range h.release {
			select {
			case <-ch:
			default:
				close(ch)
			}
		}
		h.mu.Unlock()
		cancel()
		h.c.queue.ShutDown()
		h.c.urgent.ShutDown()
		h.c.rollbacks.ShutDown()
	})
	h.c.runWorkers(ctx, workers)
	return h
}

// gate is key's release channel; h.mu is held.
func (h *queueHarness) gate(key string) chan struct{} {
	if h.release[key] == nil {
		h.release[key] = make(chan struct{})
	}
	return h.release[key]
}

func (h *queueHarness) open(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	close(h.gate(key))
}

func (h *queueHarness) hasStarted(key string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range h.started {
		if k == key {
			return true
		}
	}
	return false
}

// A due step or a promotion stage (the urgent queue) is synced while every
// worker of the event queue is busy and hundreds of status-only syncs wait
// behind them.
func TestUrgentWorkNeverWaitsBehindEventWork(t *testing.T) {
	h := newQueueHarness(t, 2)
	for i := range 300 {
		h.c.queue.Add("ns/event-" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
	}
	require.Eventually(t, func() bool { return h.c.queue.Len() >= 290 }, 5*time.Second, time.Millisecond,
		"both event workers are blocked, the rest waits")

	h.c.urgent.Add("ns/due-step")
	require.Eventually(t, func() bool { return h.hasStarted("ns/due-step") }, 5*time.Second, time.Millisecond,
		"the due step is synced at once")
	assert.GreaterOrEqual(t, h.c.queue.Len(), 290, "no event work was done in the meantime")
	h.open("ns/due-step")
}

// A rollback the scan found is synced while every worker of the urgent
// queue is busy with steps and hundreds more steps wait, as when 1,000
// rollouts step at once.
func TestRollbackNeverWaitsBehindSteps(t *testing.T) {
	h := newQueueHarness(t, 2)
	for i := range 300 {
		h.c.urgent.Add("ns/step-" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
	}
	require.Eventually(t, func() bool { return h.c.urgent.Len() >= 290 }, 5*time.Second, time.Millisecond,
		"both urgent workers are blocked, the rest waits")
	h.c.rollbacks.Add("ns/regression")
	require.Eventually(t, func() bool { return h.hasStarted("ns/regression") }, 5*time.Second, time.Millisecond,
		"the rollback is synced at once")
	assert.GreaterOrEqual(t, h.c.urgent.Len(), 290, "no step was taken in the meantime")
	h.open("ns/regression")
}

// A sync's requeue (the next step's due time, the next promotion stage) is
// time-driven: it lands on the urgent queue, whatever queue the sync came from.
func TestRequeueGoesToTheUrgentQueue(t *testing.T) {
	h := newQueueHarness(t, 1)
	h.mu.Lock()
	h.requeue["ns/web"] = 10 * time.Millisecond
	h.mu.Unlock()
	h.c.queue.Add("ns/blocker") // keeps the only event worker busy
	require.Eventually(t, func() bool { return h.hasStarted("ns/blocker") }, 5*time.Second, time.Millisecond)
	h.c.urgent.Add("ns/web")
	require.Eventually(t, func() bool { return h.hasStarted("ns/web") }, 5*time.Second, time.Millisecond)
	h.open("ns/web") // returns its requeue; the second sync shares the gate, already open
	require.Eventually(t, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		n := 0
		for _, k := range h.started {
			if k == "ns/web" {
				n++
			}
		}
		return n == 2
	}, 5*time.Second, time.Millisecond, "synced again after its requeue, with the event worker still blocked")
	h.open("ns/blocker")
}

// One key on both queues is never synced twice at once: the second sync
// waits for the first.
func TestOneKeyIsNeverSyncedOnBothQueuesAtOnce(t *testing.T) {
	h := newQueueHarness(t, 2)
	h.c.queue.Add("ns/web")
	require.Eventually(t, func() bool { return h.hasStarted("ns/web") }, 5*time.Second, time.Millisecond)
	h.c.urgent.Add("ns/web")
	time.Sleep(50 * time.Millisecond)
	h.mu.Lock()
	assert.Len(t, h.started, 1, "the urgent sync of the same key waits")
	h.mu.Unlock()
	h.open("ns/web")
	require.Eventually(t, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.started) == 2
	}, 5*time.Second, time.Millisecond)
	assert.False(t, h.overlap.Load(), "never two syncs of one key at once")
	require.Eventually(t, func() bool {
		h.c.keyLocks.mu.Lock()
		defer h.c.keyLocks.mu.Unlock()
		return len(h.c.keyLocks.held) == 0
	}, 5*time.Second, time.Millisecond, "no lock left behind")
}
