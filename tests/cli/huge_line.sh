#!/usr/bin/env bash
# A diagnostic on a 1 MB line quotes a window around the caret and a cut
# message, not the whole line.
. "$(dirname "$0")/lib.sh"
{ printf 'policy "p" version 1\ncurrency USD\nlet x = '; head -c 1000000 /dev/zero | tr '\0' '1'; echo; } >"$WORK/big.dun"
run_dunlin check "$WORK/big.dun"
expect_status 1 "a 1 MB number is an error"
CHECKS=$((CHECKS + 1)); [ "$(wc -c <"$WORK/err")" -lt 10000 ] || fail "the diagnostic is short (got $(wc -c <"$WORK/err") bytes)"
finish
