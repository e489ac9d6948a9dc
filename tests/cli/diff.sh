#!/usr/bin/env bash
# dunlin diff: tests/sim/ladder.dun against ladder_v2.dun (5d email firm ->
# neutral, a 15d letter added, another policy name); the counts are worked
# out by hand in tests/sim/notes.md. Formats, --fail-on-change, errors.
. "$(dirname "$0")/lib.sh"
S="$SRC/tests/sim"
OLD="$S/ladder.dun"
NEW="$S/ladder_v2.dun"
L="$WORK/sim.ledger"
"$DUNLIN" ledger init "$L" >/dev/null
"$DUNLIN" ledger import "$L" --customers "$S/customers.csv" --invoices "$S/invoices.csv" \
  --payments "$S/payments.csv" >/dev/null
cp "$L" "$WORK/before.ledger"
RANGE="--from 2026-03-02 --to 2026-03-21"

# ---- text ----------------------------------------------------------------------
run_dunlin diff "$OLD" "$NEW" --ledger "$L" $RANGE
expect_status 0 "changes exit 0 without --fail-on-change"
expect_out "diff sim-ladder v1 -> sim-ladder-v2 v2" "names both policies"
expect_out "  added            5" "5 letters added"
expect_out "  removed          0" "nothing removed"
expect_out "  changed          6" "6 five-day emails changed"
expect_out "  unchanged       14" "14 unchanged"
expect_out "  letter                          0         4        +4" "letters before -> after"
expect_out "  call                            4         4        +0" "calls unchanged"
expect_out "  unassigned                      4         4        +0" "workload unchanged"
expect_out "customers with changes: 4" "four customers change"
expect_out "  C3                         3       0       3" "C3 changes most"
expect_out "~ 2026-03-06 C1 email dunning 5d [I1] tone neutral (scheduled): tone firm -> neutral; template email-firm -> email-neutral" "an example change"
expect_out "+ 2026-03-17 C3 letter dunning 15d [I3b] tone final (deferred)" "an added deferred letter"

# ---- json ----------------------------------------------------------------------
run_dunlin diff "$OLD" "$NEW" --ledger "$L" $RANGE --format json
expect_status 0 "json"
J="$WORK/diff.json"
cp "$WORK/out" "$J"
expect_eq "$(jq -c '[.added, .removed, .changed, .unchanged]' "$J")" "[5,0,6,14]" "json counts"
expect_eq "$(jq -c '[(.added_actions | length), (.removed_actions | length), (.changed_actions | length)]' "$J")" "[5,0,6]" "json lists"
expect_eq "$(jq -r '.changed_actions[] | .before.tone + ">" + .after.tone' "$J" | sort -u)" "firm>neutral" "every change is firm -> neutral"
expect_eq "$(jq -r '.changed_actions[0] | [.before.as_of, .before.customer, .before.step, .after.template] | join(" ")' "$J")" \
  "2026-03-06 C1 5d email-neutral" "changes carry both records"
CHECKS=$((CHECKS + 1)); [ "$(jq -r '.changed_actions[0] | .before.key != .after.key' "$J")" = true ] || fail "keys differ, identity matches"
expect_eq "$(jq -r '[.added_actions[] | .as_of + " " + .customer + " " + .status] | join(";")' "$J")" \
  "2026-03-16 C1 scheduled;2026-03-16 C3 scheduled;2026-03-16 C4 scheduled;2026-03-17 C3 deferred;2026-03-18 C3 scheduled" "added letters"
expect_eq "$(jq -c '.by_kind.letter' "$J")" '{"before":0,"after":4,"delta":4}' "per-kind delta"
expect_eq "$(jq -c '.workload.unassigned' "$J")" '{"before":4,"after":4,"delta":0}' "workload delta"
expect_eq "$(jq -c '[.by_customer[] | [.customer, .added, .changed]]' "$J")" '[["C3",3,3],["C1",1,1],["C4",1,1],["C2",0,1]]' "per customer, most changes first"
expect_eq "$(jq -c '[.old.policy, .new.policy, .new.version]' "$J")" '["sim-ladder","sim-ladder-v2",2]' "both policies named"

# ---- markdown --------------------------------------------------------------------
run_dunlin diff "$OLD" "$NEW" --ledger "$L" $RANGE --format markdown
expect_status 0 "markdown"
expect_out "| added | 5 |" "markdown: added"
expect_out "| changed | 6 |" "markdown: changed"
expect_out "| removed | 0 |" "markdown: removed"
expect_out "| unchanged | 14 |" "markdown: unchanged"
expect_out "| letter | 0 | 4 | +4 |" "markdown: per kind"
expect_out "<details><summary>All 6 changed actions</summary>" "long lists are collapsed"
expect_out "| 2026-03-17 | C3 | letter | dunning | 15d | I3b | deferred | final |" "an added deferred letter, with its status"
expect_out "| 2026-03-08 | C3 | email | dunning | 5d | I3b | scheduled | tone firm → neutral; template email-firm → email-neutral |" "the sixth change is in the details"

# ---- --fail-on-change -----------------------------------------------------------------
run_dunlin diff "$OLD" "$NEW" --ledger "$L" $RANGE --fail-on-change --format json
expect_status 1 "--fail-on-change with changes"
expect_eq "$(jq '.changed' "$WORK/out")" 6 "still prints the report"
run_dunlin diff "$OLD" "$OLD" --ledger "$L" $RANGE --fail-on-change --format json
expect_status 0 "--fail-on-change without changes"
expect_eq "$(jq -c '[.added, .removed, .changed, .unchanged]' "$WORK/out")" "[0,0,0,20]" "a policy against itself"
run_dunlin diff "$OLD" "$OLD" --ledger "$L" $RANGE --format markdown
expect_out "No action changes." "markdown says nothing changed"
# Only the tone: the step added in v2 is outside a range that ends 03-15.
run_dunlin diff "$OLD" "$NEW" --ledger "$L" --from 2026-03-02 --to 2026-03-15 --format json
expect_eq "$(jq -c '[.added, .removed, .changed, .unchanged]' "$WORK/out")" "[0,0,6,13]" "a range before the new step (the 03-16 task is outside)"

# Removed is added the other way round.
run_dunlin diff "$NEW" "$OLD" --ledger "$L" $RANGE --format json
expect_eq "$(jq -c '[.added, .removed, .changed]' "$WORK/out")" "[0,5,6]" "the reverse diff removes the letters"

CHECKS=$((CHECKS + 1)); cmp -s "$L" "$WORK/before.ledger" || fail "the ledger file is unchanged"

# ---- errors -----------------------------------------------------------------------------
printf 'policy "bad" version 1\ncurrency USD\nsegment s when customer.balance > 5 USD\n' >"$WORK/bad.dun"
printf 'policy "worse" version 1\ncurrency USD\nsegment s when nonsense\n' >"$WORK/worse.dun"
run_dunlin diff "$WORK/bad.dun" "$WORK/worse.dun" --ledger "$L" $RANGE
expect_status 1 "policies with errors"
expect_err "bad.dun" "the old policy's diagnostics"
expect_err "worse.dun" "and the new one's, in one go"
expect_eq "$OUT" "" "nothing compared"
run_dunlin diff "$OLD" "$WORK/bad.dun" --ledger "$L" $RANGE --fail-on-change
expect_status 1 "a new policy with errors"
run_dunlin diff "$OLD" "$NEW" --ledger "$WORK/missing.ledger" $RANGE
expect_status 1 "a missing ledger"
run_dunlin diff "$OLD" "$NEW" --ledger "$L" --from 2026-03-21 --to 2026-03-02
expect_status 2 "--to before --from"
run_dunlin diff "$OLD" "$NEW" --ledger "$L" --from 2026-3-2 --to 2026-03-21
expect_status 2 "a bad date"
run_dunlin diff "$OLD" --ledger "$L" $RANGE
expect_status 2 "two policies are needed"
run_dunlin diff "$OLD" "$NEW" --ledger "$L" $RANGE --format html
expect_status 2 "an unknown format"
run_dunlin diff --help
expect_status 0 "--help"
expect_out "--fail-on-change" "documents the flag"

finish
