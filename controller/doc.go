// Package controller watches Ingresses, Services and EndpointSlices, and for each
// opted-in primary Ingress reads the world, runs the pre-flight checks (package
// preflight), asks the analysis when a window is due, lets the weights state
// machine decide, and writes the result as patches and Events. All judgement
// lives in the pure packages.
package controller
