#!/usr/bin/env bash
# examples/ffi: build the example scoring library with its Makefile, check
# the example policy (extern fn types against call sites), run it with the
# library allowed, and see it refused without.
#
# Worked by hand on 2026-03-16 (New York, daylight time: -04:00):
# - KEY-1: acme_key_account("KEY-1") is true -> segment key (tone -1,
#   assign key-accounts). K1 due 03-05 is 11 days past due: step 10d, email
#   and call, tone neutral shifted to friendly; step 1d never sent: skipped.
# - R-2: not a key account; acme_risk(0 days late, 1 overdue invoice,
#   6,000.00 overdue) = 0.1 + 0.1 * 6 + 0 = 0.7 >= 0.5 -> risky: the rule
#   adds the task "review credit line" for credit; R1 due 03-14 is 2 days
#   past due: step 1d, email friendly.
# - N-3: acme_risk(0, 1, 500.00) = 0.1 + 0.1 * 0 = 0.1 -> normal; N1 2 days
#   past due: step 1d, email friendly.
. "$(dirname "$0")/lib.sh"
EX="$SRC/examples/ffi"
LIB="$WORK/libacme_risk.so"

make -C "$EX" OUT="$WORK" >"$WORK/make.log" 2>&1
STATUS=$?
expect_status 0 "the example library builds with its Makefile"
expect_eq "$(nm -D --defined-only "$LIB" | awk '{print $3}' | grep -c '^acme_')" "2" "it exports the two functions"

run_dunlin check "$EX/risk.dun"
expect_status 0 "the example policy checks clean"

# extern fn types are checked at compile time against every call site
sed 's/acme_risk(customer.avg_days_late,/acme_risk(customer.tier,/' "$EX/risk.dun" >"$WORK/wrong.dun"
run_dunlin check "$WORK/wrong.dun"
expect_status 1 "a wrong-typed call is refused"
expect_err "wrong.dun:19:20: error[E0205]: \`acme_risk\` cannot be called with (string, int, money)" "names the call and its types"
expect_err "hint: \`acme_risk\` takes (number, int, money)" "and what the declaration takes"
sed 's/acme_key_account(customer.id)/acme_key_account(customer.id) == "yes"/' "$EX/risk.dun" >"$WORK/wrong2.dun"
run_dunlin check "$WORK/wrong2.dun"
expect_status 1 "the declared return type is checked too"

cat >"$WORK/c.csv" <<'CSV'
id,name,tier,currency
KEY-1,Keystone,strategic,USD
N-3,Norma,standard,USD
R-2,Riskco,standard,USD
CSV
cat >"$WORK/i.csv" <<'CSV'
id,customer_id,number,issue_date,due_date,currency,amount
K1,KEY-1,1,2026-02-01,2026-03-05,USD,1000.00
N1,N-3,2,2026-02-01,2026-03-14,USD,500.00
R1,R-2,3,2026-02-01,2026-03-14,USD,6000.00
CSV
L="$WORK/l.ledger"
"$DUNLIN" ledger init "$L" >/dev/null 2>&1
"$DUNLIN" ledger import "$L" --customers "$WORK/c.csv" --invoices "$WORK/i.csv" >/dev/null 2>&1

run_dunlin run "$EX/risk.dun" --ledger "$L" --as-of 2026-03-16 --allow-ffi "$LIB"
expect_status 0 "runs with the library allowed"
python3 - "$WORK/out" >"$WORK/summary" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    a = json.loads(l)
    print(a["customer"], a["kind"], a["step"], a["status"], a["tone"], a["assignee"], ",".join(a["invoices"]), a.get("text"))
PY
expect_eq "$(sort "$WORK/summary")" "KEY-1 call 10d scheduled friendly key-accounts K1 None
KEY-1 email 10d scheduled friendly key-accounts K1 None
KEY-1 email 1d skipped friendly key-accounts K1 None
N-3 email 1d scheduled friendly None N1 None
R-2 email 1d scheduled friendly None R1 None
R-2 task None scheduled None credit  review credit line" "the actions worked out by hand"
expect_out '"scheduled_at":"2026-03-16T09:00:00-04:00"' "scheduled at the window start"

run_dunlin run "$EX/risk.dun" --ledger "$L" --as-of 2026-03-16
expect_status 1 "without --allow-ffi the policy fails to load"
expect_err "error[E0313]: extern fn acme_risk: library \"libacme_risk.so\" is not allowed (allow it with --allow-ffi PATH)" "the clear error"
expect_eq "$OUT" "" "and nothing runs"

# the same through decide: the allow-list applies there too
REQ='{"id":1,"as_of":"2026-03-16","customer":{"id":"R-2","currency":"USD"},"invoices":[{"id":"R1","issue_date":"2026-02-01","due_date":"2026-03-14","currency":"USD","amount":"6000.00"}]}'
echo "$REQ" | "$DUNLIN" decide "$EX/risk.dun" --allow-ffi "$LIB" >"$WORK/out" 2>"$WORK/err"
STATUS=$?
expect_status 0 "decide with the library allowed"
expect_out '"text":"review credit line"' "decide sees the risky segment"
echo "$REQ" | "$DUNLIN" decide "$EX/risk.dun" >"$WORK/out" 2>"$WORK/err"
STATUS=$?
expect_status 1 "decide without it: exit 1 before reading"
expect_err "error[E0313]" "with the same error"
finish
