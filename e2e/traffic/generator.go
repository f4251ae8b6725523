package traffic

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// Generator sends one bounded, paced run of requests at a time and counts the
// results. Snapshot is safe to call from any goroutine while Run is running.
type Generator struct {
	cfg      Config
	client   *http.Client
	template *http.Request

	mu     sync.Mutex
	counts Counts
}

// New checks cfg and returns a Generator; the error names every bad field.
func New(cfg Config) (*Generator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	template, err := newTemplate(cfg)
	if err != nil {
		return nil, err
	}
	return &Generator{cfg: cfg, client: newClient(cfg.Concurrency), template: template, counts: Counts{}.clone()}, nil
}

// Run sends requests at Config.RPS from Config.Concurrency workers until
// MaxRequests have been sent, MaxDuration has passed or ctx ends, waits for the
// requests in flight, and returns the counts of this run. Requests cut short
// because ctx ended are not counted: they say nothing about the backend.
// Run must not be called again before it returns.
func (g *Generator) Run(ctx context.Context) Counts {
	g.reset()
	// sending ends at MaxDuration, or when the last request is claimed;
	// requests in flight keep ctx, so they may finish within Timeout.
	sending, stopSending := context.WithTimeout(ctx, g.cfg.MaxDuration)
	defer stopSending()
	// A burst of 1 keeps the pace steady from the first request on. Each idle
	// worker holds at most one reservation, so at most Concurrency requests are
	// ever waiting for their turn: nothing queues up behind a slow backend.
	limiter := rate.NewLimiter(rate.Limit(g.cfg.RPS), 1)
	var started atomic.Int64
	var workers sync.WaitGroup
	for range g.cfg.Concurrency {
		workers.Go(func() { g.work(ctx, sending, stopSending, limiter, &started) })
	}
	workers.Wait()
	g.client.CloseIdleConnections()
	return g.Snapshot()
}

// work sends one request per limiter token until a bound is reached.
func (g *Generator) work(ctx, sending context.Context, stopSending context.CancelFunc, limiter *rate.Limiter, started *atomic.Int64) {
	for {
		// Wait fails at once, without waiting, if the next token comes after
		// MaxDuration, so the time bound is exact.
		if err := limiter.Wait(sending); err != nil {
			return
		}
		n := started.Add(1)
		if n > int64(g.cfg.MaxRequests) {
			return
		}
		if n == int64(g.cfg.MaxRequests) {
			// Other workers hold reservations for later ticks; wake them now
			// rather than let Run wait out ticks that will send nothing.
			stopSending()
		}
		o, counted := g.send(ctx)
		if counted {
			g.record(o)
		}
	}
}

// Snapshot returns the counts so far; the maps are copies the caller may keep.
func (g *Generator) Snapshot() Counts {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.counts.clone()
}

func (g *Generator) record(o outcome) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.counts.add(o)
}

func (g *Generator) reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.counts = Counts{}.clone()
}
