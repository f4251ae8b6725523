package prom

import (
	"github.com/prometheus/common/model"

	"github.com/ingress-canary/ingress-canary/analysis"
)

// A Dialect is how one data plane's request metrics are read. It is the
// metrics half of a router: ingress-nginx and Traefik count the same requests
// under different series and labels. A new data plane is a new Dialect (and
// its tests); the snapshots, windows, resets and judging stay as they are.
type Dialect interface {
	// Name is the router's name, as --router takes it.
	Name() string
	// Queries are a snapshot's three batched instant queries, for the
	// groups only names, or for every group when only is nil. Label values
	// enter them only through anyOf.
	Queries(only []group) Queries
	// File says where one answered sample belongs: its group (what a snapshot
	// indexes and a window start keeps) and its labels. ok is false for a
	// sample that no rollout can use.
	File(m model.Metric) (g group, l labels, ok bool)
	// Sides names the group that holds t's series, and which of its series are
	// the canary's and which the stable side's.
	Sides(t analysis.Target) (g group, canary, stable func(labels) bool)
}

// Queries are the three queries of a snapshot: request counters, their 5xx
// part, and latency histogram buckets (with le).
type Queries struct{ Requests, Errors, Buckets string }

// group is the unit a snapshot indexes: one Ingress for ingress-nginx, one
// upstream for Traefik.
type group struct{ scope, name string }

// labels tell the series of one group apart. canary is non-empty for
// canary-routed requests; service is the Service the data plane names, when it
// names one per series; instance is the scrape instance (one data-plane pod),
// so that a restart of one pod is seen as a reset of its series.
type labels struct{ service, canary, instance string }
