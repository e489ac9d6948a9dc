/* test_facts.c - the streaming ledger reader (runtime/facts.c): balances,
 * settlement, disputes, promises, events, fx, history, stream order.
 * Expected values are worked out by hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lang/program.h"
#include "runtime/facts_reader.h"
#include "runtime/ledger.h"
#include "ledger_fixture.h"

typedef struct fixture {
  char dir[64], path[96];
  dn_ledger l;
  dn_diags diags;
  dn_program p;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!lf_make_dir(f->dir, sizeof f->dir, "facts", f->path, sizeof f->path)) return -1;
  dn_diags_init(&f->diags, "t", NULL, 0);
  if (dn_ledger_open(f->path, DN_LEDGER_CREATE, &f->l, &f->diags) != DN_OK) return -1;
  f->p.name = "t";
  f->p.currency = dn_currency_lookup("USD", 3);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  dn_ledger_close(&f->l);
  dn_diags_free(&f->diags);
  lf_remove_ledger(f->dir, f->path);
  free(f);
  return 0;
}

static dn_date D(const char *s) {
  dn_date d;
  assert_true(dn_date_parse(s, strlen(s), &d));
  return d;
}

static const dn_invoice_facts *inv(const dn_customer_facts *c, const char *id) {
  for (int32_t i = 0; i < c->ninvoices; i++)
    if (!strcmp(c->invoices[i].id, id)) return &c->invoices[i];
  return NULL;
}

/* Opens a reader as of 2026-03-10 (only: one customer, or NULL) and reads
 * its first customer into *c, which must be there. */
static dn_facts_reader *read_first(fixture *f, const char *only, dn_customer_facts *c) {
  dn_facts_reader *r;
  assert_int_equal(dn_facts_reader_open(&f->l, &f->p, D("2026-03-10"), only, &r, &f->diags), DN_OK);
  dn_customer_facts_init(c);
  bool got;
  assert_int_equal(dn_facts_reader_next(r, c, &got, &f->diags), DN_OK);
  assert_true(got);
  return r;
}

/* The ledger of the main test; D = 2026-03-10. */
static void load_ledger(fixture *f) {
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id, name, tier, credit_limit_minor, currency, risk_score, attrs)"
              " VALUES ('C1', 'Acme', 'standard', 500000, 'USD', NULL, '{\"region\":\"east\"}'),"
              " ('C2', 'Euro', 'strategic', 100000, 'EUR', 0.5, NULL),"
              " ('C3', 'Pound', 'standard', 100, 'GBP', NULL, NULL);"
              "INSERT INTO invoices(id, customer_id, number, issue_date, due_date, currency, amount_minor) VALUES"
              " ('A1', 'C1', 'N1', '2026-01-01', '2026-01-31', 'USD', 100000),"
              " ('A2', 'C1', 'N2', '2026-02-01', '2026-02-20', 'USD', 50000),"
              " ('A3', 'C1', 'N3', '2026-02-15', '2026-03-01', 'USD', 80000),"
              " ('A4', 'C1', 'N4', '2026-03-10', '2026-04-09', 'USD', 20000),"
              " ('A5', 'C1', 'N5', '2026-03-11', '2026-04-10', 'USD', 30000),"
              " ('A6', 'C1', 'N6', '2026-02-01', '2026-03-03', 'EUR', 10000);"
              "INSERT INTO payments(id, customer_id, invoice_id, date, amount_minor, currency, status) VALUES"
              " ('P1', 'C1', 'A1', '2026-02-05', 60000, 'USD', 'settled'),"
              " ('P2', 'C1', 'A2', '2026-02-18', 50000, 'USD', 'settled'),"
              " ('P3', 'C1', 'A3', '2026-03-05', 30000, 'USD', 'settled'),"
              " ('P4', 'C1', 'A3', '2026-03-10', 20000, 'USD', 'failed'),"
              " ('P5', 'C1', 'A3', '2026-03-11', 50000, 'USD', 'settled');"
              "INSERT INTO credits(id, invoice_id, date, amount_minor) VALUES"
              " ('K1', 'A1', '2026-02-10', 40000);"
              "INSERT INTO disputes(id, invoice_id, opened_on, resolved_on) VALUES"
              " ('D1', 'A6', '2026-03-05', NULL), ('D2', 'A3', '2026-02-01', '2026-03-10');"
              "INSERT INTO promises(id, customer_id, invoice_id, made_on, promised_date, amount_minor) VALUES"
              " ('PR1', 'C1', NULL, '2026-03-08', '2026-03-20', 10000),"
              " ('PR2', 'C1', 'A3', '2026-03-01', '2026-03-09', 40000);"
              "INSERT INTO fx_rates(date, base, quote, rate) VALUES"
              " ('2026-02-01', 'EUR', 'USD', '1.2000'), ('2026-03-01', 'EUR', 'USD', '1.0850'),"
              " ('2026-03-11', 'EUR', 'USD', '2.0000');"
              "INSERT INTO actions(key, as_of, policy, rule, step, customer_id, invoice_ids, kind, tone, status)"
              " VALUES ('h1', '2026-03-09', 't', 'dunning', '7d', 'C1', '[\"A3\"]', 'email', 'firm', 'scheduled'),"
              " ('h2', '2026-03-10', 't', 'dunning', '15d', 'C1', '[\"A3\"]', 'email', 'final', 'scheduled'),"
              " ('h3', '2026-03-01', 'other', 'x', '1d', 'C1', '[\"A3\"]', 'call', 'final', 'scheduled');");
}

static void test_customer_facts(void **state) {
  fixture *f = *state;
  load_ledger(f);
  dn_customer_facts c;
  dn_facts_reader *r = read_first(f, NULL, &c);
  bool got;
  assert_string_equal(c.id, "C1");
  assert_string_equal(c.attrs_json, "{\"region\":\"east\"}");
  assert_null(c.timezone);
  assert_true(c.risk_score == 0.0);
  assert_int_equal(c.credit_limit_p.minor, 500000);
  /* A5 is issued after D: it does not exist yet. */
  assert_int_equal(c.ninvoices, 5);
  assert_null(inv(&c, "A5"));
  /* A1: 60000 paid + 40000 credit -> settled 2026-02-10, 10 days late. */
  const dn_invoice_facts *a1 = inv(&c, "A1");
  assert_int_equal(a1->balance, 0);
  assert_false(a1->open);
  assert_int_equal(a1->paid, 100000);
  assert_int_equal(a1->last_payment_date, D("2026-02-05"));
  /* A3: 80000 - 30000 (P4 failed, P5 after D) = 50000, 9 days past due. */
  const dn_invoice_facts *a3 = inv(&c, "A3");
  assert_int_equal(a3->balance, 50000);
  assert_int_equal(a3->balance_p, 50000);
  assert_true(a3->open);
  assert_int_equal(a3->days_past_due, 9);
  assert_int_equal(a3->last_payment_date, D("2026-03-05"));
  assert_false(a3->disputed); /* D2 resolved on D */
  assert_true(a3->promise_active); /* PR2 broke, but customer-level PR1 is active */
  /* A6: EUR 100.00 at 1.0850 (the latest rate <= D) = USD 108.50. */
  const dn_invoice_facts *a6 = inv(&c, "A6");
  assert_false(a6->fx_missing);
  assert_int_equal(a6->balance_p, 10850);
  assert_int_equal(a6->amount_p, 10850);
  assert_true(a6->disputed);
  assert_int_equal(a6->days_past_due, 7);
  assert_int_equal(a6->last_payment_date, DN_DATE_NONE);
  const dn_invoice_facts *a4 = inv(&c, "A4");
  assert_int_equal(a4->days_past_due, -30);
  /* Open: A3 50000 (9), A4 20000 (-30), A6 10850 (7). */
  assert_int_equal(c.total_open_p.minor, 80850);
  assert_int_equal(c.total_overdue_p.minor, 60850);
  assert_int_equal(c.open_invoices, 3);
  assert_int_equal(c.overdue_invoices, 2);
  assert_int_equal(c.oldest_days_past_due, 9);
  /* Settled by D: A1 10 days late, A2 on time. */
  assert_true(c.avg_days_late == 5.0);
  assert_true(c.on_time_ratio == 0.5);
  assert_true(c.promise_active);
  /* Events dated D, by kind: P4 failed, PR2 broken, D2 resolved, A4 issued. */
  assert_int_equal(c.nevents, 4);
  assert_int_equal(c.events[0].kind, DN_EV_PAYMENT_FAILED);
  assert_string_equal(c.events[0].id, "P4");
  assert_string_equal(c.invoices[c.events[0].invoice].id, "A3");
  assert_int_equal(c.events[1].kind, DN_EV_PROMISE_BROKEN);
  assert_string_equal(c.events[1].id, "PR2");
  assert_int_equal(c.events[2].kind, DN_EV_DISPUTE_RESOLVED);
  assert_string_equal(c.events[2].id, "D2");
  assert_int_equal(c.events[3].kind, DN_EV_INVOICE_ISSUED);
  assert_string_equal(c.events[3].id, "A4");
  /* History: only this policy's rows dated before D. */
  assert_int_equal(c.nhistory, 1);
  assert_string_equal(c.history[0].key, "h1");
  assert_string_equal(c.history[0].invoice_ids, "[\"A3\"]");
  assert_int_equal(c.last_contact_date, D("2026-03-09"));
  assert_string_equal(c.last_tone, "firm");

  assert_int_equal(dn_facts_reader_next(r, &c, &got, &f->diags), DN_OK);
  assert_true(got);
  assert_string_equal(c.id, "C2");
  assert_int_equal(c.credit_limit_p.minor, 108500); /* EUR 1000.00 at 1.0850 */
  assert_true(c.risk_score == 0.5);
  assert_int_equal(c.ninvoices, 0);
  assert_true(c.on_time_ratio == 1.0);
  assert_true(c.avg_days_late == 0.0);
  assert_int_equal(c.last_contact_date, DN_DATE_NONE);

  assert_int_equal(dn_facts_reader_next(r, &c, &got, &f->diags), DN_OK);
  assert_true(got);
  assert_string_equal(c.id, "C3");
  assert_true(c.fx_missing); /* no GBP rate for the credit limit */
  assert_string_equal(c.fx_from, "GBP");

  assert_int_equal(dn_facts_reader_next(r, &c, &got, &f->diags), DN_OK);
  assert_false(got);
  dn_customer_facts_free(&c);
  dn_facts_reader_close(r);
  assert_int_equal(f->diags.errors, 0);
}

static void test_promise_kept_and_made(void **state) {
  fixture *f = *state;
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id) VALUES ('C1');"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor) VALUES"
              " ('I1', 'C1', '2026-02-01', '2026-03-01', 'USD', 100000),"
              " ('I2', 'C1', '2026-02-01', '2026-03-01', 'USD', 100000);"
              "INSERT INTO payments(id, customer_id, invoice_id, date, amount_minor, currency, status) VALUES"
              " ('P1', 'C1', 'I1', '2026-03-06', 100000, 'USD', 'settled');"
              "INSERT INTO promises(id, customer_id, invoice_id, made_on, promised_date, amount_minor) VALUES"
              " ('PR1', 'C1', 'I1', '2026-03-05', '2026-03-12', 100000),"
              " ('PR2', 'C1', 'I2', '2026-03-10', '2026-03-12', 50000);");
  dn_customer_facts c;
  dn_facts_reader *r = read_first(f, NULL, &c);
  /* PR1 kept by P1 on 03-06; PR2 made on D and active for I2 only. */
  assert_false(inv(&c, "I1")->promise_active);
  assert_true(inv(&c, "I2")->promise_active);
  assert_true(c.promise_active);
  assert_int_equal(c.nevents, 1);
  assert_int_equal(c.events[0].kind, DN_EV_PROMISE_MADE);
  assert_string_equal(c.events[0].id, "PR2");
  /* I1 settled on 03-06, 5 days after its due date. */
  assert_true(c.avg_days_late == 5.0);
  assert_true(c.on_time_ratio == 0.0);
  dn_customer_facts_free(&c);
  dn_facts_reader_close(r);
}

static void test_only_customer_and_missing_invoice_rate(void **state) {
  fixture *f = *state;
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id) VALUES ('C1'), ('C2'), ('C3');"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor) VALUES"
              " ('I1', 'C1', '2026-02-01', '2026-03-01', 'USD', 100),"
              " ('I2', 'C2', '2026-02-01', '2026-03-01', 'JPY', 5000),"
              " ('I3', 'C2', '2026-02-01', '2026-03-01', 'USD', 700),"
              " ('I4', 'C3', '2026-02-01', '2026-03-01', 'USD', 100);"
              /* only the inverse pair exists for JPY, dated after D: unusable */
              "INSERT INTO fx_rates(date, base, quote, rate) VALUES ('2026-03-11', 'USD', 'JPY', '150');");
  dn_customer_facts c;
  dn_facts_reader *r = read_first(f, "C2", &c);
  bool got;
  assert_string_equal(c.id, "C2");
  assert_int_equal(c.ninvoices, 2);
  assert_true(inv(&c, "I2")->fx_missing);
  assert_false(inv(&c, "I3")->fx_missing);
  /* A missing rate keeps the invoice out of the totals. */
  assert_int_equal(c.total_open_p.minor, 700);
  assert_int_equal(c.open_invoices, 1);
  assert_int_equal(dn_facts_reader_next(r, &c, &got, &f->diags), DN_OK);
  assert_false(got);
  dn_customer_facts_free(&c);
  dn_facts_reader_close(r);
}

/* Foreign invoices converted sum by sum (runtime/facts.c, convert_part):
 * a part-paid one converts its amount, its balance and what was paid each
 * on its own; a paid one and an unpaid one take 0 and the amount's
 * conversion. EUR at 1.0850, rounded half to even:
 *   B1 100.01 paid 33.33: 10851.085 -> 10851, 3616.305 -> 3616,
 *      balance 66.68: 7234.78 -> 7235;
 *   B2 50.00 paid in full: 5425, balance 0;
 *   B3 20.00 unpaid: 2170, paid 0. */
static void test_part_paid_foreign(void **state) {
  fixture *f = *state;
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id, name, tier, credit_limit_minor, currency)"
              " VALUES ('C1', 'Acme', 'standard', 500000, 'USD');"
              "INSERT INTO invoices(id, customer_id, number, issue_date, due_date, currency, amount_minor) VALUES"
              " ('B1', 'C1', 'N1', '2026-02-01', '2026-03-01', 'EUR', 10001),"
              " ('B2', 'C1', 'N2', '2026-02-01', '2026-03-01', 'EUR', 5000),"
              " ('B3', 'C1', 'N3', '2026-02-01', '2026-03-01', 'EUR', 2000);"
              "INSERT INTO payments(id, customer_id, invoice_id, date, amount_minor, currency, status) VALUES"
              " ('P1', 'C1', 'B1', '2026-03-02', 3333, 'EUR', 'settled'),"
              " ('P2', 'C1', 'B2', '2026-03-02', 5000, 'EUR', 'settled');"
              "INSERT INTO fx_rates(date, base, quote, rate) VALUES ('2026-03-01', 'EUR', 'USD', '1.0850');");
  dn_customer_facts c;
  dn_facts_reader *r = read_first(f, NULL, &c);
  const dn_invoice_facts *b1 = inv(&c, "B1"), *b2 = inv(&c, "B2"), *b3 = inv(&c, "B3");
  assert_non_null(b1);
  assert_non_null(b2);
  assert_non_null(b3);
  assert_int_equal(b1->amount_p, 10851);
  assert_int_equal(b1->paid_p, 3616);
  assert_int_equal(b1->balance_p, 7235);
  assert_int_equal(b2->amount_p, 5425);
  assert_int_equal(b2->paid_p, 5425);
  assert_int_equal(b2->balance_p, 0);
  assert_false(b2->open);
  assert_int_equal(b3->amount_p, 2170);
  assert_int_equal(b3->paid_p, 0);
  assert_int_equal(b3->balance_p, 2170);
  assert_int_equal(c.total_open_p.minor, 7235 + 2170);
  assert_int_equal(f->diags.errors, 0);
  dn_customer_facts_free(&c);
  dn_facts_reader_close(r);
}

static void test_inverse_rate(void **state) {
  fixture *f = *state;
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id) VALUES ('C1');"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor) VALUES"
              " ('I1', 'C1', '2026-02-01', '2026-03-01', 'JPY', 15000);"
              "INSERT INTO fx_rates(date, base, quote, rate) VALUES ('2026-03-01', 'USD', 'JPY', '150');");
  dn_customer_facts c;
  dn_facts_reader *r = read_first(f, NULL, &c);
  /* JPY 15000 / 150 = USD 100.00 */
  assert_int_equal(c.invoices[0].balance_p, 10000);
  dn_money out;
  assert_true(dn_facts_convert(r, (dn_money){.minor = 300, .cur = f->p.currency},
                               dn_currency_lookup("JPY", 3), &out));
  assert_int_equal(out.minor, 450); /* USD 3.00 = JPY 450 */
  dn_customer_facts_free(&c);
  dn_facts_reader_close(r);
}

/* The rate rule of LEDGER.md: the latest row dated <= D; an inverse row
 * only where no direct one is dated <= D, even a later inverse. */
static void test_rate_rule(void **state) {
  fixture *f = *state;
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id) VALUES ('C1');"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor) VALUES"
              " ('I1', 'C1', '2026-02-01', '2026-03-01', 'EUR', 10000),"
              " ('I2', 'C1', '2026-02-01', '2026-03-01', 'GBP', 10000);"
              "INSERT INTO fx_rates(date, base, quote, rate) VALUES"
              " ('2026-02-01', 'EUR', 'USD', '1.00'), ('2026-03-01', 'EUR', 'USD', '1.10'),"
              " ('2026-03-05', 'USD', 'EUR', '0.5'), ('2026-03-11', 'EUR', 'USD', '2'),"
              " ('2026-03-01', 'USD', 'GBP', '0.8'), ('2026-03-09', 'USD', 'GBP', '0.5'),"
              " ('2026-03-12', 'GBP', 'USD', '3');");
  dn_customer_facts c;
  dn_facts_reader *r = read_first(f, NULL, &c);
  /* EUR: the direct 03-01 row (1.10), not the later inverse, not 03-11. */
  assert_int_equal(inv(&c, "I1")->balance_p, 11000);
  /* GBP: no direct row by D, so the latest inverse (03-09, 0.5): 200.00. */
  assert_int_equal(inv(&c, "I2")->balance_p, 20000);
  dn_customer_facts_free(&c);
  dn_facts_reader_close(r);
}

/* A holidays read that fails half-way (here a view that raises an
 * integer overflow on its second row) is a ledger error, not a shorter
 * calendar: the first holiday alone would move business days silently. */
static void test_holidays_read_error(void **state) {
  fixture *f = *state;
  lf_exec_sql(f->l.db,
              "CREATE TABLE h2(date TEXT, calendar TEXT);"
              "INSERT INTO h2 VALUES ('2026-01-01', 'US'), ('2026-01-02', 'US');"
              "DROP TABLE holidays;"
              "CREATE VIEW holidays AS SELECT date, calendar FROM h2 WHERE CASE WHEN"
              " date > '2026-01-01' THEN abs(-9223372036854775807 - 1) ELSE 1 END;");
  dn_calendar *cal = dn_calendar_new("US");
  assert_non_null(cal);
  assert_int_equal(dn_facts_load_holidays(&f->l, "US", cal, &f->diags), DN_ERR_INPUT);
  assert_true(f->diags.errors >= 1);
  assert_int_equal(f->diags.items[0].code, DN_E0502);
  dn_calendar_free(cal);
}

/* `explain --invoice` finds the invoice's customer first; a read that
 * fails (a view raising an integer overflow) is a ledger error, not "no
 * such invoice". */
static void test_invoice_customer_read_error(void **state) {
  fixture *f = *state;
  lf_exec_sql(f->l.db,
              "CREATE TABLE i2(id TEXT, customer_id TEXT);"
              "INSERT INTO i2 VALUES ('I1', 'C1');"
              "DROP TABLE invoices;"
              "CREATE VIEW invoices AS SELECT id, customer_id FROM i2"
              " WHERE abs(-9223372036854775807 - 1) > 0;");
  char buf[32];
  bool found = true;
  assert_int_equal(dn_facts_invoice_customer(&f->l, "I1", buf, sizeof buf, &found, &f->diags),
                   DN_ERR_INPUT);
  assert_false(found);
  assert_int_equal(f->diags.items[0].code, DN_E0502);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_customer_facts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_promise_kept_and_made, setup, teardown),
      cmocka_unit_test_setup_teardown(test_only_customer_and_missing_invoice_rate, setup, teardown),
      cmocka_unit_test_setup_teardown(test_part_paid_foreign, setup, teardown),
      cmocka_unit_test_setup_teardown(test_inverse_rate, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rate_rule, setup, teardown),
      cmocka_unit_test_setup_teardown(test_holidays_read_error, setup, teardown),
      cmocka_unit_test_setup_teardown(test_invoice_customer_read_error, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
