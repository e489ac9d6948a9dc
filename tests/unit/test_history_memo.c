/* test_history_memo.c - dn_history_memo (runtime/engine.h): a customer's
 * parsed history kept from one run to the next must give exactly the
 * records a run without it gives, as the history grows at its end, and
 * when it is not the history seen before (parsed again from scratch).
 * Policy: LANGUAGE.md s.1; the facts are built in memory. */
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
#include "runtime/outbox.h"
#include "spec_example.h"

typedef struct text { char buf[8192]; size_t n; } text;

static dn_status collect(void *ctx, const dn_action_rec *a) {
  text *t = ctx;
  char *j = dn_action_json_text(a, false);
  assert_non_null(j);
  t->n += (size_t)snprintf(t->buf + t->n, sizeof t->buf - t->n, "%s\n", j);
  assert_true(t->n < sizeof t->buf);
  free(j);
  return DN_OK;
}

typedef struct world {
  dn_program *p;
  dn_date as_of;
  dn_invoice_facts inv[3];
  dn_history_fact hist[4];
  dn_customer_facts c;
  dn_diags diags;
} world;

static int setup(void **state) {
  world *w = calloc(1, sizeof *w);
  if (!(w->p = dn_spec_example_program())) return -1;
  dn_date_parse("2026-03-10", 10, &w->as_of);
  dn_diags_init(&w->diags, "t", NULL, 0);
  uint16_t usd = dn_currency_lookup("USD", 3);
  /* I1 20 days past due (15d), I2 40 (30d), I3 8 (7d): catch-up trails,
   * contacts that the caps defer, and a consolidated hold. */
  static const char *const ids[] = {"I1", "I2", "I3"};
  static const int32_t dpd[] = {20, 40, 8};
  for (int i = 0; i < 3; i++) {
    dn_invoice_facts *f = &w->inv[i];
    f->id = f->number = ids[i];
    f->currency = usd;
    f->days_past_due = dpd[i];
    f->due_date = w->as_of - dpd[i];
    f->issue_date = f->due_date - 30;
    f->last_payment_date = DN_DATE_NONE;
    f->amount = f->balance = 120000;
    f->amount_p = f->balance_p = 120000;
    f->paid_p = 0;
    f->open = true;
  }
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

/* The customer with the first n rows of hist as its history. */
static dn_customer_facts *customer(world *w, int n) {
  dn_customer_facts *c = &w->c;
  dn_customer_facts_init(c);
  c->id = "C1";
  c->tier = "standard";
  c->credit_limit_p = (dn_money){0, DN_CUR_NONE};
  c->total_open_p = (dn_money){360000, w->inv[0].currency};
  c->total_overdue_p = c->total_open_p;
  c->last_contact_date = DN_DATE_NONE;
  c->invoices = w->inv;
  c->ninvoices = 3;
  c->history = w->hist;
  c->nhistory = n;
  return c;
}

static void run(world *w, int n, dn_history_memo *memo, text *out) {
  memset(out, 0, sizeof *out);
  dn_run_options o = {.as_of = w->as_of, .history_memo = memo};
  assert_int_equal(dn_engine_run_customer(w->p, customer(w, n), &o, collect, out, &w->diags), DN_OK);
}

static void same_with_and_without(world *w, int n, dn_history_memo *memo) {
  text with, without;
  run(w, n, memo, &with);
  run(w, n, NULL, &without);
  assert_true(without.n > 0);
  assert_string_equal(with.buf, without.buf);
}

static void test_growing_history(void **state) {
  world *w = *state;
  /* Rows in the order the reader gives them (as_of, key); consolidated
   * parts as the outbox writes them. */
  w->hist[0] = (dn_history_fact){.key = "k1", .rule = "dunning", .step = "1d", .kind = "email",
                                 .tone = "friendly", .status = "scheduled", .invoice_ids = "[\"I1\"]",
                                 .as_of = w->as_of - 19};
  w->hist[1] = (dn_history_fact){.key = "k2", .rule = "dunning", .step = "7d,1d", .kind = "email",
                                 .tone = "neutral", .status = "scheduled",
                                 .invoice_ids = "[\"I1\",\"I3\"]", .as_of = w->as_of - 7};
  w->hist[2] = (dn_history_fact){.key = "k3", .rule = "dunning", .step = "15d", .kind = "email",
                                 .tone = "firm", .status = "deferred", .invoice_ids = "[\"I1\"]",
                                 .as_of = w->as_of - 2};
  w->hist[3] = (dn_history_fact){.key = "k4", .rule = "dunning,dunning", .step = "30d,15d", .kind = "hold",
                                 .status = "scheduled", .invoice_ids = "[\"I2\",\"I1\"]",
                                 .as_of = w->as_of - 1};
  dn_history_memo *memo = dn_history_memo_new();
  assert_non_null(memo);
  for (int n = 0; n <= 4; n++) same_with_and_without(w, n, memo); /* one row more each run */
  same_with_and_without(w, 4, memo);                               /* nothing new */
  /* Not the history seen before (fewer rows, then another last row): parsed
   * again from scratch, still the same records. */
  same_with_and_without(w, 2, memo);
  w->hist[1] = (dn_history_fact){.key = "k9", .rule = "dunning", .step = "15d", .kind = "call",
                                 .tone = "firm", .status = "scheduled", .invoice_ids = "[\"I1\"]",
                                 .as_of = w->as_of - 3};
  same_with_and_without(w, 2, memo);
  dn_history_memo_free(memo);
}

/* The memo makes a difference to the records when the history does: a
 * history that holds the 15d email must stop it being sent again. */
static void test_history_is_read(void **state) {
  world *w = *state;
  w->hist[0] = (dn_history_fact){.key = "k1", .rule = "dunning", .step = "15d", .kind = "email",
                                 .tone = "firm", .status = "scheduled", .invoice_ids = "[\"I1\"]",
                                 .as_of = w->as_of - 1};
  dn_history_memo *memo = dn_history_memo_new();
  text before, after;
  run(w, 0, memo, &before);
  run(w, 1, memo, &after);
  assert_non_null(strstr(before.buf, "\"step\":\"15d\""));
  assert_string_not_equal(before.buf, after.buf);
  same_with_and_without(w, 1, memo);
  dn_history_memo_free(memo);
}

#ifdef DN_HIST_NAMES_MAX
/* Built with runtime/history.c and DN_HIST_NAMES_MAX 6, DN_HIST_INVOICES_MAX
 * 3 (tests/CMakeLists.txt): a history holding more than a part can is the
 * customer's data error, said as such (not "out of memory"), the customer
 * skipped; with a memo, its entry stays the history read before, so a run
 * on those rows again gives the same records as before. */
static void run_skipped(world *w, int n, dn_history_memo *memo, const char *why) {
  text out;
  size_t errors = w->diags.errors;
  run(w, n, memo, &out);
  assert_int_equal(out.n, 0);
  assert_int_equal(w->diags.errors, errors + 1);
  assert_int_equal(w->diags.items[w->diags.count - 1].code, DN_E0506);
  const char *m = w->diags.items[w->diags.count - 1].message;
  assert_non_null(strstr(m, "customer C1: "));
  assert_non_null(strstr(m, why));
  assert_non_null(strstr(m, "customer skipped"));
  assert_null(strstr(m, "out of memory"));
}

static void test_history_past_a_part(void **state) {
  world *w = *state;
  w->hist[0] = (dn_history_fact){.key = "k1", .rule = "dunning", .step = "1d", .kind = "email",
                                 .tone = "friendly", .status = "scheduled", .invoice_ids = "[\"I1\"]",
                                 .as_of = w->as_of - 19};
  w->hist[1] = (dn_history_fact){.key = "k2", .rule = "dunning", .step = "7d", .kind = "email",
                                 .tone = "neutral", .status = "scheduled",
                                 .invoice_ids = "[\"I1\",\"I2\",\"I3\"]", .as_of = w->as_of - 7};
  /* Seven (rule, step) names in one record, with dunning 1d past six; the
   * first, I1's 15d, would stop I1's 15d email were it left in the memo. */
  w->hist[2] = (dn_history_fact){.key = "k3", .rule = "dunning", .step = "15d,a,b,c,d,e,f",
                                 .kind = "email", .tone = "firm", .status = "scheduled",
                                 .invoice_ids = "[\"I1\"]", .as_of = w->as_of - 2};
  dn_history_memo *memo = dn_history_memo_new();
  assert_non_null(memo);
  text first, again;
  run(w, 1, memo, &first);
  assert_non_null(strstr(first.buf, "\"step\":\"15d\""));
  run_skipped(w, 2, memo, "lists 3 invoices, more than 2");
  run(w, 1, memo, &again);
  assert_string_equal(first.buf, again.buf);
  w->hist[1] = w->hist[2];
  run_skipped(w, 2, memo, "more than 6 distinct (rule, step) pairs in one replay");
  run(w, 1, memo, &again);
  assert_string_equal(first.buf, again.buf);
  run_skipped(w, 2, NULL, "more than 6 distinct (rule, step) pairs in one reading");
  dn_history_memo_free(memo);
}
#endif

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_growing_history, setup, teardown),
      cmocka_unit_test_setup_teardown(test_history_is_read, setup, teardown),
#ifdef DN_HIST_NAMES_MAX
      cmocka_unit_test_setup_teardown(test_history_past_a_part, setup, teardown),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
