package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

// plugin runs kubectl-canary against the real cluster and returns its stdout,
// stderr and exit code.
func plugin(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(suite.bin, "kubectl-canary"), append(args, "--kubeconfig="+suite.cluster.Kubeconfig)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("kubectl-canary %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// The kubectl plugin drives a rollout on the real cluster: start, status, list,
// pause, resume, lint, abort, retry, with scriptable exit codes and JSON.
func TestKubectlPlugin(t *testing.T) {
	t.Parallel()
	a := newApp(t, "plugin", 2)
	_, stop := a.traffic(60, nil)
	defer stop()

	out, _, code := plugin(t, "lint", "web", "-n", a.ns)
	assert.Equal(t, 3, code, "an Ingress that has not opted in is reported: %s", out)
	assert.Contains(t, out, "has not opted in")

	_, errOut, code := plugin(t, "start", "web", "-n", a.ns, "--to", "web-v2", "--steps", "50,10")
	assert.Equal(t, 2, code, "invalid steps are refused before anything is written: %s", errOut)
	assert.Contains(t, errOut, "steps")
	assert.NotContains(t, a.primary().Annotations, annotations.KeyCanaryService)

	_, errOut, code = plugin(t, "start", "web", "-n", a.ns, "--to", "web-v2", "--steps", "20,50", "--interval", "6s", "--min-requests", "20", "--max-error-rate", "10%")
	require.Equal(t, 0, code, errOut)
	a.waitStatus(60*time.Second, "step 1", func(s weights.Status) bool { return s.Step == 1 })
	out, _, code = plugin(t, "lint", "web", "-n", a.ns)
	assert.Equal(t, 0, code, "a valid rollout lints clean: %s", out)

	out, _, code = plugin(t, "status", "web", "-n", a.ns, "-o", "json")
	require.Equal(t, 0, code)
	var st weights.Status
	require.NoError(t, json.Unmarshal([]byte(out), &st), out)
	assert.Equal(t, "web-v2", st.Revision)

	out, _, code = plugin(t, "status", "web", "-n", a.ns)
	require.Equal(t, 0, code)
	t.Logf("kubectl canary status:\n%s", out)
	assert.Contains(t, out, "Progressing")

	_, _, code = plugin(t, "pause", "web", "-n", a.ns)
	require.Equal(t, 0, code)
	a.waitPhase(30*time.Second, weights.PhasePaused)

	out, _, code = plugin(t, "list", "-A", "-o", "json")
	require.Equal(t, 0, code)
	var rows []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &rows), out)
	found := false
	for _, r := range rows {
		if r["namespace"] == a.ns && r["name"] == "web" {
			found = true
			assert.Equal(t, "Paused", r["phase"], "%v", r)
		}
	}
	assert.True(t, found, "list -A shows the rollout: %s", out)

	_, _, code = plugin(t, "resume", "web", "-n", a.ns)
	require.Equal(t, 0, code)
	a.waitPhase(30*time.Second, weights.PhaseProgressing)

	_, _, code = plugin(t, "abort", "web", "-n", a.ns)
	require.Equal(t, 0, code)
	a.waitPhase(30*time.Second, weights.PhaseFailed)
	_, _, code = plugin(t, "status", "web", "-n", a.ns, "--exit-code")
	assert.Equal(t, 4, code, "status --exit-code reports a failed rollout")

	_, _, code = plugin(t, "retry", "web", "-n", a.ns)
	require.Equal(t, 0, code)
	a.waitPhase(60*time.Second, weights.PhaseSucceeded)

	// lint on a broken Ingress exits 3 and names the key.
	a.start(map[string]string{"canary-service": "web-v9"})
	out, _, code = plugin(t, "lint", "web", "-n", a.ns)
	assert.Equal(t, 3, code, out)
	assert.Contains(t, out, "web-v9")
}
