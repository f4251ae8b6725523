// Stands in for Traefik's nested module github.com/traefik/traefik/dynamic/ext,
// which the module proxy's zip of Traefik leaves out; build.sh copies this
// directory to pkg/config/dynamic/ext, where Traefik's go.mod replace points.
module github.com/traefik/traefik/dynamic/ext

go 1.26.0
