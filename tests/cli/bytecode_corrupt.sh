#!/usr/bin/env bash
# Targeted corrupt bytecode: truncation at every structural boundary, a
# huge count in every section and a huge length in every table entry (with
# the checksum recomputed), another format version, trailing garbage, a
# damaged magic, empty and unreadable files. Each gives exit 1 and an
# E0504 (E0505 for I/O) naming the file, never a crash.
. "$(dirname "$0")/lib.sh"
MUT="$WORK/bcmutate"
${CC:-cc} -std=c11 -O1 -o "$MUT" "$SRC/tests/cli/bcmutate.c" || { echo "FAIL: cannot build bcmutate"; exit 1; }
L="$WORK/small.ledger"
"$DUNLIN" ledger demo "$L" --customers 2 --seed 3 --today 2026-11-25 >/dev/null
G="$WORK/good.dbc"
"$DUNLIN" compile "$SRC/policies/b2b_net30.dun" -o "$G" 2>/dev/null
size=$(wc -c <"$G")

# expect_bad FILE LABEL [CODE]: disasm and run both refuse FILE cleanly.
expect_bad() {
  local f=$1 label=$2 code=${3:-E0504}
  run_dunlin disasm "$f"
  expect_status 1 "disasm: $label"
  expect_err "error[$code]" "disasm: $label: $code"
  expect_err "$f" "disasm: $label: file named"
  CHECKS=$((CHECKS + 1)); ! grep -qE 'Sanitizer|runtime error:' "$WORK/err" || fail "disasm: $label: sanitizer"
  run_dunlin run "$f" --ledger "$L" --as-of 2026-11-25
  expect_status 1 "run: $label"
  expect_err "error[$code]" "run: $label: $code"
  CHECKS=$((CHECKS + 1)); [ -z "$OUT" ] || fail "run: $label: no actions printed"
}

run_dunlin disasm "$G"
expect_status 0 "the unmodified file is good"

# Truncation: every byte of the preamble and section table, then each
# section boundary +-1, then the checksum.
cuts="0 1 7 8 9 10 11 13 15 16 17 18 19 20 23 24 25 $((size - 9)) $((size - 8)) $((size - 7)) $((size - 1))"
while read -r idx id entry body len; do
  cuts="$cuts $((entry + 2)) $((body - 1)) $body $((body + 1)) $((body + len - 1))"
done < <("$MUT" --sections "$G")
for c in $(printf '%s\n' $cuts | sort -n -u); do
  [ "$c" -lt "$size" ] || continue
  head -c "$c" "$G" >"$WORK/cut.dbc"
  expect_bad "$WORK/cut.dbc" "truncated to $c bytes"
done

# Every section's leading u32 (a table count for most) made huge, and
# every section length made huge, with a valid checksum.
while read -r idx id entry body len; do
  for v in 0xFFFFFFFF 0x7FFFFFFF 0x10000000; do
    "$MUT" --set "$G" "$WORK/count.dbc" "$body" 4 "$v" fix
    expect_bad "$WORK/count.dbc" "section $id: leading u32 set to $v"
  done
  "$MUT" --set "$G" "$WORK/len.dbc" "$((entry + 2))" 4 0xFFFFFFFF fix
  expect_bad "$WORK/len.dbc" "section $id: length 0xFFFFFFFF"
  "$MUT" --set "$G" "$WORK/id.dbc" "$entry" 2 0xFFFF fix
  expect_bad "$WORK/id.dbc" "section entry $idx: unknown id"
done < <("$MUT" --sections "$G")

"$MUT" --set "$G" "$WORK/ver.dbc" 8 2 2 fix
expect_bad "$WORK/ver.dbc" "format version 2"
expect_err "version" "version named"
"$MUT" --set "$G" "$WORK/nsec.dbc" 16 2 0 fix
expect_bad "$WORK/nsec.dbc" "zero sections"
"$MUT" --set "$G" "$WORK/nsec.dbc" 16 2 0xFFFF fix
expect_bad "$WORK/nsec.dbc" "65535 sections"
"$MUT" --set "$G" "$WORK/sum.dbc" "$((size - 8))" 1 0 nofix
expect_bad "$WORK/sum.dbc" "checksum byte changed"
cp "$G" "$WORK/tail.dbc"; printf 'garbage' >>"$WORK/tail.dbc"
expect_bad "$WORK/tail.dbc" "trailing garbage"
"$MUT" --set "$G" "$WORK/magic.dbc" 1 1 0x64 nofix
expect_bad "$WORK/magic.dbc" "damaged magic in a .dbc"
: >"$WORK/empty.dbc"
expect_bad "$WORK/empty.dbc" "empty .dbc"
head -c 8 "$G" >"$WORK/magiconly.dun"
expect_bad "$WORK/magiconly.dun" "the magic alone, named .dun"
mkdir "$WORK/dir.dbc"
expect_bad "$WORK/dir.dbc" "a directory" E0505
expect_bad "$WORK/none.dbc" "a missing file" E0505
# Every chunk of a policy with 20 lets claims max_stack 65535: each is
# allowed alone, but together they would make the VM allocate 1.3 M stack
# slots, so the verifier refuses the file.
{
  printf 'policy "lets" version 1\ncurrency USD\n'
  for i in $(seq 1 20); do echo "let l$i = customer.total_open > $i USD"; done
  printf 'segment s when l1'; for i in $(seq 2 20); do printf ' or l%s' "$i"; done; echo
  echo 'segment rest otherwise'
  echo 'escalation e for invoice in s, rest { step 1 day: email tone friendly }'
} >"$WORK/lets.dun"
"$DUNLIN" compile "$WORK/lets.dun" -o "$WORK/lets.dbc" 2>/dev/null
run_dunlin disasm "$WORK/lets.dbc"
expect_status 0 "the 20-let policy compiles to a good file"
read -r _ _ _ cbody _ < <("$MUT" --sections "$WORK/lets.dbc" | awk '$2 == 5')
nchunks=$(od -An -tu4 -j "$cbody" -N4 "$WORK/lets.dbc" | tr -d ' ')
cp "$WORK/lets.dbc" "$WORK/stack.dbc"
for i in $(seq 0 $((nchunks - 1))); do
  "$MUT" --set "$WORK/stack.dbc" "$WORK/stack.dbc" $((cbody + 4 + 12 * i + 8)) 2 65535 fix
done
expect_bad "$WORK/stack.dbc" "every chunk claims max_stack 65535"
expect_err "stack slots" "the total stack is what is refused"

# A deeply nested (but valid) expression needs a deep stack: its bytecode
# loads and runs exactly as its source does.
{
  printf 'policy "deep" version 1\ncurrency USD\nsegment a when customer.total_open > 0 USD + '
  for i in $(seq 1500); do printf '(1 USD + '; done; printf '1 USD'
  for i in $(seq 1500); do printf ')'; done; echo
  echo 'segment b otherwise'
  echo 'escalation e for invoice in a, b { step 1 day: email tone friendly }'
} >"$WORK/deep.dun"
run_dunlin compile "$WORK/deep.dun" -o "$WORK/deep.dbc"
expect_status 0 "a 1500-deep expression compiles"
run_dunlin run "$WORK/deep.dun" --ledger "$L" --as-of 2026-11-25
expect_status 0 "the deep source runs"
src_out=$OUT
run_dunlin run "$WORK/deep.dbc" --ledger "$L" --as-of 2026-11-25
expect_status 0 "its bytecode passes the verifier and runs"
expect_eq "$OUT" "$src_out" "bytecode and source give the same actions"
# Every constant of every shipped policy set to the extremes of its type
# (INT64_MIN/MAX, -1, the largest double, a denormal, -0, inf, NaN, the
# smallest and largest dates and durations), checksum recomputed: the
# verifier refuses what it must (NaN, inf) and the VM reports overflow as
# a data error; exit 0 or 1, never a signal or a sanitizer report.
for p in "$SRC"/policies/*.dun; do
  case "$p" in *_test.dun) continue ;; esac  # policy tests, not policies
  base=$(basename "$p" .dun)
  "$DUNLIN" compile "$p" -o "$WORK/$base.dbc" 2>/dev/null
  mkdir -p "$WORK/c_$base"
  "$MUT" --consts "$WORK/$base.dbc" "$WORK/c_$base" >"$WORK/c_$base/manifest"
  while read -r id what; do
    run_dunlin run "$WORK/c_$base/$id.dbc" --ledger "$L" --as-of 2026-11-25
    CHECKS=$((CHECKS + 1)); [ "$STATUS" -le 1 ] || fail "run $base/$id ($what): exit 0 or 1"
    CHECKS=$((CHECKS + 1)); ! grep -qE 'Sanitizer|runtime error:' "$WORK/err" || fail "run $base/$id ($what): sanitizer"
    case "$what" in *0x7ff0000000000000|*0x7ff8000000000000)
      expect_status 1 "run $base/$id ($what): refused"
      expect_err "error[E0504]" "run $base/$id ($what): by the verifier" ;;
    esac
  done <"$WORK/c_$base/manifest"
done
finish
