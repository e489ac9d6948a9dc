/* testrun.h - policy tests (LANGUAGE.md s.9, docs/testing.md): loading
 * and checking a `*_test.dun` file against the policies it names, running
 * each test on a ledger in memory, matching its expectations, and the
 * coverage of every policy over all the tests run.
 *
 * Checking (testcheck.c) reports E06xx at positions in the test file;
 * running (testrun.c) turns each test's rows into dn_rows for
 * dn_ledger_insert_history, runs the engine for `ran on` dates (committed
 * as history) and for `as_of`, and keeps the actions. Nothing prints:
 * cli/cmd_test.c formats the results. */
#ifndef DN_TESTRUN_H
#define DN_TESTRUN_H

#include <stdbool.h>
#include <stddef.h>

#include "lang/ast.h"
#include "lang/diag.h"
#include "lang/program.h"
#include "runtime/ledger.h"
#include "runtime/policy_load.h"
#include "stdlib/status.h"

/* A policy some test names, loaded once per suite, with what the tests
 * reached of it (one flag per segment, step, `on` declaration, rule). */
typedef struct dn_test_policy {
  char *path;          /* as resolved against the first test file naming it */
  char *real;          /* realpath: the cache key */
  char *source;        /* kept for the program's lifetime */
  dn_program *program; /* NULL when it did not load */
  dn_policy_externs ext;
  bool *seg_hit, *step_hit, *event_hit, *rule_hit;
} dn_test_policy;

typedef struct dn_test_suite {
  const char *allow_ffi; /* --allow-ffi list, or NULL */
  dn_test_policy *policies;
  int npolicies, cap;
} dn_test_suite;

/* One expectation that did not hold. */
typedef struct dn_test_failure {
  int line;
  char *expected;  /* the expectation as written after `expect`, one line */
  char *found;     /* "found 1" for a count or `no`; NULL when none matched */
  char **emitted;  /* the run's actions for the expectation's customer (all
                      customers when it names none), one line each */
  int nemitted;
} dn_test_failure;

typedef struct dn_test_result {
  const char *name; /* borrowed from the file */
  int line;
  bool passed;
  dn_test_failure *failures;
  int nfailures;
  /* rows the ledger refused (prefixed FILE:LINE of the row), engine
   * errors; a refused row or a failed run fails the test */
  dn_diags diags;
} dn_test_result;

typedef struct dn_test_file {
  char *path;
  char *source;
  size_t len;
  dn_ast ast;
  dn_diags diags;     /* parse and check diagnostics, with carets */
  int *policy_of;     /* per test: index into the suite's policies, or -1 */
  dn_date *as_of;     /* per test */
  dn_test_result *results;
  int nresults;       /* set by dn_test_file_run */
} dn_test_file;

dn_status dn_test_suite_init(dn_test_suite *s, const char *allow_ffi);
void dn_test_suite_free(dn_test_suite *s);

/* Reads, parses and checks a test file (*out is set even on failure, so
 * the caller can print f->diags; free it with dn_test_file_free).
 * DN_ERR_INPUT when the file has an error. */
dn_status dn_test_file_load(dn_test_suite *s, const char *path, dn_test_file **out);
void dn_test_file_free(dn_test_file *f);

/* Runs every test of a file that checked clean; fills f->results. A test
 * failing is not an error: DN_ERR_INTERNAL only for out of memory. */
dn_status dn_test_file_run(dn_test_suite *s, dn_test_file *f);

/* What no test reached of policy i: "segment vip", "escalation dunning
 * step 30d", "on payment.failed for invoice", "rule over_limit". The
 * strings are malloc'd (free each and the array). */
typedef struct dn_coverage {
  const char *policy;
  int reached, total;
  char **missed;
  int nmissed;
} dn_coverage;
dn_status dn_test_suite_coverage(const dn_test_suite *s, int i, dn_coverage *out);
void dn_coverage_free(dn_coverage *c);

/* internal, shared by testcheck.c and testrun.c */
int dn_test_line(const dn_test_file *f, uint32_t offset);
/* Test ti's rows and history lines as dn_rows (origin FILE:LINE), in the
 * arena; the file must have checked clean. */
dn_status dn_test_rows(const dn_test_file *f, int ti, dn_arena *a, dn_row **rows, size_t *n);

#endif
