#!/usr/bin/env bash
# 400 KB of random bytes without a NUL (so the CLI's binary check does
# not catch it) as a policy: the lexer reports bad bytes, but only the
# first DN_DIAGS_SHOWN diagnostics are kept and rendered, so `check` ends
# at once with a bounded report.
. "$(dirname "$0")/lib.sh"
head -c 400000 /dev/urandom | tr -d '\000' >"$WORK/noise.dun"
timeout 20 "$DUNLIN" check "$WORK/noise.dun" >"$WORK/out" 2>"$WORK/err"
STATUS=$?
expect_status 1 "random bytes are an error, reported within 20 s (124 = timeout)"
CHECKS=$((CHECKS + 1)); [ "$(grep -c 'error\[' "$WORK/err")" -le 200 ] || fail "a bounded number of errors"
finish
