# Sourced by the setup scripts: the pinned versions of every real part and the
# cache layout. The Go harness (e2e/cluster) computes the same paths; keep both
# in step (see e2e/cluster/paths.go).
K8S_VERSION=v1.36.3
K8S_STAGING_VERSION=v0.36.3
ETCD_VERSION=v3.5.35
INGRESS_NGINX_VERSION=v0.0.0-20240708192948-52c50467d67d

# The cache lives outside the checkout: CI starts from a fresh clone, and the
# k8s build alone takes ~8 minutes cold on 2 cores.
IC_CACHE=${INGRESS_CANARY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ingress-canary}
IC_BIN=$IC_CACHE/bin
# Traefik (provider kubernetesIngressNGINX reads the nginx canary annotations)
# and the Gateway API CRDs it was built against (its go.mod's version).
TRAEFIK_VERSION=v3.7.13
GATEWAY_API_VERSION=v1.6.1
# Upstream release that stands in for Traefik's unavailable go-http-auth fork.
GO_HTTP_AUTH_VERSION=v0.4.0
