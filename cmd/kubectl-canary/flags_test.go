package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlagsAnywhereOnTheLine(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		positional []string
		namespace  string
		watch      bool
	}{
		{"flags after the name", []string{"web", "-n", "shop", "--watch"}, []string{"web"}, "shop", true},
		{"flags before the name", []string{"--namespace=shop", "-w", "web"}, []string{"web"}, "shop", true},
		{"bool flag before the name does not eat it", []string{"-w", "web", "-n", "x"}, []string{"web"}, "x", true},
		{"double dash ends flags", []string{"-n", "shop", "--", "-weird"}, []string{"-weird"}, "shop", false},
		{"no arguments", nil, nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g globalOptions
			var watch bool
			fs := newFlagSet("t")
			addGlobalFlags(fs, &g)
			fs.BoolVarP(&watch, "watch", "w", false, "")
			got, err := parseArgs(fs, tt.args)
			require.NoError(t, err)
			assert.Equal(t, tt.positional, got)
			assert.Equal(t, tt.namespace, g.namespace())
			assert.Equal(t, tt.watch, watch)
		})
	}
}

// TestKubectlConnectionFlags checks that the flags kubectl users reach for
// (genericclioptions') are there, before or after the command.
func TestKubectlConnectionFlags(t *testing.T) {
	h := newHarness()
	require.Equal(t, exitOK, h.run("--as", "jane", "list", "--token", "t0k", "--as-group", "qa", "--kubeconfig", "/k", "--request-timeout", "5s"), h.stderr.String())
	kube := h.connected.kube
	assert.Equal(t, "jane", *kube.Impersonate)
	assert.Equal(t, []string{"qa"}, *kube.ImpersonateGroup)
	assert.Equal(t, "t0k", *kube.BearerToken)
	assert.Equal(t, "/k", *kube.KubeConfig)
	assert.Equal(t, "5s", *kube.Timeout)
}

func TestUsageErrorsExitTwo(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "no command given"},
		{"unknown command", []string{"deploy"}, `unknown command "deploy"`},
		{"unknown flag", []string{"list", "--colour"}, "unknown flag: --colour"},
		{"bad output", []string{"list", "-o", "yaml"}, `--output="yaml": want table or json`},
		{"missing name", []string{"status"}, "status needs exactly one Ingress NAME, got 0"},
		{"two names", []string{"pause", "a", "b"}, "pause needs exactly one Ingress NAME, got 2"},
		{"list takes no name", []string{"list", "web"}, `list takes no arguments`},
		{"all namespaces with a name", []string{"status", "web", "-A"}, "--all-namespaces does not apply to status"},
		{"start without --to", []string{"start", "web"}, "--to SERVICE is required"},
		{"bad interval", []string{"status", "web", "--interval", "0s"}, "--interval=0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness()
			assert.Equal(t, exitUsage, h.run(tt.args...))
			assert.Contains(t, h.stderr.String(), tt.want)
			assert.Contains(t, h.stderr.String(), "--help' for usage")
		})
	}
}

func TestHelpExitsZeroOnStdout(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"help", "start"}, {"start", "--help"}, {"status", "web", "-h"}} {
		h := newHarness()
		assert.Equal(t, exitOK, h.run(args...), args)
		assert.Contains(t, h.stdout.String(), "Usage:", args)
		assert.Empty(t, h.stderr.String(), args)
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands {
		h := newHarness()
		require.Equal(t, exitOK, h.run(c.name, "--help"))
		out := h.stdout.String()
		assert.Contains(t, out, "kubectl canary "+c.name, c.name)
		assert.Contains(t, out, "Example", c.name)
		assert.Contains(t, out, "-n, --namespace string", c.name)
	}
}

func TestGlobalFlagsBeforeTheCommand(t *testing.T) {
	h := newHarness()
	require.Equal(t, exitOK, h.run("-n", "shop", "--context", "prod", "list"))
	assert.Equal(t, "shop", h.connected.namespace())
	assert.Equal(t, "prod", h.connected.context())
}
