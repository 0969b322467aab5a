#!/bin/bash
# End-to-end: GET /metrics of `kvol serve` through the unmodified kubectl (`kubectl get --raw`):
# kube-apiserver's request counter and duration histogram with its labels and codes, an open
# watch in apiserver_longrunning_requests, the binder's work queue (client-go's workqueue_*
# names), the store's commit histograms, process metrics, and auth (a wrong token gets 401).
# Usage: metrics.sh <path-to-kvol> <source-dir>
set -u
KVOL=$(realpath "${1:?usage: metrics.sh <kvol> <source-dir>}")
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
WATCH_PID=
e2e_before_cleanup() {
  if [ -n "$WATCH_PID" ]; then kill "$WATCH_PID" 2>/dev/null; wait "$WATCH_PID" 2>/dev/null; fi
}

# value SERIES: the sample value of the exact series line in $M (empty when absent).
value() { awk -v s="$1 " 'index($0, s) == 1 { print $NF; exit }' <<<"$M"; }
scrape() { M=$($K get --raw /metrics); }
# req VERB RESOURCE SCOPE CODE: an apiserver_request_total series of the core group.
req() {
  echo "apiserver_request_total{code=\"$4\",component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"$2\",scope=\"$3\",subresource=\"\",verb=\"$1\",version=\"v1\"}"
}

$K get pvc missing >/dev/null 2>&1
$K get pvc >/dev/null 2>&1
cat >pvc.yaml <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Mi
YAML
$K create -f pvc.yaml >/dev/null
scrape
expect "/metrics is the text format" "# TYPE apiserver_request_total counter" \
  "$(grep -x '# TYPE apiserver_request_total counter' <<<"$M")"
ge1() { [ -n "$2" ] && awk -v v="$2" 'BEGIN { exit !(v >= 1) }' && echo "ok: $1" || fail "$1 (got '$2')"; }
ge1 "a 404 GET of a pvc counts code=404" "$(value "$(req GET persistentvolumeclaims resource 404)")"
ge1 "a LIST of pvcs counts verb=LIST" "$(value "$(req LIST persistentvolumeclaims namespace 200)")"
ge1 "a create counts verb=POST code=201" "$(value "$(req POST persistentvolumeclaims resource 201)")"
ge1 "the duration histogram has the GET series" "$(value 'apiserver_request_duration_seconds_bucket{component="apiserver",dry_run="",group="",resource="persistentvolumeclaims",scope="resource",subresource="",verb="GET",version="v1",le="60"}')"

# An open watch is a long-running request until it ends.
LR='apiserver_longrunning_requests{component="apiserver",group="",resource="persistentvolumeclaims",scope="namespace",subresource="",verb="WATCH",version="v1"}'
$K get pvc --watch >"$WORK/watch.out" 2>&1 &
WATCH_PID=$!
open_is() { scrape; [ "$(value "$LR")" = "$1" ]; }
poll 10 open_is 1 && echo "ok: an open watch shows in apiserver_longrunning_requests" ||
  fail "longrunning gauge with the watch open: '$(value "$LR")'"
kill "$WATCH_PID"; wait "$WATCH_PID" 2>/dev/null; WATCH_PID=
poll 10 open_is 0 && echo "ok: the gauge drops when the watch ends" ||
  fail "longrunning gauge after the watch: '$(value "$LR")'"
ge1 "the ended watch is counted as verb=WATCH" "$(value "$(req WATCH persistentvolumeclaims namespace 200)")"

# Controllers, store, process.
expect "the binder's workqueue_depth line exists" 1 \
  "$(grep -c '^workqueue_depth{name="persistentvolume-binder"} ' <<<"$M")"
ge1 "the binder's queue saw adds" "$(value 'workqueue_adds_total{name="persistentvolume-binder"}')"
ge1 "the binder's work durations are observed" "$(value 'workqueue_work_duration_seconds_count{name="persistentvolume-binder"}')"
ge1 "store commits are observed" "$(value kvol_store_commit_duration_seconds_count)"
ge1 "group commit batch sizes are observed" "$(value kvol_store_commit_batch_size_count)"
ge1 "process_resident_memory_bytes" "$(value process_resident_memory_bytes)"
start=$(value process_start_time_seconds)
now=$(date +%s)
awk -v s="$start" -v n="$now" 'BEGIN { exit !(s > n - 600 && s <= n + 1) }' &&
  echo "ok: process_start_time_seconds is this run's start" || fail "process_start_time_seconds $start (now $now)"

# Auth as for every API path: a wrong token is refused; /healthz stays open.
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong" "$URL/metrics")
expect "/metrics with a wrong token" 401 "$code"
ctype=$(curl -s -o /dev/null -w '%{content_type}' -H "Authorization: Bearer $(cat "$DATA/token")" "$URL/metrics")
expect "/metrics Content-Type" "text/plain; version=0.0.4; charset=utf-8" "$ctype"

[ "$FAILS" -eq 0 ] && echo PASS || { echo "$FAILS failure(s)"; exit 1; }
