#!/usr/bin/env bash
# check_tests.sh - `dunlin check` on `*_test.dun` files: checked as
# `dunlin test` reads them (grammar, rows, expectations, the policies they
# name) without running them, so one `check` lints a policy directory.
. "$(dirname "$0")/lib.sh"

run_dunlin check "$SRC"/policies/*.dun
expect_status 0 "the shipped policies and their tests check clean"
expect_err "6 of 6 files checked clean" "policies and tests counted together"

cp "$SRC/policies/smb_gentle.dun" "$WORK/"
cat >"$WORK/bad_test.dun" <<'EOF'
test "a typo in a field" {
  policy "smb_gentle.dun"
  as_of 2026-02-04
  customer C1 { tier: "smb", curency: EUR }
  expect no email
}
EOF
run_dunlin check "$WORK/bad_test.dun"
expect_status 1 "a test file with an unknown field"
expect_err "E0604" "the test-file diagnostic code"
expect_err "curency" "names the field"
expect_err "0 of 1 file checked clean" "counted as not clean"
run_dunlin check --format json "$WORK/bad_test.dun"
expect_status 1 "json: still exit 1"
expect_out '"code":"E0604"' "json diagnostics for CI annotations"

cat >"$WORK/nopolicy_test.dun" <<'EOF'
test "names a policy that is not there" {
  policy "missing.dun"
  as_of 2026-02-04
  customer C1 { tier: "smb", currency: EUR }
  expect no email
}
EOF
run_dunlin check "$WORK/nopolicy_test.dun"
expect_status 1 "a test naming a missing policy"
expect_err "missing.dun" "the missing policy is named"

# A policy file that merely ends in .dun is still checked as a policy.
run_dunlin check "$WORK/smb_gentle.dun"
expect_status 0 "a policy next to the tests"
finish
