/* test_threads.c - two policies loaded and run in one process from two
 * threads give exactly what each gives alone: the proof that no module
 * keeps global mutable state (scanner, parser, checker, VM, engine). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lang/compile.h"
#include "runtime/engine.h"
#include "runtime/ledger.h"
#include "runtime/outbox.h"

typedef struct job {
  const char *policy_path;
  const char *ledger_path;
  char *output;  /* every action as JSON lines */
  size_t output_len;
  int status;
} job;

static dn_status collect(void *ctx, const dn_action_rec *a) {
  FILE *f = ctx;
  return dn_action_write_json(f, a, false);
}

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
  fclose(f);
  if (b) b[n] = '\0';
  *len = (size_t)n;
  return b;
}

/* Compiles from source (exercising scanner, parser and checker in this
 * thread), then runs against the thread's own ledger connection. */
static void *run_job(void *arg) {
  job *j = arg;
  size_t len;
  char *src = read_all(j->policy_path, &len);
  j->status = DN_ERR_INTERNAL;
  if (!src) return NULL;
  dn_diags diags;
  dn_diags_init(&diags, j->policy_path, src, len);
  dn_program *p = NULL;
  dn_ledger l;
  char *buf = NULL;
  size_t blen = 0;
  FILE *out = open_memstream(&buf, &blen);
  if (dn_compile_source(j->policy_path, src, len, &p, &diags) == DN_OK &&
      dn_ledger_open(j->ledger_path, DN_LEDGER_READ, &l, &diags) == DN_OK) {
    dn_run_options o = {0};
    dn_date_parse("2026-11-25", 10, &o.as_of);
    dn_run_stats stats = {0};
    j->status = dn_engine_run(p, &l, &o, collect, out, &stats, &diags);
    dn_ledger_close(&l);
  }
  fclose(out);
  j->output = buf;
  j->output_len = blen;
  if (p) dn_program_free(p);
  dn_diags_free(&diags);
  free(src);
  return NULL;
}

static void make_ledger(const char *path) {
  dn_diags diags;
  dn_diags_init(&diags, path, NULL, 0);
  dn_ledger l;
  unlink(path);
  assert_int_equal(dn_ledger_open(path, DN_LEDGER_CREATE, &l, &diags), DN_OK);
  dn_demo_options o = {.customers = 40, .seed = 5};
  dn_date_parse("2026-11-25", 10, &o.today);
  assert_int_equal(dn_ledger_demo(&l, &o, &diags), DN_OK);
  dn_ledger_close(&l);
  dn_diags_free(&diags);
}

static void test_two_policies_two_threads(void **state) {
  (void)state;
  char ledger[] = "/tmp/dunlin-threads-XXXXXX";
  int fd = mkstemp(ledger);
  assert_true(fd >= 0);
  close(fd);
  make_ledger(ledger);
  const char *root = getenv("DUNLIN_SOURCE_DIR");
  char p1[1024], p2[1024];
  snprintf(p1, sizeof p1, "%s/policies/b2b_net30.dun", root ? root : "..");
  snprintf(p2, sizeof p2, "%s/policies/subscription.dun", root ? root : "..");

  job alone[2] = {{p1, ledger, NULL, 0, 0}, {p2, ledger, NULL, 0, 0}};
  run_job(&alone[0]);
  run_job(&alone[1]);
  assert_int_equal(alone[0].status, DN_OK);
  assert_int_equal(alone[1].status, DN_OK);
  assert_true(alone[0].output_len > 0);

  /* Several rounds: a data race needs luck to show, so give it chances. */
  for (int round = 0; round < 4; round++) {
    job together[2] = {{p1, ledger, NULL, 0, 0}, {p2, ledger, NULL, 0, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&t[i], NULL, run_job, &together[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) {
      assert_int_equal(together[i].status, DN_OK);
      assert_int_equal(together[i].output_len, alone[i].output_len);
      assert_memory_equal(together[i].output, alone[i].output, alone[i].output_len);
      free(together[i].output);
    }
  }
  free(alone[0].output);
  free(alone[1].output);
  unlink(ledger);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_two_policies_two_threads)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
