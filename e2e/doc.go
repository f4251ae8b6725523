// Package e2e holds the end-to-end suites: the controller under test runs as a
// real process against the real kube-apiserver, ingress-nginx, nginx and
// Prometheus started by package e2e/cluster, and every assertion is made on what
// the real parts did (traffic through nginx, objects in the apiserver, Events).
package e2e
