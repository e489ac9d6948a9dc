#!/usr/bin/env bash
# ci_example.sh - examples/ci/dunlin-ci.sh as a policy repository uses it: a
# throwaway git repository with a policy and its test on `main`, a branch
# that moves the collector's call from day 15 to day 10, and a small ledger.
# The gate must pass and put the diff's counts (worked out by hand below)
# in the summary; a badly formatted file, a failing test and, with
# FAIL_ON_CHANGE=1, a real change must each fail it (exit 1).
#
# `dunlin fmt --check` is the first gate. Where this build's `dunlin fmt`
# does not work yet, the format case is skipped and the other cases run
# through a shim whose `fmt` accepts everything.
. "$(dirname "$0")/lib.sh"
SCRIPT="$SRC/examples/ci/dunlin-ci.sh"
command -v git >/dev/null || { echo "git not found: skipped"; echo "0 passed, 0 failed"; exit 0; }

if "$DUNLIN" fmt --help >/dev/null 2>&1; then
  HAVE_FMT=1
  DL=$DUNLIN
else
  HAVE_FMT=0
  echo "note: dunlin fmt is not available in this build: format case skipped"
  DL=$WORK/dunlin-shim
  printf '#!/bin/sh\n[ "$1" = fmt ] && exit 0\nexec "%s" "$@"\n' "$DUNLIN" >"$DL"
  chmod +x "$DL"
fi

# -- the ledger: A's invoice due 2026-03-01, B's due 2026-03-12, nothing paid
mkdir -p "$WORK/data"
printf 'id,name,tier\nA,Alpha,standard\nB,Beta,standard\n' >"$WORK/data/customers.csv"
printf 'id,customer_id,number,issue_date,due_date,currency,amount\nIA,A,1,2026-02-01,2026-03-01,USD,100.00\nIB,B,2,2026-02-10,2026-03-12,USD,50.00\n' >"$WORK/data/invoices.csv"
LEDGER=$WORK/data/snapshot.ledger
"$DUNLIN" ledger init "$LEDGER" >/dev/null &&
  "$DUNLIN" ledger import "$LEDGER" --customers "$WORK/data/customers.csv" --invoices "$WORK/data/invoices.csv" >/dev/null ||
  { echo "FAIL: ledger setup"; echo "0 passed, 1 failed"; exit 1; }

# -- the repository
R=$WORK/repo
mkdir -p "$R/policies"
cd "$R" || exit 2
git init -q -b main . 2>/dev/null || { git init -q . && git checkout -q -b main; }
git config user.name "CI Test"
git config user.email "ci@example.invalid"
git config commit.gpgsign false
cat >policies/reminders.dun <<'DUN'
policy "reminders" version 1

currency USD
timezone "UTC"
send_window 09:00 .. 17:00

tones standard: friendly < neutral < firm < final

segment everyone otherwise

escalation remind for invoice in everyone {
  step 1 day: email tone friendly
  step 15 days: call tone firm
}
DUN
cat >policies/reminders_test.dun <<'DUN'
test "one day late: a friendly email" {
  policy "reminders.dun"
  as_of 2026-03-02
  customer C1 { tier: "standard" }
  invoice I1 of C1 { amount: 100 USD, issued: 2026-02-01, due: 2026-03-01 }
  expect email to C1 tone friendly
  expect no call
}
DUN
sed 's/policy "reminders" version 1/policy "legacy" version 1/' policies/reminders.dun >policies/legacy.dun
[ "$HAVE_FMT" = 1 ] && "$DUNLIN" fmt policies/reminders.dun policies/legacy.dun policies/reminders_test.dun >/dev/null 2>&1
git add -A && git commit -q -m "policies and test"

# runs the gate in the repository; $STATUS, $WORK/out, $WORK/err, $WORK/summary
gate() {
  rm -f "$WORK/summary"
  env DUNLIN="$DL" BASE_REF=main DUNLIN_LEDGER="$LEDGER" DIFF_FROM=2026-03-01 DIFF_TO=2026-03-20 \
    SUMMARY="$WORK/summary" "$@" bash "$SCRIPT" >"$WORK/out" 2>"$WORK/err"
  STATUS=$?
  touch "$WORK/summary"
}
expect_summary() { CHECKS=$((CHECKS + 1)); grep -qF -- "$1" "$WORK/summary" || { fail "$2: summary lacks '$1'"; cat "$WORK/summary"; }; }

# -- on main itself: every gate passes, no policy changed
gate
expect_status 0 "main passes"
expect_out "dunlin-ci: all gates passed" "main passes message"
expect_summary "No policy changed against main" "nothing to compare on main"

# -- the branch: the call moves from day 15 to day 10.
# Old, 2026-03-01..20: A email 1d on 03-02, A call 15d on 03-16; B email 1d
# on 03-13 (B's 15 days fall on 03-27, after the window).
# New: A email on 03-02, A call 10d on 03-11; B email on 03-13 (B's 10 days
# fall on 03-22). So 1 added (call 10d), 1 removed (call 15d), 0 changed,
# 2 unchanged (both emails); calls 1 before, 1 after.
git checkout -q -b call-day-10
sed -i 's/step 15 days: call tone firm/step 10 days: call tone firm/; s/version 1/version 2/' policies/reminders.dun
git commit -q -am "call at day 10"
gate
expect_status 0 "a change passes by default"
expect_summary "### policies/reminders.dun" "summary names the policy"
expect_summary "reminders v1 → reminders v2" "summary names the versions"
expect_summary "| added | 1 |" "added count"
expect_summary "| removed | 1 |" "removed count"
expect_summary "| changed | 0 |" "changed count"
expect_summary "| unchanged | 2 |" "unchanged count"
expect_summary "| call | 1 | 1 | +0 |" "calls before and after"
expect_summary "| 2026-03-11 | A | call | remind | 10d | IA | scheduled | firm |" "the added call"
expect_summary "| 2026-03-16 | A | call | remind | 15d | IA | scheduled | firm |" "the removed call"

# -- FAIL_ON_CHANGE=1: the same change fails the job
gate FAIL_ON_CHANGE=1
expect_status 1 "FAIL_ON_CHANGE with a change"
expect_err "the change alters actions (FAIL_ON_CHANGE=1)" "fail on change message"
expect_out "policies/reminders.dun changes the actions" "names the changed policy"
expect_summary "| added | 1 |" "summary still written"

# -- a new policy next to it: reported as new, the gate still passes
sed 's/policy "reminders" version 2/policy "other" version 1/' policies/reminders.dun >policies/other.dun
[ "$HAVE_FMT" = 1 ] && "$DUNLIN" fmt policies/other.dun >/dev/null 2>&1
git add -A && git commit -q -m "another policy"
gate
expect_status 0 "new policy passes"
expect_summary "New policy (not on main): nothing to compare." "new policy noted"
git rm -q policies/other.dun && git commit -q -m "drop it again"

# -- a policy the change deletes: said so in the summary
rm policies/legacy.dun
gate
expect_status 0 "deleted policy passes"
expect_summary "Removed policy: on main, not in this change; its actions stop." "deleted policy noted"
git checkout -q -- policies/legacy.dun

# -- a failing test: exit 1
sed -i 's/expect email to C1 tone friendly/expect email to C1 tone firm/' policies/reminders_test.dun
gate
expect_status 1 "failing test fails the job"
expect_err "policy tests failed" "failing test message"
expect_out "policies/reminders_test.dun:6:" "failing test names file and line"
git checkout -q -- policies/reminders_test.dun

# -- a policy with a warning: check --werror fails the job
printf '\nlet unused_thing = 1\n' >>policies/reminders.dun
gate
expect_status 1 "warning fails the job"
expect_err "policy check failed" "check message"
git checkout -q -- policies/reminders.dun

# -- a badly formatted file: exit 1, the file named
if [ "$HAVE_FMT" = 1 ]; then
  sed -i 's/^currency USD$/currency    USD/' policies/reminders.dun
  gate
  expect_status 1 "unformatted file fails the job"
  CHECKS=$((CHECKS + 1))
  cat "$WORK/out" "$WORK/err" | grep -qF "policies/reminders.dun" || fail "the unformatted file is named"
  expect_err "files are not formatted" "format message"
  git checkout -q -- policies/reminders.dun
fi

# -- a BASE_REF that does not exist: a clear error, not a silent pass
gate BASE_REF=origin/nope
expect_status 1 "unknown base"
expect_err "BASE_REF=origin/nope is not a commit here" "unknown base message"
finish
