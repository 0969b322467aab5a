#!/usr/bin/env bash
# End-to-end: what a user notices of pod volumes with real crun containers under `kvol serve`
# (containers print what they see; the test reads `kubectl logs` and the host's DIR/pods/...):
#  1. two containers of one pod share an emptyDir;
#  2. a container's root layer is fresh after a restart while the pod's emptyDir is kept;
#  3. deleting a pod removes its emptyDir from the host; hostPath files and a claim's data stay
#     (a second pod on the claim reads them);
#  4. a readOnly volumeMount refuses writes ("Read-only file system");
#  5. a configMap change reaches the file a running container reads, within seconds;
#  6. a secret volume: tmpfs, defaultMode 0400, the decoded value;
#  7. an emptyDir sizeLimit: writing past it fails with "No space left on device".
# Pods run concurrently. Needs root, crun, busybox and jq (skipped otherwise).
# Usage: bash test/e2e/node_volumes.sh <kvol-binary> <source-dir>
# shellcheck source=lib/node_e2e.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/node_e2e.bash"

DATA=$WORK/data
start_serve "$DATA"
KC=$DATA/kubeconfig
cd "$WORK" || exit 1

# --- All the pods at once (each one's checks follow).
cat >pods.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: share}
spec:
  restartPolicy: Never
  volumes:
  - {name: shared, emptyDir: {}}
  containers:
  - name: writer
    image: busybox
    command: ["sh", "-c"]
    args:
    - echo "hello from writer" > /shared/msg.tmp && mv /shared/msg.tmp /shared/msg
    volumeMounts:
    - {name: shared, mountPath: /shared}
  - name: reader
    image: busybox
    command: ["sh", "-c"]
    args:
    - |
      i=0
      while [ ! -e /shared/msg ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done
      echo "reader saw: $(cat /shared/msg)"
      touch /shared/reader-was-here 2>&1
      echo "touch exit: $?"
    volumeMounts:
    - {name: shared, mountPath: /shared, readOnly: true}
---
apiVersion: v1
kind: Pod
metadata: {name: restart}
spec:
  restartPolicy: OnFailure
  volumes:
  - {name: shared, emptyDir: {}}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c"]
    args:
    - |
      if [ -e /marker ] || [ -e /shared/marker ]; then
        if [ -e /marker ]; then l=kept; else l=gone; fi
        if [ -e /shared/marker ]; then e=kept; else e=gone; fi
        echo "layer: $l, emptyDir: $e"
        exit 0
      fi
      touch /marker /shared/marker
      echo "first run: markers written"
      exit 1
    volumeMounts:
    - {name: shared, mountPath: /shared}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
data:
  password: czNjcmV0   # "s3cret"
---
apiVersion: v1
kind: Pod
metadata: {name: sec}
spec:
  restartPolicy: Never
  volumes:
  - name: creds
    secret: {secretName: creds, defaultMode: 256}   # 0400
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c"]
    args:
    - |
      echo "mode: $(stat -L -c %a /etc/creds/password)"
      echo "fstype: $(awk '$5 == "/etc/creds" { for (i = 7; i <= NF; i++) if ($i == "-") { print $(i + 1); exit } }' /proc/self/mountinfo)"
      echo "value: $(cat /etc/creds/password)"
    volumeMounts:
    - {name: creds, mountPath: /etc/creds}
---
apiVersion: v1
kind: Pod
metadata: {name: limit}
spec:
  restartPolicy: Never
  volumes:
  - name: scratch
    emptyDir: {sizeLimit: 8Mi}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c"]
    args:
    - |
      dd if=/dev/zero of=/scratch/small bs=1M count=4 2>/dev/null
      echo "4 MiB: exit $?"
      rm -f /scratch/small
      dd if=/dev/zero of=/scratch/f bs=1M count=20 2>/tmp/dd.err
      rc=$?
      grep -v records /tmp/dd.err
      echo "20 MiB: exit $rc"
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: live}
data: {value: one}
---
apiVersion: v1
kind: Pod
metadata: {name: cfg}
spec:
  terminationGracePeriodSeconds: 2
  volumes:
  - name: live
    configMap: {name: live}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c"]
    args:
    - |
      trap 'exit 0' TERM
      last=
      while true; do
        v=$(cat /etc/live/value 2>&1)
        if [ "$v" != "$last" ]; then echo "value: $v"; last=$v; fi
        sleep 0.1
      done
    volumeMounts:
    - {name: live, mountPath: /etc/live}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: keep}
spec:
  storageClassName: local
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 16Mi}}
YAML
# The pod that leaves data behind: its hostPath is under WORK.
cat >keeper.yaml <<YAML
apiVersion: v1
kind: Pod
metadata: {name: keeper}
spec:
  restartPolicy: Never
  volumes:
  - {name: scratch, emptyDir: {}}
  - name: host
    hostPath: {path: $WORK/host, type: DirectoryOrCreate}
  - name: data
    persistentVolumeClaim: {claimName: keep}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c"]
    args:
    - echo scratch > /scratch/f && echo "kept by keeper" > /host/f && echo "kept by keeper" > /data/f && echo written
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
    - {name: host, mountPath: /host}
    - {name: data, mountPath: /data}
YAML
out=$(k apply -f pods.yaml -f keeper.yaml 2>&1)
check "apply all pods" "pod/share created
pod/restart created
secret/creds created
pod/sec created
pod/limit created
configmap/live created
pod/cfg created
persistentvolumeclaim/keep created
pod/keeper created" "$out"

finished() { # finished POD...: every pod is Succeeded or Failed
  local p ph
  for p in "$@"; do
    ph=$(phase "$p")
    [[ $ph == Succeeded || $ph == Failed ]] || return 1
  done
}
cfg_running() { [[ $(phase cfg) == Running ]] && k logs cfg 2>/dev/null | grep -q '^value: one$'; }
poll 40 finished share restart sec limit keeper || true
poll 10 cfg_running || true
for p in share restart sec limit keeper; do
  check "pod $p Succeeded" Succeeded "$(phase "$p")"
done

# --- 1 and 4: the shared emptyDir, read-only in the reader.
check "reader sees the writer's file; its read-only mount refuses writes" \
  "reader saw: hello from writer
touch: /shared/reader-was-here: Read-only file system
touch exit: 1" "$(k logs share -c reader 2>&1)"

# --- 2: a restart gets a fresh root layer, the emptyDir stays.
check "restarted container: root layer fresh, emptyDir kept" "layer: gone, emptyDir: kept" \
  "$(k logs restart 2>&1)"
check "previous run's log" "first run: markers written" "$(k logs restart --previous 2>&1)"
check "restartCount, last exit code" "1 1" \
  "$(pod restart '"\(.status.containerStatuses[0].restartCount) \(.status.containerStatuses[0].lastState.terminated.exitCode)"')"

# --- 6: the secret volume.
check "secret: mode 0400, tmpfs, decoded" "mode: 400
fstype: tmpfs
value: s3cret" "$(k logs sec 2>&1)"

# --- 7: the emptyDir sizeLimit.
check "sizeLimit 8Mi: 4 MiB fit, 20 MiB do not" "4 MiB: exit 0
dd: error writing '/scratch/f': No space left on device
20 MiB: exit 1" "$(k logs limit 2>&1)"

# --- 5: a configMap update reaches the running container's file.
check "cfg pod Running, first value" "Running value: one" "$(phase cfg) $(k logs cfg 2>&1)"
cat >live2.yaml <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: live}
data: {value: two}
YAML
check "apply the new configMap value" "configmap/live configured" "$(k apply -f live2.yaml 2>&1)"
t0=$(date +%s%N)
seen_two() { k logs cfg 2>/dev/null | grep -q '^value: two$'; }
if poll 10 seen_two; then
  ms=$((($(date +%s%N) - t0) / 1000000))
  if ((ms <= 5000)); then
    echo "ok   configMap update seen by the container after ${ms} ms"
  else
    fail "configMap update took ${ms} ms to reach the container (want <= 5 s)"
  fi
else
  fail "configMap update did not reach the container within 10 s"
fi
check "container's log: old then new value, nothing else" "value: one
value: two" "$(k logs cfg 2>&1)"

# --- 3: deleting a pod removes its emptyDir; hostPath and claim data stay.
KEEPER_UID=$(pod keeper .metadata.uid)
EMPTY=$DATA/pods/$KEEPER_UID/volumes/kubernetes.io~empty-dir/scratch
check "keeper's emptyDir file on the host before delete" "scratch" "$(cat "$EMPTY/f" 2>&1)"
check "delete keeper" 'pod "keeper" deleted' "$(kdelete pod keeper 2>&1)"
if poll 10 test ! -e "$DATA/pods/$KEEPER_UID"; then
  echo "ok   pod directory (and its emptyDir) removed from the host"
else
  fail "$DATA/pods/$KEEPER_UID still there after delete: $(find "$DATA/pods/$KEEPER_UID" | head -5)"
fi
check "hostPath file stays" "kept by keeper" "$(cat "$WORK/host/f" 2>&1)"
cat >reader.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: claim-reader}
spec:
  restartPolicy: Never
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: keep}
  containers:
  - name: c
    image: busybox
    command: ["cat", "/data/f"]
    volumeMounts:
    - {name: data, mountPath: /data}
YAML
k apply -f reader.yaml >/dev/null 2>&1
poll 20 finished claim-reader
check "second pod on the claim reads the first pod's file" "Succeeded kept by keeper" \
  "$(phase claim-reader) $(k logs claim-reader 2>&1)"

# --- The rest goes; a clean stop (SIGTERM) with the configMap pod still running releases its
# mounts and exits 0.
out=$(kdelete pod share restart sec limit claim-reader 2>&1)
check "delete the other pods" 'pod "share" deleted
pod "restart" deleted
pod "sec" deleted
pod "limit" deleted
pod "claim-reader" deleted' "$out"
stop_serve
check "kvol serve exits 0 on SIGTERM with a pod running" 0 "$STOP_RC"
check "nothing left mounted at or under the data dir" "" \
  "$(findmnt -rn -o TARGET | awk -v d="$DATA" '$0 == d || index($0, d "/") == 1')"

if [[ $FAILS != 0 ]]; then
  echo "--- serve stderr (last 30 lines)"
  tail -30 "$DATA.err"
fi
echo "$FAILS failure(s)"
[[ $FAILS == 0 ]]
