package analysis

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// The ingress-nginx metrics the queries read.
const (
	requestsMetric = "nginx_ingress_controller_requests"
	latencyMetric  = "nginx_ingress_controller_request_duration_seconds_bucket"
)

// side says which half of the traffic a query selects.
type side int

const (
	canarySide side = iota
	stableSide
)

func (s side) String() string {
	if s == canarySide {
		return "canary"
	}
	return "stable"
}

// sideQueries is the PromQL for one side's figures in one window.
type sideQueries struct {
	Requests string
	Errors   string
	Latency  string
}

// buildQueries returns the PromQL for one side of t, with the latency taken at
// quantile.
//
// Each figure counts only the samples inside the window: the range selector is
// as long as the window (rounded up to whole seconds, because PromQL ranges
// are written in seconds here and a shorter range would cut off the start) and
// pinned to Until with the @ modifier, so the query means the same thing
// whenever it runs and can be pasted into the Prometheus UI as it was logged.
//
// The trade-off of increase() is that it estimates rather than counts:
//   - It takes the first and last sample inside the range and stretches their
//     difference to the range's edges, so a count comes out fractional and
//     too large, typically by window / (window - scrape interval) and at most
//     by window / (window - 2 scrape intervals): 4/3 for a 1m window scraped
//     every 15 s.
//   - The growth between the last sample before Since and the first inside
//     the window is only covered by that stretching, and a series that first
//     appears inside the window (the first 5xx of a canary, say) contributes
//     only what it grew after its first sample.
//   - Rounding the range up reaches less than a second before Since.
//
// Series scraped together are stretched alike, so error rates and quantiles
// are much better than the counts. The issue "analysis that decides well"
// will replace this with snapshot deltas: the counters read at Since and at
// Until and subtracted, with resets handled, which is exact.
func buildQueries(t Target, s side, quantile float64) (sideQueries, error) {
	if err := checkTarget(t); err != nil {
		return sideQueries{}, err
	}
	if !(quantile > 0 && quantile <= 1) {
		return sideQueries{}, fmt.Errorf("latency quantile %v is not in (0, 1]", quantile)
	}
	window := rangeAt(t.Since, t.Until)
	matchers := sideMatchers(t, s)
	requests := fmt.Sprintf("%s{%s}%s", requestsMetric, matchers, window)
	errs := fmt.Sprintf(`%s{%s,status=~"5.."}%s`, requestsMetric, matchers, window)
	buckets := fmt.Sprintf("%s{%s}%s", latencyMetric, matchers, window)
	return sideQueries{
		// sum() adds up the series of every ingress-nginx pod, status, method,
		// path and host; increase() copes with counter resets when nginx restarts.
		Requests: fmt.Sprintf("sum(increase(%s))", requests),
		Errors:   fmt.Sprintf("sum(increase(%s))", errs),
		Latency: fmt.Sprintf("histogram_quantile(%s, sum by (le) (increase(%s)))",
			strconv.FormatFloat(quantile, 'g', -1, 64), buckets),
	}, nil
}

// checkTarget rejects a target whose queries would silently match the wrong
// series: an empty label matcher also matches series without that label, and
// an empty or reversed window has nothing to count.
func checkTarget(t Target) error {
	switch {
	case t.Namespace == "":
		return errors.New("target has no namespace")
	case t.Ingress == "":
		return errors.New("target has no ingress")
	case t.Since.IsZero() || t.Until.IsZero():
		return errors.New("target window needs both Since and Until")
	case !t.Until.After(t.Since):
		return fmt.Errorf("target window is empty: until %s is not after since %s",
			t.Until.Format(time.RFC3339Nano), t.Since.Format(time.RFC3339Nano))
	}
	return nil
}

// sideMatchers returns the label matchers (without braces) that select one
// side of t's traffic.
func sideMatchers(t Target, s side) string {
	m := "namespace=" + quoteLabelValue(t.Namespace) + ",ingress=" + quoteLabelValue(t.Ingress)
	switch {
	case s == stableSide:
		return m + `,canary=""`
	case t.CanaryUpstream != "":
		return m + ",canary=" + quoteLabelValue(t.CanaryUpstream)
	default:
		return m + `,canary!=""`
	}
}

// rangeAt returns the range selector suffix for the window [since, until]:
// "[<seconds>s] @ <unix until>", with the length rounded up to whole seconds
// (at least one) and until kept to the millisecond, which is Prometheus's
// timestamp resolution.
func rangeAt(since, until time.Time) string {
	seconds := int64(math.Ceil(until.Sub(since).Seconds()))
	if seconds < 1 {
		seconds = 1
	}
	ms := until.UnixMilli()
	return fmt.Sprintf("[%ds] @ %d.%03d", seconds, ms/1000, ms%1000)
}

// quoteLabelValue returns v as a PromQL double-quoted string literal that
// matches exactly v.
//
// Label values come from Kubernetes objects that users write, so a value must
// never be able to end the string early and add matchers or operators of its
// own. strconv.Quote escapes the quote, the backslash and every control or
// non-printable character (a newline would otherwise end the query with a
// parse error), and writes invalid UTF-8 as \x escapes. PromQL's lexer reads
// the same Go escape syntax, and Prometheus prints matchers with the same
// function, so the literal reads back as exactly v.
func quoteLabelValue(v string) string {
	return strconv.Quote(v)
}
