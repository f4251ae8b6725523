package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// families is one scrape of a /metrics endpoint.
type families map[string]*dto.MetricFamily

// scrape GETs url (Prometheus text format) with client and parses it.
func scrape(ctx context.Context, client *http.Client, url string) (families, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return families(fams), nil
}

func labelsOf(m *dto.Metric) map[string]string {
	out := make(map[string]string, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// sum adds up the counters, gauges or untyped values of name whose labels
// match; nil matches all.
func (f families) sum(name string, match func(map[string]string) bool) float64 {
	var total float64
	for _, m := range f[name].GetMetric() {
		if match != nil && !match(labelsOf(m)) {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Untyped != nil:
			total += m.GetUntyped().GetValue()
		}
	}
	return total
}

// histogram is a cumulative histogram: count and sum, and the cumulative
// count at each upper bound.
type histogram struct {
	Count, Sum float64
	Buckets    map[float64]float64
}

// hist adds up the histograms of name whose labels match.
func (f families) hist(name string, match func(map[string]string) bool) histogram {
	h := histogram{Buckets: map[float64]float64{}}
	for _, m := range f[name].GetMetric() {
		if m.Histogram == nil || (match != nil && !match(labelsOf(m))) {
			continue
		}
		h.Count += float64(m.GetHistogram().GetSampleCount())
		h.Sum += m.GetHistogram().GetSampleSum()
		for _, b := range m.GetHistogram().GetBucket() {
			h.Buckets[b.GetUpperBound()] += float64(b.GetCumulativeCount())
		}
	}
	return h
}

// minus is the histogram of what was observed between o and h.
func (h histogram) minus(o histogram) histogram {
	d := histogram{Count: h.Count - o.Count, Sum: h.Sum - o.Sum, Buckets: map[float64]float64{}}
	for le, v := range h.Buckets {
		d.Buckets[le] = v - o.Buckets[le]
	}
	return d
}

// Mean is the average observation, NaN when there is none.
func (h histogram) Mean() float64 {
	if h.Count <= 0 {
		return math.NaN()
	}
	return h.Sum / h.Count
}

// Above is the share of observations above bound (which should be a bucket
// bound), NaN when there is none.
func (h histogram) Above(bound float64) float64 {
	if h.Count <= 0 {
		return math.NaN()
	}
	return 1 - h.Buckets[bound]/h.Count
}

// Quantile estimates the q-quantile as Prometheus' histogram_quantile does,
// by linear interpolation inside the bucket the rank falls in.
func (h histogram) Quantile(q float64) float64 {
	if h.Count <= 0 {
		return math.NaN()
	}
	les := make([]float64, 0, len(h.Buckets))
	for le := range h.Buckets {
		les = append(les, le)
	}
	sort.Float64s(les)
	rank := q * h.Count
	lower, below := 0.0, 0.0
	for _, le := range les {
		n := h.Buckets[le]
		if n >= rank {
			if math.IsInf(le, 1) || n == below {
				return lower
			}
			return lower + (le-lower)*(rank-below)/(n-below)
		}
		lower, below = le, n
	}
	return lower // the rank is in +Inf, which the client library leaves out
}

// mutatingVerbs are apiserver_request_total's verbs that write.
var mutatingVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "DELETE": true, "DELETECOLLECTION": true, "APPLY": true}

// apiWrites is kube-apiserver's count of write requests by resource
// ("events" counts both Event APIs); Ingress writes also by verb
// ("ingresses PATCH") and, refused, by verb and code ("ingresses DELETE/404").
func apiWrites(f families) map[string]float64 {
	out := map[string]float64{}
	for _, m := range f["apiserver_request_total"].GetMetric() {
		l := labelsOf(m)
		if !mutatingVerbs[l["verb"]] {
			continue
		}
		r := l["resource"]
		if l["subresource"] != "" {
			r += "/" + l["subresource"]
		}
		out[r] += m.GetCounter().GetValue()
		if r == "ingresses" {
			out["ingresses "+l["verb"]] += m.GetCounter().GetValue()
			if strings.HasPrefix(l["code"], "4") {
				out["ingresses "+l["verb"]+"/"+l["code"]] += m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// diff subtracts counter maps.
func diff(after, before map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// others sums the entries of m not named in keep, for a report column.
func others(m map[string]float64, keep ...string) (float64, string) {
	var total float64
	var names []string
	for k, v := range m {
		skip := strings.HasPrefix(k, "ingresses ")
		for _, n := range keep {
			skip = skip || k == n
		}
		if !skip {
			total += v
			names = append(names, fmt.Sprintf("%s %.0f", k, v))
		}
	}
	sort.Strings(names)
	return total, strings.Join(names, ", ")
}

// queryHandler is Prometheus' instant-query endpoint, the only one analysis uses.
const queryHandler = "/api/v1/query"

func isQueryHandler(l map[string]string) bool { return l["handler"] == queryHandler }
