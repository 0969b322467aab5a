#!/usr/bin/env bash
# End-to-end check of `kvol get|describe|apply|delete` against a real `kvol serve`.
# Usage: bash test/e2e/kvol_cli.sh <kvol-binary> <source-dir>
set -u
KVOL=${1:?kvol binary}
SRC=${2:?source dir}
DIR=$(mktemp -d)
OUT=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$DIR" "$OUT"
}
trap cleanup EXIT

fail=0
check() {  # check NAME EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    echo "ok   $1"
  else
    echo "FAIL $1"
    echo "  expected: $(printf '%q' "$2")"
    echo "  actual:   $(printf '%q' "$3")"
    fail=1
  fi
}
contains() {  # contains NAME NEEDLE HAYSTACK
  if [[ "$3" == *"$2"* ]]; then
    echo "ok   $1"
  else
    echo "FAIL $1: $(printf '%q' "$2") not in:"
    echo "$3" | sed 's/^/    /'
    fail=1
  fi
}

"$KVOL" serve --data-dir "$DIR" --listen 127.0.0.1:0 --no-node >"$OUT/serve.out" 2>"$OUT/serve.err" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  grep -q '^kvol ready ' "$OUT/serve.out" 2>/dev/null && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "FAIL kvol serve exited:"; cat "$OUT/serve.err"; exit 1
  fi
  sleep 0.1
done
if ! grep -q '^kvol ready ' "$OUT/serve.out"; then
  echo "FAIL kvol serve not ready after 10s"; cat "$OUT/serve.err"; exit 1
fi
export KUBECONFIG="$DIR/kubeconfig"
export HOME="$OUT"  # no stray ~/.kube/config

cat >"$OUT/pvc.yaml" <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
  labels: {app: demo}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  resources:
    requests:
      storage: 1Gi
YAML
cat >"$OUT/sc.yaml" <<'YAML'
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: manual
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
YAML

# get on an empty namespace.
r=$("$KVOL" get pvc 2>&1); rc=$?
check "get pvc (empty) message" "No resources found in default namespace." "$r"
check "get pvc (empty) exit 0" 0 "$rc"

# apply: created, unchanged, configured.
r=$("$KVOL" apply -f "$OUT/sc.yaml" -f "$OUT/pvc.yaml" 2>&1)
check "apply creates" $'storageclass.storage.k8s.io/manual created\npersistentvolumeclaim/data created' "$r"
r=$("$KVOL" apply -f "$OUT/pvc.yaml" 2>&1)
check "apply again is unchanged" "persistentvolumeclaim/data unchanged" "$r"
sed -i 's/app: demo/app: demo2/' "$OUT/pvc.yaml"
r=$("$KVOL" apply -f "$OUT/pvc.yaml" 2>&1)
check "apply a label change is configured" "persistentvolumeclaim/data configured" "$r"
# apply creates first and patches on AlreadyExists: the errors of both paths are kubectl's.
sed 's/^  name: data$/  name: data\n  namespace: nowhere/' "$OUT/pvc.yaml" >"$OUT/pvc-nowhere.yaml"
r=$("$KVOL" apply -f "$OUT/pvc-nowhere.yaml" 2>&1); rc=$?
check "apply into a missing namespace" "Error from server (NotFound): error when creating \"$OUT/pvc-nowhere.yaml\": namespaces \"nowhere\" not found" "$r"
check "apply into a missing namespace exits 1" 1 "$rc"
sed 's/ReadWriteOnce/ReadWriteMany/' "$OUT/pvc.yaml" >"$OUT/pvc-rwx.yaml"
r=$("$KVOL" apply -f "$OUT/pvc-rwx.yaml" 2>&1); rc=$?
contains "apply of an immutable change is refused" 'The PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after creation' "$r"
check "apply of an immutable change exits 1" 1 "$rc"
r=$("$KVOL" get pvc data -o jsonpath 2>&1); rc=$?
check "unknown output format fails" 1 "$rc"
r=$("$KVOL" get pvc data -o json 2>&1)
contains "label changed on the server" '"app": "demo2"' "$r"
contains "last-applied annotation stored" 'kubectl.kubernetes.io/last-applied-configuration' "$r"

# get: the server's Table rendered as kubectl renders it.
r=$("$KVOL" get pvc 2>&1)
head=$(echo "$r" | head -1)
check "get pvc header" "NAME   STATUS    VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   VOLUMEATTRIBUTESCLASS   AGE" "$head"
contains "get pvc row" "data   Pending                                      manual         <unset>" "$r"
r=$("$KVOL" get pvc -o wide 2>&1)
contains "get pvc -o wide has VOLUMEMODE" "VOLUMEMODE" "$r"
r=$("$KVOL" get pvc -A 2>&1)
contains "get pvc -A has NAMESPACE" "NAMESPACE   NAME   STATUS" "$r"
contains "get pvc -A row" "default     data   Pending" "$r"
r=$("$KVOL" get sc manual 2>&1)
contains "get sc columns" "NAME     PROVISIONER                    RECLAIMPOLICY   VOLUMEBINDINGMODE      ALLOWVOLUMEEXPANSION   AGE" "$r"
contains "get sc row" "manual   kubernetes.io/no-provisioner   Delete          WaitForFirstConsumer   false" "$r"
r=$("$KVOL" get persistentvolumeclaim/data -o name 2>&1)
check "get -o name" "persistentvolumeclaim/data" "$r"
r=$("$KVOL" get pvc -l app=demo2 -o name 2>&1)
check "get -l selects" "persistentvolumeclaim/data" "$r"
r=$("$KVOL" get pvc -l app=nope 2>&1)
check "get -l selects nothing" "No resources found in default namespace." "$r"
r=$("$KVOL" get pvc data -o yaml 2>&1)
contains "get -o yaml" $'kind: PersistentVolumeClaim\nmetadata:' "$r"
r=$("$KVOL" get pvc -o yaml 2>&1)
contains "get list -o yaml is a List" $'kind: List' "$r"
r=$("$KVOL" get pvc nope 2>&1); rc=$?
check "get missing" 'Error from server (NotFound): persistentvolumeclaims "nope" not found' "$r"
check "get missing exit 1" 1 "$rc"
r=$("$KVOL" get nosuchtype 2>&1); rc=$?
check "get unknown type" 'error: the server doesn'"'"'t have a resource type "nosuchtype"' "$r"

# describe
r=$("$KVOL" describe pvc data 2>&1)
contains "describe pvc Name" "Name:          data" "$r"
contains "describe pvc Namespace" "Namespace:     default" "$r"
contains "describe pvc StorageClass" "StorageClass:  manual" "$r"
contains "describe pvc Status" "Status:        Pending" "$r"
contains "describe pvc Labels" "Labels:        app=demo2" "$r"
contains "describe pvc Used By" "Used By:       <none>" "$r"
r=$("$KVOL" describe sc manual 2>&1)
contains "describe sc" "IsDefaultClass:  No" "$r"
contains "describe sc provisioner" "Provisioner:           kubernetes.io/no-provisioner" "$r"

# delete (a ConfigMap has no finalizer; a claim waits for the pvc-protection controller)
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: "1"}\n' >"$OUT/cm.yaml"
"$KVOL" apply -f "$OUT/cm.yaml" >/dev/null 2>&1
r=$("$KVOL" get cm 2>&1)
contains "get configmap" $'NAME   DATA   AGE\ncfg    1      ' "$r"
r=$("$KVOL" delete -f "$OUT/cm.yaml" 2>&1)
check "delete -f" 'configmap "cfg" deleted' "$r"
r=$("$KVOL" get cm cfg 2>&1)
check "gone after delete" 'Error from server (NotFound): configmaps "cfg" not found' "$r"
r=$("$KVOL" delete cm cfg 2>&1); rc=$?
check "delete missing" 'Error from server (NotFound): configmaps "cfg" not found' "$r"
check "delete missing exit 1" 1 "$rc"
r=$("$KVOL" delete cm cfg --ignore-not-found 2>&1); rc=$?
check "delete --ignore-not-found" "0:" "$rc:$r"
r=$(timeout 30 "$KVOL" delete pvc data 2>&1); rc=$?
check "delete pvc returns once the claim is gone (pvc-protection finalizer removed)" \
  '0:persistentvolumeclaim "data" deleted' "$rc:$r"
r=$("$KVOL" get pvc data 2>&1)
check "claim gone after delete" 'Error from server (NotFound): persistentvolumeclaims "data" not found' "$r"
r=$("$KVOL" delete sc/manual 2>&1)
check "delete TYPE/NAME" 'storageclass.storage.k8s.io "manual" deleted' "$r"

# apply --wait on a claim nothing binds: a clear timeout error.
sed -i 's/name: data/name: waiter/' "$OUT/pvc.yaml"
r=$("$KVOL" apply -f "$OUT/pvc.yaml" --wait --timeout 0.5 2>&1); rc=$?
contains "apply --wait times out" "error: timed out waiting for the condition on persistentvolumeclaims/waiter" "$r"
check "apply --wait timeout exit 1" 1 "$rc"

# Server errors are printed as kubectl prints them.
cat >"$OUT/bad.yaml" <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: bad-claim
spec:
  resources: {requests: {storage: 1Gi}}
YAML
r=$("$KVOL" apply -f "$OUT/bad.yaml" 2>&1); rc=$?
contains "apply invalid" 'The PersistentVolumeClaim "bad-claim" is invalid' "$r"
check "apply invalid exit 1" 1 "$rc"

# A dead server.
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
r=$("$KVOL" get pvc 2>&1); rc=$?
contains "connection refused" "was refused - did you specify the right host or port?" "$r"

exit $fail
