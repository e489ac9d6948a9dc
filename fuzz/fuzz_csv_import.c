/* fuzz_csv_import.c - libFuzzer target: bytes -> `ledger import` of CSV
 * files into a fresh ledger in memory.
 *
 * One input carries several files: it is cut at lines "%%TABLE" (TABLE
 * one of customers, invoices, payments, credits, disputes, promises,
 * fx_rates, holidays, or map for a --map file); what comes before the
 * first such line is the customers file. So a seed is a whole golden
 * case, and the fuzzer can keep rows whose parents exist. The files are
 * written to a private temporary directory, since the importer reads
 * paths (as the CLI does).
 *
 * Besides crashes it checks the all-or-nothing promise of LEDGER.md: an
 * import that fails leaves every table empty. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lang/diag.h"
#include "runtime/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSECT 9
static const char *const sect_names[NSECT] = {
    "customers", "invoices", "payments", "credits", "disputes",
    "promises", "fx_rates", "holidays", "map"};

/* A private directory for the files, made once per process and removed
 * at exit (harness state; the library keeps none). */
static char dir_path[64];

static void remove_dir(void) { rmdir(dir_path); }

static const char *work_dir(void) {
  if (!dir_path[0]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir_path, sizeof dir_path, "%s/dnfuzzXXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(dir_path)) dir_path[0] = '\0';
    else atexit(remove_dir);
  }
  return dir_path[0] ? dir_path : NULL;
}

static int section_at(const uint8_t *line, size_t n) {
  if (n < 3 || line[0] != '%' || line[1] != '%') return -1;
  for (int i = 0; i < NSECT; i++) {
    size_t k = strlen(sect_names[i]);
    size_t m = n - 2;
    if (m > 0 && line[2 + m - 1] == '\r') m--;
    if (m == k && memcmp(line + 2, sect_names[i], k) == 0) return i;
  }
  return -1;
}

/* Splits the input into sections; starts[i] == NULL when absent. */
static void split(const uint8_t *data, size_t size, const uint8_t *starts[NSECT],
                  size_t lens[NSECT]) {
  int cur = 0;
  starts[0] = data;
  lens[0] = 0;
  size_t pos = 0;
  while (pos < size) {
    const uint8_t *nl = memchr(data + pos, '\n', size - pos);
    size_t end = nl ? (size_t)(nl - data) + 1 : size;
    int s = section_at(data + pos, end - pos - (nl ? 1 : 0));
    if (s >= 0) {
      cur = s;
      starts[cur] = data + end;
      lens[cur] = 0;
    } else if (starts[cur]) {
      lens[cur] = (size_t)(data + end - starts[cur]);
    }
    pos = end;
  }
}

static int write_file(const char *path, const uint8_t *d, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = n ? fwrite(d, 1, n, f) : 0;
  return fclose(f) == 0 && w == n ? 0 : -1;
}

static int64_t rows_in_ledger(dn_ledger *l) {
  static const char *const q =
      "SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM invoices)"
      " + (SELECT count(*) FROM payments) + (SELECT count(*) FROM credits)"
      " + (SELECT count(*) FROM disputes) + (SELECT count(*) FROM promises)"
      " + (SELECT count(*) FROM fx_rates) + (SELECT count(*) FROM holidays)";
  sqlite3_stmt *st = NULL;
  int64_t n = -1;
  if (sqlite3_prepare_v2(l->db, q, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *dir = work_dir();
  if (!dir) return 0;
  const uint8_t *starts[NSECT] = {0};
  size_t lens[NSECT] = {0};
  split(data, size, starts, lens);
  char paths[NSECT][96];
  const char *given[NSECT] = {0};
  for (int i = 0; i < NSECT; i++) {
    if (!starts[i]) continue;
    snprintf(paths[i], sizeof paths[i], "%s/%s.csv", dir, sect_names[i]);
    if (write_file(paths[i], starts[i], lens[i]) != 0) return 0;
    given[i] = paths[i];
  }
  dn_import_files files = {given[0], given[1], given[2], given[3], given[4],
                           given[5], given[6], given[7], given[8]};
  dn_diags diags;
  dn_diags_init(&diags, "fuzz", NULL, 0);
  dn_ledger l;
  if (dn_ledger_open(":memory:", DN_LEDGER_CREATE, &l, &diags) == DN_OK) {
    dn_import_counts counts = {0};
    dn_status st = dn_ledger_import(&l, &files, &counts, &diags);
    /* All or nothing: a failed import leaves the fresh ledger empty. */
    if (st != DN_OK && rows_in_ledger(&l) != 0) abort();
    dn_ledger_close(&l);
  }
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f) {
    dn_diags_render_text(&diags, f, false);
    fclose(f);
  }
  free(buf);
  dn_diags_free(&diags);
  for (int i = 0; i < NSECT; i++)
    if (given[i]) unlink(given[i]);
  return 0;
}
