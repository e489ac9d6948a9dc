#!/usr/bin/env bash
# A string literal that is not valid UTF-8 is an error (E0103), so no
# template, task text or assignee reaches the output mangled.
. "$(dirname "$0")/lib.sh"
printf 'policy "p" version 1\ncurrency USD\nsegment all otherwise\nescalation e for invoice in all { step 1 day: email tone friendly template "t\xfe\xff" }\n' >"$WORK/u.dun"
run_dunlin check "$WORK/u.dun"
expect_status 1 "invalid UTF-8 in a string literal"
expect_err "u.dun:4:" "the diagnostic points at the line"
finish
