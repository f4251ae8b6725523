// Package traffic is a bounded, paced HTTP traffic generator for the end-to-end
// tests and the demo. It sends requests through ingress-nginx at a steady rate
// and counts what answered: by version (the backend's X-Version header), by
// status, and transport errors.
//
// Every run is bounded in both count and time (Config.MaxRequests and
// Config.MaxDuration are mandatory), because an unbounded request loop in a
// test or demo is a bug waiting for a stuck backend. Requests that cannot be
// sent on time, because every worker is busy, are not queued: the rate simply
// drops, so a slow backend is never hit by a burst of backlog afterwards.
package traffic
