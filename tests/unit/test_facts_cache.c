/* test_facts_cache.c - the row store's cached facts (runtime/facts.c):
 * a customer read from memory on a day when none of its rows changed
 * gets the facts read before, with what the date itself moves summed
 * again. Read day after day from the store, every customer's facts must
 * equal what SQLite says each day, on a ledger where each kind of row
 * changes something mid-span: an invoice issued, a payment (settled and
 * failed), a credit, a dispute opened then resolved, promises made then
 * kept or lapsed, fx rates for a EUR customer (its amounts converted
 * again from the facts kept), for a customer who paid a USD invoice in EUR
 * (read again), for a customer whose EUR promise is paid in USD (read
 * again), for GBP first missing then there, an invoice whose issue
 * date is text but no date, and one in no currency (reported on every
 * reading, whatever the store kept). The history too, in order, with
 * a row whose as_of is text but no date among dated ones, and rows added
 * to the store as a replay adds them, one sorting before that row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lang/compile.h"
#include "runtime/facts_reader.h"
#include "ledger_fixture.h"

typedef struct fixture {
  char dir[64], path[96];
  dn_ledger l;
  dn_diags diags;
  dn_program *p;
} fixture;

static const char policy_src[] =
    "policy \"cache\" version 1\n"
    "currency USD\n"
    "timezone \"UTC\"\n"
    "promise_grace 2 days\n"
    "segment everyone otherwise\n"
    "escalation dun for invoice in everyone {\n"
    "  step 2 days: email tone friendly\n"
    "}\n";

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f || !lf_make_dir(f->dir, sizeof f->dir, "fcache", f->path, sizeof f->path)) return -1;
  dn_diags_init(&f->diags, "t", NULL, 0);
  if (dn_ledger_open(f->path, DN_LEDGER_CREATE, &f->l, &f->diags) != DN_OK) return -1;
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id, name, timezone, currency, credit_limit_minor) VALUES"
              " ('A', 'A', 'UTC', 'USD', 50000), ('B', 'B', 'UTC', 'USD', NULL),"
              " ('C', 'C', 'UTC', 'USD', 10000), ('E', 'E', 'UTC', 'EUR', 80000),"
              " ('O', 'O', 'UTC', 'USD', NULL), ('X', 'X', 'UTC', 'USD', NULL),"
              " ('F', 'F', 'UTC', 'USD', NULL), ('G', 'G', 'UTC', 'GBP', 100000),"
              " ('H', 'H', 'UTC', 'EUR', NULL);"
              "INSERT INTO invoices VALUES"
              " ('IA1', 'A', 'N1', '2026-02-01', '2026-03-01', 'USD', 10000),"
              " ('IA2', 'A', 'N2', '2026-03-05', '2026-03-12', 'USD', 20000),"
              " ('IB1', 'B', 'N3', '2026-01-10', '2026-02-10', 'USD', 30000),"
              " ('IC1', 'C', 'N4', '2026-01-20', '2026-02-20', 'USD', 40000),"
              " ('IE1', 'E', 'N5', '2026-01-15', '2026-02-15', 'EUR', 50000),"
              " ('IO1', 'O', 'N6', '2026-01-15', '2026-02-15', 'USD', 60000),"
              " ('IF1', 'F', 'N9', '2026-01-15', '2026-02-15', 'USD', 30000),"
              " ('IG1', 'G', 'N10', '2026-01-15', '2026-02-15', 'GBP', 20000),"
              " ('IH1', 'H', 'N11', '2026-01-15', '2026-02-15', 'USD', 50000);"
              "INSERT INTO payments(id, customer_id, invoice_id, date, amount_minor, currency, status)"
              " VALUES ('P1', 'A', 'IA1', '2026-03-07', 10000, 'USD', 'settled'),"
              " ('P2', 'B', 'IB1', '2026-03-04', 5000, 'USD', 'failed'),"
              " ('P3', 'B', 'IB1', '2026-03-09', 7000, 'USD', 'settled'),"
              " ('P4', 'E', 'IE1', '2026-03-08', 10000, 'EUR', 'settled'),"
              /* paid in EUR towards a USD invoice, before the span: its
               * share moves with every EUR rate (no facts kept across one) */
              " ('PF', 'F', 'IF1', '2026-02-20', 9000, 'EUR', 'settled'),"
              /* USD towards H's promise in EUR (its own currency): whether
               * the promise is kept moves with the rate (1.2 on 03-14) */
              " ('PH', 'H', 'IH1', '2026-03-02', 10000, 'USD', 'settled');"
              "INSERT INTO credits VALUES ('K1', 'IB1', '2026-03-06', 3000, 'goodwill');"
              "INSERT INTO disputes(id, invoice_id, opened_on, resolved_on)"
              " VALUES ('D1', 'IC1', '2026-03-03', '2026-03-10');"
              "INSERT INTO promises(id, customer_id, invoice_id, made_on, promised_date, amount_minor)"
              " VALUES ('R1', 'C', 'IC1', '2026-03-02', '2026-03-05', 40000),"
              " ('R2', 'O', 'IO1', '2026-03-11', '2026-03-14', 1000),"
              " ('R3', 'H', NULL, '2026-03-01', '2026-03-24', 9000);"
              /* A ledger written by another tool: an issue date that is
               * text but no date, visible from 03-10 ("2026-03-1" sorts
               * after "2026-03-09" and before "2026-03-10"). */
              "PRAGMA ignore_check_constraints = ON;"
              "INSERT INTO invoices VALUES ('IO2', 'O', 'N7', '2026-03-1', '2026-03-15', 'USD', 2000);"
              /* An invoice in no currency: reported on every reading. */
              "INSERT INTO invoices VALUES ('IX1', 'X', 'N8', '2026-01-15', '2026-02-15', 'QQQ', 2000);"
              /* History: an as_of of text but no date sorts between
               * "2026-03-09" and "2026-03-10", as SQLite compares text. */
              "INSERT INTO actions(key, as_of, policy, rule, step, customer_id, invoice_ids, kind,"
              " tone, status) VALUES"
              " ('ka', '2026-03-02', 'cache', 'dun', '2d', 'A', '[\"IA1\"]', 'email', 'friendly',"
              " 'scheduled'),"
              " ('kb', '2026-03-1', 'cache', 'dun', '2d', 'A', '[\"IA2\"]', 'email', 'friendly',"
              " 'deferred'),"
              " ('kc', '2026-03-12', 'cache', 'dun', '2d', 'A', '[\"IA2\"]', 'email', 'friendly',"
              " 'scheduled'),"
              " ('kd', '2026-03-04', 'other', 'dun', '2d', 'A', '[\"IA2\"]', 'email', 'friendly',"
              " 'scheduled');"
              "PRAGMA ignore_check_constraints = OFF;"
              "INSERT INTO fx_rates VALUES ('2026-03-01', 'EUR', 'USD', '1.08'),"
              " ('2026-03-06', 'EUR', 'USD', '1.11'), ('2026-03-13', 'EUR', 'USD', '1.07'),"
              " ('2026-03-14', 'EUR', 'USD', '1.2'), ('2026-03-16', 'EUR', 'USD', '1.05'),"
              /* GBP has no rate until 03-18: G's amounts are missing, then there */
              " ('2026-03-18', 'GBP', 'USD', '1.3'), ('2026-03-20', 'GBP', 'USD', '1.25');");
  if (!lf_compile_policy(policy_src, &f->p)) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  dn_program_free(f->p);
  dn_ledger_close(&f->l);
  dn_diags_free(&f->diags);
  lf_remove_ledger(f->dir, f->path);
  free(f);
  return 0;
}

/* Every fact of a customer the engine reads, as text. */
static void describe(char *out, size_t cap, const dn_customer_facts *c) {
  size_t n = (size_t)snprintf(
      out, cap, "%s lim=%lld/%u open=%d/%lld over=%d/%lld old=%d late=%.3f ontime=%.3f prom=%d fx=%d"
                " ovf=%d ev=%d hist=%d |",
      c->id, (long long)c->credit_limit_p.minor, c->credit_limit_p.cur, c->open_invoices,
      (long long)c->total_open_p.minor, c->overdue_invoices, (long long)c->total_overdue_p.minor,
      c->oldest_days_past_due, c->avg_days_late, c->on_time_ratio, c->promise_active,
      c->fx_missing, c->overflow, c->nevents, c->nhistory);
  for (int32_t i = 0; i < c->ninvoices && n < cap; i++) {
    const dn_invoice_facts *f = &c->invoices[i];
    n += (size_t)snprintf(out + n, cap - n, " %s bal=%lld/%lld paid=%lld amt_p=%lld dpd=%d open=%d"
                                            " disp=%d prom=%d fxm=%d lastpay=%d",
                          f->id, (long long)f->balance, (long long)f->balance_p,
                          (long long)f->paid, (long long)f->amount_p, f->days_past_due, f->open,
                          f->disputed, f->promise_active, f->fx_missing, f->last_payment_date);
  }
  for (int32_t e = 0; e < c->nevents && n < cap; e++)
    n += (size_t)snprintf(out + n, cap - n, " ev%d:%s", c->events[e].kind, c->events[e].id);
  for (int32_t h = 0; h < c->nhistory && n < cap; h++)
    n += (size_t)snprintf(out + n, cap - n, " h:%s@%d", c->history[h].key, c->history[h].as_of);
  if (n < cap && c->nhistory)
    n += (size_t)snprintf(out + n, cap - n, " last=%d/%s", c->last_contact_date,
                          c->last_tone ? c->last_tone : "-");
}

/* All customers as of d, one line each, from the ledger's store when it
 * has one set, else from SQLite. */
static void read_day(fixture *f, dn_date d, char *out, size_t cap) {
  dn_facts_reader *r;
  static const char *const ids[] = {"A", "B", "C", "E", "F", "G", "H", "O", "X"};
  assert_int_equal(dn_facts_reader_open_set(&f->l, f->p, d, ids, 9, false, &r, &f->diags), DN_OK);
  dn_customer_facts c;
  dn_customer_facts_init(&c);
  size_t n = 0;
  for (;;) {
    bool got;
    assert_int_equal(dn_facts_reader_next(r, &c, &got, &f->diags), DN_OK);
    if (!got) break;
    describe(out + n, cap - n, &c);
    n += strlen(out + n);
    assert_true(n + 1 < cap);
    out[n++] = '\n';
    out[n] = '\0';
  }
  dn_customer_facts_free(&c);
  dn_facts_reader_close(r);
}

/* A history row added to the store (as the outbox adds one) and to the
 * table alike. */
static void add_row(fixture *f, dn_facts_store *store, const char *key, const char *as_of) {
  const char *v[8] = {key, "dun", "2d", "email", "firm", "scheduled", "[\"IA2\"]", as_of};
  assert_true(dn_facts_store_add_history(store, "A", v, strlen(v[6])));
  char sql[320];
  snprintf(sql, sizeof sql,
           "INSERT INTO actions(key, as_of, policy, rule, step, customer_id, invoice_ids, kind,"
           " tone, status) VALUES ('%s', '%s', 'cache', 'dun', '2d', 'A', '[\"IA2\"]', 'email',"
           " 'firm', 'scheduled')",
           key, as_of);
  lf_exec_sql(f->l.db, sql);
}

static void store_reads_equal_sqlite_every_day(void **state) {
  fixture *f = *state;
  dn_facts_store *store = NULL;
  assert_int_equal(dn_facts_store_load(&f->l, f->p, &store, &f->diags), DN_OK);
  /* Placed among the loaded rows by (as_of text, key): "2026-03-05"
   * before the undated "2026-03-1", "2026-03-20" last, and "2026-03-1"
   * itself (an as_of equal to an undated row's) after key "kb". */
  add_row(f, store, "ke", "2026-03-05");
  add_row(f, store, "kf", "2026-03-20");
  add_row(f, store, "kg", "2026-03-1");
  static char want[16384], got[16384];
  dn_date from, to;
  assert_true(dn_date_parse("2026-02-27", 10, &from));
  assert_true(dn_date_parse("2026-03-25", 10, &to));
  int differ_by_day = 0;
  static char prev[16384] = "";
  /* A long run has shown its first diagnostics already: past
   * DN_DIAGS_SHOWN they are only counted, and must still be, each day. */
  for (int i = 0; i < DN_DIAGS_SHOWN; i++) dn_diag_add_at(&f->diags, DN_E0506, "t", 0, "filler");
  for (dn_date d = from; d <= to; d++) {
    size_t before = f->diags.errors + f->diags.warnings;
    f->l.store = NULL;
    read_day(f, d, want, sizeof want);
    size_t from_sqlite = f->diags.errors + f->diags.warnings - before;
    f->l.store = store;
    read_day(f, d, got, sizeof got);
    f->l.store = NULL;
    assert_string_equal(got, want);
    assert_int_equal(f->diags.errors + f->diags.warnings - before, 2 * from_sqlite);
    assert_int_equal(from_sqlite, 1); /* X's invoice, every day */
    differ_by_day += strcmp(prev, want) != 0;
    snprintf(prev, sizeof prev, "%s", want);
  }
  /* The facts do move over the span (the days past due alone do), so a
   * cache that froze them could not pass. */
  assert_true(differ_by_day > 20);
  dn_facts_store_free(store);
}

/* One more customer of r described into out (n bytes so far); false at
 * the reader's end. */
static bool read_next(fixture *f, dn_facts_reader *r, dn_customer_facts *c, char *out, size_t cap,
                      size_t *n) {
  bool got;
  assert_int_equal(dn_facts_reader_next(r, c, &got, &f->diags), DN_OK);
  if (!got) return false;
  describe(out + *n, cap - *n, c);
  *n += strlen(out + *n);
  assert_true(*n + 1 < cap);
  out[(*n)++] = '\n';
  out[*n] = '\0';
  return true;
}

/* A restore lends the cached invoices to its reader until its next
 * customer: a second reader open at the same time, reading the same
 * customer meanwhile, must neither restore from the entry nor keep into
 * it while it is lent. Two readers over the store, on 03-16 and 03-18,
 * step through the customers in turn, after a reading of 03-15 kept
 * every cacheable customer: the first restores O, the second reads O
 * again (its promise lapsed on 03-17) while O's entry is lent. Each must
 * read what SQLite says, and so must a reading of 03-19 after them
 * (which restores what the 03-18 reading kept, if anything). */
static void two_readers_at_once(void **state) {
  fixture *f = *state;
  dn_facts_store *store = NULL;
  assert_int_equal(dn_facts_store_load(&f->l, f->p, &store, &f->diags), DN_OK);
  static char want[3][16384], got[3][16384];
  static const char *const days[3] = {"2026-03-16", "2026-03-18", "2026-03-19"};
  dn_date day[3], warm;
  for (int k = 0; k < 3; k++) {
    assert_true(dn_date_parse(days[k], 10, &day[k]));
    read_day(f, day[k], want[k], sizeof want[k]);
  }
  assert_true(dn_date_parse("2026-03-15", 10, &warm));
  f->l.store = store;
  read_day(f, warm, got[2], sizeof got[2]);
  static const char *const ids[] = {"A", "B", "C", "E", "F", "G", "H", "O", "X"};
  dn_facts_reader *r[2];
  dn_customer_facts c[2];
  size_t n[2] = {0, 0};
  for (int k = 0; k < 2; k++) {
    assert_int_equal(dn_facts_reader_open_set(&f->l, f->p, day[k], ids, 9, false, &r[k], &f->diags),
                     DN_OK);
    dn_customer_facts_init(&c[k]);
    got[k][0] = '\0';
  }
  bool more[2] = {true, true};
  while (more[0] || more[1])
    for (int k = 0; k < 2; k++)
      if (more[k]) more[k] = read_next(f, r[k], &c[k], got[k], sizeof got[k], &n[k]);
  for (int k = 0; k < 2; k++) {
    dn_customer_facts_free(&c[k]);
    dn_facts_reader_close(r[k]);
  }
  read_day(f, day[2], got[2], sizeof got[2]);
  f->l.store = NULL;
  for (int k = 0; k < 3; k++) assert_string_equal(got[k], want[k]);
  assert_string_not_equal(want[0], want[1]);
  dn_facts_store_free(store);
}

/* The store's key set grows from 1,024 slots by doubling, moving each
 * key by the hash bits it kept: after thousands of keys every one is
 * found and no other is. */
static void keys_found_after_growth(void **state) {
  fixture *f = *state;
  dn_facts_store *store = NULL;
  assert_int_equal(dn_facts_store_load(&f->l, f->p, &store, &f->diags), DN_OK);
  char key[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(key, sizeof key, "grow-%d", i);
    const char *v[8] = {key, "dun", "2d", "email", "firm", "scheduled", "[]", "2026-03-01"};
    assert_true(dn_facts_store_add_history(store, NULL, v, 2));
  }
  for (int i = 0; i < 10000; i++) {
    snprintf(key, sizeof key, "grow-%d", i);
    if (dn_facts_store_has_key(store, key) != (i < 5000)) fail_msg("key %s", key);
  }
  assert_true(dn_facts_store_has_key(store, "ka")); /* loaded from the actions table */
  dn_facts_store_free(store);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(keys_found_after_growth, setup, teardown),
      cmocka_unit_test_setup_teardown(store_reads_equal_sqlite_every_day, setup, teardown),
      cmocka_unit_test_setup_teardown(two_readers_at_once, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
