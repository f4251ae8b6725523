// Package prom measures step windows from Prometheus: the I/O half of the
// analysis. It reads ingress-nginx's own metrics, so an application needs no
// instrumentation: nginx_ingress_controller_requests (a counter) and
// nginx_ingress_controller_request_duration_seconds_bucket (a histogram, in
// seconds). ingress-nginx labels a canary-routed request with the primary
// Ingress's namespace, name and service and with canary="<ns>-<svc>-<port>"; a
// stable request has canary="". The stable side of a window is the primary's
// requests to the replaced Service that did not go to the canary, so another
// path of the same Ingress never enters it.
//
// Analyzer (analyzer.go) measures every rollout from shared snapshots
// (snapshot.go). A snapshot is three instant queries, sum by (namespace,
// ingress, service, canary, instance) of the request counter, of its 5xx part and of the
// latency buckets (by le too), whatever the number of Ingresses; past
// bucketGroupsPerQuery followed groups the buckets are asked in parts. It
// is refreshed when older than fresh (about half the analysis tick), so one tick
// costs three queries (one more per further part). With ServeStale, the refresh runs in the background and
// the previous snapshot answers meanwhile (up to fresh+grace old), so that a
// step that comes due is not taken late by the one to two seconds three queries
// over 10,000 Ingresses take. With FollowOnly (the controller's setting) the
// queries ask only for the Ingresses whose windows are open: their names enter
// PromQL as one regular expression of quoted literals (anyOf), so no label
// value can change what else is asked or break a query. Each series is then
// picked out of the answer by comparing label values in Go.
//
// A window's figures (delta.go) are the growth of its Ingress's counters from the
// snapshot the window starts from to the latest snapshot, series by series. A
// series is one ingress-nginx scrape instance, so the pods of ingress-nginx are
// summed, and one whose counters went down was reset (the pod restarted): all
// it counted since is new. A series missing from the start began inside the
// window and grew from zero. The latency quantile is interpolated from the
// buckets' growth as histogram_quantile does. Nothing is extrapolated: counts
// are whole requests.
//
// Exactness, and where it ends:
//
//   - No request counted in the window's start snapshot counts: a burst served
//     before the step does not leak in.
//   - The start snapshot is the kept one nearest the step's start (Since) within
//     fresh+grace; normally the one the previous step's passing analysis used
//     just before the new weight was written, which ServeStale may have served
//     up to fresh+grace old. So up to fresh+grace of the step's first seconds
//     may be left out (a snapshot after Since) or, when the nearest snapshot is
//     before the weight write, seconds before it included. Those seconds are
//     mostly at the old weight anyway: ingress-nginx applies a weight 1–3.3 s
//     after it is written.
//   - An instant query reads each series' latest scrape at or before its time,
//     so a snapshot's data is up to one scrape interval older than its time: at
//     the start this may include requests served just before the snapshot, at
//     the end the latest requests wait for the next tick.
//   - A reset is seen only if the restarted pod has not yet counted past its
//     old total, and a pod that goes away during the window (its series go
//     stale) takes its growth with it: both undercount. Pods must be scraped one
//     by one (each its own instance), not through a load-balancing Service.
//
// A followed window's start is kept as refreshes land (captureStarts), so a
// first look that comes late still starts there. After a controller restart
// no snapshot is near a window's start, so the start is read at Since (the @
// time of instant queries), once per window; rollouts whose steps began within
// fresh of each other share the read, which keeps only their groups. Prometheus
// must still hold data at Since: where it holds none, every series counts from
// zero.
//
// No query runs while Analyzer holds its lock: analyses that wait for a refresh
// or a start read wait for it alone, and every other analysis goes on.
package prom
