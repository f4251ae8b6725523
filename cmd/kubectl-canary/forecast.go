package main

import (
	"context"
	"fmt"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/analysis/prom"
	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/backends"
	"github.com/ingress-canary/ingress-canary/preflight"
	"github.com/ingress-canary/ingress-canary/weights"
)

// forecastOptions say at what traffic lint forecasts the rollout.
type forecastOptions struct {
	// prometheusURL, when set, reads the stable side's last hour, as the
	// controller does when the rollout starts.
	prometheusURL string
	router        string
	// rps and errorRate, when rps is set, are the traffic to forecast at.
	rps, errorRate float64
}

// exampleRPS are the rates lint forecasts at when it is told none.
var exampleRPS = []float64{1, 5, 20, 200}

// exampleErrorRate is the stable error rate of those forecasts.
const exampleErrorRate = 0.001

// forecastLines say how long a rollout of spec should take: at the traffic
// Prometheus saw, at the given one, or at a few example rates.
func forecastLines(ctx context.Context, o forecastOptions, spec *annotations.Spec, ing *networkingv1.Ingress, stable string) []string {
	none := analysis.DispersionEstimate{}
	switch {
	case o.rps > 0:
		return []string{weights.RolloutForecast(spec, none, o.rps, o.errorRate)}
	case o.prometheusURL != "":
		b, err := readBaseline(ctx, o, ing, stable)
		_, e := weights.WithBaseline(spec, weights.Status{}, b, err)
		return []string{e.Message}
	}
	lines := make([]string, 0, len(exampleRPS))
	for _, rps := range exampleRPS {
		lines = append(lines, weights.RolloutForecast(spec, none, rps, exampleErrorRate))
	}
	return lines
}

// readBaseline asks Prometheus for the stable side's last hour with the
// controller's own query.
func readBaseline(ctx context.Context, o forecastOptions, ing *networkingv1.Ingress, stable string) (*analysis.Baseline, error) {
	api, err := prom.APIFor(o.prometheusURL)
	if err != nil {
		return nil, err
	}
	dialect, ok := prom.Dialects[o.router]
	if !ok {
		return nil, fmt.Errorf("--router=%s: want nginx or traefik", o.router)
	}
	t := analysis.Target{Namespace: ing.Namespace, Ingress: ing.Name, StableService: stable}
	for _, b := range backends.To(ing, stable) {
		t.StablePort = preflight.PortString(b.Backend.Service.Port)
		break
	}
	b, err := prom.NewAnalyzer(api, time.Second, 10*time.Second).ReadAs(dialect).Baseline(ctx, t, time.Now())
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// latencyNotes say where max-latency meets the data plane's default
// histogram buckets, when it is not one of their bounds.
func latencyNotes(spec *annotations.Spec, router string) []string {
	bounds, ok := prom.DefaultLatencyBuckets[router]
	if spec.Analysis.MaxLatency <= 0 || !ok {
		return nil
	}
	note := prom.LatencyBoundNote(spec.Analysis.MaxLatency.Seconds(), bounds)
	if note == "" {
		return nil
	}
	return []string{fmt.Sprintf("%s %s is %s, with %s's default buckets", annotations.KeyMaxLatency, spec.Analysis.MaxLatency, note, router)}
}
