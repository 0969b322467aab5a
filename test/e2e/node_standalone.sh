#!/usr/bin/env bash
# `kvol node` alone against `kvol serve --no-node`, as DESIGN.md's contract says: exactly one
# stdout line `kvol node ready <name>` once its Node is registered (labels, zone), a pod bound to
# it runs there with its volumes under the node's own DIR, `kubectl logs` reaches it through the
# API server, and SIGTERM stops its pods, unmounts everything and exits 0.
source "$(dirname "$0")/lib/node_e2e.bash"

start_serve "$WORK/cp" --no-node
KC=$WORK/cp/kubeconfig
URL=$(sed -n 's/^kvol ready //p' "$WORK/cp.out")
check "serve --no-node registers no Node" "" "$(k get nodes -o name 2>/dev/null)"

N2=$WORK/n2
mkdir -p "$N2"
"$KVOL" image import --data-dir "$N2" "$BUSYBOX_TAR" >/dev/null
: >"$N2.out"
"$KVOL" node --server "$URL" --token "$(cat "$WORK/cp/token")" --data-dir "$N2" \
  --node-name n2 --zone zone-b >"$N2.out" 2>"$N2.err" &
NODE_PID=$!
SERVERS+=("$NODE_PID")
poll 20 grep -q . "$N2.out" || fail "kvol node printed nothing: $(tail -5 "$N2.err")"
check "ready line" "kvol node ready n2" "$(cat "$N2.out")"
check "node labels" "n2 zone-b" \
  "$(k get node n2 -o json | jq -r '.metadata.name + " " + .metadata.labels["topology.kubernetes.io/zone"]')"

k apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: on-n2
spec:
  nodeName: n2
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo hello from $(hostname) > /out/hello; cat /out/hello; sleep 3600"]
    volumeMounts:
    - {name: out, mountPath: /out}
  volumes:
  - name: out
    emptyDir: {}
YAML
running() { [[ "$(phase on-n2)" == Running ]]; }
poll 30 running || fail "pod on n2 not Running: $(phase on-n2)"
UID_=$(pod on-n2 .metadata.uid)
poll 10 test -f "$N2/pods/$UID_/volumes/kubernetes.io~empty-dir/out/hello" ||
  fail "emptyDir not under the node's DIR"
has_logs() { [[ -n "$(k logs on-n2 2>/dev/null)" ]]; }
poll 10 has_logs || true
check "logs through the API server" "hello from on-n2" "$(k logs on-n2 2>&1)"

stop_serve # the node agent: the last process started
check "kvol node exits 0 on SIGTERM" 0 "$STOP_RC"
check "nothing mounted under the node's DIR" "" \
  "$(findmnt -rn -o TARGET | awk -v w="$N2" '$0 == w || index($0, w "/") == 1')"
check "the pod stays in the store" "on-n2" "$(pod on-n2 .metadata.name)"
[[ $FAILS == 0 ]]
