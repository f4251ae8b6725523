package weights

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/annotations"
)

// TestStatusJSONIsUnchanged reads statuses as the controller wrote them while
// Weight was a string, and writes them back byte for byte.
func TestStatusJSONIsUnchanged(t *testing.T) {
	for name, raw := range map[string]string{
		"progressing": `{"phase":"Progressing","revision":"web-v2","step":2,"steps":4,"weight":"10",` +
			`"stepStarted":"2026-11-22T10:01:00Z","nextCheck":"2026-11-22T10:02:00Z",` +
			`"lastAnalysis":{"outcome":"Pass","requests":5120,"errorRate":0.002,"latencySeconds":0.081,` +
			`"stable":{"requests":46000,"errors":41,"errorRate":0.0009,"latencySeconds":0.074},"at":"2026-11-22T10:01:55Z"},` +
			`"message":"step 2/4: canary weight 10 %","updated":"2026-11-22T10:01:00Z"}`,
		"a fractional step":     `{"phase":"Progressing","revision":"web-v2","step":1,"steps":3,"weight":"0.5"}`,
		"waiting for endpoints": `{"phase":"Progressing","revision":"web-v2","step":0,"steps":3,"weight":"0"}`,
		"promoting":             `{"phase":"Promoting","revision":"web-v2","step":3,"weight":"100","stage":"FullWeight"}`,
		"idle has no weight":    `{"phase":"Idle","step":0,"weight":"","message":"ingress-canary.dev/canary-service is not set"}`,
	} {
		t.Run(name, func(t *testing.T) {
			st, err := ParseStatus(raw)
			require.NoError(t, err)
			assert.Equal(t, raw, st.Encode())
		})
	}
	assert.Equal(t, `{"phase":"","step":0,"weight":""}`, Status{}.Encode(), "the zero Status is written as before")
}

func TestStatusWeight(t *testing.T) {
	st, err := ParseStatus(`{"phase":"Progressing","weight":"12.75"}`)
	require.NoError(t, err)
	assert.Equal(t, WeightOf(1275), st.Weight)
	assert.Equal(t, annotations.Weight(1275), st.Weight.Value())
	assert.True(t, st.Weight.Known())

	st, err = ParseStatus(`{"phase":"Idle","weight":""}`)
	require.NoError(t, err)
	assert.False(t, st.Weight.Known())
	assert.Zero(t, st.Weight.Value(), "no weight sends no traffic")

	_, err = ParseStatus(`{"phase":"Progressing","weight":"ten"}`)
	assert.ErrorContains(t, err, "status weight")
}
