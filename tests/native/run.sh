#!/usr/bin/env bash
# Native libraries (`dunlin compile --native`, docs/native.md): every
# golden case (run and levels) and every shipped policy gives, with
# --native, byte for byte the output, stderr and exit status of the
# interpreter; every policy in
# the tree that checks clean compiles to C that the C compiler accepts;
# a library made for another policy, a file that is no library and a
# missing compiler are refused with E0509.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../cli/lib.sh"

# same_as_vm NAME ARGS...: `dunlin ARGS` and `dunlin ARGS --native LIB`
# agree on stdout, stderr and status (LIB is $WORK/NAME.so).
same_as_vm() {
  local name=$1; shift
  "$DUNLIN" "$@" >"$WORK/vm.out" 2>"$WORK/vm.err"; local vm=$?
  "$DUNLIN" "$@" --native "$WORK/$name.so" >"$WORK/nat.out" 2>"$WORK/nat.err"; local nat=$?
  CHECKS=$((CHECKS + 1))
  if [ "$vm" -ne "$nat" ] || ! cmp -s "$WORK/vm.out" "$WORK/nat.out" || ! cmp -s "$WORK/vm.err" "$WORK/nat.err"; then
    FAILS=$((FAILS + 1))
    echo "FAIL: $name: --native differs from the interpreter (exit $vm vs $nat)"
    diff "$WORK/vm.out" "$WORK/nat.out" | head -5
    diff "$WORK/vm.err" "$WORK/nat.err" | head -5
  fi
}

# The golden cases, each on its own ledger.
for dir in "$SRC"/tests/golden/cases/*/; do
  name=$(basename "$dir")
  L="$WORK/$name.ledger"
  golden_ledger "$dir" "$L" || { FAILS=$((FAILS + 1)); echo "FAIL: $name: the ledger"; continue; }
  policy=$GOLDEN_POLICY
  run_dunlin compile "$policy" --native "$WORK/$name.so"
  expect_status 0 "$name: compile --native"
  same_as_vm "$name" run "$policy" --ledger "$L" --as-of "$(cat "$dir/as_of")"
  # levels decides with the compiled ladders (native_ladder.c): business
  # days, calendars, guards, pauses and fx errors of every case.
  same_as_vm "$name" levels "$policy" --ledger "$L" --as-of "$(cat "$dir/as_of")" --format jsonl
done

# The shipped policies on a demo ledger: run, explain, levels, simulate.
D="$WORK/demo.ledger"
"$DUNLIN" ledger demo "$D" --customers 60 --today 2026-06-30 --seed 7 >/dev/null
for p in "$SRC"/policies/*.dun; do
  case $p in *_test.dun) continue ;; esac
  name=$(basename "$p" .dun)
  run_dunlin compile "$p" --native "$WORK/$name.so"
  expect_status 0 "$name: compile --native"
  same_as_vm "$name" run "$p" --ledger "$D" --as-of 2026-06-30
  same_as_vm "$name" levels "$p" --ledger "$D" --as-of 2026-06-30 --format jsonl
  same_as_vm "$name" simulate "$p" --ledger "$D" --from 2026-06-01 --to 2026-06-30 --format jsonl
  cust=$("$DUNLIN" run "$p" --ledger "$D" --as-of 2026-06-30 | head -1 | sed -E 's/.*"customer":"([^"]*)".*/\1/')
  same_as_vm "$name" explain "$p" --ledger "$D" --as-of 2026-06-30 --customer "$cust"
done

# A runtime error (division by zero in a guard) says the same, from the
# same source position, either way.
cat >"$WORK/divide.dun" <<'EOF'
policy "divide" version 1
currency USD
segment all otherwise
escalation e for invoice in all {
  step 1 day: email tone friendly when customer.total_open / (customer.open_invoices - customer.open_invoices) > 1.0 USD
  step 5 days: email tone friendly when customer.attr("plan") in ["gold", "silver"] or round(invoice.balance) > 10 USD
}
EOF
run_dunlin compile "$WORK/divide.dun" --native "$WORK/divide.so"
expect_status 0 "divide: compile --native"
same_as_vm divide run "$WORK/divide.dun" --ledger "$D" --as-of 2026-06-30
grep -q "error\[E0507\]" "$WORK/nat.err"; expect_eq "$?" 0 "divide: the runtime error is reported"
# A compiled ladder hands a customer whose guard fails back to the engine,
# which reports it as the interpreter does.
same_as_vm divide levels "$WORK/divide.dun" --ledger "$D" --as-of 2026-06-30 --format jsonl
grep -q "error\[E0507\]" "$WORK/nat.err"; expect_eq "$?" 0 "divide: levels reports the runtime error"
# ... also after another escalation has decided the customer's invoices:
# those decisions are made again by the engine, not kept twice.
cat >"$WORK/divide2.dun" <<'EOF'
policy "divide2" version 1
currency USD
segment all otherwise
escalation fine for invoice in all {
  step 1 day: email tone friendly
}
escalation broken for invoice in all {
  step 1 day: email tone friendly when customer.total_open / (customer.open_invoices - customer.open_invoices) > 1.0 USD
}
EOF
run_dunlin compile "$WORK/divide2.dun" --native "$WORK/divide2.so"
expect_status 0 "divide2: compile --native"
same_as_vm divide2 levels "$WORK/divide2.dun" --ledger "$D" --as-of 2026-06-30 --format jsonl
grep -q '"escalation":"fine"' "$WORK/nat.out"; expect_eq "$?" 0 "divide2: the first escalation's decisions are listed"

# An extern fn (LANGUAGE.md s.8) is called through the VM's own path.
if [ -n "${DUNLIN_FFI_FIXTURE:-}" ]; then
  cat >"$WORK/ffi.dun" <<EOF
policy "ffi" version 1
currency USD
extern fn risk_bonus(string, money) -> number from "$DUNLIN_FFI_FIXTURE"
extern fn double_days(int) -> int from "$DUNLIN_FFI_FIXTURE"
segment vip when risk_bonus(customer.tier, customer.total_open) >= 0.5
segment rest otherwise
escalation e for invoice in vip, rest {
  step 1 day: email tone friendly when double_days(invoice.days_past_due) > 20
  step 30 days: letter tone firm
}
EOF
  run_dunlin compile "$WORK/ffi.dun" --native "$WORK/ffi.so"
  expect_status 0 "ffi: compile --native"
  same_as_vm ffi run "$WORK/ffi.dun" --ledger "$D" --as-of 2026-06-30 --allow-ffi "$DUNLIN_FFI_FIXTURE"
  CHECKS=$((CHECKS + 1))
  grep -q '"segment":"vip"\|"kind":"email"' "$WORK/nat.out" || { FAILS=$((FAILS + 1)); echo "FAIL: ffi: no actions to compare"; }
fi

# Every policy in the tree that checks clean becomes C the compiler takes.
n=0
for p in $(find "$SRC/tests" "$SRC/policies" "$SRC/examples" -name '*.dun' ! -name '*_test.dun' | sort); do
  "$DUNLIN" check "$p" >/dev/null 2>&1 || continue
  n=$((n + 1))
  run_dunlin compile "$p" --native "$WORK/any.so"
  expect_status 0 "$p: compile --native"
done
CHECKS=$((CHECKS + 1))
[ "$n" -ge 20 ] || { FAILS=$((FAILS + 1)); echo "FAIL: only $n policies checked clean"; }

# Refusals: another policy's library, a file that is no library, no compiler.
P="$SRC/policies/b2b_net30.dun"
run_dunlin run "$P" --ledger "$D" --as-of 2026-06-30 --native "$WORK/smb_gentle.so"
expect_status 1 "another policy's library"
expect_err "error[E0509]: made from another policy" "another policy's library: why"
run_dunlin run "$P" --ledger "$D" --as-of 2026-06-30 --native "$D"
expect_status 1 "a ledger given as the library"
expect_err "E0509" "a ledger given as the library: code"
CC=/nonexistent/cc run_dunlin compile "$P" --native "$WORK/nocc.so"
expect_status 1 "no C compiler"
expect_err "the C compiler \`/nonexistent/cc\` was not found" "no C compiler: why"
expect_err "$WORK/nocc.so: error[E0509]" "no C compiler: names the library asked for"
[ ! -e "$WORK/nocc.so" ]; expect_eq "$?" 0 "no C compiler: no library left behind"
run_dunlin compile "$P" --native "$P"
expect_status 2 "--native onto the policy itself"
# Bytecode and source of one policy are one program: a library built from
# either serves both.
run_dunlin compile "$P" -o "$WORK/b2b.dbc"
expect_status 0 "compile to bytecode"
"$DUNLIN" run "$WORK/b2b.dbc" --ledger "$D" --as-of 2026-06-30 --native "$WORK/b2b_net30.so" >"$WORK/dbc.out" 2>&1
expect_eq "$?" 0 "a .dbc runs with the library built from its source"
"$DUNLIN" run "$P" --ledger "$D" --as-of 2026-06-30 >"$WORK/src.out" 2>&1
cmp -s "$WORK/dbc.out" "$WORK/src.out"; expect_eq "$?" 0 "and gives the source's output"

# A policy name that would end the generated file's header comment.
printf 'policy "a */ int x = (1/0); /* b" version 1\ncurrency USD\nsegment all otherwise\nescalation e for invoice in all {\n  step 1 day: email tone friendly\n}\n' >"$WORK/name.dun"
run_dunlin compile "$WORK/name.dun" --native "$WORK/name.so"
expect_status 0 "a policy name with */ in it"
run_dunlin compile "$P" --emit-c "$WORK/b2b.c"
expect_status 0 "--emit-c"
grep -q "dunlin_native_program" "$WORK/b2b.c"; expect_eq "$?" 0 "--emit-c writes the library's source"

finish
