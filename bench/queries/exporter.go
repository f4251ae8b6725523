package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The metric names ingress-nginx exports and analysis reads.
const (
	requestsName = "nginx_ingress_controller_requests"
	durationName = "nginx_ingress_controller_request_duration_seconds"
)

// latencyBounds are ingress-nginx's default --time-buckets (client_golang's
// DefBuckets). The bucket query's answer grows with their number, so the fake
// keeps all eleven rather than a convenient few.
var latencyBounds = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// history is how long the fake ingress-nginx has been counting when the
// benchmark starts: counters begin large, as on a controller that has been up
// for a while, not at zero.
const history = time.Hour

// latencyProfile is a cumulative share of requests at or below each bound of
// latencyBounds (the last entry, for +Inf, is 1), and the mean latency for _sum.
type latencyProfile struct {
	cumulative []float64
	mean       float64
}

// The fake's three latency shapes: most traffic fast, some canaries slow, and
// 5xx answered quickly by an upstream that failed.
var (
	fastLatency  = latencyProfile{[]float64{.02, .1, .35, .6, .85, .97, .995, .999, 1, 1, 1, 1}, 0.06}
	slowLatency  = latencyProfile{[]float64{0, .01, .05, .15, .35, .6, .85, .95, .99, .997, 1, 1}, 0.35}
	errorLatency = latencyProfile{[]float64{.1, .3, .6, .8, .9, .95, .98, .99, 1, 1, 1, 1}, 0.03}
)

// series is one (Ingress, side, status) of the fake: one requests counter and
// one latency histogram. Its counts are rate × seconds since the fake began,
// rounded down, so they only grow, and a scrape needs no state but the clock.
type series struct {
	requestsLine string // `nginx_ingress_controller_requests{...} `
	bucketHead   string // `..._bucket{...,le="`
	sumLine      string // `..._sum{...} `
	countLine    string // `..._count{...} `
	rate         float64
	latency      *latencyProfile
}

func newSeries(labels string, rate float64, latency *latencyProfile) series {
	return series{
		requestsLine: requestsName + "{" + labels + "} ",
		bucketHead:   durationName + "_bucket{" + labels + `,le="`,
		sumLine:      durationName + "_sum{" + labels + "} ",
		countLine:    durationName + "_count{" + labels + "} ",
		rate:         rate,
		latency:      latency,
	}
}

// Rollout names the canary side of one Ingress, as the controller would
// describe it to analysis.
type Rollout struct {
	Namespace, Ingress, CanaryUpstream string
}

// Exporter is a fake ingress-nginx /metrics endpoint for a fleet of Ingresses.
// Every Ingress has a stable side (canary=""); those with an active rollout
// also have a canary side. All label values are lower-case letters, digits,
// dots, dashes and slashes, so none needs escaping in the text format.
type Exporter struct {
	series   []series
	rollouts []Rollout
	start    time.Time
	now      func() time.Time
	// bufs recycles the rendering buffers: a scrape of 10,000 Ingresses is
	// tens of megabytes, and one arrives every second.
	bufs sync.Pool
}

// NewExporter builds the fleet: ingresses Ingresses, of which rollouts (spread
// evenly over the fleet) have a canary. Rates, error ratios and latencies are
// drawn from seed, so a run is repeatable.
func NewExporter(ingresses, rollouts int, seed uint64, now func() time.Time) (*Exporter, error) {
	if ingresses < 1 || rollouts < 0 || rollouts > ingresses {
		return nil, fmt.Errorf("want 0 <= rollouts (%d) <= ingresses (%d) and at least one Ingress", rollouts, ingresses)
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b9))
	x := &Exporter{start: now().Add(-history), now: now}
	for i := range ingresses {
		// Rollouts are spread evenly, so that they are not all in the first
		// namespaces, the order Prometheus returns its answer in.
		canary := rollouts > 0 && i%(ingresses/rollouts) == 0 && len(x.rollouts) < rollouts
		x.addIngress(rng, i, canary)
	}
	return x, nil
}

// addIngress adds Ingress i's series. Traffic is log-uniform between 0.05
// and 50 requests/s (200 for one with a rollout: a gated service is usually a
// busy one); a canary takes a step weight's share of it.
func (x *Exporter) addIngress(rng *rand.Rand, i int, canary bool) {
	ns := fmt.Sprintf("ns%03d", i/100)
	name := fmt.Sprintf("app%05d", i)
	common := fmt.Sprintf(`host="%s.%s.example.com",ingress="%s",method="GET",namespace="%s",path="/",service="%s"`, name, ns, name, ns, name)
	maxRate := 50.0
	if canary {
		maxRate = 200
	}
	total := 0.05 * math.Pow(maxRate/0.05, rng.Float64())
	stableRate, stableErrors := total, 0.0
	if i%5 == 0 {
		stableErrors = 0.005
	}
	if canary {
		weight := []float64{.05, .1, .25, .5}[rng.IntN(4)]
		stableRate = total * (1 - weight)
		// One canary in ten is a regression: more 5xx and slower.
		canaryErrors, latency := 0.002, &fastLatency
		if rng.IntN(10) == 0 {
			canaryErrors, latency = 0.05, &slowLatency
		}
		upstream := fmt.Sprintf("%s-%s-v2-80", ns, name)
		x.addSide(`canary="`+upstream+`",`+common, total*weight, canaryErrors, latency)
		x.rollouts = append(x.rollouts, Rollout{Namespace: ns, Ingress: name, CanaryUpstream: upstream})
	}
	x.addSide(`canary="",`+common, stableRate, stableErrors, &fastLatency)
}

// addSide adds a 200 series and, when errors > 0, a 500 series carrying that
// share of the side's requests.
func (x *Exporter) addSide(labels string, rate, errors float64, latency *latencyProfile) {
	x.series = append(x.series, newSeries(labels+`,status="200"`, rate*(1-errors), latency))
	if errors > 0 {
		x.series = append(x.series, newSeries(labels+`,status="500"`, rate*errors, &errorLatency))
	}
}

// Rollouts returns the Ingresses that have a canary side, in fleet order.
func (x *Exporter) Rollouts() []Rollout { return x.rollouts }

// Series is how many nginx_ingress_controller_requests series the fake exports.
func (x *Exporter) Series() int { return len(x.series) }

// ServeHTTP renders every series at the current time.
func (x *Exporter) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	buf, _ := x.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	*buf = x.Render((*buf)[:0], x.now())
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(*buf)))
	_, _ = w.Write(*buf) // a failed write is Prometheus' failed scrape, which it reports
	x.bufs.Put(buf)
}

// leValues are latencyBounds as le label values, formatted once.
var leValues = func() []string {
	out := make([]string, 0, len(latencyBounds)+1)
	for _, b := range latencyBounds {
		out = append(out, strconv.FormatFloat(b, 'g', -1, 64))
	}
	return append(out, "+Inf")
}()

// Render appends the text exposition at time now to b. Label sets are
// prepared once, so a scrape is only appends and integer formatting.
func (x *Exporter) Render(b []byte, now time.Time) []byte {
	elapsed := now.Sub(x.start).Seconds()
	b = append(b, "# HELP "+requestsName+" The total number of client requests\n# TYPE "+requestsName+" counter\n"...)
	for i := range x.series {
		s := &x.series[i]
		b = append(b, s.requestsLine...)
		b = strconv.AppendInt(b, s.count(elapsed), 10)
		b = append(b, '\n')
	}
	b = append(b, "# HELP "+durationName+" The request processing time in seconds\n# TYPE "+durationName+" histogram\n"...)
	for i := range x.series {
		s := &x.series[i]
		n := s.count(elapsed)
		for j, le := range leValues {
			b = append(b, s.bucketHead...)
			b = append(b, le...)
			b = append(b, `"} `...)
			// Rounding each cumulative count down keeps the buckets
			// non-decreasing in le and in time.
			b = strconv.AppendInt(b, int64(float64(n)*s.latency.cumulative[j]), 10)
			b = append(b, '\n')
		}
		b = append(b, s.sumLine...)
		b = strconv.AppendFloat(b, float64(n)*s.latency.mean, 'f', 3, 64)
		b = append(b, '\n')
		b = append(b, s.countLine...)
		b = strconv.AppendInt(b, n, 10)
		b = append(b, '\n')
	}
	return b
}

func (s *series) count(elapsed float64) int64 { return int64(s.rate * elapsed) }

// serve serves x's /metrics on a free loopback port and returns its address
// and a function that stops it.
func serve(x *Exporter) (addr string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("fake ingress-nginx: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", x)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }() // returns when stopped
	return l.Addr().String(), func() { _ = srv.Close() }, nil
}

// measureRender times one scrape's rendering, the exporter's part of it, into
// a buffer already grown as ServeHTTP's recycled ones are.
func measureRender(x *Exporter) ExporterStats {
	b := x.Render(nil, x.now())
	began := time.Now()
	b = x.Render(b[:0], x.now())
	return ExporterStats{Series: x.Series(), Bytes: len(b), Render: time.Since(began)}
}
