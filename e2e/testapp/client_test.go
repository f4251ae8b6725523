package testapp

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAdminClientServesANewVersionAtRuntime(t *testing.T) {
	_, admin, _ := startVersions(t, "web-v1")
	client := AdminClient{BaseURL: admin}
	ctx := t.Context()

	addr := freeLoopbackAddr(t)
	require.NoError(t, client.Serve(ctx, "web-v3", addr))
	got := send(t, http.MethodGet, "http://"+addr+"/")
	assert.Equal(t, reply{status: 200, version: "web-v3", body: "web-v3\n"}, got)

	require.NoError(t, client.Serve(ctx, "web-v3", addr), "the same name and address again is a no-op")
	err := client.Serve(ctx, "web-v3", freeLoopbackAddr(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "409")

	versions, err := client.Versions(ctx)
	require.NoError(t, err)
	require.Len(t, versions, 2)
	assert.Equal(t, VersionInfo{Name: "web-v3", Addr: addr, Requests: 1}, versions[1])
}

func TestAdminClientSetBehavior(t *testing.T) {
	app, admin, _ := startVersions(t, "web-v2")
	client := AdminClient{BaseURL: admin + "/", HTTP: &http.Client{Timeout: 5 * time.Second}}

	require.NoError(t, client.SetBehavior(t.Context(), "web-v2", 0.3, 150*time.Millisecond))
	info := app.Versions()[0]
	assert.Equal(t, 0.3, info.ErrorRate)
	assert.Equal(t, 150*time.Millisecond, info.Latency)

	err := client.SetBehavior(t.Context(), "web-v2", 2, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `errorRate "2"`, "the server's message reaches the caller")
	err = client.SetBehavior(t.Context(), "web-v9", 0, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "404")
}

func TestShutdownStopsEveryVersion(t *testing.T) {
	app := NewServer()
	addr, err := app.Serve("web-v1", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, app.Shutdown(ctx))

	_, err = net.DialTimeout("tcp", addr, time.Second)
	assert.Error(t, err, "the listener must be closed")
	_, err = app.Serve("web-v2", "127.0.0.1:0")
	assert.ErrorIs(t, err, ErrClosed)
}

func TestServeRejectsBadNames(t *testing.T) {
	app := NewServer()
	defer func() { require.NoError(t, app.Shutdown(t.Context())) }()
	for _, name := range []string{"", "web v1", "../x", "web/v1"} {
		_, err := app.Serve(name, "127.0.0.1:0")
		assert.Error(t, err, "name %q", name)
	}
}

// freeLoopbackAddr finds a free port for a version that the server must open
// itself; the brief window before it is reused is harmless on loopback in a test.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}
