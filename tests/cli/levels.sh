#!/usr/bin/env bash
# levels.sh - `dunlin levels`: each open invoice's step on a small ledger
# worked out by hand with the LANGUAGE.md s.1 policy; agreement with
# `dunlin run` on a demo ledger; the three formats; error paths.
#
# As of 2026-03-10, policy acme-b2b (steps -3, 1, 7, 15, 30 days, 60 days
# when balance >= 500 USD; paused when disputed or a promise is active;
# strategic = tier strategic or overdue >= 50,000 USD, one tone gentler):
#   C1 standard, limit 1,000.00, open 1,200 + 100 + 400 + 50 + 300 = 2,050.00
#     I1 due 02-22, 16 days past due           -> 15d firm
#     I2 due 03-13, -3                         -> -3d friendly (upcoming)
#     I3 due 01-01, 68, balance 400.00 < 500   -> 30d final (60d guard false)
#     I4 due 03-31, -21                        -> none
#     I5 due 02-01, 37, dispute open since 03-01 -> paused
#     over_limit: 2,050.00 > 1,000.00          -> fires on every row of C1
#   C2 strategic, no credit limit
#     I6 due 02-22, 16                         -> 15d, firm shifted to neutral
. "$(dirname "$0")/lib.sh"
P="$SRC/bench/eval/acme.dun"
L=$WORK/levels.ledger
mk() { local name=$1; shift; printf '%s\n' "$@" >"$WORK/$name.csv"; }
mk customers "id,name,tier,currency,credit_limit_minor,risk_score" \
  "C1,Acme,standard,USD,100000,0.1" "C2,Bernard,strategic,USD,,0.1"
mk invoices "id,customer_id,number,issue_date,due_date,currency,amount" \
  "I1,C1,1,2026-01-23,2026-02-22,USD,1200.00" "I2,C1,2,2026-02-11,2026-03-13,USD,100.00" \
  "I3,C1,3,2025-12-02,2026-01-01,USD,400.00" "I4,C1,4,2026-03-01,2026-03-31,USD,50.00" \
  "I5,C1,5,2026-01-02,2026-02-01,USD,300.00" "I6,C2,6,2026-01-23,2026-02-22,USD,500.00"
mk disputes "id,invoice_id,opened_on,resolved_on,reason" "D1,I5,2026-03-01,,price"
"$DUNLIN" ledger init "$L" >/dev/null
"$DUNLIN" ledger import "$L" --customers "$WORK/customers.csv" --invoices "$WORK/invoices.csv" \
  --disputes "$WORK/disputes.csv" >/dev/null

run_dunlin levels "$P" --ledger "$L" --as-of 2026-03-10 --format csv
expect_status 0 "levels on the hand-made ledger"
expected='customer,invoice,segment,escalation,status,step,tone,days_past_due,balance,currency,rules,as_of
C1,I1,standard,dunning,due,15d,firm,16,1200.00,USD,over_limit,2026-03-10
C1,I2,standard,dunning,due,-3d,friendly,-3,100.00,USD,over_limit,2026-03-10
C1,I3,standard,dunning,due,30d,final,68,400.00,USD,over_limit,2026-03-10
C1,I4,standard,dunning,none,,,-21,50.00,USD,over_limit,2026-03-10
C1,I5,standard,dunning,paused,,,37,300.00,USD,over_limit,2026-03-10
C2,I6,strategic,dunning,due,15d,neutral,16,500.00,USD,,2026-03-10'
expect_eq "$OUT" "$expected" "csv rows worked out by hand"

run_dunlin levels "$P" --ledger "$L" --as-of 2026-03-10 --format jsonl --customer C2
expect_eq "$OUT" '{"customer":"C2","invoice":"I6","segment":"strategic","escalation":"dunning","status":"due","step":"15d","tone":"neutral","days_past_due":16,"balance":"500.00","currency":"USD","rules":[],"as_of":"2026-03-10"}' \
  "jsonl of one customer"

run_dunlin levels "$P" --ledger "$L" --as-of 2026-03-10
expect_status 0 "table"
expect_out "6 open invoice rows as of 2026-03-10" "table footer counts the rows"
CHECKS=$((CHECKS + 1)); grep -Eq '^  dunning 15d +2$' "$WORK/out" || fail "two invoices at 15d"
CHECKS=$((CHECKS + 1)); grep -Eq '^  paused +1$' "$WORK/out" || fail "one paused"

# The table pads by characters, not bytes: a UTF-8 customer and invoice id
# (Ç is two bytes, ä two) line up with ASCII ones.
mk customers_u "id,name,tier,currency,credit_limit_minor,risk_score" \
  "Ç3,Çelik,standard,USD,,0.1" "C4,Dane,standard,USD,,0.1"
mk invoices_u "id,customer_id,number,issue_date,due_date,currency,amount" \
  "Fä1,Ç3,7,2026-01-23,2026-02-22,USD,1200.00" "I7,C4,8,2026-01-23,2026-02-22,USD,1200.00"
"$DUNLIN" ledger init "$WORK/utf8.ledger" >/dev/null
"$DUNLIN" ledger import "$WORK/utf8.ledger" --customers "$WORK/customers_u.csv" \
  --invoices "$WORK/invoices_u.csv" >/dev/null
run_dunlin levels "$P" --ledger "$WORK/utf8.ledger" --as-of 2026-03-10
expect_status 0 "table with UTF-8 ids"
CHECKS=$((CHECKS + 1))
python3 - "$WORK/out" <<'PY' || fail "UTF-8 ids pad to the same columns as ASCII ones"
import sys
rows = [l for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if l[:2] in ("Ç3", "C4")]
assert len(rows) == 2, rows
# every column boundary (a space followed by a non-space) at the same character
cols = [[i for i in range(1, len(r)) if r[i - 1] == " " and r[i] != " "] for r in rows]
assert cols[0] == cols[1], cols
PY

# A week later I1 is 23 days past due (still 15d) and I2 is 4 (1d).
run_dunlin levels "$P" --ledger "$L" --as-of 2026-03-17 --format csv --customer C1
CHECKS=$((CHECKS + 1)); grep -q '^C1,I2,standard,dunning,due,1d,friendly,4,' "$WORK/out" || fail "I2 moves to 1d"

# The levels agree with the steps `run` emits on a ledger without history:
# every non-skipped dunning record's (invoice, step) is a due level and
# back (consolidated records list their invoices with aligned steps; one
# step part covers every invoice).
D=$WORK/demo.ledger
"$DUNLIN" ledger demo "$D" --customers 60 --seed 11 --today 2026-11-25 >/dev/null
N="$SRC/policies/b2b_net30.dun"
"$DUNLIN" run "$N" --ledger "$D" --as-of 2026-11-25 >"$WORK/run.jsonl"
"$DUNLIN" levels "$N" --ledger "$D" --as-of 2026-11-25 --format jsonl >"$WORK/levels.jsonl"
jq -r 'select(.status != "skipped" and (.rule | startswith("dunning"))) | . as $a
       | [.invoices, (.step | split(","))] | transpose[] | select(.[0] != null)
       | "\($a.customer) \(.[0]) \(.[1] // $a.step)"' "$WORK/run.jsonl" | sort -u >"$WORK/run.steps"
jq -r 'select(.status == "due") | "\(.customer) \(.invoice) \(.step)"' "$WORK/levels.jsonl" \
  | sort >"$WORK/levels.steps"
CHECKS=$((CHECKS + 1)); [ -s "$WORK/levels.steps" ] || fail "the demo has invoices at some step"
CHECKS=$((CHECKS + 1)); cmp -s "$WORK/run.steps" "$WORK/levels.steps" \
  || { fail "levels agree with run"; diff "$WORK/run.steps" "$WORK/levels.steps" | head; }

# Errors: an EUR customer without any rate is a data error (exit 1), its
# invoice shown as `error`; usage errors exit 2; nothing is written.
mk customers2 "id,name,currency" "C9,Euro,EUR"
mk invoices2 "id,customer_id,number,issue_date,due_date,currency,amount" \
  "I9,C9,9,2026-01-23,2026-02-22,EUR,100.00"
"$DUNLIN" ledger import "$L" --customers "$WORK/customers2.csv" --invoices "$WORK/invoices2.csv" >/dev/null
before=$(sqlite3 "$L" 'SELECT count(*) FROM actions; SELECT count(*) FROM runs' | tr '\n' ' ')
run_dunlin levels "$P" --ledger "$L" --as-of 2026-03-10 --format csv
expect_status 1 "a missing fx rate is a data error"
expect_err "no fx rate EUR->USD" "the diagnostic names the rate"
expect_err "1 data error" "and the footer counts it"
CHECKS=$((CHECKS + 1)); grep -q '^C9,I9,standard,dunning,error,,,16,100.00,EUR,' "$WORK/out" || fail "the invoice shows as error"
expect_eq "$(sqlite3 "$L" 'SELECT count(*) FROM actions; SELECT count(*) FROM runs' | tr '\n' ' ')" "$before" "levels writes nothing"
run_dunlin levels "$P" --ledger "$L" --as-of 2026-03-10 --customer NOPE --format csv
expect_status 1 "an unknown customer is an error, not \"nothing due\""
expect_err 'no customer "NOPE" in the ledger' "and says so"
expect_eq "$OUT" "" "nothing on stdout, not even the header"
run_dunlin levels "$P" --ledger "$L" --as-of 2026-03-10 --as-of 2026-03-01
expect_status 2 "--as-of given twice"
expect_err "--as-of is given twice" "and says which"
run_dunlin levels "$P" --ledger "$L" --as-of 9999-12-31 --customer C2 --format csv
expect_status 0 "the last representable day: levels schedule nothing"
run_dunlin levels "$P" --ledger "$L" --as-of 2026-03-10 --format xml
expect_status 2 "unknown format"
run_dunlin levels "$P" --ledger "$L"
expect_status 2 "missing --as-of"
run_dunlin levels "$P" --as-of 2026-03-10
expect_status 2 "missing --ledger"
run_dunlin levels "$P" --ledger "$WORK/none.ledger" --as-of 2026-03-10
expect_status 1 "missing ledger"
run_dunlin levels "$WORK/none.dun" --ledger "$L" --as-of 2026-03-10
expect_status 1 "missing policy"
run_dunlin levels --help
expect_status 0 "levels --help"
expect_out "dunning level" "help says what it is for"
finish
