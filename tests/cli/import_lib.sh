# import_lib.sh - the shared start of the bad-import CLI tests
# (import_bad.sh, import_refs.sh, import_values.sh), sourced instead of
# lib.sh: a ledger $L holding the good fixtures, a copy in
# $WORK/base.ledger, its state in $BASE/$BASE_BYTES, and `bad` and `csv` to
# run one failing import and check it left the ledger exactly as it was.
# Not a test itself (tests/CMakeLists.txt leaves it out).
. "$(dirname "$0")/lib.sh"
G="$SRC/tests/fixtures/import/good"
L="$WORK/l.ledger"
"$DUNLIN" ledger init "$L" >/dev/null
"$DUNLIN" ledger import "$L" --customers "$G/customers.csv" --invoices "$G/invoices.csv" \
  --payments "$G/payments.csv" --credits "$G/credits.csv" --disputes "$G/disputes.csv" \
  --promises "$G/promises.csv" --fx-rates "$G/fx_rates.csv" --holidays "$G/holidays.csv" >/dev/null \
  || { echo "FAIL: cannot import the good fixtures"; exit 1; }
TABLES="customers invoices payments credits disputes promises fx_rates holidays"

# Row counts of every table and a hash of the whole dump, in one sqlite3 call.
COUNT_SQL="SELECT 'rows'"
for t in $TABLES actions runs; do COUNT_SQL="$COUNT_SQL || ' $t=' || (SELECT count(*) FROM $t)"; done
state() {
  local out
  out=$(sqlite3 "$L" "$COUNT_SQL" .dump)
  printf '%s %s\n' "$(head -n 1 <<<"$out")" "$(sha256sum <<<"$out")"
}
BASE=$(state)
BASE_BYTES=$(sha256sum <"$L")
cp "$L" "$WORK/base.ledger"
expect_eq "$(sqlite3 "$L" 'SELECT count(*) FROM customers')" 3 "the good fixtures are in"

# bad TABLE LINE TEXT LABEL: imports $WORK/TABLE.csv as that table; expects
# FILE:LINE:, TEXT in the message, exit 1 and the ledger untouched.
bad() {
  local table=$1 line=$2 text=$3 label=$4 file=${5:-$WORK/$1.csv} code=${6:-E0503}
  run_dunlin ledger import "$L" "--${table/_/-}" "$file"
  expect_status 1 "$table: $label"
  if [ -n "$line" ]; then expect_err "$file:$line: error[$code]" "$table: $label: FILE:LINE: and $code"
  else expect_err "$file" "$table: $label: file named"; expect_err "error[$code]" "$table: $label: $code"; fi
  [ -z "$text" ] || expect_err "$text" "$table: $label: says '$text'"
  expect_err "nothing was imported" "$table: $label: says nothing was imported"
  CHECKS=$((CHECKS + 1)); ! grep -qE 'Sanitizer|runtime error:' "$WORK/err" || fail "$table: $label: sanitizer"
  expect_eq "$(state)" "$BASE" "$table: $label: ledger rows unchanged"
  expect_eq "$(sha256sum <"$L")" "$BASE_BYTES" "$table: $label: ledger bytes unchanged"
  # after a failure, start the next case from the original ledger again
  [ "$(sha256sum <"$L")" = "$BASE_BYTES" ] || { rm -f "$L"-*; cp "$WORK/base.ledger" "$L"; }
}
csv() { printf "$2" >"$WORK/$1.csv"; }
