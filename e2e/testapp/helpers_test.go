package testapp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startVersions serves each name on its own loopback port and returns the
// server, the admin API's URL and each version's base URL.
func startVersions(t *testing.T, names ...string) (*Server, string, map[string]string) {
	t.Helper()
	app := NewServer()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, app.Shutdown(ctx))
	})
	urls := map[string]string{}
	for _, name := range names {
		addr, err := app.Serve(name, "127.0.0.1:0")
		require.NoError(t, err)
		urls[name] = "http://" + addr
	}
	admin := httptest.NewServer(app.AdminHandler())
	t.Cleanup(admin.Close)
	return app, admin.URL, urls
}

// reply is what a test needs from one response.
type reply struct {
	status  int
	version string
	body    string
}

func send(t *testing.T, method, url string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{status: resp.StatusCode, version: resp.Header.Get(VersionHeader), body: string(body)}
}
