#!/bin/bash
# End-to-end: Secrets are encrypted at rest (DIR/encryption-keys.json, AES-GCM) while kubectl
# reads them back in the clear; they survive restarts and a key rotation.
# Usage: secrets_at_rest.sh <path-to-kvol> <source-dir>
set -u
KVOL=$(realpath "${1:?usage: secrets_at_rest.sh <kvol> <source-dir>}")
source "$(dirname "${BASH_SOURCE[0]}")/lib/kubectl_e2e.bash"

PLAIN=s3cr3t-value-XYZ
B64=$(printf %s "$PLAIN" | base64)  # how the API stores Secret data
CLEAR=config-value-in-the-clear-42
N=0
# start: runs kvol serve on $DATA; its stderr goes to $WORK/stderr.$N.
start() {
  N=$((N + 1))
  "$KVOL" serve --data-dir "$DATA" --listen 127.0.0.1:0 --no-node \
    >"$WORK/stdout.$N" 2>"$WORK/stderr.$N" &
  PID=$!
  for _ in $(seq 1 100); do
    [ -s "$WORK/stdout.$N" ] && break
    sleep 0.05
  done
  if ! grep -q '^kvol ready ' "$WORK/stdout.$N"; then
    echo "FAIL: no ready line (start $N)"; cat "$WORK/stderr.$N"; exit 1
  fi
}
stop() {
  kill -TERM "$PID"
  wait "$PID"
  expect "exit code after SIGTERM (start $N)" "0" "$?"
  PID=
}
# on_disk TEXT: how many lines of the store's files (kvol.db, -wal, -shm) contain TEXT.
on_disk() { cat "$DATA"/kvol.db* | grep -a -c -F -- "$1"; }
password() { $K get secret db-pass -o jsonpath='{.data.password}' | base64 -d; }

start
export KUBECONFIG=$DATA/kubeconfig
K="kubectl --cache-dir $WORK/cache"
cd "$WORK"

expect "key file mode" "600" "$(stat -c %a "$DATA/encryption-keys.json")"
expect "key file: one key named key1" "key1" \
  "$(python3 -c 'import json,sys; print(" ".join(k["name"] for k in json.load(open(sys.argv[1]))["keys"]))' \
     "$DATA/encryption-keys.json")"

cat >objects.yaml <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: db-pass
  labels:
    app: db
stringData:
  password: $PLAIN
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  setting: $CLEAR
YAML
expect "apply" "secret/db-pass created
configmap/settings created" "$($K apply -f objects.yaml 2>&1)"
expect "get secret data" "$B64" "$($K get secret db-pass -o jsonpath='{.data.password}')"
expect "decoded" "$PLAIN" "$(password)"
expect "label selector on an encrypted secret" "secret/db-pass" "$($K get secrets -l app=db -o name)"
expect "describe shows the key's size" "password:  16 bytes" \
  "$($K describe secret db-pass | grep '^password:')"

expect "plain value not on disk" "0" "$(on_disk "$PLAIN")"
expect "base64 value not on disk" "0" "$(on_disk "$B64")"
[ "$(on_disk "$CLEAR")" -gt 0 ] || fail "the ConfigMap's value should be on disk in the clear"
[ "$(on_disk "k8s:enc:aesgcm:v1:key1:")" -gt 0 ] || fail "no k8s:enc:aesgcm:v1:key1: value on disk"

# Restart: the secret still reads; still nothing in the clear once the WAL is checkpointed.
stop
expect "plain value not on disk after stop" "0" "$(on_disk "$PLAIN")"
expect "base64 value not on disk after stop" "0" "$(on_disk "$B64")"
start
expect "secret after restart" "$PLAIN" "$(password)"

# Key rotation: a new key first in the file; the restart re-encrypts the secret with it.
stop
KEY1=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["keys"][0]))' \
  "$DATA/encryption-keys.json")
KEY2="{\"name\": \"key2\", \"secret\": \"$(head -c 32 /dev/urandom | base64 -w0)\"}"
printf '{"keys": [%s, %s]}\n' "$KEY2" "$KEY1" >"$DATA/encryption-keys.json"
start
grep -q "encrypted 1 secret(s) with the first key" "$WORK/stderr.$N" ||
  fail "no re-encryption logged: $(cat "$WORK/stderr.$N")"
expect "secret after adding key2" "$PLAIN" "$(password)"
$K create secret generic later --from-literal=token=another-XYZ-value >/dev/null
stop
[ "$(on_disk "k8s:enc:aesgcm:v1:key2:")" -gt 0 ] || fail "no value encrypted with key2"
# key1 removed: everything was rewritten with key2, so everything still reads.
printf '{"keys": [%s]}\n' "$KEY2" >"$DATA/encryption-keys.json"
start
expect "secret with key1 removed" "$PLAIN" "$(password)"
expect "second secret with key1 removed" "another-XYZ-value" \
  "$($K get secret later -o jsonpath='{.data.token}' | base64 -d)"
stop
expect "no plain value on disk at the end" "0" "$(on_disk "$PLAIN")"

if [ $FAILS -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "PASS"
