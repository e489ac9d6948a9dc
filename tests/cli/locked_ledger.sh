#!/usr/bin/env bash
# A ledger another process keeps locked for longer than the 5 s busy
# timeout: `run --commit` and `ledger import` give up with E0505, a hint
# to try again and exit 1 (not 3), and change nothing.
. "$(dirname "$0")/lib.sh"
P="$SRC/policies/b2b_net30.dun"
L="$WORK/l.ledger"
"$DUNLIN" ledger demo "$L" --customers 10 --seed 1 --today 2026-11-25 >/dev/null
printf 'id,name,currency\nZ1,Zed,USD\n' >"$WORK/c.csv"
before=$(sqlite3 "$L" .dump | sha256sum)
sqlite3 "$L" "BEGIN IMMEDIATE; SELECT 1;" ".shell sleep 8" "ROLLBACK;" >/dev/null 2>&1 &
holder=$!
sleep 0.5
"$DUNLIN" run "$P" --ledger "$L" --as-of 2026-11-25 --commit >"$WORK/out1" 2>"$WORK/err1" &
committer=$!
"$DUNLIN" ledger import "$L" --customers "$WORK/c.csv" >"$WORK/out" 2>"$WORK/err"
STATUS=$?
expect_status 1 "import into a locked ledger"
expect_err "error[E0505]" "import: E0505"
expect_err "locked" "import: says the ledger is locked"
expect_err "try again" "import: says to try again"
wait "$committer"
STATUS=$?
cp "$WORK/out1" "$WORK/out"; cp "$WORK/err1" "$WORK/err"
expect_status 1 "commit into a locked ledger"
expect_err "locked" "commit: says the ledger is locked"
expect_err "nothing was committed" "commit: says nothing was committed"
wait "$holder"
expect_eq "$(sqlite3 "$L" .dump | sha256sum)" "$before" "the ledger is unchanged"
run_dunlin ledger import "$L" --customers "$WORK/c.csv"
expect_status 0 "once the lock is gone, the import goes through"
finish
