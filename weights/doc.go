// Package weights is the rollout state machine. Decide maps what the controller
// read (spec, status, commands, analysis verdict, readiness, the time) to the next
// status, the traffic to converge to, and the Events to record. It does no I/O and
// never reads the clock, so every transition is a table test.
package weights
