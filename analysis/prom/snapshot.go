package prom

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// The ingress-nginx metrics a snapshot reads.
const (
	requestsMetric = "nginx_ingress_controller_requests"
	latencyMetric  = "nginx_ingress_controller_request_duration_seconds_bucket"
)

// Snapshot is every ingress-nginx request counter at one instant, read with a
// fixed number of queries whatever the number of rollouts.
type Snapshot struct {
	At time.Time
	// fetch is how long the queries took. A refresh that took longer than the
	// freshness limit must still count as fresh when it arrives, or every waiting
	// rollout would refresh again and the query count would grow with them.
	fetch time.Duration
	// ingresses holds each Ingress's series, so that a window reads only its
	// own few. A snapshot holds every Ingress of the cluster (10,000 at the
	// scale benchmark), so a series is kept as small as it can be.
	ingresses map[ingressKey][]series
	// partial marks a snapshot that kept only the Ingresses with a canary
	// (withCanaries): it says nothing about the others.
	partial bool
}

type ingressKey struct{ namespace, ingress string }

// series is one cumulative counter as the snapshot keeps it: per Service the
// Ingress routes to (ingress-nginx's `service` label, the primary's backend
// also on canary-routed requests), per canary upstream ("" for stable) and per
// scrape instance, so that a restart of one ingress-nginx pod (its counters
// reset) is seen as such. The service keeps a multi-path Ingress's other
// backends out of the stable side of a window.
type series struct {
	service, canary, instance string
	requests, errors          float64
	// buckets are the latency histogram's cumulative counts, by ascending
	// upper bound; nil where latency was not read.
	buckets []bucket
}

type bucket struct{ le, count float64 }

// seriesKey names one series in full, for building snapshots.
type seriesKey struct {
	namespace, ingress, service, canary, instance string
}

func newSnapshot(at time.Time) *Snapshot {
	return &Snapshot{At: at, ingresses: map[ingressKey][]series{}}
}

// ingress returns one Ingress's series.
func (s *Snapshot) ingress(namespace, ingress string) []series {
	return s.ingresses[ingressKey{namespace, ingress}]
}

// upsert returns the series k, adding it when new. The pointer is valid until
// the next upsert for the same Ingress.
func (s *Snapshot) upsert(k seriesKey) *series {
	ik := ingressKey{k.namespace, k.ingress}
	list := s.ingresses[ik]
	for i := range list {
		if list[i].service == k.service && list[i].canary == k.canary && list[i].instance == k.instance {
			return &list[i]
		}
	}
	list = append(list, series{service: k.service, canary: k.canary, instance: k.instance})
	s.ingresses[ik] = list
	return &list[len(list)-1]
}

// covers says whether s knows ingress's series: a full snapshot knows every
// Ingress (one it lacks had none), a partial one only those it kept.
func (s *Snapshot) covers(namespace, ingress string) bool {
	_, ok := s.ingresses[ingressKey{namespace, ingress}]
	return ok || !s.partial
}

// withCanaries returns a partial snapshot of the Ingresses that have a canary
// series. A snapshot that is no longer the latest only serves as a window's
// start, and a window that starts after its first step had canary traffic
// before; a first step starts where no canary series exists yet, and finds no
// partial snapshot that covers it.
func (s *Snapshot) withCanaries() *Snapshot {
	out := newSnapshot(s.At)
	out.fetch, out.partial = s.fetch, true
	for k, list := range s.ingresses {
		for _, c := range list {
			if c.canary != "" {
				out.ingresses[k] = list
				break
			}
		}
	}
	return out
}

// only returns a snapshot of one Ingress's series. They are shared, not copied:
// a snapshot is never changed once built.
func (s *Snapshot) only(namespace, ingress string) *Snapshot {
	out := newSnapshot(s.At)
	if list := s.ingress(namespace, ingress); list != nil {
		out.ingresses[ingressKey{namespace, ingress}] = list
	}
	return out
}

// snapshotQueries are the three batched queries of a snapshot. Summing away
// method, path, status and host keeps the answer to a few series per Ingress.
// They are constants: no label value from a Kubernetes object is ever put into
// PromQL, so nothing a user writes in a name can change what is asked.
var snapshotQueries = struct{ requests, errors, buckets string }{
	requests: `sum by (namespace, ingress, service, canary, instance) (` + requestsMetric + `)`,
	errors:   `sum by (namespace, ingress, service, canary, instance) (` + requestsMetric + `{status=~"5.."})`,
	// Buckets are most of any answer (12 per side). Only Ingresses that have a
	// canary need latency, so the rest are joined away in Prometheus.
	buckets: `sum by (namespace, ingress, service, canary, instance, le) (` + latencyMetric +
		` and on (namespace, ingress) group by (namespace, ingress) (` + requestsMetric + `{canary!=""}))`,
}

// takeSnapshot reads all counters at `at` (the @ time of an instant query).
// The queries run one after the other, so that one decoded answer at a time is
// in memory, and Prometheus (on the benchmark's two cores, beside the API
// server) is not asked three things at once; ServeStale hides the time they
// take from the analyses.
func takeSnapshot(ctx context.Context, api v1.API, at time.Time) (*Snapshot, error) {
	s := newSnapshot(at)
	for _, q := range []struct {
		query string
		add   func(*series, model.Metric, float64)
	}{
		{snapshotQueries.requests, func(c *series, _ model.Metric, v float64) { c.requests += v }},
		{snapshotQueries.errors, func(c *series, _ model.Metric, v float64) { c.errors += v }},
		{snapshotQueries.buckets, addBucket},
	} {
		vec, err := instantVector(ctx, api, q.query, at)
		if err != nil {
			return nil, err
		}
		for _, sample := range vec {
			m := sample.Metric
			k := seriesKey{string(m["namespace"]), string(m["ingress"]), string(m["service"]), string(m["canary"]), string(m["instance"])}
			if v := float64(sample.Value); !math.IsNaN(v) {
				q.add(s.upsert(k), m, v)
			}
		}
	}
	for _, list := range s.ingresses {
		for i := range list {
			slices.SortFunc(list[i].buckets, func(a, b bucket) int { return cmp.Compare(a.le, b.le) })
		}
	}
	return s, nil
}

func addBucket(c *series, m model.Metric, v float64) {
	le, err := strconv.ParseFloat(string(m["le"]), 64)
	if err != nil {
		return // not a histogram bucket; ingress-nginx always sets le
	}
	for i := range c.buckets {
		if c.buckets[i].le == le {
			c.buckets[i].count += v
			return
		}
	}
	c.buckets = append(c.buckets, bucket{le: le, count: v})
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
