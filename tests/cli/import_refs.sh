#!/usr/bin/env bash
# Bad CSV references and codes (currencies, unknown customers and invoices,
# payment statuses, fx rates, duplicates against the ledger, bad attrs and
# risk scores): each fails with
# `FILE:LINE: error[E0503]: reason` (E0505 when the file cannot be read),
# exit 1, and leaves the ledger exactly as it was: same row counts, same
# `.dump`, same bytes.
. "$(dirname "$0")/import_lib.sh"

# --- currencies, parents, statuses, duplicates against the ledger ---
for c in XXY usd US EURO 123; do
  csv invoices "id,customer_id,issue_date,due_date,currency,amount\nN1,C1,2026-03-01,2026-03-31,$c,1.00\n"
  bad invoices 2 "currency" "currency '$c'"
done
csv customers "id,currency\nN1,ZZZ\n"; bad customers 2 "unknown currency" "customer currency"
csv fx_rates "date,base,quote,rate\n2026-03-01,EUR,QQQ,1.1\n"; bad fx_rates 2 "unknown currency" "fx quote"
csv fx_rates "date,base,quote,rate\n2026-03-01,EUR,EUR,1\n"; bad fx_rates 2 "both EUR" "base = quote"
for r in 0 -1.2 abc 1e3 ""; do
  csv fx_rates "date,base,quote,rate\n2026-03-01,EUR,USD,$r\n"; bad fx_rates 2 "rate" "rate '$r'"
done
csv fx_rates "date,base,quote,rate\n2026-01-02,EUR,USD,1.2\n"; bad fx_rates 2 "duplicate" "rate already in the ledger"
csv holidays "calendar,date,name\ncompany,2026-12-24,again\n"; bad holidays 2 "duplicate" "holiday already in the ledger"
csv holidays "calendar,date,name\n,2026-12-01,x\n"; bad holidays 2 "missing value" "empty calendar"
csv invoices "id,customer_id,issue_date,due_date,currency,amount\nN1,NOPE,2026-03-01,2026-03-31,USD,1.00\n"
bad invoices 2 "unknown customer \"NOPE\"" "unknown customer"
csv payments "id,customer_id,invoice_id,date,amount,currency\nN1,,I99,2026-03-01,1.00,USD\n"; bad payments 2 "unknown invoice \"I99\"" "unknown invoice"
csv payments "id,customer_id,invoice_id,date,amount,currency\nN1,C2,I1,2026-03-01,1.00,USD\n"; bad payments 2 "belongs to customer" "invoice of another customer"
csv payments "id,customer_id,invoice_id,date,amount,currency\nN1,C1,I1,2026-03-01,1.00,EUR\n"; bad payments 2 "differs" "payment currency differs"
for s in pending SETTLED " settled" refunded; do
  csv payments "id,customer_id,date,amount,currency,status\nN1,C1,2026-03-01,1.00,USD,\"$s\"\n"; bad payments 2 "bad status" "status '$s'"
done
csv credits "id,invoice_id,date,amount\nN1,NOPE,2026-03-01,1.00\n"; bad credits 2 "unknown invoice" "credit on unknown invoice"
csv disputes "id,invoice_id,opened_on\nN1,NOPE,2026-03-01\n"; bad disputes 2 "unknown invoice" "dispute on unknown invoice"
csv promises "id,customer_id,made_on,promised_date,amount\nN1,NOPE,2026-03-01,2026-03-09,1.00\n"; bad promises 2 "unknown customer" "promise of unknown customer"
for t in customers invoices payments credits disputes promises; do
  id=$(sed -n 2p "$G/$t.csv" | cut -d, -f1)
  # the first good fixture row again, its id already in the ledger
  { head -n 1 "$G/$t.csv"; sed -n 2p "$G/$t.csv" | sed 's/"goodwill, partial$/x/'; } >"$WORK/$t.csv"
  bad "$t" 2 "duplicate id \"$id\" (already in the ledger)" "id already in the ledger"
done
csv customers "id,name\n,empty id\n"; bad customers 2 "missing value in column \"id\"" "empty id"
csv customers "id,attrs\nN1,not json\n"; bad customers 2 "bad attrs" "attrs not JSON"
csv customers "id,attrs\nN1,[1]\n"; bad customers 2 "bad attrs" "attrs not an object"
csv customers "id,risk_score\nN1,high\n"; bad customers 2 "bad number" "risk_score"
csv customers "id,risk_score\nN1,nan\n"; bad customers 2 "bad number" "risk_score nan"

long=$(head -c 300 /dev/zero | tr '\0' 'x')
csv customers "id,currency\n$long,USD\n"; bad customers 2 "ids may have at most 255" "a 300-byte customer id"
csv invoices "id,customer_id,issue_date,due_date,currency,amount\n$long,C1,2026-03-01,2026-03-31,USD,1.00\n"
bad invoices 2 "ids may have at most 255" "a 300-byte invoice id"
ok255=$(head -c 255 /dev/zero | tr '\0' 'y')
csv customers "id,currency\n$ok255,USD\n"
cp "$L" "$WORK/probe.ledger"
"$DUNLIN" ledger import "$WORK/probe.ledger" --customers "$WORK/customers.csv" >/dev/null 2>&1
expect_eq "$?" 0 "a 255-byte id is fine"
rm -f "$WORK/probe.ledger"*
finish
