# Shared set-up of the kubectl end-to-end scripts (sourced; only test/e2e/*.sh are ctest cases).
# - Skips the test (exit 0 with a SKIP line) when kubectl is not installed.
# - WORK: a temporary directory removed on exit; DATA=$WORK/data for `kvol serve --data-dir`.
# - PID: set it to the server's PID; it is killed on exit (also when the test fails). A script
#   with more to stop defines e2e_before_cleanup, which runs first.
# - fail MESSAGE and expect NAME WANT GOT count failures in FAILS and print ok/FAIL lines.
# - start_kvol [SERVE-ARGS...]: `$KVOL serve --data-dir $DATA --listen 127.0.0.1:0 ARGS` with
#   stdout/stderr in $WORK; waits for the ready line (exits 1 naming it when there is none), sets
#   PID and URL, exports KUBECONFIG, sets K (kubectl with a private cache) and cd's to $WORK.
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

start_kvol() {
  "$KVOL" serve --data-dir "$DATA" --listen 127.0.0.1:0 "$@" >"$WORK/stdout" 2>"$WORK/stderr" &
  PID=$!
  for _ in $(seq 1 200); do
    [ -s "$WORK/stdout" ] && break
    sleep 0.05
  done
  local ready
  ready=$(head -1 "$WORK/stdout")
  if ! [[ "$ready" =~ ^kvol\ ready\ (http://127\.0\.0\.1:[0-9]+)$ ]]; then
    echo "FAIL: no ready line; stdout: $ready"
    cat "$WORK/stderr"
    exit 1
  fi
  URL=${BASH_REMATCH[1]}
  export KUBECONFIG=$DATA/kubeconfig
  K="kubectl --cache-dir $WORK/cache"
  cd "$WORK" || exit 1
}
