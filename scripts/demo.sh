#!/usr/bin/env bash
# kvol's main job on a fresh Debian 12 machine: installs what is needed (apt), builds kvol, starts
# `kvol serve` on the embedded store, applies the example manifests with kubectl (or `kvol apply`
# where kubectl is missing) and shows what the cluster made of them: the classes, the claims
# binding, a provisioned volume, why a claim is Pending. Then it validates examples/broken.yaml
# offline to show every error with its field path. Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -- -j2 kvol >/dev/null
KVOL=$PWD/build/release/cmd/kvol/kvol
DIR=$(mktemp -d /tmp/kvol-demo.XXXXXX)
pid=""
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT

"$KVOL" serve --data-dir "$DIR" --listen 127.0.0.1:0 >"$DIR/ready" 2>"$DIR/serve.log" &
pid=$!
for _ in $(seq 600); do grep -q '^kvol ready ' "$DIR/ready" && break; sleep 0.05; done
grep -q '^kvol ready ' "$DIR/ready" || { echo "kvol serve did not become ready:" >&2; cat "$DIR/serve.log" >&2; exit 1; }
echo "\$ kvol serve --data-dir $DIR --listen 127.0.0.1:0"
cat "$DIR/ready"
export KUBECONFIG=$DIR/kubeconfig
if command -v kubectl >/dev/null; then
  k() { echo "\$ kubectl $*"; kubectl --cache-dir "$DIR/kube-cache" "$@"; echo; }
else
  k() { echo "\$ kvol $*"; "$KVOL" "$@"; echo; }
fi
k get storageclass
k apply -f examples/demo-claims.yaml
sleep 1
k get pv,pvc
k describe pvc too-big
echo "\$ kvol validate -f examples/broken.yaml"
"$KVOL" validate -f examples/broken.yaml || echo "(exit $?: every error above names its field)"
