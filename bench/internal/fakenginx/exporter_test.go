package fakenginx

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCounterBanksTheOldRate(t *testing.T) {
	var c counter
	c.setRate(10, 0)
	assert.EqualValues(t, 50, c.count(5))
	c.setRate(2, 5)
	assert.EqualValues(t, 50, c.count(5))
	assert.EqualValues(t, 60, c.count(10))
	c.setRate(0, 10)
	assert.EqualValues(t, 60, c.count(100))
	// A change stamped before the last one counts as the last one: no decrease.
	c.setRate(100, 3)
	assert.EqualValues(t, 60, c.count(10))
	assert.EqualValues(t, 160, c.count(11))
	assert.EqualValues(t, 60, c.count(4), "a read before the last change sees what was banked")
}

// requests parses a scrape into each side's requests (canary label -> count)
// and checks that the histograms agree with the counters.
func requests(t *testing.T, b []byte) map[string]int64 { return requestsWithStatus(t, b, "") }

// errorsOf is the 5xx of one side (its canary label).
func errorsOf(t *testing.T, b []byte, side string) int64 { return requestsWithStatus(t, b, "5")[side] }

// requestsWithStatus sums the requests whose status starts with prefix, by side.
func requestsWithStatus(t *testing.T, b []byte, prefix string) map[string]int64 {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(b))
	require.NoError(t, err)
	out := map[string]int64{}
	for i, m := range families[RequestsMetric].GetMetric() {
		side, status := "", ""
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "canary":
				side = l.GetValue()
			case "status":
				status = l.GetValue()
			}
		}
		if !strings.HasPrefix(status, prefix) {
			continue
		}
		n := int64(m.GetCounter().GetValue())
		out[side] += n
		h := families[DurationMetric].GetMetric()[i].GetHistogram()
		assert.EqualValues(t, n, h.GetSampleCount(), "histogram count = requests")
		assert.Len(t, h.GetBucket(), Buckets(), "+Inf included")
	}
	return out
}

func TestCanaryShareFollowsTheWeight(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	now := t0
	x := New(func() time.Time { return now })
	require.NoError(t, x.AddIngress("ns", "app", 100, 0))
	require.NoError(t, x.AddIngress("ns", "other", 10, 0.5))
	require.Error(t, x.AddIngress("ns", "app", 1, 0))
	require.Error(t, x.SetCanary("ns", "missing", Canary{Upstream: "ns-v2-80", Weight: .1}, now))
	require.Error(t, x.SetCanary("ns", "app", Canary{Upstream: "ns-v2-80", Weight: 2}, now))
	at := func(d time.Duration) map[string]int64 { return requests(t, x.Render(nil, t0.Add(d))) }

	before := at(0)
	assert.EqualValues(t, 100*3600+10*3600, before[""], "an hour of history on the stable sides")
	require.NoError(t, x.SetCanary("ns", "app", Canary{Upstream: "ns-v2-80", Weight: .1}, t0))
	assert.Equal(t, 4, x.Series(), "other's 200 and 500, app's stable and canary")
	w1 := at(10 * time.Second)
	assert.EqualValues(t, 100, w1["ns-v2-80"], "10 % of 100/s for 10 s")
	assert.EqualValues(t, before[""]+900+100, w1[""])

	require.NoError(t, x.SetCanary("ns", "app", Canary{Upstream: "ns-v2-80", Weight: .5}, t0.Add(10*time.Second)))
	w2 := at(20 * time.Second)
	assert.EqualValues(t, 100+500, w2["ns-v2-80"])
	assert.EqualValues(t, w1[""]+500+100, w2[""])

	// A scrape whose clock reads before the change still sees no decrease.
	now = t0.Add(5 * time.Second)
	rec := httptest.NewRecorder()
	x.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	assert.GreaterOrEqual(t, requests(t, rec.Body.Bytes())["ns-v2-80"], w1["ns-v2-80"])

	x.RemoveCanary("ns", "app", t0.Add(20*time.Second))
	assert.Equal(t, 3, x.Series())
	w3 := at(30 * time.Second)
	assert.NotContains(t, w3, "ns-v2-80")
	assert.EqualValues(t, w2[""]+1000+100, w3[""], "all traffic back on stable, nothing lost")

	// A new upstream replaces the old canary side and starts from zero.
	require.NoError(t, x.SetCanary("ns", "app", Canary{Upstream: "ns-v2-80", Weight: .25}, t0.Add(30*time.Second)))
	require.NoError(t, x.SetCanary("ns", "app", Canary{Upstream: "ns-v3-80", Weight: .25, ErrorRatio: .1}, t0.Add(30*time.Second)))
	w4 := at(40 * time.Second)
	assert.NotContains(t, w4, "ns-v2-80")
	assert.EqualValues(t, 250, w4["ns-v3-80"], "200s and 500s of the canary")
	assert.Equal(t, 5, x.Series())

	// A canary that starts failing at its next weight: its 500s appear then.
	require.NoError(t, x.SetCanary("ns", "app", Canary{Upstream: "ns-v3-80", Weight: .25}, t0.Add(40*time.Second)))
	require.NoError(t, x.SetCanary("ns", "other", Canary{Upstream: "ns-o2-80", Weight: .5}, t0.Add(40*time.Second)))
	assert.Equal(t, 6, x.Series(), "other's canary has no 500s yet")
	require.NoError(t, x.SetCanary("ns", "other", Canary{Upstream: "ns-o2-80", Weight: .5, ErrorRatio: .2}, t0.Add(50*time.Second)))
	assert.Equal(t, 7, x.Series())
	assert.Equal(t, int64(10), errorsOf(t, x.Render(nil, t0.Add(60*time.Second)), "ns-o2-80"), "20 % of 5/s for 10 s")
}
