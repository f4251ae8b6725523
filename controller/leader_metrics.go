package controller

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/tools/leaderelection"
)

var registerLeaderOnce sync.Once

// RegisterLeaderMetrics installs a leader-election metrics provider that exports
// leader_election_master_status{name} (1 while this process holds the Lease, 0
// otherwise) and leader_election_slowpath_total{name}, the names Kubernetes
// components use, so that an alert can tell when no replica leads. client-go
// allows one provider per process, so only the first call has an effect; call it
// before creating the leader elector, because the elector picks its metric then.
func RegisterLeaderMetrics(reg prometheus.Registerer) {
	registerLeaderOnce.Do(func() {
		p := &leaderProvider{
			status: prometheus.NewGaugeVec(prometheus.GaugeOpts{
				Name: "leader_election_master_status",
				Help: "1 while this process is the leader of the named Lease, 0 otherwise.",
			}, []string{"name"}),
			slowpath: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "leader_election_slowpath_total",
				Help: "Lease renewals that had to read the Lease from the API server again.",
			}, []string{"name"}),
		}
		reg.MustRegister(p.status, p.slowpath)
		leaderelection.SetProvider(p)
	})
}

// leaderProvider adapts client-go's leader-election metrics to client_golang.
type leaderProvider struct {
	status   *prometheus.GaugeVec
	slowpath *prometheus.CounterVec
}

func (p *leaderProvider) NewLeaderMetric() leaderelection.LeaderMetric { return p }

// On is called when this process acquires the Lease.
func (p *leaderProvider) On(name string) { p.status.WithLabelValues(name).Set(1) }

// Off is called when the elector is created, so a standby replica reports 0 from
// its start, and when renewing the Lease fails. client-go does not call it when it
// releases the Lease on shutdown; the process exits then, taking the series along.
func (p *leaderProvider) Off(name string) { p.status.WithLabelValues(name).Set(0) }

// SlowpathExercised counts renewals that could not use the cached Lease.
func (p *leaderProvider) SlowpathExercised(name string) { p.slowpath.WithLabelValues(name).Inc() }
