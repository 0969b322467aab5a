# Shared set-up of the node-agent end-to-end scripts that run real crun containers (sourced by
# test/e2e/node_volumes.sh and node_security.sh; only test/e2e/*.sh are ctest cases).
# - Skips the test (exit 0 with a SKIP line) when not root, or crun, busybox or the image script
#   is missing.
# - WORK: a scratch directory under /tmp; KVOL: a snapshot of the binary in it; BUSYBOX_TAR: the
#   busybox image, built once.
# - start_serve DATA [ARGS...]: imports the image into DATA, starts `kvol serve` there, waits for
#   its ready line; the server's PID is remembered and stopped on exit.
# - stop_serve: stops the last server started (SIGTERM), sets STOP_RC to its exit status.
# - Clean-up on every exit: each server gets SIGTERM (SIGKILL after 20 s) and is waited for;
#   container processes and shims a killed server left behind are killed by PID
#   (kill_pod_processes); loop devices of images under WORK are detached (work_loops lists them);
#   every mount left under WORK is unmounted (deepest first, lazily); WORK is removed.
# - k VERB ARGS...: kubectl (when installed, unless KVOL_E2E_NO_KUBECTL is set) or the same kvol
#   verb, against the kubeconfig in $KC.
# - check NAME WANT GOT / contains NAME NEEDLE HAYSTACK / fail MESSAGE print ok/FAIL lines and
#   count failures in FAILS; poll SECONDS COMMAND... retries COMMAND every 0.1 s.
set -u
KVOL=$(realpath "${1:?usage: $0 <kvol-binary> <source-dir>}")
SRC=$(realpath "${2:?usage: $0 <kvol-binary> <source-dir>}")

skip() {
  echo "SKIP: $*"
  exit 0
}
[[ $(id -u) == 0 ]] || skip "needs root (the node agent mounts volumes)"
command -v crun >/dev/null || skip "crun not installed"
[[ -x /bin/busybox ]] || skip "busybox-static not installed"
command -v jq >/dev/null || skip "jq not installed"
[[ -f $SRC/scripts/make-busybox-image.sh ]] || skip "scripts/make-busybox-image.sh not there"

WORK=$(mktemp -d "/tmp/kvol-e2e-$(basename "$0" .sh)-XXXXXX")
SERVERS=()
FAILS=0
# Run a snapshot of the binary (a hard link: a relink replaces the file, not this inode), so a
# rebuild while the test runs cannot swap it under the servers and verbs.
ln "$KVOL" "$WORK/kvol" 2>/dev/null || cp "$KVOL" "$WORK/kvol"
KVOL=$WORK/kvol

stop_servers() {
  local p
  for p in "${SERVERS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${SERVERS[@]}"; do
    for _ in $(seq 1 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  SERVERS=()
}
# kill_pod_processes DIR: SIGKILL (by PID) every container process and shim of the node data
# dirs under DIR, as a machine failure would: processes rooted under DIR, shims naming DIR, and
# processes in the cgroup of a pod whose directory is DIR/pods/<uid> or DIR/*/pods/<uid> (a
# container whose shim died has its root in its own mount namespace, so only its cgroup says whose
# it is).
kill_pod_processes() {
  local dir=$1 p uids
  uids=$(ls -d "$dir"/pods/*/ "$dir"/*/pods/*/ 2>/dev/null | xargs -r -n1 basename | paste -sd'|')
  for p in /proc/[0-9]*; do
    if [[ "$(readlink "$p/root" 2>/dev/null)" == "$dir"/* ]] ||
      tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q -- "__shim.*$dir" ||
      { [[ -n $uids ]] && grep -qE ":/($uids)_" "$p/cgroup" 2>/dev/null; }; then
      kill -KILL "${p#/proc/}" 2>/dev/null
    fi
  done
}
# Loop devices whose backing file is under WORK ("/dev/loopN FILE" lines), and their release.
work_loops() {
  losetup -l -n -O NAME,BACK-FILE 2>/dev/null | awk -v w="$WORK/" 'index($2, w) == 1'
}
detach_work_loops() {
  local dev _
  work_loops | while read -r dev _; do losetup -d "$dev" 2>/dev/null; done
}
cleanup() {
  stop_servers
  kill_pod_processes "$WORK"
  detach_work_loops # a mounted one goes when the lazy unmounts below let go of it
  findmnt -rn -o TARGET | awk -v w="$WORK" '$0 == w || index($0, w "/") == 1' | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT # so that a ctest timeout or ^C still runs the clean-up

fail() {
  echo "FAIL $*"
  FAILS=$((FAILS + 1))
}
check() { # check NAME WANT GOT
  if [[ "$2" == "$3" ]]; then
    echo "ok   $1"
  else
    fail "$1"
    echo "    want: $(printf '%q' "$2")"
    echo "    got:  $(printf '%q' "$3")"
  fi
}
contains() { # contains NAME NEEDLE HAYSTACK
  if [[ "$3" == *"$2"* ]]; then
    echo "ok   $1"
  else
    fail "$1: $(printf '%q' "$2") not in:"
    echo "$3" | head -30 | sed 's/^/    /'
  fi
}
poll() { # poll SECONDS COMMAND...
  local deadline=$((SECONDS + $1))
  shift
  while ! "$@"; do
    [[ $SECONDS -ge $deadline ]] && return 1
    sleep 0.1
  done
}

bash "$SRC/scripts/make-busybox-image.sh" "$WORK/busybox.tar" >/dev/null 2>"$WORK/make.err" ||
  skip "make-busybox-image.sh failed: $(head -3 "$WORK/make.err")"
BUSYBOX_TAR=$WORK/busybox.tar

# start_serve DATA [ARGS...]: on failure prints why and exits 1.
start_serve() {
  local data=$1
  shift
  mkdir -p "$data"
  if ! "$KVOL" image import --data-dir "$data" "$BUSYBOX_TAR" >"$data.import" 2>&1; then
    echo "FAIL kvol image import: $(cat "$data.import")"
    exit 1
  fi
  "$KVOL" serve --data-dir "$data" --listen 127.0.0.1:0 "$@" >"$data.out" 2>"$data.err" &
  SERVERS+=($!)
  for _ in $(seq 1 200); do
    grep -q '^kvol ready ' "$data.out" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "FAIL kvol serve --data-dir $data did not become ready"
  tail -20 "$data.err"
  exit 1
}

# stop_serve: SIGTERM to the last server started; sets STOP_RC to its exit status (KILL after
# 20 s: 137). Call it directly, not in $(...): only this shell can wait for the server.
stop_serve() {
  local p=${SERVERS[-1]}
  unset 'SERVERS[-1]'
  kill -TERM "$p" 2>/dev/null
  for _ in $(seq 1 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null
  wait "$p"
  STOP_RC=$?
}

if command -v kubectl >/dev/null && [[ -z ${KVOL_E2E_NO_KUBECTL:-} ]]; then
  k() { kubectl --kubeconfig "$KC" --cache-dir "$WORK/kcache" "$@"; }
  kdelete() { timeout 40 kubectl --kubeconfig "$KC" --cache-dir "$WORK/kcache" delete --timeout=30s "$@"; }
else
  echo "note: kubectl not installed; using kvol's verbs"
  k() { "$KVOL" "$1" --kubeconfig "$KC" "${@:2}"; }
  kdelete() { timeout 40 "$KVOL" delete --kubeconfig "$KC" "$@"; }
fi
# kdelete ARGS...: `delete ARGS` that waits until the objects are gone, at most 30-40 s.
# pod NAME JQ: a jq filter over the pod's JSON (raw output; "" when the pod cannot be read).
pod() { k get pod "$1" -o json 2>/dev/null | jq -r "$2" 2>/dev/null; }
phase() { pod "$1" .status.phase; }
# events NAME: "Reason: message" of the events about object NAME, oldest first.
events() {
  k get events -o json 2>/dev/null |
    jq -r --arg n "$1" '.items[] | select(.involvedObject.name == $n) | "\(.reason): \(.message)"'
}
has_event() { events "$1" | grep -qF -- "$2"; } # has_event NAME TEXT
