package main

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/bench/internal/fakenginx"
	"github.com/ingress-canary/ingress-canary/controller"
	"github.com/ingress-canary/ingress-canary/preflight"
)

// follower makes the fake ingress-nginx split each Ingress's requests as the
// controller's canary Ingress says, as the real one would: it watches the
// canary Ingresses (the controller's label) and sets the canary side's
// weight, from the moment the change is seen, to canary-weight /
// canary-weight-total. A deleted canary Ingress sends everything back to the
// stable side. It only reads the API.
type follower struct {
	fleet    *fleet
	exporter *fakenginx.Exporter
	now      func() time.Time
	changes  atomic.Int64
	errors   atomic.Int64
	lastErr  atomic.Value // string
}

// start runs the watch until stop is closed and waits for its first list.
func (f *follower) start(client kubernetes.Interface, stop <-chan struct{}) error {
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.LabelSelector = controller.ManagedByLabel + "=" + controller.ManagedByValue
	}))
	inf := factory.Networking().V1().Ingresses().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { f.apply(obj, false) },
		UpdateFunc: func(_, obj any) { f.apply(obj, false) },
		DeleteFunc: func(obj any) { f.apply(obj, true) },
	}); err != nil {
		return err
	}
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		return fmt.Errorf("canary Ingress watch did not sync")
	}
	return nil
}

func (f *follower) apply(obj any, deleted bool) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj, deleted = tomb.Obj, true
	}
	ing, ok := obj.(*networkingv1.Ingress)
	if !ok {
		return
	}
	owner := metav1.GetControllerOf(ing)
	if owner == nil || ing.Name != preflight.CanaryName(owner.Name) {
		return // not a canary Ingress: the keeper of a promotion's old stable is not followed
	}
	p, ok := f.fleet.lookup(ing.Namespace, owner.Name)
	if !ok {
		return
	}
	now := f.now()
	f.changes.Add(1)
	if deleted || ing.DeletionTimestamp != nil {
		f.exporter.RemoveCanary(p.Namespace, p.Name, now)
		return
	}
	upstream, weight, err := canarySplit(ing)
	if err == nil {
		err = f.exporter.SetCanary(p.Namespace, p.Name, fakenginx.Canary{Upstream: upstream, Weight: weight, ErrorRatio: p.canaryErrors(weight)}, now)
	}
	if err != nil {
		f.errors.Add(1)
		f.lastErr.Store(fmt.Sprintf("%s/%s: %v", ing.Namespace, ing.Name, err))
	}
}

// canarySplit reads ingress-nginx's view of a canary Ingress: the upstream
// (<namespace>-<service>-<port>) its canary-routed requests are labelled
// with, and its share, canary-weight / canary-weight-total (default 100).
func canarySplit(ing *networkingv1.Ingress) (upstream string, weight float64, err error) {
	var backend *networkingv1.IngressServiceBackend
	for _, r := range ing.Spec.Rules {
		if r.HTTP != nil && len(r.HTTP.Paths) > 0 && r.HTTP.Paths[0].Backend.Service != nil {
			backend = r.HTTP.Paths[0].Backend.Service
			break
		}
	}
	if backend == nil {
		return "", 0, fmt.Errorf("no Service backend")
	}
	port := backend.Port.Name
	if port == "" {
		port = strconv.Itoa(int(backend.Port.Number))
	}
	if ing.Annotations[annotations.NginxCanary] != "true" {
		return "", 0, fmt.Errorf("%s is not \"true\"", annotations.NginxCanary)
	}
	w, err := strconv.ParseFloat(ing.Annotations[annotations.NginxCanaryWeight], 64)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", annotations.NginxCanaryWeight, err)
	}
	total := 100.0
	if s, ok := ing.Annotations[annotations.NginxCanaryWeightTotal]; ok {
		if total, err = strconv.ParseFloat(s, 64); err != nil || total <= 0 {
			return "", 0, fmt.Errorf("%s=%q: want a positive number", annotations.NginxCanaryWeightTotal, s)
		}
	}
	return ing.Namespace + "-" + backend.Name + "-" + port, min(max(w/total, 0), 1), nil
}
