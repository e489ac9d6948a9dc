/* test_redefer.c - runtime/redefer.c, simulate's book of deferred records
 * to issue again: which records it keeps (every one deferred, of steps and
 * `on` events only), for which day it hands them out (the next one only),
 * that its copies outlive the records they were made from, and that a
 * customer not kept loses its entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lang/compile.h"
#include "runtime/redefer.h"

static const char src[] =
    "policy \"book\" version 1\n"
    "currency USD\n"
    "segment everyone otherwise\n"
    "escalation dunning for invoice in everyone {\n"
    "  step 1 day: email tone friendly\n"
    "}\n"
    "rule over_limit for customer when customer.total_open > 0 USD do email tone friendly\n";

static dn_program *compile(void) {
  dn_diags d;
  dn_diags_init(&d, "t.dun", src, strlen(src));
  dn_program *p = NULL;
  assert_int_equal(dn_compile_source("t.dun", src, strlen(src), &p, &d), DN_OK);
  dn_diags_free(&d);
  return p;
}

/* A deferred email of `rule`, its strings in buffers the test changes. */
typedef struct rec_buf {
  char rule[32], reason[96], inv[8];
  const char *invs[1];
  dn_reason_span span;
  dn_action_rec a;
} rec_buf;

static const dn_action_rec *make(rec_buf *b, const char *rule, dn_action_status status) {
  memset(b, 0, sizeof *b);
  strcpy(b->rule, rule);
  strcpy(b->reason, "deferred: limit 1 per 3 days reached; invoice I1 4 days past due");
  strcpy(b->inv, "I1");
  b->invs[0] = b->inv;
  b->span = (dn_reason_span){.at = 48, .len = 16, .invoice = 0};
  b->a = (dn_action_rec){.key = "0123456789abcdef0123456789abcdef", .customer = "C1",
                         .invoices = b->invs, .ninvoices = 1, .kind = DN_ACT_EMAIL,
                         .tone = "friendly", .rule = b->rule, .step = "1d", .status = status,
                         .reason = b->reason, .segment = "everyone", .spans = &b->span,
                         .nspans = 1};
  return &b->a;
}

/* The records of one customer on `day`: added, then closed with keep. */
static void day_of(dn_redefer *b, dn_date day, const dn_action_rec *const *recs, int n, bool keep) {
  dn_redefer_day(b, day);
  for (int i = 0; i < n; i++) dn_redefer_add(b, recs[i]);
  dn_redefer_close(b, 0, keep);
}

static void kept_for_the_next_day_only(void **state) {
  (void)state;
  dn_program *p = compile();
  dn_redefer *b = dn_redefer_new(p, 1);
  assert_non_null(b);
  rec_buf r1, r2;
  const dn_action_rec *recs[] = {make(&r1, "dunning", DN_STATUS_DEFERRED),
                                 make(&r2, "on payment.failed", DN_STATUS_DEFERRED)};
  day_of(b, 100, recs, 2, true);
  /* The copies outlive what they were made from. */
  strcpy(r1.rule, "changed");
  strcpy(r1.reason, "changed");
  strcpy(r1.inv, "I9");
  int32_t n;
  const dn_action_rec *got = dn_redefer_get(b, 0, 101, &n);
  assert_non_null(got);
  assert_int_equal(n, 2);
  assert_string_equal(got[0].rule, "dunning");
  assert_string_equal(got[0].reason,
                      "deferred: limit 1 per 3 days reached; invoice I1 4 days past due");
  assert_string_equal(got[0].invoices[0], "I1");
  assert_int_equal(got[0].nspans, 1);
  assert_int_equal(got[0].spans[0].at, 48);
  assert_string_equal(got[1].rule, "on payment.failed");
  assert_null(got[0].facts);
  /* Only on the next day. */
  assert_null(dn_redefer_get(b, 0, 100, &n));
  assert_null(dn_redefer_get(b, 0, 102, &n));
  assert_int_equal(n, 0);
  /* A day the customer is not kept leaves it without an entry. */
  day_of(b, 101, recs, 0, true);
  assert_null(dn_redefer_get(b, 0, 102, &n));
  dn_redefer_free(b);
  dn_program_free(p);
}

/* Not kept: a record scheduled, a condition rule's part (its key holds the
 * day), a consolidated record with one, or keep false. */
static void what_is_not_kept(void **state) {
  (void)state;
  dn_program *p = compile();
  dn_redefer *b = dn_redefer_new(p, 1);
  rec_buf r1, r2;
  struct {
    const char *rule2;
    dn_action_status status2;
    bool keep, kept;
  } cases[] = {
      {"dunning", DN_STATUS_DEFERRED, true, true},
      {"dunning", DN_STATUS_SCHEDULED, true, false},
      {"dunning", DN_STATUS_SKIPPED, true, false},
      {"over_limit", DN_STATUS_DEFERRED, true, false},
      {"dunning,over_limit", DN_STATUS_DEFERRED, true, false},
      {"dunning,on dispute.opened", DN_STATUS_DEFERRED, true, true},
      {"", DN_STATUS_DEFERRED, true, false},
      {"dunning", DN_STATUS_DEFERRED, false, false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const dn_action_rec *recs[] = {make(&r1, "dunning", DN_STATUS_DEFERRED),
                                   make(&r2, cases[i].rule2, cases[i].status2)};
    dn_date day = 200 + 2 * (dn_date)i;
    day_of(b, day, recs, 2, cases[i].keep);
    int32_t n;
    const dn_action_rec *got = dn_redefer_get(b, 0, day + 1, &n);
    if (cases[i].kept) assert_non_null(got);
    else assert_null(got);
  }
  dn_redefer_free(b);
  dn_program_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(kept_for_the_next_day_only),
      cmocka_unit_test(what_is_not_kept),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
