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

// Snapshot is every request counter of the data plane at one instant, read
// with a fixed number of queries whatever the number of rollouts.
type Snapshot struct {
	At time.Time
	// fetch is how long the queries took. A refresh that took longer than the
	// freshness limit must still count as fresh when it arrives, or every waiting
	// rollout would refresh again and the query count would grow with them.
	fetch time.Duration
	// groups holds each group's series (an Ingress's, or an upstream's; see
	// Dialect), so that a window reads only its own few. A snapshot holds every
	// group of the cluster (10,000 Ingresses at the scale benchmark), so a
	// series is kept as small as it can be.
	groups map[group][]series
	// partial marks a snapshot that kept only the groups with a canary
	// (withCanaries): it says nothing about the others.
	partial bool
}

// series is one cumulative counter as the snapshot keeps it: per labels (see
// Dialect), so that a restart of one data-plane pod (its counters reset) is
// seen as such, and a multi-path Ingress's other backends stay out of the
// stable side of a window.
type series struct {
	labels
	requests, errors float64
	// buckets are the latency histogram's cumulative counts, by ascending
	// upper bound; nil where latency was not read.
	buckets []bucket
}

type bucket struct{ le, count float64 }

func newSnapshot(at time.Time) *Snapshot {
	return &Snapshot{At: at, groups: map[group][]series{}}
}

// series returns one group's series.
func (s *Snapshot) series(g group) []series { return s.groups[g] }

// upsert returns g's series l, adding it when new. The pointer is valid until
// the next upsert in the same group.
func (s *Snapshot) upsert(g group, l labels) *series {
	list := s.groups[g]
	for i := range list {
		if list[i].labels == l {
			return &list[i]
		}
	}
	list = append(list, series{labels: l})
	s.groups[g] = list
	return &list[len(list)-1]
}

// covers says whether s knows g's series: a full snapshot knows every group
// (one it lacks had none), a partial one only those it kept.
func (s *Snapshot) covers(g group) bool {
	_, ok := s.groups[g]
	return ok || !s.partial
}

// withCanaries returns a partial snapshot of the groups that have a canary
// series. A snapshot that is no longer the latest only serves as a window's
// start, and a window that starts after its first step had canary traffic
// before; a first step starts where no canary series exists yet, and finds no
// partial snapshot that covers it.
func (s *Snapshot) withCanaries() *Snapshot {
	out := newSnapshot(s.At)
	out.fetch, out.partial = s.fetch, true
	for g, list := range s.groups {
		for _, c := range list {
			if c.canary != "" {
				out.groups[g] = list
				break
			}
		}
	}
	return out
}

// only returns a snapshot of one group's series. They are shared, not copied:
// a snapshot is never changed once built.
func (s *Snapshot) only(g group) *Snapshot {
	out := newSnapshot(s.At)
	if list := s.series(g); list != nil {
		out.groups[g] = list
	}
	return out
}

// takeSnapshot reads all counters at `at` (the @ time of an instant query).
// The queries run one after the other, so that one decoded answer at a time is
// in memory, and Prometheus (on the benchmark's two cores, beside the API
// server) is not asked three things at once; ServeStale hides the time they
// take from the analyses.
//
// keep, when not nil, are the groups to keep (see FollowOnly): the queries
// ask for those alone, so that neither Prometheus nor the controller handles
// 10,000 Ingresses' series to keep a few, and what else they answer (the
// matchers select a superset) is dropped as it is read.
func takeSnapshot(ctx context.Context, api v1.API, d Dialect, at time.Time, keep map[group]bool) (*Snapshot, error) {
	s := newSnapshot(at)
	var only []group
	if keep != nil {
		s.partial = true
		only = make([]group, 0, len(keep))
		for g := range keep {
			s.groups[g] = nil // kept, even if it has no series
			only = append(only, g)
		}
	}
	q := d.Queries(only)
	for _, step := range []struct {
		query string
		add   func(*series, model.Metric, float64)
	}{
		{q.Requests, func(c *series, _ model.Metric, v float64) { c.requests += v }},
		{q.Errors, func(c *series, _ model.Metric, v float64) { c.errors += v }},
		{q.Buckets, addBucket},
	} {
		vec, err := instantVector(ctx, api, step.query, at)
		if err != nil {
			return nil, err
		}
		for _, sample := range vec {
			g, l, ok := d.File(sample.Metric)
			if keep != nil && !keep[g] {
				continue
			}
			if v := float64(sample.Value); ok && !math.IsNaN(v) {
				step.add(s.upsert(g, l), sample.Metric, v)
			}
		}
	}
	for _, list := range s.groups {
		for i := range list {
			slices.SortFunc(list[i].buckets, func(a, b bucket) int { return cmp.Compare(a.le, b.le) })
		}
	}
	return s, nil
}

func addBucket(c *series, m model.Metric, v float64) {
	le, err := strconv.ParseFloat(string(m["le"]), 64)
	if err != nil {
		return // not a histogram bucket; every data plane sets le
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
		if val == nil {
			return nil, fmt.Errorf("query %q: no answer", q)
		}
		return nil, fmt.Errorf("query %q: want a vector, got %s", q, val.Type())
	}
	return vec, nil
}
