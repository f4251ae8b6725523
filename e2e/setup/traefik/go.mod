// A fence, not a build module: the stub sources below compile only after
// build.sh copies them into the writable module copies under the cache, so
// they must stay out of the project's own module (`go vet ./...` at the root).
module github.com/ingress-canary/ingress-canary/e2e/setup/traefik

go 1.26.0
