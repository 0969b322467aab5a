#!/usr/bin/env bash
# End-to-end: access modes enforced across nodes, zones, and a node that disappears, with
# `kvol serve` (its own node a1, zone a) and two `kvol node` agents on this machine (a2 in zone a,
# b1 in zone b; each its own data dir; all share serve's block pool), real crun containers and
# kubectl:
#  1. ReadWriteOnce across two nodes: a second pod on another node waits with Kubernetes'
#     Multi-Attach event, then runs after the first pod is deleted and reads the first's data;
#  2. ReadWriteOncePod: a second pod on the same node is not scheduled (condition says why);
#  3. ReadOnlyMany: a pod that did not ask for readOnly cannot write;
#  4. zones: a pod pinned to zone b gets its volume made in zone b; a pod pinned to zone b with a
#     volume in zone a stays Pending (volume node affinity conflict); a class whose
#     allowedTopologies exclude the pinned zone leaves the pod Pending with a reason;
#  5. a node agent killed with SIGKILL: its node goes NotReady, its RWO volume stays attached
#     (another node's pod waits and says why) until the operator taints the node out-of-service
#     (after the test kills its containers and unmounts its volumes, as a machine failure
#     would); then the volume moves within seconds and the data is intact;
#  6. at the end no loop device and no mount is left.
# Needs root, crun, busybox and jq (skipped otherwise).
# Usage: bash test/e2e/access_modes_zones.sh <kvol-binary> <source-dir>
# shellcheck source=lib/node_e2e.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/node_e2e.bash"

CP=$WORK/cp
start_serve "$CP" --node-name a1 --zone a --node-monitor-grace-period 3 \
  --node-status-update-frequency 1
KC=$CP/kubeconfig
URL=$(sed -n 's/^kvol ready //p' "$CP.out")
POOL=$CP/block
cd "$WORK" || exit 1

# start_node NAME ZONE: a `kvol node` sharing serve's block pool; sets NODE_PID.
start_node() {
  local dir=$WORK/$1
  mkdir -p "$dir"
  : >"$dir.out"
  "$KVOL" image import --data-dir "$dir" "$BUSYBOX_TAR" >/dev/null
  "$KVOL" node --server "$URL" --token "$(cat "$CP/token")" --data-dir "$dir" --node-name "$1" \
    --zone "$2" --block-pool "$POOL" --node-status-update-frequency 1 >"$dir.out" 2>"$dir.err" &
  NODE_PID=$!
  SERVERS+=("$NODE_PID")
  poll 20 grep -q "kvol node ready $1" "$dir.out" || fail "node $1 not ready: $(tail -5 "$dir.err")"
}
start_node a2 a
A2_PID=$NODE_PID
start_node b1 b

# pod_yaml NAME NODE-SELECTOR-KEY VALUE CLAIM COMMAND [readOnly]
pod_yaml() {
  cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  terminationGracePeriodSeconds: 1
  nodeSelector: {$2: $3}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "$5"]
    volumeMounts:
    - {name: data, mountPath: /data${6:+, readOnly: true}}
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: $4}
YAML
}
claim_yaml() { # NAME MODE [CLASS]
  cat <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: $1}
spec:
  accessModes: [$2]
  ${3:+storageClassName: $3}
  resources: {requests: {storage: 32Mi}}
YAML
}
running() { [[ "$(phase "$1")" == Running ]]; }
logs_have() { k logs "$1" 2>/dev/null | grep -qF -- "$2"; } # logs_have POD TEXT
host=kubernetes.io/hostname
zone=topology.kubernetes.io/zone

echo "--- 1. ReadWriteOnce across two nodes"
claim_yaml rwo ReadWriteOnce | k apply -f - >/dev/null
pod_yaml w1 $host a2 rwo 'echo from-w1 > /data/f; sync; echo wrote; sleep 3600' | k apply -f - >/dev/null
poll 60 running w1 || fail "w1 not Running: $(phase w1) $(events w1 | tail -3)"
poll 10 logs_have w1 wrote || fail "w1 did not write"
PV=$(k get pvc rwo -o jsonpath='{.spec.volumeName}')
check "the volume is attached to a2" "a2 true" \
  "$(k get volumeattachments -o json | jq -r --arg pv "$PV" '.items[] | select(.spec.source.persistentVolumeName == $pv) | "\(.spec.nodeName) \(.status.attached)"')"
pod_yaml w2 $host a1 rwo 'cat /data/f; sleep 3600' | k apply -f - >/dev/null
multi_attach() { has_event w2 "Multi-Attach error for volume \"$PV\" Volume is already exclusively attached to one node and can't be attached to another"; }
poll 30 multi_attach || fail "no Multi-Attach event on w2: $(events w2)"
check "w2 waits while w1 runs on a2" "Pending" "$(phase w2)"
kdelete pod w1 >/dev/null
poll 60 running w2 || fail "w2 not Running after w1 went: $(phase w2) $(events w2 | tail -3)"
poll 10 logs_have w2 from-w1 || fail "w2 did not read w1's data: $(k logs w2 2>&1)"
check "the volume moved to a1" "a1" \
  "$(k get volumeattachments -o json | jq -r --arg pv "$PV" '.items[] | select(.spec.source.persistentVolumeName == $pv) | .spec.nodeName')"
check "a1 lists it in volumesInUse" "true" \
  "$(k get node a1 -o json | jq --arg pv "$PV" '[.status.volumesInUse[]? | endswith("^" + $pv)] | any')"
kdelete pod w2 >/dev/null

echo "--- 2. ReadWriteOncePod: one pod"
claim_yaml solo ReadWriteOncePod | k apply -f - >/dev/null
pod_yaml o1 $host a1 solo 'sleep 3600' | k apply -f - >/dev/null
poll 60 running o1 || fail "o1 not Running: $(phase o1) $(events o1 | tail -3)"
pod_yaml o2 $host a1 solo 'sleep 3600' | k apply -f - >/dev/null
unsched() { [[ "$(pod o2 '.status.conditions[]? | select(.type == "PodScheduled") | .reason')" == Unschedulable ]]; }
poll 20 unsched || fail "o2 not Unschedulable"
contains "o2's condition names the RWOP claim and its holder" \
  "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode (claim \"solo\" is used by pod \"o1\" on node \"a1\")" \
  "$(pod o2 '.status.conditions[] | select(.type == "PodScheduled") | .message')"
poll 10 has_event o2 "ReadWriteOncePod" || fail "no FailedScheduling event on o2"
check "o2 has no node" "" "$(pod o2 '.spec.nodeName // ""')"
kdelete pod o1 o2 >/dev/null

echo "--- 3. ReadOnlyMany: every mount read-only"
claim_yaml rox ReadOnlyMany | k apply -f - >/dev/null
pod_yaml r1 $host a1 rox 'touch /data/x 2>&1 || echo touch-failed; sleep 3600' | k apply -f - >/dev/null
poll 60 running r1 || fail "r1 not Running: $(phase r1) $(events r1 | tail -3)"
poll 10 logs_have r1 touch-failed || true
contains "a pod that did not ask for readOnly cannot write" "Read-only file system" "$(k logs r1 2>&1)"
kdelete pod r1 >/dev/null

echo "--- 4. zones"
claim_yaml zb ReadWriteOnce | k apply -f - >/dev/null
pod_yaml zpod $zone b zb 'echo in-b; sleep 3600' | k apply -f - >/dev/null
poll 60 running zpod || fail "zpod not Running: $(phase zpod) $(events zpod | tail -3)"
check "pod pinned to zone b runs on b1" "b1" "$(pod zpod .spec.nodeName)"
ZPV=$(k get pvc zb -o jsonpath='{.spec.volumeName}')
check "its volume was made in zone b" "topology.kubernetes.io/zone In b" \
  "$(k get pv "$ZPV" -o json | jq -r '.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0] | "\(.key) \(.operator) \(.values | join(","))"')"
# The rwo claim's volume lives in zone a: a pod pinned to zone b cannot have it.
pod_yaml cross $zone b rwo 'sleep 3600' | k apply -f - >/dev/null
cross_unsched() { pod cross '.status.conditions[]? | select(.type == "PodScheduled") | .message' | grep -q "volume node affinity conflict"; }
poll 20 cross_unsched || fail "cross not refused: $(pod cross '.status.conditions')"
contains "the reason names the conflict" "2 node(s) didn't match Pod's node affinity/selector, 1 node(s) had volume node affinity conflict" \
  "$(pod cross '.status.conditions[] | select(.type == "PodScheduled") | .message')"
check "zone a volume never reached zone b" "" "$(pod cross '.spec.nodeName // ""')"
k apply -f - >/dev/null <<'YAML'
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: only-b}
provisioner: kvol.io/block
volumeBindingMode: WaitForFirstConsumer
allowedTopologies:
- matchLabelExpressions:
  - {key: topology.kubernetes.io/zone, values: [b]}
YAML
claim_yaml onlyb ReadWriteOnce only-b | k apply -f - >/dev/null
pod_yaml apod $zone a onlyb 'sleep 3600' | k apply -f - >/dev/null
apod_unsched() { pod apod '.status.conditions[]? | select(.type == "PodScheduled") | .message' | grep -q "didn't find available persistent volumes to bind"; }
poll 20 apod_unsched || fail "apod not refused: $(pod apod '.status.conditions')"
check "no volume made outside allowedTopologies" "" "$(k get pvc onlyb -o jsonpath='{.spec.volumeName}')"
kdelete pod zpod cross apod >/dev/null

echo "--- 5. a node that disappears"
claim_yaml dur ReadWriteOnce | k apply -f - >/dev/null
pod_yaml d1 $host a2 dur 'echo before-crash > /data/f; sync; echo wrote; sleep 3600' | k apply -f - >/dev/null
poll 60 running d1 || fail "d1 not Running: $(phase d1) $(events d1 | tail -3)"
poll 10 logs_have d1 wrote || fail "d1 did not write"
DPV=$(k get pvc dur -o jsonpath='{.spec.volumeName}')
kill -KILL "$A2_PID"
wait "$A2_PID" 2>/dev/null
notready() { [[ "$(k get node a2 -o json | jq -r '.status.conditions[] | select(.type == "Ready") | .status')" == Unknown ]]; }
poll 20 notready || fail "a2 not NotReady after its agent died"
check "a2 is tainted unreachable" "node.kubernetes.io/unreachable" \
  "$(k get node a2 -o json | jq -r '.spec.taints[]?.key' | grep unreachable)"
pod_yaml d2 $host a1 dur 'cat /data/f; sleep 3600' | k apply -f - >/dev/null
k delete pod d1 --wait=false >/dev/null 2>&1
d2_waits() { has_event d2 "Multi-Attach error for volume \"$DPV\""; }
poll 30 d2_waits || fail "d2 does not say why it waits: $(events d2)"
sleep 3
check "the dead node keeps the volume while its containers may write" "a2" \
  "$(k get volumeattachments -o json | jq -r --arg pv "$DPV" '.items[] | select(.spec.source.persistentVolumeName == $pv) | .spec.nodeName')"
check "d2 still waits" "Pending" "$(phase d2)"
# The machine fails for real: its containers die and its mounts go.
kill_pod_processes "$WORK/a2"
sleep 0.5
findmnt -rn -o TARGET | awk -v w="$WORK/a2" '$0 == w || index($0, w "/") == 1' | sort -r |
  while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
T0=$SECONDS
k taint node a2 node.kubernetes.io/out-of-service=nodeshutdown:NoExecute >/dev/null
poll 30 running d2 || fail "d2 not Running after the taint: $(phase d2) $(events d2 | tail -3)"
echo "    moved $((SECONDS - T0)) s after the taint"
poll 10 logs_have d2 before-crash || fail "d2 did not read the data: $(k logs d2 2>&1)"
check "d1 was deleted" "" "$(k get pod d1 -o name 2>/dev/null)"
kdelete pod d2 >/dev/null || {
  fail "d2 not deleted: $(pod d2 .status)"
  events d2 | tail -5
  grep -v '^I' "$CP.err" | tail -20
}

echo "--- 6. clean-up"
kdelete pvc rwo solo rox zb onlyb dur >/dev/null
stop_serve # b1
stop_serve # a2 (already dead)
stop_serve # serve
check "no loop device left" "" "$(work_loops)"
# (The data dirs' own rshared self-binds are the runtime's; the lib's clean-up removes them.)
check "no mount left" "" "$(findmnt -rn -o TARGET | awk -v w="$WORK" 'index($0, w "/") == 1' |
  grep -vxF -e "$CP" -e "$WORK/a2" -e "$WORK/b1")"
[[ $FAILS == 0 ]]
