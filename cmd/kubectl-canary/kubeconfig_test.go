package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443"}
users:
- name: u
  user: {token: t}
contexts:
- name: shop
  context: {cluster: c, user: u, namespace: shop}
- name: bare
  context: {cluster: c, user: u}
current-context: shop
`

func TestConnectResolvesTheNamespaceLikeKubectl(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	require.NoError(t, os.WriteFile(path, []byte(testKubeconfig), 0o600))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"the current context's namespace", nil, "shop"},
		{"--namespace wins", []string{"--namespace", "blog"}, "blog"},
		{"a context without one means default", []string{"--context", "bare"}, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, ns, err := connect(globalFlags(t, append([]string{"--kubeconfig", path}, tt.args...)...))
			require.NoError(t, err)
			assert.NotNil(t, client)
			assert.Equal(t, tt.want, ns)
		})
	}
	_, _, err := connect(globalFlags(t, "--kubeconfig", path, "--context", "missing"))
	assert.ErrorContains(t, err, "missing")
}

// globalFlags parses args as the global flags of a command line.
func globalFlags(t *testing.T, args ...string) globalOptions {
	var g globalOptions
	fs := newFlagSet("t")
	addGlobalFlags(fs, &g)
	require.NoError(t, fs.Parse(args))
	return g
}
