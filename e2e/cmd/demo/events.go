package main

import (
	"context"

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
