/* common.c - see common.h. Loading itself lives in runtime/policy_load.c
 * (shared with libdunlin); the functions here print. */
#include "cli/common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/policy_load.h"

dn_status dn_cli_read_file(const char *path, char **buf, size_t *len, dn_diags *diags) {
  return dn_policy_read_file(path, buf, len, diags);
}

bool dn_cli_is_bytecode(const char *path, const char *buf, size_t len) {
  return dn_policy_is_bytecode(path, buf, len);
}

void dn_cli_silent_failure(const char *path, dn_status st) {
  if (st == DN_ERR_INTERNAL)
    fprintf(stderr, "%s: error: internal error: the policy could not be parsed or compiled "
                    "(out of memory, or expressions nested deeper than the parser supports)\n", path);
  else
    fprintf(stderr, "%s: error: the policy could not be compiled\n", path);
}

bool dn_cli_binary_source(const char *path, const char *buf, size_t len, dn_diags *diags) {
  return dn_policy_binary_source(path, buf, len, diags);
}

void dn_cli_print_diags(const dn_diags *d) { dn_diags_render_text(d, stderr, false); }

dn_status dn_cli_load_policy(const char *path, dn_program **out) {
  *out = NULL;
  dn_diags diags;
  dn_diags_init(&diags, path, NULL, 0);
  char *buf;
  size_t len;
  dn_status st = dn_policy_read_file(path, &buf, &len, &diags);
  if (st == DN_OK) {
    /* source diagnostics quote the text; bytecode ones name the file */
    if (!dn_policy_is_bytecode(path, buf, len)) dn_diags_init(&diags, path, buf, len);
    st = dn_policy_load_buffer(path, buf, len, out, &diags);
    if (st != DN_OK && st != DN_ERR_INTERNAL) st = DN_ERR_INPUT;
  }
  dn_cli_print_diags(&diags);
  if (st != DN_OK && diags.errors == 0) dn_cli_silent_failure(path, st);
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

/* At most about ten years: a typo in a year (2062 for 2026) would
 * otherwise start a replay of decades. */
enum { DN_CLI_MAX_DAYS = 3700 };

dn_status dn_cli_date_range(const char *cmd, const char *from, const char *to, dn_date *d1,
                            dn_date *d2) {
  if (dn_cli_date(cmd, "from", from, d1) != DN_OK || dn_cli_date(cmd, "to", to, d2) != DN_OK)
    return DN_ERR_USAGE;
  if (*d2 < *d1) {
    fprintf(stderr, "dunlin %s: --to %s is before --from %s\n", cmd, to, from);
    return DN_ERR_USAGE;
  }
  if (*d2 - *d1 + 1 > DN_CLI_MAX_DAYS) {
    fprintf(stderr, "dunlin %s: %d days from %s to %s; at most %d days can be simulated\n", cmd,
            *d2 - *d1 + 1, from, to, DN_CLI_MAX_DAYS);
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

dn_status dn_cli_data_errors(dn_status st, int64_t errors, bool over_days) {
  if (st != DN_OK || errors <= 0) return st;
  fprintf(stderr, "%lld data error%s%s: the invoices or customers concerned were skipped%s\n",
          (long long)errors, errors == 1 ? "" : "s", over_days ? " over the simulated days" : "",
          over_days ? " on those days" : "");
  return DN_ERR_INPUT;
}

int dn_cli_col(const char *s, int width) {
  int extra = 0; /* UTF-8 continuation bytes: bytes printf counts, no column */
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
    extra += (*p & 0xC0) == 0x80;
  return width + extra;
}
