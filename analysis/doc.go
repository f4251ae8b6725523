// Package analysis asks Prometheus how a canary behaved during one step window
// and turns the figures into a verdict.
//
// It reads ingress-nginx's own metrics, so an application needs no
// instrumentation: nginx_ingress_controller_requests (a counter) and
// nginx_ingress_controller_request_duration_seconds_bucket (a histogram, in
// seconds). ingress-nginx labels a canary-routed request with the primary
// Ingress's namespace, name and service and with canary="<ns>-<svc>-<port>"; a
// stable request has canary="". So both sides of a rollout are told apart by
// the canary label alone, filtered on namespace and ingress.
//
// The three parts are:
//
//   - query.go builds the PromQL for one side of a Target: requests, 5xx
//     errors and the latency at a quantile, counted only inside the window
//     [Since, Until].
//   - Prometheus (prometheus.go) sends those queries through client_golang's
//     API client and turns the answers into a Measurement.
//   - Judge (judge.go) is pure: it compares a Measurement with Thresholds and
//     returns a Verdict (Pass, Fail, NoData). Prometheus.Analyze adds
//     Unavailable for the case where Prometheus could not be asked.
//
// NoData and Unavailable never pass: the caller holds the step.
package analysis
