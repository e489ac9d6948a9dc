#!/usr/bin/env bash
# Bad CSV files for every table (header problems, field counts, quotes,
# empty, binary, directory, missing file, duplicates): each import fails with
# `FILE:LINE: error[E0503]: reason` (E0505 when the file cannot be read),
# exit 1, and leaves the ledger exactly as it was: same row counts, same
# `.dump`, same bytes.
. "$(dirname "$0")/import_lib.sh"

# --- header problems, every table ---
declare -A HDR=(
  [customers]="id,name,currency"
  [invoices]="id,customer_id,issue_date,due_date,currency,amount"
  [payments]="id,customer_id,invoice_id,date,amount,currency,status"
  [credits]="id,invoice_id,date,amount"
  [disputes]="id,invoice_id,opened_on,resolved_on,amount"
  [promises]="id,customer_id,invoice_id,made_on,promised_date,amount"
  [fx_rates]="date,base,quote,rate"
  [holidays]="calendar,date,name"
)
declare -A ROW=(
  [customers]="N1,New,USD"
  [invoices]="N1,C1,2026-03-01,2026-03-31,USD,10.00"
  [payments]="N1,C1,I1,2026-03-01,1.00,USD,settled"
  [credits]="N1,I1,2026-03-01,1.00"
  [disputes]="N1,I1,2026-03-01,,1.00"
  [promises]="N1,C1,I1,2026-03-01,2026-03-09,1.00"
  [fx_rates]="2026-03-01,EUR,USD,1.09"
  [holidays]="company,2026-05-01,May Day"
)
declare -A REQ=([customers]=id [invoices]=issue_date [payments]=date [credits]=invoice_id
  [disputes]=opened_on [promises]=made_on [fx_rates]=rate [holidays]=calendar)
for t in $TABLES; do
  h=${HDR[$t]} r=${ROW[$t]}
  # the good row alone imports: the bad cases below differ from it in one thing
  csv "$t" "$h\n$r\n"
  cp "$L" "$WORK/probe.ledger"
  "$DUNLIN" ledger import "$WORK/probe.ledger" "--${t/_/-}" "$WORK/$t.csv" >/dev/null 2>&1
  expect_eq "$?" 0 "$t: the reference row is good"
  rm -f "$WORK/probe.ledger"*

  csv "$t" "$r\n$r\n"; bad "$t" 1 "" "no header (a data row as header)"
  csv "$t" "$h,colour\n$r,red\n"; bad "$t" 1 "unknown column \"colour\"" "unknown column"
  req=${REQ[$t]}
  hh=$(tr ',' '\n' <<<"$h" | grep -vx "$req" | paste -sd,)
  csv "$t" "$hh\n\n"; bad "$t" 1 "missing column \"$req\"" "missing required column"
  csv "$t" "$h\n$r,extra\n"; bad "$t" 2 "expected" "too many fields"
  csv "$t" "$h\n${r%,*}\n"; bad "$t" 2 "expected" "too few fields"
  csv "$t" "$h\n\"${r}\n"; bad "$t" 2 "quoted field" "unterminated quote"
  csv "$t" "$h\n$r\nx\"y,$r\n"; bad "$t" 3 "" "stray quote inside a field"
  csv "$t" ""; bad "$t" 1 "empty file" "empty file"
  csv "$t" "$h,$h\n"; bad "$t" 1 "appears twice" "duplicate column"
  head -c 3000 /dev/urandom >"$WORK/$t.csv"; bad "$t" "" "" "binary garbage"
  printf '%s\n' "$h" >"$WORK/$t.csv"; printf '\0\0\0,\0\n' >>"$WORK/$t.csv"; bad "$t" 2 "" "NUL bytes in a row"
  bad "$t" "" "Is a directory" "a directory" "$WORK" E0505
  bad "$t" "" "No such file" "a missing file" "$WORK/none.csv" E0505
  # the second row repeats the first: duplicate within the file
  csv "$t" "$h\n$r\n$r\n"; bad "$t" 3 "duplicate" "duplicate within the file"
  # a header alone is a good, empty import
  csv "$t" "$h\n"
  run_dunlin ledger import "$L" "--${t/_/-}" "$WORK/$t.csv"
  expect_status 0 "$t: a header alone imports 0 rows"
  expect_eq "$(state)" "$BASE" "$t: a header alone changes nothing"
done

printf 'id;name;currency\nN1;x;USD\n' >"$WORK/customers.csv"
bad customers 1 "unknown column" "a semicolon-separated file"
expect_err "separated by ';'" "semicolons: says so"
printf 'id\tname\tcurrency\nN1\tx\tUSD\n' >"$WORK/customers.csv"
bad customers 1 "unknown column" "a tab-separated file"
expect_err "separated by tabs" "tabs: says so"
finish
