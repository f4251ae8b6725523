package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/annotations"
)

func TestLintOK(t *testing.T) {
	h := newHarness(
		primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", "")),
		service("shop", "web-v1", 80), service("shop", "web-v2", 80), readySlice("shop", "web-v2"),
	)
	require.Equal(t, exitOK, h.run("lint", "web", "-n", "shop"))
	out := h.stdout.String()
	assert.Contains(t, out, "ok: shop/web can roll out web-v2 in place of web-v1\n")
	assert.Contains(t, out, "forecast: at 5 rps (0.10% errors), a healthy canary should take about", "example rates without Prometheus")
	for _, a := range h.client.Actions() {
		assert.Contains(t, []string{"get", "list"}, a.GetVerb(), "lint only reads")
	}

	h = newHarness(
		primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", "")),
		service("shop", "web-v1", 80), service("shop", "web-v2", 80), readySlice("shop", "web-v2"),
	)
	require.Equal(t, exitOK, h.run("lint", "web", "-n", "shop", "--rps", "200", "--error-rate", "0.005"))
	assert.Equal(t, "ok: shop/web can roll out web-v2 in place of web-v1\nforecast: at 200 rps (0.50% errors), a healthy canary should take about 4m0s\n", h.stdout.String())
}

func TestLintNotesAMaxLatencyBetweenBuckets(t *testing.T) {
	ann := rolloutAnnotations("web-v2", "")
	ann[annotations.KeyMaxLatency] = "150ms"
	h := newHarness(primary("shop", "web", "web-v1", ann),
		service("shop", "web-v1", 80), service("shop", "web-v2", 80), readySlice("shop", "web-v2"))
	require.Equal(t, exitOK, h.run("lint", "web", "-n", "shop", "--router", "traefik"))
	assert.Contains(t, h.stdout.String(), "note: ingress-canary.dev/max-latency 150ms is between the bucket bounds 0.1s and 0.3s: requests slower than 0.1s count as slow (stricter), with traefik's default buckets\n")
}

func TestLintNotesACanaryWithoutEndpoints(t *testing.T) {
	h := newHarness(
		primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", "")),
		service("shop", "web-v2", 80),
	)
	require.Equal(t, exitOK, h.run("lint", "web", "-n", "shop"))
	assert.Contains(t, h.stdout.String(), "note: Service web-v2 has no ready endpoint yet")
}

func TestLintProblemsExitThree(t *testing.T) {
	bad := rolloutAnnotations("web-v2", "")
	bad[annotations.KeySteps] = "10,5"
	bad[annotations.KeyPause] = "yes"
	tests := []struct {
		name string
		ann  map[string]string
		want []string
	}{
		{"missing canary Service", rolloutAnnotations("web-v3", ""),
			[]string{"KEY", "ingress-canary.dev/canary-service   web-v3   an existing Service in namespace shop"}},
		{"annotations that do not parse", bad,
			[]string{"ingress-canary.dev/pause", "ingress-canary.dev/steps", "strictly increasing weights"}},
		{"not opted in", nil, []string{"ingress-canary.dev/canary-service   <none>   set to the Service of the new version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(primary("shop", "web", "web-v1", tt.ann), service("shop", "web-v2", 80))
			assert.Equal(t, exitLintProblems, h.run("lint", "web", "-n", "shop"))
			for _, w := range tt.want {
				assert.Contains(t, h.stdout.String(), w)
			}
			assert.Empty(t, h.stderr.String())
		})
	}
}

func TestLintWrongIngressClass(t *testing.T) {
	h := newHarness(primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", "")), service("shop", "web-v2", 80))
	assert.Equal(t, exitLintProblems, h.run("lint", "web", "-n", "shop", "--ingress-class", "nginx-internal"))
	assert.Contains(t, h.stdout.String(), `spec.ingressClassName   nginx   ingress class "nginx-internal"`)
}

func TestLintJSON(t *testing.T) {
	h := newHarness(primary("shop", "web", "web-v1", rolloutAnnotations("web-v3", "")))
	assert.Equal(t, exitLintProblems, h.run("lint", "web", "-n", "shop", "-o", "json"))
	var got lintResult
	require.NoError(t, json.Unmarshal(h.stdout.Bytes(), &got))
	assert.False(t, got.OK)
	require.Len(t, got.Problems, 1)
	assert.Equal(t, lintProblem{Key: annotations.KeyCanaryService, Value: "web-v3", Expected: "an existing Service in namespace shop"}, got.Problems[0])
	assert.Contains(t, h.stdout.String(), `"key": "ingress-canary.dev/canary-service"`)
}
