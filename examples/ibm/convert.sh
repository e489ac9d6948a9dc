#!/bin/sh
# convert.sh - turns IBM's "Finance Factoring: late payment histories"
# sample (../../../shared/data/ibm-accounts-receivable.csv, see
# SOURCES.md there) into CSV files that `dunlin ledger import` loads.
# The assumptions (USD, dispute dates, ...) are explained in README.md.
#
# usage: convert.sh INPUT.csv OUTDIR
#   writes OUTDIR/customers.csv invoices.csv payments.csv disputes.csv
set -eu

if [ $# -ne 2 ]; then
  echo "usage: $0 INPUT.csv OUTDIR" >&2
  exit 2
fi
in=$1
out=$2
[ -r "$in" ] || { echo "$0: cannot read $in" >&2; exit 1; }
mkdir -p "$out"

# The input has CRLF line ends and a header row naming the columns:
# countrycode, customerID, PaperlessDate, invoiceNumber, InvoiceDate,
# DueDate, InvoiceAmount, Disputed, SettledDate, PaperlessBill,
# DaysToSettle, DaysLate. No field is quoted, so splitting on commas is
# exact; the script checks that every row has 12 fields.
awk -F, -v out="$out" '
function iso(dmy,   p) {   # DD/MM/YYYY -> YYYY-MM-DD
  if (split(dmy, p, "/") != 3) bad("date " dmy)
  return p[3] "-" p[2] "-" p[1]
}
function bad(what) {
  printf "%s:%d: bad %s\n", FILENAME, NR, what > "/dev/stderr"
  failed = 1
  exit 1
}
BEGIN {
  cust = out "/customers.csv"; inv = out "/invoices.csv"
  pay = out "/payments.csv";  dis = out "/disputes.csv"
  print "id,name,tier,timezone,currency,attrs" > cust
  print "id,customer_id,number,issue_date,due_date,currency,amount" > inv
  print "id,invoice_id,customer_id,date,amount,currency,status" > pay
  print "id,invoice_id,opened_on,resolved_on,reason" > dis
}
{ sub(/\r$/, "") }
NR == 1 {
  if ($2 != "customerID" || $4 != "invoiceNumber" || $9 != "SettledDate") bad("header")
  next
}
{
  if (NF != 12) bad("row: " NF " fields, expected 12")
  country = $1; customer = $2; number = $4; amount = $7
  issue = iso($5); due = iso($6); settled = iso($9)
  if (!(customer in seen)) {
    seen[customer] = 1
    # Country codes are not ISO 3166 codes: kept as a custom field.
    printf "%s,%s,standard,America/New_York,USD,\"{\"\"countrycode\"\":\"\"%s\"\"}\"\n", customer, customer, country > cust
  }
  printf "%s,%s,%s,%s,%s,USD,%s\n", number, customer, number, issue, due, amount > inv
  printf "P%s,%s,%s,%s,%s,USD,settled\n", number, number, customer, settled, amount > pay
  if ($8 == "Yes") {
    # No dispute dates in the data: opened on the due date and resolved
    # on the day it was settled; when it was settled before the due date,
    # opened on the invoice date instead.
    opened = (due <= settled) ? due : issue
    printf "D%s,%s,%s,%s,disputed in source data\n", number, number, opened, settled > dis
  } else if ($8 != "No") {
    bad("Disputed value " $8)
  }
}
END { if (failed) exit 1 }
' "$in"
