package main

import (
	"context"
	"net/http"
	"time"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
	"github.com/ingress-canary/ingress-canary/e2e/traffic"
)

// Traffic through nginx for the whole demo: plain users, and a few testers
// who send the canary header to reach the new version at every step.
const (
	// 80 req/s gives the canary about 8 req/s at 10 %: enough for min-requests
	// even though nginx takes up to 4 s of the 8 s window to apply the weight.
	plainRPS     = 80
	testerRPS    = 2
	testerHeader = "X-Canary"
	// streamLimit bounds each stream in time; the demo ends long before.
	streamLimit = demoTimeout
)

// stream is one paced traffic generator running in the background.
type stream struct {
	g      *traffic.Generator
	cancel context.CancelFunc
	done   chan traffic.Counts
}

// startStream sends rps requests per second to the shop through nginx, with
// header added to each, until stop or streamLimit.
func startStream(c *cluster.Cluster, rps float64, header http.Header) (*stream, error) {
	g, err := traffic.New(traffic.Config{
		URL: c.HTTPURL + "/", Host: host, Header: header,
		RPS: rps, Concurrency: 8, Timeout: 5 * time.Second,
		MaxRequests: int(rps * streamLimit.Seconds()), MaxDuration: streamLimit,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &stream{g: g, cancel: cancel, done: make(chan traffic.Counts, 1)}
	go func() { s.done <- g.Run(ctx) }()
	return s, nil
}

// snapshot returns the counts since the stream started.
func (s *stream) snapshot() traffic.Counts { return s.g.Snapshot() }

// stop ends the stream and waits for its requests in flight. Safe to call
// more than once, and on nil.
func (s *stream) stop() {
	if s == nil || s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
	s.cancel = nil
}
