#!/bin/bash
# End-to-end: `kubectl apply --server-side` against `kvol serve`: create, update, kubectl's exact
# conflict output, --force-conflicts moving ownership (managedFields), and upgrading an object
# made by client-side apply without a conflict.
# Usage: server_side_apply.sh <path-to-kvol> <source-dir>
set -u
KVOL=$(realpath "${1:?usage: server_side_apply.sh <kvol> <source-dir>}")
source "$(dirname "${BASH_SOURCE[0]}")/lib/kubectl_e2e.bash"

start_kvol --node-name e2e-node
# Owners as manager/operation:fields, one line per managedFields entry.
owners() {
  $K get "$1" --show-managed-fields \
    -o jsonpath='{range .metadata.managedFields[*]}{.manager}/{.operation}:{.fieldsV1}{"\n"}{end}'
}
cm() {  # cm NAME KEY=VALUE...
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n' "$1"
  shift
  for kv in "$@"; do printf '  %s: "%s"\n' "${kv%%=*}" "${kv#*=}"; done
}

# Create, then update.
cm x key=v1 other=o >cm.yaml
expect "ssa create" "configmap/x serverside-applied" "$($K apply --server-side -f cm.yaml 2>&1)"
expect "managedFields hidden by default" "0" "$($K get cm x -o yaml | grep -c managedFields)"
expect "owner after create" 'kubectl/Apply:{"f:data":{"f:key":{},"f:other":{}}}' "$(owners cm/x)"
cm x key=v2 >cm.yaml
expect "ssa update" "configmap/x serverside-applied" "$($K apply --server-side -f cm.yaml 2>&1)"
expect "updated and pruned" '{"key":"v2"}' "$($K get cm x -o jsonpath='{.data}')"

# Another manager with another value: kubectl's conflict output, exit 1, nothing changed.
cm x key=mine >other.yaml
out=$($K apply --server-side --field-manager=other -f other.yaml 2>&1)
rc=$?
expect "conflict exit code" "1" "$rc"
expect "conflict output" 'error: Apply failed with 1 conflict: conflict with "kubectl": .data.key
Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the `--force-conflicts` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'\''ll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts' "$out"
expect "unchanged after conflict" "v2" "$($K get cm x -o jsonpath='{.data.key}')"

# --force-conflicts: the value and the ownership move.
expect "force" "configmap/x serverside-applied" \
  "$($K apply --server-side --field-manager=other --force-conflicts -f other.yaml 2>&1)"
expect "forced value" "mine" "$($K get cm x -o jsonpath='{.data.key}')"
expect "ownership moved" 'other/Apply:{"f:data":{"f:key":{}}}' "$(owners cm/x)"
expect "show-managed-fields yaml" "  - apiVersion: v1
    fieldsType: FieldsV1
    fieldsV1:
      f:data:
        f:key: {}
    manager: other
    operation: Apply" \
  "$($K get cm x -o yaml --show-managed-fields | sed -n '/managedFields:/,/operation:/p' | tail -n +2)"

# An Update (kubectl patch) of a field owned by an applier takes it over.
expect "patch" "configmap/x patched" \
  "$($K patch cm x --type merge -p '{"data":{"key":"patched"}}' 2>&1)"
expect "patch owner" 'kubectl-patch/Update:{"f:data":{"f:key":{}}}' "$(owners cm/x)"

# A claim: server-side apply goes through admission (protection finalizer, default class).
cat >pvc.yaml <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
YAML
expect "ssa pvc" "persistentvolumeclaim/data serverside-applied" \
  "$($K apply --server-side -f pvc.yaml 2>&1)"
expect "pvc admission" "kubernetes.io/pvc-protection" \
  "$($K get pvc data -o jsonpath='{.metadata.finalizers[0]}')"
expect "pvc owner" 'kubectl/Apply:{"f:spec":{"f:accessModes":{},"f:resources":{"f:requests":{"f:storage":{}}}}}' \
  "$(owners pvc/data)"

# Client-side apply first, then server-side with a changed value: no conflict (the
# kubectl-client-side-apply ownership is upgraded, as Kubernetes documents).
cm csa key=v1 >csa.yaml
expect "csa create" "configmap/csa created" "$($K apply -f csa.yaml 2>&1)"
expect "csa owner" 'kubectl-client-side-apply/Update:{"f:data":{".":{},"f:key":{}},"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}}}}' \
  "$(owners cm/csa)"
cm csa key=v2 >csa.yaml
expect "csa -> ssa" "configmap/csa serverside-applied" "$($K apply --server-side -f csa.yaml 2>&1)"
expect "csa -> ssa value" "v2" "$($K get cm csa -o jsonpath='{.data.key}')"
expect "csa -> ssa last-applied" '{"apiVersion":"v1","data":{"key":"v2"},"kind":"ConfigMap","metadata":{"name":"csa","namespace":"default"}}' \
  "$($K get cm csa -o jsonpath='{.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}')"
echo "owners after upgrade:"; owners cm/csa | sed 's/^/    /'
expect "csa -> ssa managers" "kubectl/Apply" "$(owners cm/csa | cut -d: -f1 | grep -v kubectl-last-applied)"

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS failure(s)"
  exit 1
fi
echo "all server-side apply checks passed"
