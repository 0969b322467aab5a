#!/usr/bin/env bash
# Pod start, DESIGN.md's target (a): whole commands side by side in one run, on the same YAML and
# the same busybox image:
#   kvol apply -f pod.yaml --wait        (against a running `kvol serve`, image imported)
#   podman kube play --network none pod.yaml
# Each timed run starts the pod; the pod is then removed untimed. Prints every run and the medians.
# Target (b), API create -> all containers Running on a watch, is bench/pod_start_watch.sh.
# Usage: bench/pod_start/run.sh <kvol-binary> [runs=15]   (root; installs podman when missing)
set -euo pipefail
K=$(readlink -f "${1:?usage: run.sh <kvol-binary> [runs]}")
RUNS=${2:-15}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
command -v podman >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null

W=$(mktemp -d /tmp/kvol-podbench.XXXXXX)
D=$W/kvol
mkdir -p "$D" /tmp/kvol-bench-host
KPID=""
cleanup() {
  [[ -n "$KPID" ]] && kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null
  podman_ns kube down "$HERE/pod.yaml" >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT
now_ns() { date +%s%N; }
# Each command is timed on an idle machine: after the previous run's cleanup (kvol's pod teardown,
# podman's conmon and cleanup processes, which outlive `kube down`), wait until both CPUs are at
# least 90% idle over 100 ms, for at most 3 s. Without this, each tool was timed while the other
# one's leftovers ran beside it. A run that found no quiet moment is counted and reported.
busy_settles=0
idle_pct() {
  local u n s i w x y z t1 i1
  read -r _ u n s i w x y z _ </proc/stat
  t1=$((u + n + s + i + w + x + y + z)) i1=$((i + w))
  sleep 0.1
  read -r _ u n s i w x y z _ </proc/stat
  echo $((100 * (i + w - i1) / (u + n + s + i + w + x + y + z - t1 + 1)))
}
settle() {
  for _ in $(seq 30); do (($(idle_pct) >= 90)) && return; done
  busy_settles=$((busy_settles + 1))
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# --- podman, configured as ../shared/reference/podman-and-crun-facts.md says -----------------
mkdir -p "$W/podman/root" "$W/podman/run"
cat >"$W/podman/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "crun"
CONF
cat >"$W/podman/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$W/podman/root"
runroot = "$W/podman/run"
CONF
echo 'unqualified-search-registries = []' >"$W/podman/registries.conf"
podman_ns() {
  CONTAINERS_CONF=$W/podman/containers.conf CONTAINERS_STORAGE_CONF=$W/podman/storage.conf \
    CONTAINERS_REGISTRIES_CONF=$W/podman/registries.conf \
    unshare --mount --propagation slave sh -c 'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec podman "$@"' podman "$@"
}

# --- the image, once, for both --------------------------------------------------------------
bash "$ROOT/scripts/make-busybox-image.sh" "$W/busybox.tar" localhost/busybox:latest >/dev/null
"$K" image import --data-dir "$D" "$W/busybox.tar" localhost/busybox:latest >/dev/null
podman_ns load -i "$W/busybox.tar" >/dev/null
podman_ns kube play "$HERE/secret.yaml" >/dev/null

# --- kvol -----------------------------------------------------------------------------------
"$K" serve --data-dir "$D" --listen 127.0.0.1:0 >"$W/serve.out" 2>"$W/serve.err" &
KPID=$!
while ! grep -q '^kvol ready ' "$W/serve.out" 2>/dev/null; do sleep 0.01; done
export KUBECONFIG=$D/kubeconfig
"$K" apply -f "$HERE/setup.yaml" >/dev/null
# Warm-up run: binds the claim (WaitForFirstConsumer), so timed runs find it Bound.
"$K" apply -f "$HERE/pod.yaml" --wait --timeout 60 >/dev/null
"$K" delete pod bench >/dev/null

kvol_ms=()
podman_ms=()
for i in $(seq "$RUNS"); do
  settle
  s=$(now_ns); "$K" apply -f "$HERE/pod.yaml" --wait --timeout 60 >/dev/null; e=$(now_ns)
  kvol_ms+=($(((e - s) / 1000000)))
  "$K" delete pod bench >/dev/null
  settle
  s=$(now_ns); podman_ns kube play --network none --configmap "$HERE/configmap.yaml" "$HERE/pod.yaml" >/dev/null; e=$(now_ns)
  podman_ms+=($(((e - s) / 1000000)))
  podman_ns kube down "$HERE/pod.yaml" >/dev/null 2>&1 || true
  echo "run $i: kvol ${kvol_ms[-1]} ms, podman ${podman_ms[-1]} ms"
done
km=$(printf '%s\n' "${kvol_ms[@]}" | median)
pm=$(printf '%s\n' "${podman_ms[@]}" | median)
((busy_settles == 0)) || echo "warning: $busy_settles of $((2 * RUNS)) runs started on a busy machine (no 100 ms at 90% idle within 3 s)"
echo "median over $RUNS: kvol apply --wait ${km} ms, podman kube play ${pm} ms, ratio $(awk -v a="$pm" -v b="$km" 'BEGIN{printf "%.1f", a/b}')x"
