package prom

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// nginxSeries names one series of ingress-nginx's request metrics, reduced
// to the labels the queries use plus the pod. Each pod is exported on its own
// endpoint (see pod), so Prometheus gives each its own instance label.
type nginxSeries struct {
	pod, namespace, ingress, canary, status string
}

func (s nginxSeries) labelValues() []string {
	// ingress-nginx puts the primary's service on canary requests too.
	return []string{s.pod, s.namespace, s.ingress, s.ingress + "-v1", s.canary, s.status}
}

func nginxLabels() []string {
	return []string{"controller_pod", "namespace", "ingress", "service", "canary", "status"}
}

// latencyBounds are the fake's histogram buckets, in seconds, without +Inf.
func latencyBounds() []float64 { return []float64{0.05, 0.1, 0.25, 0.5, 1} }

type latencyHistogram struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
}

// fakeNginx holds hand-set nginx_ingress_controller_requests and
// nginx_ingress_controller_request_duration_seconds series for several pods, and
// exports each pod's through pod. Counters and
// buckets are set explicitly, rather than through client_golang's own
// counters, so that a restart (a counter reset) and a batch of traffic can be
// applied in one step that no scrape can see half of.
type fakeNginx struct {
	requestsDesc *prometheus.Desc
	latencyDesc  *prometheus.Desc

	mu       sync.Mutex
	requests map[nginxSeries]float64
	latency  map[nginxSeries]*latencyHistogram
}

func newFakeNginx() *fakeNginx {
	return &fakeNginx{
		requestsDesc: prometheus.NewDesc("nginx_ingress_controller_requests",
			"The total number of client requests", nginxLabels(), nil),
		latencyDesc: prometheus.NewDesc("nginx_ingress_controller_request_duration_seconds",
			"The request processing time in seconds", nginxLabels(), nil),
		requests: map[nginxSeries]float64{},
		latency:  map[nginxSeries]*latencyHistogram{},
	}
}

// update runs fn with the exporter locked; serve and restart are called only
// inside fn.
func (n *fakeNginx) update(fn func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fn()
}

// serve records requests requests on s, each taking latency seconds.
func (n *fakeNginx) serve(s nginxSeries, requests int, latency float64) {
	n.requests[s] += float64(requests)
	h := n.latency[s]
	if h == nil {
		h = &latencyHistogram{counts: make([]uint64, len(latencyBounds())+1)}
		n.latency[s] = h
	}
	i := 0
	for _, b := range latencyBounds() {
		if latency <= b {
			break
		}
		i++
	}
	h.counts[i] += uint64(requests)
	h.sum += float64(requests) * latency
}

// restart sets every series of pod back to zero, as a restarted nginx does.
func (n *fakeNginx) restart(pod string) {
	for s := range n.requests {
		if s.pod == pod {
			n.requests[s] = 0
			n.latency[s] = &latencyHistogram{counts: make([]uint64, len(latencyBounds())+1)}
		}
	}
}

// total sums the request counters of the series that match.
func (n *fakeNginx) total(match func(nginxSeries) bool) float64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	var sum float64
	for s, v := range n.requests {
		if match(s) {
			sum += v
		}
	}
	return sum
}

// seriesCount is how many request series the pods export together.
func (n *fakeNginx) seriesCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.requests)
}

// pod returns a prometheus.Collector for one pod's series: what that pod's
// metrics endpoint would export.
func (n *fakeNginx) pod(name string) prometheus.Collector {
	return podCollector{n: n, pod: name}
}

type podCollector struct {
	n   *fakeNginx
	pod string
}

// Describe implements prometheus.Collector.
func (c podCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.n.requestsDesc
	ch <- c.n.latencyDesc
}

// Collect implements prometheus.Collector.
func (c podCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	n.mu.Lock()
	defer n.mu.Unlock()
	for s, v := range n.requests {
		if s.pod == c.pod {
			ch <- prometheus.MustNewConstMetric(n.requestsDesc, prometheus.CounterValue, v, s.labelValues()...)
		}
	}
	for s, h := range n.latency {
		if s.pod != c.pod {
			continue
		}
		buckets := map[float64]uint64{}
		var cumulative uint64
		for i, b := range latencyBounds() {
			cumulative += h.counts[i]
			buckets[b] = cumulative
		}
		total := cumulative + h.counts[len(h.counts)-1]
		ch <- prometheus.MustNewConstHistogram(n.latencyDesc, total, h.sum, buckets, s.labelValues()...)
	}
}
