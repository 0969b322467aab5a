#!/bin/bash
# End-to-end: kubectl 1.32's typed `create` commands, which POST application/vnd.kubernetes.protobuf
# bodies (create namespace|configmap|secret) and accept kvol's JSON replies; checked against
# kubectl's exact output. Kinds kvol cannot decode from protobuf get a clear 415.
# Usage: kubectl_create_typed.sh <path-to-kvol> <source-dir>
set -u
KVOL=$(realpath "${1:?usage: kubectl_create_typed.sh <kvol> <source-dir>}")
source "$(dirname "${BASH_SOURCE[0]}")/lib/kubectl_e2e.bash"
ages() { sed -E 's/\b[0-9]+(s|m)\b/AGE/g'; }

start_kvol --no-node

expect "create namespace" "namespace/team-a created" "$($K create namespace team-a 2>&1)"
expect "create configmap" "configmap/app created" \
  "$($K create configmap app --from-literal=a=b --from-literal=mode=prod -n team-a 2>&1)"
expect "create secret" "secret/s created" \
  "$($K create secret generic s --from-literal=password=hunter2 2>&1)"
# The typed client decodes kvol's JSON reply (Accept: protobuf,json).
expect "create -o jsonpath reads the reply" 'bin {"blob":"AP/+IGJpbmFyeQo="} {"empty":""}' \
  "$(printf '\x00\xff\xfe binary\n' >bin.dat
     $K create configmap bin --from-file=blob=bin.dat --from-literal=empty= \
       -o jsonpath='{.metadata.name} {.binaryData} {.data}' 2>&1)"

expect "get namespace" "NAME     STATUS   AGE
team-a   Active   AGE" "$($K get namespace team-a 2>&1 | ages)"
expect "get configmap" "NAME   DATA   AGE
app    2      AGE" "$($K get configmap app -n team-a 2>&1 | ages)"
expect "configmap data" '{"a":"b","mode":"prod"}' \
  "$($K get configmap app -n team-a -o jsonpath='{.data}' 2>&1)"
expect "get secret" "NAME   TYPE     DATA   AGE
s      Opaque   1      AGE" "$($K get secret s 2>&1 | ages)"
expect "secret value" "hunter2" \
  "$($K get secret s -o jsonpath='{.data.password}' 2>&1 | base64 -d)"
expect "secret in default namespace" "default" \
  "$($K get secret s -o jsonpath='{.metadata.namespace}' 2>&1)"

# Errors keep kubectl's wording.
expect "create namespace twice" 'Error from server (AlreadyExists): namespaces "team-a" already exists' \
  "$($K create namespace team-a 2>&1)"
expect "create secret twice" 'error: failed to create secret secrets "s" already exists' \
  "$($K create secret generic s --from-literal=password=x 2>&1)"
expect "create deployment (no protobuf decoder)" \
  "error: failed to create deployment: the body of the request was in an unknown format - accepted media types include: application/json (kvol accepts application/vnd.kubernetes.protobuf only for kinds ConfigMap, Namespace, Secret, not Deployment)" \
  "$($K create deployment web --image=nginx 2>&1)"

if [ "$FAILS" -ne 0 ]; then
  echo "FAILED: $FAILS"
  exit 1
fi
echo "PASS"
