#!/usr/bin/env bash
# dunlin simulate: the incremental replay reads the working copy's rows from
# memory (runtime/facts.c, dn_facts_store), decoded once, filtering them by
# date itself and keeping the action history up to date from the outbox.
# It must give what reading SQLite gives: compared byte for byte (jsonl,
# stderr, exit status) with the full replay and with the SQLite reads
# (DUNLIN_SIM_READ=keyed|scan) on a ledger written around the import's
# checks: NULL customer fields, a customer in another currency with rates
# on some days only, rows of customers that do not exist, credits,
# disputes resolved later or with a resolved_on that is no date, a promise
# whose promised_date is no date, an invoice whose issue date is no date
# (awake every day: it appears on a day only text order knows), failed
# payments, and history rows of
# this policy with NULL, odd (a prefix of D's text sorts before it) and
# future as_of text, of another policy and of an unknown customer.
. "$(dirname "$0")/lib.sh"

S="$SRC/tests/sim"
L="$WORK/odd.ledger"
"$DUNLIN" ledger init "$L" >/dev/null
"$DUNLIN" ledger import "$L" --customers "$S/customers.csv" --invoices "$S/invoices.csv" \
  --payments "$S/payments.csv" >/dev/null
sqlite3 "$L" <<'SQL'
INSERT INTO customers(id, name) VALUES ('C5', NULL);
INSERT INTO customers(id, name, timezone, currency, credit_limit_minor, risk_score)
  VALUES ('C6', 'Euro', 'Europe/Paris', 'EUR', 500000, 0.5);
INSERT INTO invoices VALUES ('I5', 'C5', NULL, '2026-02-03', '2026-03-03', 'USD', 70000);
INSERT INTO invoices VALUES ('I5b', 'C5', 'N5b', '2026-03-06', '2026-03-09', 'USD', 10000);
INSERT INTO invoices VALUES ('I6', 'C6', 'N6', '2026-02-01', '2026-03-01', 'EUR', 90000);
INSERT INTO invoices VALUES ('IX', 'CX', 'NX', '2026-02-01', '2026-03-01', 'USD', 90000);
INSERT INTO fx_rates VALUES ('2026-03-04', 'EUR', 'USD', '1.08'), ('2026-03-11', 'EUR', 'USD', '1.11');
INSERT INTO payments VALUES ('P0', 'C0', NULL, '2026-03-05', 100, 'USD', 'settled');
INSERT INTO payments VALUES ('P5', 'C5', 'I5', '2026-03-07', 20000, 'USD', 'failed');
INSERT INTO payments VALUES ('P5b', 'C5', 'I5', '2026-03-09', 30000, 'USD', 'settled');
INSERT INTO payments VALUES ('P6', 'C6', NULL, '2026-03-12', 10000, 'EUR', 'settled');
INSERT INTO credits VALUES ('K1', 'I1', '2026-03-10', 10000, 'goodwill');
INSERT INTO credits VALUES ('KX', 'IX', '2026-03-10', 10000, NULL);
INSERT INTO disputes VALUES ('D3', 'I3a', '2026-03-05', '2026-03-12', NULL, NULL, NULL);
INSERT INTO disputes VALUES ('D4', 'I4', '2026-03-06', 'soon', NULL, NULL, NULL);
INSERT INTO promises VALUES ('R5', 'C5', 'I5', '2026-03-04', '2026-3-20', 1000);
INSERT INTO promises VALUES ('R4', 'C4', NULL, '2026-03-08', '2026-03-10', 100000);
-- An issue date that is text but no date, past the import's CHECK: the
-- invoice is visible from 03-10, when "2026-03-1" sorts before D's text.
INSERT INTO customers(id, name) VALUES ('C7', 'Odd issue date');
PRAGMA ignore_check_constraints = ON;
INSERT INTO invoices VALUES ('I7', 'C7', 'N7', '2026-03-1', '2026-03-11', 'USD', 50000);
PRAGMA ignore_check_constraints = OFF;
INSERT INTO actions(key, as_of, policy, rule, step, customer_id, invoice_ids, kind, tone, status) VALUES
  ('k1', '2026-02-27', 'sim-ladder', 'dunning', '1d', 'C1', '["I1"]', 'email', 'friendly', 'sent'),
  ('k2', NULL, 'sim-ladder', 'dunning', '5d', 'C1', '["I1"]', 'email', 'firm', 'scheduled'),
  ('k3', '2026-03-01T23:59', 'sim-ladder', 'big', NULL, 'C4', '[]', 'task', NULL, 'scheduled'),
  ('k4', '2026-03-05', 'sim-ladder', 'dunning', '1d', 'C2', '["I2"]', 'email', 'friendly', 'scheduled'),
  ('k5', '2026-02-28', 'other', 'dunning', '1d', 'C3', '["I3a"]', 'email', 'friendly', 'scheduled'),
  ('k6', '2026-02-28', 'sim-ladder', 'dunning', '1d', 'C9', '["I9"]', 'email', 'friendly', 'scheduled'),
  ('k7', '2026-02-26', 'sim-ladder', 'dunning', '1d', 'C3', '["I3b","I3a"]', 'email', NULL, 'deferred'),
  ('k8', '2026-03', 'sim-ladder', 'dunning', '1d', 'C2', '["I2"]', 'email', 'friendly', 'scheduled');
SQL

# Every event, so that a row seen a day early or late changes the output;
# decisions that read the history (once per, caps, last tone).
cat >"$WORK/events.dun" <<'POL'
policy "sim-ladder" version 1
currency USD
timezone "UTC"
segment promised when customer.promise_active
segment everyone otherwise
escalation dunning for invoice in everyone unless invoice.disputed {
  step 1 day: email tone friendly
  step 5 days: email tone firm
  step 10 days: call tone final
}
on invoice.issued for invoice do email template "invoice-copy"
on payment.received for invoice do task "log payment"
on payment.failed for invoice do email tone firm template "payment-failed"
on dispute.opened for invoice do task "review dispute"
on dispute.resolved for invoice do task "resume dunning"
on promise.made for customer do task "note promise"
on promise.broken for customer do call tone final
rule big for customer when customer.total_overdue >= 1_000 USD do task "review account" once per 7 days
limit contacts per customer: 1 per 2 days
POL

for P in "$S/ladder.dun" "$S/ladder_v2.dun" "$WORK/events.dun"; do
  name=$(basename "$P")
  args=(simulate "$P" --ledger "$L" --from 2026-03-02 --to 2026-03-21 --format jsonl)
  "$DUNLIN" "${args[@]}" >"$WORK/mem.jsonl" 2>"$WORK/mem.err"
  sm=$?
  "$DUNLIN" "${args[@]}" --full >"$WORK/full.jsonl" 2>"$WORK/full.err"
  sf=$?
  expect_eq "$sm" "$sf" "$name: exit status of the memory reads and of --full"
  CHECKS=$((CHECKS + 1))
  if ! cmp -s "$WORK/mem.jsonl" "$WORK/full.jsonl" || ! cmp -s "$WORK/mem.err" "$WORK/full.err"; then
    FAILS=$((FAILS + 1)); echo "FAIL: $name: memory reads differ from --full"
    diff "$WORK/full.jsonl" "$WORK/mem.jsonl" | head -5
    diff "$WORK/full.err" "$WORK/mem.err" | head -5
  fi
  for read in keyed scan; do
    DUNLIN_SIM_READ=$read "$DUNLIN" "${args[@]}" >"$WORK/$read.jsonl" 2>"$WORK/$read.err"
    CHECKS=$((CHECKS + 1))
    if ! cmp -s "$WORK/mem.jsonl" "$WORK/$read.jsonl" || ! cmp -s "$WORK/mem.err" "$WORK/$read.err"; then
      FAILS=$((FAILS + 1)); echo "FAIL: $name: memory reads differ from $read SQLite reads"
    fi
  done
  # The ledger must have given the replay something to do: actions for
  # the added customers and the data errors of C6's missing rates.
  CHECKS=$((CHECKS + 1))
  grep -q '"customer":"C5"' "$WORK/mem.jsonl" || { FAILS=$((FAILS + 1)); echo "FAIL: $name: no action for C5"; }
  CHECKS=$((CHECKS + 1))
  grep -q '"customer":"C7"' "$WORK/mem.jsonl" || { FAILS=$((FAILS + 1)); echo "FAIL: $name: no action for C7"; }
  CHECKS=$((CHECKS + 1))
  [ -s "$WORK/mem.err" ] || { FAILS=$((FAILS + 1)); echo "FAIL: $name: no data error reported"; }
done

finish
