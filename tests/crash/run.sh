#!/usr/bin/env bash
# Crash test: the ledger survives processes that die, race, or run out of
# room (docs/robustness.md). Supersedes tests/cli/kill_atomic.sh.
#
#  1. `run --commit` killed with SIGKILL at a random moment, CRASH_ITERATIONS
#     times: afterwards PRAGMA integrity_check is ok, no action lacks its
#     runs row, every runs row is finished and has exactly `emitted`
#     actions, no (policy, revision, date) has two runs, and a run that
#     made it in holds exactly the actions an uninterrupted commit holds.
#  2. `ledger import` killed the same way: the row counts are either all
#     before or all after, never in between.
#  3. Two `run --commit` for the same date started at the same moment,
#     CRASH_RACES times: exactly one runs row and one set of actions.
#  4. A full disk (a small tmpfs; `ulimit -f` where mounting is refused)
#     and a read-only file system: commit and import fail with a clear
#     E0505, exit 1, and leave the ledger byte-identical and usable.
#
# CI runs a few of each; the full run is
#   CRASH_ITERATIONS=100 CRASH_RACES=20 ctest -R crash/run --output-on-failure
# CRASH_SEED makes the kill moments reproducible (printed at the start);
# CRASH_NO_MOUNT=1 takes the no-mount path of part 4.
. "$(dirname "$0")/../cli/lib.sh"
N=${CRASH_ITERATIONS:-8}
RACES=${CRASH_RACES:-5}
CUST=${CRASH_CUSTOMERS:-300}
IMPORT_ROWS=${CRASH_IMPORT_ROWS:-20000}
SEED=${CRASH_SEED:-$(( $$ % 30000 ))}
RANDOM=$SEED
P="$SRC/policies/b2b_net30.dun"
D0=2026-11-25
MNT="$WORK/mnt"
trap 'umount "$MNT" 2>/dev/null; rm -rf "$WORK"' EXIT
echo "crash test: $N kills of each command, $RACES races, seed $SEED"

ms() { echo $(( $(date +%s%N) / 1000000 )); }
q() { sqlite3 -cmd ".timeout 5000" "$1" "$2"; }
# A delay in seconds: half uniform over 0 .. 1.2 x $1 ms (startup, the
# evaluation with its inserts), half over 0.7 .. 1.3 x $1 (the COMMIT
# and the moments around it); some kills land after the process is done,
# the "whole" side of all-or-nothing.
rand_delay() {
  local lo=0 hi=$(( $1 * 12 / 10 + 1 ))
  if (( RANDOM % 2 )); then lo=$(( $1 * 7 / 10 )); hi=$(( $1 * 13 / 10 + 1 )); fi
  local r=$(( lo + (RANDOM * 32768 + RANDOM) % (hi - lo) ))
  printf '%d.%03d' $(( r / 1000 )) $(( r % 1000 ))
}
# kill_after DELAY CMD...: SIGKILLs CMD after DELAY; a CMD that finished
# first must have exited 0 or 1 without a sanitizer report.
kill_after() {
  local delay=$1; shift
  "$@" >/dev/null 2>"$WORK/kerr" &
  local pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  local st=$?
  if [ "$st" -ne 137 ] && { [ "$st" -gt 1 ] || grep -qE 'Sanitizer|runtime error:' "$WORK/kerr"; }; then
    STATUS=$st; cp "$WORK/kerr" "$WORK/err"; : >"$WORK/out"
    fail "$* finished on its own with status $st or a sanitizer report"
  fi
}
sane() {
  CHECKS=$((CHECKS + 1))
  [ "$(q "$1" 'PRAGMA integrity_check')" = ok ] || { fail "$2: integrity_check is not ok"; return; }
  local bad
  bad=$(q "$1" "SELECT (SELECT count(*) FROM actions WHERE run_id IS NULL OR run_id NOT IN (SELECT id FROM runs))
    || ' ' || (SELECT count(*) FROM runs r WHERE r.finished_at IS NULL OR r.emitted IS NULL
                 OR r.emitted != (SELECT count(*) FROM actions a WHERE a.run_id = r.id))
    || ' ' || (SELECT count(*) FROM (SELECT 1 FROM runs GROUP BY policy, policy_hash, as_of HAVING count(*) > 1))
    || ' ' || (SELECT count(*) - count(DISTINCT key) FROM actions)")
  [ "$bad" = "0 0 0 0" ] || fail "$2: orphan actions, unfinished or miscounted runs, double runs, double keys: $bad"
}
restore() { rm -f "$2" "$2-wal" "$2-shm"; cp "$1" "$2"; }
keys_of_jsonl() { grep -o '"key":"[0-9a-f]*"' "$1" | cut -d'"' -f4 | sort; }

# ---- 1. run --commit killed ----------------------------------------
BASE="$WORK/base.ledger"
"$DUNLIN" ledger demo "$BASE" --customers "$CUST" --seed 5 --today $D0 >/dev/null || { echo "FAIL: demo"; exit 1; }
L="$WORK/run.ledger"
restore "$BASE" "$L"
t0=$(ms)
"$DUNLIN" run "$P" --ledger "$L" --as-of $D0 --commit >"$WORK/expected.jsonl" 2>"$WORK/err"
STATUS=$?
T_RUN=$(( $(ms) - t0 ))
expect_status 0 "an uninterrupted commit"
keys_of_jsonl "$WORK/expected.jsonl" >"$WORK/expected.keys"
q "$L" "SELECT key FROM actions ORDER BY key" >"$WORK/got.keys"
expect_eq "$(sort "$WORK/got.keys" | sha256sum)" "$(sha256sum <"$WORK/expected.keys")" "the outbox holds what the commit printed"
WANT=$(wc -l <"$WORK/expected.keys")
echo "commit of $WANT actions ($CUST customers) takes ${T_RUN} ms"
restore "$BASE" "$L"
nothing=0 whole=0
for i in $(seq 1 "$N"); do
  delay=$(rand_delay "$T_RUN")
  kill_after "$delay" "$DUNLIN" run "$P" --ledger "$L" --as-of $D0 --commit
  label="commit killed after ${delay}s (try $i)"
  sane "$L" "$label"
  runs=$(q "$L" 'SELECT count(*) FROM runs')
  CHECKS=$((CHECKS + 1))
  if [ "$runs" = 0 ]; then
    acts=$(q "$L" 'SELECT count(*) FROM actions')
    [ "$acts" = 0 ] && nothing=$((nothing + 1)) || fail "$label: $acts actions without a run"
  elif [ "$runs" = 1 ]; then
    q "$L" "SELECT key FROM actions ORDER BY key" | sort >"$WORK/got.keys"
    cmp -s "$WORK/got.keys" "$WORK/expected.keys" && whole=$((whole + 1)) ||
      fail "$label: $(wc -l <"$WORK/got.keys") actions, not the $WANT of an uninterrupted commit"
    restore "$BASE" "$L"
  else
    fail "$label: $runs runs"
  fi
done
echo "run --commit: $N kills: $nothing left nothing, $whole left the whole run"
run_dunlin run "$P" --ledger "$L" --as-of $D0 --commit
expect_status 0 "the ledger takes a commit after the kills"
sane "$L" "after the kills"
expect_eq "$(q "$L" 'SELECT count(*) FROM actions')" "$WANT" "after the kills, the commit is whole"

# ---- 2. ledger import killed -----------------------------------------
awk -v n="$IMPORT_ROWS" 'BEGIN { print "id,name,currency"; for (i = 0; i < n; i++) printf "K%d,Name %d,USD\n", i, i }' >"$WORK/cust.csv"
awk -v n="$IMPORT_ROWS" 'BEGIN { print "id,customer_id,number,issue_date,due_date,currency,amount";
  for (i = 0; i < n; i++) printf "KI%d,K%d,N%d,2026-10-01,2026-10-31,USD,%d.%02d\n", i, i, i, 100 + i % 900, i % 100 }' >"$WORK/inv.csv"
counts() { q "$1" "SELECT (SELECT count(*) FROM customers) || ' ' || (SELECT count(*) FROM invoices)"; }
L="$WORK/import.ledger"
restore "$BASE" "$L"
BEFORE=$(counts "$L")
t0=$(ms)
run_dunlin ledger import "$L" --customers "$WORK/cust.csv" --invoices "$WORK/inv.csv"
T_IMP=$(( $(ms) - t0 ))
expect_status 0 "an uninterrupted import"
AFTER=$(counts "$L")
expect_eq "$AFTER" "$(( ${BEFORE% *} + IMPORT_ROWS )) $(( ${BEFORE#* } + IMPORT_ROWS ))" "the import adds every row"
echo "import of $IMPORT_ROWS customers and invoices takes ${T_IMP} ms"
restore "$BASE" "$L"
nothing=0 whole=0
for i in $(seq 1 "$N"); do
  delay=$(rand_delay "$T_IMP")
  kill_after "$delay" "$DUNLIN" ledger import "$L" --customers "$WORK/cust.csv" --invoices "$WORK/inv.csv"
  label="import killed after ${delay}s (try $i)"
  sane "$L" "$label"
  now=$(counts "$L")
  CHECKS=$((CHECKS + 1))
  if [ "$now" = "$BEFORE" ]; then nothing=$((nothing + 1))
  elif [ "$now" = "$AFTER" ]; then whole=$((whole + 1)); restore "$BASE" "$L"
  else fail "$label: counts $now, neither $BEFORE nor $AFTER"
  fi
done
echo "ledger import: $N kills: $nothing left nothing, $whole left the whole import"
run_dunlin ledger import "$L" --customers "$WORK/cust.csv" --invoices "$WORK/inv.csv"
expect_status 0 "the ledger takes the import after the kills"
expect_eq "$(counts "$L")" "$AFTER" "after the kills, the import is whole"

# ---- 3. two commits of one date at the same moment -------------------
SMALL="$WORK/small.ledger"
"$DUNLIN" ledger demo "$SMALL" --customers 40 --seed 6 --today $D0 >/dev/null
L="$WORK/race.ledger"
restore "$SMALL" "$L"
"$DUNLIN" run "$P" --ledger "$L" --as-of $D0 >"$WORK/race.jsonl" 2>/dev/null
keys_of_jsonl "$WORK/race.jsonl" >"$WORK/race.keys"
mkfifo "$WORK/gate"
for i in $(seq 1 "$RACES"); do
  restore "$SMALL" "$L"
  # Both block opening the gate, then reading it; closing it frees both.
  pids=()
  for w in a b; do
    ( read -r _ <"$WORK/gate"; exec "$DUNLIN" run "$P" --ledger "$L" --as-of $D0 --commit >/dev/null 2>"$WORK/race.$w" ) &
    pids+=($!)
  done
  sleep 0.3
  exec 3>"$WORK/gate"
  exec 3>&-
  wait "${pids[0]}"; sa=$?
  wait "${pids[1]}"; sb=$?
  label="race $i"
  CHECKS=$((CHECKS + 1))
  [ "$sa" -eq 0 ] && [ "$sb" -eq 0 ] || { cat "$WORK/race.a" "$WORK/race.b" >"$WORK/err"; STATUS="$sa/$sb"; fail "$label: both commits exit 0"; }
  CHECKS=$((CHECKS + 1))
  one=$(cat "$WORK/race.a" "$WORK/race.b" | grep -c '^committed run')
  two=$(cat "$WORK/race.a" "$WORK/race.b" | grep -c '^already committed')
  [ "$one" = 1 ] && [ "$two" = 1 ] || { cat "$WORK/race.a" "$WORK/race.b" >"$WORK/err"; fail "$label: one commits, the other finds it done"; }
  sane "$L" "$label"
  expect_eq "$(q "$L" 'SELECT count(*) FROM runs')" 1 "$label: one runs row"
  expect_eq "$(q "$L" 'SELECT key FROM actions ORDER BY key' | sort | sha256sum)" "$(sha256sum <"$WORK/race.keys")" "$label: one set of actions"
done

# ---- 4. a full disk and a read-only file system ----------------------
printf 'id,name,currency\nZ1,Zed,USD\n' >"$WORK/c.csv"
# refuse LABEL ARGS...: the command fails with E0505, and the ledger $L
# is byte-identical (its file and any -wal) and sound afterwards. Checked
# on a copy: even the sqlite3 shell cannot open a WAL ledger on a
# read-only file system.
fingerprint() { cat "$L" "$L-wal" 2>/dev/null | sha256sum; }
refuse() {
  local label=$1; shift
  local before
  before=$(fingerprint)
  run_dunlin "$@"
  expect_status 1 "$label"
  expect_err "error[E0505]" "$label: E0505"
  CHECKS=$((CHECKS + 1)); ! grep -qE 'Sanitizer|runtime error:' "$WORK/err" || fail "$label: sanitizer report"
  expect_eq "$(fingerprint)" "$before" "$label: the ledger is unchanged"
  rm -f "$WORK/copy.ledger"*
  cp "$L" "$WORK/copy.ledger"; [ -f "$L-wal" ] && cp "$L-wal" "$WORK/copy.ledger-wal"
  sane "$WORK/copy.ledger" "$label"
}
mkdir -p "$MNT"
# Room for the ledger and a commit's WAL once the filler is gone.
if [ -z "${CRASH_NO_MOUNT:-}" ] && mount -t tmpfs -o size=$(( $(stat -c %s "$BASE") * 3 / 1024 + 8192 ))k tmpfs "$MNT" 2>/dev/null; then
  L="$MNT/full.ledger"
  cp "$BASE" "$L"
  avail=$(df --output=avail -B1 "$MNT" | tail -n 1)
  head -c $(( avail - 64 * 1024 )) /dev/zero >"$MNT/filler" 2>/dev/null
  refuse "commit on a full disk" run "$P" --ledger "$L" --as-of $D0 --commit
  expect_err "full" "commit on a full disk says the disk is full"
  expect_err "nothing was committed" "commit on a full disk says nothing was committed"
  refuse "import on a full disk" ledger import "$L" --customers "$WORK/cust.csv" --invoices "$WORK/inv.csv"
  expect_err "full" "import on a full disk says the disk is full"
  rm -f "$MNT/filler"
  run_dunlin run "$P" --ledger "$L" --as-of $D0 --commit
  expect_status 0 "with room again, the commit goes through"
  sane "$L" "commit once the disk has room"
  expect_eq "$(q "$L" 'SELECT count(*) FROM actions')" "$WANT" "with room again, the commit is whole"
  # read-only: remount with the ledger as it was before that commit
  umount "$MNT"
  mount -t tmpfs -o size=8m tmpfs "$MNT"
  L="$MNT/ro.ledger"
  cp "$BASE" "$L"
  mount -o remount,ro "$MNT"
  refuse "commit on a read-only file system" run "$P" --ledger "$L" --as-of $D0 --commit
  expect_err "read-only" "commit on a read-only file system says why"
  refuse "import on a read-only file system" ledger import "$L" --customers "$WORK/c.csv"
  expect_err "read-only" "import on a read-only file system says why"
  # Reading needs the -shm file SQLite keeps beside a WAL ledger, which a
  # read-only file system cannot hold: an error naming the cause, no crash.
  run_dunlin run "$P" --ledger "$L" --as-of $D0
  CHECKS=$((CHECKS + 1))
  if [ "$STATUS" -ne 0 ]; then
    [ "$STATUS" -eq 1 ] && grep -q 'error\[E0505\]' "$WORK/err" || fail "run on a read-only file system: exit 0, or 1 with E0505"
  fi
  umount "$MNT"
else
  # No mount (not root, or no namespace for it): a file size limit stands
  # in for the full disk; SIGXFSZ ignored so writes fail with EFBIG.
  echo "note: cannot mount a tmpfs; a file size limit stands in for the full disk"
  L="$WORK/full.ledger"
  cp "$BASE" "$L"
  lim=64 # KiB per file: the -shm (32 KiB) fits, a commit's WAL does not
  full() { : >"$WORK/out"; ( trap '' XFSZ; ulimit -f "$lim"; exec "$DUNLIN" "$@" ) >/dev/null 2>"$WORK/err"; }
  before=$(q "$L" .dump | sha256sum)
  full run "$P" --ledger "$L" --as-of $D0 --commit; STATUS=$?
  expect_status 1 "commit past the file size limit"
  expect_err "error[E0505]" "commit past the file size limit: E0505"
  expect_eq "$(q "$L" .dump | sha256sum)" "$before" "commit past the file size limit: unchanged"
  sane "$L" "commit past the file size limit"
  echo "skip: read-only file system (cannot mount)"
fi
finish
