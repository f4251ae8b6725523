package prom

import (
	"math"
	"sort"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// counters are one side's growth over a window, summed over its series.
type counters struct {
	requests, errors float64
	// buckets maps a histogram bucket's upper bound (le) to its count.
	buckets map[float64]float64
}

// windowSide sums, for one side of one group, how much every series grew from
// base to cur. A series that went down was reset (an ingress-nginx pod restarted):
// everything it counted since the reset is new, so its current value is the growth.
// A series absent from base started inside the window and grew from zero.
func windowSide(base, cur *Snapshot, g group, match func(labels) bool) counters {
	out := counters{buckets: map[float64]float64{}}
	var before []series
	if base != nil {
		before = base.series(g)
	}
	for _, c := range cur.series(g) {
		if !match(c.labels) {
			continue
		}
		b := find(before, c)
		reset := c.requests < b.requests
		out.requests += growth(b.requests, c.requests, reset)
		out.errors += growth(b.errors, c.errors, reset)
		for i, le := range c.latency.les {
			out.buckets[le] += growth(b.latency.count(le), c.latency.counts[i], reset)
		}
	}
	return out
}

// find returns the series of list with want's labels, or a zero one.
func find(list []series, want series) series {
	for _, s := range list {
		if s.labels == want.labels {
			return s
		}
	}
	return series{}
}

func growth(before, now float64, reset bool) float64 {
	if reset || now < before {
		return now
	}
	return now - before
}

// side turns window counters into the figures the judges read; slowAbove is
// the bucket bound above which a request counts as slow, 0 for none.
func (c counters) side(quantile, slowAbove float64) analysis.Side {
	s := analysis.Side{Requests: c.requests, Errors: c.errors, LatencySeconds: bucketQuantile(quantile, c.buckets)}
	if c.requests > 0 {
		s.ErrorRate = c.errors / c.requests
	}
	if slowAbove > 0 {
		s.Timed = c.buckets[math.Inf(1)]
		s.Slow = max(s.Timed-c.buckets[slowAbove], 0)
	}
	return s
}

// slowBound returns the largest finite bucket bound at or below limit
// (seconds) among the sides' buckets, 0 when there is none. A histogram
// counts requests up to each bound, so only a bound can split them: when
// max-latency falls between two, the one below it is used, which counts
// more requests as slow, never fewer.
func slowBound(limit float64, sides ...counters) float64 {
	bound := 0.0
	for _, c := range sides {
		for le := range c.buckets {
			if le <= limit && le > bound && !math.IsInf(le, 1) {
				bound = le
			}
		}
	}
	return bound
}

// bucketQuantile estimates the q-quantile from cumulative histogram buckets the
// way Prometheus's histogram_quantile does: find the bucket the rank falls in and
// interpolate linearly inside it. It returns -1 when there is no observation.
func bucketQuantile(q float64, buckets map[float64]float64) float64 {
	les := make([]float64, 0, len(buckets))
	for le := range buckets {
		les = append(les, le)
	}
	sort.Float64s(les)
	if len(les) == 0 || !math.IsInf(les[len(les)-1], 1) {
		return -1
	}
	total := buckets[les[len(les)-1]]
	if total <= 0 {
		return -1
	}
	rank := q * total
	lower, lowerCount := 0.0, 0.0
	for _, le := range les {
		count := buckets[le]
		if count >= rank {
			if math.IsInf(le, 1) {
				// Above the highest finite bucket: its bound is the best answer.
				return lower
			}
			if count == lowerCount {
				return le
			}
			return lower + (le-lower)*(rank-lowerCount)/(count-lowerCount)
		}
		lower, lowerCount = le, count
	}
	return lower
}
