#!/usr/bin/env bash
# PENDING: a string literal that is not valid UTF-8 should be an error.
# Today `check` accepts it. Fix in lang/lexer.l.
. "$(dirname "$0")/../lib.sh"
printf 'policy "p" version 1\ncurrency USD\nsegment all otherwise\nescalation e for invoice in all { step 1 day: email tone friendly template "t\xfe\xff" }\n' >"$WORK/u.dun"
run_dunlin check "$WORK/u.dun"
expect_status 1 "invalid UTF-8 in a string literal"
expect_err "u.dun:4:" "the diagnostic points at the line"
finish
