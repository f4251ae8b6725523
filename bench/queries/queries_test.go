package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// skipRealPrometheusEnv is the analysis package's switch for tests that start
// the real Prometheus; one switch skips them all.
const skipRealPrometheusEnv = "ANALYSIS_SKIP_REAL_PROMETHEUS"

func TestExporterRender(t *testing.T) {
	tests := []struct {
		name                string
		ingresses, rollouts int
	}{
		{"no rollouts", 7, 0},
		{"every Ingress has one", 5, 5},
		{"spread over the fleet", 100, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			began := time.Unix(1_700_000_000, 0)
			x, err := NewExporter(tt.ingresses, tt.rollouts, 1, func() time.Time { return began })
			require.NoError(t, err)
			require.Len(t, x.Rollouts(), tt.rollouts)

			p := expfmt.NewTextParser(model.UTF8Validation)
			before, err := p.TextToMetricFamilies(bytes.NewReader(x.Render(nil, began)))
			require.NoError(t, err)
			after, err := p.TextToMetricFamilies(bytes.NewReader(x.Render(nil, began.Add(time.Minute))))
			require.NoError(t, err)
			requests := after[requestsName].GetMetric()
			assert.Len(t, requests, x.Series())
			assert.Len(t, after[durationName].GetMetric(), x.Series())

			sides := map[string]bool{}
			for i, m := range requests {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				sides[labels["ingress"]+"/"+labels["canary"]] = true
				old := before[requestsName].GetMetric()[i].GetCounter().GetValue()
				assert.GreaterOrEqual(t, m.GetCounter().GetValue(), old, "a counter never goes down")
				h := after[durationName].GetMetric()[i].GetHistogram()
				assert.Equal(t, uint64(m.GetCounter().GetValue()), h.GetSampleCount(), "histogram count = requests")
				var last uint64
				for _, b := range h.GetBucket() {
					assert.GreaterOrEqual(t, b.GetCumulativeCount(), last, "buckets are cumulative")
					last = b.GetCumulativeCount()
				}
			}
			assert.Len(t, sides, tt.ingresses+tt.rollouts, "a stable side per Ingress, a canary side per rollout")
			for _, r := range x.Rollouts() {
				assert.True(t, sides[r.Ingress+"/"+r.CanaryUpstream], "canary side of %s", r.Ingress)
			}
		})
	}
}

// TestRunTiny runs the whole benchmark in a tiny configuration against the
// real Prometheus: a few seconds, most of them Prometheus' first scrape.
func TestRunTiny(t *testing.T) {
	if os.Getenv(skipRealPrometheusEnv) == "1" {
		t.Skipf("%s=1", skipRealPrometheusEnv)
	}
	cfg, err := parseFlags([]string{"-rollouts", "5,2", "-ingresses", "50", "-ticks", "2", "-tick", "1s", "-interval", "2s", "-restart", "2", "-deadline", "1m"})
	require.NoError(t, err)
	var progress bytes.Buffer
	res, err := Run(context.Background(), cfg, &progress)
	t.Log(progress.String())
	require.NoError(t, err)

	require.Len(t, res.Ticks, 2, "one fleet per size")
	for i, ticks := range res.Ticks {
		require.Len(t, ticks, cfg.Ticks+1, "the opening tick and the measured ones")
		var total int64
		for k, st := range ticks {
			assert.Equal(t, cfg.Rollouts[i], st.Analysed)
			assert.Zero(t, st.Outcomes[analysis.Unavailable], "fleet %d tick %d: %v", cfg.Rollouts[i], k, st.Outcomes)
			if k > 0 {
				assert.EqualValues(t, 3, st.Queries, "fleet %d tick %d: one refresh", cfg.Rollouts[i], k)
			}
			total += st.Queries
		}
		assert.Equal(t, res.Sent[i], total, "Queries() agrees with what reached Prometheus")
	}
	require.NotNil(t, res.Restart)
	// Each read is three queries. Every window's start is read, unless it
	// began within fresh of another's, whose read it then shares.
	r := res.Restart
	assert.Zero(t, r.Queries%3, "whole snapshots")
	assert.GreaterOrEqual(t, r.Queries-r.StartReads, int64(3), "at least one refresh")
	assert.GreaterOrEqual(t, r.StartReads, int64(3), "at least one start read")
	assert.LessOrEqual(t, r.StartReads, int64(3*r.Analysed), "at most one start read per window")

	var report strings.Builder
	WriteReport(&report, cfg, res)
	assert.Contains(t, report.String(), "| tick | queries (2 / 5 rollouts) |")
	assert.Contains(t, report.String(), "| 5 | 3 | 15 | 3 / ")
}
