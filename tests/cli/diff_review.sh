#!/usr/bin/env bash
# diff_review.sh - `dunlin diff` read as the credit manager reviewing a
# change would: b2b_net30 with the collector's call moved from day 15 to
# day 10, on a demo ledger of 60 customers over 55 days.
#  - the counts equal an independent recount from the two `simulate
#    --format jsonl` streams, pairing actions by the identity docs/simulate.md
#    states (day, customer, kind, rule, step, invoices, task text);
#  - the examples show what goes out (scheduled) first, not the skipped
#    records of caught-up steps that fill the first days;
#  - the counts are explained (records of every day, skipped and deferred
#    included), and a capped Markdown list says it is capped.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "python3 missing: skipped"; echo "0 passed, 0 failed"; exit 0; }
L=$WORK/demo.ledger
run_dunlin ledger demo "$L" --customers 60 --seed 7 --today 2026-11-25
expect_status 0 "demo ledger"
OLD=$SRC/policies/b2b_net30.dun
NEW=$WORK/b2b_call10.dun
sed 's/step 15 days: email tone firm, call priority invoice.balance/step 10 days: email tone firm, call priority invoice.balance/; s/version 1/version 2/' "$OLD" >"$NEW"
CHECKS=$((CHECKS + 1))
grep -q 'step 10 days: email tone firm, call' "$NEW" || fail "the policy change applies"
R=(--ledger "$L" --from 2026-10-01 --to 2026-11-24)

"$DUNLIN" simulate "$OLD" "${R[@]}" --format jsonl >"$WORK/old.jsonl"
"$DUNLIN" simulate "$NEW" "${R[@]}" --format jsonl >"$WORK/new.jsonl"
want=$(python3 - "$WORK/old.jsonl" "$WORK/new.jsonl" <<'PY'
import json, sys, collections
def load(p):
    d = collections.defaultdict(list)
    for line in open(p):
        o = json.loads(line)
        d[(o["as_of"], o["customer"], o["kind"], o["rule"], o["step"], tuple(o["invoices"]),
           o["template"] if o["kind"] == "task" else None)].append(o)
    return d
o, n = load(sys.argv[1]), load(sys.argv[2])
add = rem = ch = un = 0
for k in set(o) | set(n):
    a, b = o.get(k, []), n.get(k, [])
    for x, y in zip(a, b):
        if any(x[f] != y[f] for f in ("tone", "template", "scheduled_at", "priority", "assignee", "status")):
            ch += 1
        else:
            un += 1
    rem += max(0, len(a) - len(b)); add += max(0, len(b) - len(a))
print(add, rem, ch, un)
PY
)
run_dunlin diff "$OLD" "$NEW" "${R[@]}" --format json
expect_status 0 "diff json"
got=$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["added"], d["removed"], d["changed"], d["unchanged"])')
expect_eq "$got" "$want" "diff counts = independent recount"
CHECKS=$((CHECKS + 1))
[ "$(printf '%s' "$want" | cut -d' ' -f1)" -gt 500 ] || fail "enough added actions to cap the Markdown list"

run_dunlin diff "$OLD" "$NEW" "${R[@]}"
expect_status 0 "diff text"
expect_out "(action records of every simulated day, skipped steps and deferred contacts included;" "counts explained"
first_added=$(grep -m1 '^  + ' "$WORK/out")
expect_eq "${first_added##*(}" "scheduled)" "first added example goes out"
first_removed=$(grep -m1 '^  - ' "$WORK/out")
expect_eq "${first_removed##*(}" "scheduled)" "first removed example goes out"

run_dunlin diff "$OLD" "$NEW" "${R[@]}" --format markdown
expect_status 0 "diff markdown"
expect_out "These count the action records of every simulated day" "markdown counts explained"
expect_out "<details><summary>The first 500 of " "capped list says so"
row=$(awk '/^\*\*Added\*\*/{f=1} f && /^\| 20/{print; exit}' "$WORK/out")
CHECKS=$((CHECKS + 1))
case "$row" in *"| scheduled |"*) ;; *) fail "first added Markdown example goes out: $row" ;; esac
finish
