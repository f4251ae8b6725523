#!/usr/bin/env bash
# kubectl against the cluster started by `make up`, run inside its sandbox:
#   e2e/setup/kubectl.sh get ingress -A
# Uses KUBECTL_BIN, else the kubectl built by setup.sh, else kubectl on PATH.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/versions.sh"
kubectl=${KUBECTL_BIN:-$IC_BIN/kubectl-$K8S_VERSION}
[ -x "$kubectl" ] || kubectl=$(command -v kubectl || true)
if [ -z "$kubectl" ]; then
  echo "kubectl.sh: no kubectl; run e2e/setup/setup.sh (it builds one) or set KUBECTL_BIN" >&2
  exit 1
fi
[ -f "$IC_CACHE/up/state.env" ] || { echo "kubectl.sh: no running cluster (make up)" >&2; exit 1; }
kubeconfig=$(sed -n 's/^KUBECONFIG=//p' "$IC_CACHE/up/state.env")
exec "$HERE/sandbox.sh" "$kubectl" --kubeconfig "$kubeconfig" "$@"
