package fakenginx

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// History is how long the fake has been counting when it is made: counters
// begin large, as on an ingress-nginx that has been up for a while, not at zero.
const History = time.Hour

// Exporter is the fake ingress-nginx /metrics of a fleet of Ingresses. All
// label values must be lower-case letters, digits, dots, dashes and slashes,
// so that none needs escaping in the text format. It is safe for concurrent use.
type Exporter struct {
	start time.Time
	now   func() time.Time

	mu        sync.RWMutex
	series    []*series // in render order
	ingresses map[key]*ingress
	// bufs recycles the rendering buffers: a scrape of 10,000 Ingresses is
	// tens of megabytes, and one arrives every second.
	bufs sync.Pool
}

type key struct{ namespace, name string }

// ingress is one Ingress's traffic: rate requests/s in all, of which the
// canary side (when there is one) takes weight.
type ingress struct {
	labels string // label text its series share, after canary
	rate   float64
	weight float64
	stable *side
	canary *side
}

// side is one side's series: status 200 and, with errors, status 500 carrying
// that share of the side's requests.
type side struct {
	upstream string
	// labels are the side's series' labels but status.
	labels   string
	errors   float64
	ok, fail *series
}

// New returns an empty fleet that began counting History before now().
func New(now func() time.Time) *Exporter {
	return &Exporter{start: now().Add(-History), now: now, ingresses: map[key]*ingress{}}
}

// Start is when the fake began counting.
func (x *Exporter) Start() time.Time { return x.start }

// AddIngress adds an Ingress whose stable side serves rate requests/s, a
// share errorRatio of them 5xx. Its labels are ingress-nginx's: host, method,
// path and service are made up from the names.
func (x *Exporter) AddIngress(namespace, name string, rate, errorRatio float64) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	k := key{namespace, name}
	if x.ingresses[k] != nil {
		return fmt.Errorf("fakenginx: Ingress %s/%s added twice", namespace, name)
	}
	ing := &ingress{
		labels: fmt.Sprintf(`host="%s.%s.example.com",ingress="%s",method="GET",namespace="%s",path="/",service="%s"`, name, namespace, name, namespace, name),
		rate:   rate,
	}
	ing.stable = x.newSide(ing, "", errorRatio, FastLatency)
	x.ingresses[k] = ing
	x.setRates(ing, x.elapsed(x.start))
	return nil
}

// Canary describes an Ingress's canary side.
type Canary struct {
	// Upstream is ingress-nginx's canary label: <namespace>-<service>-<port>.
	Upstream string
	// Weight is the canary's share of the Ingress's requests, 0 to 1.
	Weight float64
	// ErrorRatio is the share of the canary's requests answered 5xx.
	ErrorRatio float64
	// Latency is its latency shape; nil is FastLatency.
	Latency *Latency
}

// SetCanary gives the Ingress a canary side, or changes its weight and its
// share of errors, from time at on. A different Upstream replaces the canary
// side (its old series go, as when ingress-nginx drops a removed upstream).
func (x *Exporter) SetCanary(namespace, name string, c Canary, at time.Time) error {
	if !(c.Weight >= 0 && c.Weight <= 1) {
		return fmt.Errorf("fakenginx: canary weight %v of %s/%s is not in [0, 1]", c.Weight, namespace, name)
	}
	if c.Latency == nil {
		c.Latency = FastLatency
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	ing := x.ingresses[key{namespace, name}]
	if ing == nil {
		return fmt.Errorf("fakenginx: no Ingress %s/%s", namespace, name)
	}
	t := x.elapsed(at)
	if ing.canary != nil && ing.canary.upstream != c.Upstream {
		x.dropCanary(ing, t)
	}
	if ing.canary == nil {
		ing.canary = x.newSide(ing, c.Upstream, c.ErrorRatio, c.Latency)
	} else {
		x.setErrors(ing.canary, c.ErrorRatio)
	}
	ing.weight = c.Weight
	x.setRates(ing, t)
	return nil
}

// RemoveCanary removes the Ingress's canary side from time at on: all its
// requests go to the stable side again, and the canary's series are no longer
// exported.
func (x *Exporter) RemoveCanary(namespace, name string, at time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if ing := x.ingresses[key{namespace, name}]; ing != nil && ing.canary != nil {
		x.dropCanary(ing, x.elapsed(at))
	}
}

func (x *Exporter) dropCanary(ing *ingress, t float64) {
	gone := ing.canary
	ing.canary, ing.weight = nil, 0
	x.series = slices.DeleteFunc(x.series, func(s *series) bool { return s == gone.ok || s == gone.fail })
	x.setRates(ing, t)
}

func (x *Exporter) newSide(ing *ingress, upstream string, errorRatio float64, latency *Latency) *side {
	labels := `canary="` + upstream + `",` + ing.labels
	s := &side{upstream: upstream, labels: labels, ok: newSeries(labels+`,status="200"`, latency)}
	x.series = append(x.series, s.ok)
	x.setErrors(s, errorRatio)
	return s
}

// setErrors sets the share of s's requests answered 5xx; the caller sets
// the rates. The status="500" series appears with the first error, as
// ingress-nginx's does.
func (x *Exporter) setErrors(s *side, errorRatio float64) {
	s.errors = errorRatio
	if errorRatio > 0 && s.fail == nil {
		s.fail = newSeries(s.labels+`,status="500"`, errorLatency)
		x.series = append(x.series, s.fail)
	}
}

// setRates splits the Ingress's rate between its sides by its weight, from t on.
func (x *Exporter) setRates(ing *ingress, t float64) {
	ing.stable.setRates(ing.rate*(1-ing.weight), t)
	if ing.canary != nil {
		ing.canary.setRates(ing.rate*ing.weight, t)
	}
}

func (s *side) setRates(rate, t float64) {
	s.ok.setRate(rate*(1-s.errors), t)
	if s.fail != nil {
		s.fail.setRate(rate*s.errors, t)
	}
}

func (x *Exporter) elapsed(at time.Time) float64 { return at.Sub(x.start).Seconds() }

// Series is how many nginx_ingress_controller_requests series the fake exports.
func (x *Exporter) Series() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.series)
}

// ServeHTTP renders every series at the current time.
func (x *Exporter) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	buf, _ := x.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	*buf = x.render((*buf)[:0], nil)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(*buf)))
	_, _ = w.Write(*buf) // a failed write is Prometheus' failed scrape, which it reports
	x.bufs.Put(buf)
}

// Render appends the text exposition at time now to b. Label sets are
// prepared once, so a scrape is only appends and number formatting.
func (x *Exporter) Render(b []byte, now time.Time) []byte { return x.render(b, &now) }

// render renders at *at, or, when at is nil, at the clock read under the lock,
// so that a scrape never sees a time before the last rate change.
func (x *Exporter) render(b []byte, at *time.Time) []byte {
	x.mu.RLock()
	defer x.mu.RUnlock()
	now := x.now()
	if at != nil {
		now = *at
	}
	t := x.elapsed(now)
	b = append(b, "# HELP "+RequestsMetric+" The total number of client requests\n# TYPE "+RequestsMetric+" counter\n"...)
	for _, s := range x.series {
		b = append(b, s.requestsLine...)
		b = strconv.AppendInt(b, s.count(t), 10)
		b = append(b, '\n')
	}
	b = append(b, "# HELP "+DurationMetric+" The request processing time in seconds\n# TYPE "+DurationMetric+" histogram\n"...)
	for _, s := range x.series {
		n := s.count(t)
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

// Serve serves h as /metrics on a free loopback port and returns its address
// and a function that stops it.
func Serve(h http.Handler) (addr string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("fake ingress-nginx: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }() // returns when stopped
	return l.Addr().String(), func() { _ = srv.Close() }, nil
}
