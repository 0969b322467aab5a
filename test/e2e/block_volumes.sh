#!/usr/bin/env bash
# End-to-end: block volumes (kvol.io/block, the default `standard` class) with real crun
# containers under `kvol serve`:
#  1. the built-in classes: `standard` (kvol.io/block, the default) and `local`;
#  2. a 64Mi claim of the default class: a pod's dd past it fails with "No space left on device"
#     (capacity enforced by its own ext4 filesystem on a loop device);
#  3. its data survives the pod's deletion (the volume is unstaged: no loop device, no mount) and
#     a clean restart of kvol with a pod using it (the volume is unstaged and the pool unmounted
#     at the stop, the pool mounted again at first use):
#     the next pod reads it;
#  4. expansion: an ext4 claim grows offline when the next pod stages it; an xfs claim grows
#     online under a running pod; the claims report their new capacity;
#  5. a ReadWriteMany claim of the class stays Pending with an event saying why;
#  6. deleting the claim removes its image; a clean stop leaves no mount and no loop device.
# Needs root, crun, busybox and jq (skipped otherwise).
# Usage: bash test/e2e/block_volumes.sh <kvol-binary> <source-dir>
# shellcheck source=lib/node_e2e.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/node_e2e.bash"

DATA=$WORK/data
# Mounts below DATA (the pool, staged and published volumes). DATA's own rshared self-bind is the
# runtime's: its release at a clean stop can fail with EBUSY when the store opened a file in DATA
# after the bind (seen without any block volume); the lib's clean-up removes it.
mounts_below_data() { findmnt -rn -o TARGET | awk -v d="$DATA/" 'index($0, d) == 1'; }
start_serve "$DATA" --node-name e2e-block
KC=$DATA/kubeconfig
cd "$WORK" || exit 1

check "built-in classes" \
  "local kvol.io/local false Delete WaitForFirstConsumer
standard kvol.io/block true Delete WaitForFirstConsumer ext4 default" \
  "$(k get sc -o json | jq -r '.items[] | "\(.metadata.name) \(.provisioner) \(.allowVolumeExpansion) \(.reclaimPolicy) \(.volumeBindingMode)" + (if .parameters then " " + .parameters["csi.storage.k8s.io/fstype"] else "" end) + (if .metadata.annotations["storageclass.kubernetes.io/is-default-class"] == "true" then " default" else "" end)')"

cat >claim.yaml <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  restartPolicy: Never
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c"]
    args:
    - |
      echo "kept by writer" > /data/marker && echo "marker written"
      dd if=/dev/zero of=/data/big bs=1M count=100 2>/tmp/dd.err
      rc=$?
      grep -v records /tmp/dd.err
      echo "100 MiB: exit $rc"
      rm -f /data/big
      echo "fs: $(awk '$2 == "/data" { print $3 }' /proc/mounts)"
    volumeMounts:
    - {name: data, mountPath: /data}
YAML
check "apply claim and writer" "persistentvolumeclaim/data created
pod/writer created" "$(k apply -f claim.yaml 2>&1)"

finished() { # finished POD: Succeeded or Failed
  local ph
  ph=$(phase "$1")
  [[ $ph == Succeeded || $ph == Failed ]]
}
poll 60 finished writer || fail "writer did not finish: $(phase writer); $(events writer | tail -3)"
check "writer: marker, ENOSPC past 64Mi, ext4" "Succeeded marker written
dd: error writing '/data/big': No space left on device
100 MiB: exit 1
fs: ext4" "$(phase writer) $(k logs writer 2>&1)"

PV=$(k get pvc data -o jsonpath='{.spec.volumeName}')
check "claim bound, default class" "Bound standard 64Mi" \
  "$(k get pvc data -o jsonpath='{.status.phase} {.spec.storageClassName} {.status.capacity.storage}')"
check "the PV: a kvol.io/block CSI volume on this node" \
  "kvol.io/block $PV ext4 64Mi kubernetes.io/hostname=e2e-block" \
  "$(k get pv "$PV" -o json | jq -r '"\(.spec.csi.driver) \(.spec.csi.volumeHandle) \(.spec.csi.fsType) \(.spec.capacity.storage) " + (.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0] | "\(.key)=\(.values[0])")')"
check "sparse image in the XFS pool" "67108864 xfs" \
  "$(stat -c %s "$DATA/block/$PV.img" 2>&1) $(findmnt -n -o FSTYPE "$DATA/block" | tail -1)"

check "delete writer" 'pod "writer" deleted' "$(kdelete pod writer 2>&1)"
# The agent tears the finished pod's volumes down after the pod is gone from the API.
unstaged() { ! work_loops | grep -qF "$PV" && ! findmnt -rn -o TARGET | grep -qF "$PV"; }
poll 20 unstaged || true
check "unstaged with the pod: no loop device for the image" "" \
  "$(work_loops | grep -F "$PV" || true)"
check "unstaged with the pod: no mount of it" "" \
  "$(findmnt -rn -o TARGET | grep -F "$PV" || true)"

# A clean stop with a pod using the volume unmounts and detaches everything, the pool too; the
# next start mounts the pool again at first use.
cat >holder.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: holder}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}
  containers:
  - {name: c, image: busybox, command: ["sleep", "3600"], volumeMounts: [{name: data, mountPath: /data}]}
YAML
k apply -f holder.yaml >/dev/null 2>&1
holder_running() { [[ $(phase holder) == Running ]]; }
poll 60 holder_running || fail "holder not Running: $(phase holder); $(events holder | tail -3)"
check "a running pod has the volume staged" "1" "$(work_loops | grep -cF "$PV")"
stop_serve
check "kvol serve exits 0 on SIGTERM" 0 "$STOP_RC"
check "stopped: no mount left under the data dir" "" "$(mounts_below_data)"
check "stopped: no loop device left" "" "$(work_loops)"
start_serve "$DATA" --node-name e2e-block
# The holder pod comes back with the node; it goes again, and its volume is unstaged.
check "delete holder" 'pod "holder" deleted' "$(kdelete pod holder 2>&1)"
poll 20 unstaged || fail "the holder's volume is still staged: $(work_loops)"

cat >reader.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  restartPolicy: Never
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}
  containers:
  - name: c
    image: busybox
    command: ["cat", "/data/marker"]
    volumeMounts:
    - {name: data, mountPath: /data}
YAML
k apply -f reader.yaml >/dev/null 2>&1
poll 60 finished reader || fail "reader did not finish: $(phase reader); $(events reader | tail -3)"
check "the next pod reads the data" "Succeeded kept by writer" "$(phase reader) $(k logs reader 2>&1)"
check "delete reader" 'pod "reader" deleted' "$(kdelete pod reader 2>&1)"

# Expansion, ext4: no pod uses the claim, so the filesystem grows offline when the next pod
# stages it; the claim reports the new capacity after that.
claim_state() { k get pvc "$1" -o json | jq -r '"\(.status.capacity.storage) \([.status.conditions[]?.type] | join(","))"'; }
k patch pvc data --type merge -p '{"spec":{"resources":{"requests":{"storage":"128Mi"}}}}' >/dev/null
resize_pending() { [[ $(claim_state data) == "64Mi FileSystemResizePending" ]]; }
poll 20 resize_pending || true
check "ext4 claim grown by the controller, the node finishes it" "64Mi FileSystemResizePending" \
  "$(claim_state data)"
cat >sizer.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: sizer}
spec:
  restartPolicy: Never
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "df -k /data | awk 'NR == 2 { print ($2 > 110000 && $2 <= 131072) ? \"grown\" : \"size \" $2 }'; cat /data/marker"]
    volumeMounts:
    - {name: data, mountPath: /data}
YAML
k apply -f sizer.yaml >/dev/null 2>&1
poll 60 finished sizer || fail "sizer did not finish: $(phase sizer); $(events sizer | tail -3)"
check "ext4 grown offline at the next stage, data kept" "Succeeded grown
kept by writer" "$(phase sizer) $(k logs sizer 2>&1)"
grown_128() { [[ $(claim_state data) == "128Mi " ]]; }
poll 20 grown_128 || true
check "ext4 claim: capacity 128Mi, no condition" "128Mi " "$(claim_state data)"
kdelete pod sizer >/dev/null 2>&1

# Expansion, xfs: grows online under a running pod.
cat >xfs.yaml <<'YAML'
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: block-xfs}
provisioner: kvol.io/block
parameters: {csi.storage.k8s.io/fstype: xfs}
volumeBindingMode: WaitForFirstConsumer
allowVolumeExpansion: true
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: grow}
spec:
  storageClassName: block-xfs
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 320Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: watcher}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: grow}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c"]
    args:
    - |
      trap 'exit 0' TERM
      last=
      while true; do
        s=$(df -k /data | awk 'NR == 2 { print ($2 > 500000) ? "large" : ($2 > 200000 && $2 < 330000 ? "small" : $2) }')
        if [ "$s" != "$last" ]; then echo "size: $s"; last=$s; fi
        sleep 0.1
      done
    volumeMounts:
    - {name: data, mountPath: /data}
YAML
k apply -f xfs.yaml >/dev/null 2>&1
running() { [[ $(phase watcher) == Running ]]; }
poll 60 running || fail "watcher not Running: $(phase watcher); $(events watcher | tail -3)"
seen_small() { [[ $(k logs watcher 2>&1) == *"size: small"* ]]; }
poll 20 seen_small || true
k patch pvc grow --type merge -p '{"spec":{"resources":{"requests":{"storage":"640Mi"}}}}' >/dev/null
seen_large() { [[ $(k logs watcher 2>&1) == *"size: large"* ]]; }
poll 30 seen_large || true
check "xfs grown online under the running pod" "size: small
size: large" "$(k logs watcher 2>&1)"
grown_640() { [[ $(claim_state grow) == "640Mi " ]]; }
poll 20 grown_640 || true
check "xfs claim: capacity 640Mi, no condition" "640Mi " "$(claim_state grow)"
GROW_PV=$(k get pvc grow -o jsonpath='{.spec.volumeName}')
kdelete pod watcher >/dev/null 2>&1
check "delete the xfs claim" 'persistentvolumeclaim "grow" deleted' "$(kdelete pvc grow 2>&1)"

# ReadWriteMany: one node's loop device cannot serve it.
cat >rwx.yaml <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: shared}
spec:
  storageClassName: standard
  accessModes: [ReadWriteMany]
  resources: {requests: {storage: 16Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: rwx-user}
spec:
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: shared}
  containers:
  - {name: c, image: busybox, command: ["sleep", "60"]}
YAML
k apply -f rwx.yaml >/dev/null 2>&1
rwx_refused() { has_event shared "ReadWriteMany is not supported"; }
poll 30 rwx_refused || true
contains "ReadWriteMany claim: event says why" \
  'ProvisioningFailed: failed to provision volume with StorageClass "standard": kvol.io/block volumes are attached to one node: ReadWriteMany is not supported' \
  "$(events shared)"
check "ReadWriteMany claim stays Pending" "Pending" "$(k get pvc shared -o jsonpath='{.status.phase}')"
kdelete pod rwx-user >/dev/null 2>&1
kdelete pvc shared >/dev/null 2>&1

check "delete claim" 'persistentvolumeclaim "data" deleted' "$(kdelete pvc data 2>&1)"
image_gone() { [[ ! -e $DATA/block/$PV.img && ! -e $DATA/block/$GROW_PV.img ]]; }
poll 30 image_gone && echo "ok   deleting the claims removes their images" ||
  fail "images still there: $(ls "$DATA/block")"
pv_gone() { ! k get pv "$PV" >/dev/null 2>&1; }
poll 30 pv_gone && echo "ok   the PV is gone" || fail "PV $PV still there"

stop_serve
check "kvol serve exits 0 on SIGTERM (again)" 0 "$STOP_RC"
check "no mount left under the data dir" "" "$(mounts_below_data)"
check "no loop device left" "" "$(work_loops)"

if [[ $FAILS != 0 ]]; then
  echo "--- serve stderr (last 30 lines)"
  tail -30 "$DATA.err"
fi
echo "$FAILS failure(s)"
[[ $FAILS == 0 ]]
