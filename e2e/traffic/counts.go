package traffic

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Counts is what a run has seen so far.
type Counts struct {
	// Total counts finished requests: responses plus transport errors.
	Total int
	// ByVersion counts responses by their X-Version header, "" when it was
	// missing (e.g. nginx's own 404 or 503). Transport errors are not in it.
	ByVersion map[string]int
	// ByStatus counts responses by status code.
	ByStatus map[int]int
	// TransportErrors counts requests that got no response: refused, reset, timed out.
	TransportErrors int
	// NonSuccess counts non-2xx responses plus transport errors.
	NonSuccess int
}

// Responses is the number of requests that got an HTTP response.
func (c Counts) Responses() int {
	return c.Total - c.TransportErrors
}

// Share is the fraction of responses that came from version, 0 when there were none.
// Transport errors are left out because they did not reach any version.
func (c Counts) Share(version string) float64 {
	if c.Responses() == 0 {
		return 0
	}
	return float64(c.ByVersion[version]) / float64(c.Responses())
}

// ErrorRatio is the fraction of all requests that did not succeed, 0 when there were none.
func (c Counts) ErrorRatio() float64 {
	if c.Total == 0 {
		return 0
	}
	return float64(c.NonSuccess) / float64(c.Total)
}

// Sub returns what happened between an earlier snapshot and c, e.g. during one
// rollout step. Keys whose count did not change are left out.
func (c Counts) Sub(earlier Counts) Counts {
	return Counts{
		Total:           c.Total - earlier.Total,
		ByVersion:       subMap(c.ByVersion, earlier.ByVersion),
		ByStatus:        subMap(c.ByStatus, earlier.ByStatus),
		TransportErrors: c.TransportErrors - earlier.TransportErrors,
		NonSuccess:      c.NonSuccess - earlier.NonSuccess,
	}
}

func subMap[K comparable](later, earlier map[K]int) map[K]int {
	delta := make(map[K]int, len(later))
	for key, n := range later {
		if d := n - earlier[key]; d != 0 {
			delta[key] = d
		}
	}
	for key, n := range earlier {
		if _, seen := later[key]; !seen && n != 0 {
			delta[key] = -n
		}
	}
	return delta
}

// String is one line for progress output, with keys sorted so that lines
// compare by eye, e.g.
//
//	total=200 web-v1=150(75.0%) web-v2=50(25.0%) status[200=198 500=2] transport-errors=0 non-success=2(1.0%)
func (c Counts) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "total=%d", c.Total)
	for _, version := range slices.Sorted(maps.Keys(c.ByVersion)) {
		name := version
		if name == "" {
			name = "(no-version)"
		}
		fmt.Fprintf(&b, " %s=%d(%.1f%%)", name, c.ByVersion[version], 100*c.Share(version))
	}
	b.WriteString(" status[")
	for i, status := range slices.Sorted(maps.Keys(c.ByStatus)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d=%d", status, c.ByStatus[status])
	}
	fmt.Fprintf(&b, "] transport-errors=%d non-success=%d(%.1f%%)", c.TransportErrors, c.NonSuccess, 100*c.ErrorRatio())
	return b.String()
}

// clone deep-copies the maps, so a snapshot never shares them with the running counter.
func (c Counts) clone() Counts {
	c.ByVersion = maps.Clone(c.ByVersion)
	c.ByStatus = maps.Clone(c.ByStatus)
	if c.ByVersion == nil {
		c.ByVersion = map[string]int{}
	}
	if c.ByStatus == nil {
		c.ByStatus = map[int]int{}
	}
	return c
}

// outcome is the result of one request.
type outcome struct {
	status  int // 0 when there was no response
	version string
}

// add counts one finished request.
func (c *Counts) add(o outcome) {
	c.Total++
	if o.status == 0 {
		c.TransportErrors++
		c.NonSuccess++
		return
	}
	c.ByVersion[o.version]++
	c.ByStatus[o.status]++
	if o.status < 200 || o.status > 299 {
		c.NonSuccess++
	}
}
