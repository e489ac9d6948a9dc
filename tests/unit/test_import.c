/* test_import.c - CSV import: good files to exact minor units, the --map
 * file, BOM and CRLF, each kind of bad row with its exact FILE:LINE text,
 * atomicity, and the IBM example converted by examples/ibm/convert.sh. */
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
  dn_ledger l;
  dn_diags diags;
} fixture;

static const char *source_dir(void) {
  const char *s = getenv("DUNLIN_SOURCE_DIR");
  return s ? s : "..";
}

static void fixture_path(char *buf, size_t n, const char *set, const char *file) {
  snprintf(buf, n, "%s/tests/fixtures/import/%s/%s", source_dir(), set, file);
}

static int64_t query_int(dn_ledger *l, const char *sql) {
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(l->db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int64_t v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_true(lf_make_dir(f->dir, sizeof f->dir, "import", f->path, sizeof f->path));
  dn_diags_init(&f->diags, NULL, NULL, 0);
  assert_int_equal(dn_ledger_open(f->path, DN_LEDGER_CREATE, &f->l, &f->diags), DN_OK);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  dn_ledger_close(&f->l);
  dn_diags_free(&f->diags);
  int rc = lf_remove_tree(f->dir);
  free(f);
  return rc;
}

typedef struct good_paths {
  char c[256], i[256], p[256], k[256], d[256], r[256], x[256], h[256];
} good_paths;

static dn_status import_good(fixture *f, dn_import_counts *counts) {
  static good_paths g;
  fixture_path(g.c, sizeof g.c, "good", "customers.csv");
  fixture_path(g.i, sizeof g.i, "good", "invoices.csv");
  fixture_path(g.p, sizeof g.p, "good", "payments.csv");
  fixture_path(g.k, sizeof g.k, "good", "credits.csv");
  fixture_path(g.d, sizeof g.d, "good", "disputes.csv");
  fixture_path(g.r, sizeof g.r, "good", "promises.csv");
  fixture_path(g.x, sizeof g.x, "good", "fx_rates.csv");
  fixture_path(g.h, sizeof g.h, "good", "holidays.csv");
  dn_import_files files = {g.c, g.i, g.p, g.k, g.d, g.r, g.x, g.h, NULL};
  return dn_ledger_import(&f->l, &files, counts, &f->diags);
}

static void test_good_counts(void **state) {
  fixture *f = *state;
  dn_import_counts n;
  assert_int_equal(import_good(f, &n), DN_OK);
  assert_int_equal(f->diags.count, 0);
  assert_int_equal(n.customers, 3);
  assert_int_equal(n.invoices, 4);
  assert_int_equal(n.payments, 4);
  assert_int_equal(n.credits, 1);
  assert_int_equal(n.disputes, 2);
  assert_int_equal(n.promises, 2);
  assert_int_equal(n.fx_rates, 2);
  assert_int_equal(n.holidays, 1);
  assert_int_equal(query_int(&f->l, "SELECT count(*) FROM invoices"), 4);
  assert_int_equal(query_int(&f->l, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

static void test_good_values(void **state) {
  fixture *f = *state;
  dn_import_counts n;
  char b[128];
  assert_int_equal(import_good(f, &n), DN_OK);
  dn_ledger *l = &f->l;
  /* "1200.50" USD is 120050 cents; "15000" JPY is 15000 yen (no minor unit). */
  assert_int_equal(query_int(l, "SELECT amount_minor FROM invoices WHERE id = 'I1'"), 120050);
  assert_int_equal(query_int(l, "SELECT amount_minor FROM invoices WHERE id = 'I2'"), 9999);
  assert_int_equal(query_int(l, "SELECT amount_minor FROM invoices WHERE id = 'I3'"), 50);
  assert_int_equal(query_int(l, "SELECT amount_minor FROM invoices WHERE id = 'I4'"), 15000);
  assert_string_equal(lf_query_text(l->db, "SELECT currency FROM invoices WHERE id = 'I4'", b, sizeof b), "JPY");
  assert_string_equal(lf_query_text(l->db, "SELECT currency FROM invoices WHERE id = 'I3'", b, sizeof b), "EUR");
  assert_string_equal(lf_query_text(l->db, "SELECT number FROM invoices WHERE id = 'I3'", b, sizeof b), "R-3, part 1");
  /* Quoted fields: a comma inside, doubled quotes. */
  assert_string_equal(lf_query_text(l->db, "SELECT name FROM customers WHERE id = 'C1'", b, sizeof b), "Acme, Inc.");
  assert_string_equal(lf_query_text(l->db, "SELECT name FROM customers WHERE id = 'C2'", b, sizeof b), "Bolt \"Fast\" GmbH");
  assert_string_equal(lf_query_text(l->db, "SELECT attrs FROM customers WHERE id = 'C1'", b, sizeof b),
                      "{\"industry\":\"retail\"}");
  assert_string_equal(lf_query_text(l->db, "SELECT email FROM customers WHERE id = 'C2'", b, sizeof b), "<null>");
  assert_int_equal(query_int(l, "SELECT credit_limit_minor FROM customers WHERE id = 'C1'"), 5000000);
  assert_int_equal(query_int(l, "SELECT credit_limit_minor FROM customers WHERE id = 'C2'"), -1);
  assert_int_equal(query_int(l, "SELECT credit_limit_minor FROM customers WHERE id = 'C3'"), 1000000);
  assert_int_equal(query_int(l, "SELECT risk_score * 100 FROM customers WHERE id = 'C1'"), 25);
  /* Payments: customer taken from the invoice, currency from invoice or customer, default status. */
  assert_string_equal(lf_query_text(l->db, "SELECT customer_id FROM payments WHERE id = 'P1'", b, sizeof b), "C1");
  assert_int_equal(query_int(l, "SELECT amount_minor FROM payments WHERE id = 'P1'"), 100000);
  assert_int_equal(query_int(l, "SELECT amount_minor FROM payments WHERE id = 'P2'"), 20050);
  assert_string_equal(lf_query_text(l->db, "SELECT status FROM payments WHERE id = 'P2'", b, sizeof b), "settled");
  assert_string_equal(lf_query_text(l->db, "SELECT status FROM payments WHERE id = 'P3'", b, sizeof b), "failed");
  assert_string_equal(lf_query_text(l->db, "SELECT currency FROM payments WHERE id = 'P3'", b, sizeof b), "JPY");
  assert_string_equal(lf_query_text(l->db, "SELECT currency FROM payments WHERE id = 'P4'", b, sizeof b), "EUR");
  assert_int_equal(query_int(l, "SELECT amount_minor FROM payments WHERE id = 'P4'"), 1000);
  assert_string_equal(lf_query_text(l->db, "SELECT invoice_id FROM payments WHERE id = 'P4'", b, sizeof b), "<null>");
  /* A quoted field spanning two lines. */
  assert_string_equal(lf_query_text(l->db, "SELECT reason FROM credits WHERE id = 'K1'", b, sizeof b),
                      "goodwill, partial\nsecond line");
  assert_int_equal(query_int(l, "SELECT amount_minor FROM credits WHERE id = 'K1'"), 999);
  assert_int_equal(query_int(l, "SELECT amount_minor FROM disputes WHERE id = 'D1'"), 50);
  assert_int_equal(query_int(l, "SELECT amount_minor FROM disputes WHERE id = 'D2'"), -1);
  assert_string_equal(lf_query_text(l->db, "SELECT resolved_on FROM disputes WHERE id = 'D1'", b, sizeof b), "<null>");
  assert_string_equal(lf_query_text(l->db, "SELECT resolved_on FROM disputes WHERE id = 'D2'", b, sizeof b), "2026-02-15");
  assert_string_equal(lf_query_text(l->db, "SELECT customer_id FROM promises WHERE id = 'R1'", b, sizeof b), "C1");
  assert_int_equal(query_int(l, "SELECT amount_minor FROM promises WHERE id = 'R1'"), 9999);
  assert_int_equal(query_int(l, "SELECT amount_minor FROM promises WHERE id = 'R2'"), 25);
  assert_string_equal(lf_query_text(l->db, "SELECT rate FROM fx_rates WHERE base = 'EUR'", b, sizeof b), "1.0850");
  assert_string_equal(lf_query_text(l->db, "SELECT name FROM holidays", b, sizeof b), "Christmas Eve");
}

static void test_map_file(void **state) {
  fixture *f = *state;
  char c[256], i[256], m[256];
  fixture_path(c, sizeof c, "erp", "customers.csv");
  fixture_path(i, sizeof i, "erp", "invoices.csv");
  fixture_path(m, sizeof m, "erp", "map.txt");
  dn_import_files files = {.customers = c, .invoices = i, .map_path = m};
  dn_import_counts n;
  char b[64];
  assert_int_equal(dn_ledger_import(&f->l, &files, &n, &f->diags), DN_OK);
  assert_int_equal(n.customers, 1);
  assert_int_equal(n.invoices, 1);
  assert_string_equal(lf_query_text(f->l.db, "SELECT name FROM customers WHERE id = 'K100'", b, sizeof b), "Schmidt AG");
  assert_string_equal(lf_query_text(f->l.db, "SELECT customer_id FROM invoices WHERE id = '9000001'", b, sizeof b), "K100");
  assert_string_equal(lf_query_text(f->l.db, "SELECT currency FROM invoices WHERE id = '9000001'", b, sizeof b), "EUR");
  assert_int_equal(query_int(&f->l, "SELECT amount_minor FROM invoices WHERE id = '9000001'"), 123456);
}

static void test_bad_map_line(void **state) {
  fixture *f = *state;
  char m[160], c[160];
  snprintf(m, sizeof m, "%s/map.txt", f->dir);
  snprintf(c, sizeof c, "%s/customers.csv", f->dir);
  lf_write_file(m, "# ok\nA = id\nno equals sign here\n");
  lf_write_file(c, "A\nC1\n");
  dn_import_files files = {.customers = c, .map_path = m};
  dn_import_counts n;
  assert_int_equal(dn_ledger_import(&f->l, &files, &n, &f->diags), DN_ERR_INPUT);
  assert_int_equal(f->diags.count, 1);
  assert_int_equal(f->diags.items[0].code, DN_E0503);
  assert_string_equal(f->diags.items[0].file, m);
  assert_int_equal(f->diags.items[0].line, 3);
  assert_int_equal(query_int(&f->l, "SELECT count(*) FROM customers"), 0);
}

static void test_bom_crlf(void **state) {
  fixture *f = *state;
  char c[256], i[256], b[64];
  fixture_path(c, sizeof c, "bomcrlf", "customers.csv");
  fixture_path(i, sizeof i, "bomcrlf", "invoices.csv");
  dn_import_files files = {.customers = c, .invoices = i};
  dn_import_counts n;
  assert_int_equal(dn_ledger_import(&f->l, &files, &n, &f->diags), DN_OK);
  assert_int_equal(n.customers, 2);
  assert_int_equal(n.invoices, 2);
  /* The BOM is not part of the first column's name, nor CR of the last. */
  assert_string_equal(lf_query_text(f->l.db, "SELECT name FROM customers WHERE id = 'C7'", b, sizeof b), "Quote \"Co\"");
  assert_string_equal(lf_query_text(f->l.db, "SELECT currency FROM customers WHERE id = 'C7'", b, sizeof b), "GBP");
  /* Line breaks inside quotes are data and kept as they are. */
  assert_string_equal(lf_query_text(f->l.db, "SELECT name FROM customers WHERE id = 'C8'", b, sizeof b), "Multi\r\nLine Ltd");
  assert_int_equal(query_int(&f->l, "SELECT amount_minor FROM invoices WHERE id = 'I7'"), 1005);
  assert_int_equal(query_int(&f->l, "SELECT amount_minor FROM invoices WHERE id = 'I8'"), 700);
}

/* ---- bad rows: file content, then the exact line and message ---------- */

typedef enum { T_CUSTOMERS, T_INVOICES, T_PAYMENTS, T_CREDITS, T_DISPUTES, T_PROMISES, T_FX } which;

typedef struct bad_case {
  which table;
  const char *csv;
  int line;
  const char *message;
  bool prefix; /* message is only the start (text from libcsv follows) */
} bad_case;

#define INV_HDR "id,customer_id,issue_date,due_date,amount\n"

static const bad_case bad_cases[] = {
    /* 1 */ {T_INVOICES, INV_HDR "I9,C1,2026-01-01,2026-01-31,1.00\n,C1,2026-01-01,2026-01-31,1.00\n", 3,
             "missing value in column \"id\"", false},
    /* 2 */ {T_INVOICES, INV_HDR "I9,C9,2026-01-01,2026-01-31,1.00\n", 2, "unknown customer \"C9\"", false},
    /* 3 */ {T_INVOICES, INV_HDR "I9,C1,2026-02-30,2026-03-31,1.00\n", 2,
             "bad date \"2026-02-30\" in column \"issue_date\": expected a real day as YYYY-MM-DD", false},
    /* 4 */ {T_INVOICES, INV_HDR "I9,C1,2026-01-01,2026/01/31,1.00\n", 2,
             "bad date \"2026/01/31\" in column \"due_date\": expected a real day as YYYY-MM-DD", false},
    /* 5 */ {T_INVOICES, INV_HDR "I9,C1,2026-01-01,2026-01-31,12x\n", 2,
             "bad amount \"12x\" in column \"amount\": not a number", false},
    /* 6 */ {T_INVOICES, INV_HDR "I9,C1,2026-01-01,2026-01-31,1.005\n", 2,
             "bad amount \"1.005\" in column \"amount\": USD has 2 decimals", false},
    /* 7 */ {T_INVOICES, INV_HDR "I9,C3,2026-01-01,2026-01-31,1.5\n", 2,
             "bad amount \"1.5\" in column \"amount\": JPY has 0 decimals", false},
    /* 8 */ {T_PAYMENTS, "id,invoice_id,date,amount\nP9,I1,2026-02-11,-5.00\n", 2,
             "bad amount \"-5.00\" in column \"amount\": must be positive", false},
    /* 9 */ {T_INVOICES, "id,customer_id,issue_date,due_date,currency,amount_minor\nI9,C1,2026-01-01,2026-01-31,XYZ,100\n",
             2, "unknown currency \"XYZ\" in column \"currency\"", false},
    /* 10 */ {T_PAYMENTS, "id,invoice_id,date,amount,status\nP9,I1,2026-02-11,5.00,paid\n", 2,
              "bad status \"paid\": expected settled or failed", false},
    /* 11 */ {T_INVOICES, INV_HDR "I9,C1,2026-01-01,2026-01-31,1\nI9,C1,2026-01-01,2026-01-31,2\n", 3,
              "duplicate id \"I9\" (also earlier in this file)", false},
    /* 12 */ {T_INVOICES, INV_HDR "I1,C1,2026-01-01,2026-01-31,1\n", 2, "duplicate id \"I1\" (already in the ledger)", false},
    /* 13 */ {T_DISPUTES, "id,invoice_id,opened_on,resolved_on\nD9,I1,2026-02-01,2026-01-01\n", 2,
              "resolved_on 2026-01-01 is before opened_on 2026-02-01", false},
    /* 14 */ {T_INVOICES, INV_HDR "I9,C1,2026-01-01,2026-01-31\n", 2, "expected 5 fields as in the header, found 4", false},
    /* 15 */ {T_CUSTOMERS, "id,name\nC9,\"Open\nstill open\n", 2, "unterminated quoted field", false},
    /* 16 */ {T_INVOICES, "id,customer_id,issue_date,due_date,amout\n", 1,
              "unknown column \"amout\"; did you mean \"amount\"?", false},
    /* 17 */ {T_CUSTOMERS, "id,foo\nC9,x\n", 1, "unknown column \"foo\" in a customers file", false},
    /* 18 */ {T_INVOICES, "id,customer_id,issue_date,amount\n", 1, "missing column \"due_date\"", false},
    /* 19 */ {T_CUSTOMERS, "id,name\nC9,\"two\nlines\"\nC9,again\n", 4,
              "duplicate id \"C9\" (also earlier in this file)", false},
    /* 20 */ {T_CREDITS, "id,invoice_id,date,amount\nK9,I99,2026-02-01,1.00\n", 2, "unknown invoice \"I99\"", false},
    /* 21 */ {T_PAYMENTS, "id,customer_id,invoice_id,date,amount\nP9,C2,I1,2026-02-11,1.00\n", 2,
              "invoice \"I1\" belongs to customer \"C1\", not \"C2\"", false},
    /* 22 */ {T_FX, "date,base,quote,rate\n2026-01-02,EUR,USD,1.09\n", 2,
              "duplicate rate EUR/USD on 2026-01-02 (already in the ledger)", false},
    /* 23 */ {T_CUSTOMERS, "id,name\nC9,ab\"c\n", 2,
              "malformed quoted field: quote a field that contains a quote, and double the quote (\"\")", false},
    /* 23b */ {T_CUSTOMERS, "id,name\nC9,\"ab\"c\"\n", 2, "malformed quoted field", true},
    /* 24 */ {T_INVOICES, "", 1, "empty file: expected a header row naming the invoices columns", false},
    /* 25 */ {T_INVOICES, "id,customer_id,issue_date,due_date\n", 1, "missing column \"amount\" (or \"amount_minor\")", false},
    /* 26 */ {T_INVOICES, INV_HDR "I9,C1,2026-02-01,2026-01-31,1\n", 2, "due_date 2026-01-31 is before issue_date 2026-02-01",
              false},
    /* 27 */ {T_PROMISES, "id,invoice_id,made_on,promised_date,amount\nR9,I1,2026-03-01,2026-02-01,1\n", 2,
              "promised_date 2026-02-01 is before made_on 2026-03-01", false},
    /* 28 */ {T_CUSTOMERS, "id,id\n", 1, "column \"id\" appears twice", false},
    /* 29 */ {T_INVOICES, INV_HDR "\n\nI9,C9,2026-01-01,2026-01-31,1.00\n", 4, "unknown customer \"C9\"", false},
    /* 30 */ {T_CUSTOMERS, "id,attrs\nC9,[1]\n", 2,
              "bad attrs [1]: expected a JSON object such as {\"industry\":\"retail\"}", false},
};

static const char *const table_counts_sql =
    "SELECT (SELECT count(*) FROM customers) || '/' || (SELECT count(*) FROM invoices) || '/' ||"
    " (SELECT count(*) FROM payments) || '/' || (SELECT count(*) FROM credits) || '/' ||"
    " (SELECT count(*) FROM disputes) || '/' || (SELECT count(*) FROM promises) || '/' ||"
    " (SELECT count(*) FROM fx_rates) || '/' || (SELECT count(*) FROM holidays) || '/' ||"
    " (SELECT total(amount_minor) FROM invoices)";

static void test_bad_rows(void **state) {
  fixture *f = *state;
  dn_import_counts n;
  char b[128], csv[160];
  assert_int_equal(import_good(f, &n), DN_OK);
  snprintf(csv, sizeof csv, "%s/bad.csv", f->dir);
  for (size_t k = 0; k < sizeof bad_cases / sizeof *bad_cases; k++) {
    const bad_case *c = &bad_cases[k];
    print_message("case %zu\n", k + 1);
    lf_write_file(csv, c->csv);
    dn_import_files files = {0};
    const char **slot[] = {&files.customers, &files.invoices, &files.payments, &files.credits,
                           &files.disputes, &files.promises, &files.fx_rates};
    *slot[c->table] = csv;
    dn_diags d;
    dn_diags_init(&d, NULL, NULL, 0);
    assert_int_equal(dn_ledger_import(&f->l, &files, &n, &d), DN_ERR_INPUT);
    assert_int_equal(d.count, 1);
    assert_int_equal(d.items[0].code, DN_E0503);
    assert_string_equal(d.items[0].file, csv);
    assert_int_equal(d.items[0].line, c->line);
    if (c->prefix) assert_memory_equal(d.items[0].message, c->message, strlen(c->message));
    else assert_string_equal(d.items[0].message, c->message);
    assert_int_equal(n.customers + n.invoices + n.payments + n.credits, 0);
    /* Nothing changed: the good import's 3/4/4/1/2/2/2/1 rows and
     * 120050 + 9999 + 50 + 15000 = 145099 minor units of invoices. */
    assert_string_equal(lf_query_text(f->l.db, table_counts_sql, b, sizeof b), "3/4/4/1/2/2/2/1/145099.0");
    dn_diags_free(&d);
  }
}

/* Customers load, then invoices fail: the customers are rolled back too. */
static void test_atomic_across_files(void **state) {
  fixture *f = *state;
  char c[160], i[160], b[128];
  dn_import_counts n;
  assert_int_equal(import_good(f, &n), DN_OK);
  snprintf(c, sizeof c, "%s/c.csv", f->dir);
  snprintf(i, sizeof i, "%s/i.csv", f->dir);
  lf_write_file(c, "id,name,currency\nC20,New One,USD\nC21,Another,USD\n");
  lf_write_file(i, INV_HDR "I20,C20,2026-01-01,2026-01-31,5.00\nI21,C21,2026-01-01,2026-01-31,five\n");
  dn_import_files files = {.customers = c, .invoices = i};
  assert_int_equal(dn_ledger_import(&f->l, &files, &n, &f->diags), DN_ERR_INPUT);
  assert_int_equal(f->diags.count, 1);
  assert_int_equal(f->diags.items[0].line, 3);
  assert_string_equal(f->diags.items[0].message, "bad amount \"five\" in column \"amount\": not a number");
  assert_int_equal(n.customers, 0);
  assert_string_equal(lf_query_text(f->l.db, table_counts_sql, b, sizeof b), "3/4/4/1/2/2/2/1/145099.0");
  assert_int_equal(query_int(&f->l, "SELECT count(*) FROM customers WHERE id = 'C20'"), 0);
}

/* Row errors in a file are collected (not only the first). */
static void test_collects_row_errors(void **state) {
  fixture *f = *state;
  char i[160];
  dn_import_counts n;
  assert_int_equal(import_good(f, &n), DN_OK);
  snprintf(i, sizeof i, "%s/i.csv", f->dir);
  lf_write_file(i, INV_HDR "I20,C1,2026-01-01,2026-01-31,5.00\nI21,C1,2026-13-01,2026-01-31,5\nI22,CX,2026-01-01,2026-01-31,5\n");
  dn_import_files files = {.invoices = i};
  assert_int_equal(dn_ledger_import(&f->l, &files, &n, &f->diags), DN_ERR_INPUT);
  assert_int_equal(f->diags.count, 2);
  assert_int_equal(f->diags.items[0].line, 3);
  assert_int_equal(f->diags.items[1].line, 4);
  assert_string_equal(f->diags.items[1].message, "unknown customer \"CX\"");
  assert_int_equal(query_int(&f->l, "SELECT count(*) FROM invoices"), 4);
}

/* At most 20 row errors, then a last line saying the file was not read on. */
static void test_error_limit(void **state) {
  fixture *f = *state;
  char i[160], body[4096] = INV_HDR;
  dn_import_counts n;
  assert_int_equal(import_good(f, &n), DN_OK);
  for (int k = 0; k < 30; k++) strcat(body, "IX,CX,2026-01-01,2026-01-31,1\n");
  snprintf(i, sizeof i, "%s/i.csv", f->dir);
  lf_write_file(i, body);
  dn_import_files files = {.invoices = i};
  assert_int_equal(dn_ledger_import(&f->l, &files, &n, &f->diags), DN_ERR_INPUT);
  assert_int_equal(f->diags.count, 21);
  assert_int_equal(f->diags.items[19].line, 21);
  assert_int_equal(f->diags.items[20].line, 0);
  assert_string_equal(f->diags.items[20].message, "stopped after 20 errors; fix these and import again");
}

static void test_missing_file(void **state) {
  fixture *f = *state;
  char c[160];
  snprintf(c, sizeof c, "%s/nope.csv", f->dir);
  dn_import_files files = {.customers = c};
  dn_import_counts n;
  assert_int_not_equal(dn_ledger_import(&f->l, &files, &n, &f->diags), DN_OK);
  assert_int_equal(f->diags.count, 1);
  assert_int_equal(f->diags.items[0].code, DN_E0505);
  assert_string_equal(f->diags.items[0].file, c);
}

/* examples/ibm/convert.sh over the IBM sample: 100 customers, 2466
 * invoices each paid once (SOURCES.md); 561 rows say Disputed=Yes
 * (22.7 % of 2466; counted with awk on the Disputed column). */
static void test_ibm_example(void **state) {
  fixture *f = *state;
  char data[256], cmd[1024], paths[4][160];
  snprintf(data, sizeof data, "%s/../shared/data/ibm-accounts-receivable.csv", source_dir());
  if (access(data, R_OK) != 0) skip();
  snprintf(cmd, sizeof cmd, "sh '%s/examples/ibm/convert.sh' '%s' '%s/ibm'", source_dir(), data, f->dir);
  assert_int_equal(system(cmd), 0);
  const char *names[] = {"customers", "invoices", "payments", "disputes"};
  for (int k = 0; k < 4; k++) snprintf(paths[k], sizeof paths[k], "%s/ibm/%s.csv", f->dir, names[k]);
  dn_import_files files = {.customers = paths[0], .invoices = paths[1], .payments = paths[2], .disputes = paths[3]};
  dn_import_counts n;
  dn_status st = dn_ledger_import(&f->l, &files, &n, &f->diags);
  if (st != DN_OK && f->diags.count) print_message("%s:%d: %s\n", f->diags.items[0].file, f->diags.items[0].line,
                                                   f->diags.items[0].message);
  assert_int_equal(st, DN_OK);
  assert_int_equal(n.customers, 100);
  assert_int_equal(n.invoices, 2466);
  assert_int_equal(n.payments, 2466);
  assert_int_equal(n.disputes, 561);
  char b[64];
  /* First data row: invoice 280670965, 03/01/2012 due 02/02/2012, 50.39, settled 23/01/2012. */
  assert_int_equal(query_int(&f->l, "SELECT amount_minor FROM invoices WHERE id = '280670965'"), 5039);
  assert_string_equal(lf_query_text(f->l.db, "SELECT due_date FROM invoices WHERE id = '280670965'", b, sizeof b),
                      "2012-02-02");
  assert_string_equal(lf_query_text(f->l.db, "SELECT date FROM payments WHERE invoice_id = '280670965'", b, sizeof b),
                      "2012-01-23");
  assert_string_equal(lf_query_text(f->l.db, "SELECT attrs FROM customers WHERE id = '3993-QUNVJ'", b, sizeof b),
                      "{\"countrycode\":\"770\"}");
  /* Every invoice is paid in full. */
  assert_int_equal(query_int(&f->l, "SELECT count(*) FROM invoices i WHERE amount_minor <>"
                                    " (SELECT sum(amount_minor) FROM payments p WHERE p.invoice_id = i.id)"), 0);
  assert_int_equal(query_int(&f->l, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_good_counts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_good_values, setup, teardown),
      cmocka_unit_test_setup_teardown(test_map_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_map_line, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bom_crlf, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_rows, setup, teardown),
      cmocka_unit_test_setup_teardown(test_atomic_across_files, setup, teardown),
      cmocka_unit_test_setup_teardown(test_collects_row_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_error_limit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ibm_example, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
