package prom

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Snapshot is every request counter of the data plane at one instant, read
// with three queries (see takeSnapshot for more than bucketGroupsPerQuery
// followed groups).
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
	// latency is empty where latency was not read.
	latency histogram
}

// histogram is a series' latency buckets: cumulative counts by ascending
// upper bound (le). The bounds are the data plane's, the same for nearly
// every series, so a snapshot keeps one copy of each set, shared: a series
// holds its 12 counts in 96 bytes, where (bound, count) pairs grown by append
// took 256. At 1,000 rollouts some 20,000 series are held at once (the recent
// snapshots and every window's start).
type histogram struct {
	les    []float64 // shared between series; never changed
	counts []float64
}

// count is the bucket's cumulative count, 0 when the series lacks it.
func (h histogram) count(le float64) float64 {
	if i, ok := slices.BinarySearch(h.les, le); ok {
		return h.counts[i]
	}
	return 0
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

// bucketGroupsPerQuery bounds how many groups one latency-buckets query asks
// for. Buckets are most of any answer (12 per side and series for
// ingress-nginx), and client_golang decodes a whole answer at once, each
// sample with its own label map: at 1,000 followed Ingresses one answer was
// 24,000 samples and some 20 MB of the controller's heap while it was
// decoded, a third of its peak. Asking in parts bounds that to about 5 MB
// whatever the number of rollouts, for one more query per part (a refresh
// is three queries up to this many followed groups).
const bucketGroupsPerQuery = 250

// takeSnapshot reads all counters at `at` (the @ time of an instant query).
// The queries run one after the other, so that one decoded answer at a time is
// in memory, and Prometheus (on the benchmark's two cores, beside the API
// server) is not asked three things at once; ServeStale hides the time they
// take from the analyses. sent counts the queries sent.
//
// keep, when not nil, are the groups to keep (see FollowOnly): the queries
// ask for those alone, so that neither Prometheus nor the controller handles
// 10,000 Ingresses' series to keep a few, and what else they answer (the
// matchers select a superset) is dropped as it is read. Their buckets are
// asked bucketGroupsPerQuery groups at a time.
//
// perQuery bounds each query, not the whole read: a read's queries grow with
// the windows followed (14 at 3,000 rollouts), and a slow Prometheus that
// answers each within the bound must still give a snapshot: at 3,000
// rollouts a refresh query took 1.5 s, and 14 of them could not land within
// one 10 s bound for the whole read.
func takeSnapshot(ctx context.Context, api v1.API, d Dialect, at time.Time, keep map[group]bool, perQuery time.Duration, sent *atomic.Int64) (*Snapshot, error) {
	s := newSnapshot(at)
	var only []group
	if keep != nil {
		s.partial = true
		only = make([]group, 0, len(keep))
		for g := range keep {
			s.groups[g] = nil // kept, even if it has no series
			only = append(only, g)
		}
		// Sorted, so that a part's matchers name few namespaces.
		slices.SortFunc(only, func(a, b group) int { return cmp.Or(cmp.Compare(a.scope, b.scope), cmp.Compare(a.name, b.name)) })
	}
	q := d.Queries(only)
	// Buckets are gathered apart, then stored as histograms (see histogram).
	gathered := map[seriesKey][]bucket{}
	addBucket := func(g group, l labels, m model.Metric, v float64) {
		if le, err := strconv.ParseFloat(string(m["le"]), 64); err == nil { // every data plane sets le
			gathered[seriesKey{g, l}] = addToBucket(gathered[seriesKey{g, l}], le, v)
		}
	}
	reads := append([]snapshotQuery{
		{q.Requests, keep, func(g group, l labels, _ model.Metric, v float64) { s.upsert(g, l).requests += v }},
		{q.Errors, keep, func(g group, l labels, _ model.Metric, v float64) { s.upsert(g, l).errors += v }},
	}, bucketReads(d, q, only, keep, addBucket)...)
	for _, r := range reads {
		sent.Add(1)
		vec, err := instantVector(ctx, api, r.query, at, perQuery)
		if err != nil {
			return nil, err
		}
		for _, sample := range vec {
			g, l, ok := d.File(sample.Metric)
			if r.keep != nil && !r.keep[g] {
				continue
			}
			if v := float64(sample.Value); ok && !math.IsNaN(v) {
				r.add(g, l, sample.Metric, v)
			}
		}
	}
	s.setHistograms(gathered)
	return s, nil
}

// bucketReads are the buckets query q.Buckets for up to bucketGroupsPerQuery
// groups, and beyond that one query per part of only.
func bucketReads(d Dialect, q Queries, only []group, keep map[group]bool, add func(group, labels, model.Metric, float64)) []snapshotQuery {
	if len(only) <= bucketGroupsPerQuery {
		return []snapshotQuery{{q.Buckets, keep, add}}
	}
	var reads []snapshotQuery
	for part := range slices.Chunk(only, bucketGroupsPerQuery) {
		// A part keeps its own groups alone: its matchers' superset may
		// hold another part's, whose buckets would count twice.
		own := make(map[group]bool, len(part))
		for _, g := range part {
			own[g] = true
		}
		reads = append(reads, snapshotQuery{d.Queries(part).Buckets, own, add})
	}
	return reads
}

// setHistograms stores the gathered buckets as the series' histograms, each
// distinct set of bounds once (up to maxSharedBounds sets: a cluster whose
// series had thousands of different sets would otherwise cost a search of
// them all per series; past them a series keeps its own copy).
func (s *Snapshot) setHistograms(gathered map[seriesKey][]bucket) {
	const maxSharedBounds = 16
	var bounds [][]float64
	for k, bs := range gathered {
		slices.SortFunc(bs, func(a, b bucket) int { return cmp.Compare(a.le, b.le) })
		h := histogram{counts: make([]float64, len(bs))}
		for i, b := range bs {
			h.counts[i] = b.count
		}
		i := slices.IndexFunc(bounds, func(known []float64) bool {
			return slices.EqualFunc(known, bs, func(le float64, b bucket) bool { return le == b.le })
		})
		if i >= 0 {
			h.les = bounds[i]
		} else {
			h.les = make([]float64, len(bs))
			for i, b := range bs {
				h.les[i] = b.le
			}
			if len(bounds) < maxSharedBounds {
				bounds = append(bounds, h.les)
			}
		}
		s.upsert(k.group, k.labels).latency = h
	}
}

// seriesKey names one series of a snapshot in full.
type seriesKey struct {
	group
	labels
}

// snapshotQuery is one query of a snapshot: which of its samples it keeps
// (nil: all), and what a sample adds to its series.
type snapshotQuery struct {
	query string
	keep  map[group]bool
	add   func(group, labels, model.Metric, float64)
}

// addToBucket adds v to bs's bucket le, adding the bucket when new.
func addToBucket(bs []bucket, le, v float64) []bucket {
	for i := range bs {
		if bs[i].le == le {
			bs[i].count += v
			return bs
		}
	}
	return append(bs, bucket{le: le, count: v})
}

func instantVector(ctx context.Context, api v1.API, q string, at time.Time, timeout time.Duration) (model.Vector, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
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
