#!/usr/bin/env bash
# Several days in a row with --commit: the outbox is the history of the
# next day. No step goes out twice, a deferred contact goes out on a later
# day, caps hold over the days, one `runs` row per committed day, and
# committing a day again adds nothing. Expected rows worked out by hand:
#
# C1/I1 due 2026-03-01, 1200.00; caps 1 per 3 days, 3 per 10 days.
#   03-10 dpd 9: step 7d email + sms neutral; 1d skipped. Email admitted
#         (no priority, same tone: email before sms), sms deferred.
#   03-11, 03-12: 7d emitted (the email), the deferred sms is retried and
#         deferred again (email of 03-10 in the 3-day window); same key as
#         the first deferred row, so nothing new is stored.
#   03-13: window 03-11..03-13 empty: sms scheduled.
#   03-14, 03-15: nothing.
#   03-16 dpd 15: step 15d call (priority 1200) + email firm. 3-day window
#         03-14..03-16 empty, 10-day window 03-07..03-16 holds 2: call
#         admitted, email deferred (1 per 3).
#   03-17, 03-18: email retried, deferred (call of 03-16).
#   03-19: 3-day window empty, 10-day window 03-10..03-19 holds 3 (email,
#         sms, call): deferred by "3 per 10 days".
#   03-20: 10-day window 03-11..03-20 holds 2: email scheduled.
#   03-21: nothing.
# C2/I2 is paid before the first day: never an action.
# C3/I3 due 2026-03-09, 300.00; P3 failed on 03-10 (an event).
#   03-10 dpd 1: step 1d email friendly; payment.failed sms (no tone:
#         friendly). Same tone, no priority: the email is admitted, the
#         event's sms deferred.
#   03-11, 03-12: the event's sms retried, deferred (email of 03-10).
#   03-13: the sms goes out (rule "on payment.failed", step P3).
#   03-16 dpd 7: 7d email + sms neutral; 10-day window holds 2 (03-10,
#         03-13), room for one: email admitted (email before sms), the sms
#         deferred by 1 per 3.
#   03-17, 03-18 deferred (1 per 3); 03-19 deferred by 3 per 10 (03-10,
#         03-13, 03-16); 03-20 the window 03-11..03-20 holds 2: sms out.
. "$(dirname "$0")/lib.sh"
L="$WORK/days.ledger"
P="$WORK/days.dun"
cat >"$P" <<'EOF'
policy "days" version 1
currency USD
timezone "America/New_York"
send_window 09:00 .. 17:00

segment everyone otherwise

escalation dunning for invoice in everyone {
  step 1 day:   email tone friendly
  step 7 days:  email tone neutral, sms
  step 15 days: email tone firm, call priority invoice.balance
}

on payment.failed for invoice do sms template "payment-failed"

limit contacts per customer: 1 per 3 days, 3 per 10 days
EOF
cat >"$WORK/c.csv" <<'EOF'
id,name,tier,country,timezone,language,currency
C1,Daily Co,standard,US,America/New_York,en,USD
C2,Paid Co,standard,US,America/New_York,en,USD
C3,Event Co,standard,US,America/New_York,en,USD
EOF
cat >"$WORK/i.csv" <<'EOF'
id,customer_id,number,issue_date,due_date,currency,amount
I1,C1,N1,2026-01-30,2026-03-01,USD,1200.00
I2,C2,N2,2026-01-30,2026-03-01,USD,50.00
I3,C3,N3,2026-02-07,2026-03-09,USD,300.00
EOF
cat >"$WORK/p.csv" <<'EOF'
id,customer_id,invoice_id,date,amount,currency,status
P2,C2,I2,2026-02-27,50.00,USD,settled
P3,C3,I3,2026-03-10,300.00,USD,failed
EOF
"$DUNLIN" ledger init "$L" >/dev/null
"$DUNLIN" ledger import "$L" --customers "$WORK/c.csv" --invoices "$WORK/i.csv" --payments "$WORK/p.csv" >/dev/null

q() { sqlite3 "$L" "$1"; }
# day D: commit and keep the printed actions (without keys) in $OUT
day() {
  run_dunlin run "$P" --ledger "$L" --as-of "$1" --commit
  expect_status 0 "commit $1"
}
lines() { printf '%s' "$OUT" | grep -c '"customer":"C1"'; }
# expect_c3 PATTERN WHAT: one of the day's C3 actions contains PATTERN
expect_c3() {
  CHECKS=$((CHECKS + 1))
  printf '%s\n' "$OUT" | grep '"customer":"C3"' | grep -qF -- "$1" || fail "$2: no C3 action with '$1'"
}

day 2026-03-10
expect_eq "$(lines)" 3 "03-10: email, deferred sms, skipped 1d"
expect_out '"kind":"sms","tone":"neutral","template":"sms-neutral"' "03-10 sms"
expect_c3 '"kind":"email","tone":"friendly","template":"email-friendly","scheduled_at":"2026-03-10T09:00:00-04:00","rule":"dunning","step":"1d","priority":null,"assignee":null,"status":"scheduled"' "03-10 C3 email"
expect_c3 '"kind":"sms","tone":"friendly","template":"payment-failed","scheduled_at":"2026-03-10T09:00:00-04:00","rule":"on payment.failed","step":"P3","priority":null,"assignee":null,"status":"deferred"' "03-10 C3 event sms deferred"
expect_eq "$(q "SELECT kind||'/'||step||'/'||status FROM actions WHERE customer_id='C1' ORDER BY kind, status")" \
  "email/7d/scheduled
email/1d/skipped
sms/7d/deferred" "03-10 outbox"
expect_eq "$(q 'SELECT count(*) FROM runs')" 1 "03-10 runs row"

day 2026-03-11
expect_eq "$(lines)" 1 "03-11: only the retried sms"
expect_out '"kind":"sms"' "03-11 sms retried"
expect_out '"status":"deferred"' "03-11 sms deferred again"
expect_out 'deferred: limit 1 per 3 days reached' "03-11 by the 3-day cap"
expect_c3 '"rule":"on payment.failed","step":"P3","priority":null,"assignee":null,"status":"deferred","reason":"deferred: limit 1 per 3 days reached; on payment.failed P3 (deferred before)"' "03-11 C3 event sms retried, deferred"
expect_eq "$(q "SELECT count(*) FROM actions WHERE customer_id='C1'")" 3 "03-11 stores no second deferred row"
expect_eq "$(q "SELECT count(*) FROM actions WHERE customer_id='C3'")" 2 "03-11 C3 stores no second deferred row"

day 2026-03-12
expect_out '"status":"deferred"' "03-12 sms still deferred"
expect_eq "$(q 'SELECT count(*) FROM actions')" 5 "03-12 nothing new"

day 2026-03-13
expect_eq "$(lines)" 1 "03-13: the sms"
expect_out '"kind":"sms","tone":"neutral","template":"sms-neutral","scheduled_at":"2026-03-13T09:00:00-04:00","rule":"dunning","step":"7d"' "03-13 sms"
expect_out '"status":"scheduled"' "03-13 sms goes out"
expect_eq "$(q "SELECT count(*) FROM actions WHERE customer_id='C1' AND kind='sms' AND status='scheduled' AND as_of='2026-03-13'")" 1 "03-13 sms stored"
expect_c3 '"kind":"sms","tone":"friendly","template":"payment-failed","scheduled_at":"2026-03-13T09:00:00-04:00","rule":"on payment.failed","step":"P3","priority":null,"assignee":null,"status":"scheduled","reason":"on payment.failed P3 (deferred before)"' "03-13 C3 event sms goes out"

day 2026-03-14
expect_eq "$(lines)" 0 "03-14: nothing (7d fully out)"
expect_eq "$OUT" "" "03-14: nothing for anyone"
day 2026-03-15
expect_eq "$(lines)" 0 "03-15: nothing"

day 2026-03-16
expect_eq "$(lines)" 2 "03-16: call and email of 15d"
expect_out '"kind":"call","tone":"firm","template":"call-firm","scheduled_at":"2026-03-16T09:00:00-04:00","rule":"dunning","step":"15d","priority":1200.0,"assignee":null,"status":"scheduled"' "03-16 call admitted"
expect_out '"kind":"email","tone":"firm","template":"email-firm","scheduled_at":"2026-03-16T09:00:00-04:00","rule":"dunning","step":"15d","priority":null,"assignee":null,"status":"deferred","reason":"deferred: limit 1 per 3 days reached;' "03-16 email deferred"
expect_c3 '"kind":"email","tone":"neutral","template":"email-neutral","scheduled_at":"2026-03-16T09:00:00-04:00","rule":"dunning","step":"7d","priority":null,"assignee":null,"status":"scheduled"' "03-16 C3 7d email"
expect_c3 '"kind":"sms","tone":"neutral","template":"sms-neutral","scheduled_at":"2026-03-16T09:00:00-04:00","rule":"dunning","step":"7d","priority":null,"assignee":null,"status":"deferred","reason":"deferred: limit 1 per 3 days reached;' "03-16 C3 7d sms deferred"

day 2026-03-17
expect_eq "$(lines)" 1 "03-17: only the retried email"
expect_out '"kind":"email","tone":"firm"' "03-17 email retried"
expect_out 'deferred: limit 1 per 3 days reached' "03-17 deferred"
day 2026-03-18
expect_out 'deferred: limit 1 per 3 days reached' "03-18 deferred"

day 2026-03-19
expect_eq "$(lines)" 1 "03-19: the email"
expect_out 'deferred: limit 3 per 10 days reached' "03-19 deferred by the 10-day cap"
expect_c3 '"kind":"sms","tone":"neutral","template":"sms-neutral","scheduled_at":"2026-03-19T09:00:00-04:00","rule":"dunning","step":"7d","priority":null,"assignee":null,"status":"deferred","reason":"deferred: limit 3 per 10 days reached;' "03-19 C3 sms by the 10-day cap"

day 2026-03-20
expect_eq "$(lines)" 1 "03-20: the email"
expect_out '"kind":"email","tone":"firm","template":"email-firm","scheduled_at":"2026-03-20T09:00:00-04:00","rule":"dunning","step":"15d","priority":null,"assignee":null,"status":"scheduled"' "03-20 email goes out"
expect_c3 '"kind":"sms","tone":"neutral","template":"sms-neutral","scheduled_at":"2026-03-20T09:00:00-04:00","rule":"dunning","step":"7d","priority":null,"assignee":null,"status":"scheduled"' "03-20 C3 sms goes out"
before=$(q 'SELECT count(*) FROM actions')
day 2026-03-21
expect_eq "$OUT" "" "03-21: nothing"

# The outbox over the days.
expect_eq "$(q "SELECT as_of||' '||kind||' '||step FROM actions WHERE customer_id='C3' AND status='scheduled' ORDER BY as_of, kind")" \
  "2026-03-10 email 1d
2026-03-13 sms P3
2026-03-16 email 7d
2026-03-20 sms 7d" "C3 contacts that went out"
expect_eq "$(q "SELECT count(*) FROM actions WHERE customer_id='C3' AND status='deferred'")" 2 "C3: one deferred row per deferred contact"
expect_eq "$(q "SELECT as_of||' '||kind||' '||step FROM actions WHERE customer_id='C1' AND status='scheduled' ORDER BY as_of, kind")" \
  "2026-03-10 email 7d
2026-03-13 sms 7d
2026-03-16 call 15d
2026-03-20 email 15d" "contacts that went out, one per step and channel"
expect_eq "$(q "SELECT count(*) FROM (SELECT step, kind FROM actions WHERE status='scheduled' GROUP BY step, kind, invoice_ids HAVING count(*) > 1)")" 0 "no step sent twice"
expect_eq "$(q "SELECT count(*) FROM actions WHERE customer_id='C1' AND status='deferred'")" 2 "one deferred row per deferred contact"
expect_eq "$(q "SELECT count(*) FROM actions WHERE customer_id='C2'")" 0 "a paid customer gets nothing"
# Caps over the days: for every contact that went out, the contacts out in
# its 3-day and 10-day windows (itself included).
cap3=$(q "SELECT max(n) FROM (SELECT (SELECT count(*) FROM actions b WHERE b.status='scheduled' AND b.kind IN ('email','sms','call','letter') AND b.customer_id=a.customer_id AND b.as_of BETWEEN date(a.as_of,'-2 days') AND a.as_of) AS n FROM actions a WHERE a.status='scheduled' AND a.kind IN ('email','sms','call','letter'))")
cap10=$(q "SELECT max(n) FROM (SELECT (SELECT count(*) FROM actions b WHERE b.status='scheduled' AND b.kind IN ('email','sms','call','letter') AND b.customer_id=a.customer_id AND b.as_of BETWEEN date(a.as_of,'-9 days') AND a.as_of) AS n FROM actions a WHERE a.status='scheduled' AND a.kind IN ('email','sms','call','letter'))")
expect_eq "$cap3" 1 "never more than 1 contact in 3 days"
expect_eq "$cap10" 3 "never more than 3 contacts in 10 days"
expect_eq "$(q 'SELECT count(*) FROM runs')" 12 "one runs row per committed day"
expect_eq "$(q 'SELECT count(DISTINCT as_of) FROM runs')" 12 "runs rows are the 12 days"
expect_eq "$(q "SELECT emitted FROM runs WHERE as_of='2026-03-16'")" 4 "runs.emitted counts the day's actions (C1 2, C3 2)"

# Committing a day again adds nothing: no action, no runs row.
run_dunlin run "$P" --ledger "$L" --as-of 2026-03-20 --commit
expect_status 0 "recommit 03-20"
expect_out '"status":"scheduled"' "the re-run prints the same actions"
expect_eq "$(q 'SELECT count(*) FROM actions')" "$before" "recommitting 03-20 adds no action"
expect_eq "$(q 'SELECT count(*) FROM runs')" 12 "recommitting 03-20 adds no runs row"
finish
