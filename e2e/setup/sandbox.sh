#!/usr/bin/env bash
# Runs CMD inside the sandbox of the cluster started by `make up`
# (go run ./e2e/cmd/cluster up): its network namespace (private loopback, the
# 10.203.0.0/24 bridge) and mount namespace. Needs root (nsenter).
#
#   e2e/setup/sandbox.sh curl -s -H 'Host: demo.local' http://127.0.0.1:18080/
#   e2e/setup/sandbox.sh            # an interactive shell inside
#
# The cluster's state.env (KUBECONFIG, HTTP_URL, PROMETHEUS_URL, WORK_DIR) is
# exported to CMD.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/versions.sh"
STATE=$IC_CACHE/up
pid=$(cat "$STATE/pid" 2>/dev/null || true)
if [ -z "$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != unshare ]; then
  echo "sandbox.sh: no running cluster (start one with: make up)" >&2
  exit 1
fi
if [ -f "$STATE/state.env" ]; then
  set -a
  . "$STATE/state.env"
  set +a
fi
[ $# -gt 0 ] || set -- "${SHELL:-/bin/sh}"
exec nsenter --target "$pid" --net --mount -- "$@"
