#!/usr/bin/env bash
# Bad CSV values (dates, amounts, huge lines, many errors, Latin-1 text)
# and an all-or-nothing multi-file import: each fails with
# `FILE:LINE: error[E0503]: reason` (E0505 when the file cannot be read),
# exit 1, and leaves the ledger exactly as it was: same row counts, same
# `.dump`, same bytes.
. "$(dirname "$0")/import_lib.sh"

# --- dates ---
# (libcsv trims blanks around unquoted fields, so a blank is tested quoted)
for d in 2026-02-30 26-01-01 2026-13-01 2026-1-5 "2026-01-01 " 20260101 2026/01/01 2026-01-01T00:00; do
  csv invoices "id,customer_id,issue_date,due_date,currency,amount\nN1,C1,\"$d\",2026-12-31,USD,1.00\n"
  bad invoices 2 "bad date" "issue_date '$d'"
done
csv invoices "id,customer_id,issue_date,due_date,currency,amount\nN1,C1,,2026-12-31,USD,1.00\n"
bad invoices 2 "missing value in column \"issue_date\"" "empty issue_date"
csv invoices "id,customer_id,issue_date,due_date,currency,amount\nN1,C1,2026-03-01,2026-02-01,USD,1.00\n"
bad invoices 2 "before" "due before issue"
csv payments "id,customer_id,date,amount,currency\nN1,C1,2026-02-29,1.00,USD\n"; bad payments 2 "bad date" "2026-02-29"
csv credits "id,invoice_id,date,amount\nN1,I1,0000-00-00,1.00\n"; bad credits 2 "bad date" "0000-00-00"
csv disputes "id,invoice_id,opened_on,resolved_on\nN1,I1,2026-03-10,2026-03-01\n"; bad disputes 2 "before" "resolved before opened"
csv disputes "id,invoice_id,opened_on,resolved_on\nN1,I1,2026-03-10,2026-02-31\n"; bad disputes 2 "bad date" "bad resolved_on"
csv promises "id,customer_id,made_on,promised_date,amount\nN1,C1,2026-03-10,2026-03-01,1.00\n"; bad promises 2 "before" "promised before made"
csv fx_rates "date,base,quote,rate\n2026-04-31,EUR,USD,1.1\n"; bad fx_rates 2 "bad date" "2026-04-31"
csv holidays "calendar,date,name\ncompany,2026-06-31,x\n"; bad holidays 2 "bad date" "2026-06-31"

# --- amounts ---
for a in 1.005 abc 1e5 1,5 "" " 1.00" 0x10 99999999999999999999 1.2.3 --1 +-1; do
  csv invoices "id,customer_id,issue_date,due_date,currency,amount\nN1,C1,2026-03-01,2026-03-31,USD,\"$a\"\n"
  bad invoices 2 "amount" "amount '$a'"
done
for a in -0 -1.00 0 0.00 -0.01; do
  csv payments "id,customer_id,date,amount,currency\nN1,C1,2026-03-01,$a,USD\n"; bad payments 2 "amount" "payment amount '$a'"
done
for a in 1.5 -1 abc 9223372036854775808 ""; do
  csv credits "id,invoice_id,date,amount_minor\nN1,I1,2026-03-01,$a\n"; bad credits 2 "amount" "amount_minor '$a'"
done
# huge but within int64: two such invoices would overflow a customer's total
for a in 9223372036854775807 1000000000000001; do
  csv invoices "id,customer_id,issue_date,due_date,currency,amount_minor\nN1,C1,2026-03-01,2026-03-31,USD,$a\n"
  bad invoices 2 "more than 1000000000000000 minor units" "amount_minor $a"
done
csv payments "id,customer_id,date,amount,currency\nN1,C1,2026-03-01,92233720368547758.07,USD\n"
bad payments 2 "more than" "payment of int64 max cents"
csv invoices "id,customer_id,issue_date,due_date,currency,amount\nN1,C3,2026-03-01,2026-03-31,JPY,10.5\n"
bad invoices 2 "JPY has 0 decimals" "decimals beyond the currency's"
csv invoices "id,customer_id,issue_date,due_date,currency,amount\nN1,C1,2026-03-01,2026-03-31,USD,-5.00\n"
bad invoices 2 "amount" "negative invoice"
for a in -0 -0.00; do
  csv invoices "id,customer_id,issue_date,due_date,currency,amount\nN1,C1,2026-03-01,2026-03-31,USD,$a\n"
  bad invoices 2 "must be zero or more" "invoice amount '$a'"
done
csv invoices "id,customer_id,issue_date,due_date,currency,amount_minor\nN1,C1,2026-03-01,2026-03-31,USD,-0\n"
bad invoices 2 "must be zero or more" "invoice amount_minor '-0'"
csv invoices "id,customer_id,issue_date,due_date,currency,amount,amount_minor\nN1,C1,2026-03-01,2026-03-31,USD,1.00,100\n"
bad invoices 1 "both given" "amount and amount_minor"
csv promises "id,customer_id,made_on,promised_date,amount\nN1,C1,2026-03-01,2026-03-09,92233720368547758.08\n"
bad promises 2 "amount" "amount beyond int64"

# --- text that is not UTF-8 (a Latin-1 export) ---
printf 'id,name,currency\nN1,M\374ller GmbH,EUR\n' >"$WORK/customers.csv"
bad customers 2 "column 2 is not valid UTF-8" "Latin-1 name"
expect_err "iconv" "Latin-1: says how to convert"
printf 'id,name,currency\nN\351,x,EUR\n' >"$WORK/customers.csv"
bad customers 2 "not valid UTF-8" "Latin-1 id"
printf 'id,na\377me,currency\nN1,x,EUR\n' >"$WORK/customers.csv"
bad customers 1 "not valid UTF-8" "Latin-1 header"
printf 'id,name,currency\nN1,\355\240\200,EUR\n' >"$WORK/customers.csv"
bad customers 2 "not valid UTF-8" "an encoded surrogate"
printf 'id,name,currency\nN1,\300\257,EUR\n' >"$WORK/customers.csv"
bad customers 2 "not valid UTF-8" "an overlong slash"

# --- a good row, then a bad one far down: line numbers count physical lines ---
{ echo "id,name,currency"; echo 'M1,"two'; echo 'lines",USD'; for i in $(seq 2 50); do echo "M$i,n,USD"; done; echo "M51,n,ZZZ"; } >"$WORK/customers.csv"
bad customers 53 "unknown currency" "bad row 53 after a multi-line field"

# --- a 1 MB line ---
{ echo "id,name,currency"; printf 'N1,'; head -c 1048576 /dev/zero | tr '\0' 'x'; echo ",ZZZ"; } >"$WORK/customers.csv"
bad customers 2 "unknown currency" "1 MB line"
{ echo "id,name,currency"; head -c 1048576 /dev/zero | tr '\0' 'x'; echo ",n,USD,extra"; } >"$WORK/customers.csv"
bad customers 2 "expected" "1 MB id in a row with too many fields"

# --- many bad rows: stops after 20 and says so ---
{ echo "id,name,currency"; for i in $(seq 1 40); do echo "B$i,n,ZZZ"; done; } >"$WORK/customers.csv"
bad customers 2 "stopped after" "40 bad rows"

# --- all or nothing across files: only the LAST file is bad ---
csv customers "id,name,currency\nA1,New,USD\nA2,New,EUR\n"
csv invoices "id,customer_id,issue_date,due_date,currency,amount\nAI1,A1,2026-03-01,2026-03-31,USD,10.00\n"
csv payments "id,customer_id,invoice_id,date,amount,currency\nAP1,,AI1,2026-03-05,1.00,USD\n"
csv credits "id,invoice_id,date,amount\nAK1,AI1,2026-03-05,1.00\n"
csv disputes "id,invoice_id,opened_on\nAD1,AI1,2026-03-05\n"
csv promises "id,customer_id,made_on,promised_date,amount\nAR1,A1,2026-03-01,2026-03-09,1.00\n"
csv fx_rates "date,base,quote,rate\n2026-03-01,EUR,USD,1.09\n"
csv holidays "calendar,date,name\ncompany,2026-05-01,May Day\ncompany,2026-02-30,bad\n"
run_dunlin ledger import "$L" --customers "$WORK/customers.csv" --invoices "$WORK/invoices.csv" \
  --payments "$WORK/payments.csv" --credits "$WORK/credits.csv" --disputes "$WORK/disputes.csv" \
  --promises "$WORK/promises.csv" --fx-rates "$WORK/fx_rates.csv" --holidays "$WORK/holidays.csv"
expect_status 1 "seven good files and a bad last one"
expect_err "$WORK/holidays.csv:3: error[E0503]" "the last file's bad row is named"
expect_eq "$(state)" "$BASE" "nothing from the seven good files remains"
expect_eq "$(sha256sum <"$L")" "$BASE_BYTES" "ledger bytes unchanged"
csv holidays "calendar,date,name\ncompany,2026-05-01,May Day\n"
run_dunlin ledger import "$L" --customers "$WORK/customers.csv" --invoices "$WORK/invoices.csv" \
  --payments "$WORK/payments.csv" --credits "$WORK/credits.csv" --disputes "$WORK/disputes.csv" \
  --promises "$WORK/promises.csv" --fx-rates "$WORK/fx_rates.csv" --holidays "$WORK/holidays.csv"
expect_status 0 "the same eight files once the last is fixed"
expect_out "2 customers, 1 invoices, 1 payments, 1 credits, 1 disputes, 1 promises, 1 fx rates, 1 holidays" "all counted"
printf 'id,name,currency\nU1,M\303\274ller \360\237\220\246 GmbH,EUR\n' >"$WORK/customers.csv"
run_dunlin ledger import "$L" --customers "$WORK/customers.csv"
expect_status 0 "UTF-8 text, four-byte sequences too, imports"
expect_eq "$(sqlite3 "$L" "SELECT hex(name) FROM customers WHERE id = 'U1'")" "4DC3BC6C6C657220F09F90A620476D6248" "stored byte for byte"
finish
