package analysis

import "math"

// DispersionEstimate estimates Mixture.Dispersion from one side's counts per
// interval (stable's errors and requests per scrape interval). Errors come
// in incidents (a retrying client, a restarting pod); treating each error of
// an incident as an independent draw overstates the evidence by the
// incident's size, and the variance of the counts says how much.
//
// It is Pearson's dispersion statistic, Σ (x_i - r n_i)² / (r n_i) / (k-1)
// with r the pooled rate: expected counts follow each interval's requests,
// so a diurnal swing or a change of weight is not read as overdispersion.
// Four numbers, so the status can keep it.
type DispersionEstimate struct {
	Intervals float64 `json:"intervals"`
	Events    float64 `json:"events"`
	Requests  float64 `json:"requests"`
	// SquaresPerRequest is Σ x_i² / n_i.
	SquaresPerRequest float64 `json:"squaresPerRequest"`
}

// Add adds one interval's events among requests; an interval without
// requests says nothing.
func (d *DispersionEstimate) Add(events, requests float64) {
	if !(requests > 0) || !(events >= 0) {
		return
	}
	d.Intervals++
	d.Events += events
	d.Requests += requests
	d.SquaresPerRequest += events * events / requests
}

// Dispersion returns the point estimate, at least 1 (independent events):
// with fewer than two intervals or no event there is nothing to estimate
// from, and underdispersion is noise, not a licence to read counts as more
// than they are.
func (d DispersionEstimate) Dispersion() float64 {
	pearson, df, ok := d.pearson()
	if !ok {
		return 1
	}
	return math.Max(1, pearson/df)
}

// UpperBound returns a one-sided upper confidence bound at level 1-alpha of
// the dispersion, at least 1, and +Inf before there is anything to estimate
// from. Pearson's statistic is about dispersion × χ² with k-1 degrees of
// freedom; the χ² quantile is Wilson and Hilferty's cube-root approximation,
// within a few percent from two degrees of freedom on. The bound, not the
// point estimate, is what the evidence should be divided by: early in a
// rollout a few intervals without an incident would otherwise read a
// bursty service as a quiet one, and every burst after that as strong
// evidence.
func (d DispersionEstimate) UpperBound(alpha float64) float64 {
	pearson, df, ok := d.pearson()
	if !ok {
		return math.Inf(1)
	}
	z := math.Sqrt2 * math.Erfinv(1-2*alpha)
	h := 2 / (9 * df)
	lower := df * math.Pow(math.Max(1-h-z*math.Sqrt(h), 0), 3)
	return math.Max(1, pearson/lower)
}

// DispersionAlpha sets the upper confidence bound of the dispersion that the
// evidence is divided by (MixtureDispersion).
const DispersionAlpha = 0.1

// MixtureDispersion is what Mixture.Dispersion should be: the upper bound at
// DispersionAlpha, or 1 (independent events) while there is nothing to
// estimate from. A spotless stable side has no errors to estimate from; an
// infinite dispersion would divide every count to nothing, and a canary
// failing on every third request would never show it.
func (d DispersionEstimate) MixtureDispersion() float64 {
	ub := d.UpperBound(DispersionAlpha)
	if math.IsInf(ub, 1) {
		return 1
	}
	return ub
}

// pearson returns Pearson's statistic and its degrees of freedom.
func (d DispersionEstimate) pearson() (stat, df float64, ok bool) {
	if d.Intervals < 2 || !(d.Events > 0) {
		return 0, 0, false
	}
	rate := d.Events / d.Requests
	return d.SquaresPerRequest/rate - d.Events, d.Intervals - 1, true
}
