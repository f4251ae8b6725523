package prom

import (
	"context"
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// historyRead is one Baseline range query in the background, keyed by the
// stable side it reads (historyKey); done is closed when b or err is set.
type historyRead struct {
	asked time.Time
	done  chan struct{}
	b     analysis.Baseline
	err   error
}

type historyKey struct {
	group
	stable string
}

// historyKeep bounds how long an answered read waits for the rollout that
// asked for it to come back (one that was deleted meanwhile never does).
const historyKeep = 10 * time.Minute

// BaselineOrReady is Baseline for a caller that must not wait for
// Prometheus: it starts the range query in the background and returns the
// channel that closes when it lands; asked again then (by the same stable
// side), it answers, with the read's error if it failed.
//
// The controller's workers use it when a rollout starts: every start waited
// for its range query inside the sync, a worker held by Prometheus once per
// rollout.
func (w *Analyzer) BaselineOrReady(ctx context.Context, t analysis.Target, until time.Time) (analysis.Baseline, <-chan struct{}, error) {
	g, _, _ := w.dialect.Sides(t)
	key := historyKey{g, t.StableService}
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, r := range w.histories {
		if until.Sub(r.asked) > historyKeep {
			delete(w.histories, k)
		}
	}
	if r, ok := w.histories[key]; ok {
		select {
		case <-r.done:
			delete(w.histories, key)
			return r.b, nil, r.err
		default:
			return analysis.Baseline{}, r.done, nil
		}
	}
	if w.histories == nil {
		w.histories = map[historyKey]*historyRead{}
	}
	r := &historyRead{asked: until, done: make(chan struct{})}
	w.histories[key] = r
	// The read outlives the sync that asked for it; Baseline bounds it
	// with the analyzer's timeout.
	ctx = context.WithoutCancel(ctx)
	go func() {
		b, err := w.Baseline(ctx, t, until)
		w.mu.Lock()
		r.b, r.err = b, err
		w.mu.Unlock()
		close(r.done)
	}()
	return analysis.Baseline{}, r.done, nil
}
