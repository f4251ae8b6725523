package fakenginx

import (
	"strconv"
)

// The metric names ingress-nginx exports and analysis reads.
const (
	RequestsMetric = "nginx_ingress_controller_requests"
	DurationMetric = "nginx_ingress_controller_request_duration_seconds"
)

// latencyBounds are ingress-nginx's default --time-buckets (client_golang's
// DefBuckets). The bucket query's answer grows with their number, so the fake
// keeps all eleven rather than a convenient few.
var latencyBounds = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// leValues are latencyBounds as le label values, formatted once, and +Inf.
var leValues = func() []string {
	out := make([]string, 0, len(latencyBounds)+1)
	for _, b := range latencyBounds {
		out = append(out, strconv.FormatFloat(b, 'g', -1, 64))
	}
	return append(out, "+Inf")
}()

// Buckets is the number of le values of each histogram, +Inf included.
func Buckets() int { return len(leValues) }

// Latency is a cumulative share of requests at or below each bound of
// latencyBounds (the last entry, for +Inf, is 1), and the mean latency for _sum.
type Latency struct {
	cumulative []float64
	mean       float64
}

// The fake's three latency shapes: most traffic fast, some canaries slow, and
// 5xx answered quickly by an upstream that failed.
var (
	FastLatency  = &Latency{[]float64{.02, .1, .35, .6, .85, .97, .995, .999, 1, 1, 1, 1}, 0.06}
	SlowLatency  = &Latency{[]float64{0, .01, .05, .15, .35, .6, .85, .95, .99, .997, 1, 1}, 0.35}
	errorLatency = &Latency{[]float64{.1, .3, .6, .8, .9, .95, .98, .99, 1, 1, 1, 1}, 0.03}
)

// series is one (Ingress, side, status) of the fake: one requests counter and
// one latency histogram, with its label text prepared once.
type series struct {
	requestsLine string // `nginx_ingress_controller_requests{...} `
	bucketHead   string // `..._bucket{...,le="`
	sumLine      string // `..._sum{...} `
	countLine    string // `..._count{...} `
	latency      *Latency
	counter
}

func newSeries(labels string, latency *Latency) *series {
	return &series{
		requestsLine: RequestsMetric + "{" + labels + "} ",
		bucketHead:   DurationMetric + "_bucket{" + labels + `,le="`,
		sumLine:      DurationMetric + "_sum{" + labels + "} ",
		countLine:    DurationMetric + "_count{" + labels + "} ",
		latency:      latency,
	}
}

// counter is a request count that grows at rate per second. Changing the rate
// first banks what was counted at the old rate, so the count never goes down.
// Times are seconds since the exporter began counting.
type counter struct {
	base  float64 // count at since
	since float64
	rate  float64
}

// setRate changes the rate from time at on. A time before the last change
// (a caller's clock read earlier) counts as the last change.
func (c *counter) setRate(rate, at float64) {
	at = max(at, c.since)
	c.base += c.rate * (at - c.since)
	c.since, c.rate = at, rate
}

// count is the whole number of requests counted by time at, rounded down so
// that every bucket and the total stay whole and never decrease.
func (c *counter) count(at float64) int64 {
	return int64(c.base + c.rate*max(at-c.since, 0))
}
