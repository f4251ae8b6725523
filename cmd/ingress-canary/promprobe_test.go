package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/ingress-canary/ingress-canary/analysis/prom"
)

func TestProbePrometheusExportsWhetherItAnswers(t *testing.T) {
	var down atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() || r.URL.Path != "/api/v1/status/buildinfo" {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"status":"success","data":{"version":"2.42.0"}}`))
	}))
	defer srv.Close()
	api, err := prom.APIFor(srv.URL)
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go probePrometheus(ctx, zap.NewNop(), api, reg, 20*time.Millisecond, time.Second)

	value := func() float64 {
		mfs, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if mf.GetName() == "ingress_canary_prometheus_up" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		return -1
	}
	assert.Eventually(t, func() bool { return value() == 1 }, 5*time.Second, 10*time.Millisecond)
	down.Store(true)
	assert.Eventually(t, func() bool { return value() == 0 }, 5*time.Second, 10*time.Millisecond)
}
