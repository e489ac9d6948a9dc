/* test_decisions.c - dn_engine_session_decide (runtime/engine.h): the
 * decisions of a run without its records, on the LANGUAGE.md s.1 policy and
 * facts built in memory. Expected steps, tones, segments and rules are
 * worked out by hand from the spec (comments show how); the last test
 * checks that the decisions agree with the records a full run makes from
 * the same facts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lang/compile.h"
#include "runtime/engine.h"
#include "runtime/facts_reader.h"
#include "spec_example.h"

enum { FRIENDLY, NEUTRAL, FIRM, FINAL };
enum { STRATEGIC, HIGH_RISK, STANDARD }; /* segment order in the policy */

typedef struct inv_spec {
  const char *id;
  int32_t dpd;
  int64_t balance; /* cents */
  bool disputed, closed;
} inv_spec;

typedef struct cust_spec {
  const char *id, *tier;
  double avg_days_late, risk;
  int64_t total_overdue, total_open, limit; /* cents; limit < 0: none */
  bool promise;
  int32_t over_limit_fired_days_ago;        /* 0: never */
  const inv_spec *inv;
  int32_t ninv;
} cust_spec;

typedef struct world {
  dn_program *p;
  dn_date as_of;
  uint16_t usd;
  dn_invoice_facts inv[16];
  dn_history_fact hist[1];
  dn_customer_facts c;
  dn_diags diags;
  dn_step_decision steps[16]; /* copies of a decision's arrays */
  dn_rule_decision rules[4];
} world;

static int setup(void **state) {
  world *w = calloc(1, sizeof *w);
  if (!(w->p = dn_spec_example_program())) return -1;
  dn_date_parse("2026-03-10", 10, &w->as_of);
  w->usd = dn_currency_lookup("USD", 3);
  dn_diags_init(&w->diags, "t", NULL, 0);
  *state = w;
  return 0;
}

static int teardown(void **state) {
  world *w = *state;
  dn_program_free(w->p);
  dn_diags_free(&w->diags);
  free(w);
  return 0;
}

static void build(world *w, const cust_spec *s) {
  dn_customer_facts_init(&w->c);
  dn_customer_facts *c = &w->c;
  c->id = s->id;
  c->tier = s->tier;
  c->avg_days_late = s->avg_days_late;
  c->risk_score = s->risk;
  c->total_overdue_p = (dn_money){s->total_overdue, w->usd};
  c->total_open_p = (dn_money){s->total_open, w->usd};
  c->credit_limit_p = s->limit < 0 ? (dn_money){0, DN_CUR_NONE} : (dn_money){s->limit, w->usd};
  c->promise_active = s->promise;
  c->last_contact_date = DN_DATE_NONE;
  for (int32_t i = 0; i < s->ninv; i++) {
    dn_invoice_facts *f = &w->inv[i];
    memset(f, 0, sizeof *f);
    f->id = f->number = s->inv[i].id;
    f->currency = w->usd;
    f->days_past_due = s->inv[i].dpd;
    f->due_date = w->as_of - s->inv[i].dpd;
    f->issue_date = f->due_date - 30;
    f->last_payment_date = DN_DATE_NONE;
    f->amount = f->balance = s->inv[i].balance;
    f->amount_p = f->balance_p = s->inv[i].balance;
    f->paid_p = 0;
    f->open = !s->inv[i].closed;
    f->disputed = s->inv[i].disputed;
  }
  c->invoices = w->inv;
  c->ninvoices = s->ninv;
  if (s->over_limit_fired_days_ago > 0) {
    w->hist[0] = (dn_history_fact){.key = "k", .rule = "over_limit", .kind = "hold",
                                   .status = "scheduled", .invoice_ids = "[]",
                                   .as_of = w->as_of - s->over_limit_fired_days_ago};
    c->history = w->hist;
    c->nhistory = 1;
  }
}

static dn_decision decide(world *w, const cust_spec *s) {
  build(w, s);
  dn_run_options o = {.as_of = w->as_of};
  dn_engine_session *es;
  assert_int_equal(dn_engine_session_open(w->p, &o, &es, &w->diags), DN_OK);
  dn_decision d;
  assert_int_equal(dn_engine_session_decide(es, &w->c, &d, &w->diags), DN_OK);
  /* The arrays live in the session: copy what the tests read. */
  assert_true(d.nsteps <= 16 && d.nrules <= 4);
  if (d.nsteps) memcpy(w->steps, d.steps, sizeof *w->steps * (size_t)d.nsteps);
  if (d.nrules) memcpy(w->rules, d.rules, sizeof *w->rules * (size_t)d.nrules);
  d.steps = w->steps;
  d.rules = w->rules;
  dn_engine_session_close(es);
  return d;
}

/* The offset of the step decided for invoice i, or INT32_MIN for none. */
static int32_t offset_of(const world *w, const dn_decision *d, int32_t i, int32_t *tone) {
  for (int32_t k = 0; k < d->nsteps; k++)
    if (d->steps[k].invoice == i && d->steps[k].step != DN_NONE) {
      assert_int_equal(d->steps[k].escalation, 0);
      if (tone) *tone = d->steps[k].tone;
      return w->p->steps[d->steps[k].step].offset_days;
    }
  return INT32_MIN;
}

#define NONE INT32_MIN

/* Standard customer (tier standard, 5 days late on average, risk 0.2,
 * overdue far below 50,000): latest step whose offset <= days past due;
 * the 60-day step only when balance >= 500.00. */
static const inv_spec ladder_invoices[] = {
    {"A1", -5, 10000, false, false},  /* -3 > -5: nothing due yet */
    {"A2", -3, 10000, false, false},  /* -3 <= -3: the reminder, friendly */
    {"A3", 0, 10000, false, false},   /* still -3d: 1 > 0 */
    {"A4", 1, 10000, false, false},   /* 1d, friendly */
    {"A5", 8, 10000, false, false},   /* 7d, neutral */
    {"A6", 20, 10000, false, false},  /* 15d, firm */
    {"A7", 45, 10000, false, false},  /* 30d, final */
    {"A8", 70, 40000, false, false},  /* 60d guard 400.00 >= 500 false: 30d */
    {"A9", 70, 50000, false, false},  /* 60d: 500.00 >= 500; escalate only: no contact, no tone */
    {"A10", 20, 10000, true, false},  /* disputed: paused */
    {"A11", 20, 10000, false, true},  /* not open: not decided at all */
};

static void test_standard_ladder(void **state) {
  world *w = *state;
  cust_spec s = {"A", "standard", 5, 0.2, 100000, 150000, 100000, false, 0, ladder_invoices, 11};
  dn_decision d = decide(w, &s);
  assert_false(d.skipped);
  assert_int_equal(d.segment, STANDARD);
  static const int32_t want[] = {NONE, -3, -3, 1, 7, 15, 30, 30, 60, NONE, NONE};
  static const int32_t tone[] = {0, FRIENDLY, FRIENDLY, FRIENDLY, NEUTRAL, FIRM, FINAL, FINAL, -1, 0, 0};
  for (int32_t i = 0; i < 11; i++) {
    int32_t t = 99;
    int32_t got = offset_of(w, &d, i, &t);
    if (got != want[i]) fail_msg("invoice %s: step %d, want %d", ladder_invoices[i].id, got, want[i]);
    if (want[i] != NONE) assert_int_equal(t, tone[i]);
  }
  /* One entry per open invoice (A11 is closed); only A10 is paused. */
  assert_int_equal(d.nsteps, 10);
  for (int32_t k = 0; k < d.nsteps; k++) {
    assert_int_equal(d.steps[k].invoice, k);
    assert_int_equal(d.steps[k].paused, k == 9);
  }
  /* total_open 1,500.00 > credit_limit 1,000.00: over_limit fires once. */
  assert_int_equal(d.nrules, 1);
  assert_int_equal(d.rules[0].rule, 0);
  assert_int_equal(d.rules[0].invoice, -1);
}

/* Strategic by tier, promise active: the unless guard pauses every
 * invoice; no credit limit, so total_open > credit_limit is false. */
static void test_promise_pauses_strategic(void **state) {
  world *w = *state;
  static const inv_spec inv[] = {{"B1", 20, 10000, false, false}, {"B2", 70, 90000, false, false}};
  cust_spec s = {"B", "strategic", 0, 0, 100000, 100000, -1, true, 0, inv, 2};
  dn_decision d = decide(w, &s);
  assert_int_equal(d.segment, STRATEGIC);
  assert_int_equal(d.nsteps, 2);
  for (int32_t k = 0; k < 2; k++) {
    assert_true(d.steps[k].paused);
    assert_int_equal(d.steps[k].step, DN_NONE);
  }
  assert_int_equal(d.nrules, 0);
}

/* 25 days late on average: chronic, so high_risk (no tone shift); over
 * the limit but over_limit fired 10 days ago, and `once per 30 days`
 * holds it back; 31 days ago it fires again. */
static void test_high_risk_and_once_per(void **state) {
  world *w = *state;
  static const inv_spec inv[] = {{"C1", 20, 10000, false, false}};
  cust_spec s = {"C", "standard", 25, 0.1, 10000, 20000, 10000, false, 10, inv, 1};
  dn_decision d = decide(w, &s);
  assert_int_equal(d.segment, HIGH_RISK);
  int32_t t = 99;
  assert_int_equal(offset_of(w, &d, 0, &t), 15);
  assert_int_equal(t, FIRM);
  assert_int_equal(d.nrules, 0);
  s.over_limit_fired_days_ago = 31;
  d = decide(w, &s);
  assert_int_equal(d.nrules, 1);
}

/* Overdue 60,000.00 >= 50,000: big_balance makes it strategic, whose
 * `tone -1` moves firm to neutral and clamps friendly at friendly. */
static void test_strategic_shift(void **state) {
  world *w = *state;
  static const inv_spec inv[] = {{"D1", 20, 10000, false, false}, {"D2", 1, 10000, false, false}};
  cust_spec s = {"D", "standard", 0, 0, 6000000, 6000000, -1, false, 0, inv, 2};
  dn_decision d = decide(w, &s);
  assert_int_equal(d.segment, STRATEGIC);
  int32_t t = 99;
  assert_int_equal(offset_of(w, &d, 0, &t), 15);
  assert_int_equal(t, NEUTRAL);
  assert_int_equal(offset_of(w, &d, 1, &t), 1);
  assert_int_equal(t, FRIENDLY);
}

/* A step line that names no tone sends its contact in the gentlest tone
 * (shifted by the segment), and the level says so; `email tone firm, sms`
 * gives the email's tone. */
static void test_tone_of_unnamed_step(void **state) {
  world *w = *state;
  static const char src[] =
      "policy \"t\" version 1\ncurrency USD\n"
      "tones standard: friendly < neutral < firm < final\n"
      "segment loud when customer.tier == \"loud\" { tone +1 }\n"
      "segment quiet otherwise\n"
      "escalation e for invoice in loud, quiet {\n"
      "  step 1 day: sms\n"
      "  step 7 days: email tone firm, sms\n"
      "}\n";
  dn_program_free(w->p);
  dn_diags d;
  dn_diags_init(&d, "t.dun", src, strlen(src));
  assert_int_equal(dn_compile_source("t.dun", src, strlen(src), &w->p, &d), DN_OK);
  dn_diags_free(&d);
  static const inv_spec inv[] = {{"T1", 2, 100, false, false}, {"T2", 8, 100, false, false}};
  cust_spec s = {"T", "quiet", 0, 0, 0, 0, -1, false, 0, inv, 2};
  dn_decision dec = decide(w, &s);
  int32_t t = 99;
  assert_int_equal(offset_of(w, &dec, 0, &t), 1);
  assert_int_equal(t, FRIENDLY); /* none named: the gentlest */
  assert_int_equal(offset_of(w, &dec, 1, &t), 7);
  assert_int_equal(t, FIRM);
  s.tier = "loud";
  dec = decide(w, &s);
  assert_int_equal(offset_of(w, &dec, 0, &t), 1);
  assert_int_equal(t, NEUTRAL); /* the gentlest, one firmer */
  assert_int_equal(offset_of(w, &dec, 1, &t), 7);
  assert_int_equal(t, FINAL);
}

/* An overflowing customer is skipped with a diagnostic, as a run skips it. */
static void test_skipped_customer(void **state) {
  world *w = *state;
  cust_spec s = {"E", "standard", 0, 0, 0, 0, -1, false, 0, ladder_invoices, 2};
  build(w, &s);
  w->c.overflow = true;
  dn_run_options o = {.as_of = w->as_of};
  dn_engine_session *es;
  assert_int_equal(dn_engine_session_open(w->p, &o, &es, &w->diags), DN_OK);
  size_t before = w->diags.errors;
  dn_decision d;
  assert_int_equal(dn_engine_session_decide(es, &w->c, &d, &w->diags), DN_OK);
  assert_true(d.skipped);
  assert_int_equal(d.segment, DN_NONE);
  assert_int_equal(d.nsteps, 0);
  assert_true(w->diags.errors > before);
  dn_engine_session_close(es);
}

/* ---- agreement with a full run ---------------------------------------------- */

typedef struct run_steps { const dn_customer_facts *c; int32_t offset[16]; bool fired; } run_steps;

static const char *next_part(const char *p) {
  const char *comma = strchr(p, ',');
  return comma ? comma + 1 : p;
}

/* The run's current steps: every non-skipped record of `dunning` lists its
 * invoices with their steps aligned ("15d,7d"; one part covers all). */
static dn_status collect(void *ctx, const dn_action_rec *a) {
  run_steps *r = ctx;
  if (a->rule && strstr(a->rule, "over_limit")) r->fired = true;
  if (a->status == DN_STATUS_SKIPPED || !a->step || strncmp(a->rule, "dunning", 7) != 0)
    return DN_OK;
  const char *step = a->step;
  for (int i = 0; i < a->ninvoices; i++, step = next_part(step))
    for (int32_t k = 0; k < r->c->ninvoices; k++)
      if (!strcmp(r->c->invoices[k].id, a->invoices[i])) r->offset[k] = atoi(step);
  return DN_OK;
}

static void test_agrees_with_run(void **state) {
  world *w = *state;
  const cust_spec specs[] = {
      {"A", "standard", 5, 0.2, 100000, 150000, 100000, false, 0, ladder_invoices, 11},
      {"D", "standard", 0, 0.9, 6000000, 6000000, -1, false, 0, ladder_invoices, 11},
      {"F", "standard", 30, 0.1, 0, 50, 100, false, 0, ladder_invoices, 11},
  };
  for (size_t n = 0; n < sizeof specs / sizeof *specs; n++) {
    dn_decision d = decide(w, &specs[n]);
    build(w, &specs[n]);
    run_steps r = {.c = &w->c};
    for (int k = 0; k < 16; k++) r.offset[k] = NONE;
    dn_run_options o = {.as_of = w->as_of};
    assert_int_equal(dn_engine_run_customer(w->p, &w->c, &o, collect, &r, &w->diags), DN_OK);
    for (int32_t i = 0; i < w->c.ninvoices; i++)
      if (offset_of(w, &d, i, NULL) != r.offset[i])
        fail_msg("customer %s invoice %s: decided %d, run %d", specs[n].id, w->c.invoices[i].id,
                 offset_of(w, &d, i, NULL), r.offset[i]);
    assert_int_equal(d.nrules > 0, r.fired);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_standard_ladder, setup, teardown),
      cmocka_unit_test_setup_teardown(test_promise_pauses_strategic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_high_risk_and_once_per, setup, teardown),
      cmocka_unit_test_setup_teardown(test_strategic_shift, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tone_of_unnamed_step, setup, teardown),
      cmocka_unit_test_setup_teardown(test_skipped_customer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_agrees_with_run, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
