#!/usr/bin/env bash
# dunlin ledger init/import/demo, including bad rows that must leave the
# ledger exactly as it was.
. "$(dirname "$0")/lib.sh"
F="$SRC/tests/fixtures/cli"
L="$WORK/t.ledger"
count() { sqlite3 "$L" "SELECT count(*) FROM $1"; }

run_dunlin ledger init "$L"
expect_status 0 "init"
expect_eq "$(count customers)" 0 "a new ledger is empty"
expect_eq "$(sqlite3 "$L" 'PRAGMA user_version')" 1 "schema version recorded"

run_dunlin ledger import "$L" --customers "$F/customers.csv" --invoices "$F/invoices.csv"
expect_status 0 "import customers and invoices"
expect_out "2 customers, 2 invoices" "import counts"
expect_eq "$(sqlite3 "$L" "SELECT amount_minor FROM invoices WHERE id='I2'")" 80050 "decimal amount stored in minor units"
expect_eq "$(sqlite3 "$L" "SELECT name FROM customers WHERE id='C1'")" "Acme, Inc." "quoted field with a comma"

before=$(sqlite3 "$L" 'SELECT count(*) FROM payments')
run_dunlin ledger import "$L" --payments "$F/payments_bad.csv"
expect_status 1 "unknown customer aborts the import"
expect_err "payments_bad.csv:3:" "error names FILE:LINE of the bad row"
expect_eq "$(count payments)" "$before" "nothing imported after a bad row (the good row 2 too)"

run_dunlin ledger import "$L" --payments "$F/payments_baddate.csv"
expect_status 1 "bad date aborts the import"
expect_err "payments_baddate.csv:2:" "bad date located"

run_dunlin ledger import "$L" --customers "$F/customers.csv"
expect_status 1 "duplicate keys abort the import"
expect_err "customers.csv:2:" "duplicate located"
expect_eq "$(count customers)" 2 "customers unchanged after the duplicate"

run_dunlin ledger import "$L" --customers "$WORK/missing.csv"
expect_status 1 "missing CSV file"
run_dunlin ledger import "$L"
expect_status 2 "import with nothing to import"

echo "not a ledger" >"$WORK/junk.ledger"
run_dunlin ledger import "$WORK/junk.ledger" --customers "$F/customers.csv"
expect_status 1 "a file that is not a ledger"
expect_err "E0502" "not-a-ledger code"
expect_eq "$(cat "$WORK/junk.ledger")" "not a ledger" "the foreign file is untouched"

D="$WORK/demo.ledger"
run_dunlin ledger demo "$D" --customers 30 --seed 7 --today 2026-11-25
expect_status 0 "demo"
n1=$(sqlite3 "$D" 'SELECT count(*), sum(amount_minor) FROM invoices')
cur=$(sqlite3 "$D" 'SELECT count(DISTINCT currency) FROM invoices')
CHECKS=$((CHECKS + 1)); [ "$cur" -ge 3 ] || fail "demo has at least three currencies (got $cur)"
expect_eq "$(sqlite3 "$D" 'SELECT count(*) FROM customers')" 30 "demo customer count"
run_dunlin ledger demo "$WORK/demo2.ledger" --customers 30 --seed 7 --today 2026-11-25
expect_eq "$(sqlite3 "$WORK/demo2.ledger" 'SELECT count(*), sum(amount_minor) FROM invoices')" "$n1" "same seed, same ledger"
expect_eq "$(sqlite3 "$D" 'PRAGMA foreign_key_check' | wc -l)" 0 "demo is referentially sound"

run_dunlin ledger demo "$WORK/d3.ledger" --customers abc
expect_status 2 "demo with a bad count"
run_dunlin ledger frobnicate "$L"
expect_status 2 "unknown ledger subcommand"
run_dunlin ledger --help
expect_status 0 "ledger --help"
finish
