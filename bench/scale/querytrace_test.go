package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueryTraceTellsRefreshesFromStartReads(t *testing.T) {
	var bodies []string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		bodies = append(bodies, r.Form.Get("query"))
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
	}))
	defer upstream.Close()
	stop := make(chan struct{})
	defer close(stop)
	proxy, trace, err := startQueryTrace(upstream.URL, stop)
	require.NoError(t, err)
	began := time.Now()
	ask := func(at time.Time) {
		form := url.Values{"query": {"up"}, "time": {strconv.FormatFloat(float64(at.UnixNano())/1e9, 'f', 3, 64)}}
		resp, err := http.Post(proxy+queryHandler, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		require.NoError(t, err)
		resp.Body.Close()
	}
	ask(time.Now())
	ask(time.Now().Add(-30 * time.Second))
	ask(time.Now())
	s := trace.summary(began, time.Now().Add(time.Second))
	assert.Equal(t, 2, s.Refresh)
	assert.Equal(t, 1, s.StartRead)
	assert.InDelta(t, 30, s.StartReadLag.Seconds(), 1)
	assert.Equal(t, []string{"up", "up", "up"}, bodies, "the body reaches Prometheus intact")
	assert.Zero(t, trace.summary(began.Add(-time.Hour), began).Refresh)
}
