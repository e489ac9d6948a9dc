/* test_api_threads.c - many threads deciding on one loaded policy through
 * the public API give exactly the answers a single thread gives.
 *
 * REQUESTS distinct requests (customers, tiers, due dates, amounts and a
 * payment differ) are first decided one after another; then THREADS
 * threads each decide all of them ROUNDS times, each thread starting at a
 * different request, and every response must equal the sequential one
 * byte for byte. Run under ThreadSanitizer by tests/tsan/run.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include/dunlin.h"

#define THREADS 4
#define REQUESTS 12
#define ROUNDS 3

static const char policy_src[] =
    "policy \"threads\" version 1\n"
    "currency USD\n"
    "timezone \"America/New_York\"\n"
    "segment vip when customer.tier == \"strategic\" { tone -1 }\n"
    "segment standard otherwise\n"
    "escalation dunning for invoice in vip, standard unless invoice.disputed {\n"
    "  step 1 day: email tone friendly\n"
    "  step 7 days: email tone neutral\n"
    "  step 15 days: email tone firm, call priority invoice.balance\n"
    "}\n"
    "rule big for customer when customer.total_open > 2_000 USD do task \"review\" once per 30 days\n";

typedef struct shared {
  const dunlin_policy *policy;
  char *requests[REQUESTS];
  char *expected[REQUESTS];
  int start;
  int mismatches, failures;
} shared;

typedef struct worker {
  shared *s;
  int start;
  int mismatches, failures;
} worker;

static char *make_request(int i) {
  char *s = malloc(1024);
  /* due dates 2026-02-01 .. 2026-03-08: 2 to 37 days past due on 03-10 */
  snprintf(s, 1024,
           "{\"id\":%d,\"as_of\":\"2026-03-10\",\"customer\":{\"id\":\"C%d\",\"tier\":\"%s\"},"
           "\"invoices\":[{\"id\":\"I%d\",\"issue_date\":\"2026-01-01\",\"due_date\":\"2026-02-%02d\","
           "\"currency\":\"USD\",\"amount\":\"%d.50\"},"
           "{\"id\":\"J%d\",\"issue_date\":\"2026-01-01\",\"due_date\":\"2026-03-0%d\",\"currency\":\"USD\","
           "\"amount_minor\":%d}],"
           "\"payments\":[{\"id\":\"P%d\",\"invoice_id\":\"I%d\",\"date\":\"2026-03-05\",\"amount\":\"%d.00\"}]}",
           i, i, i % 3 == 0 ? "strategic" : "standard", i, 1 + (i * 2) % 28, 500 + 250 * i, i, 1 + i % 8,
           10000 * (i + 1), i, i, 100 * (i % 4) + 50);
  return s;
}

static char *decide(const dunlin_policy *p, const char *req, int *failed) {
  char *resp = NULL;
  dunlin_actions *a = NULL;
  dunlin_status st = dunlin_decide_json(p, req, strlen(req), &resp, &a, NULL);
  if (st != DUNLIN_OK) (*failed)++;
  dunlin_actions_free(a);
  return resp;
}

static void *work(void *arg) {
  worker *w = arg;
  for (int r = 0; r < ROUNDS; r++)
    for (int k = 0; k < REQUESTS; k++) {
      int i = (w->start + k) % REQUESTS;
      char *resp = decide(w->s->policy, w->s->requests[i], &w->failures);
      if (!resp || strcmp(resp, w->s->expected[i]) != 0) w->mismatches++;
      dunlin_free(resp);
    }
  return NULL;
}

static void test_threads_match_sequential(void **state) {
  (void)state;
  dunlin_policy *p;
  dunlin_diagnostics *d = dunlin_diagnostics_new();
  assert_int_equal(dunlin_policy_load_memory("threads.dun", policy_src, strlen(policy_src), NULL, &p, d),
                   DUNLIN_OK);
  shared s = {.policy = p};
  int failed = 0;
  for (int i = 0; i < REQUESTS; i++) {
    s.requests[i] = make_request(i);
    s.expected[i] = decide(p, s.requests[i], &failed);
    assert_non_null(s.expected[i]);
  }
  assert_int_equal(failed, 0);
  /* the requests differ, and so do the answers: the comparison is not vacuous */
  assert_string_not_equal(s.expected[1], s.expected[2]);
  assert_non_null(strstr(s.expected[11], "\"kind\":\"call\""));
  pthread_t t[THREADS];
  worker w[THREADS];
  for (int i = 0; i < THREADS; i++) {
    w[i] = (worker){.s = &s, .start = i * REQUESTS / THREADS};
    assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(w[i].failures, 0);
    assert_int_equal(w[i].mismatches, 0);
  }
  for (int i = 0; i < REQUESTS; i++) {
    free(s.requests[i]);
    dunlin_free(s.expected[i]);
  }
  dunlin_policy_free(p);
  dunlin_diagnostics_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_threads_match_sequential),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
