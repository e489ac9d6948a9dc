#!/usr/bin/env bash
# test_cmd.sh - `dunlin test` itself: the shipped policy tests pass with
# full coverage, and the runner's own failures are reported as
# docs/testing.md says (a failing expectation names FILE:LINE and exits 1,
# a syntax error, a missing policy, unknown names with carets, rows the
# ledger refuses, coverage listing what no test reached, usage errors).
# The small policy and tests live in tests/policy_tests/.
. "$(dirname "$0")/lib.sh"
cd "$SRC" || exit 2
PT=tests/policy_tests

# -- the shipped policies' tests: all pass, nothing missed
run_dunlin test --coverage-fail policies
expect_status 0 "shipped policy tests"
expect_out "coverage policies/b2b_net30.dun: 13 of 13 reached" "b2b coverage"
expect_out "coverage policies/smb_gentle.dun: 10 of 10 reached" "smb coverage"
expect_out "coverage policies/subscription.dun: 10 of 10 reached" "subscription coverage"
expect_eq "$(tail -n 1 "$WORK/out")" "45 passed, 0 failed" "shipped summary"

# -- a passing file; --quiet leaves only the summary
run_dunlin test $PT/pass/mini_test.dun
expect_status 0 "passing test"
expect_eq "$OUT" "ok   one day late: a neutral email
1 passed, 0 failed" "passing output"
run_dunlin test --quiet $PT/pass
expect_status 0 "quiet"
expect_eq "$OUT" "1 passed, 0 failed" "quiet output"

# -- a failing expectation: exit 1, FILE:LINE, the test, what was emitted
run_dunlin test $PT/fail/failing.dun
expect_status 1 "failing test"
expect_out "ok   passes" "the passing test of the file"
expect_out "FAIL wrong tone" "the failing test"
expect_out "$PT/fail/failing.dun:14: test \"wrong tone\": expected email to C1 tone firm; emitted:" "failure line"
expect_out '    email to C1 for I1 tone neutral template "email-neutral" status scheduled at 2026-03-10T09:00:00+00:00 rule "remind" step "1d"' "emitted action"
expect_out "$PT/fail/failing.dun:15: test \"wrong tone\": expected 2 email (found 1); emitted:" "count failure"
expect_eq "$(tail -n 1 "$WORK/out")" "1 passed, 1 failed" "failing summary"

# -- JSON: one object per test, then the totals
run_dunlin test --format json $PT/fail/failing.dun
expect_status 1 "json"
expect_eq "$(sed -n 1p "$WORK/out")" '{"file":"tests/policy_tests/fail/failing.dun","test":"passes","line":1,"passed":true,"failures":[],"errors":[]}' "json passing"
expect_out '"test":"wrong tone","line":9,"passed":false,"failures":[{"line":14,"expected":"email to C1 tone firm","emitted":[' "json failing"
expect_out '{"line":15,"expected":"2 email","found":"found 1","emitted":' "json count"
expect_eq "$(tail -n 1 "$WORK/out")" '{"passed":1,"failed":1}' "json summary"

# -- a syntax error: the checker's message and caret; the file's test fails
run_dunlin test $PT/errors/syntax.dun
expect_status 1 "syntax error"
expect_eq "$ERR" "$PT/errors/syntax.dun:4:22: error[E0101]: expected \`:\`, found a string
    4 |   customer C1 { tier \"basic\" }
      |                      ^~~~~~~" "syntax error text"
expect_eq "$(tail -n 1 "$WORK/out")" "0 passed, 1 failed" "syntax summary"

# -- a missing policy file
run_dunlin test $PT/errors/missing.dun
expect_status 1 "missing policy"
expect_err "$PT/errors/missing.dun:2:10: error[E0601]: cannot read policy $PT/errors/no_such_policy.dun: No such file or directory" "missing policy message"
expect_err "      = hint: the path is relative to the test file" "missing policy hint"
expect_out "FAIL missing policy" "missing policy fails"

# -- unknown field, customer, tone, invoice and rule: each with a did-you-mean
run_dunlin test $PT/errors/names.dun
expect_status 1 "unknown names"
expect_err "names.dun:4:32: error[E0604]: unknown field \`riskscore\` for a customer" "unknown field"
expect_err "      = hint: did you mean \`risk_score\`?" "field hint"
expect_err "names.dun:5:17: error[E0603]: unknown customer \`C2\` in this test" "unknown customer"
expect_err "names.dun:6:27: error[E0602]: unknown tone \`nuetral\` for policy \"mini\"" "unknown tone"
expect_err "      |                           ^~~~~~~" "tone caret"
expect_err "names.dun:6:39: error[E0603]: unknown invoice \`I2\` in this test" "unknown invoice"
expect_err "names.dun:7:20: error[E0603]: policy \"mini\" has no escalation, rule or event \`remnd\`" "unknown rule"
expect_err "      = hint: did you mean \`remind\`?" "rule hint"

# -- a row the ledger refuses: the import's message at the row's FILE:LINE
run_dunlin test $PT/errors/rows.dun
expect_status 1 "refused row"
expect_err "$PT/errors/rows.dun:5: error[E0503]: due_date 2026-01-09 is before issue_date 2026-02-01" "row message"
expect_out "FAIL due before issue" "refused row fails"

# -- coverage lists what no test reached; only --coverage-fail makes it fail
run_dunlin test --coverage $PT/coverage
expect_status 0 "coverage"
expect_out "coverage $PT/mini.dun: 2 of 6 reached" "coverage count"
expect_out "  missed segment rest" "missed segment"
expect_out "  missed escalation remind step 10d" "missed step"
expect_out "  missed on payment.failed for invoice" "missed event"
expect_out "  missed rule big" "missed rule"
expect_out "coverage: 2 of 6 reached in 1 policy" "coverage summary"
expect_eq "$(tail -n 1 "$WORK/out")" "1 passed, 0 failed" "coverage last line"
run_dunlin test --coverage-fail $PT/coverage
expect_status 1 "coverage-fail"

# -- a policy that does not compile: its first error, and where to see all
run_dunlin test $PT/errors/broken.dun
expect_status 1 "broken policy"
expect_err "$PT/errors/broken.dun:2:10: error[E0601]: policy $PT/broken.dun does not load: cannot compare money with number" "broken policy message"
expect_err "      = hint: run \`dunlin check $PT/broken.dun\` for every diagnostic" "broken policy hint"

# -- hostile or empty input
head -c 4096 "$DUNLIN" >"$WORK/binary_test.dun"
run_dunlin test "$WORK/binary_test.dun"
expect_status 1 "binary test file"
expect_err "error[E0103]" "binary test file diagnostic"
run_dunlin test $PT/errors/empty.dun
expect_status 0 "empty test file"
expect_err "$PT/errors/empty.dun: warning: no tests in this file" "empty file warning"
expect_eq "$OUT" "0 passed, 0 failed" "empty file summary"

# -- directories: only *_test.dun files are found (the negative cases here
# are named otherwise, so `dunlin test` at the top passes)
run_dunlin test --quiet $PT
expect_status 0 "policy_tests directory"
expect_eq "$OUT" "38 passed, 0 failed" "two tests found, and outside/spec"
run_dunlin test $PT/errors
expect_status 1 "no test files"
expect_err "dunlin test: no *_test.dun files found" "no test files message"

# -- the words of a test block stay plain names in a policy
cat >"$WORK/words.dun" <<'DUN'
policy "words" version 1
currency USD
tones standard: no < status < at
let of = customer.total_open > 100 USD
segment history when of
segment expect otherwise
escalation ran for invoice in history, expect {
  step 1 day: email tone status
}
DUN
run_dunlin check "$WORK/words.dun"
expect_status 0 "test words as policy names"

# -- usage
run_dunlin test --format xml $PT/pass
expect_status 2 "bad format"
run_dunlin test --bogus
expect_status 2 "unknown option"
run_dunlin test $PT/no/such/dir
expect_status 2 "missing path"
expect_err "dunlin test: $PT/no/such/dir: No such file or directory" "missing path message"
run_dunlin test --help
expect_status 0 "help"
expect_out "usage: dunlin test" "help text"

finish
