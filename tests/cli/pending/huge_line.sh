#!/usr/bin/env bash
# PENDING: a diagnostic on a 1 MB line should not print the whole line.
# Today stderr is over 2 MB (the token in the message, the source line and
# the caret line). Fix in lang/diag.c rendering.
. "$(dirname "$0")/../lib.sh"
{ printf 'policy "p" version 1\ncurrency USD\nlet x = '; head -c 1000000 /dev/zero | tr '\0' '1'; echo; } >"$WORK/big.dun"
run_dunlin check "$WORK/big.dun"
expect_status 1 "a 1 MB number is an error"
CHECKS=$((CHECKS + 1)); [ "$(wc -c <"$WORK/err")" -lt 10000 ] || fail "the diagnostic is short (got $(wc -c <"$WORK/err") bytes)"
finish
