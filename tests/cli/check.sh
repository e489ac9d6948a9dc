#!/usr/bin/env bash
# dunlin check: clean policies, each kind of failure, flags and usage errors.
. "$(dirname "$0")/lib.sh"

for p in "$SRC"/policies/*.dun; do
  case "$p" in *_test.dun) continue ;; esac
  run_dunlin check --werror "$p"
  expect_status 0 "shipped policy $(basename "$p") checks clean under --werror"
done

cat >"$WORK/money.dun" <<'DUN'
policy "p" version 1
currency USD
segment big when customer.total_overdue > 5000
segment rest otherwise
escalation e for invoice in big, rest { step 1 day: email tone friendly }
DUN
run_dunlin check "$WORK/money.dun"
expect_status 1 "money compared with a number"
expect_err "money.dun:3:" "diagnostic names file and line"
expect_err "error[E0203]" "money-vs-number code"
expect_err "   3 | segment big when customer.total_overdue > 5000" "source line quoted"
expect_err "^" "caret printed"
expect_err "hint: write the amount with its currency" "hint printed"

run_dunlin check --format json "$WORK/money.dun"
expect_status 1 "json format still fails"
expect_out '"code":"E0203"' "json has the code"
expect_out '"line":3' "json has the line"

cat >"$WORK/warn.dun" <<'DUN'
policy "w" version 1
currency USD
let unused = customer.total_open > 10 USD
segment all otherwise
escalation e for invoice in all { step 1 day: email tone friendly }
DUN
run_dunlin check "$WORK/warn.dun"
expect_status 0 "a warning alone passes"
expect_err "warning[W0104]" "unused let warned"
run_dunlin check --werror "$WORK/warn.dun"
expect_status 1 "--werror fails on a warning"
expect_err "error[W0104]" "--werror renders the warning as an error"

cat >"$WORK/syntax.dun" <<'DUN'
policy "s" version 1
currency USD
segment a when customer.tier == "x" {
  tone -1
segment b otherwise
DUN
run_dunlin check "$WORK/syntax.dun"
expect_status 1 "syntax error"
expect_err "error[E01" "syntax error code"

run_dunlin check "$WORK/does-not-exist.dun"
expect_status 1 "missing file"
expect_err "does-not-exist.dun" "missing file named"

run_dunlin check --explain E0203
expect_status 0 "--explain a code"
expect_out "E0203" "explanation names the code"
run_dunlin check --explain E9999
expect_status 2 "--explain an unknown code"

run_dunlin check
expect_status 2 "no files is a usage error"
run_dunlin check --bogus "$WORK/warn.dun"
expect_status 2 "unknown option"
run_dunlin check --help
expect_status 0 "--help"
expect_out "usage: dunlin check" "help text"
finish
