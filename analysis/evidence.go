package analysis

import "math"

// This file holds the anytime-valid evidence about a canary: e-processes, in
// the sense of Lindon & Malek ("Anytime-Valid Inference for Multinomial Count
// Data", NeurIPS 2022). Each is a nonnegative supermartingale under its null
// hypothesis, so by Ville's inequality it ever reaches 1/α with probability at
// most α, however often it is read. That is what lets the controller look at
// every tick and let a step last as long as the traffic needs.
//
// The comparison with stable conditions on the events (errors, or requests
// slower than max-latency): given that one happened, the side it came from is
// a Bernoulli draw whose probability of "canary" is
//
//	θ(ρ, w) = wρ / (wρ + 1 - w),
//
// w being the canary's share of the requests and ρ the ratio of the canary's
// event rate to stable's. The total traffic and stable's own rate cancel, so
// a diurnal swing or a bad hour on both sides changes nothing. Within one
// segment (one step: one weight) w is fixed, and a Beta mixture over θ,
// truncated to the alternative's side of the null's boundary, has a closed
// form. Segments multiply: the product of supermartingales, each started
// where the last stopped, is one.

// Counts are the requests and the events (errors, or slow requests) of both
// sides over one segment.
type Counts struct {
	CanaryRequests float64 `json:"canaryRequests"`
	CanaryEvents   float64 `json:"canaryEvents"`
	StableRequests float64 `json:"stableRequests"`
	StableEvents   float64 `json:"stableEvents"`
}

// Plus returns the sum of c and d.
func (c Counts) Plus(d Counts) Counts {
	return Counts{
		CanaryRequests: c.CanaryRequests + d.CanaryRequests,
		CanaryEvents:   c.CanaryEvents + d.CanaryEvents,
		StableRequests: c.StableRequests + d.StableRequests,
		StableEvents:   c.StableEvents + d.StableEvents,
	}
}

// canaryShare is the observed share of the requests that went to the canary.
// The issue asks for the observed share, not the configured weight: header
// and cookie testers, nginx's apply delay and rounding all move it.
func (c Counts) canaryShare() float64 {
	return c.CanaryRequests / (c.CanaryRequests + c.StableRequests)
}

// informative says whether the segment can say anything about the ratio:
// both sides had requests, so the share is strictly between 0 and 1.
func (c Counts) informative() bool {
	return c.CanaryRequests > 0 && c.StableRequests > 0
}

// Evidence is what a rollout has seen of one kind of event, for its whole
// life: the closed segments (one per finished step) and the open one. It is a
// few numbers per step, so the controller can keep it in the status; every
// e-value and bound below is a pure function of it.
type Evidence struct {
	Closed []Counts `json:"closed,omitempty"`
	Open   Counts   `json:"open"`
}

// Add adds the counts of a slice of time to the open segment. Counts that
// are not counts (negative, NaN, infinite, or more events than requests on a
// side) are dropped whole: one of them would poison the evidence for the
// rest of the rollout, and a slice missed costs only its share of the time.
func (e *Evidence) Add(c Counts) {
	if !c.valid() {
		return
	}
	e.Open = e.Open.Plus(c)
}

func (c Counts) valid() bool {
	for _, v := range []float64{c.CanaryRequests, c.CanaryEvents, c.StableRequests, c.StableEvents} {
		if !(v >= 0) || math.IsInf(v, 1) {
			return false
		}
	}
	return c.CanaryEvents <= c.CanaryRequests && c.StableEvents <= c.StableRequests
}

// CloseSegment ends the open segment, when the weight changes. Segments keep
// the share fixed within each, which the closed form needs.
func (e *Evidence) CloseSegment() {
	if e.Open != (Counts{}) {
		e.Closed = append(e.Closed, e.Open)
	}
	e.Open = Counts{}
}

// Total returns the counts over every segment.
func (e Evidence) Total() Counts {
	t := e.Open
	for _, c := range e.Closed {
		t = t.Plus(c)
	}
	return t
}

// segments returns the closed segments and the open one.
func (e Evidence) segments() []Counts {
	return append(append(make([]Counts, 0, len(e.Closed)+1), e.Closed...), e.Open)
}

// Mixture sets the Beta mixing distribution of the comparison e-processes and
// how much the counts are trusted.
type Mixture struct {
	// Concentration is a+b of the Beta prior over θ, centred on the null's
	// boundary: larger puts the weight on ratios near the boundary (faster on
	// small regressions, slower on large ones). 0 means DefaultConcentration.
	Concentration float64
	// Dispersion is how many events one independent incident makes on average
	// (variance over mean of the event counts; 1 for independent events).
	// The counts are divided by it: bursts of k errors from one retrying
	// client are one draw of the side, not k. Below 1 means 1.
	Dispersion float64
}

// DefaultConcentration was chosen with ForecastRollout at 5 and 200 rps,
// trying 3 to 80: 10 and 20 decide healthy, 2× and 5× canaries fastest
// (within 5 % of each other), 3 and 80 up to 40 % slower. At 10 the prior's
// spread is about the distance from θ(1, w) to θ(2, w) at a default
// rollout's shares, and 2× is the smallest regression the targets ask for.
const DefaultConcentration = 10

func (m Mixture) concentration() float64 {
	if !(m.Concentration > 0) {
		return DefaultConcentration
	}
	return m.Concentration
}

func (m Mixture) dispersion() float64 {
	if !(m.Dispersion >= 1) {
		return 1
	}
	return m.Dispersion
}

// LogWorseThan returns the log e-value against "the canary's event rate is at
// most ratio times stable's": it reaches ln(1/α) with probability at most α,
// ever, when that null holds. Failing on it is a test of level α, however
// often it is read.
func (e Evidence) LogWorseThan(ratio float64, m Mixture) float64 {
	return e.logRatioEvidence(ratio, m, true)
}

// LogBetterThan returns the log e-value against "the canary's event rate is
// at least ratio times stable's", the evidence a step needs to pass.
func (e Evidence) LogBetterThan(ratio float64, m Mixture) float64 {
	return e.logRatioEvidence(ratio, m, false)
}

func (e Evidence) logRatioEvidence(ratio float64, m Mixture, above bool) float64 {
	if !(ratio > 0) || math.IsInf(ratio, 1) {
		return math.NaN()
	}
	var sum float64
	phi, kappa := m.dispersion(), m.concentration()
	for _, c := range e.segments() {
		if !c.informative() {
			continue
		}
		w := c.canaryShare()
		boundary := w * ratio / (w*ratio + 1 - w)
		sum += logTruncatedBetaMixture(c.CanaryEvents/phi, c.StableEvents/phi, boundary, kappa, above)
	}
	return sum
}

// LogRateAbove returns the log e-value against "the canary's event rate is at
// most limit" (max-error-rate, or the share of requests allowed above
// max-latency): the absolute ceiling. It pools every segment, since the
// share plays no part in the canary's own rate.
func (e Evidence) LogRateAbove(limit float64, m Mixture) float64 {
	return e.logRateEvidence(limit, m, true)
}

// LogRateBelow returns the log e-value against "the canary's event rate is at
// least limit".
func (e Evidence) LogRateBelow(limit float64, m Mixture) float64 {
	return e.logRateEvidence(limit, m, false)
}

func (e Evidence) logRateEvidence(limit float64, m Mixture, above bool) float64 {
	if !(limit > 0 && limit < 1) {
		return math.NaN()
	}
	t := e.Total()
	if !(t.CanaryRequests > 0) {
		return 0
	}
	phi := m.dispersion()
	events := math.Min(math.Max(t.CanaryEvents, 0), t.CanaryRequests)
	// A prior with a = 1 and its mean at the limit has a spread about the
	// size of the limit itself: the regressions worth failing on are of that
	// order, whatever the limit is.
	kappa := 1 / limit
	return logTruncatedBetaMixture(events/phi, (t.CanaryRequests-events)/phi, limit, kappa, above)
}

// logTruncatedBetaMixture returns ln E for x successes and y failures of a
// Bernoulli with probability θ, where
//
//	E = ∫_S θ^x (1-θ)^y π(θ) dθ / (π(S) · b^x (1-b)^y),
//
// π is Beta(κb, κ(1-b)) and S is [b, 1] (above) or [0, b]. Each θ in S gives
// a likelihood ratio against b that is a supermartingale whenever the true
// probability is on the other side of b (its expected factor per draw is
// linear in the true θ, equal to 1 at b); so is their mixture. The integral is
// a Beta function times a Beta tail:
//
//	E = B(a+x, b'+y) / B(a, b') · P_post(S) / P_prior(S) / (b^x (1-b)^y).
func logTruncatedBetaMixture(x, y, b, kappa float64, above bool) float64 {
	if x == 0 && y == 0 {
		return 0
	}
	if !(b > 0 && b < 1) || x < 0 || y < 0 {
		return math.NaN()
	}
	pa, pb := kappa*b, kappa*(1-b)
	logLikelihoodAtBoundary := x*math.Log(b) + y*math.Log1p(-b)
	return logBeta(pa+x, pb+y) - logBeta(pa, pb) +
		logMass(pa+x, pb+y, b, above) - logMass(pa, pb, b, above) -
		logLikelihoodAtBoundary
}

// logMass is the log probability of Beta(a, b) above or below x.
func logMass(a, b, x float64, above bool) float64 {
	if above {
		return logRegIncBeta(b, a, 1-x) // 1 - I_x(a, b), without the cancellation
	}
	return logRegIncBeta(a, b, x)
}

// logRegIncBeta returns ln I_x(a, b), accurate where I_x underflows: a
// segment with thousands of events all on one side puts a posterior mass of
// 1e-600 on the far side, and the e-value still depends on it through a
// likelihood just as small. In the region where the continued fraction
// gives I_x directly the logarithm is taken term by term; elsewhere I_x is
// near 1 and log1p keeps its precision.
func logRegIncBeta(a, b, x float64) float64 {
	switch {
	case x <= 0:
		return math.Inf(-1)
	case x >= 1:
		return 0
	}
	logFront := -logBeta(a, b) + a*math.Log(x) + b*math.Log1p(-x)
	if x < (a+1)/(a+b+2) {
		return logFront + math.Log(betaContinuedFraction(a, b, x)/a)
	}
	return math.Log1p(-math.Exp(logFront) * betaContinuedFraction(b, a, 1-x) / b)
}
