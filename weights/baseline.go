package weights

import (
	"fmt"
	"time"

	"github.com/ingress-canary/ingress-canary/analysis"
	"github.com/ingress-canary/ingress-canary/annotations"
)

// NeedsBaseline says whether st is a running rollout without a dispersion
// estimate yet: the controller then reads stable's last hour from Prometheus
// (one range query) and hands it to WithBaseline, once per rollout.
func NeedsBaseline(st Status) bool {
	return (st.Phase == PhaseProgressing || st.Phase == PhasePaused) && st.Dispersion == nil
}

// minBaselineIntervals is how much history a forecast needs: ten scrape
// steps (five minutes at 30 s) say what the traffic is.
const minBaselineIntervals = 10

// WithBaseline seeds st's dispersion estimate from b, stable's traffic before
// the rollout, and returns the Event that says how long the rollout should
// take at that traffic. b is nil when Prometheus could not say (err says
// why): the estimate then starts empty (errors are taken as independent
// until stable's counts during the rollout show otherwise), and the status
// forecasts each step from its own traffic.
func WithBaseline(spec *annotations.Spec, st Status, b *analysis.Baseline, err error) (Status, Event) {
	d := analysis.DispersionEstimate{}
	if b != nil {
		d = b.Dispersion
	}
	st.Dispersion = &d
	switch {
	case err != nil:
		return st, Event{Warning: true, Reason: "NoForecast", Message: "no traffic history from Prometheus, so no forecast yet (each step's status will have one): " + err.Error()}
	case b == nil || b.Dispersion.Intervals < minBaselineIntervals:
		return st, Event{Reason: "NoForecast", Message: fmt.Sprintf("the stable Service had too little traffic in the last %s for a forecast; each step's status will have one", spanOf(b))}
	}
	return st, Event{Reason: "Forecast", Message: RolloutForecast(spec, d, b.RPS, b.ErrorRate) +
		fmt.Sprintf(" (stable's traffic over the last %s, errors %s× as clustered as independent ones)", spanOf(b), short(d.MixtureDispersion()))}
}

func spanOf(b *analysis.Baseline) time.Duration {
	if b == nil || b.Span == 0 {
		return time.Hour
	}
	return b.Span
}
