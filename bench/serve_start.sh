#!/usr/bin/env bash
# Whole-process figures of `kvol serve` on the embedded store: time from exec to the
# `kvol ready <url>` line (first start of a fresh data dir, then a restart on it) and the idle
# resident set size one second after ready. Usage: bench/serve_start.sh <kvol-binary> [runs=5]
set -u
K=${1:?usage: serve_start.sh <kvol-binary> [runs]}
RUNS=${2:-5}
now_ns() { date +%s%N; }
wait_ready() { while ! grep -q '^kvol ready ' "$1" 2>/dev/null; do sleep 0.001; done; }
for _ in $(seq "$RUNS"); do
  D=$(mktemp -d)
  s=$(now_ns)
  "$K" serve --data-dir "$D" --listen 127.0.0.1:0 >"$D/out" 2>"$D/err" &
  P=$!
  wait_ready "$D/out"
  e=$(now_ns)
  sleep 1
  rss=$(awk '/VmRSS/{print $2}' "/proc/$P/status")
  kill "$P"; wait "$P"
  s2=$(now_ns)
  "$K" serve --data-dir "$D" --listen 127.0.0.1:0 >"$D/out2" 2>"$D/err" &
  P=$!
  wait_ready "$D/out2"
  e2=$(now_ns)
  kill "$P"; wait "$P"
  echo "first start ready $(((e - s) / 1000000)) ms, restart ready $(((e2 - s2) / 1000000)) ms, idle RSS $((rss / 1024)) MiB"
  rm -rf "$D"
done
