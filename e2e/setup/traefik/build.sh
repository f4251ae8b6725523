#!/usr/bin/env bash
# Builds Traefik $TRAEFIK_VERSION from the Go module proxy into
# $IC_BIN/traefik-$TRAEFIK_VERSION, once (skipped when that binary exists and
# reports the pinned version). Called by setup.sh (step `traefik`).
#
# The build runs inside a writable copy of Traefik's own module, so that its
# go.mod replace lines apply, with three fixes (e2e/setup/README.md):
#   1. its nested module dynamic/ext, which the proxy's zip leaves out, is
#      our stub (dynamic-ext/);
#   2. lego/v5 is replaced by a copy whose providers/dns holds only our stub
#      (lego-dns/): seven DNS provider modules it imports answer 403;
#   3. go-http-auth (Traefik's fork answers 403) is replaced by upstream
#      $GO_HTTP_AUTH_VERSION plus our go.mod and the two names Traefik needs
#      (go-http-auth/).
# The copies live under $IC_CACHE/src, never in the checkout.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../versions.sh"
export GOWORK=off GOFLAGS="-mod=mod -buildvcs=false"

out=$IC_BIN/traefik-$TRAEFIK_VERSION
# Captured first: grep -q exiting early would SIGPIPE traefik, and pipefail
# would then take a good binary for a stale one.
if [ -x "$out" ]; then
  have=$("$out" version 2>/dev/null || true)
  if grep -Eq "^Version:[[:space:]]+$TRAEFIK_VERSION\$" <<<"$have"; then
    exit 0
  fi
fi

moddir() { go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'; }
# copy SRC DST: a writable copy of a (read-only) module cache directory
copy() { rm -rf "$2" && mkdir -p "$(dirname "$2")" && cp -r "$1" "$2" && chmod -R u+w "$2"; }

work=$IC_CACHE/src/traefik-$TRAEFIK_VERSION
traefik_src=$(moddir "github.com/traefik/traefik/v3@$TRAEFIK_VERSION")
lego_version=$(awk '$1 == "github.com/go-acme/lego/v5" {print $2; exit}' "$traefik_src/go.mod")
[ -n "$lego_version" ] || { echo "traefik: no lego/v5 in $traefik_src/go.mod" >&2; exit 1; }

copy "$traefik_src" "$work/traefik"
copy "$HERE/dynamic-ext" "$work/traefik/pkg/config/dynamic/ext"

copy "$(moddir "github.com/go-acme/lego/v5@$lego_version")" "$work/lego"
rm -rf "$work/lego/providers/dns"
mkdir -p "$work/lego/providers/dns"
cp "$HERE/lego-dns/providers.go" "$work/lego/providers/dns/"

copy "$(moddir "github.com/abbot/go-http-auth@$GO_HTTP_AUTH_VERSION")" "$work/go-http-auth"
cp "$HERE/go-http-auth/go.mod" "$HERE/go-http-auth/traefik_fork.go" "$work/go-http-auth/"

cd "$work/traefik"
# Relative targets: the copies sit side by side under $work.
go mod edit -replace github.com/go-acme/lego/v5=../lego \
  -replace github.com/abbot/go-http-auth=../go-http-auth
mkdir -p "$IC_BIN"
v=github.com/traefik/traefik/v3/pkg/version
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X $v.Version=$TRAEFIK_VERSION" \
  -o "$out.tmp.$$" ./cmd/traefik
mv "$out.tmp.$$" "$out"
