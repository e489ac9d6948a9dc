/* test_engine.c - run semantics (runtime/engine.c, LANGUAGE.md s.5) on small
 * ledgers built in a temporary SQLite file. Every expectation is worked
 * out by hand from the spec; the comments show the arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lang/compile.h"
#include "runtime/engine.h"
#include "runtime/ledger.h"
#include "spec_example.h"
#include "ledger_fixture.h"

/* ---- fixtures ------------------------------------------------------------ */

typedef struct rec {
  char key[33];
  char customer[16], invoices[64], kind[16], tone[16], template_name[40];
  char scheduled_at[32], rule[48], step[32], assignee[32], status[16], reason[256];
  bool has_priority;
  double priority;
} rec;

typedef struct fixture {
  char dir[64], path[96];
  dn_ledger l;
  dn_diags diags;
  dn_program *p;
  rec recs[64];
  int n;
  dn_run_stats stats;
} fixture;

static void copy(char *dst, size_t cap, const char *s) { snprintf(dst, cap, "%s", s ? s : ""); }

static dn_status collect(void *ctx, const dn_action_rec *a) {
  fixture *f = ctx;
  assert_true(f->n < 64);
  rec *r = &f->recs[f->n++];
  memset(r, 0, sizeof *r);
  memcpy(r->key, a->key, sizeof r->key);
  copy(r->customer, sizeof r->customer, a->customer);
  for (int i = 0; i < a->ninvoices; i++) {
    if (i) strncat(r->invoices, ",", sizeof r->invoices - strlen(r->invoices) - 1);
    strncat(r->invoices, a->invoices[i], sizeof r->invoices - strlen(r->invoices) - 1);
  }
  copy(r->kind, sizeof r->kind, dn_action_kind_name(a->kind));
  copy(r->tone, sizeof r->tone, a->tone);
  copy(r->template_name, sizeof r->template_name, a->template_name);
  copy(r->scheduled_at, sizeof r->scheduled_at, a->scheduled_at);
  copy(r->rule, sizeof r->rule, a->rule);
  copy(r->step, sizeof r->step, a->step);
  copy(r->assignee, sizeof r->assignee, a->assignee);
  copy(r->status, sizeof r->status, dn_action_status_name(a->status));
  copy(r->reason, sizeof r->reason, a->reason);
  r->has_priority = a->has_priority;
  r->priority = a->priority;
  return DN_OK;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!lf_make_dir(f->dir, sizeof f->dir, "engine", f->path, sizeof f->path)) return -1;
  dn_diags_init(&f->diags, "t", NULL, 0);
  if (dn_ledger_open(f->path, DN_LEDGER_CREATE, &f->l, &f->diags) != DN_OK) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  if (f->p) dn_program_free(f->p);
  dn_ledger_close(&f->l);
  dn_diags_free(&f->diags);
  lf_remove_ledger(f->dir, f->path);
  free(f);
  return 0;
}

static void compile(fixture *f, const char *src) { assert_true(lf_compile_policy(src, &f->p)); }

static dn_status run(fixture *f, const char *as_of) {
  dn_run_options o = {0};
  assert_true(dn_date_parse(as_of, strlen(as_of), &o.as_of));
  f->n = 0;
  return dn_engine_run(f->p, &f->l, &o, collect, f, &f->stats, &f->diags);
}

/* The record of customer/kind/status/step, or NULL. */
static const rec *find(const fixture *f, const char *customer, const char *kind,
                       const char *status, const char *step) {
  for (int i = 0; i < f->n; i++) {
    const rec *r = &f->recs[i];
    if (!strcmp(r->customer, customer) && !strcmp(r->kind, kind) &&
        !strcmp(r->status, status) && (!step || !strcmp(r->step, step)))
      return r;
  }
  return NULL;
}

/* ---- policies -------------------------------------------------------------- */
/* acme-b2b is DN_SPEC_EXAMPLE (spec_example.h). */

#define SIMPLE_HEAD                                         \
  "policy \"simple\" version 1\n"                           \
  "currency USD\n"                                          \
  "timezone \"America/New_York\"\n"                         \
  "calendar \"US\"\n"                                       \
  "send_window 09:00 .. 17:00\n"                            \
  "tones standard: friendly < neutral < firm < final\n"     \
  "segment standard otherwise\n"                            \
  "escalation dunning for invoice in standard\n"            \
  "  unless invoice.disputed or invoice.promise_active\n"   \
  "{\n"                                                     \
  "  step -3 days: email tone friendly\n"                   \
  "  step 1 day:   email tone friendly\n"                   \
  "  step 7 days:  email tone neutral\n"                    \
  "  step 15 days: email tone firm\n"                       \
  "}\n"

static const char simple[] = SIMPLE_HEAD;

/* C1 standard, limit USD 10,000.00; I1 USD 1,200.00 due 2026-02-22:
 * on 2026-03-10 it is 6 + 10 = 16 days past due. */
static void one_invoice(fixture *f) {
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id, tier, credit_limit_minor, currency, risk_score)"
              " VALUES ('C1', 'standard', 1000000, 'USD', 0.1);"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor)"
              " VALUES ('I1', 'C1', '2026-01-23', '2026-02-22', 'USD', 120000);");
}

static void history(fixture *f, const char *key, const char *as_of, const char *policy,
                    const char *rule, const char *step, const char *invoices, const char *kind,
                    const char *status) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "INSERT INTO actions(key, as_of, policy, rule, step, customer_id, invoice_ids, kind,"
           " status) VALUES ('%s', '%s', '%s', '%s', %s%s%s, 'C1', '%s', '%s', '%s')",
           key, as_of, policy, rule, step ? "'" : "", step ? step : "NULL", step ? "'" : "",
           invoices, kind, status);
  lf_exec_sql(f->l.db, sql);
}

/* ---- tests ------------------------------------------------------------------ */

/* The spec example (acme-b2b), 16 days past due, no history: step 15 (email firm + call priority
 * balance) is current; -3, 1 and 7 are caught up as skipped. Caps 1 per 3
 * days admit one contact: the call (priority 1200) beats the email (none),
 * so the email is deferred. Over-limit: 1200 < 10000, no hold. */
static void test_catch_up(void **state) {
  fixture *f = *state;
  compile(f, DN_SPEC_EXAMPLE);
  one_invoice(f);
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->n, 5);
  const rec *call = find(f, "C1", "call", "scheduled", "15d");
  assert_non_null(call);
  assert_string_equal(call->invoices, "I1");
  assert_string_equal(call->rule, "dunning");
  assert_string_equal(call->tone, "firm");
  assert_string_equal(call->template_name, "call-firm");
  assert_true(call->has_priority);
  assert_true(call->priority == 1200.0);
  assert_string_equal(call->assignee, "");
  assert_string_equal(call->scheduled_at, "2026-03-10T09:00:00-04:00");
  assert_string_equal(call->reason,
                      "segment standard; dunning step 15 days; invoice I1 16 days past due");
  const rec *email = find(f, "C1", "email", "deferred", "15d");
  assert_non_null(email);
  assert_string_equal(email->tone, "firm");
  assert_string_equal(email->template_name, "email-firm");
  assert_non_null(strstr(email->reason, "deferred: limit 1 per 3 days reached"));
  const char *skipped[] = {"-3d", "1d", "7d"};
  for (int i = 0; i < 3; i++) {
    const rec *s = find(f, "C1", "email", "skipped", skipped[i]);
    assert_non_null(s);
    assert_string_equal(s->invoices, "I1");
    assert_string_equal(s->reason, "skipped: caught up to step 15d");
  }
  /* Output order: customer, scheduled_at, key; keys distinct. */
  for (int i = 1; i < f->n; i++) assert_true(strcmp(f->recs[i - 1].key, f->recs[i].key) < 0);
  assert_int_equal(f->stats.customers, 1);
  assert_int_equal(f->stats.actions, 5);
  assert_int_equal(f->stats.errors, 0);
}

/* History with 7d emitted: today 15d is emitted, -3d and 1d skipped, 7d
 * not again. With 15d in history too: nothing at all. A deferred row does
 * not count as emitted. */
static void test_emitted_once(void **state) {
  fixture *f = *state;
  compile(f, simple);
  one_invoice(f);
  history(f, "h1", "2026-03-05", "simple", "dunning", "7d", "[\"I1\"]", "email", "scheduled");
  history(f, "h2", "2026-03-09", "simple", "dunning", "15d", "[\"I1\"]", "email", "deferred");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->n, 3);
  assert_non_null(find(f, "C1", "email", "scheduled", "15d"));
  assert_non_null(find(f, "C1", "email", "skipped", "-3d"));
  assert_non_null(find(f, "C1", "email", "skipped", "1d"));
  history(f, "h3", "2026-03-09", "simple", "dunning", "15d", "[\"I1\"]", "email", "scheduled");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->n, 0);
}

/* A history row of another policy does not count. */
static void test_other_policy_history(void **state) {
  fixture *f = *state;
  compile(f, simple);
  one_invoice(f);
  history(f, "h1", "2026-03-05", "other", "dunning", "15d", "[\"I1\"]", "email", "scheduled");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_non_null(find(f, "C1", "email", "scheduled", "15d"));
}

/* Disputed from 03-01 to 03-12: paused on 03-10; on 03-12 (18 days past
 * due) it resumes with 15d and catches up -3d, 1d, 7d. */
static void test_dispute_pause_resume(void **state) {
  fixture *f = *state;
  compile(f, simple);
  one_invoice(f);
  lf_exec_sql(f->l.db, "INSERT INTO disputes(id, invoice_id, opened_on, resolved_on)"
                 " VALUES ('D1', 'I1', '2026-03-01', '2026-03-12')");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->n, 0);
  assert_int_equal(run(f, "2026-03-12"), DN_OK);
  assert_int_equal(f->n, 4);
  const rec *e = find(f, "C1", "email", "scheduled", "15d");
  assert_non_null(e);
  assert_string_equal(e->reason, "segment standard; dunning step 15 days; invoice I1 18 days past due");
  assert_string_equal(e->scheduled_at, "2026-03-12T09:00:00-04:00");
}

/* Promise made 03-08 for 03-15 (USD 1,200.00); USD 500.00 paid on 03-12.
 * 03-10: active, paused. 03-16 = 03-15 + 0 grace + 1: broken, resumes
 * at 22 days past due. */
static void test_promise_pause(void **state) {
  fixture *f = *state;
  compile(f, simple);
  one_invoice(f);
  lf_exec_sql(f->l.db,
              "INSERT INTO promises(id, customer_id, invoice_id, made_on, promised_date, amount_minor)"
              " VALUES ('PR1', 'C1', 'I1', '2026-03-08', '2026-03-15', 120000);"
              "INSERT INTO payments(id, customer_id, invoice_id, date, amount_minor, currency, status)"
              " VALUES ('P1', 'C1', 'I1', '2026-03-12', 50000, 'USD', 'settled');");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->n, 0);
  assert_int_equal(run(f, "2026-03-15"), DN_OK);
  assert_int_equal(f->n, 0);
  assert_int_equal(run(f, "2026-03-16"), DN_OK);
  const rec *e = find(f, "C1", "email", "scheduled", "15d");
  assert_non_null(e);
  assert_string_equal(e->reason, "segment standard; dunning step 15 days; invoice I1 22 days past due");
}

/* I1 16 days past due (15d, firm) and I2 due 03-03, 7 days (7d, neutral):
 * one email for both, firmest tone, steps aligned with the invoices. */
static void test_consolidation(void **state) {
  fixture *f = *state;
  compile(f, simple);
  one_invoice(f);
  lf_exec_sql(f->l.db, "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor)"
                 " VALUES ('I2', 'C1', '2026-02-01', '2026-03-03', 'USD', 30000)");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  /* 1 email + skipped: I1 -3d 1d 7d, I2 -3d 1d */
  assert_int_equal(f->n, 6);
  const rec *e = find(f, "C1", "email", "scheduled", NULL);
  assert_non_null(e);
  assert_string_equal(e->invoices, "I1,I2");
  assert_string_equal(e->tone, "firm");
  assert_string_equal(e->template_name, "email-firm");
  assert_string_equal(e->rule, "dunning");
  assert_string_equal(e->step, "15d,7d");
  assert_string_equal(e->reason,
                      "segment standard; dunning step 15 days; invoice I1 16 days past due;"
                      " dunning step 7 days; invoice I2 7 days past due");
  int skipped = 0;
  for (int i = 0; i < f->n; i++) skipped += !strcmp(f->recs[i].status, "skipped");
  assert_int_equal(skipped, 5);
  /* Re-run the next day with this run committed as history: I1's 15d and
   * I2's 7d are emitted (the consolidated row is read back per invoice). */
  history(f, "c1", "2026-03-10", "simple", "dunning", "15d,7d", "[\"I1\",\"I2\"]", "email",
          "scheduled");
  history(f, "c2", "2026-03-10", "simple", "dunning", "-3d", "[\"I1\"]", "email", "skipped");
  history(f, "c3", "2026-03-10", "simple", "dunning", "1d", "[\"I1\"]", "email", "skipped");
  history(f, "c4", "2026-03-10", "simple", "dunning", "7d", "[\"I1\"]", "email", "skipped");
  history(f, "c5", "2026-03-10", "simple", "dunning", "-3d", "[\"I2\"]", "email", "skipped");
  history(f, "c6", "2026-03-10", "simple", "dunning", "1d", "[\"I2\"]", "email", "skipped");
  assert_int_equal(run(f, "2026-03-11"), DN_OK);
  assert_int_equal(f->n, 0);
}

/* 1 per 3 days: a contact on 03-08 is inside [03-08, 03-10], so today's
 * email is deferred; one on 03-07 is outside, so it is scheduled. */
static void test_caps(void **state) {
  fixture *f = *state;
  compile(f, SIMPLE_HEAD "limit contacts per customer: 1 per 3 days\n");
  one_invoice(f);
  history(f, "h1", "2026-03-07", "simple", "manual", NULL, "[]", "sms", "scheduled");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_non_null(find(f, "C1", "email", "scheduled", "15d"));
  history(f, "h2", "2026-03-08", "simple", "manual", NULL, "[]", "call", "scheduled");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  const rec *e = find(f, "C1", "email", "deferred", "15d");
  assert_non_null(e);
  assert_string_equal(e->reason,
                      "deferred: limit 1 per 3 days reached; segment standard; dunning step 15 days;"
                      " invoice I1 16 days past due");
  /* Skipped records are not contacts and are never deferred. */
  assert_non_null(find(f, "C1", "email", "skipped", "7d"));
}

/* The spec example (acme-b2b), strategic (tone -1): C1 at 1 day past due gets `email tone
 * friendly` clamped at friendly; C2 at 7 days gets email neutral -> friendly
 * and sms (step tone neutral) -> friendly; 1 per 3 days admits the email
 * (channel order on a tie) and defers the sms. Both carry key-accounts. */
static void test_tone_shift(void **state) {
  fixture *f = *state;
  compile(f, DN_SPEC_EXAMPLE);
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id, tier, credit_limit_minor, currency)"
              " VALUES ('C1', 'strategic', 1000000, 'USD'), ('C2', 'strategic', 1000000, 'USD');"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor) VALUES"
              " ('I1', 'C1', '2026-02-01', '2026-03-09', 'USD', 10000),"
              " ('I2', 'C2', '2026-02-01', '2026-03-03', 'USD', 10000);");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  const rec *e1 = find(f, "C1", "email", "scheduled", "1d");
  assert_non_null(e1);
  assert_string_equal(e1->tone, "friendly");
  assert_string_equal(e1->template_name, "email-friendly");
  assert_string_equal(e1->assignee, "key-accounts");
  assert_non_null(find(f, "C1", "email", "skipped", "-3d"));
  const rec *e2 = find(f, "C2", "email", "scheduled", "7d");
  assert_non_null(e2);
  assert_string_equal(e2->tone, "friendly");
  const rec *s2 = find(f, "C2", "sms", "deferred", "7d");
  assert_non_null(s2);
  assert_string_equal(s2->tone, "friendly");
  assert_string_equal(s2->template_name, "sms-friendly");
  assert_string_equal(s2->assignee, "key-accounts");
  /* C1 first: output is ordered by customer id. */
  assert_string_equal(f->recs[0].customer, "C1");
  assert_string_equal(f->recs[f->n - 1].customer, "C2");
}

/* New York: EST until 2026-03-08, EDT after. 2026-07-03 is the observed
 * Independence Day (07-04 is a Saturday), so the next business day is
 * Monday 07-06. A ledger holiday on 03-09 moves that day to 03-10. */
static void test_scheduling(void **state) {
  fixture *f = *state;
  compile(f, simple);
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id) VALUES ('C1');"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor)"
              " VALUES ('I1', 'C1', '2026-01-01', '2026-01-10', 'USD', 100);");
  const char *cases[][2] = {
      {"2026-03-06", "2026-03-06T09:00:00-05:00"},
      {"2026-03-09", "2026-03-09T09:00:00-04:00"},
      {"2026-07-03", "2026-07-06T09:00:00-04:00"},
      {"2026-03-07", "2026-03-09T09:00:00-04:00"}, /* Saturday -> Monday */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    assert_int_equal(run(f, cases[i][0]), DN_OK);
    assert_true(f->n >= 1);
    assert_string_equal(f->recs[0].scheduled_at, cases[i][1]);
  }
  lf_exec_sql(f->l.db, "INSERT INTO holidays(calendar, date, name) VALUES ('US', '2026-03-09', 'x')");
  assert_int_equal(run(f, "2026-03-09"), DN_OK);
  assert_string_equal(f->recs[0].scheduled_at, "2026-03-10T09:00:00-04:00");
  /* A customer zone: Berlin is UTC+1 on 2026-03-10. */
  lf_exec_sql(f->l.db, "UPDATE customers SET timezone = 'Europe/Berlin'");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_string_equal(f->recs[0].scheduled_at, "2026-03-10T09:00:00+01:00");
  /* An unknown zone: E0506, and the policy's zone. */
  lf_exec_sql(f->l.db, "UPDATE customers SET timezone = 'Mars/Olympus'");
  size_t before = f->diags.count;
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_string_equal(f->recs[0].scheduled_at, "2026-03-10T09:00:00-04:00");
  assert_int_equal(f->diags.count, before + 1);
  assert_int_equal(f->diags.items[before].code, DN_E0506);
}

/* I1 in EUR without a rate: E0501, counted, skipped; I2 (USD, same age)
 * proceeds alone. */
static void test_missing_fx(void **state) {
  fixture *f = *state;
  compile(f, simple);
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id) VALUES ('C1');"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor) VALUES"
              " ('I1', 'C1', '2026-01-23', '2026-02-22', 'EUR', 100000),"
              " ('I2', 'C1', '2026-01-23', '2026-02-22', 'USD', 100000);");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->stats.errors, 1);
  assert_int_equal(f->diags.count, 1);
  assert_int_equal(f->diags.items[0].code, DN_E0501);
  assert_non_null(strstr(f->diags.items[0].message, "I1"));
  const rec *e = find(f, "C1", "email", "scheduled", "15d");
  assert_non_null(e);
  assert_string_equal(e->invoices, "I2");
  for (int i = 0; i < f->n; i++) assert_null(strstr(f->recs[i].invoices, "I1"));
}

/* payment.failed P7 on D for I1 (not yet due): one email, neutral,
 * template payment-failed; nothing the next day. */
static void test_payment_failed(void **state) {
  fixture *f = *state;
  compile(f, SIMPLE_HEAD
          "on payment.failed for invoice do email tone neutral template \"payment-failed\"\n");
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id) VALUES ('C1');"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor)"
              " VALUES ('I1', 'C1', '2026-03-01', '2026-03-20', 'USD', 100000);"
              "INSERT INTO payments(id, customer_id, invoice_id, date, amount_minor, currency, status)"
              " VALUES ('P7', 'C1', 'I1', '2026-03-10', 100000, 'USD', 'failed');");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->n, 1);
  assert_string_equal(f->recs[0].kind, "email");
  assert_string_equal(f->recs[0].rule, "on payment.failed");
  assert_string_equal(f->recs[0].step, "P7");
  assert_string_equal(f->recs[0].tone, "neutral");
  assert_string_equal(f->recs[0].template_name, "payment-failed");
  assert_string_equal(f->recs[0].invoices, "I1");
  assert_string_equal(f->recs[0].reason, "on payment.failed P7");
  assert_string_equal(f->recs[0].status, "scheduled");
  assert_int_equal(run(f, "2026-03-11"), DN_OK);
  assert_int_equal(f->n, 0);
}

/* over_limit: 1200 > 1000. Fires with no history; blocked by a firing 18
 * days ago; fires again when the last one is 30 days old (03-10 - 30 =
 * 02-08 is outside "the last 30 days"). */
static void test_rule_once_per(void **state) {
  fixture *f = *state;
  compile(f, DN_SPEC_EXAMPLE);
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id, tier, credit_limit_minor, currency)"
              " VALUES ('C1', 'standard', 100000, 'USD');"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor)"
              " VALUES ('I1', 'C1', '2026-03-01', '2026-03-31', 'USD', 120000);");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->n, 1);
  assert_string_equal(f->recs[0].kind, "hold");
  assert_string_equal(f->recs[0].rule, "over_limit");
  assert_string_equal(f->recs[0].step, "");
  assert_string_equal(f->recs[0].tone, "");
  assert_string_equal(f->recs[0].template_name, "");
  assert_string_equal(f->recs[0].invoices, "");
  assert_string_equal(f->recs[0].reason, "rule over_limit");
  history(f, "h1", "2026-02-08", "acme-b2b", "over_limit", NULL, "[]", "hold", "scheduled");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->n, 1);
  history(f, "h2", "2026-02-20", "acme-b2b", "over_limit", NULL, "[]", "hold", "scheduled");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->n, 0);
}

/* Hold from a step and hold from a rule: identical non-contacts merge. */
static void test_merge_holds(void **state) {
  fixture *f = *state;
  compile(f, DN_SPEC_EXAMPLE);
  /* I1 due 2026-02-05: 33 days past due on 03-10 -> step 30: letter final
   * and hold credit; total_open 1200 > limit 1000 -> over_limit hold. */
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id, tier, credit_limit_minor, currency)"
              " VALUES ('C1', 'standard', 100000, 'USD');"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor)"
              " VALUES ('I1', 'C1', '2026-01-05', '2026-02-05', 'USD', 120000);");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  int holds = 0;
  const rec *h = NULL;
  for (int i = 0; i < f->n; i++)
    if (!strcmp(f->recs[i].kind, "hold") && !strcmp(f->recs[i].status, "scheduled")) {
      holds++;
      h = &f->recs[i];
    }
  assert_int_equal(holds, 1);
  assert_string_equal(h->invoices, "I1");
  const rec *letter = find(f, "C1", "letter", "scheduled", "30d");
  assert_non_null(letter);
  assert_string_equal(letter->tone, "final");
  /* 4 skipped steps: -3d 1d 7d 15d. */
  int skipped = 0;
  for (int i = 0; i < f->n; i++) skipped += !strcmp(f->recs[i].status, "skipped");
  assert_int_equal(skipped, 4);
}

static void test_determinism(void **state) {
  fixture *f = *state;
  compile(f, DN_SPEC_EXAMPLE);
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id, tier, credit_limit_minor, currency, risk_score) VALUES"
              " ('C1', 'standard', 100000, 'USD', 0.1), ('C2', 'strategic', 900000, 'USD', NULL),"
              " ('C3', 'standard', 100000, 'USD', 0.9);"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor) VALUES"
              " ('I1', 'C1', '2026-01-05', '2026-02-05', 'USD', 120000),"
              " ('I2', 'C1', '2026-02-05', '2026-03-01', 'USD', 5000),"
              " ('I3', 'C2', '2026-01-05', '2026-03-05', 'USD', 7000000),"
              " ('I4', 'C3', '2026-01-05', '2026-01-07', 'USD', 90000);"
              "INSERT INTO payments(id, customer_id, invoice_id, date, amount_minor, currency, status)"
              " VALUES ('P1', 'C3', 'I4', '2026-03-10', 100, 'USD', 'failed');");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  int n = f->n;
  assert_true(n > 5);
  rec *first = malloc(sizeof f->recs);
  memcpy(first, f->recs, sizeof f->recs);
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->n, n);
  assert_memory_equal(first, f->recs, sizeof(rec) * (size_t)n);
  free(first);
}

typedef struct lines {
  char text[64][160];
  int n;
} lines;

static void collect_line(void *ctx, const char *customer, const char *invoice, const char *line) {
  lines *l = ctx;
  assert_string_equal(customer, "C1");
  if (l->n < 64)
    snprintf(l->text[l->n++], sizeof l->text[0], "%s: %s", invoice ? invoice : "-", line);
}

static bool has_line(const lines *l, const char *text) {
  for (int i = 0; i < l->n; i++)
    if (!strcmp(l->text[i], text)) return true;
  return false;
}

/* explain for C1 / I1 only: the segment tried, the steps considered from
 * the latest down, emission and catch-up; C2 is neither run nor explained. */
static void test_explain(void **state) {
  fixture *f = *state;
  compile(f, simple);
  one_invoice(f);
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id) VALUES ('C2');"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor)"
              " VALUES ('I2', 'C1', '2026-02-01', '2026-03-03', 'USD', 30000),"
              " ('I3', 'C2', '2026-02-01', '2026-03-03', 'USD', 30000);");
  lines l = {0};
  dn_run_options o = {.only_invoice = "I1", .explain = collect_line, .explain_ctx = &l};
  assert_true(dn_date_parse("2026-03-10", 10, &o.as_of));
  f->n = 0;
  assert_int_equal(dn_engine_run(f->p, &f->l, &o, collect, f, &f->stats, &f->diags), DN_OK);
  assert_true(has_line(&l, "-: segment standard: otherwise, chosen"));
  assert_true(has_line(&l, "I1: dunning step 15d: due (offset 15 <= 16)"));
  assert_true(has_line(&l, "I1: dunning step 15d: emitted"));
  assert_true(has_line(&l, "I1: dunning step 7d: skipped (caught up to 15d)"));
  for (int i = 0; i < l.n; i++) assert_null(strstr(l.text[i], "I2:"));
  /* Only C1's actions: its consolidated email and the catch-up. */
  for (int i = 0; i < f->n; i++) assert_string_equal(f->recs[i].customer, "C1");
  assert_int_equal(f->stats.customers, 1);
}

/* Business-day steps: due Friday 2026-03-06; on Wednesday 03-11 that is 3
 * business days (Mon 9, Tue 10, Wed 11) though 5 calendar days. */
static void test_business_days(void **state) {
  fixture *f = *state;
  compile(f,
          "policy \"bd\" version 1\n"
          "currency USD\n"
          "timezone \"America/New_York\"\n"
          "calendar \"US\"\n"
          "send_window 08:30 .. 17:00\n"
          "segment all otherwise\n"
          "escalation remind for invoice in all {\n"
          "  step 3 business days: email\n"
          "  step 4 business days: sms\n"
          "}\n");
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id) VALUES ('C1');"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor)"
              " VALUES ('I1', 'C1', '2026-02-06', '2026-03-06', 'USD', 100);");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->n, 0); /* 2 business days */
  assert_int_equal(run(f, "2026-03-11"), DN_OK);
  assert_int_equal(f->n, 1);
  assert_string_equal(f->recs[0].step, "3bd");
  assert_string_equal(f->recs[0].kind, "email");
  /* No tone named anywhere: the ladder's gentlest (the default ladder). */
  assert_string_equal(f->recs[0].scheduled_at, "2026-03-11T08:30:00-04:00");
  assert_non_null(strstr(f->recs[0].reason, "remind step 3 business days"));
}

/* A division by zero in an invoice rule skips that invoice only: E0507,
 * an error counted, and the other invoice still fires. */
static void test_runtime_error(void **state) {
  fixture *f = *state;
  compile(f,
          "policy \"err\" version 1\n"
          "currency USD\n"
          "timezone \"America/New_York\"\n"
          "segment all otherwise\n"
          "rule half_paid for invoice\n"
          "  when invoice.paid_amount / invoice.amount >= 0.5 and"
          " invoice.amount / invoice.paid_amount < 3.0\n"
          "  do task \"check\"\n");
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id) VALUES ('C1');"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor) VALUES"
              " ('I1', 'C1', '2026-02-06', '2026-03-06', 'USD', 1000),"
              " ('I2', 'C1', '2026-02-06', '2026-03-06', 'USD', 0),"
              " ('I3', 'C1', '2026-02-06', '2026-03-06', 'USD', 1000);"
              "INSERT INTO payments(id, customer_id, invoice_id, date, amount_minor, currency, status)"
              " VALUES ('P1', 'C1', 'I1', '2026-03-01', 600, 'USD', 'settled');");
  /* I1: 600/1000 = 0.6 >= 0.5 and 1000/600 < 3 -> fires. I2 is not open
   * (amount 0). I3: 0/1000 = 0 < 0.5, `and` short-cuts: no error. */
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->n, 1);
  assert_string_equal(f->recs[0].invoices, "I1");
  assert_int_equal(f->stats.errors, 0);
  /* Now make I3 fail: 0.5 and then amount / 0. */
  dn_program_free(f->p);
  f->p = NULL;
  compile(f,
          "policy \"err\" version 1\n"
          "currency USD\n"
          "timezone \"America/New_York\"\n"
          "segment all otherwise\n"
          "rule ratio for invoice\n"
          "  when invoice.amount / invoice.paid_amount < 3.0\n"
          "  do task \"check\"\n");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  /* I1: 1000/600 < 3 fires; I3: 1000/0 fails. */
  assert_int_equal(f->n, 1);
  assert_string_equal(f->recs[0].invoices, "I1");
  assert_int_equal(f->stats.errors, 1);
  assert_int_equal(f->diags.items[f->diags.count - 1].code, DN_E0507);
  assert_non_null(strstr(f->diags.items[f->diags.count - 1].message, "I3"));
}

/* No segment matches: no escalation, but rules still apply. */
static void test_no_segment(void **state) {
  fixture *f = *state;
  compile(f,
          "policy \"ns\" version 1\n"
          "currency USD\n"
          "timezone \"America/New_York\"\n"
          "segment vip when customer.tier == \"vip\"\n"
          "escalation d for invoice in vip {\n"
          "  step 1 day: email\n"
          "}\n"
          "rule big for customer when customer.total_open > 1 USD do task \"look\"\n");
  one_invoice(f);
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->n, 1);
  assert_string_equal(f->recs[0].kind, "task");
  assert_string_equal(f->recs[0].rule, "big");
}

/* The decide path: facts built in memory, no ledger. */
static void test_run_customer(void **state) {
  fixture *f = *state;
  compile(f, simple);
  dn_customer_facts c;
  memset(&c, 0, sizeof c);
  dn_arena_init(&c.arena);
  dn_invoice_facts inv = {0};
  uint16_t usd = dn_currency_lookup("USD", 3);
  assert_true(dn_date_parse("2026-02-22", 10, &inv.due_date));
  inv.id = "I9";
  inv.currency = usd;
  inv.amount = inv.balance = 5000;
  inv.amount_p = inv.balance_p = 5000;
  inv.paid_p = 0;
  inv.days_past_due = 16;
  inv.open = true;
  inv.last_payment_date = DN_DATE_NONE;
  c.id = "C9";
  c.invoices = &inv;
  c.ninvoices = 1;
  c.last_contact_date = DN_DATE_NONE;
  c.total_open_p = c.total_overdue_p = (dn_money){5000, usd};
  c.credit_limit_p = (dn_money){0, usd};
  dn_run_options o = {0};
  assert_true(dn_date_parse("2026-03-10", 10, &o.as_of));
  f->n = 0;
  assert_int_equal(dn_engine_run_customer(f->p, &c, &o, collect, f, &f->diags), DN_OK);
  assert_int_equal(f->n, 4);
  const rec *e = find(f, "C9", "email", "scheduled", "15d");
  assert_non_null(e);
  assert_string_equal(e->invoices, "I9");
  assert_string_equal(e->scheduled_at, "2026-03-10T09:00:00-04:00");
  dn_arena_free(&c.arena);
}

/* A deferred event contact is reconsidered on later runs until it goes
 * out: payment.failed P7 on 03-10 with a contact on 03-09 (1 per 3 days)
 * is deferred on 03-10 and 03-11, and scheduled on 03-12 when 03-09 has
 * left the window; once scheduled, it is not sent again. */
static void test_deferred_event_retried(void **state) {
  fixture *f = *state;
  compile(f, SIMPLE_HEAD
          "on payment.failed for invoice do email tone neutral template \"payment-failed\"\n"
          "limit contacts per customer: 1 per 3 days\n");
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id) VALUES ('C1');"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor)"
              " VALUES ('I1', 'C1', '2026-03-01', '2026-03-31', 'USD', 100000);"
              "INSERT INTO payments(id, customer_id, invoice_id, date, amount_minor, currency, status)"
              " VALUES ('P7', 'C1', 'I1', '2026-03-10', 100000, 'USD', 'failed');");
  history(f, "h0", "2026-03-09", "simple", "manual", NULL, "[]", "call", "scheduled");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->n, 1);
  assert_string_equal(f->recs[0].status, "deferred");
  char deferred_key[33];
  memcpy(deferred_key, f->recs[0].key, sizeof deferred_key);
  history(f, deferred_key, "2026-03-10", "simple", "on payment.failed", "P7", "[\"I1\"]",
          "email", "deferred");
  assert_int_equal(run(f, "2026-03-11"), DN_OK);
  assert_int_equal(f->n, 1);
  assert_string_equal(f->recs[0].status, "deferred");
  assert_string_equal(f->recs[0].key, deferred_key); /* the outbox ignores it */
  assert_int_equal(run(f, "2026-03-12"), DN_OK);
  assert_int_equal(f->n, 1);
  assert_string_equal(f->recs[0].status, "scheduled");
  assert_string_equal(f->recs[0].rule, "on payment.failed");
  assert_string_equal(f->recs[0].step, "P7");
  assert_string_equal(f->recs[0].reason, "on payment.failed P7 (deferred before)");
  assert_string_not_equal(f->recs[0].key, deferred_key);
  history(f, f->recs[0].key, "2026-03-12", "simple", "on payment.failed", "P7", "[\"I1\"]",
          "email", "scheduled");
  assert_int_equal(run(f, "2026-03-13"), DN_OK);
  assert_int_equal(f->n, 0);
}


/* No credit limit in the ledger is a missing amount, not zero: the
 * over-limit comparison is false (no hold for everyone without a limit),
 * coalesce supplies a default, and what is computed from it is missing
 * too. C1 has a limit of 100.00 and 150.00 open; C2 has none and 150.00
 * open. */
static void test_missing_credit_limit(void **state) {
  fixture *f = *state;
  compile(f,
          "policy \"p\" version 1\ncurrency USD\n"
          "segment all otherwise\n"
          "rule over for customer when customer.total_open > customer.credit_limit do hold credit\n"
          "rule near for customer when customer.total_open > coalesce(customer.credit_limit, 100 USD)\n"
          "  do task \"near limit\"\n");
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id, name, credit_limit_minor, currency) VALUES"
              " ('C1', 'one', 10000, 'USD'), ('C2', 'two', NULL, 'USD');"
              "INSERT INTO invoices(id, customer_id, number, issue_date, due_date, currency, amount_minor) VALUES"
              " ('I1', 'C1', 'n1', '2026-01-01', '2026-01-31', 'USD', 15000),"
              " ('I2', 'C2', 'n2', '2026-01-01', '2026-01-31', 'USD', 15000);");
  assert_int_equal(run(f, "2026-02-10"), DN_OK);
  assert_non_null(find(f, "C1", "hold", "scheduled", NULL));
  assert_null(find(f, "C2", "hold", "scheduled", NULL));
  /* coalesce: C2 counts as a 100.00 limit, 150.00 > 100.00 */
  assert_non_null(find(f, "C1", "task", "scheduled", NULL));
  assert_non_null(find(f, "C2", "task", "scheduled", NULL));
  assert_int_equal(f->stats.errors, 0);

  /* Arithmetic on the missing amount is missing too, and the comparison
   * false: C1 (50.00 < 150.00) fires, C2 quietly does not, no error. */
  dn_program_free(f->p);
  f->p = NULL;
  compile(f,
          "policy \"p\" version 1\ncurrency USD\n"
          "segment all otherwise\n"
          "rule half for customer when customer.credit_limit * 0.5 < customer.total_open\n"
          "  do task \"half\"\n");
  assert_int_equal(run(f, "2026-02-10"), DN_OK);
  assert_non_null(find(f, "C1", "task", "scheduled", NULL));
  assert_null(find(f, "C2", "task", "scheduled", NULL));
  assert_int_equal(f->stats.errors, 0);
}

/* LANGUAGE.md s.6: a money priority is compared in the policy's currency.
 * `priority 100 EUR` in a USD policy with EUR/USD 1.10 dated before D is
 * USD 110.00, so the record says 110 (not 100); the sms at USD 105.00
 * therefore ranks below the email. Without any EUR rate, the priority
 * cannot be known: the invoice is skipped with one data error. */
static void test_priority_other_currency(void **state) {
  fixture *f = *state;
  compile(f,
          "policy \"p\" version 1\ncurrency USD\n"
          "segment all otherwise\n"
          "escalation d for invoice in all {\n"
          "  step 1 day: email tone firm priority 100 EUR, sms priority 105 USD\n"
          "}\n");
  one_invoice(f);
  lf_exec_sql(f->l.db, "INSERT INTO fx_rates(date, base, quote, rate) VALUES ('2026-03-01', 'EUR', 'USD', '1.10');");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->stats.errors, 0);
  const rec *e = find(f, "C1", "email", "scheduled", "1d");
  const rec *s = find(f, "C1", "sms", "scheduled", "1d");
  assert_non_null(e);
  assert_non_null(s);
  assert_true(e->has_priority);
  assert_true(e->priority > 109.999 && e->priority < 110.001);
  assert_true(s->priority > 104.999 && s->priority < 105.001);

  lf_exec_sql(f->l.db, "DELETE FROM fx_rates;");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->stats.errors, 1);
  assert_int_equal(f->n, 0);
}

/* An invoice whose due date is not a real day (a ledger written by
 * another tool: 2026-02-30 passes the schema's GLOB) is skipped with
 * E0506, and that is a data error like a missing rate: counted in the
 * stats (so `run` exits 1). I1 (16 days past due) still gets its step. */
static void test_bad_invoice_row_counted(void **state) {
  fixture *f = *state;
  compile(f, simple);
  one_invoice(f);
  lf_exec_sql(f->l.db,
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor)"
              " VALUES ('I2', 'C1', '2026-01-23', '2026-02-30', 'USD', 5000);");
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_int_equal(f->stats.errors, 1);
  const rec *e = find(f, "C1", "email", "scheduled", "15d");
  assert_non_null(e);
  assert_string_equal(e->invoices, "I1");
}

/* Caps are all enforced, however many one `limit` lists: 64 lenient caps
 * (10 per 7 days) then a 65th of 1 per 7 days. C1 (I1 16 days past due,
 * no history) gets step 15's email and sms: the 65th cap admits one and
 * defers the other (equal priority and tone: the email, by channel,
 * goes out; the sms is deferred). */
static void test_many_caps(void **state) {
  fixture *f = *state;
  char src[8192];
  int n = snprintf(src, sizeof src,
                   "policy \"p\" version 1\ncurrency USD\n"
                   "segment all otherwise\n"
                   "escalation d for invoice in all {\n"
                   "  step 15 days: email tone firm, sms\n"
                   "}\n");
  n += snprintf(src + n, sizeof src - (size_t)n, "limit contacts per customer:");
  for (int i = 0; i < 64; i++) n += snprintf(src + n, sizeof src - (size_t)n, " 10 per 7 days,");
  snprintf(src + n, sizeof src - (size_t)n, " 1 per 7 days\n");
  compile(f, src);
  one_invoice(f);
  assert_int_equal(run(f, "2026-03-10"), DN_OK);
  assert_non_null(find(f, "C1", "email", "scheduled", "15d"));
  assert_non_null(find(f, "C1", "sms", "deferred", "15d"));
  assert_null(find(f, "C1", "sms", "scheduled", "15d"));
}


/* One invoice bringing a step email and an invoice-rule email on one day:
 * the consolidated record's extra part names its invoice. Parts sort by
 * invoice, then rule: I1 d/1d and I2 d/1d are aligned with the invoice
 * list, I1's zbig10 is the extra one: rule "d,d,zbig10", step
 * "1d,1d,@I1" (without the tag it would block zbig10 for I2 as well),
 * so the next day the rule is held back for I1 only and fires for I2.
 * I1 due 06-01, I2 due 06-02. On 06-11: I1 10 days (step 1d, rule
 * zbig10), I2 9 days (step 1d). On 06-12 with that record as history: the
 * steps were emitted, zbig10 fired for I1 within 30 days, I2 reaches 10. */
static void test_consolidated_rule_part(void **state) {
  fixture *f = *state;
  compile(f,
          "policy \"p\" version 1\ncurrency USD\n"
          "segment all otherwise\n"
          "escalation d for invoice in all { step 1 day: email tone friendly }\n"
          "rule zbig10 for invoice when invoice.days_past_due >= 10 do email tone firm once per 30 days\n");
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id, currency) VALUES ('C1', 'USD');"
              "INSERT INTO invoices(id, customer_id, issue_date, due_date, currency, amount_minor) VALUES"
              " ('I1', 'C1', '2026-05-01', '2026-06-01', 'USD', 10000),"
              " ('I2', 'C1', '2026-05-02', '2026-06-02', 'USD', 10000);");
  assert_int_equal(run(f, "2026-06-11"), DN_OK);
  const rec *e = find(f, "C1", "email", "scheduled", NULL);
  assert_non_null(e);
  assert_string_equal(e->invoices, "I1,I2");
  assert_string_equal(e->rule, "d,d,zbig10");
  assert_string_equal(e->step, "1d,1d,@I1");
  assert_string_equal(e->tone, "firm");
  history(f, "k1", "2026-06-11", "p", "d,d,zbig10", "1d,1d,@I1", "[\"I1\",\"I2\"]", "email", "scheduled");
  assert_int_equal(run(f, "2026-06-12"), DN_OK);
  assert_int_equal(f->n, 1);
  assert_string_equal(f->recs[0].rule, "zbig10");
  assert_string_equal(f->recs[0].invoices, "I2");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_missing_credit_limit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_consolidated_rule_part, setup, teardown),
      cmocka_unit_test_setup_teardown(test_catch_up, setup, teardown),
      cmocka_unit_test_setup_teardown(test_emitted_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_other_policy_history, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dispute_pause_resume, setup, teardown),
      cmocka_unit_test_setup_teardown(test_promise_pause, setup, teardown),
      cmocka_unit_test_setup_teardown(test_consolidation, setup, teardown),
      cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tone_shift, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scheduling, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_fx, setup, teardown),
      cmocka_unit_test_setup_teardown(test_payment_failed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rule_once_per, setup, teardown),
      cmocka_unit_test_setup_teardown(test_merge_holds, setup, teardown),
      cmocka_unit_test_setup_teardown(test_determinism, setup, teardown),
      cmocka_unit_test_setup_teardown(test_explain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_business_days, setup, teardown),
      cmocka_unit_test_setup_teardown(test_runtime_error, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_segment, setup, teardown),
      cmocka_unit_test_setup_teardown(test_run_customer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_deferred_event_retried, setup, teardown),
      cmocka_unit_test_setup_teardown(test_priority_other_currency, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_invoice_row_counted, setup, teardown),
      cmocka_unit_test_setup_teardown(test_many_caps, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
