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
	"k8s.io/client-go/util/workqueue"
)

// queueHarness runs a controller's three queues with a sync the test controls:
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

// Work on a queue of higher priority is synced at once while every worker
// of a lower one is busy and hundreds of keys wait behind them:
//   - a due step or a promotion stage (urgent) behind status-only and
//     event-driven syncs;
//   - a rollback the scan found behind steps, as when 1,000 rollouts step
//     at once.
func TestPriorityWorkNeverWaitsBehindBusyQueues(t *testing.T) {
	for _, tc := range []struct{ name, busy, prio, key string }{
		{"due step behind events", "event", "urgent", "ns/due-step"},
		{"rollback behind steps", "urgent", "rollback", "ns/regression"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newQueueHarness(t, 2)
			busy := h.named(tc.busy)
			for i := range 300 {
				busy.Add("ns/busy-" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
			}
			require.Eventually(t, func() bool { return busy.Len() >= 290 }, 5*time.Second, time.Millisecond,
				"both workers of the busy queue are blocked, the rest waits")
			h.named(tc.prio).Add(tc.key)
			require.Eventually(t, func() bool { return h.hasStarted(tc.key) }, 5*time.Second, time.Millisecond,
				"synced at once")
			assert.GreaterOrEqual(t, busy.Len(), 290, "nothing of the busy queue was done in the meantime")
			h.open(tc.key)
		})
	}
}

// named is the harness's queue called name: event, urgent or rollback.
func (h *queueHarness) named(name string) workqueue.TypedRateLimitingInterface[string] {
	return map[string]workqueue.TypedRateLimitingInterface[string]{"event": h.c.queue, "urgent": h.c.urgent, "rollback": h.c.rollbacks}[name]
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
