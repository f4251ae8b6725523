package controller

import (
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ownWrites remembers the resourceVersion that each of this controller's
// writes to an Ingress returned, so that the informer's report of that very
// write (its echo) queues no sync. The sync that wrote it has already decided
// what comes next and asked to be woken for it; a sync of the echo would only
// find nothing to do, or, on a cache that has the echo but not the write
// before it, try that write again. Under load, echoes would be most of the
// queue. Any other change, by anyone, has another resourceVersion and is
// synced as usual.
type ownWrites struct {
	mu sync.Mutex
	// byKey is the resourceVersion of the last write per "namespace/name".
	byKey map[string]string
}

func newOwnWrites() *ownWrites { return &ownWrites{byKey: map[string]string{}} }

// wrote records the object a write returned.
func (o *ownWrites) wrote(obj metav1.Object) {
	if obj == nil || obj.GetResourceVersion() == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.byKey[obj.GetNamespace()+"/"+obj.GetName()] = obj.GetResourceVersion()
}

// isEcho reports whether obj is exactly what our last write to it returned,
// and then forgets that write: an echo comes once.
func (o *ownWrites) isEcho(obj metav1.Object) bool {
	key := obj.GetNamespace() + "/" + obj.GetName()
	o.mu.Lock()
	defer o.mu.Unlock()
	rv, ok := o.byKey[key]
	if !ok || rv != obj.GetResourceVersion() {
		return false
	}
	delete(o.byKey, key)
	return true
}

// forget drops what is remembered of a deleted object.
func (o *ownWrites) forget(namespace, name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.byKey, namespace+"/"+name)
}
