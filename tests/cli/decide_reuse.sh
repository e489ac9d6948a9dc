#!/usr/bin/env bash
# dunlin decide keeps, per decider, the policy's built-in calendar and its
# scratch ledger's prepared statements across requests (docs/decide.md);
# each request must still see only its own rows.
#
# Worked by hand: the policy's calendar is US. On Wednesday 2026-11-25
# invoice I1 (due 2026-11-10) is 15 days past due: step `15 days`, sent at
# 09:00 New York time (EST, -05:00) on the first business day on or after
# the run date. With a request `holidays` row for US 2026-11-25 that day
# is off, Thursday 2026-11-26 is Thanksgiving (fourth Thursday of
# November, from the built-in rules), so the actions go to Friday 27. A
# holiday of another calendar (GB) changes nothing. The holiday of one
# request must not leak into the next one on the same decider.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/p.dun" <<'DUN'
policy "decide-reuse" version 1
currency USD
calendar "US"
timezone "America/New_York"
send_window 09:00 .. 17:00
segment standard otherwise
escalation dunning for invoice in standard {
  step 15 days: email tone firm
}
DUN
BASE='"as_of":"2026-11-25","customer":{"id":"C1","name":"Acme","tier":"standard","currency":"USD"},"invoices":[{"id":"I1","number":"1001","issue_date":"2026-10-11","due_date":"2026-11-10","currency":"USD","amount":"1200.00"}]'
PLAIN="{\"id\":\"plain\",$BASE}"
HOL="{\"id\":\"hol\",$BASE,\"holidays\":[{\"calendar\":\"US\",\"date\":\"2026-11-25\",\"name\":\"Company day\"}]}"
GB="{\"id\":\"gb\",$BASE,\"holidays\":[{\"calendar\":\"GB\",\"date\":\"2026-11-25\",\"name\":\"Elsewhere\"}]}"
printf '%s\n' "$PLAIN" "$HOL" "$PLAIN" "$GB" "$HOL" "$PLAIN" >"$WORK/req"

run_dunlin decide "$WORK/p.dun" <"$WORK/req"
expect_status 0 "decide on six requests"
expect_eq "$(wc -l <"$WORK/out" | tr -d ' ')" "6" "one line per request"
when() { sed -n "$1p" "$WORK/out" | grep -o '"scheduled_at":"[^"]*"' | sort -u | tr '\n' ' '; }
NOV25='"scheduled_at":"2026-11-25T09:00:00-05:00" '
NOV27='"scheduled_at":"2026-11-27T09:00:00-05:00" '
expect_eq "$(when 1)" "$NOV25" "no holiday: today"
expect_eq "$(when 2)" "$NOV27" "request holiday + Thanksgiving: Friday"
expect_eq "$(when 3)" "$NOV25" "the previous request's holiday is gone"
expect_eq "$(when 4)" "$NOV25" "a GB holiday does not move a US schedule"
expect_eq "$(when 5)" "$NOV27" "the holiday applies again"
expect_eq "$(when 6)" "$NOV25" "and is gone again"
# The same request on a warm decider answers the same bytes as on a cold one.
expect_eq "$(sed -n 1p "$WORK/out")" "$(sed -n 6p "$WORK/out")" "repeat request, same answer"
cp "$WORK/out" "$WORK/warm"
printf '%s\n' "$HOL" >"$WORK/one"
run_dunlin decide "$WORK/p.dun" <"$WORK/one"
expect_eq "$OUT" "$(sed -n 5p "$WORK/warm")" "holiday request: cold decider = warm decider"
finish
