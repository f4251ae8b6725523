// Package annotations parses the ingress-canary.dev/* annotations a user writes on
// a primary Ingress into a typed, validated Spec, and renders the ingress-nginx
// canary annotations for the companion canary Ingress. It does no I/O.
package annotations
