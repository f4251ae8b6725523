# syntax=docker/dockerfile:1
#
# The ingress-canary controller image: a static Go binary on distroless, running
# as the unprivileged "nonroot" user (65532), as deploy/deployment.yaml expects.
#
# Without a Docker engine, e2e/image builds the same image (same user,
# entrypoint, ports and labels; its test parses this file) from the static binary:
#   make image    # an OCI layout and a `docker save` tarball under ~/.cache/ingress-canary/image
#
# Build and push from the repository root with any OCI builder, for example:
#   docker build -t ghcr.io/ingress-canary/ingress-canary:v0.1.0 .
#   docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/ingress-canary:TAG --push .
#   buildah bud -t REGISTRY/ingress-canary:TAG .
#   kaniko: /kaniko/executor --context . --dockerfile Dockerfile --destination REGISTRY/ingress-canary:TAG
# then point the Deployment at it:
#   cd deploy && kustomize edit set image ghcr.io/ingress-canary/ingress-canary=REGISTRY/ingress-canary:TAG

# go.mod asks for Go 1.26.8; an older 1.26 image fetches that toolchain itself.
ARG GO_VERSION=1.26
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# Cross-compile for the target platform on the build machine's own architecture.
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/ingress-canary ./cmd/ingress-canary

# static: no libc, no shell, no package manager; CA certificates and tzdata only.
FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/ingress-canary /ingress-canary
LABEL org.opencontainers.image.title="ingress-canary" \
      org.opencontainers.image.description="Canary releases on ingress-nginx, stepped by Prometheus analysis" \
      org.opencontainers.image.source="https://github.com/ingress-canary/ingress-canary"
# --metrics-bind-address and --health-probe-bind-address in deploy/deployment.yaml
EXPOSE 8080/tcp 8081/tcp
USER 65532:65532
ENTRYPOINT ["/ingress-canary"]
