#!/bin/bash
# End-to-end crash test of the binder: N static PVs and N claims are applied while `kvol serve` is
# SIGKILLed KILLS times at random moments and restarted on the same data directory; afterwards every
# claim must be Bound, no PV may be bound to two claims, and each PV's claimRef must name the claim
# that names it.
# Usage: binder_crash.sh <path-to-kvol> <source-dir> [N=300] [KILLS=3] [SETTLE_SECONDS=30] [MAX_GAP_TENTHS=9]
# (a kill comes 0.1 .. MAX_GAP_TENTHS/10 seconds after the previous ready line).
set -u
KVOL=$(realpath "${1:?usage: binder_crash.sh <kvol> <source-dir> [N] [KILLS] [SETTLE_SECONDS]}")
N=${3:-300}
KILLS=${4:-3}
SETTLE=${5:-30}
MAXGAP=${6:-9}
source "$(dirname "${BASH_SOURCE[0]}")/lib/kubectl_e2e.bash"
APPLIER=
e2e_before_cleanup() {
  if [ -n "$APPLIER" ]; then kill "$APPLIER" 2>/dev/null; wait "$APPLIER" 2>/dev/null; fi
}

STARTS=0
# start: run `kvol serve` on $DATA and wait for its ready line (kubeconfig is rewritten each time).
start() {
  STARTS=$((STARTS + 1))
  local out=$WORK/stdout.$STARTS
  "$KVOL" serve --data-dir "$DATA" --listen 127.0.0.1:0 >"$out" 2>"$WORK/stderr.$STARTS" &
  PID=$!
  for _ in $(seq 1 400); do
    [ -s "$out" ] && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
  done
  if ! grep -qE '^kvol ready http://127\.0\.0\.1:[0-9]+$' "$out"; then
    echo "FAIL: no ready line on start $STARTS; stderr:"
    tail -20 "$WORK/stderr.$STARTS"
    exit 1
  fi
}

export KUBECONFIG=$DATA/kubeconfig
K="kubectl --cache-dir $WORK/cache --request-timeout=5s"
cd "$WORK"

# One multi-document manifest: a class that provisions (kvol.io/local, Immediate), then PVs (1Gi,
# class "") and claims interleaved so binding starts while objects are still arriving, and P claims
# of the class, whose volumes are provisioned while the kills happen.
P=$((N / 10 > 10 ? N / 10 : 10))
TOTAL=$((N + P))
{
  cat <<YAML
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: crash-fast
provisioner: kvol.io/local
volumeBindingMode: Immediate
reclaimPolicy: Delete
YAML
  for i in $(seq 1 "$P"); do
    cat <<YAML
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: p-$i
spec:
  storageClassName: crash-fast
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
YAML
  done
  for i in $(seq 1 "$N"); do
    cat <<YAML
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-$i
spec:
  capacity:
    storage: 1Gi
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  hostPath:
    path: /tmp/kvol-crash/pv-$i
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: c-$i
spec:
  storageClassName: ""
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
YAML
  done
} >all.yaml

start
echo "ok: started ($N PVs + $N claims, $P provisioned claims, $KILLS kills)"
# The applier retries until one `kubectl apply` gets through whole (apply is idempotent).
(until $K apply -f all.yaml >apply.out 2>&1; do sleep 0.2; done) &
APPLIER=$!

for k in $(seq 1 "$KILLS"); do
  gap=$((RANDOM % MAXGAP + 1))
  sleep "$((gap / 10)).$((gap % 10))"
  kill -KILL "$PID"
  wait "$PID" 2>/dev/null
  start
done
BOUND_AT_LAST_KILL=$($K get pvc -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' 2>/dev/null | grep -c Bound)
echo "ok: $KILLS kills done; $BOUND_AT_LAST_KILL claims Bound after the last restart"

if ! wait "$APPLIER"; then fail "applier"; fi
APPLIER=

deadline=$((SECONDS + SETTLE))
while :; do
  BOUND=$($K get pvc -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' 2>/dev/null | grep -c '^Bound$')
  [ "$BOUND" -eq "$TOTAL" ] && break
  if [ $SECONDS -ge $deadline ]; then break; fi
  sleep 0.5
done
expect "every claim Bound within ${SETTLE}s" "$TOTAL" "$BOUND"

# claim name, its volumeName, phase; PV name, its claimRef, phase.
$K get pvc -o jsonpath='{range .items[*]}{.metadata.name} {.spec.volumeName} {.status.phase}{"\n"}{end}' |
  sort >claims.txt
$K get pv -o jsonpath='{range .items[*]}{.metadata.name} {.spec.claimRef.namespace}/{.spec.claimRef.name} {.status.phase}{"\n"}{end}' |
  sort >volumes.txt
expect "claims listed" "$TOTAL" "$(wc -l <claims.txt)"
expect "volumes listed (one provisioned per claim of the class, none twice)" "$TOTAL" "$(wc -l <volumes.txt)"
# No provisioned volume orphaned: the kvol.io/local directories are exactly the provisioned PVs.
expect "provisioned directories == provisioned PVs" \
  "$(awk '$1 ~ /^pvc-/ {print $1}' volumes.txt | sort)" "$(ls "$DATA/local" 2>/dev/null | sort)"
expect "no volume named by two claims" "" "$(awk 'NF >= 2 {print $2}' claims.txt | sort | uniq -d | head)"
# Every claim's volume has a claimRef naming that claim.
MISMATCH=$(awk 'NR == FNR { ref[$1] = $2; next } NF >= 3 && ref[$2] != "default/" $1 {
  print "claim " $1 " -> " $2 " but its claimRef is " ref[$2] }' volumes.txt claims.txt | head)
expect "each bound claim's volume points back at it" "" "$MISMATCH"
# Every PV that has a claimRef is named by that claim.
BACK=$(awk 'NR == FNR { vol[$1] = $2; next } $2 != "/" { split($2, r, "/"); if (vol[r[2]] != $1)
  print "pv " $1 " -> " $2 " but that claim names " vol[r[2]] }' claims.txt volumes.txt | head)
expect "each claimRef is returned by its claim" "" "$BACK"
expect "no claimRef names two volumes" "" "$(awk '$2 != "/" {print $2}' volumes.txt | sort | uniq -d | head)"
expect "Bound PVs == Bound claims" "$(grep -c ' Bound$' claims.txt)" "$(grep -c ' Bound$' volumes.txt)"

if [ $FAILS -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "PASS"
