#!/usr/bin/env bash
# kpi_outside.sh - `dunlin kpi` checked from outside: figures worked out by
# hand from CLI.md's definitions on a small ledger (tests/kpi_outside/*.csv),
# and on the same ledger and the real IBM sample recomputed by plain SQL
# (tests/kpi_outside/kpi.sql, compared by compare.py with exact fractions
# and half-to-even rounding), without examples/ibm/kpi_check.py.
#
# The small ledger as of 2026-03-15, P = 90 (window 2025-12-16..2026-03-15):
#   I1 A 1000 due 02-04, paid 600 (02-20), credit 100 (03-01): 300, 39 days late
#   I2 A  500 due 03-12, paid 500 (03-10): closed
#   I3 B  300 due 03-22, a failed payment of 100 does not count: 300 current
#   I4 B  200 due 03-31: 200 current
#   I5 A  400 due 2025-12-01, issued before the window, paid 100: 300, 104 days
#   open AR 1100 (4 invoices), current 500, sales in the window 2000:
#   DSO 1100*90/2000 = 49.50, best 500*90/2000 = 22.50, ADD 27.00;
#   aging current 500, 31-60 300, 90+ 300.
#   CEI 2025-11: (0+400-400)/(0+400-400): null; 2025-12: (400-300)/400 = 25.00;
#   2026-01: (300+1000-1300)/(1300-1000) = 0.00; 2026-02: (1300+800-1500)/
#   (2100-800) = 46.15 (2026-03 is not over: not in the JSON).
#   Promises due by D: PR1 (no payment in 02-25..03-05: broken), PR3 (500 on
#   03-10: kept), PR2 (only a failed payment: broken); PR4 is due 03-20:
#   1 of 3 = 0.33. Disputes resolved by D: DS2 13 days, DS1 10 days: 11.50
#   (DS3 open, DS4 resolved after D).
. "$(dirname "$0")/lib.sh"
K=$SRC/tests/kpi_outside
L=$WORK/k.ledger
run_dunlin ledger init "$L"
run_dunlin ledger import "$L" --customers "$K/customers.csv" --invoices "$K/invoices.csv" \
  --payments "$K/payments.csv" --credits "$K/credits.csv" --promises "$K/promises.csv" --disputes "$K/disputes.csv"
expect_status 0 "small ledger import"

run_dunlin kpi --ledger "$L" --as-of 2026-03-15 --format json
expect_status 0 "kpi json"
expect_eq "$OUT" '{"as_of":"2026-03-15","currency":"USD","period_days":90,"open_invoices":4,"open_ar":"1100.00","dso":49.50,"best_possible_dso":22.50,"add":27.00,"aging":{"current":"500.00","1-30":"0.00","31-60":"300.00","61-90":"0.00","90+":"300.00"},"cei":{"2025-11":null,"2025-12":25.00,"2026-01":0.00,"2026-02":46.15},"promise_kept_rate":0.33,"dispute_resolution_days":11.50}' "hand-computed figures"

# As of 2026-02-28, a month end: February is in the JSON; PR1 is not due
# yet, so no promise is due (null); only DS2 is resolved (13.00).
# open: I1 400 (24 days), I2 500, I3 300 (current), I5 300 (89 days) = 1500;
# sales (2025-11-30, 2026-02-28]: 1800; DSO 75.00, best 800*90/1800 = 40.00.
run_dunlin kpi --ledger "$L" --as-of 2026-02-28 --format json
expect_eq "$OUT" '{"as_of":"2026-02-28","currency":"USD","period_days":90,"open_invoices":4,"open_ar":"1500.00","dso":75.00,"best_possible_dso":40.00,"add":35.00,"aging":{"current":"800.00","1-30":"400.00","31-60":"0.00","61-90":"300.00","90+":"0.00"},"cei":{"2025-11":null,"2025-12":25.00,"2026-01":0.00,"2026-02":46.15},"promise_kept_rate":null,"dispute_resolution_days":13.00}' "month end"

# The report: a CEI month without a value says n/a, not an empty (0) bar.
run_dunlin kpi --ledger "$L" --as-of 2026-03-15 --report "$WORK/k.html"
expect_status 0 "report"
CHECKS=$((CHECKS + 1))
grep -q 'class="na">n/a</text>' "$WORK/k.html" || fail "undefined CEI month is labelled n/a in the chart"

# SQL from the definitions, against dunlin, on the small ledger and on IBM
sql_check() { # LEDGER DATE
  CHECKS=$((CHECKS + 1))
  sed "s/@D@/$2/g; s/@P@/90/g" "$K/kpi.sql" | sqlite3 "$1" >"$WORK/rows" 2>"$WORK/err" &&
    "$DUNLIN" kpi --ledger "$1" --as-of "$2" --format json >"$WORK/k.json" &&
    python3 "$K/compare.py" "$WORK/rows" "$WORK/k.json" >"$WORK/out" ||
    { echo "FAIL: SQL vs dunlin kpi on $1 as of $2"; cat "$WORK/out" "$WORK/err"; FAILS=$((FAILS + 1)); }
}
if command -v sqlite3 >/dev/null && command -v python3 >/dev/null; then
  sql_check "$L" 2026-03-15
  sql_check "$L" 2026-02-28
  IBM=${DUNLIN_SHARED:-$SRC/../shared}/data/ibm-accounts-receivable.csv
  if [ -r "$IBM" ]; then
    sh "$SRC/examples/ibm/convert.sh" "$IBM" "$WORK/ibm" >/dev/null &&
      "$DUNLIN" ledger init "$WORK/ibm.ledger" >/dev/null &&
      "$DUNLIN" ledger import "$WORK/ibm.ledger" --customers "$WORK/ibm/customers.csv" \
        --invoices "$WORK/ibm/invoices.csv" --payments "$WORK/ibm/payments.csv" \
        --disputes "$WORK/ibm/disputes.csv" >/dev/null
    for d in 2012-03-15 2012-12-31 2013-06-28 2013-12-31; do sql_check "$WORK/ibm.ledger" "$d"; done
  else
    echo "note: $IBM not found: IBM comparison skipped"
  fi
else
  echo "note: sqlite3 or python3 missing: SQL comparison skipped"
fi
finish
