/* outside_lib.c - a program written from docs/library.md alone, built
 * against an installed libdunlin (tests/cli/outside_clients.sh): decides
 * from JSON and from a dunlin_request, reads every accessor, reads the
 * diagnostics of a broken policy and of a bad request, decides on 8
 * threads and requires every answer to equal the sequential one byte for
 * byte, then frees everything (run under LeakSanitizer or valgrind).
 * Prints "N passed, N failed". */
#include <dunlin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;
#define CHECK(c, what)                                                                                     \
  do {                                                                                                     \
    if (c) passed++;                                                                                       \
    else {                                                                                                 \
      failed++;                                                                                            \
      printf("FAIL: %s (line %d)\n", what, __LINE__);                                                     \
    }                                                                                                      \
  } while (0)

#define NREQ 6
static char reqs[NREQ][512];
static char *expected[NREQ];
static const dunlin_policy *shared_policy;

static void make_requests(void) {
  for (int i = 0; i < NREQ; i++)
    snprintf(reqs[i], sizeof reqs[i],
             "{\"id\":%d,\"as_of\":\"2026-03-%02d\",\"customer\":{\"id\":\"C%d\",\"currency\":\"USD\"},"
             "\"invoices\":[{\"id\":\"I%d\",\"issue_date\":\"2026-01-01\",\"due_date\":\"2026-02-%02d\","
             "\"currency\":\"USD\",\"amount\":\"%d.00\"}]}",
             i, 10 + i, i, i, 1 + 3 * i, 100 * (i + 1));
}

static void *worker(void *arg) {
  long *bad = arg;
  for (int round = 0; round < 5; round++)
    for (int i = 0; i < NREQ; i++) {
      char *resp = NULL;
      dunlin_status st = dunlin_decide_json(shared_policy, reqs[i], strlen(reqs[i]), &resp, NULL, NULL);
      if (st != DUNLIN_OK || !resp || strcmp(resp, expected[i]) != 0) (*bad)++;
      dunlin_free(resp);
    }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  dunlin_diagnostics *d = dunlin_diagnostics_new();
  dunlin_policy *p = NULL;
  CHECK(dunlin_policy_load_file(argv[1], NULL, &p, d) == DUNLIN_OK && p, "load the shipped policy");
  if (!p) return 1;
  CHECK(strcmp(dunlin_policy_name(p), "b2b-net30") == 0 && dunlin_policy_version(p) == 1, "name, version");

  /* The docs' request: 8 days past due -> 7d email scheduled, sms deferred,
   * 1d and -3d skipped (docs/decide.md). */
  const char *req = "{\"as_of\":\"2026-03-10\",\"customer\":{\"id\":\"C-100\"},"
                    "\"invoices\":[{\"id\":\"INV-1\",\"issue_date\":\"2026-01-31\","
                    "\"due_date\":\"2026-03-02\",\"currency\":\"USD\",\"amount\":\"2500.00\"}]}";
  char *resp = NULL;
  dunlin_actions *acts = NULL;
  CHECK(dunlin_decide_json(p, req, strlen(req), &resp, &acts, d) == DUNLIN_OK, "decide");
  CHECK(acts && dunlin_actions_count(acts) == 4, "four actions");
  int scheduled = 0, deferred = 0, skipped = 0;
  for (size_t i = 0; acts && i < dunlin_actions_count(acts); i++) {
    const dunlin_action *a = dunlin_actions_get(acts, i);
    const char *s = dunlin_action_status(a);
    scheduled += strcmp(s, "scheduled") == 0;
    deferred += strcmp(s, "deferred") == 0;
    skipped += strcmp(s, "skipped") == 0;
    CHECK(strlen(dunlin_action_key(a)) == 32, "key is 32 hex digits");
    CHECK(dunlin_action_invoice_count(a) == 1 && strcmp(dunlin_action_invoice(a, 0), "INV-1") == 0, "invoice");
    CHECK(dunlin_action_invoice(a, 1) == NULL, "invoice out of range is NULL");
    CHECK(strcmp(dunlin_action_as_of(a), "2026-03-10") == 0, "as_of");
    CHECK(strstr(resp, dunlin_action_json(a)) != NULL, "each record is in the response text");
    CHECK(dunlin_action_text(a) == NULL && !dunlin_action_has_priority(a), "no text, no priority");
    if (strcmp(s, "scheduled") == 0)
      CHECK(strcmp(dunlin_action_kind(a), "email") == 0 && strcmp(dunlin_action_step(a), "7d") == 0 &&
                strcmp(dunlin_action_tone(a), "neutral") == 0 &&
                strcmp(dunlin_action_scheduled_at(a), "2026-03-10T09:00:00-04:00") == 0,
            "the scheduled one is the 7d neutral email");
  }
  CHECK(scheduled == 1 && deferred == 1 && skipped == 2, "1 scheduled, 1 deferred, 2 skipped");
  CHECK(dunlin_actions_get(acts, 4) == NULL, "action out of range is NULL");
  dunlin_actions_free(acts);

  /* The same request built in C: same actions, same bytes. */
  dunlin_request *r = dunlin_request_new("C-100", "2026-03-10");
  const char *cols[] = {"id", "issue_date", "due_date", "currency", "amount"};
  const char *vals[] = {"INV-1", "2026-01-31", "2026-03-02", "USD", "2500.00"};
  CHECK(dunlin_request_add_row(r, "invoices", cols, vals, 5) == DUNLIN_OK, "add_row");
  CHECK(dunlin_request_add_row(r, "customers", cols, vals, 5) == DUNLIN_ERR_USAGE, "another table: usage");
  char *rj = dunlin_request_json(r);
  CHECK(rj && strstr(rj, "\"INV-1\""), "request_json");
  dunlin_free(rj);
  dunlin_actions *acts2 = NULL;
  CHECK(dunlin_decide(p, r, &acts2, d) == DUNLIN_OK && acts2 && dunlin_actions_count(acts2) == 4, "decide(request)");
  for (size_t i = 0; acts2 && i < dunlin_actions_count(acts2); i++)
    CHECK(strstr(resp, dunlin_action_json(dunlin_actions_get(acts2, i))) != NULL, "same records");
  dunlin_actions_free(acts2);
  dunlin_request_free(r);
  dunlin_free(resp);

  /* A bad request: ERR_INPUT, an error answer, E0508 with the field path. */
  dunlin_diagnostics_clear(d);
  const char *badreq = "{\"id\":6,\"as_of\":\"2026-03-10\",\"customer\":{\"id\":\"C\"},\"invoces\":[]}";
  resp = NULL;
  acts = (dunlin_actions *)1;
  CHECK(dunlin_decide_json(p, badreq, strlen(badreq), &resp, &acts, d) == DUNLIN_ERR_INPUT, "bad request: input");
  CHECK(acts == NULL, "bad request: actions NULL");
  CHECK(resp && strstr(resp, "\"error\":\"invoces: unknown field"), "bad request: error answer");
  CHECK(dunlin_diagnostics_errors(d) >= 1 && strcmp(dunlin_diagnostic_code(d, 0), "E0508") == 0 &&
            strcmp(dunlin_diagnostic_file(d, 0), "invoces") == 0,
        "bad request: E0508 at invoces");
  dunlin_free(resp);
  /* NULL arguments: usage, never a crash. */
  CHECK(dunlin_decide_json(NULL, req, strlen(req), &resp, NULL, d) == DUNLIN_ERR_USAGE, "NULL policy: usage");
  dunlin_free(resp);

  /* Threads on one policy: byte-identical to the sequential answers. */
  make_requests();
  for (int i = 0; i < NREQ; i++) {
    expected[i] = NULL;
    CHECK(dunlin_decide_json(p, reqs[i], strlen(reqs[i]), &expected[i], NULL, NULL) == DUNLIN_OK,
          "sequential decide");
  }
  shared_policy = p;
  pthread_t th[8];
  long bad[8] = {0};
  for (int t = 0; t < 8; t++) pthread_create(&th[t], NULL, worker, &bad[t]);
  long total = 0;
  for (int t = 0; t < 8; t++) {
    pthread_join(th[t], NULL);
    total += bad[t];
  }
  CHECK(total == 0, "8 threads x 5 rounds equal the sequential answers");
  for (int i = 0; i < NREQ; i++) dunlin_free(expected[i]);
  dunlin_policy_free(p);

  /* A broken policy: ERR_INPUT, NULL handle, positioned diagnostics. */
  dunlin_diagnostics_clear(d);
  const char *src = "policy \"x\" version 1\ncurrency USD\nsegment all otherwise\n"
                    "escalation e for invoice in al {\n  step 1 day: email tone friendly\n}\n";
  dunlin_policy *bp = (dunlin_policy *)1;
  CHECK(dunlin_policy_load_memory("bad.dun", src, strlen(src), NULL, &bp, d) == DUNLIN_ERR_INPUT, "bad policy");
  CHECK(bp == NULL, "bad policy: handle NULL");
  CHECK(dunlin_diagnostics_errors(d) >= 1, "bad policy: an error");
  size_t i0 = 0;
  while (i0 < dunlin_diagnostics_count(d) && dunlin_diagnostic_severity(d, i0) != DUNLIN_SEVERITY_ERROR) i0++;
  CHECK(strcmp(dunlin_diagnostic_file(d, i0), "bad.dun") == 0 && dunlin_diagnostic_line(d, i0) == 4 &&
            dunlin_diagnostic_code(d, i0)[0] == 'E' && strstr(dunlin_diagnostic_text(d, i0), "bad.dun:4:"),
        "bad policy: bad.dun:4 with a code");
  CHECK(dunlin_diagnostic_message(d, 999) == NULL && dunlin_diagnostic_line(d, 999) == 0, "out of range");
  CHECK(strlen(dunlin_diagnostics_text(d)) > 0, "diagnostics_text");
  dunlin_diagnostics_free(d);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
