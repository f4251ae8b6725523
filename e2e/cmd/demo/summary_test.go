package main

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ingress-canary/ingress-canary/e2e/testapp"
	"github.com/ingress-canary/ingress-canary/e2e/traffic"
	"github.com/ingress-canary/ingress-canary/weights"
)

// The errors line blames the canary only when the backends' own counts prove it.
func TestErrorsLine(t *testing.T) {
	rolledBack := func(stableErrors int64) result {
		return result{
			rollout:     rollout{from: "web-v2", to: "web-v3"},
			final:       weights.Status{Phase: weights.PhaseFailed},
			stepWeights: []string{"10"},
			during: tally{
				plain: traffic.Counts{Total: 800, NonSuccess: 16},
				backends: map[string]testapp.VersionInfo{
					"v2": {Requests: 790, Errors: stableErrors}, "v3": {Requests: 70, Errors: 21}},
			},
			after: tally{plain: traffic.Counts{Total: 240}},
		}
	}
	for _, tc := range []struct {
		name string
		r    result
		want string
	}{
		{"canary's errors", rolledBack(0),
			"plain users: 16 of 800, all from web-v3 during its 10% step (web-v2 returned no error); in the 3s after the rollback: 0 of 240"},
		{"stable failed too", rolledBack(1),
			"plain users: 16 of 800; in the 3s after the rollback: 0 of 240"},
		{"promoted", result{
			rollout: rollout{from: "web-v1", to: "web-v2"}, final: weights.Status{Phase: weights.PhaseSucceeded},
			stepWeights: []string{"10", "25", "50"},
			during:      tally{plain: traffic.Counts{Total: 2400}}, after: tally{plain: traffic.Counts{Total: 240}},
		}, "plain users: 0 of 2400; in the 3s after the promotion: 0 of 240"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, errorsLine(tc.r))
		})
	}
}

func TestCountsLine(t *testing.T) {
	c := traffic.Counts{Total: 10, ByVersion: map[string]int{"v2": 6, "v1": 3, "": 1},
		ByStatus: map[int]int{200: 9, 503: 1}, NonSuccess: 1}
	assert.Equal(t, "10 requests: nginx itself 1 (10.0%), v1 3 (30.0%), v2 6 (60.0%); status 200=9 503=1", countsLine(c))
}

func TestAnnotationArgsFollowTheReferenceOrder(t *testing.T) {
	got := annotationArgs(map[string]string{"interval": "8s", "canary-service": "web-v2", "steps": "10,50"})
	assert.Equal(t, "ingress-canary.dev/canary-service=web-v2 \\\n       ingress-canary.dev/steps=10,50 \\\n       ingress-canary.dev/interval=8s", got)
}

func TestFirstCompilerError(t *testing.T) {
	err := errors.New("go build ./cmd/kubectl-canary: exit status 1\n# github.com/x/cmd/kubectl-canary\ncmd/kubectl-canary/main.go:3:2: undefined: foo\n")
	assert.Equal(t, "cmd/kubectl-canary/main.go:3:2: undefined: foo", firstCompilerError(err))
	assert.Equal(t, "go build: signal: killed", firstCompilerError(errors.New("go build: signal: killed")))
}
