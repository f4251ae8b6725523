package main

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// eventFeed hands out each Event on the primary Ingress once, as it appears.
// The recorder folds a repeated Event into the same object with a higher
// count; the feed hands that out again, since it happened again.
type eventFeed struct {
	shop shop
	seen map[types.UID]int32 // Event UID -> the count last handed out
}

func newEventFeed(s shop) *eventFeed {
	return &eventFeed{shop: s, seen: map[types.UID]int32{}}
}

// next returns the Events (as "Type Reason: message") that appeared or
// repeated since the last call, oldest first, and their reasons. A failed
// list returns nothing; the next call catches up.
func (f *eventFeed) next(ctx context.Context) (lines, reasons []string) {
	events, err := f.shop.events(ctx)
	if err != nil {
		return nil, nil
	}
	for _, e := range events {
		if n, ok := f.seen[e.UID]; ok && n >= e.Count {
			continue
		}
		f.seen[e.UID] = e.Count
		lines = append(lines, describeEvent(e))
		reasons = append(reasons, e.Reason)
	}
	return lines, reasons
}

// eventSource is the component that records the controller's Events.
// ingress-nginx records Events on the same Ingress ("Sync: Scheduled for
// sync" on every change), which say nothing about the rollout.
const eventSource = "ingress-canary"

// events lists the controller's Events about the primary Ingress, oldest first.
func (s shop) events(ctx context.Context) ([]corev1.Event, error) {
	list, err := s.c.Client.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.kind=" + s.kind() + ",involvedObject.name=" + ingressName})
	if err != nil {
		return nil, err
	}
	mine := list.Items[:0]
	for _, e := range list.Items {
		if e.Source.Component == eventSource {
			mine = append(mine, e)
		}
	}
	// Timestamps have whole seconds. Within one, the resourceVersion orders
	// the writes: etcd's revision grows with every write, and a repeated Event
	// is an update of the old object, so its name and creation time are old.
	sort.SliceStable(mine, func(i, j int) bool {
		a, b := mine[i], mine[j]
		if ta, tb := eventTime(a), eventTime(b); !ta.Equal(tb) {
			return ta.Before(tb)
		}
		return revision(a) < revision(b)
	})
	return mine, nil
}

// eventTime is when an Event last happened; recorders fill different fields.
func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	}
	return e.CreationTimestamp.Time
}

// revision is an object's resourceVersion as a number; 0 if it is not one
// (the API promises only an opaque string, but etcd's is a number).
func revision(e corev1.Event) uint64 {
	n, _ := strconv.ParseUint(e.ResourceVersion, 10, 64)
	return n
}

// describeEvent renders an Event as "Type Reason: message", on one line.
func describeEvent(e corev1.Event) string {
	return e.Type + " " + e.Reason + ": " + strings.Join(strings.Fields(e.Message), " ")
}

// kind is the kind of the object the rollout is annotated on.
func (s shop) kind() string {
	if s.gw != nil {
		return "HTTPRoute"
	}
	return "Ingress"
}
