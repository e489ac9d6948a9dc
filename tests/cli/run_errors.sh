#!/usr/bin/env bash
# Run-time data errors: a division by zero on some invoices, a customer
# whose segment condition divides by zero, an overflow, and an invoice
# with no fx rate. The other actions are still printed, each error is on
# stderr naming customer (and invoice), the exit status is 1; with
# --commit the good actions are committed and runs.errors counts errors.
# Expected values worked out by hand from the ledger below, as of
# 2026-11-25: I1 (C1) is 10 days past due, I2 (C1) 20, I3 (C2) 24,
# I5 (C2) 10, and I4 (C3) is in EUR with no EUR/USD rate.
. "$(dirname "$0")/lib.sh"
L="$WORK/l.ledger"
D=2026-11-25
printf 'id,name,currency,timezone\nC1,One,USD,America/New_York\nC2,Two,USD,America/New_York\nC3,Three,EUR,Europe/Berlin\n' >"$WORK/c.csv"
printf 'id,customer_id,issue_date,due_date,currency,amount\nI1,C1,2026-10-01,2026-11-15,USD,100.00\nI2,C1,2026-10-01,2026-11-05,USD,100.00\nI3,C2,2026-10-01,2026-11-01,USD,50.00\nI4,C3,2026-10-01,2026-11-01,EUR,70.00\nI5,C2,2026-10-01,2026-11-15,USD,10.00\n' >"$WORK/i.csv"
"$DUNLIN" ledger init "$L" >/dev/null
"$DUNLIN" ledger import "$L" --customers "$WORK/c.csv" --invoices "$WORK/i.csv" >/dev/null || { echo "FAIL: import"; exit 1; }

# 100 / (days_past_due - 10) fails on I1 and I5 (10 days past due).
cat >"$WORK/divz.dun" <<'DUN'
policy "divz" version 1
currency USD
segment all otherwise
escalation e for invoice in all {
  step 1 day: email tone friendly when 100 / (invoice.days_past_due - 10) != 0
}
DUN
run_dunlin run "$WORK/divz.dun" --ledger "$L" --as-of $D
expect_status 1 "data errors make the exit status 1"
expect_eq "$(grep -c . "$WORK/out")" 2 "the two good invoices still get their action"
expect_out '"customer":"C1","invoices":["I2"]' "C1's good invoice I2"
expect_out '"customer":"C2","invoices":["I3"]' "C2's good invoice I3"
expect_err "error[E0507]: customer C1 invoice I1:" "division by zero names C1 and I1"
expect_err "error[E0507]: customer C2 invoice I5:" "division by zero names C2 and I5"
expect_err "divz.dun:5:" "the error points at the policy line"
expect_err "division by zero" "the error says what"
expect_err "error[E0501]: customer C3 invoice I4:" "the missing rate names C3 and I4"
expect_err "EUR" "the missing rate names the currency"
expect_err "3 data errors" "the errors are counted"
CHECKS=$((CHECKS + 1)); ! grep -qE 'Sanitizer|runtime error:' "$WORK/err" || fail "sanitizer"

run_dunlin run "$WORK/divz.dun" --ledger "$L" --as-of $D --format table
expect_status 1 "table format: same exit status"
expect_out "2 actions" "table format: two actions"

run_dunlin run "$WORK/divz.dun" --ledger "$L" --as-of $D --commit
expect_status 1 "commit with data errors still exits 1"
expect_err "committed run 1: 2 actions added" "the good actions are committed"
expect_eq "$(sqlite3 "$L" "SELECT group_concat(customer_id || invoice_ids, ' ') FROM (SELECT * FROM actions ORDER BY customer_id)")" 'C1["I2"] C2["I3"]' "the actions table holds the two good actions"
expect_eq "$(sqlite3 "$L" 'SELECT emitted, errors FROM runs')" "2|3" "runs counts 2 emitted and 3 errors"
run_dunlin run "$WORK/divz.dun" --ledger "$L" --as-of $D --commit
expect_status 1 "committing again: still the data errors"
expect_err "already committed" "committing again adds nothing"
expect_eq "$(sqlite3 "$L" 'SELECT count(*) FROM actions')" 2 "still two actions"
expect_eq "$(sqlite3 "$L" 'SELECT count(*) FROM runs')" 1 "still one run"

# Once the rate is there, C3's invoice gets its action too.
printf 'date,base,quote,rate\n2026-11-01,EUR,USD,1.10\n' >"$WORK/fx.csv"
"$DUNLIN" ledger import "$L" --fx-rates "$WORK/fx.csv" >/dev/null
run_dunlin run "$WORK/divz.dun" --ledger "$L" --as-of $D
expect_status 1 "the divisions by zero remain"
expect_out '"customer":"C3","invoices":["I4"]' "C3's invoice once the rate exists"
CHECKS=$((CHECKS + 1)); ! grep -q "E0501" "$WORK/err" || fail "no fx error once the rate exists"
expect_err "2 data errors" "two errors left"

# A customer-scope error skips the whole customer: C1 and C2 have two
# open invoices each, C3 one (10 / -1 = -10, not > 0: segment rest).
cat >"$WORK/cust.dun" <<'DUN'
policy "custz" version 1
currency USD
segment risky when 10 / (customer.open_invoices - 2) > 0
segment rest otherwise
escalation e for invoice in risky, rest { step 1 day: email tone friendly }
DUN
run_dunlin run "$WORK/cust.dun" --ledger "$L" --as-of $D
expect_status 1 "customer-scope errors exit 1"
expect_err "error[E0507]: customer C1: " "C1 skipped as a whole"
expect_err "error[E0507]: customer C2: " "C2 skipped as a whole"
expect_err "customer skipped" "says the customer is skipped"
expect_eq "$(grep -c . "$WORK/out")" 1 "only C3's action"
expect_out '"customer":"C3"' "C3 still gets its action"
run_dunlin explain "$WORK/cust.dun" --ledger "$L" --as-of $D --customer C1
expect_status 1 "explain shows the error and exits 1"
expect_out "division by zero" "explain says why"

# Integer overflow: days past due times 2^62 overflows from 2 days on.
cat >"$WORK/ovf.dun" <<'DUN'
policy "ovf" version 1
currency USD
segment all otherwise
escalation e for invoice in all {
  step 1 day: email tone friendly when invoice.days_past_due * 4611686018427387904 > 0
}
DUN
run_dunlin run "$WORK/ovf.dun" --ledger "$L" --as-of $D
expect_status 1 "overflow is a data error"
expect_err "error[E0507]: customer C1 invoice I1:" "overflow names the invoice"
CHECKS=$((CHECKS + 1)); ! grep -qE 'Sanitizer|runtime error:' "$WORK/err" || fail "overflow: sanitizer (signed overflow in C)"
CHECKS=$((CHECKS + 1)); [ -z "$OUT" ] || fail "overflow: every invoice overflows, so no action"
# 9999-12-31 is a Friday and the observed New Year holiday (1 January 10000
# is a Saturday), so the US calendar's next business day is in year
# 10000, which RFC 3339 cannot write: refused, never printed as 0000.
run_dunlin run "$DUNLIN_SOURCE_DIR/policies/b2b_net30.dun" --ledger "$L" --as-of 9999-12-31
expect_status 1 "a schedule after 9999-12-31 is refused"
expect_err "would be scheduled after 9999-12-31" "the refusal says why"
CHECKS=$((CHECKS + 1)); ! grep -q '"scheduled_at":"0000' "$WORK/out" || fail "year 10000 printed as 0000"
finish
