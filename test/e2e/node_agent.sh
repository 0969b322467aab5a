#!/bin/bash
# End-to-end: the node agent inside `kvol serve`, observed through kubectl and the host: the Node it
# registers, a pod of two busybox containers sharing an emptyDir (the file visible on the host under
# DIR/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>), container logs from the agent's log
# endpoint, a finished pod (init container, $(VAR) expansion, phase Succeeded), graceful deletion
# (the pod's directory gone, nothing mounted under DIR) and a clean stop on SIGTERM.
# Needs root and crun (skipped otherwise). Usage: node_agent.sh <path-to-kvol> <source-dir>
set -u
KVOL=$(realpath "${1:?usage: node_agent.sh <kvol> <source-dir>}")
SRC=$(realpath "${2:?usage: node_agent.sh <kvol> <source-dir>}")
if [ "$(id -u)" != 0 ] || ! command -v crun >/dev/null; then
  echo "SKIP: needs root and crun"
  exit 0
fi
source "$(dirname "${BASH_SOURCE[0]}")/lib/kubectl_e2e.bash"

# Safety net whatever happens: stop kvol (SIGTERM, then SIGKILL), kill what a killed agent left
# running (shims and container processes rooted under the data dir, by PID), unmount leftovers.
e2e_before_cleanup() {
  if [ -n "$PID" ]; then
    kill -TERM "$PID" 2>/dev/null
    for _ in $(seq 1 200); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    PID=
  fi
  local p
  for p in $(all_pod_pids); do kill -KILL "$p" 2>/dev/null; done
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q -- "__shim.*$WORK"; then
      kill -KILL "${p#/proc/}" 2>/dev/null
    fi
  done
  awk -v w="$WORK" '$5 == w || index($5, w "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null; done
}
# poll SECONDS COMMAND...: rerun COMMAND every 0.1 s until it succeeds; 1 on timeout.
poll() {
  local deadline=$((SECONDS + $1))
  shift
  while ! "$@"; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
}
# pod_pids UID: the PIDs of the processes in the pod's network namespace (its containers).
pod_pids() {
  local ino p
  ino=$(stat -L -c %i "$DATA/pods/$1/sandbox/net" 2>/dev/null) || return 0
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/net" 2>/dev/null)" = "net:[$ino]" ] && echo "${p#/proc/}"
  done
}
# Every container process of every pod under DIR.
all_pod_pids() {
  local d
  for d in "$DATA"/pods/*/; do pod_pids "$(basename "$d")"; done
}
# Mount points strictly below DIR (the runtime may bind DIR onto itself).
mounts_under_data() { awk -v d="$DATA" 'index($5, d "/") == 1 {print $5}' /proc/self/mountinfo; }

bash "$SRC/scripts/make-busybox-image.sh" "$WORK/busybox.tar" >/dev/null || { echo "FAIL: make busybox image"; exit 1; }
mkdir -p "$DATA"
if ! "$KVOL" image import --data-dir "$DATA" "$WORK/busybox.tar" >"$WORK/import.out" 2>&1; then
  echo "FAIL: kvol image import: $(cat "$WORK/import.out")"
  exit 1
fi

"$KVOL" serve --data-dir "$DATA" --listen 127.0.0.1:0 --node-name e2e-node >"$WORK/stdout" 2>"$WORK/stderr" &
PID=$!
for _ in $(seq 1 200); do
  [ -s "$WORK/stdout" ] && break
  sleep 0.05
done
READY=$(head -1 "$WORK/stdout")
if ! [[ "$READY" =~ ^kvol\ ready\ http://127\.0\.0\.1:[0-9]+$ ]]; then
  echo "FAIL: no ready line; stdout: $READY"; cat "$WORK/stderr"; exit 1
fi
echo "ok: ready line"
export KUBECONFIG=$DATA/kubeconfig
K="kubectl --cache-dir $WORK/cache"
cd "$WORK"

# --- The Node the agent registered.
expect "node ready" "True KubeletReady kvol node agent is posting ready status" \
  "$($K get node e2e-node -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason} {.status.conditions[?(@.type=="Ready")].message}')"
expect "node labels and addresses" "e2e-node linux 127.0.0.1 e2e-node v1.32.0-kvol linux 110" \
  "$($K get node e2e-node -o jsonpath='{.metadata.labels.kubernetes\.io/hostname} {.metadata.labels.kubernetes\.io/os} {.status.addresses[?(@.type=="InternalIP")].address} {.status.addresses[?(@.type=="Hostname")].address} {.status.nodeInfo.kubeletVersion} {.status.nodeInfo.operatingSystem} {.status.capacity.pods}')"
LOGPORT=$($K get node e2e-node -o jsonpath='{.status.daemonEndpoints.kubeletEndpoint.Port}')
[[ "$LOGPORT" =~ ^[1-9][0-9]*$ ]] && echo "ok: kubelet endpoint port" || fail "kubelet endpoint port: '$LOGPORT'"
[[ "$($K get node e2e-node -o jsonpath='{.status.nodeInfo.containerRuntimeVersion}')" == crun://* ]] &&
  echo "ok: runtime version" || fail "containerRuntimeVersion"

# --- Two containers sharing an emptyDir.
cat >share.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: share
spec:
  terminationGracePeriodSeconds: 5
  volumes:
  - name: scratch
    emptyDir: {}
  containers:
  - name: writer
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo line $i >> /data/log; sleep 0.1; done"]
    volumeMounts:
    - {name: scratch, mountPath: /data}
  - name: reader
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; until [ -e /data/log ]; do sleep 0.05; done; tail -f /data/log & wait"]
    volumeMounts:
    - {name: scratch, mountPath: /data, readOnly: true}
YAML
expect "apply pod" "pod/share created" "$($K apply -f share.yaml 2>&1)"
running() { [ "$($K get pod share -o jsonpath='{.status.phase} {.status.containerStatuses[*].ready}')" = "Running true true" ]; }
poll 30 running && echo "ok: pod Running, both containers ready" || {
  fail "pod not Running: $($K get pod share -o jsonpath='{.status}')"
}
expect "get pod" "share 2/2 Running 0" "$($K get pod share --no-headers | tr -s ' ' | cut -d' ' -f1-4)"
POD_UID=$($K get pod share -o jsonpath='{.metadata.uid}')
EMPTY=$DATA/pods/$POD_UID/volumes/kubernetes.io~empty-dir/scratch
poll 10 grep -q "^line 2$" "$EMPTY/log" && echo "ok: emptyDir file on the host" || fail "no $EMPTY/log"
expect "container statuses" "crun://${POD_UID}_writer_0 docker.io/library/busybox:latest" \
  "$($K get pod share -o jsonpath='{.status.containerStatuses[?(@.name=="writer")].containerID} {.status.containerStatuses[?(@.name=="writer")].image}')"
expect "pod conditions" "True True True True True" \
  "$($K get pod share -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].status} {.status.conditions[?(@.type=="PodReadyToStartContainers")].status} {.status.conditions[?(@.type=="Initialized")].status} {.status.conditions[?(@.type=="ContainersReady")].status} {.status.conditions[?(@.type=="Ready")].status}')"

# --- Logs from the agent's endpoint (what the API server proxies `kubectl logs` to).
TOKEN=$(cat "$DATA/token")
logs() { curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$LOGPORT/containerLogs/$1"; }
reader_saw() { logs "default/share/reader?tailLines=1" | grep -q "^line [0-9]*$"; }
poll 10 reader_saw && echo "ok: reader's log shows the writer's lines" || fail "reader log: $(logs default/share/reader)"
expect "log endpoint needs the token" "401" \
  "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LOGPORT/containerLogs/default/share/reader")"
BADQ="http://127.0.0.1:$LOGPORT/containerLogs/default/share/reader?tailLines=x"
expect "log endpoint bad query" "400 invalid tailLines \"x\": must be an integer >= 0" \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BADQ") $(curl -s -H "Authorization: Bearer $TOKEN" "$BADQ")"
expect "log endpoint unknown container" "404" \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$LOGPORT/containerLogs/default/share/nope")"

# --- A pod that finishes: init container first, $(VAR) expanded, phase Succeeded.
cat >done.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: done
spec:
  restartPolicy: Never
  initContainers:
  - name: init
    image: busybox
    command: ["sh", "-c", "echo init ran"]
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo hello $(WHO) from $(POD)"]
    env:
    - {name: WHO, value: world}
    - name: POD
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
YAML
$K apply -f done.yaml >/dev/null
succeeded() { [ "$($K get pod done -o jsonpath='{.status.phase}')" = Succeeded ]; }
poll 30 succeeded && echo "ok: pod Succeeded" || fail "pod done: $($K get pod done -o jsonpath='{.status}')"
expect "init container log" "init ran" "$(logs default/done/init)"
expect "main container log" "hello world from done" "$(logs default/done/main)"
expect "kubectl logs (proxied to the agent)" "hello world from done" "$($K logs done -c main 2>&1)"
expect "terminated reason" "Completed" \
  "$($K get pod done -o jsonpath='{.status.containerStatuses[0].state.terminated.reason}')"

# --- A missing image with pull policy Never: a clear reason and event.
cat >missing.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: missing
spec:
  containers:
  - name: c
    image: nosuch:1.0
    imagePullPolicy: Never
YAML
$K apply -f missing.yaml >/dev/null
never() { [ "$($K get pod missing -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}')" = ErrImageNeverPull ]; }
poll 10 never && echo "ok: ErrImageNeverPull" || fail "missing image: $($K get pod missing -o jsonpath='{.status}')"
event() { $K get events --field-selector involvedObject.name=missing,reason=ErrImageNeverPull -o jsonpath='{.items[0].message}'; }
poll 10 test -n "$(event)"
expect "ErrImageNeverPull event" 'Container image "nosuch:1.0" is not present with pull policy of Never' "$(event)"

# --- ConfigMap: env at start, a mounted file updated in place when the object changes.
cat >cm.yaml <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  mode: blue
---
apiVersion: v1
kind: Pod
metadata:
  name: cfg
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - name: config
    configMap: {name: app-config}
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "echo env=$MODE; trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    env:
    - name: MODE
      valueFrom: {configMapKeyRef: {name: app-config, key: mode}}
    volumeMounts:
    - {name: config, mountPath: /etc/app}
YAML
$K apply -f cm.yaml >/dev/null
cfg_running() { [ "$($K get pod cfg -o jsonpath='{.status.phase}')" = Running ]; }
poll 30 cfg_running && echo "ok: configMap pod Running" || fail "cfg pod: $($K get pod cfg -o jsonpath='{.status}')"
CFG_UID=$($K get pod cfg -o jsonpath='{.metadata.uid}')
expect "env from configMapKeyRef" "env=blue" "$(logs default/cfg/app)"
CM_FILE=$DATA/pods/$CFG_UID/volumes/kubernetes.io~configmap/config/mode
expect "configMap file" "blue" "$(cat "$CM_FILE" 2>&1)"
$K patch configmap app-config -p '{"data":{"mode":"green"}}' >/dev/null
cm_green() { [ "$(cat "$CM_FILE" 2>/dev/null)" = green ]; }
poll 5 cm_green && echo "ok: configMap change reached the mounted file" || fail "configMap file: $(cat "$CM_FILE")"
# Enter through the container's shell (its main process), not a short-lived `sleep` of its loop.
CFG_SH=$(for p in $(pod_pids "$CFG_UID"); do [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sh ] && echo "$p"; done | head -1)
expect "file seen inside the container" "green" "$(nsenter -t "$CFG_SH" -m cat /etc/app/mode 2>&1)"

# --- The agent killed (SIGKILL) and restarted: the running container is adopted, not restarted.
STARTED=$($K get pod cfg -o jsonpath='{.status.containerStatuses[0].state.running.startedAt} {.status.containerStatuses[0].restartCount}')
kill -KILL "$PID"
wait "$PID" 2>/dev/null
"$KVOL" serve --data-dir "$DATA" --listen 127.0.0.1:0 --node-name e2e-node >"$WORK/stdout2" 2>"$WORK/stderr2" &
PID=$!
for _ in $(seq 1 200); do
  [ -s "$WORK/stdout2" ] && break
  sleep 0.05
done
NEWURL=$(sed -n 's/^kvol ready //p' "$WORK/stdout2")
[ -n "$NEWURL" ] && echo "ok: restarted" || { fail "no ready line after restart"; cat "$WORK/stderr2"; }
LOGPORT=$($K get node e2e-node -o jsonpath='{.status.daemonEndpoints.kubeletEndpoint.Port}')
sleep 0.5
expect "container adopted after SIGKILL" "$STARTED" \
  "$($K get pod cfg -o jsonpath='{.status.containerStatuses[0].state.running.startedAt} {.status.containerStatuses[0].restartCount}')"
expect "adopted container's log" "env=blue" "$(logs default/cfg/app)"

# --- Graceful deletion: containers stopped, volumes torn down, the pod's directory removed.
expect "delete pods" $'pod "share" deleted\npod "done" deleted\npod "missing" deleted' \
  "$($K delete pod share done missing --timeout=30s 2>&1)"
expect "delete cfg pod" 'pod "cfg" deleted' "$($K delete pod cfg --timeout=30s 2>&1)"
poll 10 test ! -e "$DATA/pods/$POD_UID" && echo "ok: pod directory removed" || fail "$DATA/pods/$POD_UID still there"
# A finished pod is deleted at once by the API server: its node tears it down after it is gone.
no_pod_dirs() { [ -z "$(ls -A "$DATA/pods")" ]; }
poll 10 no_pod_dirs && echo "ok: every pod directory removed" || fail "left in $DATA/pods: $(ls "$DATA/pods")"
# Only the spare sandbox the runtime keeps ready for the next pod (its three namespace files).
expect "nothing mounted under the data dir but the spare sandbox" \
  "$(printf '%s\n' "$DATA/run/sandbox-spare/"{ipc,net,uts})" "$(mounts_under_data | sort)"

# --- Clean stop with a running pod: exit 0, nothing left mounted, the pod stays in the store.
$K apply -f share.yaml >/dev/null
poll 30 running || fail "second pod not Running"
kill -TERM "$PID"
poll 40 bash -c "! kill -0 $PID 2>/dev/null"
wait "$PID"
expect "exit code after SIGTERM" "0" "$?"
PID=
expect "nothing mounted after a clean stop" "" "$(mounts_under_data)"
expect "no shim left" "" "$(for p in /proc/[0-9]*; do tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q -- "__shim.*$DATA" && echo "${p#/proc/}"; done)"

echo "$FAILS failure(s)"
if [ "$FAILS" != 0 ]; then
  for f in "$WORK"/stderr*; do echo "--- $f"; tail -30 "$f"; done
fi
[ "$FAILS" = 0 ]
