#!/usr/bin/env bash
# Installs what is needed, builds kvol with clang ASan+UBSan (and the libFuzzer targets) and runs
# every test: unit tests, fuzz corpora, short crash tests, end-to-end tests with the real binary
# (and kubectl, when it is installed). Prints how long each phase took.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${KVOL_PRESET:-asan}
t0=$(date +%s)
phase() { local now; now=$(date +%s); echo "== $1: $((now - t0))s" >&2; t0=$now; }

# ccache: hash paths relative to the checkout so CI clones in other folders share the cache.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
bash scripts/deps.sh
phase "deps"
cmake --preset "$preset" >/dev/null
phase "configure ($preset)"
cmake --build --preset "$preset" -- -j2
phase "build"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --preset "$preset" --timeout 600
phase "ctest"
