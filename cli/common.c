/* common.c - see common.h. */
#include "cli/common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lang/bcfile.h"
#include "lang/compile.h"
#include "runtime/verify.h"

dn_status dn_cli_read_file(const char *path, char **buf, size_t *len, dn_diags *diags) {
  *buf = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    dn_diag_add_at(diags, DN_E0505, path, 0, "cannot open: %s", strerror(errno));
    return DN_ERR_INPUT;
  }
  size_t cap = 1 << 16, n = 0;
  errno = 0;
  char *b = malloc(cap + 1);
  while (b) {
    size_t got = fread(b + n, 1, cap - n, f);
    n += got;
    if (n < cap) break;
    char *nb = realloc(b, cap * 2 + 1);
    if (!nb) { free(b); b = NULL; break; }
    b = nb;
    cap *= 2;
  }
  int err = errno;
  bool failed = ferror(f) != 0;
  fclose(f);
  if (!b || failed) {
    const char *why = b ? strerror(err) : "out of memory";
    free(b);
    dn_diag_add_at(diags, DN_E0505, path, 0, "cannot read: %s", why);
    return DN_ERR_INPUT;
  }
  b[n] = '\0';
  *buf = b;
  *len = n;
  return DN_OK;
}

bool dn_cli_is_bytecode(const char *path, const char *buf, size_t len) {
  size_t n = strlen(path);
  return dn_bc_is_bytecode((const uint8_t *)buf, len) || (n >= 4 && strcmp(path + n - 4, ".dbc") == 0);
}

void dn_cli_silent_failure(const char *path, dn_status st) {
  if (st == DN_ERR_INTERNAL)
    fprintf(stderr, "%s: error: internal error: the policy could not be parsed or compiled "
                    "(out of memory, or expressions nested deeper than the parser supports)\n", path);
  else
    fprintf(stderr, "%s: error: the policy could not be compiled\n", path);
}

bool dn_cli_binary_source(const char *path, const char *buf, size_t len, dn_diags *diags) {
  const char *nul = memchr(buf, 0, len);
  if (!nul) return false;
  int line = 1;
  for (const char *p = buf; p < nul; p++) line += *p == '\n';
  static const char sqlite_magic[] = "SQLite format 3";
  bool sqlite = len >= sizeof sqlite_magic && memcmp(buf, sqlite_magic, sizeof sqlite_magic) == 0;
  dn_diag *g = dn_diag_add_at(diags, DN_E0103, path, line, "a NUL byte at offset %zu: %s", (size_t)(nul - buf),
                              sqlite ? "this is an SQLite file (a ledger?), not a policy"
                                     : "this is a binary file, not a policy source");
  dn_diag_hint(g, "policies are UTF-8 text (.dun) or compiled bytecode (.dbc)");
  return true;
}

void dn_cli_print_diags(const dn_diags *d) { dn_diags_render_text(d, stderr, false); }

static dn_status load_bytecode(const char *path, const char *buf, size_t len, dn_program **out) {
  dn_diags diags;
  dn_diags_init(&diags, path, NULL, 0);
  dn_status st = dn_bc_read(path, (const uint8_t *)buf, len, out, &diags);
  if (st == DN_OK) st = dn_verify(*out, path, &diags);
  if (st != DN_OK && *out) {
    dn_program_free(*out);
    *out = NULL;
  }
  dn_cli_print_diags(&diags);
  dn_diags_free(&diags);
  return st == DN_OK ? DN_OK : DN_ERR_INPUT;
}

dn_status dn_cli_load_policy(const char *path, dn_program **out) {
  *out = NULL;
  dn_diags diags;
  dn_diags_init(&diags, path, NULL, 0);
  char *buf;
  size_t len;
  dn_status st = dn_cli_read_file(path, &buf, &len, &diags);
  if (st != DN_OK) {
    dn_cli_print_diags(&diags);
    dn_diags_free(&diags);
    return st;
  }
  if (dn_cli_is_bytecode(path, buf, len)) {
    st = load_bytecode(path, buf, len, out);
  } else {
    dn_diags_init(&diags, path, buf, len);
    if (dn_cli_binary_source(path, buf, len, &diags)) st = DN_ERR_INPUT;
    else st = dn_compile_source(path, buf, len, out, &diags);
    dn_diags_sort(&diags);
    dn_cli_print_diags(&diags);
    if (st != DN_OK && diags.errors == 0) dn_cli_silent_failure(path, st);
    if (st != DN_OK && *out) {
      dn_program_free(*out);
      *out = NULL;
    }
  }
  dn_diags_free(&diags);
  free(buf);
  return st;
}

dn_status dn_cli_date(const char *cmd, const char *opt, const char *text, dn_date *out) {
  if (!text) {
    fprintf(stderr, "dunlin %s: --%s DATE is required (YYYY-MM-DD)\n", cmd, opt);
    return DN_ERR_USAGE;
  }
  if (!dn_date_parse(text, strlen(text), out)) {
    fprintf(stderr, "dunlin %s: --%s: '%s' is not a date (YYYY-MM-DD)\n", cmd, opt, text);
    return DN_ERR_USAGE;
  }
  return DN_OK;
}

void dn_cli_help(const char *text) { fputs(text, stdout); }

dn_date dn_cli_today(void) {
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  return dn_date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}
