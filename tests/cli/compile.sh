#!/usr/bin/env bash
# dunlin compile and disasm, and bytecode that is corrupt or not bytecode.
. "$(dirname "$0")/lib.sh"
P="$SRC/policies/b2b_net30.dun"

run_dunlin compile "$P" -o "$WORK/p.dbc"
expect_status 0 "compile a shipped policy"
CHECKS=$((CHECKS + 1)); [ -s "$WORK/p.dbc" ] || fail "bytecode file written"

run_dunlin disasm "$WORK/p.dbc"
expect_status 0 "disasm a valid file"
expect_out "b2b-net30" "listing names the policy"
expect_out "RET" "listing shows instructions"

run_dunlin compile "$P" -o "$WORK/p2.dbc"
CHECKS=$((CHECKS + 1)); cmp -s "$WORK/p.dbc" "$WORK/p2.dbc" || fail "compiling twice gives identical bytes"

size=$(stat -c %s "$WORK/p.dbc")
for cut in 0 8 9 20 $((size / 2)) $((size - 1)); do
  head -c "$cut" "$WORK/p.dbc" >"$WORK/cut.dbc"
  run_dunlin disasm "$WORK/cut.dbc"
  CHECKS=$((CHECKS + 1)); [ "$STATUS" -eq 1 ] || fail "truncated at $cut bytes is rejected with exit 1"
  run_dunlin run "$WORK/cut.dbc" --ledger "$WORK/none.ledger" --as-of 2026-01-01
  CHECKS=$((CHECKS + 1)); [ "$STATUS" -eq 1 ] || fail "running a file truncated at $cut bytes fails with exit 1"
done
head -c $((size / 2)) "$WORK/p.dbc" >"$WORK/cut.dbc"
run_dunlin disasm "$WORK/cut.dbc"
expect_err "E0504" "truncated bytecode reported as E0504"

# Flip one byte in the middle: the checksum (or the verifier) must catch it.
cp "$WORK/p.dbc" "$WORK/flip.dbc"
off=$((size / 3))
orig=$(od -An -tu1 -j "$off" -N1 "$WORK/flip.dbc" | tr -d ' ')
printf "$(printf '\\%03o' $(((orig + 1) % 256)))" | dd of="$WORK/flip.dbc" bs=1 seek="$off" conv=notrunc 2>/dev/null
run_dunlin disasm "$WORK/flip.dbc"
expect_status 1 "a flipped byte is rejected"
expect_err "E0504" "flipped byte reported"

run_dunlin compile "$WORK/nope.dun" -o "$WORK/x.dbc"
expect_status 1 "compile a missing file"
run_dunlin compile "$P"
expect_status 2 "compile without -o"
run_dunlin disasm
expect_status 2 "disasm without a file"
finish
