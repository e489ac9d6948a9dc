#!/usr/bin/env bash
# Corrupt bytecode never crashes: each shipped policy is compiled, then
# mutated a few dozen times with a fixed seed by tests/cli/bcmutate.c
# (truncation, flipped, inserted, deleted and zeroed bytes, swapped
# sections, huge counts and lengths, code bytes; two in three with the
# checksum recomputed so the parser and verifier see them). `dunlin disasm`
# and `dunlin run` on each must exit 1 with an E0504 naming the file, or
# exit 0 where the mutation happens to leave a valid program (only possible
# with a recomputed checksum) -- never a signal or a sanitizer report.
# DUNLIN_FUZZ_SEED and DUNLIN_FUZZ_COUNT (per policy) override the defaults.
. "$(dirname "$0")/lib.sh"
SEED=${DUNLIN_FUZZ_SEED:-20261125}
COUNT=${DUNLIN_FUZZ_COUNT:-80}

MUT="$WORK/bcmutate"
${CC:-cc} -std=c11 -O1 -o "$MUT" "$SRC/tests/cli/bcmutate.c" || { echo "FAIL: cannot build bcmutate"; exit 1; }
L="$WORK/small.ledger"
"$DUNLIN" ledger demo "$L" --customers 4 --seed 3 --today 2026-11-25 >/dev/null || { echo "FAIL: demo ledger"; exit 1; }

sanitizer_clean() { ! grep -qE 'Sanitizer|runtime error:' "$WORK/err"; }

valid=0
for p in "$SRC"/policies/*.dun; do
  case "$p" in *_test.dun) continue ;; esac  # policy tests, not policies
  base=$(basename "$p" .dun)
  "$DUNLIN" compile "$p" -o "$WORK/$base.dbc" 2>/dev/null || { echo "FAIL: compile $base"; FAILS=$((FAILS + 1)); continue; }
  mkdir -p "$WORK/$base"
  "$MUT" "$WORK/$base.dbc" "$WORK/$base" "$SEED" "$COUNT" >"$WORK/$base/manifest"
  while read -r id what; do
    f="$WORK/$base/$id.dbc"
    for cmd in disasm run; do
      if [ "$cmd" = run ]; then
        run_dunlin run "$f" --ledger "$L" --as-of 2026-11-25
      else
        run_dunlin disasm "$f"
      fi
      label="$cmd $base/$id ($what, seed $SEED)"
      CHECKS=$((CHECKS + 1))
      if [ "$STATUS" -eq 0 ] && [[ "$what" == *"checksum recomputed"* ]]; then
        valid=$((valid + 1))
        sanitizer_clean || fail "$label: sanitizer report"
        continue
      fi
      if [ "$STATUS" -ne 1 ]; then fail "$label: expected exit 1"; continue; fi
      if ! sanitizer_clean; then fail "$label: sanitizer report"; continue; fi
      grep -q "error\[E0504\]" "$WORK/err" || { fail "$label: no E0504"; continue; }
      grep -qF "$f" "$WORK/err" || fail "$label: message does not name the file"
    done
  done <"$WORK/$base/manifest"
done
echo "($valid runs on mutations that stayed valid programs)"
finish
