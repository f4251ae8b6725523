// Package fakenginx is a fake ingress-nginx /metrics endpoint for the
// benchmarks (bench/queries, bench/scale): nginx_ingress_controller_requests
// and nginx_ingress_controller_request_duration_seconds with ingress-nginx's
// labels and default buckets, for a fleet of Ingresses. Every Ingress has a
// stable side (canary=""); SetCanary gives it a canary side that takes a
// weight's share of its requests, and the weight can change while Prometheus
// scrapes, as when the controller steps a rollout.
//
// Counters are integrated over time: a series' count is what it had counted
// when its rate last changed plus rate × the time since. So they only grow,
// however often a weight changes, and a scrape needs no state but the clock.
//
// The package has no test of its own against Prometheus; bench/queries'
// TestRunTiny scrapes it with the real one.
package fakenginx
