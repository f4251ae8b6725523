package controller

import (
	"time"

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
	decisionLateness  *prometheus.HistogramVec
	analysisDuration  *prometheus.HistogramVec
}

// NewMetrics registers the metrics, and client-go's workqueue metrics, with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		weight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ingress_canary_weight", Help: "Canary traffic weight in percent, per primary Ingress.",
		}, []string{"namespace", "ingress"}),
		phase: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ingress_canary_phase", Help: "1 for the rollout's current phase; the other phases have no series.",
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
		decisionLateness: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ingress_canary_decision_lateness_seconds",
			Help:    "From the scan finding a step decided to the sync that acted on it having written the status and the traffic, by action (rollback, step): the queue's wait (rollback or urgent) and the sync.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}, []string{"action"}),
		analysisDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ingress_canary_analysis_duration_seconds",
			Help:    "Time one analysis took, by look: due (a sync's look at a due step, which never waits for Prometheus: one that would is queued again when the read lands) or scan (the scan, waits for Prometheus included, and a sync's look at a step not yet due).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"look"}),
	}
	reg.MustRegister(m.weight, m.phase, m.analyses, m.rollouts, m.reconcileDuration, m.stepLateness, m.decisionLateness, m.analysisDuration)
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
	// Only the current phase has a series: the others' zeros were six
	// series of seven per rollout, several megabytes at 1,000 rollouts.
	for _, p := range weights.Phases {
		if p != now.Phase {
			m.phase.DeleteLabelValues(namespace, ingress, string(p))
		}
	}
	m.phase.WithLabelValues(namespace, ingress, string(now.Phase)).Set(1)
	if now.Phase != before.Phase && (now.Phase == weights.PhaseSucceeded || now.Phase == weights.PhaseFailed) {
		m.rollouts.WithLabelValues(namespace, ingress, string(now.Phase)).Inc()
	}
}

// actedOn observes how late a decision of the scan (at decided) was acted
// on: rolled back, or the step taken or the promotion begun.
func (m *Metrics) actedOn(decided time.Time, now, before weights.Status) {
	switch {
	case now.Phase == weights.PhaseFailed && before.Phase != weights.PhaseFailed:
		m.decisionLateness.WithLabelValues("rollback").Observe(time.Since(decided).Seconds())
	case now.Step != before.Step || now.Phase != before.Phase:
		m.decisionLateness.WithLabelValues("step").Observe(time.Since(decided).Seconds())
	}
}

// forget drops a deleted Ingress's series so they do not linger.
func (m *Metrics) forget(namespace, ingress string) {
	labels := prometheus.Labels{"namespace": namespace, "ingress": ingress}
	m.weight.DeletePartialMatch(labels)
	m.phase.DeletePartialMatch(labels)
	m.analyses.DeletePartialMatch(labels)
}
