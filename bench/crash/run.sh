#!/usr/bin/env bash
# Long crash test of the SQLite store (not in ctest; the short form is SqliteCrashTest).
#
#   bench/crash/run.sh [kills=200] [writer=build/dev/src/store/kvol_store_crash_writer]
#
# Each round starts the crash writer on one store file (4 threads creating and updating keys,
# printing every acknowledged write), SIGKILLs it after a random 50-800 ms, then reopens the store
# and checks that every acknowledged write of every round so far is present and that the revision
# never went back. Stops at the first failure (exit 1) and keeps the directory for inspection.
set -euo pipefail
kills=${1:-200}
writer=${2:-build/dev/src/store/kvol_store_crash_writer}
[[ -x $writer ]] || { echo "no writer at $writer (ninja -C build/dev kvol_store_crash_writer)"; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/kvol-crash-XXXXXX")
db=$dir/crash.db
acks=$dir/acks.txt
: > "$acks"
last=0
for ((i = 1; i <= kills; i++)); do
  "$writer" write "$db" "r$i" 4 > "$dir/round.txt" 2> "$dir/writer.err" &
  pid=$!
  sleep "0.$(printf '%03d' $((50 + RANDOM % 750)))"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  # Keep only complete lines: a line cut by the kill was never acknowledged.
  if [[ -s $dir/round.txt && $(tail -c1 "$dir/round.txt" | od -An -c | tr -d ' ') != '\n' ]]; then
    sed -i '$d' "$dir/round.txt"
  fi
  cat "$dir/round.txt" >> "$acks"
  if ! out=$("$writer" verify "$db" "$acks" "$last"); then
    echo "round $i: $out (kept $dir)"
    exit 1
  fi
  last=$(awk '{print $2}' <<< "$out")
  echo "round $i/$kills: $out"
done
echo "PASS: $kills kills, $(wc -l < "$acks") acknowledged writes all present, final revision $last"
rm -rf "$dir"
