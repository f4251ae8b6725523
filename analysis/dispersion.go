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

// Dispersion returns the estimate, at least 1 (independent events): with
// fewer than two intervals or no event there is nothing to estimate from,
// and underdispersion is noise, not a licence to read counts as more than
// they are.
func (d DispersionEstimate) Dispersion() float64 {
	if d.Intervals < 2 || !(d.Events > 0) {
		return 1
	}
	rate := d.Events / d.Requests
	pearson := d.SquaresPerRequest/rate - d.Events
	return math.Max(1, pearson/(d.Intervals-1))
}
