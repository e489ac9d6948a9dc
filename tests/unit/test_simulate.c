/* test_simulate.c - the day-by-day replay of runtime/simulate.c: the
 * working copy (what it keeps of the history, the source untouched), the
 * per-day loop (callback order, history carried across days, totals,
 * segments on the records) and the identity pairing behind `diff`.
 * Expectations are worked out by hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lang/compile.h"
#include "runtime/simulate.h"
#include "ledger_fixture.h"

typedef struct fixture {
  char dir[64], path[96];
  dn_ledger l;
  dn_diags diags;
  dn_program *p;
} fixture;

/* Two segments by tier; a 2-step ladder; no cap. */
static const char policy_src[] =
    "policy \"unit-sim\" version 1\n"
    "currency USD\n"
    "timezone \"UTC\"\n"
    "segment gold when customer.tier == \"gold\" { assign \"vip-desk\" }\n"
    "segment rest otherwise\n"
    "escalation dun for invoice in gold, rest {\n"
    "  step 2 days: email tone friendly\n"
    "  step 4 days: call tone firm\n"
    "}\n";

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f || !lf_make_dir(f->dir, sizeof f->dir, "simulate", f->path, sizeof f->path)) return -1;
  dn_diags_init(&f->diags, "t", NULL, 0);
  if (dn_ledger_open(f->path, DN_LEDGER_CREATE, &f->l, &f->diags) != DN_OK) return -1;
  /* A due 2026-03-02 (Mon): step 2d on 03-04 (Wed), step 4d on 03-06 (Fri).
   * B due 2026-03-03: 2d on 03-05 (Thu), 4d on 03-07 (Sat: the call is
   * scheduled on Monday 03-09). */
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id, name, tier, timezone, currency) VALUES"
              " ('A', 'Gold Co', 'gold', 'UTC', 'USD'), ('B', 'Plain Co', 'standard', 'UTC', 'USD');"
              "INSERT INTO invoices VALUES"
              " ('IA', 'A', 'N1', '2026-02-01', '2026-03-02', 'USD', 10000),"
              " ('IB', 'B', 'N2', '2026-02-01', '2026-03-03', 'USD', 10000);");
  if (!lf_compile_policy(policy_src, &f->p)) return -1;
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

static dn_date day(const char *s) {
  dn_date d;
  assert_true(dn_date_parse(s, strlen(s), &d));
  return d;
}

/* ---- the working copy --------------------------------------------------------- */

static void test_copy_keeps_history_before_from(void **state) {
  fixture *f = *state;
  lf_exec_sql(f->l.db,
              "INSERT INTO runs(id, policy, policy_hash, as_of) VALUES (1, 'unit-sim', 'h', '2026-03-01'),"
              " (2, 'unit-sim', 'h', '2026-03-05'), (3, 'other', 'h', '2026-03-05');"
              "INSERT INTO actions(key, run_id, as_of, policy, customer_id, invoice_ids, kind, status) VALUES"
              " ('k1', 1, '2026-03-01', 'unit-sim', 'A', '[\"IA\"]', 'email', 'scheduled'),"
              " ('k2', 2, '2026-03-05', 'unit-sim', 'A', '[\"IA\"]', 'email', 'scheduled'),"
              " ('k3', 3, '2026-03-05', 'other', 'A', '[\"IA\"]', 'email', 'scheduled'),"
              " ('k4', 2, '2026-03-04', 'unit-sim', 'B', '[\"IB\"]', 'email', 'scheduled');");
  dn_ledger copy;
  assert_int_equal(dn_sim_copy_ledger(&f->l, f->p, day("2026-03-04"), &copy, &f->diags), DN_OK);
  /* k1 (before 03-04) and k3 (another policy) stay; k2 and k4 (this
   * policy, on or after 03-04) go, and so does run 2. */
  char buf[64];
  assert_string_equal(lf_query_text(copy.db, "SELECT group_concat(key, ',') FROM (SELECT key FROM actions ORDER BY key)",
                                    buf, sizeof buf),
                      "k1,k3");
  assert_string_equal(lf_query_text(copy.db, "SELECT group_concat(id, ',') FROM (SELECT id FROM runs ORDER BY id)", buf,
                                    sizeof buf),
                      "1,3");
  assert_int_equal(lf_query_int(copy.db, "SELECT count(*) FROM invoices"), 2);
  assert_string_equal(copy.path, f->path);
  dn_ledger_close(&copy);
  assert_int_equal(lf_query_int(f->l.db, "SELECT count(*) FROM actions"), 4);
  assert_int_equal(lf_query_int(f->l.db, "SELECT count(*) FROM runs"), 3);
}

/* ---- the loop ------------------------------------------------------------------------ */

typedef struct seen {
  char line[16][80];
  int n;
  dn_date last;
  bool ordered;
} seen;

static dn_status remember(void *ctx, const dn_action_rec *a) {
  seen *s = ctx;
  if (a->as_of < s->last) s->ordered = false;
  s->last = a->as_of;
  if (s->n < 16) {
    char d[11];
    dn_date_format(a->as_of, d);
    snprintf(s->line[s->n++], sizeof s->line[0], "%s %s %s %s %s %s", d, a->customer,
             dn_action_kind_name(a->kind), a->step ? a->step : "-", dn_action_status_name(a->status),
             a->segment ? a->segment : "(null)");
  }
  return DN_OK;
}

static void test_days_history_and_totals(void **state) {
  fixture *f = *state;
  seen s = {.ordered = true, .last = DN_DATE_NONE};
  dn_sim_options o = {.from = day("2026-03-01"), .to = day("2026-03-10"), .on_action = remember, .ctx = &s};
  dn_sim_summary sum;
  assert_int_equal(dn_simulate(f->p, &f->l, &o, &sum, &f->diags), DN_OK);
  /* Each step once: history from the earlier days stops a repeat (without
   * it, 03-05 would email A again, and 03-07..03-10 call A every day). */
  assert_int_equal(s.n, 4);
  assert_true(s.ordered);
  assert_string_equal(s.line[0], "2026-03-04 A email 2d scheduled gold");
  assert_string_equal(s.line[1], "2026-03-05 B email 2d scheduled rest");
  assert_string_equal(s.line[2], "2026-03-06 A call 4d scheduled gold");
  assert_string_equal(s.line[3], "2026-03-07 B call 4d scheduled rest");
  assert_int_equal(sum.days, 10);
  assert_int_equal(sum.customers, 2);
  assert_int_equal(sum.actions, 4);
  assert_int_equal(sum.by_status[DN_STATUS_SCHEDULED], 4);
  assert_int_equal(sum.by_kind[DN_ACT_EMAIL][DN_STATUS_SCHEDULED], 2);
  assert_int_equal(sum.by_kind[DN_ACT_CALL][DN_STATUS_SCHEDULED], 2);
  /* Segments in policy order, tones in ladder order. */
  assert_int_equal(sum.nsegments, 2);
  assert_string_equal(sum.segments[0].name, "gold");
  assert_string_equal(sum.segments[1].name, "rest");
  assert_int_equal(sum.ntones, 2);
  assert_string_equal(sum.tones[0].name, "friendly");
  assert_string_equal(sum.tones[1].name, "firm");
  /* Weeks from the Monday before 03-01 (02-23): 03-01 is a Sunday, so the
   * rest is in the week of 03-02, and B's Saturday call goes out 03-09. */
  assert_int_equal(sum.nweeks, 3);
  assert_int_equal(sum.weeks[0].monday, day("2026-02-23"));
  assert_int_equal(sum.weeks[1].by_kind[DN_ACT_EMAIL], 2);
  assert_int_equal(sum.weeks[1].by_kind[DN_ACT_CALL], 1);
  assert_int_equal(sum.weeks[2].by_kind[DN_ACT_CALL], 1);
  /* Calls: A's by the gold segment's team on 03-06, B's unassigned on 03-09. */
  assert_int_equal(sum.ncollectors, 2);
  assert_string_equal(sum.collectors[0].assignee, "unassigned");
  assert_string_equal(sum.collectors[1].assignee, "vip-desk");
  assert_int_equal(sum.collectors[0].per_day[day("2026-03-09") - sum.collectors[0].first_day], 1);
  assert_int_equal(sum.collectors[1].per_day[day("2026-03-06") - sum.collectors[1].first_day], 1);
  /* 4d is the last step: both invoices reach it. */
  assert_int_equal(sum.nfinals, 2);
  assert_string_equal(sum.finals[0].invoice, "IA");
  assert_int_equal(sum.finals[0].as_of, day("2026-03-06"));
  assert_string_equal(sum.finals[1].invoice, "IB");
  assert_string_equal(sum.finals[1].step, "4d");
  dn_sim_summary_free(&sum);
  /* The source was only read. */
  assert_int_equal(lf_query_int(f->l.db, "SELECT count(*) FROM actions"), 0);
  assert_int_equal(lf_query_int(f->l.db, "SELECT count(*) FROM runs"), 0);
}

/* dn_simulate_on leaves the simulated actions in the working copy, as
 * simulate.h promises, even though the incremental replay reads the copy
 * from memory (dn_simulate, which throws its copy away, skips writing
 * them). The same four actions as above, with their days. */
static void test_simulate_on_keeps_actions_in_the_copy(void **state) {
  fixture *f = *state;
  dn_ledger copy;
  assert_int_equal(dn_sim_copy_ledger(&f->l, f->p, day("2026-03-01"), &copy, &f->diags), DN_OK);
  dn_sim_options o = {.from = day("2026-03-01"), .to = day("2026-03-10")};
  dn_sim_summary sum;
  assert_int_equal(dn_simulate_on(f->p, &copy, &o, &sum, &f->diags), DN_OK);
  assert_true(sum.incremental);
  assert_int_equal(sum.actions, 4);
  char buf[128];
  assert_string_equal(lf_query_text(copy.db,
                                    "SELECT group_concat(d, ',') FROM (SELECT as_of || ' ' || customer_id || ' ' || kind"
                                    " AS d FROM actions ORDER BY as_of, customer_id)",
                                    buf, sizeof buf),
                      "2026-03-04 A email,2026-03-05 B email,2026-03-06 A call,2026-03-07 B call");
  dn_sim_summary_free(&sum);
  dn_ledger_close(&copy);
}

static void test_a_payment_stops_the_ladder(void **state) {
  fixture *f = *state;
  /* IA paid on 03-05, between its 2d email (03-04) and its 4d call (03-06). */
  lf_exec_sql(f->l.db, "INSERT INTO payments VALUES ('P1', 'A', 'IA', '2026-03-05', 10000, 'USD', 'settled');");
  dn_action_list list;
  dn_action_list_init(&list);
  dn_sim_options o = {.from = day("2026-03-01"), .to = day("2026-03-10"), .on_action = dn_action_list_add, .ctx = &list};
  dn_sim_summary sum;
  assert_int_equal(dn_simulate(f->p, &f->l, &o, &sum, &f->diags), DN_OK);
  assert_int_equal(list.n, 3);
  int calls_a = 0;
  for (size_t i = 0; i < list.n; i++) calls_a += !strcmp(list.items[i].customer, "A") && list.items[i].kind == DN_ACT_CALL;
  assert_int_equal(calls_a, 0);
  assert_int_equal(sum.nfinals, 1);
  dn_sim_summary_free(&sum);
  dn_action_list_free(&list);
}

static void test_to_before_from(void **state) {
  fixture *f = *state;
  dn_sim_options o = {.from = day("2026-03-10"), .to = day("2026-03-01")};
  dn_sim_summary sum;
  assert_int_equal(dn_simulate(f->p, &f->l, &o, &sum, &f->diags), DN_ERR_USAGE);
  assert_int_equal(sum.actions, 0);
  dn_sim_summary_free(&sum);
}

/* ---- identity and diff ------------------------------------------------------------------ */

static dn_action_rec rec(const char *as_of, const char *customer, dn_action_kind k, const char *step,
                         const char *tone, const char **inv, int ninv) {
  dn_action_rec a;
  memset(&a, 0, sizeof a);
  a.as_of = day(as_of);
  a.customer = customer;
  a.kind = k;
  a.rule = "dun";
  a.step = step;
  a.tone = tone;
  a.invoices = inv;
  a.ninvoices = ninv;
  snprintf(a.scheduled_at, sizeof a.scheduled_at, "%sT09:00:00+00:00", as_of);
  snprintf(a.key, sizeof a.key, "%s", customer);
  return a;
}

static void test_diff_pairs_by_identity(void **state) {
  (void)state;
  const char *i1[] = {"I1"}, *i12[] = {"I1", "I2"};
  dn_action_list before, after;
  dn_action_list_init(&before);
  dn_action_list_init(&after);
  dn_action_rec b[] = {
      rec("2026-03-04", "A", DN_ACT_EMAIL, "2d", "friendly", i1, 1),  /* unchanged */
      rec("2026-03-04", "A", DN_ACT_CALL, "2d", "firm", i1, 1),       /* priority changes */
      rec("2026-03-05", "B", DN_ACT_EMAIL, "2d", "friendly", i12, 2), /* removed: invoices differ */
      rec("2026-03-06", "C", DN_ACT_SMS, "4d", "firm", i1, 1),        /* tone changes */
  };
  dn_action_rec a[] = {
      rec("2026-03-06", "C", DN_ACT_SMS, "4d", "final", i1, 1),
      rec("2026-03-05", "B", DN_ACT_EMAIL, "2d", "friendly", i1, 1), /* added */
      rec("2026-03-04", "A", DN_ACT_CALL, "2d", "firm", i1, 1),
      rec("2026-03-04", "A", DN_ACT_EMAIL, "2d", "friendly", i1, 1),
  };
  a[2].has_priority = true;
  a[2].priority = 120.5;
  /* The key (policy-dependent) and the reason are not compared. */
  snprintf(a[3].key, sizeof a[3].key, "other-key");
  a[3].reason = "another reason";
  for (int i = 0; i < 4; i++) {
    assert_int_equal(dn_action_list_add(&before, &b[i]), DN_OK);
    assert_int_equal(dn_action_list_add(&after, &a[i]), DN_OK);
  }
  /* The list owns copies: the originals may go. */
  assert_ptr_not_equal(before.items[0].customer, b[0].customer);
  dn_diff_entry *e;
  size_t n, counts[4];
  assert_int_equal(dn_action_diff(&before, &after, &e, &n, counts), DN_OK);
  assert_int_equal(n, 5);
  assert_int_equal(counts[DN_DIFF_UNCHANGED], 1);
  assert_int_equal(counts[DN_DIFF_CHANGED], 2);
  assert_int_equal(counts[DN_DIFF_ADDED], 1);
  assert_int_equal(counts[DN_DIFF_REMOVED], 1);
  /* Identity order: day, customer, kind (email < call), ..., invoices. */
  assert_int_equal(e[0].kind, DN_DIFF_UNCHANGED);
  assert_int_equal(e[0].after->kind, DN_ACT_EMAIL);
  assert_int_equal(e[1].kind, DN_DIFF_CHANGED);
  assert_true(e[1].after->has_priority && !e[1].before->has_priority);
  assert_int_equal(e[2].kind, DN_DIFF_ADDED);      /* B [I1] sorts before B [I1, I2] */
  assert_null(e[2].before);
  assert_int_equal(e[3].kind, DN_DIFF_REMOVED);
  assert_null(e[3].after);
  assert_int_equal(e[4].kind, DN_DIFF_CHANGED);
  assert_string_equal(e[4].before->tone, "firm");
  assert_string_equal(e[4].after->tone, "final");
  free(e);
  dn_action_list_free(&before);
  dn_action_list_free(&after);
}

static void test_duplicate_identities_pair_in_order(void **state) {
  (void)state;
  const char *i1[] = {"I1"};
  dn_action_list before, after;
  dn_action_list_init(&before);
  dn_action_list_init(&after);
  /* Two records of one identity on each side (two tasks with one text
   * would be merged by the engine; the pairing must still be total). */
  dn_action_rec x = rec("2026-03-04", "A", DN_ACT_TASK, NULL, NULL, i1, 1);
  dn_action_rec y = x;
  y.status = DN_STATUS_DEFERRED;
  assert_int_equal(dn_action_list_add(&before, &x), DN_OK);
  assert_int_equal(dn_action_list_add(&before, &y), DN_OK);
  assert_int_equal(dn_action_list_add(&after, &x), DN_OK);
  dn_diff_entry *e;
  size_t n, counts[4];
  assert_int_equal(dn_action_diff(&before, &after, &e, &n, counts), DN_OK);
  /* The first of before pairs with after's only one (unchanged); the
   * second is removed. */
  assert_int_equal(n, 2);
  assert_int_equal(e[0].kind, DN_DIFF_UNCHANGED);
  assert_int_equal(e[1].kind, DN_DIFF_REMOVED);
  assert_int_equal(e[1].before->status, DN_STATUS_DEFERRED);
  free(e);
  dn_action_list_free(&before);
  dn_action_list_free(&after);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_copy_keeps_history_before_from, setup, teardown),
      cmocka_unit_test_setup_teardown(test_days_history_and_totals, setup, teardown),
      cmocka_unit_test_setup_teardown(test_simulate_on_keeps_actions_in_the_copy, setup, teardown),
      cmocka_unit_test_setup_teardown(test_a_payment_stops_the_ladder, setup, teardown),
      cmocka_unit_test_setup_teardown(test_to_before_from, setup, teardown),
      cmocka_unit_test(test_diff_pairs_by_identity),
      cmocka_unit_test(test_duplicate_identities_pair_in_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
