#!/bin/bash
# End-to-end: garbage collection of ownerReferences driven by the unmodified kubectl against
# `kvol serve`: `kubectl delete` (background) removes the dependents, `--cascade=foreground`
# keeps the owner (with deletionTimestamp and the foregroundDeletion finalizer) while a blocking
# dependent is held by a finalizer, `--cascade=orphan` leaves the dependents without the
# reference; a dependent of a recreated owner (same name, new uid) is collected.
# Usage: garbage_collection.sh <path-to-kvol> <source-dir>
set -u
KVOL=$(realpath "${1:?usage: garbage_collection.sh <kvol> <source-dir>}")
source "$(dirname "${BASH_SOURCE[0]}")/lib/kubectl_e2e.bash"

start_kvol --node-name e2e-node

# owner NAME: creates ConfigMap NAME and prints its uid.
owner() {
  $K create configmap "$1" >/dev/null || fail "create owner $1"
  $K get configmap "$1" -o jsonpath='{.metadata.uid}'
}
# dependent KIND NAME OWNER OWNER_UID BLOCK [FINALIZER]: a ConfigMap or Secret owned by OWNER.
dependent() {
  local fin=""
  [ -n "${6:-}" ] && fin="  finalizers: [\"$6\"]"
  cat <<YAML | $K apply -f - >/dev/null || fail "create $1 $2"
apiVersion: v1
kind: $1
metadata:
  name: $2
$fin
  ownerReferences:
  - apiVersion: v1
    kind: ConfigMap
    name: $3
    uid: $4
    blockOwnerDeletion: $5
YAML
}
# gone KIND/NAME: true once the object is not found (waits up to 10 s).
gone() {
  for _ in $(seq 1 200); do
    $K get "$1" >/dev/null 2>&1 || return 0
    sleep 0.05
  done
  return 1
}
names() { $K get configmaps,secrets -o name 2>&1 | grep -E "/($1)" | sort | tr '\n' ' ' | sed 's/ $//'; }

# Background (kubectl's default): the owner goes at once, then its dependents.
U=$(owner bg-owner)
dependent ConfigMap bg-cm bg-owner "$U" false
dependent Secret bg-secret bg-owner "$U" true
dependent ConfigMap bg-other-owner other-owner "not-$U" false  # an owner that never existed
expect "background delete" 'configmap "bg-owner" deleted' "$($K delete cm bg-owner 2>&1)"
gone configmap/bg-cm || fail "background: bg-cm still there"
gone secret/bg-secret || fail "background: bg-secret still there"
gone configmap/bg-other-owner || fail "dangling reference: bg-other-owner still there"
expect "background: nothing left" "" "$(names bg-)"

# Foreground: the owner stays, marked, until its blocking dependents are gone.
U=$(owner fg-owner)
dependent ConfigMap fg-held fg-owner "$U" true example.com/hold
dependent Secret fg-free fg-owner "$U" false
expect "foreground delete" 'configmap "fg-owner" deleted' \
  "$($K delete cm fg-owner --cascade=foreground --wait=false 2>&1)"
gone secret/fg-free || fail "foreground: non-blocking dependent fg-free still there"
for _ in $(seq 1 100); do
  [ -n "$($K get cm fg-held -o jsonpath='{.metadata.deletionTimestamp}' 2>/dev/null)" ] && break
  sleep 0.05
done
expect "foreground: held dependent marked" "true" \
  "$($K get cm fg-held -o jsonpath='{.metadata.deletionTimestamp}' | grep -qE '^[0-9]{4}-' && echo true)"
expect "foreground: owner still there, marked" "foregroundDeletion true" \
  "$($K get cm fg-owner -o jsonpath='{.metadata.finalizers[*]} {.metadata.deletionTimestamp}' |
     sed -E 's/ [0-9]{4}-[0-9T:-]+Z$/ true/')"
sleep 0.5
expect "foreground: owner waits for the held dependent" "configmap/fg-owner" \
  "$($K get cm fg-owner -o name 2>&1)"
$K patch cm fg-held --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null ||
  fail "release fg-held"
expect "foreground: owner goes with its dependents" "" \
  "$($K wait --for=delete cm/fg-owner --timeout=10s >/dev/null 2>&1; names fg-)"

# Orphan: the dependents stay, without the reference to the owner.
U=$(owner or-owner)
V=$(owner or-keeper)
dependent ConfigMap or-cm or-owner "$U" true
cat <<YAML | $K apply -f - >/dev/null || fail "create or-secret"
apiVersion: v1
kind: Secret
metadata:
  name: or-secret
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: or-owner, uid: $U}
  - {apiVersion: v1, kind: ConfigMap, name: or-keeper, uid: $V}
YAML
expect "orphan delete" 'configmap "or-owner" deleted' "$($K delete cm or-owner --cascade=orphan 2>&1)"
gone configmap/or-owner || fail "orphan: the owner is still there"
expect "orphan: dependents stay" "configmap/or-cm configmap/or-keeper secret/or-secret" "$(names or-)"
expect "orphan: reference removed" "" \
  "$($K get cm or-cm -o jsonpath='{.metadata.ownerReferences}')"
expect "orphan: the other owner's reference stays" "or-keeper" \
  "$($K get secret or-secret -o jsonpath='{.metadata.ownerReferences[*].name}')"

# A recreated owner (same name, new uid) does not adopt the old owner's dependents.
U=$(owner re-owner)
dependent ConfigMap re-old re-owner "$U" false
$K delete cm re-owner --cascade=orphan >/dev/null 2>&1
$K create configmap re-owner >/dev/null
U2=$($K get cm re-owner -o jsonpath='{.metadata.uid}')
dependent ConfigMap re-new re-owner "$U2" false
$K patch cm re-new --type=merge -p '{"metadata":{"labels":{"x":"y"}}}' >/dev/null
# re-old was orphaned above; point it at the old uid again: it is garbage now.
dependent ConfigMap re-old re-owner "$U" false
gone configmap/re-old || fail "recreated owner: re-old (old uid) still there"
sleep 0.3
expect "recreated owner: its own dependent stays" "configmap/re-new configmap/re-owner" "$(names re-)"

if [ $FAILS -ne 0 ]; then
  echo "$FAILS check(s) failed"
  cat "$WORK/stderr" | tail -20
  exit 1
fi
echo "PASS"
