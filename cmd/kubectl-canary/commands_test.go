package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/annotations"
)

func TestStartWritesOnlyTheGivenKeys(t *testing.T) {
	ann := map[string]string{"team": "checkout", annotations.KeyMinRequests: "200"}
	h := newHarness(primary("shop", "web", "web-v1", ann))
	require.Equal(t, exitOK, h.run("start", "web", "-n", "shop", "--to", "web-v2", "--steps", "1,5,25", "--interval", "2m"), h.stderr.String())
	assert.Equal(t, []string{`application/merge-patch+json {"metadata":{"annotations":{` +
		`"ingress-canary.dev/canary-service":"web-v2","ingress-canary.dev/interval":"2m","ingress-canary.dev/steps":"1,5,25"}}}`}, h.patches())
	got := h.ingress("shop", "web").Annotations
	assert.Equal(t, "checkout", got["team"], "other annotations are left alone")
	assert.Equal(t, "200", got[annotations.KeyMinRequests])
	assert.Equal(t, "web-v2", got[annotations.KeyCanaryService])
	assert.Contains(t, h.stdout.String(), "rollout of web-v2 requested (steps 1%, 5%, 25%, every 2m0s)")
	assert.Contains(t, h.stdout.String(), "kubectl canary status web -n shop --watch")
}

func TestStartRefusesWhatTheControllerWouldReject(t *testing.T) {
	tests := []struct {
		name  string
		ann   map[string]string
		args  []string
		wants []string
	}{
		{"steps out of order", nil, []string{"--steps", "10,5"},
			[]string{`ingress-canary.dev/steps="10,5" is invalid: strictly increasing weights, got 5 after 10`}},
		{"several flags at once", nil, []string{"--interval", "soon", "--strategy", "big-bang"},
			[]string{"ingress-canary.dev/strategy", "ingress-canary.dev/interval"}},
		{"an existing key that does not parse", map[string]string{annotations.KeyMaxErrorRate: "lots"}, nil,
			[]string{`ingress-canary.dev/max-error-rate="lots"`}},
		{"a service name that is not one", nil, []string{"--to", "Web_V2"}, []string{"ingress-canary.dev/canary-service"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(primary("shop", "web", "web-v1", tt.ann))
			args := append([]string{"start", "web", "-n", "shop", "--to", "web-v2"}, tt.args...)
			assert.Equal(t, exitUsage, h.run(args...))
			for _, w := range tt.wants {
				assert.Contains(t, h.stderr.String(), w)
			}
			assert.Empty(t, h.patches(), "nothing is written")
		})
	}
}

func TestStartDryRunPrintsThePatch(t *testing.T) {
	h := newHarness(primary("shop", "web", "web-v1", nil))
	require.Equal(t, exitOK, h.run("start", "web", "-n", "shop", "--to", "web-v2", "--promotion", "manual", "--dry-run"))
	assert.Equal(t, `{"metadata":{"annotations":{"ingress-canary.dev/canary-service":"web-v2","ingress-canary.dev/promotion":"manual"}}}`+"\n", h.stdout.String())
	assert.Empty(t, h.patches())
}

func TestStartNotesAReplacedRollout(t *testing.T) {
	h := newHarness(primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", progressing)))
	require.Equal(t, exitOK, h.run("start", "web", "-n", "shop", "--to", "web-v3"))
	assert.Contains(t, h.stderr.String(), "note: this replaces the rollout of web-v2 (Progressing at 10%)")
}

func TestStartOnAMissingIngress(t *testing.T) {
	h := newHarness()
	assert.Equal(t, exitError, h.run("start", "web", "--to", "web-v2"))
	assert.Contains(t, h.stderr.String(), "not found")
}

func TestSignalCommandsSetTheirAnnotation(t *testing.T) {
	for _, verb := range []string{"pause", "resume", "abort", "promote", "retry"} {
		t.Run(verb, func(t *testing.T) {
			h := newHarness(primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", progressing)))
			require.Equal(t, exitOK, h.run(verb, "web", "-n", "shop"))
			assert.Equal(t, []string{`application/merge-patch+json {"metadata":{"annotations":{"ingress-canary.dev/` + verb + `":"true"}}}`}, h.patches())
			got := h.ingress("shop", "web").Annotations
			assert.Equal(t, "true", got[annotations.Prefix+verb])
			assert.Equal(t, progressing, got[annotations.KeyStatus], "the status is the controller's")
			assert.Equal(t, "ingress.networking.k8s.io/web: "+verb+" requested\n", h.stdout.String())
		})
	}
}

func TestSignalOnAnIngressThatHasNotOptedIn(t *testing.T) {
	h := newHarness(primary("shop", "web", "web-v1", nil))
	assert.Equal(t, exitError, h.run("pause", "web", "-n", "shop"))
	assert.Contains(t, h.stderr.String(), "has not opted in")
	assert.Empty(t, h.patches())
}

func TestSignalWarnsWhenTheControllerWouldIgnoreIt(t *testing.T) {
	h := newHarness(primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", progressing)))
	require.Equal(t, exitOK, h.run("retry", "web", "-n", "shop"))
	assert.Contains(t, h.stderr.String(), "warning: retry does not apply in phase Progressing")
}

func TestStartHasAFlagForEachKeyTheTableGivesIt(t *testing.T) {
	for _, k := range startKeys() {
		t.Run(k.StartFlag, func(t *testing.T) {
			value := k.Default // a value the controller accepts; "" is one too, but not for --to
			if k.Name == annotations.KeyCanaryService {
				value = "web-v2"
			}
			h := newHarness(primary("shop", "web", "web-v1", nil))
			require.Equal(t, exitOK, h.run("start", "web", "-n", "shop", "--to", "web-v2", "--"+k.StartFlag, value, "--dry-run"), h.stderr.String())
			assert.Contains(t, h.stdout.String(), `"`+k.Name+`"`)
		})
	}
}
