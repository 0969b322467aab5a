#!/usr/bin/env bash
# End-to-end: volume paths a pod must not be able to use to reach the host, refused where a user
# sees it, with real crun containers under `kvol serve`:
#  - a subPath through a symlink pointing out of its volume: the container never runs; its
#    waiting status, a Failed event and `kubectl describe` name the subPath (a subPath without a
#    symlink in the same volume works);
#  - ".." in a configMap item path: refused at validation (422, the field path in the message);
#  - a gitRepo volume of a local repository: a FailedMount event naming CVE-2025-1767;
#  - a hostPath outside --allowed-host-paths (a second server): a FailedMount event saying it is
#    not under an allowed prefix, the pod never Running (a hostPath under the prefix works).
# Needs root, crun, busybox and jq (skipped otherwise).
# Usage: bash test/e2e/node_security.sh <kvol-binary> <source-dir>
# shellcheck source=lib/node_e2e.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/node_e2e.bash"

A=$WORK/a # no hostPath restriction
B=$WORK/b # --allowed-host-paths $WORK/allowed
mkdir -p "$WORK/allowed"
start_serve "$A"
start_serve "$B" --allowed-host-paths "$WORK/allowed"
cd "$WORK" || exit 1

# A volume directory on the host with a symlink out of it, and a plain sub-directory.
mkdir -p vol/ok
echo "inside the volume" >vol/ok/file
ln -s /etc vol/esc
# A real local git repository (so a refusal is not "repository not found").
if ! git init -q repo || ! git -C repo -c user.name=t -c user.email=t@t commit -q --allow-empty -m init; then
  fail "git init of the local repository"
fi

cat >a.yaml <<YAML
apiVersion: v1
kind: Pod
metadata: {name: escape}
spec:
  volumes:
  - name: vol
    hostPath: {path: $WORK/vol, type: Directory}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo container ran; cat /mnt/etc/hostname; sleep 300"]
    volumeMounts:
    - {name: vol, mountPath: /mnt/etc, subPath: esc}
---
apiVersion: v1
kind: Pod
metadata: {name: subok}
spec:
  restartPolicy: Never
  volumes:
  - name: vol
    hostPath: {path: $WORK/vol, type: Directory}
  containers:
  - name: c
    image: busybox
    command: ["cat", "/mnt/ok/file"]
    volumeMounts:
    - {name: vol, mountPath: /mnt/ok, subPath: ok}
---
apiVersion: v1
kind: Pod
metadata: {name: git}
spec:
  volumes:
  - name: src
    gitRepo: {repository: $WORK/repo}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo container ran; ls -a /src; sleep 300"]
    volumeMounts:
    - {name: src, mountPath: /src}
YAML
cat >b.yaml <<YAML
apiVersion: v1
kind: Pod
metadata: {name: etc}
spec:
  volumes:
  - name: host
    hostPath: {path: /etc}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo container ran; cat /host/hostname; sleep 300"]
    volumeMounts:
    - {name: host, mountPath: /host}
---
apiVersion: v1
kind: Pod
metadata: {name: inside}
spec:
  restartPolicy: Never
  volumes:
  - name: data
    hostPath: {path: $WORK/allowed/data, type: DirectoryOrCreate}
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo written inside > /data/f"]
    volumeMounts:
    - {name: data, mountPath: /data}
YAML
KC=$A/kubeconfig
out=$(k apply -f a.yaml 2>&1)
contains "apply on server A" "pod/escape created
pod/subok created" "$out"
contains "gitRepo pod accepted" "pod/git created" "$out"
KC=$B/kubeconfig
check "apply on server B" "pod/etc created
pod/inside created" "$(k apply -f b.yaml 2>&1)"

# --- ".." in a configMap item path: refused by validation, before any node sees it.
cat >dotdot.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: dotdot}
spec:
  volumes:
  - name: cfg
    configMap:
      name: whatever
      items: [{key: k, path: ../escape}]
  containers:
  - {name: c, image: busybox}
YAML
KC=$A/kubeconfig
out=$(k apply -f dotdot.yaml 2>&1)
rc=$?
check "configMap item path with '..' refused by apply" "1 The Pod \"dotdot\" is invalid: spec.volumes[0].configMap.items[0].path: Invalid value: \"../escape\": must not contain '..'" \
  "$rc $out"
URL=$(sed -n 's/^kvol ready //p' "$A.out")
cat >dotdot.json <<'JSON'
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "dotdot"},
 "spec": {"volumes": [{"name": "cfg", "configMap": {"name": "whatever", "items": [{"key": "k", "path": "../escape"}]}}],
          "containers": [{"name": "c", "image": "busybox"}]}}
JSON
code=$(curl -s -o dotdot.out -w '%{http_code}' -X POST -H "Authorization: Bearer $(cat "$A/token")" \
  -H 'Content-Type: application/json' --data-binary @dotdot.json "$URL/api/v1/namespaces/default/pods")
check "the API answers 422 with the field path" "422 Invalid FieldValueInvalid spec.volumes[0].configMap.items[0].path" \
  "$code $(jq -r '"\(.reason) \(.details.causes[0].reason) \(.details.causes[0].field)"' dotdot.out 2>&1)"
check "no dotdot pod stored" "" "$(k get pod dotdot -o name 2>/dev/null)"

# --- Wait for the outcomes (the refused ones show as events).
finished() { [[ $(phase "$1") == Succeeded || $(phase "$1") == Failed ]]; }
escape_refused() { has_event escape "subPath 'esc' goes through the symlink"; }
git_refused() { has_event git "CVE-2025-1767"; }
KC=$A/kubeconfig
poll 30 finished subok
poll 15 escape_refused
poll 15 git_refused
KC=$B/kubeconfig
etc_refused() { has_event etc "is not under an allowed prefix"; }
poll 30 finished inside
poll 15 etc_refused

# --- subPath through a symlink out of the volume.
KC=$A/kubeconfig
check "subPath without a symlink works" "Succeeded inside the volume" \
  "$(phase subok) $(k logs subok 2>&1)"
SUBPATH_MSG="subPath 'esc' goes through the symlink 'esc' inside the volume"
check "escape: waiting status names the subPath" \
  "Pending CreateContainerConfigError $SUBPATH_MSG" \
  "$(pod escape '"\(.status.phase) \(.status.containerStatuses[0].state.waiting.reason) \(.status.containerStatuses[0].state.waiting.message)"')"
contains "escape: Failed event names the subPath" "Failed: Error: $SUBPATH_MSG" "$(events escape)"
contains "escape: kubectl describe shows it" "$SUBPATH_MSG" "$(k describe pod escape 2>&1)"

# --- gitRepo of a local repository.
contains "git: FailedMount event names the CVE" \
  "FailedMount: MountVolume.SetUp failed for volume \"src\" : gitRepo repository \"$WORK/repo\" is refused: only remote repositories (scheme://host/... or user@host:path) can be cloned, never a local path or file:// URL (CVE-2025-1767)" \
  "$(events git)"
git_status() { pod git '"\(.status.phase) \(.status.containerStatuses[0].state.waiting.reason)"'; }
git_creating() { [[ $(git_status) == "Pending ContainerCreating" ]]; }
poll 5 git_creating
check "git: pod Pending, container ContainerCreating" "Pending ContainerCreating" "$(git_status)"

# --- hostPath outside --allowed-host-paths.
KC=$B/kubeconfig
check "hostPath under the allowed prefix works" "Succeeded written inside" \
  "$(phase inside) $(cat "$WORK/allowed/data/f" 2>&1)"
contains "etc: FailedMount event says not under an allowed prefix" \
  "FailedMount: MountVolume.SetUp failed for volume \"host\" : hostPath \"/etc\" is not under an allowed prefix (--allowed-host-paths: $WORK/allowed)" \
  "$(events etc)"

# --- None of the refused containers ever ran (checked last: the others had time to start).
sleep 1
KC=$A/kubeconfig
for p in escape git; do
  check "$p: container never started" "Pending no containerID, no lastState, no Started event" \
    "$(pod "$p" '"\(.status.phase) \(if .status.containerStatuses[0].containerID then "a containerID" else "no containerID" end), \(if .status.containerStatuses[0].lastState.terminated then "a lastState" else "no lastState" end)"'), $(events "$p" | grep -q '^Started:' && echo "a Started event" || echo "no Started event")"
done
# Kubernetes always writes restartCount and ready (no omitempty in the Go types), so
# `kubectl get -o jsonpath='{..restartCount}'` shows 0 for a container that never started.
check "escape: containerStatuses carry restartCount 0 and ready false (if null: the API codec omits them when zero, include/kvol/api/types_pod.h ContainerStatus)" \
  "0 false" "$(pod escape '"\(.status.containerStatuses[0].restartCount) \(.status.containerStatuses[0].ready)"')"
contains "escape: logs say the container is waiting to start" \
  'container "c" in pod "escape" is waiting to start: CreateContainerConfigError' "$(k logs escape 2>&1)"
KC=$B/kubeconfig
check "etc: container never started" "Pending no Started event" \
  "$(phase etc) $(events etc | grep -q '^Started:' && echo "a Started event" || echo "no Started event")"

if [[ $FAILS != 0 ]]; then
  for d in "$A" "$B"; do
    echo "--- $d serve stderr (last 20 lines)"
    tail -20 "$d.err"
  done
fi
echo "$FAILS failure(s)"
[[ $FAILS == 0 ]]
