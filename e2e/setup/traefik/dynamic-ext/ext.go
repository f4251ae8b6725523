// Package ext is the project's stand-in for Traefik's dynamic/ext module:
// Traefik embeds these two types in its dynamic configuration as extension
// points, and the open-source build leaves them empty.
package ext

// HTTP extends Traefik's HTTP dynamic configuration; empty in this build.
type HTTP struct{}

// Router extends Traefik's HTTP router configuration; empty in this build.
type Router struct{}
