/* test_rows.c - rows from memory (dn_ledger_insert_rows,
 * dn_ledger_insert_history, dn_ledger_open_memory): good rows to exact
 * values, table order whatever the given order, each kind of bad row
 * naming its origin, all-or-nothing, and the savepoint inside a caller's
 * transaction. Expected values are worked out by hand from LEDGER.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/ledger.h"
#include "ledger_fixture.h"

typedef struct fixture {
  dn_ledger l;
  dn_diags diags;
} fixture;

/* Builds a row from "name=value" pairs; counted at run time. */
typedef struct kv_row {
  const char *names[20], *values[20];
  dn_row row;
} kv_row;

static void kv(kv_row *r, const char *table, const char *origin, const char *const *pairs) {
  memset(r, 0, sizeof *r);
  int n = 0;
  for (; pairs[n]; n++) {
    const char *eq = strchr(pairs[n], '=');
    r->names[n] = strndup(pairs[n], (size_t)(eq - pairs[n]));
    r->values[n] = eq[1] ? eq + 1 : NULL;
  }
  r->row = (dn_row){table, r->names, r->values, n, origin};
}

static void kv_free(kv_row *r) {
  for (int i = 0; i < r->row.n; i++) free((char *)r->names[i]);
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  dn_diags_init(&f->diags, NULL, NULL, 0);
  assert_int_equal(dn_ledger_open_memory(&f->l, &f->diags), DN_OK);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  dn_ledger_close(&f->l);
  dn_diags_free(&f->diags);
  free(f);
  return 0;
}

static int64_t q(fixture *f, const char *sql) { return lf_query_int(f->l.db, sql); }

static char *q_text(fixture *f, const char *sql) {
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(f->l.db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  const unsigned char *t = sqlite3_column_text(st, 0);
  char *out = strdup(t ? (const char *)t : "(null)");
  sqlite3_finalize(st);
  return out;
}

/* Inserts rows given as NULL-terminated lists of "name=value". */
static dn_status insert(fixture *f, const char *policy, size_t n, const char *tables[], const char *origins[],
                        const char *const *pairs[]) {
  kv_row *rs = calloc(n, sizeof *rs);
  dn_row *rows = calloc(n, sizeof *rows);
  for (size_t i = 0; i < n; i++) {
    kv(&rs[i], tables[i], origins[i], pairs[i]);
    rows[i] = rs[i].row;
  }
  dn_status st = policy ? dn_ledger_insert_history(&f->l, policy, rows, n, &f->diags)
                        : dn_ledger_insert_rows(&f->l, rows, n, &f->diags);
  for (size_t i = 0; i < n; i++) kv_free(&rs[i]);
  free(rs);
  free(rows);
  return st;
}

static const char *const C1[] = {"id=C1", "name=Acme", "currency=USD", "credit_limit=5000", NULL};
static const char *const C2[] = {"id=C2", "currency=EUR", NULL};
static const char *const I1[] = {"id=I1", "customer_id=C1", "issue_date=2026-01-05", "due_date=2026-02-04",
                                 "amount=1200.50", NULL};
static const char *const I2[] = {"id=I2", "customer_id=C2", "issue_date=2026-01-10", "due_date=2026-01-10",
                                 "amount_minor=300", NULL};

static void expect_one_error(fixture *f, const char *origin, const char *message) {
  assert_int_equal(f->diags.errors, 1);
  assert_string_equal(f->diags.items[0].file, origin);
  assert_int_equal(f->diags.items[0].line, 0);
  assert_string_equal(f->diags.items[0].message, message);
  assert_string_equal(dn_diag_code_name(f->diags.items[0].code), "E0503");
}

static void test_memory_ledger_is_empty_and_current(void **state) {
  fixture *f = *state;
  assert_int_equal(q(f, "PRAGMA user_version"), DN_LEDGER_SCHEMA_VERSION);
  assert_int_equal(q(f, "SELECT count(*) FROM customers"), 0);
  assert_int_equal(q(f, "SELECT count(*) FROM actions"), 0);
}

/* Given children first: they still go in after their parents. */
static void test_good_rows_any_order(void **state) {
  fixture *f = *state;
  static const char *const P1[] = {"id=P1", "invoice_id=I1", "date=2026-02-10", "amount=200", NULL};
  static const char *const K1[] = {"id=K1", "invoice_id=I1", "date=2026-02-11", "amount_minor=50", NULL};
  static const char *const D1[] = {"id=D1", "invoice_id=I2", "opened_on=2026-01-12", "resolved_on=", NULL};
  static const char *const R1[] = {"id=R1", "customer_id=C1", "made_on=2026-02-12", "promised_date=2026-02-20",
                                   "amount=100", NULL};
  static const char *const X1[] = {"date=2026-01-01", "base=EUR", "quote=USD", "rate=1.0850", NULL};
  static const char *const H1[] = {"calendar=ACME", "date=2026-03-02", "name=Founders day", NULL};
  const char *tabs[] = {"payments", "invoices", "credits", "disputes", "promises", "fx_rates", "holidays",
                        "invoices", "customers", "customers"};
  const char *orgs[] = {"a:1", "a:2", "a:3", "a:4", "a:5", "a:6", "a:7", "a:8", "a:9", "a:10"};
  const char *const *pairs[] = {P1, I1, K1, D1, R1, X1, H1, I2, C1, C2};
  assert_int_equal(insert(f, NULL, 10, tabs, orgs, pairs), DN_OK);
  assert_int_equal(f->diags.errors, 0);
  /* 5000 USD = 500000 cents; 1200.50 USD = 120050 cents */
  assert_int_equal(q(f, "SELECT credit_limit_minor FROM customers WHERE id = 'C1'"), 500000);
  assert_int_equal(q(f, "SELECT amount_minor FROM invoices WHERE id = 'I1'"), 120050);
  /* I2 has no currency: it takes C2's, EUR */
  char *cur = q_text(f, "SELECT currency FROM invoices WHERE id = 'I2'");
  assert_string_equal(cur, "EUR");
  free(cur);
  /* the payment names only its invoice: customer and currency follow it */
  char *cust = q_text(f, "SELECT customer_id || currency || status FROM payments WHERE id = 'P1'");
  assert_string_equal(cust, "C1USDsettled");
  free(cust);
  assert_int_equal(q(f, "SELECT amount_minor FROM payments WHERE id = 'P1'"), 20000);
  assert_int_equal(q(f, "SELECT amount_minor FROM credits WHERE id = 'K1'"), 50);
  assert_int_equal(q(f, "SELECT resolved_on IS NULL FROM disputes WHERE id = 'D1'"), 1);
  assert_int_equal(q(f, "SELECT amount_minor FROM promises WHERE id = 'R1'"), 10000);
  assert_int_equal(q(f, "SELECT count(*) FROM fx_rates WHERE rate = '1.0850'"), 1);
  assert_int_equal(q(f, "SELECT count(*) FROM holidays WHERE calendar = 'ACME'"), 1);
}

static void test_history_rows(void **state) {
  fixture *f = *state;
  static const char *const A1[] = {"as_of=2026-02-19", "customer_id=C1", "kind=email", "tone=friendly",
                                   "rule=standard", "step=15d", "invoice_ids=I1", NULL};
  static const char *const A2[] = {"as_of=2026-02-20", "customer_id=C1", "kind=call", "status=deferred",
                                   "invoice_ids=[\"I1\"]", "policy=other", NULL};
  const char *tabs[] = {"actions", "actions", "customers", "invoices"};
  const char *orgs[] = {"t:1", "t:2", "t:3", "t:4"};
  const char *const *pairs[] = {A1, A2, C1, I1};
  assert_int_equal(insert(f, "acme", 4, tabs, orgs, pairs), DN_OK);
  /* A1 takes the default policy and status; A2 keeps what it says */
  char *a1 = q_text(f, "SELECT policy || '|' || status || '|' || invoice_ids || '|' || rule || '|' || step"
                       " FROM actions WHERE kind = 'email'");
  assert_string_equal(a1, "acme|scheduled|[\"I1\"]|standard|15d");
  free(a1);
  char *a2 = q_text(f, "SELECT policy || '|' || status FROM actions WHERE kind = 'call'");
  assert_string_equal(a2, "other|deferred");
  free(a2);
  /* the two generated keys differ */
  assert_int_equal(q(f, "SELECT count(DISTINCT key) FROM actions"), 2);
}

static void test_action_without_policy(void **state) {
  fixture *f = *state;
  static const char *const A1[] = {"as_of=2026-02-19", "customer_id=C1", "kind=email", NULL};
  const char *tabs[] = {"customers", "actions"};
  const char *orgs[] = {"t:1", "t:2"};
  const char *const *pairs[] = {C1, A1};
  assert_int_equal(insert(f, NULL, 2, tabs, orgs, pairs), DN_ERR_INPUT);
  expect_one_error(f, "t:2", "missing value in column \"policy\"");
  assert_int_equal(q(f, "SELECT count(*) FROM customers"), 0);
}

typedef struct bad_case {
  const char *table;
  const char *const *pairs;
  const char *message;
} bad_case;

static const char *const B_COL[] = {"id=C9", "currncy=USD", NULL};
static const char *const B_MISSING[] = {"name=x", NULL};
static const char *const B_DATE[] = {"id=I9", "customer_id=C1", "issue_date=2026-02-30", "due_date=2026-03-01",
                                     "amount=1", NULL};
static const char *const B_CUST[] = {"id=I9", "customer_id=C7", "issue_date=2026-02-01", "due_date=2026-03-01",
                                     "amount=1", NULL};
static const char *const B_DECIMALS[] = {"id=I9", "customer_id=C1", "issue_date=2026-02-01",
                                         "due_date=2026-03-01", "amount=1.005", NULL};
static const char *const B_DUE[] = {"id=I9", "customer_id=C1", "issue_date=2026-02-01", "due_date=2026-01-01",
                                    "amount=1", NULL};
static const char *const B_PAY[] = {"id=P9", "invoice_id=I1", "date=2026-02-01", "amount=0", NULL};
static const char *const B_STATUS[] = {"id=P9", "invoice_id=I1", "date=2026-02-01", "amount=1", "status=bounced",
                                       NULL};
static const char *const B_KIND[] = {"as_of=2026-02-01", "customer_id=C1", "kind=fax", "policy=p", NULL};
static const char *const B_AINV[] = {"as_of=2026-02-01", "customer_id=C1", "kind=email", "policy=p",
                                     "invoice_ids=I1,I8", NULL};
static const char *const B_CUR[] = {"id=C9", "currency=usd", NULL};
static const char *const B_DUPCOL[] = {"id=C9", "id=C8", NULL};
static const char *const B_UTF8[] = {"id=C9", "name=Caf\xe9", NULL};

static const bad_case bad_cases[] = {
    {"customers", B_COL, "unknown column \"currncy\"; did you mean \"currency\"?"},
    {"customers", B_MISSING, "missing column \"id\""},
    {"customers", B_CUR, "unknown currency \"usd\" in column \"currency\""},
    {"customers", B_DUPCOL, "column \"id\" appears twice"},
    {"customers", B_UTF8, "column \"name\" is not valid UTF-8 (byte 0xE9 at offset 3)"},
    {"invoices", B_DATE, "bad date \"2026-02-30\" in column \"issue_date\": expected a real day as YYYY-MM-DD"},
    {"invoices", B_CUST, "unknown customer \"C7\""},
    {"invoices", B_DECIMALS, "bad amount \"1.005\" in column \"amount\": USD has 2 decimals"},
    {"invoices", B_DUE, "due_date 2026-01-01 is before issue_date 2026-02-01"},
    {"payments", B_PAY, "bad amount \"0\" in column \"amount\": must be positive"},
    {"payments", B_STATUS, "bad status \"bounced\": expected settled or failed"},
    {"actions", B_KIND, "bad kind \"fax\": expected email, sms, letter, call, task, hold, release or escalate"},
    {"actions", B_AINV, "unknown invoice \"I8\""},
    {"custmers", C2, "unknown table \"custmers\"; did you mean \"customers\"?"},
};

/* Each bad row, after a good customer and invoice in the same call: the
 * error names the bad row's origin, and nothing at all goes in. */
static void test_bad_rows(void **state) {
  fixture *f = *state;
  for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
    dn_diags_free(&f->diags);
    dn_diags_init(&f->diags, NULL, NULL, 0);
    const char *tabs[] = {"customers", "invoices", bad_cases[i].table};
    const char *orgs[] = {"acme_test.dun:3", "acme_test.dun:4", "acme_test.dun:12"};
    const char *const *pairs[] = {C1, I1, bad_cases[i].pairs};
    assert_int_equal(insert(f, NULL, 3, tabs, orgs, pairs), DN_ERR_INPUT);
    expect_one_error(f, "acme_test.dun:12", bad_cases[i].message);
    assert_int_equal(q(f, "SELECT count(*) FROM customers"), 0);
    assert_int_equal(q(f, "SELECT count(*) FROM invoices"), 0);
  }
}

static void test_duplicates(void **state) {
  fixture *f = *state;
  const char *tabs[] = {"customers", "customers"};
  const char *orgs[] = {"r:1", "r:2"};
  const char *const *pairs[] = {C1, C1};
  assert_int_equal(insert(f, NULL, 2, tabs, orgs, pairs), DN_ERR_INPUT);
  expect_one_error(f, "r:2", "duplicate id \"C1\" (also earlier in these rows)");
  dn_diags_free(&f->diags);
  dn_diags_init(&f->diags, NULL, NULL, 0);
  assert_int_equal(insert(f, NULL, 1, tabs, orgs, pairs), DN_OK);
  assert_int_equal(insert(f, NULL, 1, tabs, orgs + 1, pairs), DN_ERR_INPUT);
  expect_one_error(f, "r:2", "duplicate id \"C1\" (already in the ledger)");
  assert_int_equal(q(f, "SELECT count(*) FROM customers"), 1);
}

/* Errors in one table are all reported; later tables are not tried. */
static void test_errors_collected(void **state) {
  fixture *f = *state;
  const char *tabs[] = {"customers", "customers", "invoices"};
  const char *orgs[] = {"x:1", "x:2", "x:3"};
  const char *const *pairs[] = {B_COL, B_CUR, B_CUST};
  assert_int_equal(insert(f, NULL, 3, tabs, orgs, pairs), DN_ERR_INPUT);
  assert_int_equal(f->diags.errors, 2);
  assert_string_equal(f->diags.items[0].file, "x:1");
  assert_string_equal(f->diags.items[1].file, "x:2");
}

/* The caller's transaction is rolled back: the rows go with it. */
static void test_savepoint_in_caller_transaction(void **state) {
  fixture *f = *state;
  lf_exec_sql(f->l.db, "BEGIN");
  const char *tabs[] = {"customers", "invoices"};
  const char *orgs[] = {"d:1", "d:2"};
  const char *const *pairs[] = {C1, I1};
  assert_int_equal(insert(f, NULL, 2, tabs, orgs, pairs), DN_OK);
  assert_int_equal(q(f, "SELECT count(*) FROM invoices"), 1);
  assert_int_equal(sqlite3_get_autocommit(f->l.db), 0); /* still inside the caller's transaction */
  lf_exec_sql(f->l.db, "ROLLBACK");
  assert_int_equal(q(f, "SELECT count(*) FROM customers"), 0);
  assert_int_equal(q(f, "SELECT count(*) FROM invoices"), 0);
}

/* A failing call undoes only its own rows, not the caller's earlier work. */
static void test_failure_keeps_caller_work(void **state) {
  fixture *f = *state;
  lf_exec_sql(f->l.db, "BEGIN");
  lf_exec_sql(f->l.db, "INSERT INTO customers(id, currency) VALUES ('C5', 'USD')");
  const char *tabs[] = {"customers", "invoices"};
  const char *orgs[] = {"d:1", "d:2"};
  const char *const *pairs[] = {C1, B_CUST};
  assert_int_equal(insert(f, NULL, 2, tabs, orgs, pairs), DN_ERR_INPUT);
  assert_int_equal(sqlite3_get_autocommit(f->l.db), 0);
  assert_int_equal(q(f, "SELECT count(*) FROM customers"), 1);
  lf_exec_sql(f->l.db, "COMMIT");
  assert_int_equal(q(f, "SELECT count(*) FROM customers WHERE id = 'C5'"), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_memory_ledger_is_empty_and_current, setup, teardown),
      cmocka_unit_test_setup_teardown(test_good_rows_any_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_history_rows, setup, teardown),
      cmocka_unit_test_setup_teardown(test_action_without_policy, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_rows, setup, teardown),
      cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
      cmocka_unit_test_setup_teardown(test_errors_collected, setup, teardown),
      cmocka_unit_test_setup_teardown(test_savepoint_in_caller_transaction, setup, teardown),
      cmocka_unit_test_setup_teardown(test_failure_keeps_caller_work, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
