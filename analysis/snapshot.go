package analysis

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
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
}

// snapshotQueries are the three batched queries of a snapshot. Summing away
// method, path, status and host keeps the answer to a few series per Ingress.
var snapshotQueries = struct{ requests, errors, buckets string }{
	requests: `sum by (namespace, ingress, canary, instance) (` + requestsMetric + `)`,
	errors:   `sum by (namespace, ingress, canary, instance) (` + requestsMetric + `{status=~"5.."})`,
	buckets:  `sum by (namespace, ingress, canary, instance, le) (` + latencyMetric + `)`,
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
