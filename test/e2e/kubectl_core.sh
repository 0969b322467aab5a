#!/bin/bash
# End-to-end: the unmodified kubectl drives `kvol serve` (discovery, get/create/apply/patch/delete,
# describe, watch, wait), checked against kubectl's exact output.
# Usage: kubectl_core.sh <path-to-kvol> <source-dir>
set -u
KVOL=$(realpath "${1:?usage: kubectl_core.sh <kvol> <source-dir>}")
source "$(dirname "${BASH_SOURCE[0]}")/lib/kubectl_e2e.bash"
# Table output with the AGE column's value made stable.
ages() { sed -E 's/\b[0-9]+(s|m)\b/AGE/g'; }

"$KVOL" serve --data-dir "$DATA" --listen 127.0.0.1:0 --node-name e2e-node --zone zone-a \
  >"$WORK/stdout" 2>"$WORK/stderr" &
PID=$!
for _ in $(seq 1 100); do
  [ -s "$WORK/stdout" ] && break
  sleep 0.05
done
READY=$(head -1 "$WORK/stdout")
if ! [[ "$READY" =~ ^kvol\ ready\ http://127\.0\.0\.1:[0-9]+$ ]]; then
  echo "FAIL: no ready line; stdout: $READY"; cat "$WORK/stderr"; exit 1
fi
URL=${READY#kvol ready }
echo "ok: ready line ($READY)"
expect "token file mode" "600" "$(stat -c %a "$DATA/token")"
grep -q "server: $URL" "$DATA/kubeconfig" || fail "kubeconfig server"
grep -q "current-context: kvol" "$DATA/kubeconfig" || fail "kubeconfig context"

export KUBECONFIG=$DATA/kubeconfig
K="kubectl --cache-dir $WORK/cache"
cd "$WORK"

# Authentication: a request with a wrong token is refused.
expect "wrong token" "401" "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' "$URL/api")"
expect "healthz" "ok" "$(curl -s "$URL/healthz")"

# Discovery.
expect "api-resources storage kinds" \
"persistentvolumeclaims   pvc                 v1                           true         PersistentVolumeClaim
persistentvolumes        pv                  v1                           false        PersistentVolume
storageclasses           sc                  storage.k8s.io/v1            false        StorageClass" \
  "$($K api-resources 2>&1 | grep -E '^(persistentvolume|storageclasses)')"

# Built-in objects.
expect "get sc" \
"NAME                 PROVISIONER     RECLAIMPOLICY   VOLUMEBINDINGMODE      ALLOWVOLUMEEXPANSION   AGE
local                kvol.io/local   Delete          WaitForFirstConsumer   false                  AGE
standard (default)   kvol.io/block   Delete          WaitForFirstConsumer   true                   AGE" \
  "$($K get sc 2>&1 | ages)"
expect "get nodes" "e2e-node Ready=True kubernetes.io/arch=amd64,kubernetes.io/hostname=e2e-node,kubernetes.io/os=linux,topology.kubernetes.io/zone=zone-a" \
  "$($K get nodes -o jsonpath='{.items[0].metadata.name} Ready={.items[0].status.conditions[?(@.type=="Ready")].status} {.items[0].metadata.labels}' 2>&1 |
     sed -E 's/[{}"]//g; s/:/=/g')"
expect "namespaces" "namespace/default namespace/kube-node-lease namespace/kube-public namespace/kube-system" \
  "$($K get ns -o name | tr '\n' ' ' | sed 's/ $//')"

cat >pvc.yaml <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data-claim
  labels:
    app: demo
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
YAML
cat >pv.yaml <<'YAML'
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-a
  labels:
    tier: gold
spec:
  capacity:
    storage: 5Gi
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: manual
  hostPath:
    path: /tmp/pv-a
YAML
cat >bad.yaml <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: bad
spec:
  foo: 1
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
YAML

expect "create -f" "persistentvolumeclaim/data-claim created" "$($K create -f pvc.yaml 2>&1)"
expect "create -f again" \
  'Error from server (AlreadyExists): error when creating "pvc.yaml": persistentvolumeclaims "data-claim" already exists' \
  "$($K create -f pvc.yaml 2>&1)"
expect "create in a missing namespace" \
  'Error from server (NotFound): error when creating "pvc.yaml": namespaces "nowhere" not found' \
  "$($K create -f pvc.yaml -n nowhere 2>&1)"
expect "strict field validation" \
  'Error from server (BadRequest): error when creating "bad.yaml": PersistentVolumeClaim in version "v1" cannot be handled as a PersistentVolumeClaim: strict decoding error: unknown field "spec.foo"' \
  "$($K create -f bad.yaml 2>&1)"
expect "default class and finalizer" "standard [kubernetes.io/pvc-protection] 1" \
  "$($K get pvc data-claim -o jsonpath='{.spec.storageClassName} {.metadata.finalizers} {.metadata.generation}' | sed 's/"//g')"

expect "apply -f (created)" "persistentvolume/pv-a created" "$($K apply -f pv.yaml 2>&1)"
expect "apply -f (unchanged)" "persistentvolume/pv-a unchanged" "$($K apply -f pv.yaml 2>&1)"
sed -i 's/gold/silver/' pv.yaml
expect "apply -f (configured)" "persistentvolume/pv-a configured" "$($K apply -f pv.yaml 2>&1)"
expect "pv protection finalizer" "kubernetes.io/pv-protection" \
  "$($K get pv pv-a -o jsonpath='{.metadata.finalizers[0]}')"

# (The PV's STATUS is Pending until a binder marks it Available; both are accepted.)
expect "get pv,pvc" \
"NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE
persistentvolume/pv-a 5Gi RWO Retain PHASE manual <unset> AGE

NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE
persistentvolumeclaim/data-claim Pending standard <unset> AGE" \
  "$($K get pv,pvc 2>&1 | ages | tr -s ' ' | sed -E 's#^(persistentvolume/pv-a 5Gi RWO Retain) (Pending|Available)#\1 PHASE#')"
expect "get pvc -A" \
"NAMESPACE   NAME         STATUS    VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   VOLUMEATTRIBUTESCLASS   AGE
default     data-claim   Pending                                      standard       <unset>                 AGE" \
  "$($K get pvc -A 2>&1 | ages)"
expect "get pvc -n kube-system" "No resources found in kube-system namespace." "$($K get pvc -n kube-system 2>&1)"
expect "get pvc -o wide" \
"data-claim Pending standard <unset> AGE Filesystem" \
  "$($K get pvc -o wide 2>&1 | ages | sed -n 2p | tr -s ' ')"
expect "get -o name -l" "persistentvolume/pv-a" "$($K get pv -l tier=silver -o name 2>&1)"
expect "get -l (no match)" "No resources found" "$($K get pv -l tier=gold 2>&1)"
expect "get -o json" "PersistentVolumeClaim data-claim default" \
  "$($K get pvc data-claim -o json | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["kind"], o["metadata"]["name"], o["metadata"]["namespace"])')"
expect "get -o yaml" "  name: data-claim" "$($K get pvc data-claim -o yaml | grep '^  name:')"
expect "--field-selector" "data-claim" \
  "$($K get pvc --field-selector metadata.name=data-claim -o jsonpath='{.items[*].metadata.name}')"
expect "--field-selector unsupported" \
  'Error from server (BadRequest): Unable to find "/v1, Resource=persistentvolumeclaims" that match label selector "", field selector "spec.foo=x": field label not supported: spec.foo' \
  "$($K get pvc --field-selector spec.foo=x 2>&1)"
$K create -f - >/dev/null <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: alpha
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 3Gi
YAML
expect "--sort-by" "alpha data-claim" \
  "$($K get pvc --sort-by=.metadata.name --no-headers | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//')"
expect "--sort-by size" "data-claim alpha" \
  "$($K get pvc --sort-by=.spec.resources.requests.storage --no-headers | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//')"
expect "get missing" 'Error from server (NotFound): persistentvolumeclaims "nope" not found' "$($K get pvc nope 2>&1)"

# patch: strategic (default), merge, json, no change.
expect "patch strategic" "persistentvolumeclaim/data-claim patched" \
  "$($K patch pvc data-claim -p '{"metadata":{"labels":{"x":"1"}}}' 2>&1)"
expect "patch no change" "persistentvolumeclaim/data-claim patched (no change)" \
  "$($K patch pvc data-claim -p '{"metadata":{"labels":{"x":"1"}}}' 2>&1)"
expect "patch merge" "persistentvolumeclaim/data-claim patched" \
  "$($K patch pvc data-claim --type merge -p '{"metadata":{"labels":{"y":"2"}}}' 2>&1)"
expect "patch json" "persistentvolumeclaim/data-claim patched" \
  "$($K patch pvc data-claim --type json -p '[{"op":"remove","path":"/metadata/labels/y"}]' 2>&1)"
expect "labels after patches" "app=demo,x=1" \
  "$($K get pvc data-claim --show-labels --no-headers | awk '{print $NF}')"
expect "invalid update" \
  'The PersistentVolumeClaim "data-claim" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims' \
  "$($K patch pvc data-claim --type merge -p '{"spec":{"storageClassName":"other"}}' 2>&1 | head -1)"

# describe.
DESC=$($K describe pvc data-claim 2>&1)
for line in "Name:          data-claim" "Namespace:     default" "StorageClass:  standard" \
  "Status:        Pending" "Finalizers:    [kubernetes.io/pvc-protection]" "Used By:       <none>"; do
  grep -qxF "$line" <<<"$DESC" || fail "describe pvc: missing '$line'"
done
DESC=$($K describe pv pv-a 2>&1)
for line in "Name:            pv-a" "Labels:          tier=silver" "Reclaim Policy:  Retain" \
  "Capacity:        5Gi" "    Path:          /tmp/pv-a"; do
  grep -qxF "$line" <<<"$DESC" || fail "describe pv: missing '$line'"
done
echo "ok: describe"

# get -w sees an update; wait --for=jsonpath is met by it. (A ConfigMap: claims and volumes are
# now written by the controllers too, so their watch streams carry the binder's writes as well.)
$K create configmap watched --from-literal=k=v --dry-run=client -o yaml | $K apply -f - >/dev/null
$K label cm watched mode=off >/dev/null
timeout 6 $K get cm watched -w --no-headers -L mode >watch.out 2>&1 &
WATCH=$!
timeout 10 $K wait --for=jsonpath='{.metadata.labels.mode}'=on cm/watched --timeout=8s >wait.out 2>&1 &
WAIT=$!
sleep 1
$K label cm watched mode=on --overwrite >/dev/null
wait $WAIT
expect "wait --for=jsonpath" "configmap/watched condition met" "$(cat wait.out)"
sleep 0.5
kill $WATCH 2>/dev/null; wait $WATCH 2>/dev/null
expect "get -w" "watched off
watched on" "$(awk '{print $1, $NF}' watch.out)"
expect "wait timeout" "error: timed out waiting for the condition on persistentvolumeclaims/alpha" \
  "$($K wait --for=jsonpath='{.status.phase}'=Bound pvc/alpha --timeout=1s 2>&1)"

# delete: immediate, and one held by its finalizer until a patch removes it.
expect "delete sc-less pv" 'persistentvolume "pv-a" deleted' "$(timeout 20 $K delete pv pv-a --wait=false 2>&1)"
# The protection controller drops kubernetes.io/pvc-protection at once (no pod uses the claim), so
# hold the claim with a finalizer of our own.
$K patch pvc data-claim --type json -p '[{"op":"add","path":"/metadata/finalizers/-","value":"e2e.kvol.io/hold"}]' >/dev/null
timeout 20 $K delete pvc data-claim >delete.out 2>&1 &
DEL=$!
sleep 1.5
kill -0 $DEL 2>/dev/null || fail "delete returned while the finalizer was still there"
expect "marked for deletion" "Terminating" "$($K get pvc data-claim --no-headers | awk '{print $2}')"
$K patch pvc data-claim --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null
wait $DEL
expect "delete with finalizer" 'persistentvolumeclaim "data-claim" deleted' "$(cat delete.out)"
expect "gone" 'Error from server (NotFound): persistentvolumeclaims "data-claim" not found' \
  "$($K get pvc data-claim 2>&1)"
expect "delete missing -f" \
  'Error from server (NotFound): error when deleting "pvc.yaml": persistentvolumeclaims "data-claim" not found' \
  "$($K delete -f pvc.yaml 2>&1)"

# SIGTERM: clean stop, exit 0; the token survives a restart.
TOKEN=$(cat "$DATA/token")
kill -TERM $PID
wait $PID
expect "exit code after SIGTERM" "0" "$?"
PID=
"$KVOL" serve --data-dir "$DATA" --listen 127.0.0.1:0 --no-node >"$WORK/stdout2" 2>"$WORK/stderr2" &
PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/stdout2" ] && break; sleep 0.05; done
[ -s "$WORK/stdout2" ] || { fail "no ready line after restart"; cat "$WORK/stderr2"; }
expect "token kept across restarts" "$TOKEN" "$(cat "$DATA/token")"
expect "objects kept across restarts" "alpha" "$($K get pvc -o jsonpath='{.items[*].metadata.name}')"

if [ $FAILS -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "PASS"
