#!/usr/bin/env bash
# dunlin simulate: a 20-day replay of tests/sim (expected figures worked
# out by hand in tests/sim/notes.md), its three formats and the report,
# history before and after --from, the ledger left untouched, error paths.
. "$(dirname "$0")/lib.sh"
S="$SRC/tests/sim"
P="$S/ladder.dun"
L="$WORK/sim.ledger"
"$DUNLIN" ledger init "$L" >/dev/null
"$DUNLIN" ledger import "$L" --customers "$S/customers.csv" --invoices "$S/invoices.csv" \
  --payments "$S/payments.csv" >/dev/null
cp "$L" "$WORK/before.ledger"
RANGE="--from 2026-03-02 --to 2026-03-21"

# ---- text --------------------------------------------------------------------
run_dunlin simulate "$P" --ledger "$L" $RANGE
expect_status 0 "simulate succeeds"
expect_out "20 days, 4 customers" "days and customers"
expect_out "20 actions: 17 scheduled, 3 deferred, 0 skipped" "totals by status"
expect_out "  email               10         2         0" "emails: 10 scheduled, 2 deferred"
expect_out "  call                 4         1         0" "calls: 4 scheduled, 1 deferred"
expect_out "  task                 3         0         0" "tasks: once per 7 days over 20 days"
expect_out "  friendly                     5" "friendly tone"
expect_out "  firm                         5" "firm tone"
expect_out "  final                        4" "final tone"
expect_out "  everyone                    17" "by segment"
expect_out "  2026-03-02        9        0        1       10" "week 1"
expect_out "  2026-03-09        1        4        1        6" "week 2: Sunday's email goes out Monday"
expect_out "  2026-03-16        0        0        1        1" "week 3"
expect_out "average over the 2 days with calls" "workload denominator"
expect_out "  unassigned                 4     2.00  2026-03-11 (3) 2026-03-13 (1)" "workload row"
expect_out "reached the last escalation step or escalated: 4" "final-step count"
expect_out "  2026-03-13  C3           I3b          dunning 10d" "the deferred call reaches the last step two days later"
CHECKS=$((CHECKS + 1)); grep -q "C2 .*dunning 10d" "$WORK/out" && fail "C2 paid on day 8 never reaches 10d"

# ---- json ----------------------------------------------------------------------
run_dunlin simulate "$P" --ledger "$L" $RANGE --format json
expect_status 0 "json"
J="$WORK/sum.json"
cp "$WORK/out" "$J"
expect_eq "$(jq -c '[.days, .actions, .scheduled, .deferred, .skipped, .errors]' "$J")" "[20,20,17,3,0,0]" "json totals"
expect_eq "$(jq -c '[.by_kind.email.scheduled, .by_kind.email.deferred, .by_kind.call.deferred, .by_kind.letter.scheduled]' "$J")" "[10,2,1,0]" "json by kind"
expect_eq "$(jq -c '.deferred_contacts' "$J")" "3" "three contacts held back once each (notes.md: 03-03, 03-07, 03-12)"
expect_eq "$(jq -c '.by_tone' "$J")" '{"friendly":5,"firm":5,"final":4}' "json by tone, ladder order"
expect_eq "$(jq -c '[.by_week[] | [.week, .total]]' "$J")" '[["2026-03-02",10],["2026-03-09",6],["2026-03-16",1]]' "json weeks"
expect_eq "$(jq -c '.workload[0] | [.assignee, .calls, .average_per_day, .busiest[0].day, .busiest[0].calls, .per_day["2026-03-13"]]' "$J")" \
  '["unassigned",4,2,"2026-03-11",3,1]' "json workload"
expect_eq "$(jq -c '[.final_steps[] | .as_of + " " + .invoice]' "$J")" \
  '["2026-03-11 I1","2026-03-11 I3a","2026-03-11 I4","2026-03-13 I3b"]' "json final steps"

# ---- jsonl ---------------------------------------------------------------------
run_dunlin simulate "$P" --ledger "$L" $RANGE --format jsonl
expect_status 0 "jsonl"
J="$WORK/acts.jsonl"
cp "$WORK/out" "$J"
expect_eq "$(grep -c . "$J")" 20 "one line per action"
expect_eq "$(jq -r '.as_of' "$J" | sort -c && echo sorted)" "sorted" "lines ordered by day"
expect_eq "$(head -n 1 "$J" | jq -r 'keys_unsorted[0:3] | join(",")')" "as_of,key,customer" "as_of leads the run record"
expect_eq "$(jq -r 'select(.customer == "C3" and .status == "deferred") | .as_of + " " + .kind + " " + .step' "$J" | tr '\n' ';')" \
  "2026-03-03 email 1d;2026-03-07 email 5d;2026-03-12 call 10d;" "C3's capped contacts are deferred"
expect_eq "$(jq -r 'select(.customer == "C3" and .as_of == "2026-03-08") | .scheduled_at + " " + .status' "$J")" \
  "2026-03-09T09:00:00+00:00 scheduled" "a deferred contact goes out the next day (Sunday: Monday)"
expect_eq "$(jq -r 'select(.customer == "C2") | .as_of' "$J" | tr '\n' ' ')" "2026-03-02 2026-03-06 " "C2 stops after its payment"
expect_eq "$(jq -r 'select(.kind == "task") | .as_of' "$J" | tr '\n' ' ')" "2026-03-02 2026-03-09 2026-03-16 " "once per 7 days across days"
expect_eq "$(jq -r 'select(.customer == "C1") | .as_of + ":" + .step' "$J" | tr '\n' ' ')" "2026-03-02:1d 2026-03-06:5d 2026-03-11:10d " "C1 walks the ladder"
run_dunlin simulate "$P" --ledger "$L" $RANGE --format jsonl
expect_eq "$(cat "$WORK/out")" "$(cat "$J")" "two simulations are byte-identical"

# ---- the real ledger is only read ----------------------------------------------------
CHECKS=$((CHECKS + 1)); cmp -s "$L" "$WORK/before.ledger" || fail "the ledger file is unchanged"
expect_eq "$(sqlite3 "$L" 'SELECT count(*) FROM actions') $(sqlite3 "$L" 'SELECT count(*) FROM runs')" "0 0" "no actions or runs written"

# ---- bytecode gives the same --------------------------------------------------------------
"$DUNLIN" compile "$P" -o "$WORK/p.dbc" 2>/dev/null
run_dunlin simulate "$WORK/p.dbc" --ledger "$L" $RANGE --format jsonl
expect_eq "$(cat "$WORK/out")" "$(cat "$J")" "bytecode simulates the same"

# ---- history ------------------------------------------------------------------------------
H="$WORK/hist.ledger"
cp "$WORK/before.ledger" "$H"
"$DUNLIN" run "$P" --ledger "$H" --as-of 2026-03-02 --commit >/dev/null 2>&1
cp "$H" "$WORK/hist.before"
run_dunlin simulate "$P" --ledger "$H" --from 2026-03-03 --to 2026-03-21 --format json
expect_eq "$(jq -c '[.scheduled, .deferred, .actions]' "$WORK/out")" "[12,3,15]" "actions committed before --from are history"
CHECKS=$((CHECKS + 1)); cmp -s "$H" "$WORK/hist.before" || fail "a ledger with history is unchanged too"
"$DUNLIN" run "$P" --ledger "$H" --as-of 2026-03-04 --commit >/dev/null 2>&1
run_dunlin simulate "$P" --ledger "$H" --from 2026-03-03 --to 2026-03-21 --format json
expect_eq "$(jq -c '[.scheduled, .deferred, .actions]' "$WORK/out")" "[12,3,15]" "a run committed on or after --from is replayed, not history"
run_dunlin simulate "$P" --ledger "$H" $RANGE --format json
expect_eq "$(jq -c 'del(.errors)' "$WORK/out")" "$(jq -c 'del(.errors)' "$WORK/sum.json")" "from 03-02 every committed run is replayed"

# ---- report ---------------------------------------------------------------------------------
run_dunlin simulate "$P" --ledger "$L" $RANGE --report "$WORK/r.html"
expect_status 0 "report"
CHECKS=$((CHECKS + 1)); grep -q "<svg" "$WORK/r.html" || fail "the report has charts"
CHECKS=$((CHECKS + 1)); grep -q "Simulation of sim-ladder" "$WORK/r.html" || fail "the report names the policy"
CHECKS=$((CHECKS + 1)); grep -q "unassigned" "$WORK/r.html" || fail "the report shows the workload"
CHECKS=$((CHECKS + 1)); grep -qi "<script" "$WORK/r.html" && fail "the report has no script"
CHECKS=$((CHECKS + 1)); grep -qF "2026-03-11 (3)" "$WORK/r.html" || fail "the report shows the busiest day"
CHECKS=$((CHECKS + 1)); grep -qF "<td>I3b</td>" "$WORK/r.html" || fail "the report lists the invoices at the last step"
run_dunlin simulate "$P" --ledger "$L" $RANGE --report "$WORK/no/such/dir/r.html"
expect_status 1 "an unwritable report path"
expect_err "cannot write the report" "says so"

# ---- a single day equals run ----------------------------------------------------------------
run_dunlin simulate "$P" --ledger "$L" --from 2026-03-06 --to 2026-03-06 --format jsonl
one=$(jq -c 'del(.as_of)' "$WORK/out")
run_dunlin run "$P" --ledger "$L" --as-of 2026-03-06
expect_eq "$one" "$(jq -c . "$WORK/out")" "one simulated day without history is that day's run"

# ---- a demo ledger ----------------------------------------------------------------------------
DL="$WORK/demo.ledger"
"$DUNLIN" ledger demo "$DL" --customers 40 --seed 5 --today 2026-11-25 >/dev/null
run_dunlin simulate "$SRC/policies/b2b_net30.dun" --ledger "$DL" --from 2026-10-01 --to 2026-10-14 --format jsonl
CHECKS=$((CHECKS + 1)); [ "$STATUS" -le 1 ] || fail "simulate completes on a demo ledger"
expect_eq "$(jq -r 'select(.as_of < "2026-10-01" or .as_of > "2026-10-14") | .key' "$WORK/out" | wc -l)" 0 "every as_of within the range"
n_jsonl=$(grep -c . "$WORK/out")
cp "$WORK/out" "$WORK/demo.jsonl"
# Huge pages (cli/huge_pages.c re-executes simulate with a malloc tunable):
# turned off, or with other tunables already set, the same actions.
DUNLIN_HUGE_PAGES=0 run_dunlin simulate "$SRC/policies/b2b_net30.dun" --ledger "$DL" --from 2026-10-01 --to 2026-10-14 --format jsonl
cmp -s "$WORK/out" "$WORK/demo.jsonl"; expect_eq "$?" 0 "DUNLIN_HUGE_PAGES=0: the same actions"
GLIBC_TUNABLES=glibc.malloc.tcache_count=0 run_dunlin simulate "$SRC/policies/b2b_net30.dun" --ledger "$DL" --from 2026-10-01 --to 2026-10-14 --format jsonl
cmp -s "$WORK/out" "$WORK/demo.jsonl"; expect_eq "$?" 0 "another tunable set: the same actions"
run_dunlin simulate "$SRC/policies/b2b_net30.dun" --ledger "$DL" --from 2026-10-01 --to 2026-10-14 --format json
distinct_deferred=$(jq -r 'select(.status == "deferred") | .key' "$WORK/demo.jsonl" | sort -u | wc -l)
deferred_records=$(jq -r 'select(.status == "deferred") | .key' "$WORK/demo.jsonl" | wc -l)
expect_eq "$(jq '.actions' "$WORK/out")" "$n_jsonl" "the summary counts every printed action"
expect_eq "$(jq '.deferred_contacts' "$WORK/out")" "$distinct_deferred" "deferred contacts are the distinct keys of the deferred records"
CHECKS=$((CHECKS + 1)); [ "$distinct_deferred" -lt "$deferred_records" ] || fail "the demo holds some contact back more than one day (else this check proves nothing)"
# The same when the ledger already holds deferred records of the policy
# (daily runs committed before the range): a contact deferred then and
# again in the range is one contact, though its key is not new to the
# outbox (simulate then counts keys in a set, not the outbox's new ones).
DP="$WORK/demo_prior.ledger"
cp "$DL" "$DP"
for d in 2026-09-28 2026-09-29 2026-09-30; do
  "$DUNLIN" run "$SRC/policies/b2b_net30.dun" --ledger "$DP" --as-of "$d" --commit >/dev/null 2>&1 || fail "committed run $d"
done
run_dunlin simulate "$SRC/policies/b2b_net30.dun" --ledger "$DP" --from 2026-10-01 --to 2026-10-14 --format jsonl
jq -r 'select(.status == "deferred") | .key' "$WORK/out" | sort -u >"$WORK/prior_keys"
run_dunlin simulate "$SRC/policies/b2b_net30.dun" --ledger "$DP" --from 2026-10-01 --to 2026-10-14 --format json
expect_eq "$(jq '.deferred_contacts' "$WORK/out")" "$(wc -l <"$WORK/prior_keys")" "with deferred records before the range: the distinct deferred keys"
sqlite3 "$DP" "SELECT key FROM actions WHERE status = 'deferred'" | sort -u >"$WORK/old_keys"
CHECKS=$((CHECKS + 1)); [ "$(comm -12 "$WORK/prior_keys" "$WORK/old_keys" | wc -l)" -gt 0 ] || fail "some contact deferred before the range is deferred again in it (else this check proves nothing)"

# ---- data errors: a EUR invoice without an fx rate, every day -------------------------------------
E="$WORK/fx.ledger"
cp "$WORK/before.ledger" "$E"
printf 'id,name,currency\nC9,Euro Co,EUR\n' >"$WORK/c9.csv"
printf 'id,customer_id,number,issue_date,due_date,currency,amount\nI9,C9,N9,2026-02-01,2026-03-01,EUR,100.00\n' >"$WORK/i9.csv"
"$DUNLIN" ledger import "$E" --customers "$WORK/c9.csv" --invoices "$WORK/i9.csv" >/dev/null
run_dunlin simulate "$P" --ledger "$E" --from 2026-03-02 --to 2026-03-04 --format json
expect_status 1 "data errors exit 1"
expect_err "error[E0501]" "the missing rate is reported"
expect_err "3 data errors over the simulated days" "once per day"
expect_eq "$(jq -c '[.errors, .customers]' "$WORK/out")" "[3,5]" "the summary still prints, counting them"
expect_eq "$(jq '.by_kind.email.scheduled' "$WORK/out")" 5 "the other customers are simulated (four 1d emails by 03-02, I3b's on 03-04)"

# ---- errors -----------------------------------------------------------------------------------
run_dunlin simulate "$P" --ledger "$L" --from 2026-02-30 --to 2026-03-21
expect_status 2 "a bad date"
expect_err "--from: '2026-02-30' is not a date" "names the option"
run_dunlin simulate "$P" --ledger "$L" --from 2026-03-21 --to 2026-03-02
expect_status 2 "--to before --from"
expect_err "--to 2026-03-02 is before --from 2026-03-21" "says so"
run_dunlin simulate "$P" --ledger "$L" --from 2026-03-02
expect_status 2 "--to is required"
run_dunlin simulate "$P" --ledger "$L" --from 2000-01-01 --to 2026-01-01
expect_status 2 "a range of decades is refused"
run_dunlin simulate "$P" --ledger "$L" $RANGE --format table
expect_status 2 "an unknown format"
run_dunlin simulate "$P" $RANGE
expect_status 2 "--ledger is required"
run_dunlin simulate "$P" --ledger "$WORK/missing.ledger" $RANGE
expect_status 1 "a missing ledger"
expect_err "missing.ledger" "names it"
CHECKS=$((CHECKS + 1)); [ -e "$WORK/missing.ledger" ] && fail "no ledger is created"
printf 'policy "bad" version 1\ncurrency USD\nsegment s when customer.balance > 5 USD\n' >"$WORK/bad.dun"
run_dunlin simulate "$WORK/bad.dun" --ledger "$L" $RANGE
expect_status 1 "a policy with errors"
expect_err "error[" "its diagnostics"
expect_eq "$OUT" "" "nothing simulated"
run_dunlin simulate --help
expect_status 0 "--help"
expect_out "usage: dunlin simulate" "usage"

if [ -n "${DUNLIN_FFI_FIXTURE:-}" ]; then
  LIB=$(basename "$DUNLIN_FFI_FIXTURE")
  cat >"$WORK/ffi.dun" <<DUN
policy "ffi" version 1
currency USD
extern fn risk_bonus(string, money) -> number from "$LIB"
segment vip when risk_bonus(customer.tier, customer.total_open) >= 0.5
segment rest otherwise
escalation e for invoice in vip, rest { step 1 day: email tone friendly }
DUN
  run_dunlin simulate "$WORK/ffi.dun" --ledger "$L" $RANGE
  expect_status 1 "extern fn without --allow-ffi"
  expect_err "error[E0313]" "not allowed"
  run_dunlin simulate "$WORK/ffi.dun" --ledger "$L" $RANGE --allow-ffi "$DUNLIN_FFI_FIXTURE" --format json
  expect_status 0 "extern fn with --allow-ffi"
  expect_eq "$(jq '.by_kind.email.scheduled' "$WORK/out")" 5 "one 1d email per invoice"
fi

finish
