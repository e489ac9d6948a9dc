/* test_simulate_incremental.c - the incremental replay of runtime/simulate.c
 * (a customer is evaluated only on its wake days) against the full replay,
 * and the reader of a chosen set of customers (dn_facts_reader_open_set)
 * against the streaming reader. The wake days of the small ledger below
 * are worked out by hand in the comments; tests/cli/simulate_incremental.sh
 * compares the two replays on larger ledgers. */
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
#include "runtime/simulate.h"
#include "ledger_fixture.h"

typedef struct fixture {
  char dir[64], path[96];
  dn_ledger l;
  dn_diags diags;
} fixture;

/* The first lines of every policy below. */
#define POLICY_HEAD                                                                                \
  "policy \"inc\" version 1\n"                                                                  \
  "currency USD\n"                                                                                \
  "timezone \"UTC\"\n"

/* One segment and an escalation over all of it, opened: steps follow. */
#define DUN_EVERYONE                                                                               \
  "segment everyone otherwise\n"                                                                  \
  "escalation dun for invoice in everyone {\n"

/* The contact cap most of the replays below meet. */
#define CAP_1_PER_5 "limit contacts per customer: 1 per 5 days\n"

static const char ladder_src[] =
    POLICY_HEAD
    DUN_EVERYONE
    "  step 2 days: email tone friendly\n"
    "  step 4 days: call tone firm\n"
    "}\n";

/* The same, but a rule reads today(): the date alone moves a decision. */
static const char moving_src[] =
    POLICY_HEAD
    DUN_EVERYONE
    "  step 2 days: email tone friendly\n"
    "  step 4 days: call tone firm\n"
    "}\n"
    "rule late for invoice when today() > invoice.due_date + 30 days do task \"late\"\n";

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f || !lf_make_dir(f->dir, sizeof f->dir, "siminc", f->path, sizeof f->path)) return -1;
  dn_diags_init(&f->diags, "t", NULL, 0);
  if (dn_ledger_open(f->path, DN_LEDGER_CREATE, &f->l, &f->diags) != DN_OK) return -1;
  /* A due 2026-03-02, B due 2026-03-03, both issued long before; C has
   * a payment, a dispute, a promise and a history row, for the reader. */
  lf_exec_sql(f->l.db,
              "INSERT INTO customers(id, name, tier, timezone, currency) VALUES"
              " ('A', 'A Co', 'gold', 'UTC', 'USD'), ('B', 'B Co', 'std', 'UTC', 'USD'),"
              " ('C', 'C Co', 'std', 'UTC', 'USD');"
              "INSERT INTO invoices VALUES"
              " ('IA', 'A', 'N1', '2026-02-01', '2026-03-02', 'USD', 10000),"
              " ('IB', 'B', 'N2', '2026-02-01', '2026-03-03', 'USD', 10000),"
              " ('IC1', 'C', 'N3', '2026-01-01', '2026-01-31', 'USD', 5000),"
              " ('IC2', 'C', 'N4', '2026-01-05', '2026-02-04', 'USD', 7000);"
              "INSERT INTO payments(id, customer_id, invoice_id, date, amount_minor, currency, status)"
              " VALUES ('P1', 'C', 'IC1', '2026-02-10', 5000, 'USD', 'settled');"
              "INSERT INTO disputes(id, invoice_id, opened_on) VALUES ('D1', 'IC2', '2026-02-12');"
              "INSERT INTO promises(id, customer_id, invoice_id, made_on, promised_date, amount_minor)"
              " VALUES ('PR1', 'C', 'IC2', '2026-02-13', '2026-03-20', 7000);");
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

static dn_date day(const char *s) {
  dn_date d;
  assert_true(dn_date_parse(s, strlen(s), &d));
  return d;
}

static dn_program *compile(const char *src) {
  dn_program *p = NULL;
  assert_true(lf_compile_policy(src, &p));
  return p;
}

/* ---- the reader of a set of customers ------------------------------------------ */

typedef struct snap {
  char id[8];
  int32_t ninvoices, nevents, nhistory, open, overdue;
  int64_t total_open;
  bool promise_active, disputed2;
} snap;

static void take(snap *s, const dn_customer_facts *c) {
  memset(s, 0, sizeof *s); /* padding too: snapshots are compared bytewise */
  snprintf(s->id, sizeof s->id, "%s", c->id);
  s->ninvoices = c->ninvoices;
  s->nevents = c->nevents;
  s->nhistory = c->nhistory;
  s->open = c->open_invoices;
  s->overdue = c->overdue_invoices;
  s->total_open = c->total_open_p.minor;
  s->promise_active = c->promise_active;
  s->disputed2 = c->ninvoices > 1 && c->invoices[1].disputed;
}

static int read_all(dn_ledger *l, const dn_program *p, dn_date d, const char *const *ids, size_t n,
                    bool scan, snap *out, dn_diags *diags) {
  dn_facts_reader *r;
  dn_status st = ids ? dn_facts_reader_open_set(l, p, d, ids, n, scan, &r, diags)
                     : dn_facts_reader_open(l, p, d, NULL, &r, diags);
  assert_int_equal(st, DN_OK);
  dn_customer_facts c;
  dn_customer_facts_init(&c);
  int k = 0;
  for (;;) {
    bool got;
    assert_int_equal(dn_facts_reader_next(r, &c, &got, diags), DN_OK);
    if (!got) break;
    take(&out[k++], &c);
  }
  dn_customer_facts_free(&c);
  dn_facts_reader_close(r);
  return k;
}

static void reader_set_matches_stream(void **state) {
  fixture *f = *state;
  dn_program *p = compile(ladder_src);
  lf_exec_sql(f->l.db,
              "INSERT INTO runs(id, policy, as_of, started_at) VALUES (1, 'inc', '2026-02-20', 'x');"
              "INSERT INTO actions(key, run_id, policy, as_of, customer_id, kind, status, invoice_ids)"
              " VALUES ('k1', 1, 'inc', '2026-02-20', 'C', 'email', 'scheduled', '[\"IC2\"]');");
  snap all[3], some[3];
  /* 2026-02-13: C's promise is made that day (one event), IC1 is paid
   * (IC2 open, 9 days overdue, disputed), one history row. */
  const char *const ids[] = {"A", "ZZ", "C"}; /* ZZ is not in the ledger */
  for (int pass = 0; pass < 2; pass++) {
    dn_date d = day(pass ? "2026-03-01" : "2026-02-13");
    assert_int_equal(read_all(&f->l, p, d, NULL, 0, false, all, &f->diags), 3);
    /* ids in byte order, as the reader's ORDER BY id: A, C (ZZ skipped) */
    const char *const sorted[] = {ids[0], ids[2], ids[1]};
    for (int scan = 0; scan < 2; scan++) {
      memset(some, 0, sizeof some);
      assert_int_equal(read_all(&f->l, p, d, sorted, 3, scan, some, &f->diags), 2);
      assert_memory_equal(&some[0], &all[0], sizeof some[0]);
      assert_memory_equal(&some[1], &all[2], sizeof some[1]);
      /* B alone, then C alone: the skipped customers' rows are passed over */
      assert_int_equal(read_all(&f->l, p, d, (const char *const[]){"B"}, 1, scan, some, &f->diags), 1);
      assert_memory_equal(&some[0], &all[1], sizeof some[0]);
      assert_int_equal(read_all(&f->l, p, d, (const char *const[]){"C"}, 1, scan, some, &f->diags), 1);
      assert_memory_equal(&some[0], &all[2], sizeof some[0]);
    }
  }
  /* By hand, on 03-01: C has 2 invoices, 1 open (IC2 70.00, overdue),
   * the dispute and the promise active, 1 history row, no event. */
  assert_string_equal(all[2].id, "C");
  assert_int_equal(all[2].ninvoices, 2);
  assert_int_equal(all[2].open, 1);
  assert_int_equal(all[2].overdue, 1);
  assert_int_equal(all[2].total_open, 7000);
  assert_int_equal(all[2].nhistory, 1);
  assert_int_equal(all[2].nevents, 0);
  assert_true(all[2].promise_active);
  assert_true(all[2].disputed2);
  /* An empty set reads nothing. */
  assert_int_equal(read_all(&f->l, p, day("2026-03-01"), ids, 0, false, some, &f->diags), 0);
  assert_int_equal(read_all(&f->l, p, day("2026-03-01"), ids, 0, true, some, &f->diags), 0);
  dn_program_free(p);
}

/* ---- the replays ------------------------------------------------------------------- */

static void replay_read(fixture *f, const dn_program *p, bool full, int read,
                        dn_action_list *list, dn_sim_summary *sum) {
  dn_action_list_init(list);
  dn_sim_options o = {.from = day("2026-03-01"), .to = day("2026-03-10"),
                      .on_action = dn_action_list_add, .ctx = list, .full = full};
  o.read = read;
  assert_int_equal(dn_simulate(p, &f->l, &o, sum, &f->diags), DN_OK);
}

static void replay(fixture *f, const dn_program *p, bool full, dn_action_list *list,
                   dn_sim_summary *sum) {
  replay_read(f, p, full, DN_SIM_READ_AUTO, list, sum);
}

static const char *or_empty(const char *s) { return s ? s : ""; }

/* The same records in the same order, down to their day, reason and
 * segment (a record issued again must say the day's days past due). */
static void assert_same_actions(const dn_action_list *a, const dn_action_list *b) {
  assert_int_equal(a->n, b->n);
  for (size_t i = 0; i < a->n; i++) {
    assert_string_equal(a->items[i].key, b->items[i].key);
    assert_true(dn_action_same_outcome(&a->items[i], &b->items[i]));
    assert_int_equal(a->items[i].as_of, b->items[i].as_of);
    assert_string_equal(or_empty(a->items[i].reason), or_empty(b->items[i].reason));
    assert_string_equal(or_empty(a->items[i].segment), or_empty(b->items[i].segment));
  }
}

/* A program replayed incrementally and in full on a fixture's ledger. */
typedef struct replays {
  dn_program *p;
  dn_action_list inc, full;
  dn_sim_summary si, sf;
} replays;

static void replays_run(fixture *f, const char *src, replays *r) {
  r->p = compile(src);
  replay(f, r->p, false, &r->inc, &r->si);
  replay(f, r->p, true, &r->full, &r->sf);
}

static void replays_free(replays *r) {
  dn_action_list_free(&r->inc);
  dn_action_list_free(&r->full);
  dn_sim_summary_free(&r->si);
  dn_sim_summary_free(&r->sf);
  dn_program_free(r->p);
}

/* src replayed incrementally and in full on f's ledger: the same records,
 * with `replayed` customers issued again and `evaluated` evaluations. */
static void replays_agree(fixture *f, const char *src, int64_t replayed, int64_t evaluated) {
  replays r;
  replays_run(f, src, &r);
  assert_same_actions(&r.inc, &r.full);
  assert_int_equal(r.si.replayed, replayed);
  assert_int_equal(r.si.evaluated, evaluated);
  replays_free(&r);
}

/* Only A and B, with their invoices and nothing else. */
static void only_a_and_b(fixture *f) {
  lf_exec_sql(f->l.db, "DELETE FROM promises; DELETE FROM disputes; DELETE FROM payments;"
                       " DELETE FROM invoices WHERE customer_id = 'C'; DELETE FROM customers WHERE id = 'C';");
}

static void wake_days_by_hand(void **state) {
  fixture *f = *state;
  only_a_and_b(f);
  replays r;
  replays_run(f, ladder_src, &r);
  assert_true(r.si.incremental);
  assert_false(r.sf.incremental);
  /* Full: 2 customers x 10 days. Incremental, by hand (A due 03-02, B
   * due 03-03; steps at due+2 and due+4; a scheduled record does not
   * wake its customer the next day, only a deferred one would):
   * 03-01 A B (first day)   03-02 -          03-03 A (due+1)
   * 03-04 A (2d) B (due+1)  03-05 B (2d)     03-06 A (4d)
   * 03-07 B (4d)            03-08 -          03-09 -        03-10 - = 8 */
  assert_int_equal(r.sf.evaluated, 20);
  assert_int_equal(r.si.evaluated, 8);
  /* A: email 03-04, call 03-06; B: email 03-05, call 03-07. */
  assert_int_equal(r.full.n, 4);
  assert_same_actions(&r.inc, &r.full);
  assert_int_equal(r.si.customers, r.sf.customers);
  assert_int_equal(r.si.customers, 2);
  /* The same when each awake customer is looked up by id. */
  dn_action_list keyed;
  dn_sim_summary sk;
  replay_read(f, r.p, false, DN_SIM_READ_KEYED, &keyed, &sk);
  assert_int_equal(sk.evaluated, 8);
  assert_same_actions(&keyed, &r.full);
  dn_action_list_free(&keyed);
  dn_sim_summary_free(&sk);
  replays_free(&r);
}

static void today_in_a_rule_means_everyone(void **state) {
  fixture *f = *state;
  replays r;
  replays_run(f, moving_src, &r);
  assert_false(r.si.incremental);
  assert_int_equal(r.si.evaluated, 3 * 10); /* A, B, C every day */
  assert_same_actions(&r.inc, &r.full);
  /* C's IC2 (due 02-04) is more than 30 days past due from 03-07 on:
   * a task each day 03-07..03-10, besides the ladders of A and B. */
  size_t tasks = 0;
  for (size_t i = 0; i < r.full.n; i++) tasks += r.full.items[i].kind == DN_ACT_TASK;
  assert_int_equal(tasks, 4);
  replays_free(&r);
}

/* A payment dated inside the range wakes its customer that day; a promise
 * wakes it the day it breaks (promised + grace + 1). */
static void rows_wake_their_day(void **state) {
  fixture *f = *state;
  dn_program *p = compile(ladder_src);
  /* B pays half on 03-06 (no change of step: its 4d call still goes out
   * on 03-07), and promises on 03-02 to pay by 03-04: the promise pauses
   * nothing (no unless guard) but is a wake day, as is 03-05 (broken). */
  lf_exec_sql(f->l.db,
              "DELETE FROM promises; DELETE FROM disputes; DELETE FROM payments;"
              "INSERT INTO payments(id, customer_id, invoice_id, date, amount_minor, currency, status)"
              " VALUES ('PB', 'B', 'IB', '2026-03-06', 5000, 'USD', 'settled');"
              "INSERT INTO promises(id, customer_id, invoice_id, made_on, promised_date, amount_minor)"
              " VALUES ('PRB', 'B', 'IB', '2026-03-02', '2026-03-04', 10000);");
  dn_action_list inc, full;
  dn_sim_summary si, sf;
  replay(f, p, false, &inc, &si);
  replay(f, p, true, &full, &sf);
  assert_same_actions(&inc, &full);
  /* A: 03-01, 03-03, 03-04, 03-06 (4, as in wake_days_by_hand); B:
   * 03-01, 03-02 (promise made), 03-04 (due+1), 03-05 (2d, and the break
   * day), 03-06 (the payment), 03-07 (4d) (6); C (its rows other than
   * invoices are deleted above: IC1 and IC2 open, 29 and 25 days past
   * due, both past the last step, no history): 03-01 emits the 4d calls
   * and skips the 2d emails, none deferred, then nothing new: 1. */
  assert_int_equal(si.evaluated, 4 + 6 + 1);
  dn_action_list_free(&inc);
  dn_action_list_free(&full);
  dn_sim_summary_free(&si);
  dn_sim_summary_free(&sf);
  dn_program_free(p);
}

/* The fx check (runtime/trace.h): a customer woken by a new rate alone is
 * settled when the conditions of its last run come out the same, and run
 * when one moves. D and E hold EUR invoices under a USD policy whose
 * 2-day step waits for 500.00 USD; EUR is 1.00 until 03-05 (D 490.00 and
 * E 400.00: no), 1.10 from 03-05 (D 539.00: yes; E 440.00: no), 1.01 on
 * 03-02 and 1.05 on 03-08. By hand: D's 03-02, E's 03-02 and 03-05 are
 * woken by the rate alone and settled; D's 03-05 is run, and sends the
 * email the full replay sends that day. On 03-08 both are woken by the
 * rate alone and settled too: their last runs (03-06) made only the 4d
 * call (and E's 2d email skipped), which are done, so their traces were
 * kept and hold. */
static const char fx_src[] =
    POLICY_HEAD
    DUN_EVERYONE
    "  step 2 days: email tone friendly when invoice.balance >= 500 USD\n"
    "  step 4 days: call tone firm\n"
    "}\n";

/* Only D and E, with EUR invoices due 03-02 (490.00 and 400.00), and
 * the rates of rates_sql. */
static void eur_customers(fixture *f, const char *rates_sql) {
  lf_exec_sql(f->l.db,
              "DELETE FROM promises; DELETE FROM disputes; DELETE FROM payments;"
              " DELETE FROM invoices; DELETE FROM customers;"
              "INSERT INTO customers(id, name, timezone, currency) VALUES"
              " ('D', 'D', 'UTC', 'EUR'), ('E', 'E', 'UTC', 'EUR');"
              "INSERT INTO invoices VALUES"
              " ('ID', 'D', 'N1', '2026-02-01', '2026-03-02', 'EUR', 49000),"
              " ('IE', 'E', 'N2', '2026-02-01', '2026-03-02', 'EUR', 40000);");
  lf_exec_sql(f->l.db, rates_sql);
}

static void fx_wakes_settled_unless_a_condition_moves(void **state) {
  fixture *f = *state;
  eur_customers(f, "INSERT INTO fx_rates VALUES ('2026-02-01', 'EUR', 'USD', '1.00'),"
                   " ('2026-03-02', 'EUR', 'USD', '1.01'), ('2026-03-05', 'EUR', 'USD', '1.10'),"
                   " ('2026-03-08', 'EUR', 'USD', '1.05');");
  replays r;
  replays_run(f, fx_src, &r);
  assert_true(r.si.incremental);
  assert_same_actions(&r.inc, &r.full);
  /* D: 2d email on 03-05 (539.00 >= 500.00), 4d call on 03-06; E: the
   * 2d step never passes its guard, so on 03-06 the 4d call and the 2d
   * email skipped as caught up. */
  assert_int_equal(r.full.n, 4);
  size_t d_emails = 0;
  for (size_t i = 0; i < r.full.n; i++)
    d_emails += r.full.items[i].kind == DN_ACT_EMAIL && !strcmp(r.full.items[i].customer, "D") &&
                r.full.items[i].as_of == day("2026-03-05");
  assert_int_equal(d_emails, 1);
  assert_int_equal(r.si.settled, 5);
  assert_int_equal(r.sf.settled, 0);
  replays_free(&r);
}

/* A scheduled record wakes its customer the next day only when that can
 * change a decision: a decision reads a fact of the history (here the
 * segment reads last_tone: A's firm email on 03-04 puts A in `warned`
 * from 03-05, whose ladder calls at once), or a rule has no `once per`
 * (it fires again every day its condition holds). Neither day is
 * another wake day of A's. */
static const char history_src[] =
    POLICY_HEAD
    "tones standard: friendly < firm\n"
    "segment warned when customer.last_tone == firm\n"
    DUN_EVERYONE
    "  step 2 days: email tone firm\n"
    "}\n"
    "escalation after for invoice in warned {\n"
    "  step 2 days: call tone firm\n"
    "}\n";

static const char daily_rule_src[] =
    POLICY_HEAD
    "segment everyone otherwise\n"
    "rule nag for customer when customer.open_invoices > 0 do task \"nag\"\n";

static size_t count_of(const dn_action_list *l, dn_action_kind k, const char *customer) {
  size_t n = 0;
  for (size_t i = 0; i < l->n; i++)
    n += l->items[i].kind == k && !strcmp(l->items[i].customer, customer);
  return n;
}

static void scheduled_records_wake_when_decisions_read_them(void **state) {
  fixture *f = *state;
  only_a_and_b(f);
  const char *srcs[] = {history_src, daily_rule_src};
  for (int k = 0; k < 2; k++) {
    replays r;
    replays_run(f, srcs[k], &r);
    assert_true(r.si.incremental);
    assert_same_actions(&r.inc, &r.full);
    if (k == 0) {
      /* A: the email on 03-04 (2 days past due), the call on 03-05. */
      assert_int_equal(count_of(&r.full, DN_ACT_EMAIL, "A"), 1);
      assert_int_equal(count_of(&r.full, DN_ACT_CALL, "A"), 1);
      for (size_t i = 0; i < r.full.n; i++)
        if (r.full.items[i].kind == DN_ACT_CALL && !strcmp(r.full.items[i].customer, "A"))
          assert_int_equal(r.full.items[i].as_of, day("2026-03-05"));
    } else {
      assert_int_equal(count_of(&r.full, DN_ACT_TASK, "A"), 10); /* every day */
    }
    replays_free(&r);
  }
}

/* Deferred again (docs/simulate.md): A (due 03-02) gets its 1-day email
 * on 03-03; the 2-day sms on 03-04 meets the cap (1 per 5 days) and is
 * deferred. Nothing else wakes A until the cap lets a contact through on
 * 03-08 (03-03 + 5), so on 03-05, 03-06 and 03-07 the deferred sms is
 * issued again without a run, its reason saying 3, 4 and 5 days past
 * due; on 03-08 A is run and the sms goes out. B (due 03-03) is a day
 * later: issued again on 03-06..03-08, sent on 03-09. Evaluations by
 * hand: A 03-01, 03-03, 03-04, 03-05..03-07, 03-08 (7); B 03-01, 03-04,
 * 03-05, 03-06..03-08, 03-09 (7). */
static const char capped_src[] =
    POLICY_HEAD
    DUN_EVERYONE
    "  step 1 day: email tone friendly\n"
    "  step 2 days: sms tone friendly\n"
    "}\n"
    CAP_1_PER_5;

/* The same with a 4-day letter: a step day during the deferrals is run.
 * A: 03-05 issued again; 03-06 (4 days) run: the letter is deferred and
 * the 2-day sms skipped as caught up; 03-07 the letter issued again (the
 * skipped sms counts now: see deferred_beside_counted_records); 03-08 the
 * letter goes out. B a day later: 03-06 and 03-08 issued again. Both: 7
 * evaluations, 2 issued again. */
static const char capped_steps_src[] =
    POLICY_HEAD
    DUN_EVERYONE
    "  step 1 day: email tone friendly\n"
    "  step 2 days: sms tone friendly\n"
    "  step 4 days: letter tone friendly\n"
    "}\n"
    CAP_1_PER_5;

static void capped_steps_run_on_their_day(void **state) {
  fixture *f = *state;
  only_a_and_b(f);
  replays_agree(f, capped_steps_src, 2 + 2, 14);
}

/* A new rate on a day the deferred records would be issued again: they
 * are, when the customer's conditions come out as in the run that made
 * them and no record has a priority (a money priority moves with the
 * rate). D and E hold EUR invoices (490.00 and 400.00 at 1.00), due
 * 03-02; EUR is 1.10 from 03-06. With fx_segment_src, D is `big` from
 * 03-06 (539.00), so on 03-06 it is run (its sms now says `segment big`
 * and is assigned); E (440.00) stays and is issued again: D 03-05 and
 * 03-07, E 03-05..03-07 (5). With fx_priority_src the call carries its
 * balance as priority: on 03-06 both are run, 03-05 and 03-07 issued
 * again (4). 7 evaluations each in both. */
static const char fx_segment_src[] =
    POLICY_HEAD
    "segment big when customer.total_open >= 500 USD { assign \"big\" }\n"
    "segment everyone otherwise\n"
    "escalation dun for invoice in big, everyone {\n"
    "  step 1 day: email tone friendly\n"
    "  step 2 days: sms tone friendly\n"
    "}\n"
    CAP_1_PER_5;

static const char fx_priority_src[] =
    POLICY_HEAD
    DUN_EVERYONE
    "  step 1 day: email tone friendly\n"
    "  step 2 days: call tone friendly priority invoice.balance\n"
    "}\n"
    CAP_1_PER_5;

static void deferred_contacts_on_a_rate_day(void **state) {
  fixture *f = *state;
  eur_customers(f, "INSERT INTO fx_rates VALUES ('2026-02-01', 'EUR', 'USD', '1.00'),"
                   " ('2026-03-06', 'EUR', 'USD', '1.10');");
  replays_agree(f, fx_segment_src, 5, 14);
  replays_agree(f, fx_priority_src, 4, 14);
}

/* A day with an event is not issued again the next day: the event's
 * contact is proposed again then as "(deferred before)". capped_src with
 * `on payment.failed`, and A's payment fails on 03-05, during its sms's
 * deferrals: 03-05 run (the failed payment's email and the sms, both
 * deferred), 03-06 run (the email now "deferred before"), 03-07 issued
 * again, 03-08 the email goes out (the cap admits email before sms) and
 * the sms is deferred until 03-13, 03-09 and 03-10 issued again: A 9
 * evaluations (03-01, 03-03..03-10), 3 issued again; B as in
 * deferred_contacts_issued_again: 7 and 3. */
static const char capped_event_src[] =
    POLICY_HEAD
    DUN_EVERYONE
    "  step 1 day: email tone friendly\n"
    "  step 2 days: sms tone friendly\n"
    "}\n"
    "on payment.failed for invoice do email tone friendly\n"
    CAP_1_PER_5;

static void no_issue_again_after_an_event(void **state) {
  fixture *f = *state;
  only_a_and_b(f);
  lf_exec_sql(f->l.db,
              "INSERT INTO payments(id, customer_id, invoice_id, date, amount_minor, currency, status)"
              " VALUES ('PF', 'A', 'IA', '2026-03-05', 1000, 'USD', 'failed');");
  replays_agree(f, capped_event_src, 3 + 3, 9 + 7);
}

/* A day whose deferred contacts went with records that counted (a step's
 * hold, or the contact the cap let through) is issued again too: those
 * count from the next day, so no run would propose them again.
 * capped_hold_src: A's 2-day step on 03-04 holds credit (scheduled) and
 * defers the sms; 03-05..03-07 issued again, 03-08 (03-03 + 5) the sms
 * goes out. B a day later. Each 7 evaluations (03-01, 03-03..03-08 for
 * A), 3 issued again. capped_pair_src: the 1-day step's email and sms on
 * 03-03 meet a cap with room for one: one goes out, the other is
 * deferred until the cap counts the one sent (03-08): A issued again
 * 03-04..03-07, B 03-05..03-08; 7 evaluations each. */
static const char capped_hold_src[] =
    POLICY_HEAD
    DUN_EVERYONE
    "  step 1 day: email tone friendly\n"
    "  step 2 days: sms tone friendly, hold credit\n"
    "}\n"
    CAP_1_PER_5;

static const char capped_pair_src[] =
    POLICY_HEAD
    DUN_EVERYONE
    "  step 1 day: email tone friendly, sms tone friendly\n"
    "}\n"
    CAP_1_PER_5;

static void deferred_beside_counted_records(void **state) {
  fixture *f = *state;
  only_a_and_b(f);
  replays_agree(f, capped_hold_src, 3 + 3, 7 + 7);
  replays_agree(f, capped_pair_src, 4 + 4, 7 + 7);
}

static void deferred_contacts_issued_again(void **state) {
  fixture *f = *state;
  only_a_and_b(f);
  replays r;
  replays_run(f, capped_src, &r);
  assert_same_actions(&r.inc, &r.full);
  assert_int_equal(r.si.replayed, 6);
  assert_int_equal(r.sf.replayed, 0);
  assert_int_equal(r.si.evaluated, 14);
  /* A's sms: deferred 03-04..03-07, then scheduled on 03-08. */
  size_t deferred = 0;
  for (size_t i = 0; i < r.full.n; i++) {
    const dn_action_rec *a = &r.full.items[i];
    if (strcmp(a->customer, "A") || a->kind != DN_ACT_SMS) continue;
    if (a->status == DN_STATUS_DEFERRED) {
      char want[160];
      int dpd = (int)(a->as_of - day("2026-03-02"));
      snprintf(want, sizeof want,
               "deferred: limit 1 per 5 days reached; segment everyone; dun step 2 days;"
               " invoice IA %d days past due", dpd);
      assert_string_equal(a->reason, want);
      deferred++;
    } else {
      assert_int_equal(a->status, DN_STATUS_SCHEDULED);
      assert_int_equal(a->as_of, day("2026-03-08"));
    }
  }
  assert_int_equal(deferred, 4);
  /* The same when each awake customer is looked up by id (no traces). */
  dn_action_list keyed;
  dn_sim_summary sk;
  replay_read(f, r.p, false, DN_SIM_READ_KEYED, &keyed, &sk);
  assert_same_actions(&keyed, &r.full);
  assert_int_equal(sk.replayed, 6);
  dn_action_list_free(&keyed);
  dn_sim_summary_free(&sk);
  replays_free(&r);
}

/* A day with events keeps the path without them: the events never come
 * back, so their guards stay out of the trace. D's payment fails on 03-04
 * (rate 1.20: 588.00 USD, the guard passes, the firm email goes out; the
 * 1-day email went out on 03-03). By hand: D and E are run on 03-01 and
 * 03-03, D on 03-04 (its payment row); E is woken by the rate alone on
 * 03-04, 03-05 and 03-06 and D on 03-05 (1.05) and 03-06 (0.90: the
 * guard would now fail, but no event asks it): all five settled, 10
 * evaluations. A trace dropped on the event day runs D on 03-05; one
 * holding the event's guard runs D on 03-06. */
static const char fx_event_src[] =
    POLICY_HEAD
    DUN_EVERYONE
    "  step 1 day: email tone friendly\n"
    "}\n"
    "on payment.failed for invoice when invoice.balance >= 500 USD do email tone firm\n";

static void events_stay_out_of_the_trace(void **state) {
  fixture *f = *state;
  eur_customers(f, "INSERT INTO fx_rates VALUES ('2026-02-01', 'EUR', 'USD', '1.00'),"
                   " ('2026-03-04', 'EUR', 'USD', '1.20'), ('2026-03-05', 'EUR', 'USD', '1.05'),"
                   " ('2026-03-06', 'EUR', 'USD', '0.90');");
  lf_exec_sql(f->l.db,
              "INSERT INTO payments(id, customer_id, invoice_id, date, amount_minor, currency, status)"
              " VALUES ('PF', 'D', 'ID', '2026-03-04', 1000, 'EUR', 'failed');");
  replays r;
  replays_run(f, fx_event_src, &r);
  assert_same_actions(&r.inc, &r.full);
  assert_int_equal(count_of(&r.full, DN_ACT_EMAIL, "D"), 2);
  assert_int_equal(count_of(&r.full, DN_ACT_EMAIL, "E"), 1);
  assert_int_equal(r.si.settled, 5);
  assert_int_equal(r.si.evaluated, 10);
  replays_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(reader_set_matches_stream, setup, teardown),
      cmocka_unit_test_setup_teardown(wake_days_by_hand, setup, teardown),
      cmocka_unit_test_setup_teardown(today_in_a_rule_means_everyone, setup, teardown),
      cmocka_unit_test_setup_teardown(rows_wake_their_day, setup, teardown),
      cmocka_unit_test_setup_teardown(fx_wakes_settled_unless_a_condition_moves, setup, teardown),
      cmocka_unit_test_setup_teardown(scheduled_records_wake_when_decisions_read_them, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(deferred_contacts_issued_again, setup, teardown),
      cmocka_unit_test_setup_teardown(capped_steps_run_on_their_day, setup, teardown),
      cmocka_unit_test_setup_teardown(deferred_contacts_on_a_rate_day, setup, teardown),
      cmocka_unit_test_setup_teardown(no_issue_again_after_an_event, setup, teardown),
      cmocka_unit_test_setup_teardown(deferred_beside_counted_records, setup, teardown),
      cmocka_unit_test_setup_teardown(events_stay_out_of_the_trace, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
