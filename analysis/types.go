package analysis

import (
	"time"

	"github.com/ingress-canary/ingress-canary/annotations"
)

// Target identifies one rollout's traffic in ingress-nginx's metrics. ingress-nginx
// labels canary-routed requests with the primary Ingress's name and a non-empty
// `canary` label (the canary upstream), and stable requests with canary="".
type Target struct {
	Namespace string
	// Ingress is the primary Ingress's name.
	Ingress string
	// CanaryUpstream is ingress-nginx's upstream name for the canary backend,
	// "<namespace>-<service>-<port>". Empty means any non-empty canary label.
	CanaryUpstream string
	// StableService is the Service the canary replaces. Only the primary's
	// requests to it count as stable (ingress-nginx's `service` label); empty
	// means every non-canary request of the Ingress.
	StableService string
	// StablePort is the replaced backend's port as the Ingress writes it (a
	// name or a number): Traefik names an upstream by it.
	StablePort string
	// Since is when the current step's weight took effect; only requests after it count.
	Since time.Time
	// Until is the end of the window, normally now.
	Until time.Time
}

// Thresholds are the limits a canary window is judged against.
type Thresholds struct {
	// MaxErrorRate is the highest acceptable ratio of 5xx responses (0.01 = 1 %).
	MaxErrorRate float64
	// MaxLatency is the highest acceptable latency at LatencyQuantile; 0 means not gated.
	MaxLatency time.Duration
	// LatencyQuantile is the quantile MaxLatency applies to, e.g. 0.99.
	LatencyQuantile float64
	// MinRequests is how many canary requests a window needs before it can be judged.
	MinRequests int
	// Confidence is the one-sided confidence level Judge needs before it fails
	// a canary on its error rate, e.g. 0.99; 0 means DefaultConfidence.
	Confidence float64
}

// Quantile is th's latency quantile, or the latency-quantile annotation's
// default when it is unset.
func (th Thresholds) Quantile() float64 {
	if th.LatencyQuantile == 0 {
		return annotations.DefaultSpec().Analysis.LatencyQuantile
	}
	return th.LatencyQuantile
}

// Side holds one side's figures (canary or stable) for a window.
type Side struct {
	Requests float64 `json:"requests"`
	Errors   float64 `json:"errors"`
	// ErrorRate is Errors/Requests, 0 when there were no requests.
	ErrorRate float64 `json:"errorRate"`
	// LatencySeconds is the latency at the requested quantile; negative when unknown.
	LatencySeconds float64 `json:"latencySeconds"`
	// Timed is how many requests the latency histogram counted, and Slow how
	// many of them took longer than Measurement.SlowAbove. Slow is a count,
	// so it can be judged like errors; Timed, not Requests, is its total,
	// because the histogram and the request counter are read by separate
	// queries and may differ by a request or two.
	Timed float64 `json:"timed,omitempty"`
	Slow  float64 `json:"slow,omitempty"`
}

// Measurement is what Prometheus reported for both sides of one window.
type Measurement struct {
	Canary Side `json:"canary"`
	Stable Side `json:"stable"`
	// SlowAbove is the histogram bucket bound, in seconds, that the Slow
	// counts are above: the largest bound at or below Thresholds.MaxLatency.
	// 0 when latency is not gated or no bucket bound is that low.
	SlowAbove float64 `json:"slowAbove,omitempty"`
}

// Outcome is the kind of a verdict.
type Outcome string

const (
	// Pass means the window had enough data and every limit held.
	Pass Outcome = "Pass"
	// Fail means a limit was broken; Reason names which and the figure.
	Fail Outcome = "Fail"
	// NoData means too few canary requests to judge; the step holds.
	NoData Outcome = "NoData"
	// Unavailable means Prometheus could not be asked (error or timeout); the step holds.
	Unavailable Outcome = "Unavailable"
	// Mismatch means nginx did not split traffic as asked (for example another
	// canary Ingress on the same host/path made ingress-nginx ignore ours); the
	// step holds. VerifySplit sets it.
	Mismatch Outcome = "SplitMismatch"
)

// Verdict is the judgement of one window, with the figures it rests on.
type Verdict struct {
	Outcome     Outcome
	Reason      string
	Measurement Measurement
}

// Baseline is the stable side's traffic before a rollout: per interval of
// Step over Span, for the dispersion of its errors and the forecast.
type Baseline struct {
	Dispersion DispersionEstimate
	// RPS is the mean request rate and ErrorRate the share of errors.
	RPS, ErrorRate float64
	Span, Step     time.Duration
}
