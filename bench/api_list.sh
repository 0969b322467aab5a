#!/usr/bin/env bash
# Whole-process list figures of `kvol serve` (DESIGN.md / issue 4: `kubectl get pvc` over 10,000
# claims, the server's part under 200 ms). Starts a fresh `kvol serve` on the embedded store,
# creates COUNT claims (storageClassName "none", so they stay Pending; created by one curl with
# parallel POSTs), then times, ROUNDS times each, reporting the median (and min/max):
#   - the server's part of a raw list: curl's time_total of GET /api/v1/persistentvolumeclaims,
#     once with Accept: application/json, once with the Table Accept header kubectl sends;
#   - the whole `kubectl get pvc -A` command (kubeconfig written by kvol serve).
# Usage: bench/api_list.sh <kvol-binary> [count=10000] [rounds=10]
set -u
K=${1:?usage: api_list.sh <kvol-binary> [count] [rounds]}
COUNT=${2:-10000}
ROUNDS=${3:-10}
ulimit -n 20000 2>/dev/null || true
D=$(mktemp -d /tmp/kvol-apilist.XXXXXX)
P=
cleanup() {
  if [ -n "$P" ]; then kill "$P" 2>/dev/null && wait "$P" 2>/dev/null; fi
  rm -rf "$D"
}
trap cleanup EXIT
"$K" serve --data-dir "$D/d" --listen 127.0.0.1:0 >"$D/out" 2>"$D/err" &
P=$!
for _ in $(seq 5000); do grep -q '^kvol ready ' "$D/out" 2>/dev/null && break; sleep 0.002; done
URL=$(awk '/^kvol ready /{print $3; exit}' "$D/out")
[ -n "$URL" ] || { echo "kvol serve did not become ready:" >&2; cat "$D/err" >&2; exit 1; }
export KUBECONFIG=$D/d/kubeconfig

# One curl, COUNT POSTs, 64 in flight (the store shares fsyncs between concurrent commits).
CFG=$D/create.curl
: >"$CFG"
for i in $(seq -w 1 "$COUNT"); do
  printf 'url = "%s/api/v1/namespaces/default/persistentvolumeclaims"\nheader = "Content-Type: application/json"\ndata = "{\\"apiVersion\\":\\"v1\\",\\"kind\\":\\"PersistentVolumeClaim\\",\\"metadata\\":{\\"name\\":\\"claim-%s\\"},\\"spec\\":{\\"storageClassName\\":\\"none\\",\\"accessModes\\":[\\"ReadWriteOnce\\"],\\"resources\\":{\\"requests\\":{\\"storage\\":\\"1Gi\\"}}}}"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nnext\n' \
    "$URL" "$i" >>"$CFG"
done
sed -i '$d' "$CFG" # no `next` after the last URL
s=$(date +%s%N)
curl -sS --no-progress-meter --parallel --parallel-max 64 -K "$CFG" >"$D/codes"
e=$(date +%s%N)
ok=$(grep -c '^201$' "$D/codes")
echo "created $ok/$COUNT claims in $(((e - s) / 1000000)) ms"
[ "$ok" -eq "$COUNT" ] || { sort "$D/codes" | uniq -c >&2; exit 1; }

stats() { # reads numbers (ms), prints median min max
  sort -g | awk '{v[NR]=$1} END {m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2;
    printf "median %.1f ms (min %.1f, max %.1f, n=%d)", m, v[1], v[NR], NR}'
}
TABLE='application/json;as=Table;v=v1;g=meta.k8s.io,application/json'
raw() { # accept -> time_total in ms, checks the item count once
  curl -s -o "$D/body" -w '%{time_total}\n' -H "Accept: $1" "$URL/api/v1/persistentvolumeclaims" |
    awk '{printf "%.2f\n", $1 * 1000}'
}
# Warm-up (first list after the writes), and a check that the list holds every claim.
curl -s -H 'Accept: application/json' "$URL/api/v1/persistentvolumeclaims" >"$D/body"
n=$(grep -o '"kind":"PersistentVolumeClaim"' "$D/body" | wc -l)
m=$(kubectl get pvc -A --no-headers --request-timeout 60s | wc -l)
echo "list holds $n claims (json), kubectl prints $m rows; json body $(stat -c %s "$D/body") bytes"
curl -s -H "Accept: $TABLE" "$URL/api/v1/persistentvolumeclaims" >"$D/table"
echo "table body $(stat -c %s "$D/table") bytes"

for _ in $(seq "$ROUNDS"); do raw application/json; done | stats
echo "  <- server: GET /api/v1/persistentvolumeclaims, Accept: application/json (curl time_total)"
for _ in $(seq "$ROUNDS"); do raw "$TABLE"; done | stats
echo "  <- server: GET /api/v1/persistentvolumeclaims, Accept: Table (curl time_total)"
for _ in $(seq "$ROUNDS"); do
  s=$(date +%s%N)
  kubectl get pvc -A --request-timeout 60s >/dev/null
  e=$(date +%s%N)
  echo "$(((e - s) / 1000))" | awk '{printf "%.1f\n", $1 / 1000}'
done | stats
echo "  <- whole command: kubectl get pvc -A"
for _ in $(seq "$ROUNDS"); do
  kubectl get --raw '/api/v1/persistentvolumeclaims' -v=6 2>&1 >/dev/null |
    sed -n 's/.*GET .*persistentvolumeclaims 200 OK in \([0-9.]*\) milliseconds.*/\1/p'
done | stats
echo "  <- kubectl's own log (-v=6) of GET --raw /api/v1/persistentvolumeclaims"
echo "kvol serve RSS after the lists: $(($(awk '/VmRSS/{print $2}' "/proc/$P/status") / 1024)) MiB"
