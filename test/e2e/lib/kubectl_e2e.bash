# Shared set-up of the kubectl end-to-end scripts (sourced; only test/e2e/*.sh are ctest cases).
# - Skips the test (exit 0 with a SKIP line) when kubectl is not installed.
# - WORK: a temporary directory removed on exit; DATA=$WORK/data for `kvol serve --data-dir`.
# - PID: set it to the server's PID; it is killed on exit (also when the test fails). A script
#   with more to stop defines e2e_before_cleanup, which runs first.
# - fail MESSAGE and expect NAME WANT GOT count failures in FAILS and print ok/FAIL lines.
if ! command -v kubectl >/dev/null; then
  echo "SKIP: kubectl not installed"
  exit 0
fi
WORK=$(mktemp -d)
DATA=$WORK/data
PID=
cleanup() {
  if declare -F e2e_before_cleanup >/dev/null; then e2e_before_cleanup; fi
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
# expect NAME WANT GOT
expect() {
  if [ "$2" != "$3" ]; then
    fail "$1"
    diff <(echo "$2") <(echo "$3") | head -40 | sed 's/^/    /'
  else
    echo "ok: $1"
  fi
}
