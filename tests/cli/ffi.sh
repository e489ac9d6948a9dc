#!/usr/bin/env bash
# extern fn (LANGUAGE.md s.8): a policy calls a native function only from a
# library allowed with --allow-ffi; without it the policy fails to load.
. "$(dirname "$0")/lib.sh"
: "${DUNLIN_FFI_FIXTURE:?set DUNLIN_FFI_FIXTURE to the test extension library}"
LIB=$(basename "$DUNLIN_FFI_FIXTURE")
cat >"$WORK/p.dun" <<DUN
policy "ffi" version 1
currency USD
extern fn risk_bonus(string, money) -> number from "$LIB"
segment vip when risk_bonus(customer.tier, customer.total_open) >= 0.5
segment rest otherwise
rule flag for customer when customer.segment == "vip" do task "vip review"
escalation e for invoice in vip, rest { step 1 day: email tone friendly }
DUN
cat >"$WORK/c.csv" <<'CSV'
id,name,tier,currency
A,Alpha,strategic,USD
B,Beta,standard,USD
CSV
cat >"$WORK/i.csv" <<'CSV'
id,customer_id,number,issue_date,due_date,currency,amount
IA,A,1,2026-01-01,2026-01-31,USD,100.00
IB,B,2,2026-01-01,2026-01-31,USD,9000.00
CSV
L="$WORK/l.ledger"
"$DUNLIN" ledger init "$L" >/dev/null
"$DUNLIN" ledger import "$L" --customers "$WORK/c.csv" --invoices "$WORK/i.csv" >/dev/null

run_dunlin check "$WORK/p.dun"
expect_status 0 "an extern policy checks clean"

run_dunlin run "$WORK/p.dun" --ledger "$L" --as-of 2026-02-10
expect_status 1 "not allowed: the policy fails to load"
expect_err "error[E0313]: extern fn risk_bonus" "names the function"
expect_err "is not allowed (allow it with --allow-ffi PATH)" "says how to allow it"
expect_eq "$OUT" "" "nothing runs"

run_dunlin run "$WORK/p.dun" --ledger "$L" --as-of 2026-02-10 --allow-ffi "/usr/lib/nothing.so"
expect_status 1 "another library allowed is no help"

run_dunlin run "$WORK/p.dun" --ledger "$L" --as-of 2026-02-10 --allow-ffi "$DUNLIN_FFI_FIXTURE"
expect_status 0 "allowed: runs"
# A: strategic 0.5 + 0 thousands -> vip; B: standard, 9 thousands -> 0.9 -> vip too
expect_out '"customer":"A","invoices":[],"kind":"task"' "A is vip by tier"
expect_out '"customer":"B","invoices":[],"kind":"task"' "B is vip by amount"

"$DUNLIN" compile "$WORK/p.dun" -o "$WORK/p.dbc" 2>/dev/null
run_dunlin run "$WORK/p.dbc" --ledger "$L" --as-of 2026-02-10
expect_status 1 "bytecode needs the allowance too"
run_dunlin explain "$WORK/p.dbc" --ledger "$L" --as-of 2026-02-10 --customer A --allow-ffi "/tmp:$DUNLIN_FFI_FIXTURE"
expect_status 0 "explain takes --allow-ffi, a list"
expect_out "segment vip (risk_bonus(customer.tier, customer.total_open) >= 0.5): condition true" "explain shows the extern condition"
finish
