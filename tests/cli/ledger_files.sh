#!/usr/bin/env bash
# Bad ledger files: text, empty, truncated at several sizes, another
# application's SQLite file, a newer schema version, a corrupt page, a
# read-only file and a read-only directory. Every command refuses with
# E0502 (not a usable ledger) or E0505 (cannot read or write) naming the
# path, exit 1, no sanitizer report, and the file is byte-identical
# afterwards.
. "$(dirname "$0")/lib.sh"
P="$SRC/policies/b2b_net30.dun"
D=2026-11-25
REAL="$WORK/real.ledger"
"$DUNLIN" ledger demo "$REAL" --customers 6 --seed 5 --today $D >/dev/null
CSV="$WORK/cust.csv"
printf 'id,name,currency\nZ1,Zed,USD\n' >"$CSV"

# refuse LABEL CODE FILE CMD...: the command fails cleanly, file untouched.
refuse() {
  local label=$1 code=$2 file=$3
  shift 3
  local before after
  before=$(sha256sum <"$file")
  run_dunlin "$@"
  after=$(sha256sum <"$file")
  expect_status 1 "$label: $*"
  expect_err "error[$code]" "$label: $1 $2 gives $code"
  expect_err "$file" "$label: $1 $2 names the file"
  CHECKS=$((CHECKS + 1)); ! grep -qE 'Sanitizer|runtime error:' "$WORK/err" || fail "$label: sanitizer"
  CHECKS=$((CHECKS + 1)); [ -z "$OUT" ] || [ "$1" = ledger ] || [ -n "${STREAMED:-}" ] || fail "$label: $1 printed actions"
  expect_eq "$after" "$before" "$label: $* leaves the file byte-identical"
}

# every_command LABEL CODE FILE: run, run --commit, explain, import, init, demo.
every_command() {
  local label=$1 code=$2 f=$3
  refuse "$label" "$code" "$f" run "$P" --ledger "$f" --as-of $D
  refuse "$label" "$code" "$f" run "$P" --ledger "$f" --as-of $D --commit
  refuse "$label" "$code" "$f" explain "$P" --ledger "$f" --as-of $D --customer C000001
  refuse "$label" "$code" "$f" ledger import "$f" --customers "$CSV"
  refuse "$label" "$code" "$f" ledger init "$f"
  refuse "$label" "$code" "$f" ledger demo "$f" --customers 2 --today $D
}

printf 'customers,invoices\nthis is not a ledger\n' >"$WORK/text.ledger"
every_command "text file" E0502 "$WORK/text.ledger"

sqlite3 "$WORK/other.db" 'CREATE TABLE t(x); INSERT INTO t VALUES (1);'
every_command "another application's database" E0502 "$WORK/other.db"

sqlite3 "$WORK/app.db" 'PRAGMA application_id = 1234; CREATE TABLE customers(id);'
every_command "foreign application_id" E0502 "$WORK/app.db"

cp "$REAL" "$WORK/newer.ledger"
sqlite3 "$WORK/newer.ledger" 'PRAGMA user_version = 99'
every_command "newer user_version" E0502 "$WORK/newer.ledger"
expect_err "newer" "newer schema explained"

cp "$REAL" "$WORK/dropped.ledger"
sqlite3 "$WORK/dropped.ledger" 'DROP TABLE promises'
every_command "a table missing" E0502 "$WORK/dropped.ledger"

size=$(wc -c <"$REAL")
for cut in 50 100 1024 4096 $((size / 3)) $((size / 2)) $((size - 4096)); do
  head -c "$cut" "$REAL" >"$WORK/trunc$cut.ledger"
  every_command "truncated to $cut bytes" E0502 "$WORK/trunc$cut.ledger"
done

# A page overwritten in the middle: readers fail when they read it, and a
# writer checks the whole file before adding to it.
cp "$REAL" "$WORK/corrupt.ledger"
head -c 3000 /dev/zero | tr '\0' '\377' | dd of="$WORK/corrupt.ledger" bs=1 seek=$((4096 * 5 + 100)) conv=notrunc 2>/dev/null
# (run streams: the customers read before the bad page are already printed)
STREAMED=1 refuse "corrupt page" E0502 "$WORK/corrupt.ledger" run "$P" --ledger "$WORK/corrupt.ledger" --as-of $D
refuse "corrupt page" E0502 "$WORK/corrupt.ledger" run "$P" --ledger "$WORK/corrupt.ledger" --as-of $D --commit
refuse "corrupt page" E0502 "$WORK/corrupt.ledger" ledger import "$WORK/corrupt.ledger" --customers "$CSV"

# An empty file is what `ledger init` fills in; the other commands refuse it.
: >"$WORK/empty.ledger"
refuse "empty file" E0502 "$WORK/empty.ledger" run "$P" --ledger "$WORK/empty.ledger" --as-of $D
refuse "empty file" E0502 "$WORK/empty.ledger" ledger import "$WORK/empty.ledger" --customers "$CSV"
run_dunlin ledger init "$WORK/empty.ledger"
expect_status 0 "init fills an empty file"

run_dunlin run "$P" --ledger "$WORK/none.ledger" --as-of $D
expect_status 1 "a missing ledger"
expect_err "error[E0505]" "a missing ledger: E0505"
expect_err "none.ledger" "a missing ledger is named"
CHECKS=$((CHECKS + 1)); [ ! -e "$WORK/none.ledger" ] || fail "run does not create a missing ledger"
run_dunlin ledger import "$WORK/none.ledger" --customers "$CSV"
expect_status 1 "import into a missing ledger"
CHECKS=$((CHECKS + 1)); [ ! -e "$WORK/none.ledger" ] || fail "import does not create a missing ledger"
mkdir "$WORK/dir.ledger"
run_dunlin run "$P" --ledger "$WORK/dir.ledger" --as-of $D
expect_status 1 "a directory as ledger"
expect_err "dir.ledger" "the directory is named"

# Read-only file and read-only directory. Root ignores permissions, so as
# root the commands run as nobody through setpriv (skipped without it).
AS=()
if [ "$(id -u)" -eq 0 ]; then
  if command -v setpriv >/dev/null; then AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  else echo "skip: read-only cases need setpriv when run as root"; finish; exit $?; fi
fi
RO="$WORK/ro"
mkdir -p "$RO/dir"
cp "$REAL" "$RO/ro.ledger"
cp "$REAL" "$RO/dir/l.ledger"
[ "$(id -u)" -eq 0 ] && chown -R 65534 "$RO"
chmod 755 "$WORK"
chmod 444 "$RO/ro.ledger"
chmod 555 "$RO/dir"
as_user() { "${AS[@]}" "$DUNLIN" "$@"; }
ro_refuse() {
  local label=$1 file=$2
  shift 2
  local before
  before=$(sha256sum <"$file")
  "${AS[@]}" "$DUNLIN" "$@" >"$WORK/out" 2>"$WORK/err"
  STATUS=$?
  OUT=$(cat "$WORK/out")
  expect_status 1 "$label: $*"
  expect_err "error[E0505]" "$label: E0505"
  expect_err "$file" "$label: path named"
  CHECKS=$((CHECKS + 1)); [ -z "$OUT" ] || [ "$1" = ledger ] || fail "$label: actions printed though nothing was committed"
  expect_eq "$(sha256sum <"$file")" "$before" "$label: file byte-identical"
}
ro_refuse "read-only file" "$RO/ro.ledger" run "$P" --ledger "$RO/ro.ledger" --as-of $D --commit
expect_err "read-only" "read-only file explained"
ro_refuse "read-only file" "$RO/ro.ledger" ledger import "$RO/ro.ledger" --customers "$CSV"
expect_err "read-only" "read-only file explained"
"${AS[@]}" "$DUNLIN" run "$P" --ledger "$RO/ro.ledger" --as-of $D >"$WORK/out" 2>"$WORK/err"
STATUS=$?
expect_status 0 "a read-only ledger can still be read"
ro_refuse "read-only directory" "$RO/dir/l.ledger" run "$P" --ledger "$RO/dir/l.ledger" --as-of $D --commit
expect_err "directory" "read-only directory explained"
ro_refuse "read-only directory" "$RO/dir/l.ledger" ledger import "$RO/dir/l.ledger" --customers "$CSV"
chmod 755 "$RO/dir"
finish
