#!/usr/bin/env bash
# End-to-end: `kvol play -f examples/log-sidecar.yaml` runs the seed's sidecar pod to completion
# and prints both containers' logs prefixed `pod/container | `; then against `kvol serve`, the
# log of a running pod through `kvol logs` and `kubectl logs` (-c, --tail, the defaulted
# container, errors) and a graceful pod delete.
# Usage: bash test/e2e/pod_logs_play.sh <kvol-binary> <source-dir>
# Skips (exit 0) until the node agent, the image store and crun are there, and when not root.
set -u
KVOL=${1:?kvol binary}
SRC=${2:?source dir}

skip() {
  echo "SKIP: $*"
  exit 0
}
[[ $(id -u) == 0 ]] || skip "needs root (the node agent mounts volumes)"
command -v crun >/dev/null || skip "crun not installed"
[[ -x /bin/busybox ]] || skip "busybox-static not installed"
[[ -f $SRC/scripts/make-busybox-image.sh ]] || skip "scripts/make-busybox-image.sh not there yet"

WORK=$(mktemp -d /tmp/kvol-e2e-logs-XXXXXX)
SERVER_PID=""
# Stop what we started (by PID), lazily unmount anything left under WORK, then delete it.
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  awk -v w="$WORK" '$5 == w || index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo |
    sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail=0
check() { # check NAME EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    echo "ok   $1"
  else
    echo "FAIL $1"
    diff <(echo "$2") <(echo "$3") | head -40 | sed 's/^/    /'
    fail=1
  fi
}
contains() { # contains NAME NEEDLE HAYSTACK
  if [[ "$3" == *"$2"* ]]; then
    echo "ok   $1"
  else
    echo "FAIL $1: $(printf '%q' "$2") not in:"
    echo "$3" | head -40 | sed 's/^/    /'
    fail=1
  fi
}

# The image, imported into the data dirs the tests use.
bash "$SRC/scripts/make-busybox-image.sh" "$WORK/busybox.tar" >/dev/null 2>"$WORK/make.err" ||
  skip "make-busybox-image.sh failed: $(head -3 "$WORK/make.err")"
"$KVOL" image import --data-dir "$WORK/play" "$WORK/busybox.tar" >"$WORK/import.out" 2>&1
rc=$?
[[ $rc == 2 ]] && skip "kvol image import not available yet"
[[ $rc == 0 ]] || { cat "$WORK/import.out"; echo "FAIL kvol image import (exit $rc)"; exit 1; }

# --- kvol play ------------------------------------------------------------------------------
timeout -s TERM 120 "$KVOL" play -f "$SRC/examples/log-sidecar.yaml" --data-dir "$WORK/play" \
  >"$WORK/play.out" 2>"$WORK/play.err"
rc=$?
if [[ $rc == 2 ]] && grep -q "not available yet" "$WORK/play.err"; then
  skip "kvol play not available yet"
fi
check "play exits 0 when every pod succeeded" 0 "$rc"
[[ $rc == 0 ]] || sed 's/^/    play.err: /' "$WORK/play.err" | tail -30
shipped=$(grep '^log-sidecar/shipper | ' "$WORK/play.out")
check "shipper lines, in order, prefixed" "log-sidecar/shipper | shipped: line 1 of 5
log-sidecar/shipper | shipped: line 2 of 5
log-sidecar/shipper | shipped: line 3 of 5
log-sidecar/shipper | shipped: line 4 of 5
log-sidecar/shipper | shipped: line 5 of 5
log-sidecar/shipper | end of log" "$shipped"
check "app lines, in order" "log-sidecar/app | wrote line 1
log-sidecar/app | wrote line 2
log-sidecar/app | wrote line 3
log-sidecar/app | wrote line 4
log-sidecar/app | wrote line 5
log-sidecar/app | finished" "$(grep '^log-sidecar/app | ' "$WORK/play.out")"
check "nothing but prefixed log lines on stdout" "" \
  "$(grep -v -e '^log-sidecar/app | ' -e '^log-sidecar/shipper | ' "$WORK/play.out")"
contains "play reports the pod's phase" "pod/log-sidecar Succeeded" "$(cat "$WORK/play.err")"
check "play's server left no mounts" "" \
  "$(awk -v w="$WORK/play" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo)"

# --- logs of a running pod ---------------------------------------------------------------
DATA=$WORK/data
"$KVOL" image import --data-dir "$DATA" "$WORK/busybox.tar" >/dev/null 2>&1
"$KVOL" serve --data-dir "$DATA" --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 1 200); do
  grep -q '^kvol ready ' "$WORK/serve.out" 2>/dev/null && break
  sleep 0.05
done
grep -q '^kvol ready ' "$WORK/serve.out" || {
  echo "FAIL kvol serve did not become ready"
  tail -20 "$WORK/serve.err"
  exit 1
}
KC=$DATA/kubeconfig
cat >"$WORK/ticker.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: ticker
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: ticker
      image: busybox
      command: ["sh", "-c", "for i in 1 2 3 4 5; do echo tick $i; done; sleep 300"]
    - name: idle
      image: busybox
      command: ["sh", "-c", "echo idle; sleep 300"]
EOF
"$KVOL" apply --kubeconfig "$KC" -f "$WORK/ticker.yaml" --wait --timeout 60 >"$WORK/apply.out" 2>&1
check "apply --wait" 0 "$?"
got=""
for _ in $(seq 1 100); do
  got=$("$KVOL" logs --kubeconfig "$KC" ticker -c ticker 2>/dev/null)
  [[ $got == *"tick 5"* ]] && break
  sleep 0.1
done
check "kvol logs -c" "tick 1
tick 2
tick 3
tick 4
tick 5" "$got"
check "kvol logs --tail 2" "tick 4
tick 5" "$("$KVOL" logs --kubeconfig "$KC" ticker -c ticker --tail 2 2>&1)"
check "kvol logs defaults to the first container and says so" \
  'Defaulted container "ticker" out of: ticker, idle' \
  "$("$KVOL" logs --kubeconfig "$KC" ticker 2>&1 >/dev/null)"
check "kvol logs of an unknown container" "error: container nope is not valid for pod ticker" \
  "$("$KVOL" logs --kubeconfig "$KC" ticker -c nope 2>&1)"
check "kvol logs of a missing pod" \
  'error: error from server (NotFound): pods "ghost" not found in namespace "default"' \
  "$("$KVOL" logs --kubeconfig "$KC" ghost 2>&1)"
if command -v kubectl >/dev/null; then
  check "kubectl logs -c --tail" "tick 4
tick 5" "$(kubectl --kubeconfig "$KC" logs ticker -c ticker --tail 2 2>&1)"
  check "kubectl logs -c idle" "idle" "$(kubectl --kubeconfig "$KC" logs ticker -c idle 2>&1)"
  check "kubectl logs of a missing pod" \
    'error: error from server (NotFound): pods "ghost" not found in namespace "default"' \
    "$(kubectl --kubeconfig "$KC" logs ghost 2>&1)"
  # -f ends when the container is killed by the graceful delete below.
  kubectl --kubeconfig "$KC" logs -f ticker -c ticker >"$WORK/follow.out" 2>&1 &
  FOLLOW_PID=$!
else
  echo "note: kubectl not installed; its part skipped"
  FOLLOW_PID=""
fi
# Graceful delete: marked, the node agent stops the containers within the grace period and
# removes the pod.
start=$(date +%s)
timeout 30 "$KVOL" delete --kubeconfig "$KC" pod ticker >"$WORK/delete.out" 2>&1
check "delete of a running pod finishes" 0 "$?"
check "delete output" 'pod "ticker" deleted' "$(cat "$WORK/delete.out")"
elapsed=$(($(date +%s) - start))
[[ $elapsed -le 10 ]] && echo "ok   pod gone in ${elapsed}s" || {
  echo "FAIL pod took ${elapsed}s to go"
  fail=1
}
if [[ -n "$FOLLOW_PID" ]]; then
  for _ in $(seq 1 50); do kill -0 "$FOLLOW_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$FOLLOW_PID" 2>/dev/null; then
    echo "FAIL kubectl logs -f still running after the pod went"
    kill "$FOLLOW_PID"
    fail=1
  else
    echo "ok   kubectl logs -f ended with the container"
  fi
  wait "$FOLLOW_PID" 2>/dev/null
  contains "kubectl logs -f printed the log" "tick 5" "$(cat "$WORK/follow.out")"
fi

exit $fail
