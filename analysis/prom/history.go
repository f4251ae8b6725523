package prom

import (
	"context"
	"fmt"
	"regexp"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// History bounds: an hour of stable's counts at 30 s, 120 points per series.
const (
	HistorySpan = time.Hour
	HistoryStep = 30 * time.Second
)

// Historian reads the traffic of one stable side before a rollout with one
// range query; a data plane that can say where t's stable series are
// implements it.
type Historian interface {
	// StableSelector returns the PromQL series selector of t's stable
	// requests (for the counter), and the label matcher that adds "5xx".
	StableSelector(t analysis.Target) (requests, errors string, err error)
}

// safeLabel is what a Kubernetes name may hold (DNS-1123 subdomain, port
// name): it needs no escaping in a PromQL string, and a value outside it is
// refused rather than escaped.
var safeLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$`)

func checkLabels(values ...string) error {
	for _, v := range values {
		if !safeLabel.MatchString(v) {
			return fmt.Errorf("%q is not a Kubernetes name", v)
		}
	}
	return nil
}

// StableSelector implements Historian.
func (Nginx) StableSelector(t analysis.Target) (string, string, error) {
	if err := checkLabels(t.Namespace, t.Ingress); err != nil {
		return "", "", err
	}
	sel := fmt.Sprintf(`namespace="%s",ingress="%s",canary=""`, t.Namespace, t.Ingress)
	if t.StableService != "" {
		if err := checkLabels(t.StableService); err != nil {
			return "", "", err
		}
		sel += fmt.Sprintf(`,service="%s"`, t.StableService)
	}
	return nginxRequests + "{" + sel + "}", nginxRequests + "{" + sel + `,status=~"5.."}`, nil
}

// StableSelector implements Historian.
func (Traefik) StableSelector(t analysis.Target) (string, string, error) {
	if err := checkLabels(t.Namespace, t.Ingress, t.StableService, t.StablePort); err != nil {
		return "", "", err
	}
	sel := fmt.Sprintf(`service="%s-%s-%s-%s%s"`, t.Namespace, t.Ingress, t.StableService, t.StablePort, traefikProvider)
	return traefikRequests + "{" + sel + "}", traefikRequests + "{" + sel + `,code=~"5.."}`, nil
}

// Baseline reads t's stable traffic over the HistorySpan before until: its
// requests and errors per HistoryStep, in one range query.
func (w *Analyzer) Baseline(ctx context.Context, t analysis.Target, until time.Time) (analysis.Baseline, error) {
	h, ok := w.dialect.(Historian)
	if !ok {
		return analysis.Baseline{}, fmt.Errorf("the %s metrics have no history reader", w.dialect.Name())
	}
	requests, errors, err := h.StableSelector(t)
	if err != nil {
		return analysis.Baseline{}, err
	}
	if w.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.timeout)
		defer cancel()
	}
	step := model.Duration(HistoryStep).String()
	q := fmt.Sprintf(`sum by (kind) (label_replace(increase(%s[%s]), "kind", "requests", "", "") or label_replace(increase(%s[%s]), "kind", "errors", "", ""))`,
		requests, step, errors, step)
	w.queries.Add(1)
	val, _, err := w.api.QueryRange(ctx, q, v1.Range{Start: until.Add(-HistorySpan), End: until, Step: HistoryStep})
	if err != nil {
		return analysis.Baseline{}, fmt.Errorf("query %q: %w", q, err)
	}
	matrix, ok := val.(model.Matrix)
	if !ok {
		if val == nil {
			return analysis.Baseline{}, fmt.Errorf("query %q: no answer", q)
		}
		return analysis.Baseline{}, fmt.Errorf("query %q: want a matrix, got %s", q, val.Type())
	}
	return baselineOf(matrix), nil
}

// baselineOf turns the per-step increases into a Baseline. A step without
// errors has no sample in the errors series (nothing matched): zero.
func baselineOf(m model.Matrix) analysis.Baseline {
	perStep := map[model.Time][2]float64{}
	for _, s := range m {
		i := 0
		if s.Metric["kind"] == "errors" {
			i = 1
		}
		for _, p := range s.Values {
			v := perStep[p.Timestamp]
			v[i] = float64(p.Value)
			perStep[p.Timestamp] = v
		}
	}
	b := analysis.Baseline{Step: HistoryStep}
	var requests, errors float64
	for _, v := range perStep {
		if !(v[0] > 0) {
			continue
		}
		b.Dispersion.Add(min(v[1], v[0]), v[0])
		requests += v[0]
		errors += v[1]
		b.Span += HistoryStep
	}
	if b.Span > 0 {
		b.RPS = requests / b.Span.Seconds()
		b.ErrorRate = errors / requests
	}
	return b
}

// DefaultLatencyBuckets are the upper bounds, in seconds, of each data
// plane's request-duration histogram as shipped (ingress-nginx's can be
// changed with --time-buckets, Traefik's with its metrics' buckets option):
// what lint can say about max-latency before Prometheus is asked.
var DefaultLatencyBuckets = map[string][]float64{
	Nginx{}.Name():   {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
	Traefik{}.Name(): {0.1, 0.3, 1.2, 5},
}

// LatencyBoundNote says how max-latency limit meets the bucket bounds: ""
// when it is one, else which bound slow requests are counted above.
func LatencyBoundNote(limit float64, bounds []float64) string {
	below, above := 0.0, 0.0
	for _, b := range bounds {
		switch {
		case b == limit:
			return ""
		case b < limit:
			below = b
		case above == 0:
			above = b
		}
	}
	switch {
	case below == 0:
		return fmt.Sprintf("below the smallest bucket bound (%gs): latency cannot be judged", bounds[0])
	case above == 0:
		return fmt.Sprintf("above the largest bucket bound: requests slower than %gs count as slow", below)
	}
	return fmt.Sprintf("between the bucket bounds %gs and %gs: requests slower than %gs count as slow (stricter)", below, above, below)
}
