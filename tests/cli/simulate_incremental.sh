#!/usr/bin/env bash
# dunlin simulate: the incremental replay (a customer is evaluated only on
# the days its actions could change, docs/simulate.md "Wake rules") must
# give exactly what the full replay (--full: everyone, every day) gives:
# the jsonl of every action of every day and stderr (data errors per day),
# byte for byte, and the same text summary apart from the evaluation count;
# with the awake customers read from memory (the default) or from SQLite
# either way (DUNLIN_SIM_READ=keyed|scan).
# Ledgers: tests/sim, every golden case (business days, caps, once per,
# promises, events, fx, zones) over weeks around its date, and a 300-
# customer demo ledger over 60 days with every shipped policy.
. "$(dirname "$0")/lib.sh"

# same LABEL POLICY LEDGER FROM TO: both replays, compared. Sets $EVALS
# to "INCREMENTAL FULL" customer evaluations.
same() {
  local label=$1 policy=$2 ledger=$3 from=$4 to=$5
  "$DUNLIN" simulate "$policy" --ledger "$ledger" --from "$from" --to "$to" --format jsonl \
    >"$WORK/inc.jsonl" 2>"$WORK/inc.err"
  local si=$?
  "$DUNLIN" simulate "$policy" --ledger "$ledger" --from "$from" --to "$to" --format jsonl --full \
    >"$WORK/full.jsonl" 2>"$WORK/full.err"
  local sf=$?
  CHECKS=$((CHECKS + 1))
  if [ $si -ne $sf ] || ! cmp -s "$WORK/inc.jsonl" "$WORK/full.jsonl" || ! cmp -s "$WORK/inc.err" "$WORK/full.err"; then
    FAILS=$((FAILS + 1))
    echo "FAIL: $label: incremental differs from --full (exit $si vs $sf)"
    diff "$WORK/full.jsonl" "$WORK/inc.jsonl" | head -5
    diff "$WORK/full.err" "$WORK/inc.err" | head -5
  fi
  # The default reads the awake customers from the copy's rows kept in
  # memory; the two SQLite reads: one by one through the indexes, and by
  # skipping through the streams.
  local read
  for read in keyed scan; do
    DUNLIN_SIM_READ=$read "$DUNLIN" simulate "$policy" --ledger "$ledger" --from "$from" --to "$to" \
      --format jsonl >"$WORK/$read.jsonl" 2>"$WORK/$read.err"
    CHECKS=$((CHECKS + 1))
    if ! cmp -s "$WORK/$read.jsonl" "$WORK/full.jsonl" || ! cmp -s "$WORK/$read.err" "$WORK/full.err"; then
      FAILS=$((FAILS + 1)); echo "FAIL: $label: incremental ($read reads) differs from --full"
    fi
  done
  "$DUNLIN" simulate "$policy" --ledger "$ledger" --from "$from" --to "$to" >"$WORK/inc.txt" 2>/dev/null
  "$DUNLIN" simulate "$policy" --ledger "$ledger" --from "$from" --to "$to" --full >"$WORK/full.txt" 2>/dev/null
  CHECKS=$((CHECKS + 1))
  if ! diff <(grep -v "customer evaluations" "$WORK/inc.txt") <(grep -v "customer evaluations" "$WORK/full.txt") >/dev/null; then
    FAILS=$((FAILS + 1)); echo "FAIL: $label: text summaries differ"
  fi
  EVALS="$(awk '/customer evaluations/ {print $1}' "$WORK/inc.txt") $(awk '/customer evaluations/ {print $1}' "$WORK/full.txt")"
  # customers whose deferred records were issued again without a run
  REPLAYED=$(grep -o '[0-9]* deferred again' "$WORK/inc.txt" | awk '{print $1}')
  REPLAYED=${REPLAYED:-0}
  NLINES=$(wc -l <"$WORK/full.jsonl")
}

# ---- tests/sim: the four customers of tests/sim/notes.md ----------------------
S="$SRC/tests/sim"
L="$WORK/sim.ledger"
"$DUNLIN" ledger init "$L" >/dev/null
"$DUNLIN" ledger import "$L" --customers "$S/customers.csv" --invoices "$S/invoices.csv" \
  --payments "$S/payments.csv" >/dev/null
for P in "$S/ladder.dun" "$S/ladder_v2.dun"; do
  same "sim $(basename "$P")" "$P" "$L" 2026-03-02 2026-03-21
  CHECKS=$((CHECKS + 1)); [ "$NLINES" -gt 0 ] || { FAILS=$((FAILS + 1)); echo "FAIL: sim $(basename "$P"): no actions"; }
done
# 20 days x 4 customers = 80 evaluations in full; the incremental replay
# must skip some (C4 pays early, nothing happens to anyone on most days).
read -r ni nf <<<"$EVALS"
expect_eq "$nf" 80 "sim: the full replay evaluates 4 customers x 20 days"
CHECKS=$((CHECKS + 1)); [ "$ni" -lt "$nf" ] || { FAILS=$((FAILS + 1)); echo "FAIL: sim: incremental evaluated $ni of $nf"; }

# ---- golden cases: each ledger, 3 weeks before to 6 weeks after its date -------
G="$SRC/tests/golden/cases"
for dir in "$G"/*/; do
  name=$(basename "$dir")
  L="$WORK/$name.ledger"
  golden_ledger "$dir" "$L" || continue
  policy=$GOLDEN_POLICY
  asof=$(cat "$dir/as_of")
  from=$(date -u -d "$asof - 21 days" +%F)
  to=$(date -u -d "$asof + 42 days" +%F)
  same "golden $name" "$policy" "$L" "$from" "$to"
done

# ---- a demo ledger, every shipped policy ---------------------------------------
L="$WORK/demo.ledger"
"$DUNLIN" ledger demo "$L" --customers 300 >/dev/null
TODAY=$(sqlite3 "$L" "SELECT max(date) FROM fx_rates")
FROM=$(date -u -d "$TODAY - 44 days" +%F)
TO=$(date -u -d "$TODAY + 15 days" +%F) # past the ledger's last day too
for P in "$SRC"/policies/*.dun; do
  case "$P" in *_test.dun) continue ;; esac
  same "demo $(basename "$P")" "$P" "$L" "$FROM" "$TO"
  read -r ni nf <<<"$EVALS"
  expect_eq "$nf" 18000 "demo $(basename "$P"): full = 300 customers x 60 days"
  CHECKS=$((CHECKS + 1))
  [ "$ni" -lt "$nf" ] || { FAILS=$((FAILS + 1)); echo "FAIL: demo $(basename "$P"): incremental evaluated $ni of $nf"; }
  CHECKS=$((CHECKS + 1)); [ "$NLINES" -gt 1000 ] || { FAILS=$((FAILS + 1)); echo "FAIL: demo $(basename "$P"): only $NLINES actions"; }
  # b2b_net30's caps defer contacts day after day: the comparison above
  # covers records issued again (docs/simulate.md, "Deferred again").
  if [ "$(basename "$P")" = b2b_net30.dun ]; then
    CHECKS=$((CHECKS + 1))
    [ "$REPLAYED" -gt 100 ] || { FAILS=$((FAILS + 1)); echo "FAIL: demo b2b_net30: $REPLAYED issued again"; }
  fi
done

# ---- falling due changes the segment (the day-after-due wake alone) --------------
# The only step is long before the due date; what makes it go out is the
# segment turning "overdue" the day after an invoice falls due.
cat >"$WORK/overdue.dun" <<'POL'
policy "overdue" version 1
currency USD
timezone "America/New_York"
segment overdue when customer.overdue_invoices > 0
segment fine otherwise
escalation early for invoice in overdue {
  step -20 days: email tone friendly
}
POL
same "segment by overdue count" "$WORK/overdue.dun" "$WORK/demo.ledger" "$FROM" "$TO"
read -r ni nf <<<"$EVALS"
CHECKS=$((CHECKS + 1)); [ "$ni" -lt "$nf" ] || { FAILS=$((FAILS + 1)); echo "FAIL: overdue: incremental evaluated $ni of $nf"; }
CHECKS=$((CHECKS + 1)); [ "$NLINES" -gt 100 ] || { FAILS=$((FAILS + 1)); echo "FAIL: overdue: only $NLINES actions"; }

# ---- `once per` after a consolidated record ----------------------------------------
# The rule's hold and the step's hold of the same day make one record whose
# rule is "dunning,over_limit"; the engine counts `once per` on each part,
# so the wake on the window's end must find the rule inside the list too.
cat >"$WORK/consolidated.dun" <<'POL'
policy "consolidated" version 1
currency USD
timezone "UTC"
segment everyone otherwise
escalation dunning for invoice in everyone {
  step 2 days: hold credit
}
rule over_limit for customer when customer.total_open > 100 USD do hold credit once per 5 days
POL
same "once per after a consolidated record" "$WORK/consolidated.dun" "$WORK/sim.ledger" 2026-03-03 2026-03-21
CHECKS=$((CHECKS + 1))
grep -q '"rule":"dunning,over_limit"' "$WORK/full.jsonl" || { FAILS=$((FAILS + 1)); echo "FAIL: consolidated: no consolidated record"; }
CHECKS=$((CHECKS + 1))
[ "$(grep -c '"as_of":"2026-03-08".*"rule":"over_limit"' "$WORK/full.jsonl")" -gt 0 ] ||
  { FAILS=$((FAILS + 1)); echo "FAIL: consolidated: no over_limit hold 5 days later"; }

# ---- a policy whose decisions move with the date falls back to everyone --------
cat >"$WORK/moving.dun" <<'POL'
policy "moving" version 1
currency USD
timezone "America/New_York"
segment late when customer.oldest_days_past_due > 20
segment rest otherwise
rule chase for invoice when invoice.days_past_due == 25 do email tone friendly
POL
same "days_past_due in a rule" "$WORK/moving.dun" "$WORK/demo.ledger" "$FROM" "$TO"
read -r ni nf <<<"$EVALS"
expect_eq "$ni" "$nf" "a rule reading days_past_due: every customer every day"
CHECKS=$((CHECKS + 1)); [ "$NLINES" -gt 0 ] || { FAILS=$((FAILS + 1)); echo "FAIL: moving: no actions"; }

finish
