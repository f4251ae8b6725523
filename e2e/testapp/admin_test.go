package testapp

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAdminRejectsBadInputNamingTheValue(t *testing.T) {
	app, admin, _ := startVersions(t, "web-v1")
	for _, tc := range []struct {
		name, query   string
		status        int
		wantInMessage []string
	}{
		{"rate above 1", "errorRate=1.5", 400, []string{"errorRate", `"1.5"`}},
		{"rate not a number", "errorRate=abc", 400, []string{"errorRate", `"abc"`}},
		{"rate negative", "errorRate=-0.1", 400, []string{"errorRate", `"-0.1"`}},
		{"latency no unit", "latency=150", 400, []string{"latency", `"150"`}},
		{"latency negative", "latency=-1s", 400, []string{"latency", `"-1s"`}},
		{"latency words", "latency=fast", 400, []string{"latency", `"fast"`}},
		{"unknown parameter", "errorrate=0.5", 400, []string{`"errorrate"`}},
		{"no parameter", "", 400, []string{"errorRate", "latency", "listen"}},
		{"empty listen", "listen=", 400, []string{"listen"}},
		// A good value next to a bad one must not be applied either.
		{"one bad of two", "errorRate=0.5&latency=soon", 400, []string{"latency", `"soon"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, admin+"/versions/web-v1?"+tc.query)
			assert.Equal(t, tc.status, status)
			for _, want := range tc.wantInMessage {
				assert.Contains(t, body, want)
			}
		})
	}
	info := app.Versions()[0]
	assert.Zero(t, info.ErrorRate, "no rejected request may change the behaviour")
	assert.Zero(t, info.Latency)
}

func TestAdminUnknownVersionIs404(t *testing.T) {
	_, admin, _ := startVersions(t, "web-v1")
	status, body := post(t, admin+"/versions/web-v9?errorRate=0.5")
	assert.Equal(t, 404, status)
	assert.Contains(t, body, "web-v9")
}

func TestAdminSetsBehaviourPartially(t *testing.T) {
	app, admin, _ := startVersions(t, "web-v1")
	status, _ := post(t, admin+"/versions/web-v1?errorRate=0.3&latency=150ms")
	require.Equal(t, 200, status)
	status, _ = post(t, admin+"/versions/web-v1?errorRate=0.1")
	require.Equal(t, 200, status)
	info := app.Versions()[0]
	assert.Equal(t, 0.1, info.ErrorRate)
	assert.Equal(t, 150*time.Millisecond, info.Latency, "latency was not given, so it stays")
}

func TestAdminListsVersionsAsJSON(t *testing.T) {
	app, admin, urls := startVersions(t, "web-v2", "web-v1")
	require.NoError(t, app.SetBehavior("web-v2", Behavior{ErrorRate: 0.5, Latency: 0}))
	require.NoError(t, app.SetLatency("web-v1", 150*time.Millisecond))
	for range 4 {
		send(t, http.MethodGet, urls["web-v2"])
	}
	resp, err := http.Get(admin + "/versions")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got []map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	require.Len(t, got, 2)
	assert.Equal(t, map[string]any{
		"name": "web-v1", "addr": strings.TrimPrefix(urls["web-v1"], "http://"),
		"errorRate": 0.0, "latency": "150ms", "requests": 0.0, "errors": 0.0,
	}, got[0])
	assert.Equal(t, map[string]any{
		"name": "web-v2", "addr": strings.TrimPrefix(urls["web-v2"], "http://"),
		"errorRate": 0.5, "latency": "0s", "requests": 4.0, "errors": 2.0,
	}, got[1])
}

func TestAdminHealthz(t *testing.T) {
	_, admin, _ := startVersions(t)
	resp, err := http.Get(admin + "/healthz")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func post(t *testing.T, url string) (status int, body string) {
	t.Helper()
	got := send(t, http.MethodPost, url)
	return got.status, got.body
}
