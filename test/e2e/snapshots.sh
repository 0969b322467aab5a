#!/usr/bin/env bash
# End-to-end: snapshots, restore and clone of kvol.io/block volumes (the default `standard`
# class) with real crun containers under `kvol serve`:
#  1. the built-in VolumeSnapshotClass `standard-snapshot` (kvol.io/block, Delete, default);
#  2. a pod appends to a file in a 64Mi claim continuously; a VolumeSnapshot of the claim, made
#     with kubectl while it writes, becomes readyToUse with restoreSize 64Mi and its content;
#     the snapshot image (taken with the filesystem frozen) is clean for e2fsck -fn;
#  3. a claim restored from the snapshot: a pod reads the data written before the snapshot, and
#     every line of the appended file is whole; its image is fsck-clean after the pod;
#  4. a claim cloned from the source claim is independent: writes to the clone do not reach the
#     source;
#  5. deleting the snapshot (deletionPolicy Delete) removes its content and image; deleting the
#     claims removes their images; a clean stop leaves no mount, loop device or image file.
# Needs root, crun, busybox, jq and kubectl (skipped otherwise).
# Usage: bash test/e2e/snapshots.sh <kvol-binary> <source-dir>
# shellcheck source=lib/node_e2e.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/node_e2e.bash"
command -v kubectl >/dev/null || skip "kubectl not installed (kvol's verbs do not create snapshots)"

DATA=$WORK/data
mounts_below_data() { findmnt -rn -o TARGET | awk -v d="$DATA/" 'index($0, d) == 1'; }
start_serve "$DATA" --node-name e2e-snap
KC=$DATA/kubeconfig
cd "$WORK" || exit 1

check "built-in VolumeSnapshotClass" "standard-snapshot kvol.io/block Delete true" \
  "$(k get volumesnapshotclass -o json | jq -r '.items[] | "\(.metadata.name) \(.driver) \(.deletionPolicy) \(.metadata.annotations["snapshot.storage.kubernetes.io/is-default-class"])"')"

finished() { local ph; ph=$(phase "$1"); [[ $ph == Succeeded || $ph == Failed ]]; }
running() { [[ $(phase "$1") == Running ]]; }

cat >source.yaml <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: src}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: src}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c"]
    args:
    - |
      trap 'exit 0' TERM
      echo "written before the snapshot" > /data/before && sync && echo "before written"
      i=0
      while true; do
        echo "line $i of the running writer, a whole line each time" >> /data/log
        i=$((i + 1))
      done
    volumeMounts:
    - {name: data, mountPath: /data}
YAML
k apply -f source.yaml >/dev/null 2>&1
poll 60 running writer || fail "writer not Running: $(phase writer); $(events writer | tail -3)"
written() { [[ $(k logs writer 2>&1) == *"before written"* ]]; }
poll 20 written || fail "writer did not write: $(k logs writer 2>&1)"
sleep 0.5 # the writer appends meanwhile

cat >snap.yaml <<'YAML'
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata: {name: snap1}
spec:
  source: {persistentVolumeClaimName: src}
YAML
check "kubectl create volumesnapshot" "volumesnapshot.snapshot.storage.k8s.io/snap1 created" \
  "$(k create -f snap.yaml 2>&1)"
ready() { [[ $(k get volumesnapshot snap1 -o jsonpath='{.status.readyToUse}') == true ]]; }
poll 30 ready || fail "snapshot not ready: $(k get volumesnapshot snap1 -o json | jq -c .status)"
CONTENT=$(k get volumesnapshot snap1 -o jsonpath='{.status.boundVolumeSnapshotContentName}')
UID1=$(k get volumesnapshot snap1 -o jsonpath='{.metadata.uid}')
check "snapshot: ready, 64Mi, its class and content" \
  "true 64Mi standard-snapshot snapcontent-$UID1" \
  "$(k get volumesnapshot snap1 -o jsonpath='{.status.readyToUse} {.status.restoreSize} {.spec.volumeSnapshotClassName} {.status.boundVolumeSnapshotContentName}')"
SRC_PV=$(k get pvc src -o jsonpath='{.spec.volumeName}')
check "content: Delete, kvol.io/block, the source volume, a handle" \
  "Delete kvol.io/block $SRC_PV $CONTENT true 67108864" \
  "$(k get volumesnapshotcontent "$CONTENT" -o jsonpath='{.spec.deletionPolicy} {.spec.driver} {.spec.source.volumeHandle} {.status.snapshotHandle} {.status.readyToUse} {.status.restoreSize}')"
SNAP_IMG=$DATA/block/snapshots/$CONTENT.img
check "the snapshot image, taken while the writer ran, is a clean filesystem" "0" \
  "$(e2fsck -fn "$SNAP_IMG" >"$WORK/fsck-snap.out" 2>&1; echo $?)"

cat >restore.yaml <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: restored}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
  dataSource: {apiGroup: snapshot.storage.k8s.io, kind: VolumeSnapshot, name: snap1}
---
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  restartPolicy: Never
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: restored}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c"]
    args:
    - |
      cat /data/before
      n=$(wc -l < /data/log)
      bad=$(grep -cv '^line [0-9]* of the running writer, a whole line each time$' /data/log)
      [ "$n" -gt 0 ] && echo "log has lines" || echo "log empty"
      echo "broken lines: $bad"
    volumeMounts:
    - {name: data, mountPath: /data}
YAML
k apply -f restore.yaml >/dev/null 2>&1
poll 60 finished reader || fail "reader did not finish: $(phase reader); $(events reader | tail -3)"
check "restored claim: the data written before the snapshot, whole lines" \
  "Succeeded written before the snapshot
log has lines
broken lines: 0" "$(phase reader) $(k logs reader 2>&1)"
R_PV=$(k get pvc restored -o jsonpath='{.spec.volumeName}')
check "restored claim: Bound, 64Mi" "Bound 64Mi" \
  "$(k get pvc restored -o jsonpath='{.status.phase} {.status.capacity.storage}')"
kdelete pod reader >/dev/null 2>&1
unstaged() { ! work_loops | grep -qF "$1"; }
poll 20 unstaged "$R_PV" || fail "restored volume still attached: $(work_loops)"
check "the restored image is a clean filesystem" "0" \
  "$(e2fsck -fn "$DATA/block/$R_PV.img" >"$WORK/fsck-restored.out" 2>&1; echo $?)"

# Clone: independent of its source.
cat >clone.yaml <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: clone}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
  dataSource: {kind: PersistentVolumeClaim, name: src}
---
apiVersion: v1
kind: Pod
metadata: {name: cloner}
spec:
  restartPolicy: Never
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: clone}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "cat /data/before; echo changed > /data/before; echo mine > /data/clone-only; sync; cat /data/before"]
    volumeMounts:
    - {name: data, mountPath: /data}
YAML
k apply -f clone.yaml >/dev/null 2>&1
poll 60 finished cloner || fail "cloner did not finish: $(phase cloner); $(events cloner | tail -3)"
check "clone: the source's data, then its own" "Succeeded written before the snapshot
changed" "$(phase cloner) $(k logs cloner 2>&1)"
kdelete pod cloner writer >/dev/null 2>&1
cat >checker.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: checker}
spec:
  restartPolicy: Never
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: src}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "cat /data/before; [ -e /data/clone-only ] && echo leaked || echo independent"]
    volumeMounts:
    - {name: data, mountPath: /data}
YAML
k apply -f checker.yaml >/dev/null 2>&1
poll 60 finished checker || fail "checker did not finish: $(phase checker); $(events checker | tail -3)"
check "the source is unchanged by the clone" "Succeeded written before the snapshot
independent" "$(phase checker) $(k logs checker 2>&1)"
kdelete pod checker >/dev/null 2>&1

# Deleting the snapshot (deletionPolicy Delete): content and image go.
check "delete the snapshot" 'volumesnapshot.snapshot.storage.k8s.io "snap1" deleted' \
  "$(kdelete volumesnapshot snap1 2>&1)"
content_gone() { ! k get volumesnapshotcontent "$CONTENT" >/dev/null 2>&1 && [[ ! -e $SNAP_IMG ]]; }
poll 20 content_gone && echo "ok   the content and the snapshot image are gone" ||
  fail "content or image still there: $(k get volumesnapshotcontent 2>&1) $(ls "$DATA/block/snapshots")"

C_PV=$(k get pvc clone -o jsonpath='{.spec.volumeName}')
kdelete pvc src restored clone >/dev/null 2>&1
images_gone() { [[ -z $(find "$DATA/block" -name '*.img' 2>/dev/null) ]]; }
poll 30 images_gone && echo "ok   deleting the claims removes their images" ||
  fail "images still there: $(find "$DATA/block" -name '*.img')"
pvs_gone() { [[ -z $(k get pv -o name 2>/dev/null) ]]; }
poll 30 pvs_gone || fail "PVs still there: $(k get pv -o name) ($SRC_PV $R_PV $C_PV)"

stop_serve
check "kvol serve exits 0 on SIGTERM" 0 "$STOP_RC"
check "no mount left under the data dir" "" "$(mounts_below_data)"
check "no loop device left" "" "$(work_loops)"

if [[ $FAILS != 0 ]]; then
  echo "--- serve stderr (last 30 lines)"
  tail -30 "$DATA.err"
  cat "$WORK"/fsck-*.out 2>/dev/null | head -20
fi
echo "$FAILS failure(s)"
[[ $FAILS == 0 ]]
