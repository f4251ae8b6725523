package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/annotations"
)

func TestListShowsOptedInIngresses(t *testing.T) {
	h := newHarness(
		primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", progressing)),
		primary("shop", "api", "api-v1", rolloutAnnotations("api-v2", "")),
		primary("shop", "plain", "plain", nil),
		primary("blog", "www", "www-v1", rolloutAnnotations("www-v3", `{"phase":"Failed","revision":"www-v3","step":1,"weight":"0"}`)),
	)
	require.Equal(t, exitOK, h.run("list", "-n", "shop"))
	want := strings.Join([]string{
		"NAME   PHASE         STEP     WEIGHT   CANARY   LAST ANALYSIS                        AGE",
		"api    <none>        <none>   <none>   api-v2   <none>                               <none>",
		"web    Progressing   2/4      10%      web-v2   Pass 5120 req 0.20% err p99 0.081s   3m",
		"",
	}, "\n")
	assert.Equal(t, want, h.stdout.String())
}

func TestListAllNamespacesAddsTheColumn(t *testing.T) {
	h := newHarness(
		primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", progressing)),
		primary("blog", "www", "www-v1", rolloutAnnotations("www-v3", `{"phase":"Failed","revision":"www-v3","step":1,"weight":"0"}`)),
	)
	require.Equal(t, exitOK, h.run("list", "-A"))
	lines := strings.Split(strings.TrimSpace(h.stdout.String()), "\n")
	require.Len(t, lines, 3)
	assert.True(t, strings.HasPrefix(lines[0], "NAMESPACE   NAME"))
	assert.True(t, strings.HasPrefix(lines[1], "blog        www    Failed"), lines[1])
	// Steps default to the annotation's plan (4) when the status does not say.
	assert.Contains(t, lines[1], "1/4")
	assert.True(t, strings.HasPrefix(lines[2], "shop        web    Progressing"), lines[2])
}

func TestListEmptySaysSoOnStderr(t *testing.T) {
	h := newHarness(primary("default", "plain", "plain", nil))
	require.Equal(t, exitOK, h.run("list"))
	assert.Empty(t, h.stdout.String())
	assert.Equal(t, "No rollouts found in namespace default.\n", h.stderr.String())
}

func TestListJSON(t *testing.T) {
	h := newHarness(
		primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", progressing)),
		primary("shop", "broken", "b-v1", rolloutAnnotations("b-v2", "{not json")),
	)
	require.Equal(t, exitOK, h.run("list", "-n", "shop", "-o", "json"))
	var rows []map[string]any
	require.NoError(t, json.Unmarshal(h.stdout.Bytes(), &rows))
	require.Len(t, rows, 2)
	broken, web := rows[0], rows[1]
	assert.Equal(t, "broken", broken["name"])
	assert.Nil(t, broken["status"])
	assert.Contains(t, broken["statusError"], "not valid JSON")
	assert.Equal(t, map[string]any{
		"kind": "Ingress", "namespace": "shop", "name": "web", "phase": "Progressing", "step": "2/4", "weight": "10%",
		"canary": "web-v2", "lastAnalysis": "Pass 5120 req 0.20% err p99 0.081s", "age": "3m",
	}, without(web, "status"))
	status := web["status"].(map[string]any)
	assert.Equal(t, "Progressing", status["phase"])
	assert.Equal(t, 5120.0, status["lastAnalysis"].(map[string]any)["requests"])
}

func TestListJSONEmptyIsAnArray(t *testing.T) {
	h := newHarness()
	require.Equal(t, exitOK, h.run("list", "-o", "json"))
	assert.Equal(t, "[]\n", h.stdout.String())
}

func TestListUsesTheLatencyQuantileOfTheSpec(t *testing.T) {
	ann := rolloutAnnotations("web-v2", progressing)
	ann[annotations.KeyLatencyQuantile] = "0.995"
	h := newHarness(primary("shop", "web", "web-v1", ann))
	require.Equal(t, exitOK, h.run("list", "-n", "shop"))
	assert.Contains(t, h.stdout.String(), "p99.5 0.081s")
}

func TestSummarizeAnalysisUnknownFigures(t *testing.T) {
	h := newHarness(primary("shop", "web", "web-v1", rolloutAnnotations("web-v2",
		`{"phase":"Progressing","revision":"web-v2","step":1,"weight":"5","lastAnalysis":{"outcome":"NoData","requests":3,"errorRate":0,"latencySeconds":-1}}`)))
	require.Equal(t, exitOK, h.run("list", "-n", "shop"))
	assert.Contains(t, h.stdout.String(), "NoData 3 req 0.00% err p99 n/a")
}

func without(m map[string]any, key string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}
