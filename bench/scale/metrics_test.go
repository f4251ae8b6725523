package main

import (
	"math"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func parse(t *testing.T, text string) families {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	f, err := p.TextToMetricFamilies(strings.NewReader(text))
	require.NoError(t, err)
	return families(f)
}

func TestAPIWritesCountMutatingVerbsByResource(t *testing.T) {
	f := parse(t, `# TYPE apiserver_request_total counter
apiserver_request_total{code="200",resource="ingresses",subresource="",verb="PATCH"} 10
apiserver_request_total{code="409",resource="ingresses",subresource="",verb="PATCH"} 2
apiserver_request_total{code="201",resource="ingresses",subresource="",verb="POST"} 3
apiserver_request_total{code="200",resource="ingresses",subresource="",verb="LIST"} 99
apiserver_request_total{code="200",resource="ingresses",subresource="",verb="WATCH"} 7
apiserver_request_total{code="201",resource="events",subresource="",verb="POST"} 4
apiserver_request_total{code="200",resource="leases",subresource="",verb="PUT"} 5
apiserver_request_total{code="200",resource="ingresses",subresource="status",verb="PUT"} 1
`)
	w := apiWrites(f)
	assert.Equal(t, map[string]float64{"ingresses": 15, "ingresses PATCH": 12, "ingresses POST": 3, "ingresses PATCH/409": 2,
		"events": 4, "leases": 5, "ingresses/status": 1}, w)
	before := map[string]float64{"ingresses": 5, "ingresses PATCH": 5, "ingresses POST": 3, "events": 4}
	assert.Equal(t, map[string]float64{"ingresses": 10, "ingresses PATCH": 7, "ingresses PATCH/409": 2, "leases": 5, "ingresses/status": 1}, diff(w, before))
	n, names := others(w, "ingresses", "events", "leases")
	assert.Equal(t, 1.0, n)
	assert.Equal(t, "ingresses/status 1", names)
}

func TestHistogramDifferenceAndQuantile(t *testing.T) {
	h := func(c1, c2, c4, count, sum float64) histogram {
		return histogram{Count: count, Sum: sum, Buckets: map[float64]float64{1: c1, 2: c2, 4: c4, math.Inf(1): count}}
	}
	d := h(60, 90, 100, 100, 150).minus(h(10, 10, 10, 10, 5))
	assert.Equal(t, 90.0, d.Count)
	assert.InDelta(t, 145.0/90, d.Mean(), 1e-12)
	assert.InDelta(t, 0.5*90/50, d.Quantile(0.5), 1e-12, "45th of 90 is in the first bucket, 50 observations")
	assert.InDelta(t, 2+2*(89.1-80)/10, d.Quantile(0.99), 1e-12)
	assert.InDelta(t, 40.0/90, d.Above(1), 1e-12)
	assert.True(t, math.IsNaN(histogram{}.Mean()))
}

func TestParseProcStat(t *testing.T) {
	st, err := parseProcStat("4242 (ingress (canary)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 100 0 0")
	require.NoError(t, err)
	assert.Equal(t, "ingress (canary)", st.comm)
	assert.InDelta(t, 3.0, st.cpu, 1e-12, "(250 + 50) ticks at 100 Hz")
	_, err = parseProcStat("garbage")
	assert.Error(t, err)
}
