/* test_demo.c - the synthetic demo ledger: reproducible from the seed,
 * referentially sound, and holding what a demo run needs (three
 * currencies, every tier and habit, events dated today, fx up to today). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/ledger.h"
#include "ledger_fixture.h"

typedef struct fixture {
  char dir[64];
  dn_diags diags;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_true(lf_make_dir(f->dir, sizeof f->dir, "demo", NULL, 0));
  dn_diags_init(&f->diags, NULL, NULL, 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  dn_diags_free(&f->diags);
  int rc = lf_remove_tree(f->dir);
  free(f);
  return rc;
}

/* Today = 2026-03-16, a Monday. */
#define TODAY dn_date_from_ymd(2026, 3, 16)

static void make(fixture *f, const char *name, int64_t customers, uint64_t seed, dn_ledger *l) {
  char path[128];
  snprintf(path, sizeof path, "%s/%s", f->dir, name);
  assert_int_equal(dn_ledger_open(path, DN_LEDGER_CREATE, l, &f->diags), DN_OK);
  dn_demo_options o = {customers, seed, TODAY};
  assert_int_equal(dn_ledger_demo(l, &o, &f->diags), DN_OK);
  assert_int_equal(f->diags.count, 0);
}

/* A fingerprint of the whole ledger: row counts and money sums per table. */
static const char *const fingerprint_sql =
    "SELECT (SELECT count(*) || ':' || total(amount_minor) FROM invoices) || '/' ||"
    " (SELECT count(*) || ':' || total(amount_minor) FROM payments) || '/' ||"
    " (SELECT count(*) || ':' || total(amount_minor) FROM credits) || '/' ||"
    " (SELECT count(*) || ':' || total(amount_minor) FROM disputes) || '/' ||"
    " (SELECT count(*) || ':' || total(amount_minor) FROM promises) || '/' ||"
    " (SELECT count(*) || ':' || group_concat(rate, ',') FROM fx_rates) || '/' ||"
    " (SELECT count(*) || ':' || total(credit_limit_minor) || group_concat(name || tier || timezone, ',') FROM customers)";

static void test_same_seed_same_ledger(void **state) {
  fixture *f = *state;
  dn_ledger a, b, c;
  make(f, "a.db", 40, 7, &a);
  make(f, "b.db", 40, 7, &b);
  make(f, "c.db", 40, 8, &c);
  char fa[1 << 14], fb[1 << 14], fc[1 << 14];
  lf_query_text(a.db, fingerprint_sql, fa, sizeof fa);
  lf_query_text(b.db, fingerprint_sql, fb, sizeof fb);
  lf_query_text(c.db, fingerprint_sql, fc, sizeof fc);
  assert_string_equal(fa, fb);
  assert_string_not_equal(fa, fc);
  assert_int_equal(lf_query_int(a.db, "SELECT count(*) FROM customers"), 40);
  assert_int_equal(lf_query_int(c.db, "SELECT count(*) FROM customers"), 40);
  /* Different seeds give different amounts, not only different names. */
  assert_int_not_equal(lf_query_int(a.db, "SELECT total(amount_minor) FROM invoices"),
                       lf_query_int(c.db, "SELECT total(amount_minor) FROM invoices"));
  dn_ledger_close(&a);
  dn_ledger_close(&b);
  dn_ledger_close(&c);
}

static void test_contents(void **state) {
  fixture *f = *state;
  dn_ledger l;
  char b[64];
  make(f, "demo.db", 60, 42, &l);
  assert_int_equal(lf_query_int(l.db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
  /* About ten invoices each (8 to 12), over the six months before today. */
  int64_t inv = lf_query_int(l.db, "SELECT count(*) FROM invoices");
  assert_true(inv >= 8 * 60 && inv <= 12 * 60);
  assert_int_equal(lf_query_int(l.db, "SELECT count(*) FROM (SELECT customer_id FROM invoices GROUP BY 1"
                                 " HAVING count(*) < 8 OR count(*) > 12)"), 0);
  assert_string_equal(lf_query_text(l.db, "SELECT min(issue_date) >= '2025-09-17' AND max(issue_date) <= '2026-03-16'"
                                     " FROM invoices", b, sizeof b), "1");
  assert_true(lf_query_int(l.db, "SELECT count(DISTINCT currency) FROM invoices") >= 3);
  assert_int_equal(lf_query_int(l.db, "SELECT count(DISTINCT tier) FROM customers"
                                 " WHERE tier IN ('strategic', 'standard', 'smb')"), 3);
  /* Time zones match countries. */
  assert_int_equal(lf_query_int(l.db, "SELECT count(*) FROM customers WHERE NOT ("
                                 " (country = 'US' AND timezone IN ('America/New_York', 'America/Chicago',"
                                 "  'America/Los_Angeles') AND currency = 'USD') OR"
                                 " (country = 'GB' AND timezone = 'Europe/London' AND currency = 'GBP') OR"
                                 " (country = 'DE' AND timezone = 'Europe/Berlin' AND currency = 'EUR') OR"
                                 " (country = 'FR' AND timezone = 'Europe/Paris' AND currency = 'EUR'))"), 0);
  assert_int_equal(lf_query_int(l.db, "SELECT count(*) FROM customers WHERE json_valid(attrs) = 0"
                                 " OR json_extract(attrs, '$.industry') IS NULL OR credit_limit_minor IS NULL"
                                 " OR risk_score IS NULL"), 0);
  /* Nothing in the ledger is dated after today. */
  assert_int_equal(lf_query_int(l.db, "SELECT (SELECT count(*) FROM payments WHERE date > '2026-03-16') +"
                                 " (SELECT count(*) FROM credits WHERE date > '2026-03-16') +"
                                 " (SELECT count(*) FROM disputes WHERE opened_on > '2026-03-16'"
                                 "   OR resolved_on > '2026-03-16') +"
                                 " (SELECT count(*) FROM promises WHERE made_on > '2026-03-16')"), 0);
  /* Events dated today, so event rules fire in a demo run. */
  assert_true(lf_query_int(l.db, "SELECT count(*) FROM payments WHERE status = 'failed' AND date = '2026-03-16'") >= 1);
  assert_true(lf_query_int(l.db, "SELECT count(*) FROM disputes WHERE opened_on = '2026-03-16'") >= 1);
  /* A promise broken yesterday (promised_date + 1 == today), unpaid. */
  assert_true(lf_query_int(l.db, "SELECT count(*) FROM promises WHERE promised_date = '2026-03-15'") >= 1);
  assert_true(lf_query_int(l.db, "SELECT count(*) FROM promises WHERE promised_date >= '2026-03-16'") >= 1);
  assert_true(lf_query_int(l.db, "SELECT count(*) FROM disputes WHERE resolved_on IS NULL") >= 1);
  assert_true(lf_query_int(l.db, "SELECT count(*) FROM disputes WHERE resolved_on IS NOT NULL") >= 1);
  assert_true(lf_query_int(l.db, "SELECT count(*) FROM credits") >= 1);
  /* Partial payments: an invoice with two settled payments. */
  assert_true(lf_query_int(l.db, "SELECT count(*) FROM (SELECT invoice_id FROM payments WHERE status = 'settled'"
                            " GROUP BY 1 HAVING count(*) >= 2)") >= 1);
  /* Overpayment never happens: settled payments and credits <= amount. */
  assert_int_equal(lf_query_int(l.db, "SELECT count(*) FROM invoices i WHERE i.amount_minor <"
                                 " (SELECT total(amount_minor) FROM payments p WHERE p.invoice_id = i.id"
                                 "   AND p.status = 'settled') +"
                                 " (SELECT total(amount_minor) FROM credits k WHERE k.invoice_id = i.id)"), 0);
  /* The non-payer (customer 5) has open overdue invoices. */
  assert_true(lf_query_int(l.db, "SELECT count(*) FROM invoices i WHERE customer_id = 'C000005' AND due_date < '2026-03-16'"
                            " AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.invoice_id = i.id)") >= 1);
  /* Rates for both pairs on today. */
  assert_int_equal(lf_query_int(l.db, "SELECT count(*) FROM fx_rates WHERE date = '2026-03-16' AND quote = 'USD'"
                                 " AND base IN ('EUR', 'GBP')"), 2);
  assert_true(lf_query_int(l.db, "SELECT count(*) FROM holidays WHERE calendar = 'company'") >= 2);
  dn_ledger_close(&l);
}

static void test_refuses_non_empty(void **state) {
  fixture *f = *state;
  dn_ledger l;
  make(f, "demo.db", 3, 1, &l);
  dn_demo_options o = {3, 1, TODAY};
  assert_int_equal(dn_ledger_demo(&l, &o, &f->diags), DN_ERR_INPUT);
  assert_int_equal(f->diags.count, 1);
  assert_int_equal(f->diags.items[0].code, DN_E0502);
  assert_int_equal(lf_query_int(l.db, "SELECT count(*) FROM customers"), 3);
  dn_ledger_close(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_same_seed_same_ledger, setup, teardown),
      cmocka_unit_test_setup_teardown(test_contents, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refuses_non_empty, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
