package analysis

import (
	"math"
	"sort"
)

// windowSide sums, for one side of one Ingress, how much every series grew from
// base to cur. A series that went down was reset (an ingress-nginx pod restarted):
// everything it counted since the reset is new, so its current value is the growth.
// A series absent from base started inside the window and grew from zero.
func windowSide(base, cur *Snapshot, namespace, ingress string, match func(canary string) bool) counters {
	out := counters{buckets: map[float64]float64{}}
	for _, k := range cur.ingress(namespace, ingress) {
		if !match(k.canary) {
			continue
		}
		c := cur.series[k]
		var b *counters
		if base != nil {
			b = base.series[k]
		}
		if b == nil {
			b = &counters{}
		}
		reset := c.requests < b.requests
		out.requests += growth(b.requests, c.requests, reset)
		out.errors += growth(b.errors, c.errors, reset)
		for le, v := range c.buckets {
			out.buckets[le] += growth(b.buckets[le], v, reset)
		}
	}
	return out
}

func growth(before, now float64, reset bool) float64 {
	if reset || now < before {
		return now
	}
	return now - before
}

// side turns window counters into the figures Judge reads.
func (c counters) side(quantile float64) Side {
	s := Side{Requests: c.requests, Errors: c.errors, LatencySeconds: bucketQuantile(quantile, c.buckets)}
	if c.requests > 0 {
		s.ErrorRate = c.errors / c.requests
	}
	return s
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
