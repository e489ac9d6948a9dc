#!/usr/bin/env bash
# outside_tests.sh - policy tests written from LANGUAGE.md alone (s.1 policy,
# s.5 semantics, s.9 syntax and docs/testing.md), not from the
# implementation: tests/policy_tests/outside/spec must all pass (the s.9
# example verbatim next to the s.1 policy among them), and every test of
# tests/policy_tests/outside/wrong must fail, each on its own line with
# what was emitted, so that a wrong expectation can never pass quietly.
. "$(dirname "$0")/lib.sh"
cd "$SRC/tests/policy_tests/outside" || exit 2

# -- written to pass
run_dunlin test spec
expect_status 0 "spec tests pass"
expect_out "ok   a standard invoice 7 days late gets a neutral email and an sms" "s.9 example verbatim"
expect_out "ok   a promise broken the day after its date: a call" "promise amount in USD on a customer row"
expect_eq "$(tail -n 1 "$WORK/out")" "36 passed, 0 failed" "spec summary"

# -- a data error of the run (no fx rate) is reported on the test's line,
# not on the in-memory ledger, and does not fail the test by itself
run_dunlin test spec/currency_test.dun
expect_status 0 "currency tests"
expect_err 'spec/currency_test.dun:21: error[E0501]: test "a rate dated after the run date does not apply: the invoice is skipped": customer C1 invoice I1: no fx rate EUR->USD on or before 2026-03-18; invoice skipped' "run error on the test's line"
CHECKS=$((CHECKS + 1))
grep -q ':memory:' "$WORK/err" && fail "run errors name the in-memory ledger"

# -- written to fail: each test, its line, what it expected and what came out
run_dunlin test wrong/wrong_expectations.dun
expect_status 1 "wrong expectations exit 1"
expect_eq "$(tail -n 1 "$WORK/out")" "0 passed, 9 failed" "wrong summary"
F=wrong/wrong_expectations.dun
expect_out "$F:9: test \"wrong tone: 7 days late is neutral, not firm\": expected email to C1 tone firm; emitted:" "wrong tone"
expect_out '    email to C1 for I1 tone neutral template "email-neutral" status scheduled at 2026-03-10T09:00:00-04:00 rule "dunning" step "7d"' "emitted listed"
# listed in reading order: what goes out, then deferred, then skipped records
block=$(grep -A4 "^$F:9: " "$WORK/out" | tail -n 4 | sed 's/.* status \([a-z]*\) .*/\1/' | tr '\n' ' ')
expect_eq "$block" "scheduled deferred skipped skipped " "emitted actions in reading order"
expect_out "$F:17: test \"a call is not due before 15 days\": expected call to C1; emitted:" "no call yet"
expect_out "$F:25: test \"expect no email when one is due\": expected no email (found 1); emitted:" "expect no"
expect_out "$F:34: test \"two invoices of one customer get one email, not two\": expected 2 email (found 1); emitted:" "count"
expect_out "$F:43: test \"the email goes to C1, not C2\": expected email to C2; emitted: nothing" "other customer"
expect_out "$F:52: test \"a disputed invoice is not dunned, so no email\": expected email to C1 tone neutral; emitted: nothing" "dispute guard"
expect_out "$F:60: test \"wrong template name\": expected email to C1 template \"upcoming_due\"; emitted:" "template"
expect_out "$F:68: test \"the sms is deferred, not scheduled\": expected sms to C1 status scheduled; emitted:" "explicit status"
expect_out '    sms to C1 for I1 tone neutral template "sms-neutral" status deferred' "deferred sms listed"
expect_out "$F:76: test \"wrong send time\": expected email to C1 at 2026-03-10 08:00; emitted:" "send time"

# -- names the policy or the test lacks: errors with carets, nothing runs
run_dunlin test wrong/bad_names.dun
expect_status 1 "bad names exit 1"
expect_err "wrong/bad_names.dun:8:27: error[E0602]: unknown tone \`stern\` for policy \"acme-b2b\"" "unknown tone"
expect_err "wrong/bad_names.dun:16:26: error[E0603]: unknown invoice \`I2\` in this test" "unknown invoice"
expect_err "did you mean \`I1\`?" "invoice hint"
expect_eq "$(tail -n 1 "$WORK/out")" "0 passed, 2 failed" "bad names summary"

# -- both failing files at once, and the folder (whose failing files are not
# named *_test.dun, so that a directory walk finds only the passing ones)
run_dunlin test --quiet wrong/wrong_expectations.dun wrong/bad_names.dun
expect_status 1 "both failing files"
expect_eq "$(tail -n 1 "$WORK/out")" "0 passed, 11 failed" "failing files summary"
run_dunlin test --quiet .
expect_status 0 "whole folder"
expect_eq "$OUT" "36 passed, 0 failed" "whole folder summary"
finish
