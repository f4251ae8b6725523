// Package httproute is the pure half of a rollout on a Gateway API HTTPRoute:
// which rules are canaried, what the controller adds to them at each step
// (a canary backendRef and the two weights, and one testers' rule per
// canaried rule), how it takes exactly that away again, and the lint of a
// route before any of it is written. No I/O: the controller reads the route
// and its world, calls these functions, and writes the result.
//
// The contract is in docs/design.md ("Gateway API: an annotated HTTPRoute").
package httproute
