#!/usr/bin/env bash
# All or nothing even when the process dies: `ledger import` and `run
# --commit` killed with SIGKILL part-way leave the ledger intact (quick_check
# ok) with either none or all of the rows, and the ledger stays usable.
. "$(dirname "$0")/lib.sh"
L="$WORK/k.ledger"
"$DUNLIN" ledger init "$L" >/dev/null
awk 'BEGIN { print "id,name,currency"; for (i = 0; i < 100000; i++) printf "K%d,Name %d,USD\n", i, i }' >"$WORK/big.csv"
for delay in 0.1 0.3 0.6; do
  "$DUNLIN" ledger import "$L" --customers "$WORK/big.csv" >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  expect_eq "$(sqlite3 "$L" 'PRAGMA quick_check')" ok "import killed after ${delay}s: the file is sound"
  n=$(sqlite3 "$L" 'SELECT count(*) FROM customers')
  CHECKS=$((CHECKS + 1))
  case "$n" in 0|100000) ;; *) fail "import killed after ${delay}s: $n customers, neither none nor all" ;; esac
  [ "$n" -eq 0 ] || { rm -f "$L"*; "$DUNLIN" ledger init "$L" >/dev/null; }
done
printf 'id,name,currency\nZ1,Zed,USD\n' >"$WORK/c.csv"
run_dunlin ledger import "$L" --customers "$WORK/c.csv"
expect_status 0 "the ledger takes an import after the kills"

D="$WORK/demo.ledger"
"$DUNLIN" ledger demo "$D" --customers 150 --seed 2 --today 2026-11-25 >/dev/null
P="$SRC/policies/b2b_net30.dun"
for delay in 0.2 0.5; do
  "$DUNLIN" run "$P" --ledger "$D" --as-of 2026-11-25 --commit >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  expect_eq "$(sqlite3 "$D" 'PRAGMA quick_check')" ok "commit killed after ${delay}s: the file is sound"
  runs=$(sqlite3 "$D" 'SELECT count(*) FROM runs')
  acts=$(sqlite3 "$D" 'SELECT count(*) FROM actions')
  CHECKS=$((CHECKS + 1))
  if [ "$runs" -eq 0 ]; then [ "$acts" -eq 0 ] || fail "commit killed: $acts actions without a run"
  else
    want=$("$DUNLIN" run "$P" --ledger "$D" --as-of 2026-11-25 2>/dev/null | grep -c .)
    [ "$acts" -eq "$want" ] || fail "commit killed: $acts of $want actions"
  fi
done
run_dunlin run "$P" --ledger "$D" --as-of 2026-11-25 --commit
CHECKS=$((CHECKS + 1)); [ "$STATUS" -le 1 ] || fail "the ledger takes a commit after the kills"
expect_eq "$(sqlite3 "$D" 'SELECT count(*) FROM runs')" 1 "one run in the end"
finish
