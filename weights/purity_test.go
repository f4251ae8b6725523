package weights

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPurePackagesDoNoIO keeps the rollout rules free of I/O: weights and the
// pure part of analysis may not reach the network, the Kubernetes client or
// the Prometheus client, even through a dependency. Decide and Judge are then
// plain functions of their input, and a table test covers them.
func TestPurePackagesDoNoIO(t *testing.T) {
	forbidden := []string{"net/http", "k8s.io/client-go", "github.com/prometheus/client_golang"}
	for _, pkg := range []string{"github.com/ingress-canary/ingress-canary/weights", "github.com/ingress-canary/ingress-canary/analysis"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		require.NoError(t, err, string(out))
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
