package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/ingress-canary/ingress-canary/bench/internal/fakenginx"
)

// The metric names ingress-nginx exports and analysis reads.
const (
	requestsName = fakenginx.RequestsMetric
	durationName = fakenginx.DurationMetric
)

// Rollout names the canary side of one Ingress, as the controller would
// describe it to analysis.
type Rollout struct {
	Namespace, Ingress, CanaryUpstream string
}

// Exporter is the fake ingress-nginx /metrics endpoint (package fakenginx)
// of this benchmark's fleet, whose canary weights never change.
type Exporter struct {
	*fakenginx.Exporter
	rollouts []Rollout
	now      func() time.Time
}

// NewExporter builds the fleet: ingresses Ingresses, of which rollouts (spread
// evenly over the fleet) have a canary. Rates, error ratios and latencies are
// drawn from seed, so a run is repeatable.
func NewExporter(ingresses, rollouts int, seed uint64, now func() time.Time) (*Exporter, error) {
	if ingresses < 1 || rollouts < 0 || rollouts > ingresses {
		return nil, fmt.Errorf("want 0 <= rollouts (%d) <= ingresses (%d) and at least one Ingress", rollouts, ingresses)
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b9))
	x := &Exporter{Exporter: fakenginx.New(now), now: now}
	for i := range ingresses {
		// Rollouts are spread evenly, so that they are not all in the first
		// namespaces, the order Prometheus returns its answer in.
		canary := rollouts > 0 && i%(ingresses/rollouts) == 0 && len(x.rollouts) < rollouts
		if err := x.addIngress(rng, i, canary); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// addIngress adds Ingress i. Traffic is log-uniform between 0.05 and 50
// requests/s (200 for one with a rollout: a gated service is usually a busy
// one); a canary takes a step weight's share of it from the fake's start.
func (x *Exporter) addIngress(rng *rand.Rand, i int, canary bool) error {
	ns := fmt.Sprintf("ns%03d", i/100)
	name := fmt.Sprintf("app%05d", i)
	maxRate := 50.0
	if canary {
		maxRate = 200
	}
	total := 0.05 * math.Pow(maxRate/0.05, rng.Float64())
	stableErrors := 0.0
	if i%5 == 0 {
		stableErrors = 0.005
	}
	if err := x.AddIngress(ns, name, total, stableErrors); err != nil {
		return err
	}
	if !canary {
		return nil
	}
	weight := []float64{.05, .1, .25, .5}[rng.IntN(4)]
	// One canary in ten is a regression: more 5xx and slower.
	c := fakenginx.Canary{Upstream: fmt.Sprintf("%s-%s-v2-80", ns, name), Weight: weight, ErrorRatio: 0.002, Latency: fakenginx.FastLatency}
	if rng.IntN(10) == 0 {
		c.ErrorRatio, c.Latency = 0.05, fakenginx.SlowLatency
	}
	x.rollouts = append(x.rollouts, Rollout{Namespace: ns, Ingress: name, CanaryUpstream: c.Upstream})
	return x.SetCanary(ns, name, c, x.Start())
}

// Rollouts returns the Ingresses that have a canary side, in fleet order.
func (x *Exporter) Rollouts() []Rollout { return x.rollouts }

// serve serves x's /metrics on a free loopback port and returns its address
// and a function that stops it.
func serve(x *Exporter) (addr string, stop func(), err error) { return fakenginx.Serve(x) }

// measureRender times one scrape's rendering, the exporter's part of it, into
// a buffer already grown as ServeHTTP's recycled ones are.
func measureRender(x *Exporter) ExporterStats {
	b := x.Render(nil, x.now())
	began := time.Now()
	b = x.Render(b[:0], x.now())
	return ExporterStats{Series: x.Series(), Bytes: len(b), Render: time.Since(began)}
}
