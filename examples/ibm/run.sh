#!/usr/bin/env bash
# Loads the real IBM accounts-receivable sample into a ledger and runs a
# shipped policy on it as of a date inside its range (2012-01 .. 2014-01).
#   bash examples/ibm/run.sh [AS_OF] [POLICY]
# Needs the dunlin binary (build/dunlin, or $DUNLIN).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
DUNLIN=${DUNLIN:-$root/build/dunlin}
DATA=${IBM_DATA:-$root/../shared/data/ibm-accounts-receivable.csv}
AS_OF=${1:-2013-06-28}
POLICY=${2:-$root/policies/b2b_net30.dun}
out=${OUT_DIR:-$root/out/ibm}
mkdir -p "$out"
rm -f "$out/ibm.ledger" "$out/ibm.ledger-wal" "$out/ibm.ledger-shm"
sh "$here/convert.sh" "$DATA" "$out"
"$DUNLIN" ledger init "$out/ibm.ledger" >/dev/null
"$DUNLIN" ledger import "$out/ibm.ledger" --customers "$out/customers.csv" \
  --invoices "$out/invoices.csv" --payments "$out/payments.csv" --disputes "$out/disputes.csv"
open=$(sqlite3 "$out/ibm.ledger" "SELECT count(*) FROM invoices i WHERE issue_date <= '$AS_OF'
  AND amount_minor > (SELECT coalesce(sum(amount_minor),0) FROM payments p
                      WHERE p.invoice_id = i.id AND p.status='settled' AND p.date <= '$AS_OF')" 2>/dev/null || echo "?")
echo "open invoices on $AS_OF: $open"
"$DUNLIN" run "$POLICY" --ledger "$out/ibm.ledger" --as-of "$AS_OF" --format table
