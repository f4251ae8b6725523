package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ingress-canary/ingress-canary/weights"
)

// Metrics are the controller's own Prometheus metrics.
type Metrics struct {
	weight            *prometheus.GaugeVec
	phase             *prometheus.GaugeVec
	analyses          *prometheus.CounterVec
	rollouts          *prometheus.CounterVec
	reconcileDuration prometheus.Histogram
	stepLateness      prometheus.Histogram
	analysisDuration  *prometheus.HistogramVec
}

// NewMetrics registers the metrics, and client-go's workqueue metrics, with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		weight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ingress_canary_weight", Help: "Canary traffic weight in percent, per primary Ingress.",
		}, []string{"namespace", "ingress"}),
		phase: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ingress_canary_phase", Help: "1 for the rollout's current phase, 0 for the others.",
		}, []string{"namespace", "ingress", "phase"}),
		analyses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingress_canary_analysis_total", Help: "Step analyses by outcome (Pass, Fail, NoData, Unavailable, SplitMismatch).",
		}, []string{"namespace", "ingress", "outcome"}),
		rollouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ingress_canary_rollouts_total", Help: "Finished rollouts by result (Succeeded, Failed).",
		}, []string{"namespace", "ingress", "result"}),
		reconcileDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ingress_canary_reconcile_duration_seconds", Help: "Time to reconcile one Ingress, analysis included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}),
		stepLateness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ingress_canary_step_lateness_seconds",
			Help:    "How long after its due time a step window was judged: queueing and the API rate limit, before the analysis itself.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}),
		analysisDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ingress_canary_analysis_duration_seconds",
			Help:    "Time one analysis took, waits for Prometheus included, by look: due (the step's verdict), interim (a sync before the due time) or scan (the fast-fail scan).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"look"}),
	}
	reg.MustRegister(m.weight, m.phase, m.analyses, m.rollouts, m.reconcileDuration, m.stepLateness, m.analysisDuration)
	return m
}

// NewRegistry is a registry with the Go and process collectors, as a controller's
// /metrics is expected to have.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

func (m *Metrics) observe(namespace, ingress string, now, before weights.Status) {
	if now.Phase == "" {
		return
	}
	if now.Weight.Known() {
		m.weight.WithLabelValues(namespace, ingress).Set(float64(now.Weight.Value()) / 100)
	}
	for _, p := range weights.Phases {
		v := 0.0
		if p == now.Phase {
			v = 1
		}
		m.phase.WithLabelValues(namespace, ingress, string(p)).Set(v)
	}
	if now.Phase != before.Phase && (now.Phase == weights.PhaseSucceeded || now.Phase == weights.PhaseFailed) {
		m.rollouts.WithLabelValues(namespace, ingress, string(now.Phase)).Inc()
	}
}

// forget drops a deleted Ingress's series so they do not linger.
func (m *Metrics) forget(namespace, ingress string) {
	labels := prometheus.Labels{"namespace": namespace, "ingress": ingress}
	m.weight.DeletePartialMatch(labels)
	m.phase.DeletePartialMatch(labels)
	m.analyses.DeletePartialMatch(labels)
}
