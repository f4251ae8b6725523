package annotations

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFollowed(t *testing.T) {
	assert.True(t, Followed(map[string]string{KeyCanaryService: "web-v2"}), "opted in")
	assert.True(t, Followed(map[string]string{KeyStatus: `{"phase":"Failed"}`}), "an earlier rollout's status")
	assert.False(t, Followed(map[string]string{KeySteps: "5,10", "team": "shop"}), "no canary-service, no status")
	assert.False(t, Followed(nil))
}
