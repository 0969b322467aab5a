#!/usr/bin/env bash
# 1,000 concurrent watchers each receiving one update (DESIGN.md / issue 4: p99 < 50 ms), against
# a real `kvol serve`: runs bench/watchers_bench.cc's BM_WatchFanout RUNS times and prints each
# run's p50/p99/max (ms, from the update's reply to each watcher's event) and their medians.
# Usage: bench/api_watchers.sh <kvol-binary> [runs=3] [watchers=1000] [bench-binary]
set -u
K=${1:?usage: api_watchers.sh <kvol-binary> [runs] [watchers] [bench-binary]}
RUNS=${2:-3}
export KVOL_WATCHERS=${3:-1000}
B=${4:-$(dirname "$0")/../build/release/bench/watchers_bench}
ulimit -n 20000 || exit 1
export KVOL_BIN=$K
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for r in $(seq "$RUNS"); do
  "$B" --benchmark_format=json >"$T/$r.json" 2>"$T/$r.err" || { cat "$T/$r.err" >&2; exit 1; }
  python3 - "$T/$r.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))["benchmarks"][0]
if b.get("error_occurred"): sys.exit("bench error: " + b.get("error_message", ""))
print("run: %d watchers x %d updates: p50 %.2f ms, p99 %.2f ms, max %.2f ms (from the send: p50_send %.2f, p99_send %.2f); "
      "missed %d; opening all watches %.0f ms; server RSS %.1f MiB" % (
      b["watchers"], b["iterations"], b["p50_ms"], b["p99_ms"], b["max_ms"], b["p50_from_send"],
      b["p99_from_send"], b["missed"], b["open_all_ms"], b["server_rss_MiB"]))
PY
done | tee "$T/runs"
awk '{for (i = 1; i <= NF; i++) if ($i == "p50" || $i == "p99" || $i == "max") { k = $i; v = $(i+1);
        if (!(k in n)) n[k] = 0; vals[k, ++n[k]] = v + 0 } }
     END { for (k in n) { m = n[k]; for (i = 1; i <= m; i++) a[i] = vals[k, i];
             for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
             printf "median of %d runs: %s %.2f ms\n", m, k, a[int((m + 1) / 2)] } }' "$T/runs"
