#!/usr/bin/env bash
# dunlin run and explain on a demo ledger: determinism, formats, commit
# idempotency, bytecode equivalence and error paths.
. "$(dirname "$0")/lib.sh"
P="$SRC/policies/b2b_net30.dun"
L="$WORK/demo.ledger"
"$DUNLIN" ledger demo "$L" --customers 60 --seed 11 --today 2026-11-25 >/dev/null

run_dunlin run "$P" --ledger "$L" --as-of 2026-11-25
first="$OUT"
CHECKS=$((CHECKS + 1)); [ "$STATUS" -le 1 ] || fail "run completes"
CHECKS=$((CHECKS + 1)); [ -n "$first" ] || fail "the demo ledger produces actions"
expect_out '"kind":"email"' "emails emitted"
expect_out '"status":"skipped"' "catch-up records skipped steps"
run_dunlin run "$P" --ledger "$L" --as-of 2026-11-25
expect_eq "$OUT" "$first" "two runs are byte-identical"

"$DUNLIN" compile "$P" -o "$WORK/p.dbc" 2>/dev/null
run_dunlin run "$WORK/p.dbc" --ledger "$L" --as-of 2026-11-25
expect_eq "$OUT" "$first" "bytecode and source give the same actions"

run_dunlin run "$P" --ledger "$L" --as-of 2026-11-25 --format table
expect_out "CUSTOMER" "table header"
expect_out "actions" "table footer"
skipped=$(printf '%s\n' "$first" | grep -c '"status":"skipped"')
expect_eq "$(grep -c ' skipped .*/' "$WORK/out")" 0 "the table leaves skipped records out"
expect_out "$skipped skipped (not listed: --all lists them)" "and counts them in the footer"
run_dunlin run "$P" --ledger "$L" --as-of 2026-11-25 --format table --all
expect_eq "$(grep -c ' skipped .*/' "$WORK/out")" "$skipped" "--all lists every skipped record"

run_dunlin run "$P" --ledger "$L" --as-of 2026-11-25 --commit
n=$(sqlite3 "$L" 'SELECT count(*) FROM actions')
expect_eq "$n" "$(printf '%s\n' "$first" | grep -c .)" "commit stores every printed action"
expect_eq "$(sqlite3 "$L" 'SELECT count(*) FROM runs')" 1 "one runs row"
run_dunlin run "$P" --ledger "$L" --as-of 2026-11-25 --commit
expect_eq "$(sqlite3 "$L" 'SELECT count(*) FROM actions')" "$n" "committing the same date twice adds nothing"
expect_eq "$(sqlite3 "$L" 'SELECT count(*) FROM runs')" 1 "no second runs row"

cust=$(printf '%s\n' "$first" | head -n 1 | sed -E 's/.*"customer":"([^"]+)".*/\1/')
run_dunlin explain "$P" --ledger "$L" --as-of 2026-11-25 --customer "$cust"
expect_status 0 "explain a customer"
expect_out "segment" "explain names the segment"

run_dunlin run "$P" --ledger "$L" --as-of 2026-13-01
expect_status 2 "bad date"
run_dunlin run "$P" --ledger "$L"
expect_status 2 "missing --as-of"
run_dunlin run "$P" --ledger "$WORK/missing.ledger" --as-of 2026-11-25
expect_status 1 "missing ledger"
CHECKS=$((CHECKS + 1)); [ ! -e "$WORK/missing.ledger" ] || fail "run does not create a ledger"
run_dunlin explain "$P" --ledger "$L" --as-of 2026-11-25
expect_status 2 "explain needs --customer or --invoice"
run_dunlin run --help
expect_status 0 "run --help"
finish
