#!/bin/bash
# Long form of test/e2e/binder_crash.sh (not run by ctest): more objects, more SIGKILLs.
# Usage: binder_crash_long.sh <path-to-kvol> [N=2000] [KILLS=20] [SETTLE_SECONDS=180] [MAX_GAP_TENTHS=30]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
KVOL=${1:?usage: binder_crash_long.sh <kvol> [N] [KILLS] [SETTLE_SECONDS] [MAX_GAP_TENTHS]}
exec bash "$HERE/../../test/e2e/binder_crash.sh" "$KVOL" "$HERE/../.." "${2:-2000}" "${3:-20}" "${4:-180}" "${5:-30}"
