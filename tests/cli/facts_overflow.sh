#!/usr/bin/env bash
# Amounts near INT64_MAX written into a ledger by another tool (import
# refuses more than 10^15 minor units) must not overflow the per-customer
# sums: the customer is skipped with E0506, no signed overflow (UBSan).
. "$(dirname "$0")/lib.sh"
L="$WORK/l.ledger"
"$DUNLIN" ledger init "$L" >/dev/null
printf 'id,currency\nC1,USD\n' >"$WORK/c.csv"
printf 'id,customer_id,issue_date,due_date,currency,amount_minor\nI1,C1,2026-10-01,2026-11-01,USD,100\nI2,C1,2026-10-01,2026-11-01,USD,100\n' >"$WORK/i.csv"
"$DUNLIN" ledger import "$L" --customers "$WORK/c.csv" --invoices "$WORK/i.csv" >/dev/null
sqlite3 "$L" "UPDATE invoices SET amount_minor = 9223372036854775807"
run_dunlin run "$SRC/policies/b2b_net30.dun" --ledger "$L" --as-of 2026-11-25
expect_status 1 "an overflowing customer is a data error"
expect_err "error[E0506]: customer C1" "the customer is named"
CHECKS=$((CHECKS + 1)); ! grep -qE 'Sanitizer|runtime error:' "$WORK/err" || fail "no signed overflow"
finish
