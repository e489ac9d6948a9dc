#!/usr/bin/env bash
# kpi.sh - `dunlin kpi`: the JSON object (exact keys and values), the
# table for people, the HTML report, and the error paths (bad date,
# missing ledger, missing fx rate, bad options).
#
# The ledger is the one of tests/unit/test_kpi.c, loaded here through CSV
# import; the expected figures are worked out by hand in that file's
# header comment (as of 2026-03-31: open AR 1740.00, DSO 38.67, ...),
# except that import refuses a payment in another currency than its
# invoice, so P4 is 50.00 EUR here instead of 60.00 USD: the same 50.00 EUR
# at D's rate 1.2, hence the same figures as of 2026-03-31. As of
# 2026-03-15 (rate 1.1) I4 owes 450 EUR = 495.00 USD, so the month to
# date has AR at start 250+600+495+2000+150 = 3495, at 03-15
# 500+2000+495+250+150 = 3395, current 2150: CEI = 100/1345 = 7.43.
. "$(dirname "$0")/lib.sh"

L=$WORK/kpi.ledger
mk() { local name=$1; shift; printf '%s\n' "$@" >"$WORK/$name.csv"; }
mk customers "id,name,currency" "C1,Acme,USD" "C2,Bernard,EUR"
mk invoices "id,customer_id,number,issue_date,due_date,currency,amount" \
  "I1,C1,1,2026-01-05,2026-02-04,USD,1000.00" "I2,C1,2,2026-02-15,2026-03-17,USD,2000.00" \
  "I3,C1,3,2026-03-20,2026-04-19,USD,300.00" "I4,C2,4,2026-01-20,2026-02-19,EUR,500.00" \
  "I5,C1,5,2025-12-01,2025-12-20,USD,250.00" "I6,C1,6,2026-02-20,2026-03-22,USD,150.00"
mk payments "id,customer_id,invoice_id,date,amount,currency,status" \
  "P1,C1,I1,2026-02-10,400.00,USD,settled" "P2,C1,I1,2026-03-01,600.00,USD,failed" \
  "P3,C1,I2,2026-03-17,2000.00,USD,settled" "P4,C2,I4,2026-02-25,50.00,EUR,settled"
mk credits "id,invoice_id,date,amount,reason" "CR1,I1,2026-03-10,100.00,goodwill"
mk promises "id,customer_id,invoice_id,made_on,promised_date,amount" \
  "PR1,C1,I1,2026-02-01,2026-02-10,400.00" "PR2,C1,I6,2026-03-20,2026-03-25,150.00" \
  "PR3,C2,,2026-03-25,2026-04-05,100.00" "PR4,C1,I2,2026-03-01,2026-03-15,2000.00" \
  "PR5,C2,I4,2026-02-20,2026-02-28,50.00"
mk disputes "id,invoice_id,opened_on,resolved_on,reason" \
  "DS1,I1,2026-02-05,2026-02-20,price" "DS2,I4,2026-03-01,,quantity" \
  "DS3,I6,2026-03-10,2026-04-02,damaged" "DS4,I5,2026-01-10,2026-01-18,late delivery"
mk fx_rates "date,base,quote,rate" "2026-01-01,EUR,USD,1.1000" "2026-03-20,EUR,USD,1.2000" \
  "2026-04-10,EUR,USD,1.5000"

run_dunlin ledger init "$L"
expect_status 0 "ledger init"
run_dunlin ledger import "$L" --customers "$WORK/customers.csv" --invoices "$WORK/invoices.csv" \
  --payments "$WORK/payments.csv" --credits "$WORK/credits.csv" --promises "$WORK/promises.csv" \
  --disputes "$WORK/disputes.csv" --fx-rates "$WORK/fx_rates.csv"
expect_status 0 "ledger import"

# --- JSON: the exact object (figures from test_kpi.c's comment) ---------
run_dunlin kpi --ledger "$L" --as-of 2026-03-31 --format json
expect_status 0 "kpi json"
want='{"as_of":"2026-03-31","currency":"USD","period_days":90,"open_invoices":5,"open_ar":"1740.00","dso":38.67,"best_possible_dso":6.67,"add":32.00,"aging":{"current":"300.00","1-30":"150.00","31-60":"1040.00","61-90":"0.00","90+":"250.00"},"cei":{"2025-12":0.00,"2026-01":0.00,"2026-02":24.86,"2026-03":59.32},"promise_kept_rate":0.50,"dispute_resolution_days":11.50}'
expect_eq "$OUT" "$want" "kpi json object"
if command -v python3 >/dev/null; then
  keys=$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(",".join(sorted(json.load(sys.stdin))))')
  expect_eq "$keys" "add,aging,as_of,best_possible_dso,cei,currency,dispute_resolution_days,dso,open_ar,open_invoices,period_days,promise_kept_rate" "json keys exact"
fi

# --promise-grace 2 keeps PR4 (3 of 4); --period 30: dso 1740/300*30.
run_dunlin kpi --ledger "$L" --as-of 2026-03-31 --format json --promise-grace 2 --period 30
expect_status 0 "kpi grace period"
expect_out '"period_days":30' "period echoed"
expect_out '"dso":174.00,"best_possible_dso":30.00,"add":144.00' "dso over 30 days"
expect_out '"promise_kept_rate":0.75' "grace keeps PR4"

# In EUR: open AR 1450.00 (see test_other_currency).
run_dunlin kpi --ledger "$L" --as-of 2026-03-31 --format json --currency EUR
expect_status 0 "kpi eur"
expect_out '"currency":"EUR","period_days":90,"open_invoices":5,"open_ar":"1450.00"' "converted to EUR"

# Nothing issued yet: nulls, an empty cei object, USD by default.
run_dunlin kpi --ledger "$L" --as-of 2025-11-20 --format json
expect_status 0 "kpi empty"
expect_eq "$OUT" '{"as_of":"2025-11-20","currency":"USD","period_days":90,"open_invoices":0,"open_ar":"0.00","dso":null,"best_possible_dso":null,"add":null,"aging":{"current":"0.00","1-30":"0.00","31-60":"0.00","61-90":"0.00","90+":"0.00"},"cei":{},"promise_kept_rate":null,"dispute_resolution_days":null}' "kpi empty json"

# --- table for people ----------------------------------------------------
run_dunlin kpi --ledger "$L" --as-of 2026-03-31
expect_status 0 "kpi table"
expect_out "KPIs as of 2026-03-31, amounts in USD, sales window 90 days" "table title"
for want in "open AR" "1740.00" "DSO" "38.67" "best possible DSO" "6.67" "32.00" "2 kept of 4 due" \
  "11.50" "90+" "1040.00" "2026-02" "24.86" "59.32"; do
  expect_out "$want" "table shows $want"
done
run_dunlin kpi --ledger "$L" --as-of 2026-03-15
expect_status 0 "kpi mid-month"
expect_out "2026-03 mtd" "month to date row"
expect_out "7.43" "mtd CEI"

# --- HTML report ---------------------------------------------------------
run_dunlin kpi --ledger "$L" --as-of 2026-03-31 --report "$WORK/k.html"
expect_status 0 "kpi report"
CHECKS=$((CHECKS + 1))
if [ -s "$WORK/k.html" ] && grep -q '<svg' "$WORK/k.html" && grep -q '1740.00' "$WORK/k.html" \
  && ! grep -qiE 'https?:|<script|src=|href=' "$WORK/k.html"; then :; else
  echo "FAIL: report missing, without charts, or with a script/URL"; FAILS=$((FAILS + 1)); fi
run_dunlin kpi --ledger "$L" --as-of 2026-03-31 --report "$WORK/no/such/dir/k.html"
expect_status 1 "report to an unwritable path"
expect_err "E0505" "report write error named"

# --- errors ----------------------------------------------------------------
run_dunlin kpi --ledger "$L" --as-of 2026-02-30
expect_status 2 "bad date"
expect_err "not a date" "bad date message"
run_dunlin kpi --ledger "$L"
expect_status 2 "missing --as-of"
run_dunlin kpi --as-of 2026-03-31
expect_status 2 "missing --ledger"
run_dunlin kpi --ledger "$WORK/missing.ledger" --as-of 2026-03-31
expect_status 1 "missing ledger file"
expect_err "missing.ledger" "missing ledger named"
CHECKS=$((CHECKS + 1))
[ ! -e "$WORK/missing.ledger" ] || { echo "FAIL: kpi created the ledger"; FAILS=$((FAILS + 1)); }
run_dunlin kpi --ledger "$L" --as-of 2026-03-31 --currency GBP
expect_status 1 "missing fx rate"
expect_err "E0501" "missing rate code"
expect_err "USD/GBP" "missing rate names the pair"
expect_eq "$OUT" "" "nothing on stdout when a rate is missing"
run_dunlin kpi --ledger "$L" --as-of 2026-03-31 --currency XXY
expect_status 2 "unknown currency"
run_dunlin kpi --ledger "$L" --as-of 2026-03-31 --period 0
expect_status 2 "period 0"
run_dunlin kpi --ledger "$L" --as-of 2026-03-31 --period 3x
expect_status 2 "period not a number"
run_dunlin kpi --ledger "$L" --as-of 2026-03-31 --format yaml
expect_status 2 "bad format"
run_dunlin kpi --ledger "$L" --as-of 2026-03-31 --bogus
expect_status 2 "unknown option"
# --- the real IBM sample against an independent computation --------------
IBM=${DUNLIN_SHARED:-$SRC/../shared}/data/ibm-accounts-receivable.csv
if [ -r "$IBM" ] && command -v python3 >/dev/null; then
  CHECKS=$((CHECKS + 1))
  if ! python3 "$SRC/examples/ibm/kpi_check.py" --dunlin "$DUNLIN" --data "$IBM" >"$WORK/ibm.log" 2>&1; then
    echo "FAIL: examples/ibm/kpi_check.py disagrees with dunlin kpi"
    cat "$WORK/ibm.log"
    FAILS=$((FAILS + 1))
  fi
else
  echo "note: IBM sample or python3 not found: examples/ibm/kpi_check.py not run"
fi

run_dunlin kpi --help
expect_status 0 "help"
expect_out "usage: dunlin kpi" "help text"

finish
