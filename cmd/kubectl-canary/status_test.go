package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/annotations"
)

func TestStatusShowsTheRolloutAndItsEvents(t *testing.T) {
	objects := []runtime.Object{
		primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", progressing)),
		// Another Ingress's Event, and one of an earlier Ingress with the same name.
		event("shop", "api", "StepAdvanced", "not ours", testNow.Add(-time.Minute)),
	}
	stale := event("shop", "web", "Stale", "from a deleted Ingress of the same name", testNow.Add(-time.Hour))
	stale.InvolvedObject.UID = "old-uid"
	objects = append(objects, stale)
	// Twelve Events, out of order: only the ten most recent are shown, oldest first.
	for i := 12; i >= 1; i-- {
		objects = append(objects, event("shop", "web", fmt.Sprintf("Step%02d", i), "m", testNow.Add(-time.Duration(i)*time.Minute)))
	}
	h := newHarness(objects...)
	require.Equal(t, exitOK, h.run("status", "web", "-n", "shop"))
	out := h.stdout.String()
	assert.Contains(t, out, "Phase:       Progressing")
	assert.Contains(t, out, "web-v2 replacing web-v1")
	assert.NotContains(t, out, "not ours")
	assert.NotContains(t, out, "Stale")
	assert.NotContains(t, out, "Step11")
	assert.NotContains(t, out, "Step12")
	assert.Less(t, strings.Index(out, "Step10"), strings.Index(out, "Step01"))
	assert.NotContains(t, out, "\x1b[", "no screen control without --watch on a terminal")
}

func TestStatusShowsOnlyOurEventsUnlessAsked(t *testing.T) {
	sync := event("shop", "web", "Sync", "Scheduled for sync", testNow.Add(-time.Minute))
	sync.Source.Component = "nginx-ingress-controller"
	h := newHarness(primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", progressing)), sync,
		event("shop", "web", "StepStarted", "step 2/4", testNow.Add(-2*time.Minute)))
	require.Equal(t, exitOK, h.run("status", "web", "-n", "shop"))
	assert.NotContains(t, h.stdout.String(), "Scheduled for sync")
	assert.Contains(t, h.stdout.String(), "step 2/4")

	h = newHarness(primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", progressing)), sync)
	require.Equal(t, exitOK, h.run("status", "web", "-n", "shop", "--all-events"))
	assert.Contains(t, h.stdout.String(), "Scheduled for sync")
}

func TestStatusOfAMissingIngressIsAnError(t *testing.T) {
	h := newHarness()
	assert.Equal(t, exitError, h.run("status", "nope"))
	assert.Contains(t, h.stderr.String(), `error: get Ingress default/nope: ingresses.networking.k8s.io "nope" not found`)
}

func TestStatusJSONPrintsTheStatusObject(t *testing.T) {
	h := newHarness(primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", progressing)))
	require.Equal(t, exitOK, h.run("status", "web", "-n", "shop", "-o", "json"))
	var got map[string]any
	require.NoError(t, json.Unmarshal(h.stdout.Bytes(), &got))
	assert.Equal(t, "Progressing", got["phase"])
	assert.Equal(t, "10", got["weight"])
}

func TestStatusWatchRedrawsUntilTheRolloutEnds(t *testing.T) {
	h := newHarness(primary("shop", "web", "web-v1", rolloutAnnotations("web-v2",
		// An earlier rollout's end does not stop the watch: web-v2 is about to start.
		`{"phase":"Succeeded","revision":"web-v1","step":4,"weight":"0"}`)))
	h.onSleep = func(n int) {
		st := progressing
		if n == 2 {
			st = `{"phase":"Succeeded","revision":"web-v2","step":4,"steps":4,"weight":"0"}`
		}
		h.setStatus(t, "shop", "web", st)
	}
	require.Equal(t, exitOK, h.run("status", "web", "-n", "shop", "--watch", "--interval", "1s", "--exit-code"))
	assert.Equal(t, 2, h.sleeps)
	out := h.stdout.String()
	assert.Equal(t, 3, strings.Count(out, "Ingress:"))
	assert.Contains(t, out, "] done")
}

func TestStatusWatchOnATerminalClearsTheScreen(t *testing.T) {
	h := newHarness(primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", `{"phase":"Failed","revision":"web-v2","step":1,"weight":"0"}`)))
	h.app.terminal = true
	assert.Equal(t, exitRolloutFailed, h.run("status", "web", "-n", "shop", "-w", "--exit-code"))
	assert.True(t, strings.HasPrefix(h.stdout.String(), "\x1b[H\x1b[2J"))
	assert.Zero(t, h.sleeps, "a finished rollout ends the watch at once")
}

func TestStatusExitCode(t *testing.T) {
	tests := []struct {
		status string
		flag   bool
		want   int
	}{
		{`{"phase":"Failed","revision":"web-v2","weight":"0"}`, true, exitRolloutFailed},
		{`{"phase":"Invalid","weight":"0"}`, true, exitRolloutFailed},
		{`{"phase":"Failed","revision":"web-v2","weight":"0"}`, false, exitOK},
		{progressing, true, exitOK},
	}
	for _, tt := range tests {
		h := newHarness(primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", tt.status)))
		args := []string{"status", "web", "-n", "shop"}
		if tt.flag {
			args = append(args, "--exit-code")
		}
		assert.Equal(t, tt.want, h.run(args...), tt.status)
		assert.Empty(t, h.stderr.String())
	}
}

func TestStatusWatchEndsOnInterrupt(t *testing.T) {
	h := newHarness(primary("shop", "web", "web-v1", rolloutAnnotations("web-v2", progressing)))
	ctx, cancel := context.WithCancel(context.Background())
	h.app.sleep = func(ctx context.Context, _ time.Duration) error {
		cancel() // the user presses Ctrl-C during the pause
		return ctx.Err()
	}
	assert.Equal(t, exitOK, h.app.run(ctx, []string{"status", "web", "-n", "shop", "--watch"}))
}

func TestEventTimePrefersLastTimestamp(t *testing.T) {
	last, series := testNow.Add(-time.Minute), testNow.Add(-2*time.Minute)
	assert.Equal(t, last, eventTime(corev1.Event{LastTimestamp: metav1.NewTime(last), EventTime: metav1.NewMicroTime(series)}))
	assert.Equal(t, series, eventTime(corev1.Event{EventTime: metav1.NewMicroTime(series)}))
}

func (h *harness) setStatus(t *testing.T, namespace, name, status string) {
	t.Helper()
	ing := h.ingress(namespace, name)
	ing.Annotations[annotations.KeyStatus] = status
	_, err := h.client.NetworkingV1().Ingresses(namespace).Update(context.Background(), ing, metav1.UpdateOptions{})
	require.NoError(t, err)
}
