package analysis

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// The ingress-nginx metrics a snapshot reads.
const (
	requestsMetric = "nginx_ingress_controller_requests"
	latencyMetric  = "nginx_ingress_controller_request_duration_seconds_bucket"
)

// seriesKey identifies one cumulative counter as the snapshot keeps it: per
// Ingress, per canary upstream ("" for stable) and per scrape instance, so that a
// restart of one ingress-nginx pod (its counters reset) is seen as such.
type seriesKey struct {
	namespace, ingress, canary, instance string
}

// counters are the cumulative values of one series at one instant.
type counters struct {
	requests, errors float64
	// buckets maps a histogram bucket's upper bound (le) to its cumulative count.
	buckets map[float64]float64
}

// Snapshot is every ingress-nginx request counter at one instant, read with a
// fixed number of queries whatever the number of rollouts.
type Snapshot struct {
	At     time.Time
	series map[seriesKey]*counters
	// fetch is how long the queries took. A refresh that took longer than the
	// freshness limit must still count as fresh when it arrives, or every waiting
	// rollout would refresh again and the query count would grow with them.
	fetch time.Duration

	// byIngress lists each Ingress's series, so that a window reads only its
	// own few instead of all of them (1,000 rollouts over 10,000 Ingresses took
	// 2 s a tick scanning everything).
	indexOnce sync.Once
	byIngress map[ingressKey][]seriesKey
}

type ingressKey struct{ namespace, ingress string }

// ingress returns the keys of one Ingress's series.
func (s *Snapshot) ingress(namespace, ingress string) []seriesKey {
	s.indexOnce.Do(func() {
		s.byIngress = map[ingressKey][]seriesKey{}
		for k := range s.series {
			ik := ingressKey{k.namespace, k.ingress}
			s.byIngress[ik] = append(s.byIngress[ik], k)
		}
	})
	return s.byIngress[ingressKey{namespace, ingress}]
}

// snapshotQueries are the three batched queries of a snapshot. Summing away
// method, path, status and host keeps the answer to a few series per Ingress.
// They are constants: no label value from a Kubernetes object is ever put into
// PromQL, so nothing a user writes in a name can change what is asked.
var snapshotQueries = struct{ requests, errors, buckets string }{
	requests: `sum by (namespace, ingress, canary, instance) (` + requestsMetric + `)`,
	errors:   `sum by (namespace, ingress, canary, instance) (` + requestsMetric + `{status=~"5.."})`,
	// Buckets are most of any answer (12 per side). Only Ingresses that have a
	// canary need latency, so the rest are joined away in Prometheus.
	buckets: `sum by (namespace, ingress, canary, instance, le) (` + latencyMetric +
		` and on (namespace, ingress) group by (namespace, ingress) (` + requestsMetric + `{canary!=""}))`,
}

// takeSnapshot reads all counters at `at` (the @ time of an instant query).
func takeSnapshot(ctx context.Context, api v1.API, at time.Time) (*Snapshot, error) {
	s := &Snapshot{At: at, series: map[seriesKey]*counters{}}
	for _, q := range []struct {
		query string
		add   func(*counters, model.LabelSet, float64)
	}{
		{snapshotQueries.requests, func(c *counters, _ model.LabelSet, v float64) { c.requests += v }},
		{snapshotQueries.errors, func(c *counters, _ model.LabelSet, v float64) { c.errors += v }},
		{snapshotQueries.buckets, addBucket},
	} {
		vec, err := instantVector(ctx, api, q.query, at)
		if err != nil {
			return nil, err
		}
		for _, sample := range vec {
			m := model.LabelSet(sample.Metric)
			k := seriesKey{string(m["namespace"]), string(m["ingress"]), string(m["canary"]), string(m["instance"])}
			c := s.series[k]
			if c == nil {
				c = &counters{buckets: map[float64]float64{}}
				s.series[k] = c
			}
			if v := float64(sample.Value); !math.IsNaN(v) {
				q.add(c, m, v)
			}
		}
	}
	return s, nil
}

func addBucket(c *counters, m model.LabelSet, v float64) {
	le, err := strconv.ParseFloat(string(m["le"]), 64)
	if err != nil {
		return // not a histogram bucket; ingress-nginx always sets le
	}
	c.buckets[le] += v
}

func instantVector(ctx context.Context, api v1.API, q string, at time.Time) (model.Vector, error) {
	val, _, err := api.Query(ctx, q, at)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", q, err)
	}
	vec, ok := val.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("query %q: want a vector, got %s", q, val.Type())
	}
	return vec, nil
}
