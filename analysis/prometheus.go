package analysis

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Prometheus measures and judges canary windows by querying a Prometheus
// server that scrapes ingress-nginx.
type Prometheus struct {
	api     v1.API
	timeout time.Duration
}

// New returns a Prometheus that queries through client. timeout bounds each
// Measure (all its queries together); zero leaves only the caller's context.
func New(client v1.API, timeout time.Duration) *Prometheus {
	return &Prometheus{api: client, timeout: timeout}
}

// NewFromURL returns a Prometheus for the server at url, e.g.
// "http://prometheus.monitoring:9090", with client_golang's default transport.
func NewFromURL(url string, timeout time.Duration) (*Prometheus, error) {
	a, err := APIFor(url)
	if err != nil {
		return nil, err
	}
	return New(a, timeout), nil
}

// APIFor returns client_golang's Prometheus API client for the server at url.
func APIFor(url string) (v1.API, error) {
	if url == "" {
		return nil, fmt.Errorf("prometheus url is empty")
	}
	client, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %q: %w", url, err)
	}
	return v1.NewAPI(client), nil
}

// Analyze measures t with th's latency quantile (DefaultLatencyQuantile when
// unset) and judges the figures with Judge. When Prometheus cannot answer (an
// error, a timeout, a cancelled context, or a target that cannot be queried)
// the outcome is Unavailable with the error as Reason, never Fail: an outage
// of the monitoring must not roll back a healthy release, it holds the step.
func (p *Prometheus) Analyze(ctx context.Context, t Target, th Thresholds) Verdict {
	m, err := p.Measure(ctx, t, latencyQuantile(th))
	if err != nil {
		return Verdict{Outcome: Unavailable, Reason: "prometheus: " + err.Error(), Measurement: m}
	}
	return Judge(m, th)
}

// Measure asks Prometheus for both sides' requests, 5xx errors and latency at
// quantile during t's window, one query per figure, all evaluated at t.Until.
// An empty result means no requests (or, for latency, unknown: -1); a NaN
// latency, which histogram_quantile returns when no request was observed, is
// also -1. Errors name the query that failed.
func (p *Prometheus) Measure(ctx context.Context, t Target, quantile float64) (Measurement, error) {
	if p.timeout > 0 {
		// The deadline travels with the HTTP request, and Prometheus stops
		// evaluating a query whose request is gone. client_golang's
		// v1.WithTimeout is not used: it sends Go's duration syntax ("1.5s"),
		// which Prometheus does not parse.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	canary, err := p.measureSide(ctx, t, canarySide, quantile)
	if err != nil {
		return Measurement{}, err
	}
	stable, err := p.measureSide(ctx, t, stableSide, quantile)
	if err != nil {
		return Measurement{}, err
	}
	return Measurement{Canary: canary, Stable: stable}, nil
}

func (p *Prometheus) measureSide(ctx context.Context, t Target, s side, quantile float64) (Side, error) {
	qs, err := buildQueries(t, s, quantile)
	if err != nil {
		return Side{}, fmt.Errorf("%s queries: %w", s, err)
	}
	var out Side
	if out.Requests, err = p.count(ctx, qs.Requests, t.Until); err != nil {
		return Side{}, err
	}
	if out.Errors, err = p.count(ctx, qs.Errors, t.Until); err != nil {
		return Side{}, err
	}
	if out.Requests > 0 {
		out.ErrorRate = out.Errors / out.Requests
	}
	if out.LatencySeconds, err = p.latency(ctx, qs.Latency, t.Until); err != nil {
		return Side{}, err
	}
	return out, nil
}

// count runs a sum(increase(...)) query. No series in the window gives an
// empty result, which is zero requests.
func (p *Prometheus) count(ctx context.Context, q string, at time.Time) (float64, error) {
	v, ok, err := p.query(ctx, q, at)
	if err != nil || !ok {
		return 0, err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("query %q: count is %v", q, v)
	}
	return v, nil
}

// latency runs a histogram_quantile query; -1 means unknown. histogram_quantile
// returns NaN when the buckets are empty and never +Inf for a quantile in the
// highest bucket (it reports the highest finite bound), so anything not finite
// is treated as unknown, which holds a gated step rather than passing it.
func (p *Prometheus) latency(ctx context.Context, q string, at time.Time) (float64, error) {
	v, ok, err := p.query(ctx, q, at)
	if err != nil {
		return 0, err
	}
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return -1, nil
	}
	return v, nil
}

// query runs an instant query that aggregates to at most one sample and
// returns its value; ok is false when the result is empty.
func (p *Prometheus) query(ctx context.Context, q string, at time.Time) (value float64, ok bool, err error) {
	// Warnings (e.g. a partial answer from a remote read) are not errors: the
	// figures are still the best Prometheus has, and Judge is conservative.
	res, _, err := p.api.Query(ctx, q, at)
	if err != nil {
		return 0, false, fmt.Errorf("query %q: %w", q, err)
	}
	vec, isVector := res.(model.Vector)
	if res == nil {
		return 0, false, fmt.Errorf("query %q: no result", q)
	}
	if !isVector {
		return 0, false, fmt.Errorf("query %q: got a %s, want a vector", q, res.Type())
	}
	switch len(vec) {
	case 0:
		return 0, false, nil
	case 1:
		return float64(vec[0].Value), true, nil
	default:
		return 0, false, fmt.Errorf("query %q: got %d samples, want at most one", q, len(vec))
	}
}
