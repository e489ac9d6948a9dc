#!/usr/bin/env bash
# Diagnostics tests in the style of jq's: each NAME.dun is a policy and
# NAME.expected the exact diagnostics `dunlin check tests/check/NAME.dun`
# prints on stderr (carets included), written by hand from LANGUAGE.md and
# docs/diagnostics.md; an empty file for a clean policy. NAME.status holds
# the exit status when it is not 0.
#
# The closing summary line (`1 of 1 file checked clean` when the exit
# status is 0, `0 of 1 file checked clean` otherwise) is checked here, not
# repeated in every expected file. Nothing may go to stdout in text mode.
#
# Variants, run only when their expected file exists:
#   NAME.werror.expected  stderr of `check --werror` (and NAME.werror.status)
#   NAME.json.expected    stdout of `check --format json`, stderr empty
#                         (and NAME.json.status)
# The policy path in messages is relative to the repository root, so the
# runner works from there.
set -u
: "${DUNLIN:?set DUNLIN to the dunlin binary}"
: "${DUNLIN_SOURCE_DIR:?set DUNLIN_SOURCE_DIR to the repository root}"
cd "$DUNLIN_SOURCE_DIR" || exit 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
failn=0

# run_case LABEL FILE WANT_OUT WANT_STATUS STREAM ARGS...: STREAM is the
# stream compared with WANT_OUT (err or out); the other must be empty
# apart from the summary line on stderr in text mode.
run_case() {
  local label=$1 file=$2 want=$3 want_status=$4 stream=$5
  shift 5
  "$DUNLIN" check "$@" "$file" >"$work/out" 2>"$work/err"
  local status=$? ok=1
  : >"$work/why"
  if [ "$stream" = err ]; then
    local summary="0 of 1 file checked clean"
    [ "$status" -eq 0 ] && summary="1 of 1 file checked clean"
    if [ "$(tail -n 1 "$work/err")" != "$summary" ]; then
      ok=0; echo "  last stderr line is not: $summary" >>"$work/why"
    fi
    sed '$d' "$work/err" >"$work/got"
    [ -s "$work/out" ] && { ok=0; echo "  unexpected stdout:" >>"$work/why"; cat "$work/out" >>"$work/why"; }
  else
    cp "$work/out" "$work/got"
    [ -s "$work/err" ] && { ok=0; echo "  unexpected stderr:" >>"$work/why"; cat "$work/err" >>"$work/why"; }
  fi
  diff -u "$want" "$work/got" >>"$work/why" || ok=0
  [ "$status" -eq "$want_status" ] || { ok=0; echo "  exit $status, expected $want_status" >>"$work/why"; }
  if [ $ok -eq 1 ]; then
    pass=$((pass + 1))
  else
    failn=$((failn + 1)); echo "FAIL $label"; cat "$work/why"
  fi
}

status_of() { if [ -f "$1" ]; then cat "$1"; else echo 0; fi; }

for dun in tests/check/*.dun; do
  base=${dun%.dun}
  name=$(basename "$base")
  if [ ! -f "$base.expected" ]; then
    echo "FAIL $name: no $name.expected"; failn=$((failn + 1)); continue
  fi
  run_case "$name" "$dun" "$base.expected" "$(status_of "$base.status")" err
  [ -f "$base.werror.expected" ] &&
    run_case "$name --werror" "$dun" "$base.werror.expected" "$(status_of "$base.werror.status")" err --werror
  [ -f "$base.json.expected" ] &&
    run_case "$name --format json" "$dun" "$base.json.expected" "$(status_of "$base.json.status")" out --format json
done
echo "$pass passed, $failn failed"
[ $failn -eq 0 ]
