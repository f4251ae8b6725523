package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/e2e/traffic"
)

func TestRunWithProgressPrintsLinesAndReturnsTheFinalCounts(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set(traffic.VersionHeader, "web-v1")
	}))
	defer backend.Close()
	gen, err := traffic.New(traffic.Config{URL: backend.URL, RPS: 100, MaxRequests: 30, MaxDuration: 5 * time.Second})
	require.NoError(t, err)

	var out bytes.Buffer
	final := runWithProgress(t.Context(), gen, &out, 50*time.Millisecond)

	assert.Equal(t, 30, final.ByVersion["web-v1"])
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	assert.GreaterOrEqual(t, len(lines), 3, "about 300 ms of run at one line per 50 ms:\n%s", out.String())
	assert.Contains(t, lines[0], "web-v1=")
}
