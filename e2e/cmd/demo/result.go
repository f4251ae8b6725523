package main

import (
	"context"
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/e2e/testapp"
	"github.com/ingress-canary/ingress-canary/e2e/traffic"
	"github.com/ingress-canary/ingress-canary/weights"
)

// result is what one rollout did, for the summary.
type result struct {
	rollout
	ran            bool  // false: skipped, because the rollout before it went wrong
	err            error // it did not end in time, or could not start
	final          weights.Status
	started, ended time.Time
	stepWeights    []string                       // the weight of each step entered, in order
	reasons        map[string]int                 // Events seen, by reason
	verdicts       map[time.Time]analysis.Outcome // each analysis seen in the status, by its time
	lastEvent      map[string]string              // the last Event of each reason
	during         tally                          // from the annotation until nginx applied the end
	after          tally                          // a short window after that
	answers        *answers                       // when each version last answered a plain request
	pluginShown    bool                           // `kubectl canary status` was shown
}

// asExpected reports whether the rollout ran and ended in the expected phase.
func (r result) asExpected() bool {
	return r.ran && r.err == nil && r.final.Phase == r.expect
}

// note records what a status shows: each analysis' verdict and the weight
// of each step entered.
func (r *result) note(st weights.Status) {
	if a := st.LastAnalysis; a != nil && a.At.After(r.started) {
		r.verdicts[a.At] = a.Outcome
	}
	if st.Phase != weights.PhaseProgressing && st.Phase != weights.PhasePaused {
		return // Promoting carries 100 %, which is not a step
	}
	for len(r.stepWeights) < st.Step {
		r.stepWeights = append(r.stepWeights, st.Weight.String())
	}
}

// tally is the traffic the demo's clients saw and what the backends
// themselves counted.
type tally struct {
	plain, testers traffic.Counts
	// backends holds, per testapp version, the requests it answered and the
	// 500s it injected: the ground truth behind nginx, plain and testers alike.
	backends map[string]testapp.VersionInfo
}

// tally reads the counters now. A failed read of the backends' counters
// leaves them out; the summary then says nothing about them.
func (d *demo) tally(ctx context.Context) tally {
	t := tally{plain: d.plain.snapshot(), testers: d.testers.snapshot()}
	if infos, err := d.c.Versions(ctx); err == nil {
		t.backends = map[string]testapp.VersionInfo{}
		for _, v := range infos {
			t.backends[v.Name] = v
		}
	}
	return t
}

// sub returns what happened between earlier and t.
func (t tally) sub(earlier tally) tally {
	d := tally{plain: t.plain.Sub(earlier.plain), testers: t.testers.Sub(earlier.testers)}
	if t.backends != nil && earlier.backends != nil {
		d.backends = map[string]testapp.VersionInfo{}
		for name, v := range t.backends {
			e := earlier.backends[name]
			v.Requests -= e.Requests
			v.Errors -= e.Errors
			d.backends[name] = v
		}
	}
	return d
}
