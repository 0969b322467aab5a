#!/bin/bash
# End-to-end: the control plane (binder, kvol.io/local provisioner, reclaim) observed through the
# unmodified kubectl against `kvol serve`: static binding (smallest fit), dynamic provisioning with
# Delete and Retain reclaim, the reason an unbindable claim reports, and `kvol apply --wait`.
# Usage: control_plane.sh <path-to-kvol> <source-dir>
set -u
KVOL=$(realpath "${1:?usage: control_plane.sh <kvol> <source-dir>}")
source "$(dirname "${BASH_SOURCE[0]}")/lib/kubectl_e2e.bash"
# poll SECONDS COMMAND...: rerun COMMAND every 0.1 s until it succeeds; 1 on timeout.
poll() {
  local deadline=$((SECONDS + $1))
  shift
  while ! "$@"; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
}

start_kvol
echo "ok: ready line"

# claim NAME CLASS MODE SIZE: a PVC manifest on stdout.
claim() {
  cat <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: $1
spec:
  storageClassName: "$2"
  accessModes: [$3]
  resources:
    requests:
      storage: $4
YAML
}
# volume NAME SIZE: a static hostPath PV of class "" on stdout.
volume() {
  cat <<YAML
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $1
spec:
  capacity:
    storage: $2
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  hostPath:
    path: $WORK/$1
YAML
}
# class NAME RECLAIM: an Immediate kvol.io/local StorageClass on stdout.
class() {
  cat <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: $1
provisioner: kvol.io/local
volumeBindingMode: Immediate
reclaimPolicy: $2
YAML
}
phase() { $K get "$1" -o jsonpath='{.status.phase}' 2>/dev/null; }
phase_is() { [ "$(phase "$1")" = "$2" ]; }
gone() { ! $K get "$1" >/dev/null 2>&1; }

# --- Static binding: one PV that fits.
expect "create static pv" "persistentvolume/pv-five created" "$(volume pv-five 5Gi | $K apply -f - 2>&1)"
expect "create claim x" "persistentvolumeclaim/x created" "$(claim x "" ReadWriteOnce 1Gi | $K apply -f - 2>&1)"
expect "wait claim x Bound" "persistentvolumeclaim/x condition met" \
  "$($K wait --for=jsonpath='{.status.phase}'=Bound pvc/x --timeout=20s 2>&1)"
expect "claim x volume" "pv-five 5Gi" \
  "$($K get pvc x -o jsonpath='{.spec.volumeName} {.status.capacity.storage}')"
expect "get pv pv-five" "pv-five 5Gi RWO Retain Bound default/x <unset>" \
  "$($K get pv pv-five --no-headers | tr -s ' ' | sed -E 's/ [0-9]+[sm]$//; s/ +$//')"
expect "get pvc x" "x Bound pv-five 5Gi RWO <unset>" \
  "$($K get pvc x --no-headers | tr -s ' ' | sed -E 's/ [0-9]+[sm]$//; s/ +$//')"

# --- Two PVs fit: the smallest is chosen.
{ volume pv-big 20Gi; echo ---; volume pv-mid 3Gi; echo ---; volume pv-tiny 1Mi; } | $K apply -f - >/dev/null
claim pick "" ReadWriteOnce 2Gi | $K apply -f - >/dev/null
$K wait --for=jsonpath='{.status.phase}'=Bound pvc/pick --timeout=20s >/dev/null 2>&1 || fail "claim pick not Bound"
expect "smallest fitting pv chosen" "pv-mid" "$($K get pvc pick -o jsonpath='{.spec.volumeName}')"
expect "unchosen pvs Available" "Available Available" "$(phase pv/pv-big) $(phase pv/pv-tiny)"

# --- Dynamic provisioning, reclaimPolicy Delete.
expect "create class fast" "storageclass.storage.k8s.io/fast created" "$(class fast Delete | $K apply -f - 2>&1)"
claim f1 fast ReadWriteOnce 1Gi | $K apply -f - >/dev/null
expect "wait f1 Bound" "persistentvolumeclaim/f1 condition met" \
  "$($K wait --for=jsonpath='{.status.phase}'=Bound pvc/f1 --timeout=20s 2>&1)"
UID_F1=$($K get pvc f1 -o jsonpath='{.metadata.uid}')
PV_F1=$($K get pvc f1 -o jsonpath='{.spec.volumeName}')
expect "provisioned pv name" "pvc-$UID_F1" "$PV_F1"
expect "provisioned pv" "kvol.io/local fast Delete Bound default/f1" \
  "$($K get pv "$PV_F1" -o jsonpath='{.spec.csi.driver} {.spec.storageClassName} {.spec.persistentVolumeReclaimPolicy} {.status.phase} {.spec.claimRef.namespace}/{.spec.claimRef.name}')"
if [ -d "$DATA/local/$PV_F1" ]; then echo "ok: provisioned directory exists"; else fail "no directory $DATA/local/$PV_F1"; fi
echo payload >"$DATA/local/$PV_F1/file" || fail "write into provisioned directory"
expect "delete f1" 'persistentvolumeclaim "f1" deleted' "$($K delete pvc f1 --timeout=20s 2>&1)"
poll 20 gone "pv/$PV_F1" && echo "ok: Delete: pv removed" || fail "Delete: pv $PV_F1 still there"
poll 20 test ! -e "$DATA/local/$PV_F1" && echo "ok: Delete: directory removed" ||
  fail "Delete: directory $DATA/local/$PV_F1 still there"

# --- Dynamic provisioning, reclaimPolicy Retain.
class keep Retain | $K apply -f - >/dev/null
claim k1 keep ReadWriteOnce 1Gi | $K apply -f - >/dev/null
$K wait --for=jsonpath='{.status.phase}'=Bound pvc/k1 --timeout=20s >/dev/null 2>&1 || fail "claim k1 not Bound"
PV_K1=$($K get pvc k1 -o jsonpath='{.spec.volumeName}')
expect "retain pv name" "pvc-$($K get pvc k1 -o jsonpath='{.metadata.uid}')" "$PV_K1"
echo kept >"$DATA/local/$PV_K1/file" || fail "write into retained directory"
expect "delete k1" 'persistentvolumeclaim "k1" deleted' "$($K delete pvc k1 --timeout=20s 2>&1)"
poll 20 phase_is "pv/$PV_K1" Released || fail "Retain: pv not Released (phase '$(phase "pv/$PV_K1")')"
expect "Retain: pv Released" "$PV_K1 1Gi RWO Retain Released default/k1 keep <unset>" \
  "$($K get pv "$PV_K1" --no-headers | tr -s ' ' | sed -E 's/ [0-9]+[sm]$//; s/ +$//')"
sleep 1 # give a wrong reclaimer a chance to act
expect "Retain: file kept" "kept" "$(cat "$DATA/local/$PV_K1/file" 2>&1)"
expect "Retain: pv still Released" "Released" "$(phase "pv/$PV_K1")"

# --- A claim that cannot bind says why.
claim rwx "" ReadWriteMany 1Gi | $K apply -f - >/dev/null
want="no persistent volumes available for this claim and no storage class is set"
poll 20 bash -c "$K describe pvc rwx | grep -qF '$want'" || fail "describe pvc rwx: no reason line"
DESC=$($K describe pvc rwx 2>&1)
grep -qxF "Status:        Pending" <<<"$DESC" && echo "ok: rwx Pending" || fail "describe rwx: not Pending"
grep -qE "Normal +FailedBinding .*persistentvolume-controller +$want" <<<"$DESC" &&
  echo "ok: FailedBinding event" || fail "describe rwx: no FailedBinding event"
grep -qF "pv-big: access modes [ReadWriteOnce] lack ReadWriteMany" <<<"$DESC" &&
  echo "ok: candidate criterion" || { fail "describe rwx: no candidate criterion"; echo "$DESC"; }
grep -qF "pv-five: bound to claim default/x" <<<"$DESC" &&
  echo "ok: bound candidate named" || { fail "describe rwx: bound candidate not named"; grep Pending <<<"$DESC"; }

# --- kvol apply --wait.
claim w1 fast ReadWriteOnce 1Gi >w1.yaml
OUT=$("$KVOL" apply --kubeconfig "$DATA/kubeconfig" -f w1.yaml --wait --timeout 20 2>&1)
expect "kvol apply --wait exit code" "0" "$?"
expect "kvol apply --wait output" "persistentvolumeclaim/w1 created" "$OUT"
expect "bound when kvol apply returns" "Bound" "$(phase pvc/w1)"
claim w2 "" ReadWriteMany 1Gi >w2.yaml
OUT=$("$KVOL" apply --kubeconfig "$DATA/kubeconfig" -f w2.yaml --wait --timeout 1 2>&1)
expect "kvol apply --wait timeout exit code" "1" "$?"
expect "kvol apply --wait timeout output" "persistentvolumeclaim/w2 created
error: timed out waiting for the condition on persistentvolumeclaims/w2 (Bound within 1s)" "$OUT"

# --- Bookkeeping: one claim per PV.
expect "pv claimRefs" "default/k1 default/pick default/w1 default/x" \
  "$($K get pv -o jsonpath='{range .items[*]}{.spec.claimRef.namespace}/{.spec.claimRef.name}{"\n"}{end}' |
     grep -v '^/$' | sort | tr '\n' ' ' | sed 's/ $//')"

if [ $FAILS -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "PASS"
