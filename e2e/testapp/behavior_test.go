package testapp

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFailsAtIsExactOverAnyWindow(t *testing.T) {
	for _, tc := range []struct {
		rate   float64
		window int64
		want   int64
	}{
		{rate: 0, window: 100, want: 0},
		{rate: 0.25, window: 4, want: 1},
		{rate: 0.25, window: 100, want: 25},
		{rate: 0.3, window: 100, want: 30},
		{rate: 0.29, window: 100, want: 29}, // float64 would give 28 here
		{rate: 0.01, window: 1000, want: 10},
		{rate: 1, window: 100, want: 100},
	} {
		// Start at several offsets: the count must not depend on where a window starts.
		for _, start := range []int64{1, 7, 1001} {
			var failures int64
			for n := start; n < start+tc.window; n++ {
				if failsAt(n, toPPM(tc.rate)) {
					failures++
				}
			}
			assert.Equal(t, tc.want, failures, "rate %v, window %d from request %d", tc.rate, tc.window, start)
		}
	}
}

func TestFailsAtSpreadsFailures(t *testing.T) {
	// 0.25 must fail every 4th request, not the first quarter of them.
	var got []int64
	for n := int64(1); n <= 12; n++ {
		if failsAt(n, toPPM(0.25)) {
			got = append(got, n)
		}
	}
	assert.Equal(t, []int64{4, 8, 12}, got)
}
