package prom

import (
	"context"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A snapshot keeps each series' bucket counts, and one copy of their bounds
// for all of them.
func TestSnapshotSharesBucketBounds(t *testing.T) {
	var sent atomic.Int64
	s, err := takeSnapshot(context.Background(), fleetCounters(), Nginx{}, t0.Add(90*time.Second), nil, 0, &sent)
	require.NoError(t, err)
	assert.Equal(t, int64(3), sent.Load())
	var first []float64
	n := 0
	for g, list := range s.groups {
		for _, c := range list {
			require.Equal(t, []float64{0.1, math.Inf(1)}, c.latency.les, "%v %v", g, c.labels)
			if first == nil {
				first = c.latency.les
			}
			assert.Same(t, &first[0], &c.latency.les[0], "%v %v: shared bounds", g, c.labels)
			assert.Equal(t, c.requests, c.latency.count(math.Inf(1)), "%v %v", g, c.labels)
			n++
		}
	}
	assert.Equal(t, 205, n, "200 stable series and 5 canaries")
	web0 := s.series(group{"shop", "web0"})
	require.Len(t, web0, 2)
	for _, c := range web0 {
		want := 90.0 * 90
		if c.canary != "" {
			want = 10 * 30
		}
		assert.Equal(t, want, c.latency.count(0.1), "%v", c.labels)
		assert.Zero(t, c.latency.count(0.25), "no such bucket")
	}
}
