#!/bin/bash
# End-to-end: `kvol serve` on a non-loopback address serves HTTPS only, with a self-signed CA made
# at the first start (DIR/pki) and inline in DIR/kubeconfig. The unmodified kubectl works with
# that kubeconfig (get, create, watch), the in-process node agent and a separate `kvol node
# --certificate-authority` register over https, plain http is refused, https without the token
# gets 401, and a second start reuses the certificates.
# Usage: https_kubectl.sh <path-to-kvol> <source-dir>
set -u
KVOL=$(realpath "${1:?usage: https_kubectl.sh <kvol> <source-dir>}")
source "$(dirname "${BASH_SOURCE[0]}")/lib/kubectl_e2e.bash"
NODE_PID=
e2e_before_cleanup() {
  if [ -n "$NODE_PID" ]; then kill "$NODE_PID" 2>/dev/null; wait "$NODE_PID" 2>/dev/null; fi
}
for tool in openssl curl; do
  command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 0; }
done
# The machine's first non-loopback IPv4 address (the certificate must cover it).
IP=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.' | grep -v '^127\.' | head -1)

# start_https: `kvol serve --listen 0.0.0.0:0`; sets PID, URL and PORT.
start_https() {
  : >"$WORK/stdout"
  "$KVOL" serve --data-dir "$DATA" --listen 0.0.0.0:0 --node-name e2e-https \
    >"$WORK/stdout" 2>"$WORK/stderr" &
  PID=$!
  for _ in $(seq 1 200); do
    [ -s "$WORK/stdout" ] && break
    sleep 0.05
  done
  local ready
  ready=$(head -1 "$WORK/stdout")
  if ! [[ "$ready" =~ ^kvol\ ready\ (https://127\.0\.0\.1:([0-9]+))$ ]]; then
    echo "FAIL: no https ready line; stdout: $ready"
    cat "$WORK/stderr"
    exit 1
  fi
  URL=${BASH_REMATCH[1]}
  PORT=${BASH_REMATCH[2]}
  echo "ok: ready line ($ready)"
}
stop_server() {
  kill "$PID"
  wait "$PID"
  expect "serve exits 0 on SIGTERM" 0 "$?"
  PID=
}

start_https
export KUBECONFIG=$DATA/kubeconfig
K="kubectl --cache-dir $WORK/cache"
cd "$WORK" || exit 1
PKI=$DATA/pki

# Certificates and kubeconfig.
expect "pki modes" "700 600 644 600 644" \
  "$(stat -c %a "$PKI" "$PKI/ca.key" "$PKI/ca.crt" "$PKI/server.key" "$PKI/server.crt" | tr '\n' ' ' | sed 's/ $//')"
expect "CA verifies the serving certificate" "$PKI/server.crt: OK" \
  "$(openssl verify -CAfile "$PKI/ca.crt" "$PKI/server.crt" 2>&1)"
SANS=$(openssl x509 -in "$PKI/server.crt" -noout -ext subjectAltName 2>&1)
for want in "IP Address:127.0.0.1" "DNS:localhost" "IP Address:0:0:0:0:0:0:0:1" ${IP:+"IP Address:$IP"}; do
  grep -qF "$want" <<<"$SANS" || fail "serving certificate lacks $want: $SANS"
done
expect "CA basicConstraints" "CA:TRUE" \
  "$(openssl x509 -in "$PKI/ca.crt" -noout -ext basicConstraints | tail -1 | tr -d ' ')"
expect "kubeconfig server" "    server: $URL" "$(grep '^    server:' "$DATA/kubeconfig")"
expect "kubeconfig CA inline" "    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")" \
  "$(grep 'certificate-authority-data:' "$DATA/kubeconfig")"
expect "kubeconfig token" "    token: $(cat "$DATA/token")" "$(grep '^    token:' "$DATA/kubeconfig")"

# kubectl over https with the generated kubeconfig.
expect "get ns" "namespace/default namespace/kube-node-lease namespace/kube-public namespace/kube-system" \
  "$($K get ns -o name 2>&1 | tr '\n' ' ' | sed 's/ $//')"
expect "in-process node agent registered over https" "e2e-https True" \
  "$($K get node e2e-https -o jsonpath='{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}' 2>&1)"
expect "create configmap" "configmap/one created" "$($K create configmap one --from-literal=a=b 2>&1)"
expect "get configmap" "b" "$($K get configmap one -o jsonpath='{.data.a}' 2>&1)"
$K get configmaps --watch-only -o name >"$WORK/watch.out" 2>&1 &
WATCH=$!
sleep 1
$K create configmap two --from-literal=c=d >/dev/null 2>&1
for _ in $(seq 1 50); do
  grep -q two "$WORK/watch.out" && break
  sleep 0.1
done
kill "$WATCH" 2>/dev/null
wait "$WATCH" 2>/dev/null
expect "watch over https" "configmap/two" "$(cat "$WORK/watch.out")"
if [ -n "$IP" ]; then
  expect "kubectl through the machine's address" "configmap/one" \
    "$($K --server "https://$IP:$PORT" get configmap one -o name 2>&1)"
fi
expect "kvol get over https" "one" "$("$KVOL" get configmap one --kubeconfig "$DATA/kubeconfig" -o name 2>&1 | sed 's|.*/||')"

# Plain http is refused, https needs the CA and the token.
expect "plain http refused" "400" \
  "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/namespaces")"
expect "plain http answer" "Client sent an HTTP request to an HTTPS server." \
  "$(curl -s "http://127.0.0.1:$PORT/api/v1/namespaces")"
curl -s -o /dev/null "https://127.0.0.1:$PORT/healthz"
expect "https without the CA fails verification (curl exit 60)" 60 "$?"
expect "https without a token (loopback)" 401 \
  "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$PKI/ca.crt" "https://127.0.0.1:$PORT/api/v1/namespaces")"
if [ -n "$IP" ]; then
  expect "https without a token (machine address)" 401 \
    "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$PKI/ca.crt" "https://$IP:$PORT/api/v1/namespaces")"
fi
expect "https with the token" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$PKI/ca.crt" -H "Authorization: Bearer $(cat "$DATA/token")" "https://127.0.0.1:$PORT/api/v1/namespaces")"
expect "ALPN http/1.1" "ALPN: server accepted http/1.1" \
  "$(curl -sv -o /dev/null --cacert "$PKI/ca.crt" "https://127.0.0.1:$PORT/healthz" 2>&1 | grep -o 'ALPN: server accepted http/1.1' | head -1)"

# `kvol node` alone, over https with --certificate-authority.
NODE_DIR=$WORK/node2
"$KVOL" node --server "https://${IP:-127.0.0.1}:$PORT" --token "$(cat "$DATA/token")" \
  --certificate-authority "$PKI/ca.crt" --data-dir "$NODE_DIR" --node-name e2e-https-2 \
  >"$WORK/node.out" 2>"$WORK/node.err" &
NODE_PID=$!
for _ in $(seq 1 200); do
  [ -s "$WORK/node.out" ] && break
  sleep 0.05
done
expect "kvol node ready over https" "kvol node ready e2e-https-2" "$(cat "$WORK/node.out")"
[ -s "$WORK/node.out" ] || tail -5 "$WORK/node.err"
expect "second node registered" "node/e2e-https-2" "$($K get node e2e-https-2 -o name 2>&1)"
kill "$NODE_PID"
wait "$NODE_PID"
expect "kvol node exits 0 on SIGTERM" 0 "$?"
NODE_PID=

# A second start reuses the CA and the serving certificate.
CA_FP=$(openssl x509 -in "$PKI/ca.crt" -noout -fingerprint -sha256)
CERT_FP=$(openssl x509 -in "$PKI/server.crt" -noout -fingerprint -sha256)
stop_server
start_https
expect "same CA after restart" "$CA_FP" "$(openssl x509 -in "$PKI/ca.crt" -noout -fingerprint -sha256)"
expect "same serving certificate after restart" "$CERT_FP" \
  "$(openssl x509 -in "$PKI/server.crt" -noout -fingerprint -sha256)"
grep -q "made a" "$WORK/stderr" && fail "second start made certificates: $(grep 'made a' "$WORK/stderr")"
expect "kubectl after restart" "configmap/one configmap/two" \
  "$($K get configmaps -o name 2>&1 | grep -v kube-root | tr '\n' ' ' | sed 's/ $//')"
stop_server

echo "FAILS=$FAILS"
[ "$FAILS" -eq 0 ]
