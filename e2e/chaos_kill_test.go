package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/preflight"
	"github.com/ingress-canary/ingress-canary/weights"
)

// Chaos: the shared controller is SIGKILLed at random moments (seeded; the seed
// is logged) while 20 short rollouts run, healthy and erroring canaries mixed.
// Every rollout must reach its right end (healthy: Succeeded, erroring: Failed),
// and the recorded history of every write must show no step skipped, no window
// restarted or cut short, and no weight rising after a failure, neither in the
// status nor on the canary Ingress. Sequential: it kills the shared controller,
// which is left running and leading at the end.
func TestChaosRandomKillsDuring20Rollouts(t *testing.T) {
	t0 := time.Now()
	rng := rand.New(rand.NewPCG(chaosSeed(t), 0x9e3779b97f4a7c15))
	const n = 20

	// Which rollouts err, and in which order and when they start: all from the seed.
	bad := map[int]bool{}
	for _, i := range rng.Perm(n)[:6+rng.IntN(3)] {
		bad[i] = true
	}
	names, canaries := make([]string, n), make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("chaos-kill-%02d", i)
		canaries[i] = chaosGood
		if bad[i] {
			canaries[i] = chaosBad
		}
	}
	apps := newChaosApps(t, names, canaries)
	require.NoError(t, suite.cluster.SetBehavior(chaosBad, 0.5, 0))
	h := recordIngresses(t, "e2e-chaos-kill-")
	for _, a := range apps {
		// 20 apps × 15 rps: enough for min-requests at 20 % in a 10 s window,
		// little enough for nginx on 2 cores.
		_, stop := a.traffic(15, nil)
		defer stop()
	}
	order := rng.Perm(n)
	offsets := make([]time.Duration, n)
	for k := 1; k < n; k++ {
		offsets[k] = offsets[k-1] + time.Duration(300+rng.IntN(1200))*time.Millisecond
	}
	t.Logf("%d erroring canaries (%v); starts over %.1fs", len(bad), sortedKeys(bad), offsets[n-1].Seconds())

	var mu sync.Mutex
	var startErrs []error
	startsDone := make(chan struct{})
	begin := time.Now()
	go func() {
		defer close(startsDone)
		for k, i := range order {
			time.Sleep(time.Until(begin.Add(offsets[k])))
			if err := patchAnnotations(context.Background(), apps[i].ns, apps[i].primaryName, chaosRollout()); err != nil {
				mu.Lock()
				startErrs = append(startErrs, fmt.Errorf("start %s: %w", apps[i].ns, err))
				mu.Unlock()
			}
		}
	}()

	states := func() map[string]int {
		out := map[string]int{}
		for _, a := range apps {
			st, ok := h.latest(a.ns, a.primaryName)
			out[stateOf(st, ok)]++
		}
		return out
	}
	allEnded := func() bool {
		select {
		case <-startsDone:
		default:
			return false
		}
		for _, a := range apps {
			if st, ok := h.latest(a.ns, a.primaryName); !ok || !terminal(st.Phase) {
				return false
			}
		}
		return true
	}

	// Kill loop: wait until the controller leads, let it work for a random
	// while, SIGKILL it, start a new one (a new identity, as a restarted Pod has,
	// so it must wait for the dead one's Lease to expire).
	deadline := time.Now().Add(4 * time.Minute)
	var kills, activeKills int
	var takeovers []float64
	killedAt, killedID := time.Time{}, ""
	for {
		id, _ := waitLeading(t, suite.controller, killedID, 45*time.Second)
		if !killedAt.IsZero() {
			takeovers = append(takeovers, time.Since(killedAt).Seconds())
		}
		// At most 5 s: with the ~12 s a successor waits for the dead one's
		// Lease, the rollouts' ~45 s in flight see at least three kills.
		up := time.Duration(200+rng.IntN(4800)) * time.Millisecond
		until := time.Now().Add(up)
		for time.Now().Before(until) && !allEnded() {
			time.Sleep(100 * time.Millisecond)
		}
		if allEnded() {
			break
		}
		require.True(t, time.Now().Before(deadline), "rollouts not ended within 4 minutes: %v", states())
		hit := states()
		require.NoError(t, suite.controller.Kill())
		killedAt, killedID = time.Now(), id
		kills++
		if hit["not started"]+hit[string(weights.PhaseSucceeded)]+hit[string(weights.PhaseFailed)] < n {
			activeKills++
		}
		t.Logf("kill %d at +%.1fs after %.1fs of leadership; rollouts then: %s", kills, time.Since(begin).Seconds(), up.Seconds(), formatStates(hit))
		require.NoError(t, suite.controller.Start())
	}
	elapsed := time.Since(begin)
	mu.Lock()
	require.Empty(t, startErrs)
	mu.Unlock()

	var succeeded, failed int
	for i, a := range apps {
		want, backend := weights.PhaseSucceeded, "web-v2"
		if bad[i] {
			want, backend = weights.PhaseFailed, "web-v1"
		}
		awaitCanaryGone(h, a)
		r := h.check(chaosPlan(a, want))
		requireNoViolations(t, h, a, r)
		ing := a.primary()
		st, err := weights.ParseStatus(ing.Annotations[annotations.KeyStatus])
		require.NoError(t, err)
		assert.Equal(t, want, st.Phase, "%s: %s", a.ns, st.Message)
		if bad[i] {
			assert.Contains(t, st.Message, "analysis failed", "%s failed for its errors", a.ns)
		}
		assert.Equal(t, backend, backendOf(ing), "%s routes to", a.ns)
		_, err = suite.cluster.Client.NetworkingV1().Ingresses(a.ns).Get(context.Background(), preflight.CanaryName(a.primaryName), metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "%s: canary Ingress deleted (%v)", a.ns, err)
		if st.Phase == weights.PhaseSucceeded {
			succeeded++
		} else if st.Phase == weights.PhaseFailed {
			failed++
		}
		t.Logf("%s (%s): %s in %d status writes", a.ns, canaries[i], r, r.Statuses)
	}
	watches, relists, gaps := h.counts()
	t.Logf("%d rollouts (%d Succeeded, %d Failed) in %.1fs with %d SIGKILLs (%d while rollouts were in flight); takeover after each kill: %s s; watches %d, relists %d, gaps %d; test ran %.1fs",
		n, succeeded, failed, elapsed.Seconds(), kills, activeKills, formatFloats(takeovers), watches, relists, gaps, time.Since(t0).Seconds())
	assert.GreaterOrEqual(t, activeKills, 3, "the controller was killed at least three times while rollouts were in flight")
}

func sortedKeys(m map[int]bool) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

func formatStates(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func formatFloats(fs []float64) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("%.1f", f)
	}
	return strings.Join(parts, ", ")
}
