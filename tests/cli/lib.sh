# lib.sh - helpers for the CLI tests. Each test script sources this, runs
# `dunlin` ($DUNLIN, set by ctest) and checks exit status and output.
set -u
: "${DUNLIN:?set DUNLIN to the dunlin binary}"
SRC=${DUNLIN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FAILS=0
CHECKS=0

# run_dunlin ARGS...: runs dunlin, leaving $STATUS, $OUT (stdout), $ERR (stderr).
run_dunlin() {
  "$DUNLIN" "$@" >"$WORK/out" 2>"$WORK/err"
  STATUS=$?
  OUT=$(cat "$WORK/out")
  ERR=$(cat "$WORK/err")
}

fail() {
  FAILS=$((FAILS + 1))
  echo "FAIL: $*"
  echo "  status: $STATUS"
  echo "  stdout: $(head -c 2000 "$WORK/out")"
  echo "  stderr: $(head -c 2000 "$WORK/err")"
}

expect_status() { CHECKS=$((CHECKS + 1)); [ "$STATUS" -eq "$1" ] || fail "$2: expected exit $1"; }
expect_out() { CHECKS=$((CHECKS + 1)); grep -qF -- "$1" "$WORK/out" || fail "$2: stdout lacks '$1'"; }
expect_err() { CHECKS=$((CHECKS + 1)); grep -qF -- "$1" "$WORK/err" || fail "$2: stderr lacks '$1'"; }
expect_eq() { CHECKS=$((CHECKS + 1)); [ "$1" = "$2" ] || { echo "FAIL: $3: got '$1', expected '$2'"; FAILS=$((FAILS + 1)); }; }

# golden_ledger DIR LEDGER: the ledger of golden case DIR (its CSV files
# and setup.sql, as tests/golden/run.sh builds it); sets GOLDEN_POLICY to
# the case's policy. Fails when the import does.
golden_ledger() {
  local dir=$1 ledger=$2 t args=()
  for t in customers invoices payments credits disputes promises fx_rates holidays; do
    [ -f "$dir/$t.csv" ] && args+=("--${t//_/-}" "$dir/$t.csv")
  done
  "$DUNLIN" ledger init "$ledger" >/dev/null && "$DUNLIN" ledger import "$ledger" "${args[@]}" >/dev/null 2>&1 || return 1
  [ -f "$dir/setup.sql" ] && sqlite3 "$ledger" <"$dir/setup.sql"
  GOLDEN_POLICY="$dir/policy.dun"
  [ -f "$dir/policy.path" ] && GOLDEN_POLICY="$SRC/$(cat "$dir/policy.path")"
  return 0
}

finish() {
  echo "$((CHECKS - FAILS)) passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}
