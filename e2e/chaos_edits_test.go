package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"

	"github.com/ingress-canary/ingress-canary/preflight"
	"github.com/ingress-canary/ingress-canary/weights"
)

// Chaos: while a rollout walks its steps and promotes (which switches the
// primary's backend with a JSON patch), 10 writers make 100 edits of other
// annotations and labels on the primary: half with merge patches, half with
// get-modify-Update retried on conflict. Every edit must survive, the rollout
// must succeed with no step skipped or window restarted, and the primary must
// route to the new Service. Sequential: the edits are timed against the
// rollout's phases.
func TestChaosConcurrentEditsDuringRollout(t *testing.T) {
	t0 := time.Now()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(chaosSeed(t), 0xed175))
	a := newChaosApps(t, []string{"chaos-edits"}, []string{chaosGood})[0]
	h := recordIngresses(t, "e2e-chaos-edits")
	logBefore := fileSize(suite.controller.logPath)
	_, stop := a.traffic(30, nil)
	defer stop()

	const writers, perWriter = 10, 10
	// Each writer's first 6 edits are spread over the steps, the last 4 go once
	// the promotion has begun, so that they race the backend switch.
	const beforePromotion = 6
	type edit struct {
		key, value string
		label      bool
		update     bool // get-modify-Update, else merge patch
		gap        time.Duration
		// think is the time between an Update writer's Get and its Update,
		// the window in which another write makes it conflict.
		think time.Duration
	}
	plans := make([][]edit, writers)
	for w := range writers {
		for j := range perWriter {
			gap := time.Duration(rng.IntN(5000)) * time.Millisecond
			if j >= beforePromotion {
				gap = time.Duration(rng.IntN(1000)) * time.Millisecond
			}
			plans[w] = append(plans[w], edit{
				key:   fmt.Sprintf("chaos.example/edit-%02d-%02d", w, j),
				value: fmt.Sprintf("w%d-e%d-%d", w, j, rng.IntN(1_000_000)),
				label: (w+j)%2 == 1, update: w%2 == 1, gap: gap,
				think: time.Duration(rng.IntN(50)) * time.Millisecond,
			})
		}
	}

	var conflicts atomic.Int64
	// Enough attempts for 10 writers and the controller on one object. Once, in
	// a full `make test` right after the apiserver restart test, 40 were not
	// (12–17 conflicts in all are usual): a writer that gives up loses its own
	// edit, which says nothing about the controller, so give it more.
	backoff := wait.Backoff{Steps: 100, Duration: 10 * time.Millisecond, Factor: 1.5, Jitter: 0.5, Cap: 500 * time.Millisecond}
	ingresses := suite.cluster.Client.NetworkingV1().Ingresses(a.ns)
	apply := func(e edit) error {
		if !e.update {
			field := "annotations"
			if e.label {
				field = "labels"
			}
			patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{field: map[string]string{e.key: e.value}}})
			_, err := ingresses.Patch(ctx, a.primaryName, types.MergePatchType, patch, metav1.PatchOptions{})
			return err
		}
		return retry.RetryOnConflict(backoff, func() error {
			ing, err := ingresses.Get(ctx, a.primaryName, metav1.GetOptions{})
			if err != nil {
				return err
			}
			m := &ing.Annotations
			if e.label {
				m = &ing.Labels
			}
			if *m == nil {
				*m = map[string]string{}
			}
			(*m)[e.key] = e.value
			time.Sleep(e.think)
			_, err = ingresses.Update(ctx, ing, metav1.UpdateOptions{})
			if apierrors.IsConflict(err) {
				conflicts.Add(1)
			}
			return err
		})
	}

	promoting := make(chan struct{})
	var release sync.Once
	defer release.Do(func() { close(promoting) }) // on an early failure too
	var mu sync.Mutex
	var errs []error
	byState := map[string]int{}
	var wg sync.WaitGroup
	require.NoError(t, patchAnnotations(ctx, a.ns, a.primaryName, chaosRollout()))
	begin := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j, e := range plans[w] {
				if j == beforePromotion {
					select {
					case <-promoting:
					case <-time.After(90 * time.Second):
					}
				}
				time.Sleep(e.gap)
				err := apply(e)
				st, ok := h.latest(a.ns, a.primaryName)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", e.key, err))
				}
				byState[stateOf(st, ok)]++
				mu.Unlock()
			}
		}()
	}
	// Release the late edits when the promotion begins.
	a.eventually(90*time.Second, "promotion begins", func() bool {
		st, ok := h.latest(a.ns, a.primaryName)
		return ok && (st.Phase == weights.PhasePromoting || terminal(st.Phase))
	})
	release.Do(func() { close(promoting) })
	wg.Wait()
	editsTook := time.Since(begin)
	end := a.waitPhase(60*time.Second, weights.PhaseSucceeded)
	awaitCanaryGone(h, a)
	require.Empty(t, errs, "every edit was accepted")

	ing := a.primary()
	missing := 0
	for _, plan := range plans {
		for _, e := range plan {
			got, ok := ing.Annotations[e.key]
			if e.label {
				got, ok = ing.Labels[e.key]
			}
			if !ok || got != e.value {
				missing++
				t.Errorf("edit %s (label %v, update %v) lost: have %q, %v", e.key, e.label, e.update, got, ok)
			}
		}
	}
	assert.Equal(t, a.name, ing.Annotations["team.example/owner"], "the annotation set at creation survived")
	assert.Equal(t, "web-v2", backendOf(ing), "the primary routes to the new Service")
	_, err := ingresses.Get(ctx, preflight.CanaryName(a.primaryName), metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "canary Ingress deleted")
	r := h.check(chaosPlan(a, weights.PhaseSucceeded))
	requireNoViolations(t, h, a, r)

	promoted := byState["Promoting/FullWeight"] + byState["Promoting/Switched"]
	assert.Positive(t, byState["Progressing/1"]+byState["Progressing/2"], "edits landed during the steps")
	assert.Positive(t, promoted, "edits landed during the promotion")
	ctrlConflicts := strings.Count(tailFrom(suite.controller.logPath, logBefore), "the object has been modified")
	t.Logf("%d edits by %d writers over %.1fs, %d lost; by the rollout state they landed in: %s; conflicts retried: %d by the Update writers, %d by the controller; rollout %s in %d status writes, windows %s (%s); test ran %.1fs",
		writers*perWriter, writers, editsTook.Seconds(), missing, formatStates(byState), conflicts.Load(), ctrlConflicts, r, r.Statuses, formatStarts(r.StepStarted), end.Message, time.Since(t0).Seconds())
}
