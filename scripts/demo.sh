#!/usr/bin/env bash
# kvol's main job on a fresh Debian 12 machine (as root): installs what is needed (apt), builds
# kvol, and runs the seed's example: `kvol play -f examples/log-sidecar.yaml` — an app container
# writes log lines into an emptyDir, a shipper container in the same pod reads and prints them —
# on an embedded server, with real crun containers. Then a `kvol serve` session: a claim's data
# outliving its pod (examples/pvc-survives.yaml), claims binding and provisioning, why a claim is
# Pending, and offline validation with every error's field path. Everything it starts is stopped,
# unmounted and removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -- -j2 kvol >/dev/null
KVOL=$PWD/build/release/cmd/kvol/kvol
DIR=$(mktemp -d /tmp/kvol-demo.XXXXXX)
pid=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  # A clean stop unmounts everything; refuse to delete through anything still mounted.
  if findmnt -rn -o TARGET | grep -q "^$DIR"; then
    echo "demo: mounts left under $DIR, not removing it" >&2
  else
    rm -rf "$DIR"
  fi
}
trap cleanup EXIT
run() {
  local shown="$*"
  echo "\$ ${shown//$KVOL/kvol}"
  "$@"
  echo
}
# Waits until pod $1 has finished (Succeeded or Failed).
wait_done() {
  for _ in $(seq 200); do
    "$KVOL" get pod "$1" -o json 2>/dev/null | grep -Eq '"phase": "(Succeeded|Failed)"' && return 0
    sleep 0.05
  done
}

# 1. The seed's log sidecar, as `kvol play` runs it (an embedded server in $DIR/play).
bash scripts/make-busybox-image.sh "$DIR/busybox.tar" >/dev/null
run "$KVOL" image import --data-dir "$DIR/play" "$DIR/busybox.tar"
run "$KVOL" play --data-dir "$DIR/play" -f examples/log-sidecar.yaml

# 2. A server session.
mkdir -p "$DIR/serve"
"$KVOL" image import --data-dir "$DIR/serve" "$DIR/busybox.tar" >/dev/null
"$KVOL" serve --data-dir "$DIR/serve" --listen 127.0.0.1:0 >"$DIR/ready" 2>"$DIR/serve.log" &
pid=$!
for _ in $(seq 600); do grep -q '^kvol ready ' "$DIR/ready" && break; sleep 0.05; done
grep -q '^kvol ready ' "$DIR/ready" || { echo "kvol serve did not become ready:" >&2; cat "$DIR/serve.log" >&2; exit 1; }
echo "\$ kvol serve --data-dir $DIR/serve --listen 127.0.0.1:0"
cat "$DIR/ready"
echo
export KUBECONFIG=$DIR/serve/kubeconfig
if command -v kubectl >/dev/null; then
  k() { echo "\$ kubectl $*"; kubectl --cache-dir "$DIR/kube-cache" "$@"; echo; }
else
  k() { echo "\$ kvol $*"; "$KVOL" "$@"; echo; }
fi

# A claim's data outlives its pod: the second pod reads what the first wrote.
run "$KVOL" apply -f examples/pvc-survives.yaml --wait
wait_done writer
run "$KVOL" logs writer
run "$KVOL" delete pod writer
run "$KVOL" apply -f examples/pvc-survives.yaml --wait
wait_done writer
run "$KVOL" logs writer
k get pvc notes

# Binding, provisioning, and why a claim is Pending.
k get storageclass
k apply -f examples/demo-claims.yaml
sleep 1
k get pv,pvc
k describe pvc too-big
echo "\$ kvol validate -f examples/broken.yaml"
"$KVOL" validate -f examples/broken.yaml || echo "(exit $?: every error above names its field)"
