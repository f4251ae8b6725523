// Package preflight holds the checks that run before anything is written: is
// the Ingress of our class, which Service does it replace, does the canary
// Service have the port, does another Ingress or rollout stand in the way. The
// controller runs them on its informers' caches at every sync, and the kubectl
// plugin's lint runs the same ones on a snapshot, so both give one verdict
// without the plugin depending on the controller.
package preflight
