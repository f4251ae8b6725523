package main

import (
	"context"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/util/wait"
)

// probePrometheus asks Prometheus for its build info every period and exports
// whether it answered, so that an unreachable or misnamed Prometheus shows on a
// dashboard (and in the log, once per change) before a rollout's first check
// depends on it. Rollouts themselves still hold on their own failed queries.
func probePrometheus(ctx context.Context, log *zap.Logger, api v1.API, reg prometheus.Registerer, period, timeout time.Duration) {
	up := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ingress_canary_prometheus_up",
		Help: "1 when the last probe of --prometheus-url answered, 0 when it failed.",
	})
	last := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ingress_canary_prometheus_last_success_timestamp_seconds",
		Help: "When the probe of --prometheus-url last answered (Unix seconds).",
	})
	reg.MustRegister(up, last)
	was := -1
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		_, err := api.Buildinfo(pctx)
		now := 0
		if err == nil {
			now = 1
			last.SetToCurrentTime()
		}
		up.Set(float64(now))
		switch {
		case now == was:
		case err != nil:
			log.Warn("prometheus does not answer; rollouts hold at their weight until it does", zap.Error(err))
		default:
			log.Info("prometheus answers")
		}
		was = now
	}, period)
}
