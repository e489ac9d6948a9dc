/* ledger_fixture.h - what the ledger-backed unit tests (engine, facts,
 * demo, ledger, import) need around a scratch ledger: a fresh temporary
 * directory, its removal, running SQL that must succeed, one-value queries
 * and writing small files. Each test keeps its own fixture struct, since
 * they hold different things; these helpers work on the fields they share.
 * static inline so a test that uses only some of them builds under
 * -Wunused-function -Werror. Include after <cmocka.h>. */
#ifndef DN_TESTS_LEDGER_FIXTURE_H
#define DN_TESTS_LEDGER_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lang/compile.h"
#include "runtime/ledger.h"

/* Makes a fresh /tmp/dn_<name>_XXXXXX into dir; when path is not NULL it
 * gets dir/ledger.db, the ledger the test opens there. */
static inline bool lf_make_dir(char *dir, size_t ndir, const char *name, char *path, size_t npath) {
  snprintf(dir, ndir, "/tmp/dn_%s_XXXXXX", name);
  if (!mkdtemp(dir)) return false;
  if (path) snprintf(path, npath, "%s/ledger.db", dir);
  return true;
}

/* Removes a directory that holds one closed ledger: the file, the WAL and
 * shared-memory files SQLite may leave beside it, then the directory. */
static inline void lf_remove_ledger(const char *dir, const char *path) {
  char buf[160];
  snprintf(buf, sizeof buf, "%s-wal", path);
  unlink(buf);
  snprintf(buf, sizeof buf, "%s-shm", path);
  unlink(buf);
  unlink(path);
  rmdir(dir);
}

/* Removes dir and all in it, for tests that leave several files there.
 * Returns what a cmocka teardown returns. */
static inline int lf_remove_tree(const char *dir) {
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* Runs SQL that the test needs to succeed; says why on stderr if not. */
static inline void lf_exec_sql(sqlite3 *db, const char *sql) {
  char *err = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
  if (rc != SQLITE_OK) fprintf(stderr, "sql: %s\n", err ? err : "?");
  sqlite3_free(err);
  assert_int_equal(rc, SQLITE_OK);
}

/* The first column of the first row as an integer (0 for NULL). */
static inline int64_t lf_query_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* Text of the first column of the first row, copied into buf ("<null>" for NULL). */
static inline const char *lf_query_text(sqlite3 *db, const char *sql, char *buf, size_t n) {
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  const unsigned char *t = sqlite3_column_text(st, 0);
  snprintf(buf, n, "%s", t ? (const char *)t : "<null>");
  sqlite3_finalize(st);
  return buf;
}

static inline void lf_write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* Compiles a test's policy source into *p; false (the diagnostics on
 * stderr) when it does not compile, for a cmocka setup to fail on. */
static inline bool lf_compile_policy(const char *src, dn_program **p) {
  dn_diags d;
  dn_diags_init(&d, "policy.dun", src, strlen(src));
  dn_status st = dn_compile_source("policy.dun", src, strlen(src), p, &d);
  if (st != DN_OK) dn_diags_render_text(&d, stderr, false);
  dn_diags_free(&d);
  return st == DN_OK;
}

#endif
