#!/usr/bin/env bash
# Idempotent setup of every real part the e2e harness (e2e/cluster) runs:
#   packages  Debian packages: nginx + Lua modules, Prometheus, tools; for the
#             node: containerd, runc, containernetworking-plugins
#   build     kube-apiserver, kube-controller-manager, kubectl, kubelet,
#             kube-scheduler, etcd, ingress-nginx (go build from the nested
#             modules in e2e/setup/, only when missing); the node's pause image
#   traefik   Traefik, from a patched copy of its module (traefik/build.sh),
#             only when missing; and the Gateway API module (its CRDs)
#   nginx     the /etc/nginx payload: ingress-nginx's rootfs, patched template,
#             the project's Lua shims (e2e/nginx/lua)
#   manifest  $IC_CACHE/manifest.env: the binary and payload paths the harness uses
#
#   setup.sh [packages|build|traefik|nginx|manifest]...   (default: all, in that order)
#
# Cold (empty Go caches) it takes ~20 minutes on 2 cores; warm, seconds.
# Env overrides: KUBE_APISERVER_BIN, KUBE_CONTROLLER_MANAGER_BIN, ETCD_BIN,
# INGRESS_NGINX_BIN, KUBECTL_BIN, KUBELET_BIN, KUBE_SCHEDULER_BIN, TRAEFIK_BIN (use that
# binary, build nothing), INGRESS_CANARY_CACHE.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/versions.sh"
export GOWORK=off GOFLAGS="-mod=mod -buildvcs=false"

now() { date +%s.%N; }
timed() { # timed NAME CMD...: runs CMD, prints one timing line
  local t0 rc=0
  t0=$(now)
  # In the background, so that set -e holds inside the step: bash ignores it
  # in any command whose status is tested (as by ||).
  "${@:2}" &
  wait $! || rc=$?
  awk -v a="$(now)" -v b="$t0" -v n="$1" -v rc="$rc" \
    'BEGIN{printf "setup: %-24s %7.1fs%s\n", n, a-b, (rc ? "  FAILED rc=" rc : "")}' >&2
  return "$rc"
}

# ------------------------------------------------------------------ packages
PACKAGES=(nginx libnginx-mod-http-lua libnginx-mod-http-ndk libnginx-mod-http-headers-more-filter
  libnginx-mod-stream lua-nginx-cookie lua-nginx-dns lua-cjson lua-resty-core lua-resty-lrucache
  prometheus iproute2 util-linux curl openssl ca-certificates
  containerd runc containernetworking-plugins)

packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { echo "setup: need root to install: ${missing[*]}" >&2; return 1; }
    echo "setup: installing ${missing[*]}" >&2
    # A policy-rc.d that denies service starts keeps postinst from starting the
    # Debian nginx/prometheus services on the host; remove it only if we made it.
    local policy=/usr/sbin/policy-rc.d made_policy=
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ -z "$made_policy" ] || rm -f "$policy"
  fi
  stop_host_services
}

# The harness runs its own nginx and Prometheus inside its namespaces; the
# packaged services must not run on the host.
stop_host_services() {
  local s
  for s in nginx prometheus prometheus-node-exporter containerd; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$s" 2>/dev/null; then
      systemctl stop "$s" || true
      systemctl disable "$s" >/dev/null 2>&1 || true
    fi
    if command -v service >/dev/null && service "$s" status >/dev/null 2>&1; then
      service "$s" stop >/dev/null 2>&1 || true
    fi
  done
}

# ------------------------------------------------------------------ build
# ensure_module DIR TOOL: regenerate the nested module when its go.mod does not
# name TOOL at the pinned version (e.g. after a version bump).
ensure_module() {
  local dir=$HERE/$1 want=$2
  if ! grep -qF "$want" "$dir/go.mod" 2>/dev/null || [ ! -s "$dir/go.sum" ]; then
    "$HERE/gen-modules.sh" "$1"
  fi
}

# gobuild OUT DIR PKG [go build flags...]: build PKG in module DIR into OUT, once.
gobuild() {
  local out=$1 dir=$2 pkg=$3
  shift 3
  [ -x "$out" ] && return 0
  mkdir -p "$(dirname "$out")"
  (cd "$HERE/$dir" && go build -trimpath "$@" -o "$out.tmp.$$" "$pkg")
  mv "$out.tmp.$$" "$out"
}

build_k8s() {
  ensure_module k8s "k8s.io/kubernetes $K8S_VERSION"
  local v=k8s.io/component-base/version minor
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  local ld="-s -w -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
  # CGO off like upstream's release builds: static, and no C toolchain needed.
  [ -n "${KUBE_APISERVER_BIN:-}" ] ||
    CGO_ENABLED=0 gobuild "$IC_BIN/kube-apiserver-$K8S_VERSION" k8s k8s.io/kubernetes/cmd/kube-apiserver -ldflags "$ld"
  [ -n "${KUBE_CONTROLLER_MANAGER_BIN:-}" ] ||
    CGO_ENABLED=0 gobuild "$IC_BIN/kube-controller-manager-$K8S_VERSION" k8s k8s.io/kubernetes/cmd/kube-controller-manager -ldflags "$ld"
  # kubectl, for people (e2e/setup/kubectl.sh) and the demo
  [ -n "${KUBECTL_BIN:-}" ] ||
    CGO_ENABLED=0 gobuild "$IC_BIN/kubectl-$K8S_VERSION" k8s k8s.io/kubernetes/cmd/kubectl -ldflags "$ld"
  # the node (e2e/cluster Options.Node); upstream builds the kubelet static too
  [ -n "${KUBELET_BIN:-}" ] ||
    CGO_ENABLED=0 gobuild "$IC_BIN/kubelet-$K8S_VERSION" k8s k8s.io/kubernetes/cmd/kubelet -ldflags "$ld"
  [ -n "${KUBE_SCHEDULER_BIN:-}" ] ||
    CGO_ENABLED=0 gobuild "$IC_BIN/kube-scheduler-$K8S_VERSION" k8s k8s.io/kubernetes/cmd/kube-scheduler -ldflags "$ld"
}

# The node's sandbox image: there is no registry to pull registry.k8s.io/pause
# from, so e2e/image builds one from its own pause program. Keyed by a hash of
# the builder's sources.
pause_image_path() {
  local h
  h=$(cat "$HERE/../image/go.sum" "$HERE/../image/"*.go "$HERE/../image/cmd/"*/*.go | sha256sum | cut -c1-12)
  echo "$IC_CACHE/image/pause-$h.tar"
}

build_pause_image() {
  local out bin
  out=$(pause_image_path)
  [ -s "$out" ] && return 0
  mkdir -p "$IC_CACHE/image"
  bin=$IC_CACHE/image/pause.bin.$$
  (cd "$HERE/../image" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin" ./cmd/pause &&
    go run ./cmd/build-image -pause -binary "$bin" -ref registry.k8s.io/pause:3.10 -tarball "$out.tmp.$$" >/dev/null)
  rm -f "$bin"
  mv "$out.tmp.$$" "$out"
}

build_etcd() {
  [ -z "${ETCD_BIN:-}" ] || return 0
  ensure_module etcd "go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  CGO_ENABLED=0 gobuild "$IC_BIN/etcd-$ETCD_VERSION" etcd go.etcd.io/etcd/server/v3 -ldflags "-s -w"
}

build_ingress_nginx() {
  [ -z "${INGRESS_NGINX_BIN:-}" ] || return 0
  ensure_module ingress-nginx "k8s.io/ingress-nginx $INGRESS_NGINX_VERSION"
  local v=k8s.io/ingress-nginx/version
  gobuild "$IC_BIN/ingress-nginx-$INGRESS_NGINX_VERSION" ingress-nginx k8s.io/ingress-nginx/cmd/nginx \
    -ldflags "-s -w -X $v.RELEASE=v1.11.0-dev -X $v.COMMIT=52c50467d67d -X $v.REPO=k8s.io/ingress-nginx"
}

build() {
  timed build-etcd build_etcd
  timed build-ingress-nginx build_ingress_nginx
  timed build-k8s build_k8s
  timed build-pause-image build_pause_image
}

# ------------------------------------------------------------------ traefik
build_traefik() {
  [ -n "${TRAEFIK_BIN:-}" ] || "$HERE/traefik/build.sh"
}

# The harness installs the Gateway API CRDs from the module cache at run time
# (the sandbox has no network): download the module now.
gateway_api() {
  (cd "$HERE/traefik" && go mod download "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")
}

gateway_api_crds() {
  echo "$(go env GOMODCACHE)/sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION/config/crd/standard"
}

traefik() {
  timed build-traefik build_traefik
  timed gateway-api gateway_api
}

# ------------------------------------------------------------------ nginx payload
# The payload is keyed by a hash of its inputs (ingress-nginx version, our
# shims, our patcher), so a changed shim makes a new directory, never a stale one.
nginx_payload_dir() {
  local h
  h=$( { echo "$INGRESS_NGINX_VERSION"; cat "$HERE/../nginx/lua/"*.lua "$HERE/../nginx/lua/"*/*.lua \
    "$HERE/../nginx/lua/"*/*/*.lua "$HERE/../nginx/patchtemplate/"*.go 2>/dev/null; } | sha256sum | cut -c1-12)
  echo "$IC_CACHE/nginx-$h"
}

nginx_payload() {
  local dst moddir tmp
  dst=$(nginx_payload_dir)
  [ -f "$dst/.complete" ] && return 0
  moddir=$(cd "$HERE/ingress-nginx" && go mod download -json "k8s.io/ingress-nginx@$INGRESS_NGINX_VERSION" |
    sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  tmp=$dst.tmp.$$
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cp -r "$moddir/rootfs/etc/nginx" "$tmp/etc-nginx"
  chmod -R u+w "$tmp"
  # Our shims for the OpenResty libraries Debian lacks, next to ingress-nginx's
  # own Lua (its lua_package_path starts with /etc/nginx/lua/).
  cp -r "$HERE/../nginx/lua/." "$tmp/etc-nginx/lua/"
  (cd "$HERE/../.." && GOFLAGS= go run ./e2e/nginx/patchtemplate "$tmp/etc-nginx/template/nginx.tmpl")
  touch "$tmp/.complete"
  rm -rf "$dst"
  mv "$tmp" "$dst"
}

# ------------------------------------------------------------------ manifest
# What the Go harness reads (env overrides still win there).
manifest() {
  mkdir -p "$IC_CACHE"
  local m=$IC_CACHE/manifest.env
  {
    echo "# written by e2e/setup/setup.sh; read by e2e/cluster"
    echo "KUBE_APISERVER_BIN=${KUBE_APISERVER_BIN:-$IC_BIN/kube-apiserver-$K8S_VERSION}"
    echo "KUBE_CONTROLLER_MANAGER_BIN=${KUBE_CONTROLLER_MANAGER_BIN:-$IC_BIN/kube-controller-manager-$K8S_VERSION}"
    echo "KUBECTL_BIN=${KUBECTL_BIN:-$IC_BIN/kubectl-$K8S_VERSION}"
    echo "ETCD_BIN=${ETCD_BIN:-$IC_BIN/etcd-$ETCD_VERSION}"
    echo "INGRESS_NGINX_BIN=${INGRESS_NGINX_BIN:-$IC_BIN/ingress-nginx-$INGRESS_NGINX_VERSION}"
    echo "TRAEFIK_BIN=${TRAEFIK_BIN:-$IC_BIN/traefik-$TRAEFIK_VERSION}"
    echo "GATEWAY_API_CRDS=$(gateway_api_crds)"
    echo "NGINX_PAYLOAD=$(nginx_payload_dir)/etc-nginx"
    echo "NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)"
    echo "PROMETHEUS_BIN=$(command -v prometheus || echo /usr/bin/prometheus)"
    echo "KUBELET_BIN=${KUBELET_BIN:-$IC_BIN/kubelet-$K8S_VERSION}"
    echo "KUBE_SCHEDULER_BIN=${KUBE_SCHEDULER_BIN:-$IC_BIN/kube-scheduler-$K8S_VERSION}"
    echo "CONTAINERD_BIN=$(command -v containerd || echo /usr/bin/containerd)"
    echo "CTR_BIN=$(command -v ctr || echo /usr/bin/ctr)"
    echo "CNI_BIN_DIR=/usr/lib/cni"
    echo "PAUSE_IMAGE=$(pause_image_path)"
  } > "$m.tmp"
  mv "$m.tmp" "$m"
  echo "setup: manifest $m" >&2
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(packages build traefik nginx manifest)
t_all=$(now)
for s in "${steps[@]}"; do
  case $s in
    packages) timed packages packages ;;
    build) build ;;
    traefik) traefik ;;
    nginx) timed nginx-payload nginx_payload ;;
    manifest) timed manifest manifest ;;
    *) echo "setup: unknown step $s" >&2; exit 2 ;;
  esac
done
awk -v a="$(now)" -v b="$t_all" 'BEGIN{printf "setup: %-24s %7.1fs\n", "total", a-b}' >&2
