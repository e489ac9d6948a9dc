#!/usr/bin/env bash
# examples/ibm: the real IBM accounts-receivable sample converted, loaded
# and run with a shipped policy as of a date inside its range. Skipped
# (counted as passing nothing) when ../shared/data is not beside the clone.
. "$(dirname "$0")/lib.sh"
DATA=${IBM_DATA:-$SRC/../shared/data/ibm-accounts-receivable.csv}
if [ ! -f "$DATA" ]; then
  echo "skipped: $DATA not found"
  finish
  exit 0
fi
export DUNLIN IBM_DATA="$DATA" OUT_DIR="$WORK/ibm"
bash "$SRC/examples/ibm/run.sh" 2013-06-28 >"$WORK/out" 2>"$WORK/err"
STATUS=$?
expect_status 0 "the IBM example runs"
expect_out "imported: 100 customers, 2466 invoices, 2466 payments" "all rows load"
L="$WORK/ibm/ibm.ledger"
# Open on 2013-06-28: issued by then and not yet settled (one full payment
# on the settled date), counted straight from the source CSV by awk.
want=$(awk -F, 'NR > 1 {
  split($5, i, "/"); split($9, s, "/");
  issued = i[3] i[2] i[1]; settled = s[3] s[2] s[1];
  if (issued <= "20130628" && settled > "20130628") n++ } END { print n }' "$DATA")
expect_out "open invoices on 2013-06-28: $want" "open invoices as of the date match the source data"
# No customer in the data has a credit limit: no over-limit hold may fire.
CHECKS=$((CHECKS + 1)); ! grep -q " hold .*over_limit" "$WORK/out" || fail "no over-limit holds without limits"
rows=$(grep -cE "^[0-9]{4}-[A-Z]{5} " "$WORK/out")
CHECKS=$((CHECKS + 1)); [ "$rows" -gt 0 ] || fail "the open invoices get actions"
# A second run prints the same actions.
"$DUNLIN" run "$SRC/policies/b2b_net30.dun" --ledger "$L" --as-of 2013-06-28 >"$WORK/a1"
"$DUNLIN" run "$SRC/policies/b2b_net30.dun" --ledger "$L" --as-of 2013-06-28 >"$WORK/a2"
CHECKS=$((CHECKS + 1)); cmp -s "$WORK/a1" "$WORK/a2" || fail "deterministic on real data"
finish
