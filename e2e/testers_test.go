package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

// (d) Blue-green: testers reach the canary by header or cookie during the preview
// at weight 0, nobody else does, and the switch sends everyone.
func TestBlueGreenPreviewByHeaderAndCookie(t *testing.T) {
	t.Parallel()
	a := newApp(t, "bluegreen", 2)
	a.start(map[string]string{
		"canary-service": "web-v2", "strategy": "blue-green", "interval": "5s", "min-requests": "20",
		"header": "X-Preview", "cookie": "preview", "promotion": "manual",
	})
	canary := waitCanary(a)
	assert.Equal(t, "0", canary.Annotations[annotations.NginxCanaryWeight])
	// Testers are routed once ingress-nginx has applied the canary Ingress.
	a.waitRouted(a.version(2), func(r *http.Request) { r.Header.Set("X-Preview", "always") })
	a.waitRouted(a.version(2), func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "preview", Value: "always"}) })
	plain, stopPlain := a.traffic(40, nil)
	header, stopHeader := a.traffic(10, http.Header{"X-Preview": {"always"}})
	cookie, stopCookie := a.traffic(10, nil, &http.Cookie{Name: "preview", Value: "always"})
	st := a.waitStatus(60*time.Second, "awaiting promotion", func(s weights.Status) bool { return s.AwaitingPromotion })
	assert.Equal(t, weights.PhasePaused, st.Phase)
	p, h, c := plain.Snapshot(), header.Snapshot(), cookie.Snapshot()
	t.Logf("preview: plain %s | header %s | cookie %s", p, h, c)
	assert.Zero(t, p.ByVersion[a.version(2)], "nobody else reaches the preview")
	assert.Zero(t, h.ByVersion[a.version(1)], "header testers always reach the preview")
	assert.Zero(t, c.ByVersion[a.version(1)], "cookie testers always reach the preview")
	assert.Positive(t, h.ByVersion[a.version(2)])
	assert.Positive(t, c.ByVersion[a.version(2)])

	a.annotate(map[string]any{annotations.KeyPromote: "true"})
	a.waitPhase(60*time.Second, weights.PhaseSucceeded)
	time.Sleep(2 * time.Second)
	before := plain.Snapshot()
	time.Sleep(2 * time.Second)
	after := plain.Snapshot().Sub(before)
	assert.Equal(t, after.Responses(), after.ByVersion[a.version(2)], "after the switch everyone gets web-v2")
	for _, final := range []interface{ String() string }{stopPlain(), stopHeader(), stopCookie()} {
		t.Logf("final: %s", final)
	}
	assert.NotContains(t, a.primary().Annotations, annotations.KeyPromote, "the command was consumed")
}
