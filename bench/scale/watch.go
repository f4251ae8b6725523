package main

import (
	"fmt"
	"sync"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

// runWatch watches one run's primary Ingresses (by their run label) and
// records every status change with the time it was delivered. It only reads.
type runWatch struct {
	mu          sync.Mutex
	transitions []Transition
	latest      map[string]weights.Status
}

func watchRun(client kubernetes.Interface, run int, stop <-chan struct{}) (*runWatch, error) {
	w := &runWatch{latest: map[string]weights.Status{}}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.LabelSelector = runLabel + "=" + runLabelValue(run)
	}))
	inf := factory.Networking().V1().Ingresses().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.observe(nil, obj) },
		UpdateFunc: w.observe,
	}); err != nil {
		return nil, err
	}
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		return nil, fmt.Errorf("run %d: Ingress watch did not sync", run)
	}
	return w, nil
}

func statusOf(obj any) (string, weights.Status) {
	ing, ok := obj.(*networkingv1.Ingress)
	if !ok {
		return "", weights.Status{}
	}
	st, _ := weights.ParseStatus(ing.Annotations[annotations.KeyStatus])
	return ing.Namespace + "/" + ing.Name, st
}

func (w *runWatch) observe(old, cur any) {
	seen := time.Now()
	name, st := statusOf(cur)
	w.mu.Lock()
	defer w.mu.Unlock()
	if name == "" {
		return
	}
	w.latest[name] = st
	if old == nil {
		return
	}
	_, before := statusOf(old)
	if t, ok := classify(before, st, seen); ok {
		w.transitions = append(w.transitions, t)
	}
}

// progress counts the run's rollouts that have started (a canary weight
// written, or past it) and that have ended.
func (w *runWatch) progress() (started, ended int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, st := range w.latest {
		switch st.Phase {
		case weights.PhaseSucceeded, weights.PhaseFailed:
			started++
			ended++
		case weights.PhasePromoting, weights.PhasePaused:
			started++
		case weights.PhaseProgressing:
			if st.Step >= 1 {
				started++
			}
		}
	}
	return started, ended
}

// phases counts the run's rollouts by phase.
func (w *runWatch) phases() map[weights.Phase]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[weights.Phase]int{}
	for _, st := range w.latest {
		out[st.Phase]++
	}
	return out
}

// all returns every transition seen so far.
func (w *runWatch) all() []Transition {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Transition(nil), w.transitions...)
}

// transitionsIn returns the transitions seen in [from, to).
func transitionsIn(ts []Transition, from, to time.Time) []Transition {
	var out []Transition
	for _, t := range ts {
		if !t.Seen.Before(from) && t.Seen.Before(to) {
			out = append(out, t)
		}
	}
	return out
}

// leaseWatch records when the controller's Lease changed: its renewals.
type leaseWatch struct {
	mu sync.Mutex
	at []time.Time
}

func watchLease(client kubernetes.Interface, stop <-chan struct{}) (*leaseWatch, error) {
	l := &leaseWatch{}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(leaseNamespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "metadata.name=" + leaseName }))
	inf := factory.Coordination().V1().Leases().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, _ any) {
			l.mu.Lock()
			l.at = append(l.at, time.Now())
			l.mu.Unlock()
		},
	}); err != nil {
		return nil, err
	}
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		return nil, fmt.Errorf("Lease watch did not sync")
	}
	return l, nil
}

// count is how many updates were seen in [from, to).
func (l *leaseWatch) count(from, to time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, t := range l.at {
		if !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return n
}
