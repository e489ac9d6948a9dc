#!/usr/bin/env bash
# Failures around the edges of a command: output that cannot be written
# (/dev/full), a --map that is a directory, explain of an id the ledger
# lacks, a bad --seed, `ledger init` on an existing ledger. None may end
# in exit 0 with the problem unsaid, and none may change the ledger.
. "$(dirname "$0")/lib.sh"
P="$SRC/policies/b2b_net30.dun"
D=2026-11-25
L="$WORK/demo.ledger"
"$DUNLIN" ledger demo "$L" --customers 40 --seed 9 --today $D >/dev/null

if [ -w /dev/full ]; then
  full() { "$DUNLIN" "$@" >/dev/full 2>"$WORK/err"; STATUS=$?; : >"$WORK/out"; }
  full run "$P" --ledger "$L" --as-of $D
  CHECKS=$((CHECKS + 1)); [ "$STATUS" -ne 0 ] || fail "run to a full disk does not exit 0"
  expect_err "cannot write the output" "run to a full disk says so"
  full run "$P" --ledger "$L" --as-of $D --format table
  CHECKS=$((CHECKS + 1)); [ "$STATUS" -ne 0 ] || fail "table to a full disk does not exit 0"
  "$DUNLIN" compile "$P" -o "$WORK/p.dbc" 2>/dev/null
  full disasm "$WORK/p.dbc"
  CHECKS=$((CHECKS + 1)); [ "$STATUS" -ne 0 ] || fail "disasm to a full disk does not exit 0"
  printf 'policy "w" version 1\ncurrency USD\nlet unused = 1\nsegment all otherwise\nescalation e for invoice in all { step 1 day: email tone friendly }\n' >"$WORK/warn.dun"
  full check --format json "$WORK/warn.dun"
  CHECKS=$((CHECKS + 1)); [ "$STATUS" -ne 0 ] || fail "check --format json (a warning) to a full disk does not exit 0"
  full explain "$P" --ledger "$L" --as-of $D --customer C000001
  CHECKS=$((CHECKS + 1)); [ "$STATUS" -ne 0 ] || fail "explain to a full disk does not exit 0"
  # --commit whose printed actions cannot be written: nothing committed
  before=$(sqlite3 "$L" .dump | sha256sum)
  full run "$P" --ledger "$L" --as-of $D --commit
  CHECKS=$((CHECKS + 1)); [ "$STATUS" -ne 0 ] || fail "commit with a full stdout does not exit 0"
  CHECKS=$((CHECKS + 1)); ! grep -qE 'Sanitizer|runtime error:' "$WORK/err" || fail "commit with a full stdout: sanitizer"
  n=$(sqlite3 "$L" 'SELECT count(*) FROM actions')
  if [ "$n" -ne 0 ]; then
    # committed: then every action is there and the run is recorded
    run_dunlin run "$P" --ledger "$L" --as-of $D
    expect_eq "$n" "$(grep -c . "$WORK/out")" "commit with a full stdout: all or nothing"
  else
    expect_eq "$(sqlite3 "$L" .dump | sha256sum)" "$before" "commit with a full stdout: nothing committed"
  fi
else
  echo "skip: no /dev/full"
fi

printf 'id,name,currency\nZ1,Zed,USD\n' >"$WORK/c.csv"
mkdir "$WORK/map.d"
before=$(sqlite3 "$L" .dump | sha256sum)
run_dunlin ledger import "$L" --customers "$WORK/c.csv" --map "$WORK/map.d"
expect_status 1 "a --map that is a directory"
expect_err "map.d" "the map is named"
expect_err "error[E0505]" "an I/O error"
expect_eq "$(sqlite3 "$L" .dump | sha256sum)" "$before" "nothing imported without the map"
run_dunlin ledger import "$L" --customers "$WORK/c.csv" --map "$WORK/none.map"
expect_status 1 "a missing --map"
expect_err "none.map" "the missing map is named"
printf 'name\n' >"$WORK/bad.map"
run_dunlin ledger import "$L" --customers "$WORK/c.csv" --map "$WORK/bad.map"
expect_status 1 "a map line without ="
expect_err "bad.map:1: error[E0503]" "the map line is named"
expect_eq "$(sqlite3 "$L" .dump | sha256sum)" "$before" "the ledger is unchanged"

run_dunlin explain "$P" --ledger "$L" --as-of $D --customer NOPE
expect_status 1 "explain of an unknown customer"
expect_err 'no customer "NOPE"' "says the customer is not in the ledger"
run_dunlin explain "$P" --ledger "$L" --as-of $D --invoice NOPE
expect_status 1 "explain of an unknown invoice"
expect_err 'no invoice "NOPE"' "says the invoice is not in the ledger"
run_dunlin explain "$P" --ledger "$L" --as-of $D --invoice I0000001
expect_status 0 "explain of a known invoice"

for s in -1 99999999999999999999999 abc ""; do
  run_dunlin ledger demo "$WORK/seed.ledger" --customers 2 --seed "$s"
  expect_status 2 "--seed '$s' is a usage error"
  CHECKS=$((CHECKS + 1)); [ ! -s "$WORK/seed.ledger" ] || fail "--seed '$s': no ledger made"
  rm -f "$WORK/seed.ledger"*
done

bytes=$(sha256sum <"$L")
run_dunlin ledger init "$L"
expect_status 0 "init on an existing ledger"
expect_out "already a ledger" "init says the ledger already exists"
expect_eq "$(sha256sum <"$L")" "$bytes" "init leaves an existing ledger byte-identical"
# compile -o never clobbers the policy or another non-bytecode file
cp "$P" "$WORK/p.dun"
cp "$SRC/policies/smb_gentle.dun" "$WORK/q.dun"
src_sum=$(sha256sum <"$WORK/p.dun")
other_sum=$(sha256sum <"$WORK/q.dun")
run_dunlin compile "$WORK/p.dun" -o "$WORK/p.dun"
expect_status 2 "compile -o onto its own source"
expect_err "would overwrite the policy" "says why"
expect_eq "$(sha256sum <"$WORK/p.dun")" "$src_sum" "the source is intact"
run_dunlin compile "$WORK/p.dun" -o "$WORK/q.dun"
expect_status 2 "compile -o onto another policy"
expect_err "not bytecode" "says why"
expect_eq "$(sha256sum <"$WORK/q.dun")" "$other_sum" "the other policy is intact"
run_dunlin compile "$WORK/p.dun" -o "$WORK/p.dbc"
expect_status 0 "compile to a new file"
run_dunlin compile "$WORK/q.dun" -o "$WORK/p.dbc"
expect_status 0 "compile over an older .dbc"
run_dunlin compile "$WORK/p.dun" -o "$WORK/none/p.dbc"
expect_status 1 "compile into a missing directory"
expect_err "error[E0505]" "compile into a missing directory: E0505"
finish
