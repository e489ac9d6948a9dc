/* test_ledger.c - creating, checking and opening ledgers: schema and
 * user_version, the contract's tables and indexes, foreign keys, WAL,
 * read-only opening that changes nothing, and E0502/E0505 for files that
 * are not ledgers, are missing, or come from a newer Dunlin. */
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
  char path[128];
  dn_diags diags;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_true(lf_make_dir(f->dir, sizeof f->dir, "ledger", f->path, sizeof f->path));
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

/* Whole file into a malloc'd buffer, for byte-for-byte comparisons. */
static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)len + 1);
  assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
  fclose(f);
  *n = (size_t)len;
  return buf;
}

static void create_ledger(fixture *f) {
  dn_ledger l;
  assert_int_equal(dn_ledger_open(f->path, DN_LEDGER_CREATE, &l, &f->diags), DN_OK);
  dn_ledger_close(&l);
}

static void test_create_schema(void **state) {
  fixture *f = *state;
  dn_ledger l;
  assert_int_equal(dn_ledger_open(f->path, DN_LEDGER_CREATE, &l, &f->diags), DN_OK);
  assert_int_equal(f->diags.count, 0);
  assert_string_equal(l.path, f->path);
  assert_int_equal(lf_query_int(l.db, "PRAGMA user_version"), DN_LEDGER_SCHEMA_VERSION);
  assert_int_equal(lf_query_int(l.db, "PRAGMA foreign_keys"), 1);
  const char *tables[] = {"customers", "invoices", "payments", "credits", "disputes", "promises",
                          "fx_rates", "holidays", "actions", "runs"};
  for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'", tables[i]);
    assert_int_equal(lf_query_int(l.db, sql), 1);
  }
  /* The indexes a per-customer streaming reader needs, by their columns. */
  const char *indexed[][2] = {{"invoices", "customer_id,id"}, {"payments", "customer_id"},
                              {"payments", "invoice_id"},     {"credits", "invoice_id"},
                              {"disputes", "invoice_id"},     {"promises", "customer_id"},
                              {"actions", "customer_id,as_of"}, {"actions", "run_id"},
                              {"fx_rates", "base,quote,date"}, {"holidays", "calendar,date"}};
  for (size_t i = 0; i < sizeof indexed / sizeof *indexed; i++) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pragma_index_list('%s') il WHERE"
             " (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(il.name) ORDER BY seqno)) = '%s'",
             indexed[i][0], indexed[i][1]);
    print_message("index %s(%s)\n", indexed[i][0], indexed[i][1]);
    assert_int_equal(lf_query_int(l.db, sql), 1);
  }
  /* Every column of LEDGER.md, by name. */
  assert_int_equal(sqlite3_exec(l.db, "SELECT id, name, tier, country, timezone, language, email, phone,"
                                      " credit_limit_minor, currency, risk_score, attrs FROM customers;"
                                      "SELECT id, customer_id, invoice_id, made_on, promised_date, amount_minor FROM promises;"
                                      "SELECT key, run_id, as_of, policy, policy_version, rule, step, customer_id,"
                                      " invoice_ids, kind, tone, template, scheduled_at, priority, assignee, status,"
                                      " reason FROM actions",
                                 NULL, NULL, NULL),
                   SQLITE_OK);
  dn_ledger_close(&l);
}

static void test_writer_settings(void **state) {
  fixture *f = *state;
  dn_ledger l;
  create_ledger(f);
  assert_int_equal(dn_ledger_open(f->path, DN_LEDGER_WRITE, &l, &f->diags), DN_OK);
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(l.db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
  sqlite3_finalize(st);
  /* Foreign keys are enforced: no invoice for an unknown customer. */
  assert_int_not_equal(sqlite3_exec(l.db, "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency,"
                                          " amount_minor) VALUES ('I1', 'nobody', '2026-01-01', '2026-01-31', 'USD', 1)",
                                    NULL, NULL, NULL),
                       SQLITE_OK);
  /* CHECK constraints: payment status and date shape. */
  assert_int_equal(sqlite3_exec(l.db, "INSERT INTO customers(id) VALUES ('C1')", NULL, NULL, NULL), SQLITE_OK);
  assert_int_not_equal(sqlite3_exec(l.db, "INSERT INTO payments(id, customer_id, date, amount_minor, currency, status)"
                                          " VALUES ('P1', 'C1', '2026-01-01', 5, 'USD', 'paid')",
                                    NULL, NULL, NULL),
                       SQLITE_OK);
  assert_int_not_equal(sqlite3_exec(l.db, "INSERT INTO payments(id, customer_id, date, amount_minor, currency)"
                                          " VALUES ('P1', 'C1', '1/1/2026', 5, 'USD')",
                                    NULL, NULL, NULL),
                       SQLITE_OK);
  dn_ledger_close(&l);
}

/* READ opens with SQLITE_OPEN_READONLY and leaves the file as it was. */
static void test_read_only(void **state) {
  fixture *f = *state;
  dn_ledger l;
  create_ledger(f);
  size_t n1, n2;
  char *before = slurp(f->path, &n1);
  assert_int_equal(dn_ledger_open(f->path, DN_LEDGER_READ, &l, &f->diags), DN_OK);
  assert_int_equal(lf_query_int(l.db, "SELECT count(*) FROM customers"), 0);
  assert_int_not_equal(sqlite3_exec(l.db, "INSERT INTO customers(id) VALUES ('C1')", NULL, NULL, NULL), SQLITE_OK);
  dn_ledger_close(&l);
  char *after = slurp(f->path, &n2);
  assert_int_equal(n1, n2);
  assert_memory_equal(before, after, n1);
  free(before);
  free(after);
}

static void expect_one(fixture *f, dn_diag_code code) {
  assert_int_equal(f->diags.count, 1);
  assert_int_equal(f->diags.items[0].code, code);
  assert_string_equal(f->diags.items[0].file, f->path);
  assert_non_null(strstr(f->diags.items[0].message, f->path));
}

static void test_not_a_ledger(void **state) {
  fixture *f = *state;
  dn_ledger l;
  const char *text = "id,name\nC1,Acme\n this is a CSV file, not SQLite at all; long enough to have a header?\n";
  lf_write_file(f->path, text);
  assert_int_equal(dn_ledger_open(f->path, DN_LEDGER_READ, &l, &f->diags), DN_ERR_INPUT);
  expect_one(f, DN_E0502);
  assert_null(l.db);
  assert_null(l.path);
  /* CREATE must not clobber it either. */
  dn_diags_free(&f->diags);
  dn_diags_init(&f->diags, NULL, NULL, 0);
  assert_int_equal(dn_ledger_open(f->path, DN_LEDGER_CREATE, &l, &f->diags), DN_ERR_INPUT);
  expect_one(f, DN_E0502);
  size_t n;
  char *now = slurp(f->path, &n);
  assert_int_equal(n, strlen(text));
  assert_memory_equal(now, text, n);
  free(now);
}

/* A SQLite file of some other application: not a ledger, and CREATE
 * does not add our tables to it. */
static void test_foreign_database(void **state) {
  fixture *f = *state;
  sqlite3 *db;
  dn_ledger l;
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "CREATE TABLE notes(x)", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(dn_ledger_open(f->path, DN_LEDGER_CREATE, &l, &f->diags), DN_ERR_INPUT);
  expect_one(f, DN_E0502);
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  assert_int_equal(lf_query_int(db, "SELECT count(*) FROM sqlite_master"), 1);
  sqlite3_close(db);
}

/* Right version, but a required table is gone. */
static void test_missing_table(void **state) {
  fixture *f = *state;
  sqlite3 *db;
  dn_ledger l;
  create_ledger(f);
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "DROP TABLE holidays", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(dn_ledger_open(f->path, DN_LEDGER_READ, &l, &f->diags), DN_ERR_INPUT);
  expect_one(f, DN_E0502);
  assert_non_null(strstr(f->diags.items[0].message, "holidays"));
}

static void test_newer_version(void **state) {
  fixture *f = *state;
  sqlite3 *db;
  dn_ledger l;
  create_ledger(f);
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(dn_ledger_open(f->path, DN_LEDGER_WRITE, &l, &f->diags), DN_ERR_INPUT);
  expect_one(f, DN_E0502);
  assert_non_null(strstr(f->diags.items[0].message, "99"));
  /* And it is still at 99: nothing was "migrated" backwards. */
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  assert_int_equal(lf_query_int(db, "PRAGMA user_version"), 99);
  sqlite3_close(db);
}

static void test_missing_file(void **state) {
  fixture *f = *state;
  dn_ledger l;
  assert_int_not_equal(dn_ledger_open(f->path, DN_LEDGER_READ, &l, &f->diags), DN_OK);
  expect_one(f, DN_E0505);
  assert_int_not_equal(dn_ledger_open(f->path, DN_LEDGER_WRITE, &l, &f->diags), DN_OK);
  assert_int_equal(access(f->path, F_OK), -1); /* neither mode creates it */
}

/* An empty file is an empty database: CREATE fills it in. */
static void test_create_in_empty_file(void **state) {
  fixture *f = *state;
  dn_ledger l;
  lf_write_file(f->path, "");
  assert_int_equal(dn_ledger_open(f->path, DN_LEDGER_CREATE, &l, &f->diags), DN_OK);
  assert_int_equal(lf_query_int(l.db, "PRAGMA user_version"), DN_LEDGER_SCHEMA_VERSION);
  dn_ledger_close(&l);
  /* Opening again (any mode) is fine and does not re-apply the schema. */
  assert_int_equal(dn_ledger_open(f->path, DN_LEDGER_CREATE, &l, &f->diags), DN_OK);
  dn_ledger_close(&l);
  assert_int_equal(dn_ledger_open(f->path, DN_LEDGER_READ, &l, &f->diags), DN_OK);
  dn_ledger_close(&l);
  assert_int_equal(f->diags.count, 0);
}

/* Two writers: the second waits for the first (busy timeout) instead of
 * failing at once with SQLITE_BUSY. */
static void test_two_connections(void **state) {
  fixture *f = *state;
  dn_ledger a, b;
  create_ledger(f);
  assert_int_equal(dn_ledger_open(f->path, DN_LEDGER_WRITE, &a, &f->diags), DN_OK);
  assert_int_equal(dn_ledger_open(f->path, DN_LEDGER_WRITE, &b, &f->diags), DN_OK);
  assert_int_equal(sqlite3_exec(a.db, "INSERT INTO customers(id) VALUES ('C1')", NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_exec(b.db, "INSERT INTO customers(id) VALUES ('C2')", NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal(lf_query_int(a.db, "SELECT count(*) FROM customers"), 2);
  dn_ledger_close(&a);
  dn_ledger_close(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_create_schema, setup, teardown),
      cmocka_unit_test_setup_teardown(test_writer_settings, setup, teardown),
      cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_a_ledger, setup, teardown),
      cmocka_unit_test_setup_teardown(test_foreign_database, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_table, setup, teardown),
      cmocka_unit_test_setup_teardown(test_newer_version, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_create_in_empty_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_two_connections, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
