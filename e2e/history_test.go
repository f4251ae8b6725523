package e2e

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/preflight"
	"github.com/ingress-canary/ingress-canary/weights"
)

// relisted marks an observation that a relist found changed after a watch could
// not resume (e.g. "too old resource version" after an apiserver restart): the
// writes between the last watched event and the relist were not seen one by one.
const relisted watch.EventType = "RELISTED"

// observation is one version of an Ingress as the apiserver showed it.
type observation struct {
	At        time.Time
	Type      watch.EventType
	Namespace string
	Name      string
	RV        string
	// RawStatus is the primary's status annotation ("" on a canary Ingress).
	RawStatus string
	// Backend is the Service of the first rule's first path.
	Backend string
	// Weight is a canary Ingress's nginx canary-weight in percent, -1 if unset.
	Weight float64
}

// history records every write to the Ingresses of namespaces with a prefix, as
// a watch on all Ingresses delivers them: the apiserver sends every change, in
// resourceVersion order, so a status that lived for a millisecond is still seen.
// When a watch breaks it resumes from the last resourceVersion; when that is
// too old (after an apiserver restart the watch cache starts afresh), it
// relists and counts the objects that changed unseen (gaps): writes made
// between the last watched event and the relist are then seen as one, so tests
// log the count to say how complete their evidence is.
type history struct {
	prefix string
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	obs     []observation
	lastRV  map[string]string // namespace/name -> resourceVersion last recorded
	watches int
	relists int
	gaps    int // objects a relist found changed (writes not seen one by one)
}

// recordIngresses starts recording the Ingresses of namespaces starting with
// prefix until the test ends.
func recordIngresses(t *testing.T, prefix string) *history {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &history{prefix: prefix, cancel: cancel, done: make(chan struct{}), lastRV: map[string]string{}}
	list, err := suite.cluster.Client.NetworkingV1().Ingresses("").List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for i := range list.Items {
		h.record(watch.Added, &list.Items[i])
	}
	go h.run(ctx, list.ResourceVersion)
	t.Cleanup(h.stop)
	return h
}

func (h *history) stop() {
	h.cancel()
	<-h.done
}

func (h *history) run(ctx context.Context, rv string) {
	defer close(h.done)
	ingresses := suite.cluster.Client.NetworkingV1().Ingresses("")
	for ctx.Err() == nil {
		if rv == "" {
			list, err := ingresses.List(ctx, metav1.ListOptions{})
			if err != nil {
				sleepCtx(ctx, 100*time.Millisecond)
				continue
			}
			h.relist(list)
			rv = list.ResourceVersion
		}
		w, err := ingresses.Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
				rv = ""
			}
			sleepCtx(ctx, 100*time.Millisecond)
			continue
		}
		h.mu.Lock()
		h.watches++
		h.mu.Unlock()
		rv = h.consume(w, rv)
		w.Stop()
	}
}

// consume records a watch's events and returns the resourceVersion to resume
// from ("" to relist).
func (h *history) consume(w watch.Interface, rv string) string {
	for ev := range w.ResultChan() {
		switch ev.Type {
		case watch.Error:
			if err := apierrors.FromObject(ev.Object); apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
				return ""
			}
			return rv
		case watch.Bookmark:
			if m, err := meta.Accessor(ev.Object); err == nil {
				rv = m.GetResourceVersion()
			}
		case watch.Added, watch.Modified, watch.Deleted:
			ing, ok := ev.Object.(*networkingv1.Ingress)
			if !ok {
				continue
			}
			h.record(ev.Type, ing)
			rv = ing.ResourceVersion
		}
	}
	return rv
}

// relist records what changed since the last recorded versions, including
// deletions, as relisted observations.
func (h *history) relist(list *networkingv1.IngressList) {
	h.mu.Lock()
	h.relists++
	seen := map[string]bool{}
	var changed []*networkingv1.Ingress
	for i := range list.Items {
		ing := &list.Items[i]
		key := ing.Namespace + "/" + ing.Name
		seen[key] = true
		if strings.HasPrefix(ing.Namespace, h.prefix) && h.lastRV[key] != ing.ResourceVersion {
			changed = append(changed, ing)
		}
	}
	var gone []string
	for key := range h.lastRV {
		if !seen[key] {
			gone = append(gone, key)
		}
	}
	h.gaps += len(changed) + len(gone)
	h.mu.Unlock()
	for _, ing := range changed {
		h.record(relisted, ing)
	}
	for _, key := range gone {
		ns, name, _ := strings.Cut(key, "/")
		h.record(watch.Deleted, &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}})
	}
}

func (h *history) record(typ watch.EventType, ing *networkingv1.Ingress) {
	if !strings.HasPrefix(ing.Namespace, h.prefix) {
		return
	}
	o := observation{
		At: time.Now(), Type: typ, Namespace: ing.Namespace, Name: ing.Name, RV: ing.ResourceVersion,
		RawStatus: ing.Annotations[annotations.KeyStatus], Weight: -1,
	}
	if len(ing.Spec.Rules) > 0 && ing.Spec.Rules[0].HTTP != nil && len(ing.Spec.Rules[0].HTTP.Paths) > 0 {
		if s := ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service; s != nil {
			o.Backend = s.Name
		}
	}
	if w, ok := ing.Annotations[annotations.NginxCanaryWeight]; ok {
		total := 100.0
		if tt, err := strconv.ParseFloat(ing.Annotations[annotations.NginxCanaryWeightTotal], 64); err == nil && tt > 0 {
			total = tt
		}
		if f, err := strconv.ParseFloat(w, 64); err == nil {
			o.Weight = f * 100 / total
		}
	}
	key := ing.Namespace + "/" + ing.Name
	h.mu.Lock()
	defer h.mu.Unlock()
	if typ == watch.Deleted {
		delete(h.lastRV, key)
	} else {
		h.lastRV[key] = ing.ResourceVersion
	}
	h.obs = append(h.obs, o)
}

// snapshot returns the observations so far, in the order they were seen.
func (h *history) snapshot() []observation {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]observation(nil), h.obs...)
}

// exists says whether the watch's last word on an object is that it exists.
func (h *history) exists(ns, name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.lastRV[ns+"/"+name]
	return ok
}

// counts returns how many watches were opened, relists done and objects a
// relist found changed.
func (h *history) counts() (watches, relists, gaps int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.watches, h.relists, h.gaps
}

// latest is the last status seen on a primary, and whether there is one.
func (h *history) latest(ns, primary string) (weights.Status, bool) {
	obs := h.snapshot()
	for i := len(obs) - 1; i >= 0; i-- {
		if o := obs[i]; o.Namespace == ns && o.Name == primary && o.RawStatus != "" {
			st, err := weights.ParseStatus(o.RawStatus)
			return st, err == nil
		}
	}
	return weights.Status{}, false
}

// rolloutPlan is what one rollout was asked to do, for history.check.
type rolloutPlan struct {
	ns, primary string
	revision    string
	steps       []float64 // percent
	interval    time.Duration
	want        weights.Phase
}

// rolloutReport is what the history shows of one rollout.
type rolloutReport struct {
	// Path is the sequence of distinct phase/step/stage states, e.g.
	// "Progressing/1 Progressing/2 Promoting/FullWeight Promoting/Switched Succeeded".
	Path []string
	// Statuses is the number of distinct status values written for the revision.
	Statuses    int
	StepStarted map[int]time.Time
	Final       weights.Status
	// Violations are broken invariants, each with the evidence.
	Violations []string
}

func (r rolloutReport) String() string { return strings.Join(r.Path, " → ") }

// check replays the recorded writes of one rollout and reports every broken
// invariant: a step skipped or taken back, a window restarted or cut short, a
// weight that rose after the rollout failed or fell without a failure, a canary
// Ingress weight ahead of the status (the status is the intent and is written
// first), a canary Ingress that outlived a terminal phase, and the wrong end.
func (h *history) check(p rolloutPlan) rolloutReport {
	r := rolloutReport{StepStarted: map[int]time.Time{}}
	bad := func(o observation, format string, args ...any) {
		r.Violations = append(r.Violations, fmt.Sprintf("%s/%s rv %s at %s: %s", o.Namespace, o.Name, o.RV,
			o.At.Format("15:04:05.000"), fmt.Sprintf(format, args...)))
	}
	canaryName := preflight.CanaryName(p.primary)
	allowed := map[float64]bool{100: true}
	for _, w := range p.steps {
		allowed[w] = true
	}
	var last *weights.Status
	lastRaw, lastState := "", ""
	failed, promotingSeen := false, false
	canaryExists, canaryWeight := false, -1.0
	for _, o := range h.snapshot() {
		if o.Namespace != p.ns {
			continue
		}
		switch o.Name {
		case p.primary:
			if o.Type == watch.Deleted || o.RawStatus == "" || o.RawStatus == lastRaw {
				continue
			}
			lastRaw = o.RawStatus
			s, err := weights.ParseStatus(o.RawStatus)
			if err != nil {
				bad(o, "unreadable status %q: %v", o.RawStatus, err)
				continue
			}
			if s.Revision != p.revision {
				if last != nil {
					bad(o, "revision changed to %q: %s", s.Revision, o.RawStatus)
				}
				continue
			}
			r.Statuses++
			w := pct(s.Weight.String())
			if last == nil {
				if s.Step > 1 {
					bad(o, "first status seen is already at step %d (steps before it skipped): %s", s.Step, o.RawStatus)
				}
			} else {
				prev := *last
				pw := pct(prev.Weight.String())
				switch {
				case terminal(prev.Phase) && s.Phase != prev.Phase:
					bad(o, "left %s for %s: %s", prev.Phase, s.Phase, o.RawStatus)
				case s.Step < prev.Step:
					bad(o, "step went back from %d to %d: %s", prev.Step, s.Step, o.RawStatus)
				case s.Step > prev.Step+1:
					bad(o, "step %d skipped: %d → %d: %s", prev.Step+1, prev.Step, s.Step, o.RawStatus)
				}
				if prev.Phase == weights.PhaseFailed && w > pw {
					bad(o, "weight rose after the failure, %s → %s %%: %s", prev.Weight, s.Weight, o.RawStatus)
				}
				if prev.Phase != weights.PhaseFailed && s.Phase != weights.PhaseFailed && w < pw {
					bad(o, "weight fell without a failure, %s → %s %%: %s", prev.Weight, s.Weight, o.RawStatus)
				}
			}
			if s.Step >= 1 && s.StepStarted != nil {
				if seen, ok := r.StepStarted[s.Step]; ok {
					if !seen.Equal(*s.StepStarted) {
						bad(o, "step %d's window restarted: stepStarted %s → %s", s.Step, seen.Format(time.RFC3339Nano), s.StepStarted.Format(time.RFC3339Nano))
					}
				} else {
					r.StepStarted[s.Step] = *s.StepStarted
					if before, ok := r.StepStarted[s.Step-1]; ok && s.StepStarted.Sub(before) < p.interval {
						bad(o, "step %d's window cut short: step %d began %.3fs after it (interval %s)", s.Step-1, s.Step, s.StepStarted.Sub(before).Seconds(), p.interval)
					}
				}
			}
			switch s.Phase {
			case weights.PhaseProgressing:
				if s.Step >= 1 && s.Step <= len(p.steps) && w != p.steps[s.Step-1] {
					bad(o, "step %d carries weight %s, plan says %g", s.Step, s.Weight, p.steps[s.Step-1])
				}
			case weights.PhasePromoting:
				if w != 100 {
					bad(o, "promoting at weight %s", s.Weight)
				}
				if !promotingSeen {
					promotingSeen = true
					if s.Step != len(p.steps) {
						bad(o, "promoted from step %d of %d", s.Step, len(p.steps))
					}
					if st, ok := r.StepStarted[len(p.steps)]; ok && s.StageStarted != nil && s.StageStarted.Sub(st) < p.interval {
						bad(o, "last step's window cut short: promotion began %.3fs after it", s.StageStarted.Sub(st).Seconds())
					}
				}
			case weights.PhaseFailed:
				if w != 0 {
					bad(o, "failed with weight %s", s.Weight)
				}
				failed = true
			}
			state := string(s.Phase)
			switch {
			case s.Phase == weights.PhasePromoting:
				state += "/" + string(s.Stage)
			case !terminal(s.Phase):
				state += "/" + strconv.Itoa(s.Step)
			}
			if state != lastState {
				r.Path = append(r.Path, state)
				lastState = state
			}
			r.Final = s
			last = &r.Final
		case canaryName:
			if o.Type == watch.Deleted {
				canaryExists = false
				continue
			}
			switch {
			case failed && !canaryExists:
				bad(o, "canary Ingress (re)created at %g %% after the rollout failed", o.Weight)
			case failed && o.Weight > canaryWeight:
				bad(o, "canary weight rose after the failure: %g → %g %%", canaryWeight, o.Weight)
			case canaryExists && o.Weight < canaryWeight && !failed:
				bad(o, "canary weight fell without a failure: %g → %g %%", canaryWeight, o.Weight)
			}
			if last != nil && last.Phase == weights.PhaseSucceeded {
				bad(o, "canary Ingress written after the rollout succeeded")
			}
			if !allowed[o.Weight] {
				bad(o, "canary weight %g %% is not a step of the plan %v", o.Weight, p.steps)
			}
			if o.Type != relisted && last != nil && last.Phase != weights.PhaseFailed && o.Weight > pct(last.Weight.String()) {
				bad(o, "canary weight %g %% ahead of the status (%s %%, %s)", o.Weight, last.Weight, last.Phase)
			}
			canaryExists, canaryWeight = true, o.Weight
		}
	}
	switch {
	case last == nil:
		r.Violations = append(r.Violations, fmt.Sprintf("%s/%s: no status for revision %s was ever seen", p.ns, p.primary, p.revision))
	case last.Phase != p.want:
		r.Violations = append(r.Violations, fmt.Sprintf("%s/%s: ended %s, want %s: %s", p.ns, p.primary, last.Phase, p.want, lastRaw))
	}
	if p.want == weights.PhaseSucceeded {
		for i := 1; i <= len(p.steps); i++ {
			if _, ok := r.StepStarted[i]; !ok {
				r.Violations = append(r.Violations, fmt.Sprintf("%s/%s: step %d never seen (path %s)", p.ns, p.primary, i, r))
			}
		}
	}
	if last != nil && terminal(last.Phase) && canaryExists {
		r.Violations = append(r.Violations, fmt.Sprintf("%s/%s: canary Ingress still there (%g %%) after %s", p.ns, p.primary, canaryWeight, last.Phase))
	}
	return r
}

func terminal(p weights.Phase) bool { return p == weights.PhaseSucceeded || p == weights.PhaseFailed }

// pct parses a status weight in percent; an unparsable one is NaN, which
// compares false with everything and so shows up as a plan mismatch.
func pct(s string) float64 {
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// statusTimeline renders a rollout's recorded statuses, one line each, for a
// failure message.
func (h *history) statusTimeline(ns, primary string) string {
	var b strings.Builder
	lastRaw := ""
	for _, o := range h.snapshot() {
		if o.Namespace != ns {
			continue
		}
		switch {
		case o.Name == primary && o.RawStatus != lastRaw:
			lastRaw = o.RawStatus
			fmt.Fprintf(&b, "  %s %-8s rv %-6s status %s\n", o.At.Format("15:04:05.000"), o.Type, o.RV, o.RawStatus)
		case o.Name == preflight.CanaryName(primary):
			fmt.Fprintf(&b, "  %s %-8s rv %-6s canary weight %g %%\n", o.At.Format("15:04:05.000"), o.Type, o.RV, o.Weight)
		}
	}
	return b.String()
}
