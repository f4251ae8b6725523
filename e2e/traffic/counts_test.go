package traffic

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCountsAdd(t *testing.T) {
	c := Counts{}.clone()
	for _, o := range []outcome{
		{status: 200, version: "web-v1"},
		{status: 200, version: "web-v2"},
		{status: 500, version: "web-v2"},
		{status: 308, version: ""},
		{}, // transport error
	} {
		c.add(o)
	}
	assert.Equal(t, Counts{
		Total:           5,
		ByVersion:       map[string]int{"web-v1": 1, "web-v2": 2, "": 1},
		ByStatus:        map[int]int{200: 2, 500: 1, 308: 1},
		TransportErrors: 1,
		NonSuccess:      3,
	}, c)
	assert.Equal(t, 0.5, c.Share("web-v2"), "a share is of responses; the transport error reached no version")
	assert.Equal(t, 0.6, c.ErrorRatio())
}

func TestCountsSub(t *testing.T) {
	earlier := Counts{
		Total: 10, ByVersion: map[string]int{"web-v1": 10}, ByStatus: map[int]int{200: 9, 500: 1},
		NonSuccess: 1,
	}
	later := Counts{
		Total: 25, ByVersion: map[string]int{"web-v1": 18, "web-v2": 5}, ByStatus: map[int]int{200: 21, 500: 1, 503: 1},
		TransportErrors: 2, NonSuccess: 4,
	}
	assert.Equal(t, Counts{
		Total: 15, ByVersion: map[string]int{"web-v1": 8, "web-v2": 5}, ByStatus: map[int]int{200: 12, 503: 1},
		TransportErrors: 2, NonSuccess: 3,
	}, later.Sub(earlier))
}

func TestCountsEmptyRatiosAreZero(t *testing.T) {
	assert.Zero(t, Counts{}.Share("web-v1"))
	assert.Zero(t, Counts{}.ErrorRatio())
	assert.Zero(t, Counts{Total: 3, TransportErrors: 3, NonSuccess: 3}.Share("web-v1"))
}

func TestCountsString(t *testing.T) {
	c := Counts{
		Total: 200, ByVersion: map[string]int{"web-v2": 50, "web-v1": 149, "": 1},
		ByStatus: map[int]int{500: 2, 200: 197, 404: 1}, NonSuccess: 3,
	}
	assert.Equal(t,
		"total=200 (no-version)=1(0.5%) web-v1=149(74.5%) web-v2=50(25.0%) status[200=197 404=1 500=2] transport-errors=0 non-success=3(1.5%)",
		c.String())
}
