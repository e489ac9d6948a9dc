/* policy_load.c - see policy_load.h. Moved out of cli/common.c and
 * cli/externs.c so that libdunlin loads policies exactly as the CLI does. */
#include "runtime/policy_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/bcfile.h"
#include "lang/compile.h"
#include "runtime/verify.h"

dn_status dn_policy_read_file(const char *path, char **buf, size_t *len, dn_diags *diags) {
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

bool dn_policy_is_bytecode(const char *name, const char *buf, size_t len) {
  size_t n = name ? strlen(name) : 0;
  return dn_bc_is_bytecode((const uint8_t *)buf, len) || (n >= 4 && strcmp(name + n - 4, ".dbc") == 0);
}

bool dn_policy_binary_source(const char *name, const char *buf, size_t len, dn_diags *diags) {
  const char *nul = memchr(buf, 0, len);
  if (!nul) return false;
  int line = 1;
  for (const char *p = buf; p < nul; p++) line += *p == '\n';
  static const char sqlite_magic[] = "SQLite format 3";
  bool sqlite = len >= sizeof sqlite_magic && memcmp(buf, sqlite_magic, sizeof sqlite_magic) == 0;
  dn_diag *g = dn_diag_add_at(diags, DN_E0103, name, line, "a NUL byte at offset %zu: %s", (size_t)(nul - buf),
                              sqlite ? "this is an SQLite file (a ledger?), not a policy"
                                     : "this is a binary file, not a policy source");
  dn_diag_hint(g, "policies are UTF-8 text (.dun) or compiled bytecode (.dbc)");
  return true;
}

/* Bytecode is untrusted: structurally read, then verified before anyone
 * may run it. */
static dn_status load_bytecode(const char *name, const char *buf, size_t len, dn_program **out,
                               dn_diags *diags) {
  dn_status st = dn_bc_read(name, (const uint8_t *)buf, len, out, diags);
  if (st == DN_OK) st = dn_verify(*out, name, diags);
  if (st != DN_OK && *out) {
    dn_program_free(*out);
    *out = NULL;
  }
  return st == DN_OK ? DN_OK : DN_ERR_INPUT;
}

dn_status dn_policy_load_buffer(const char *name, const char *buf, size_t len, dn_program **out,
                                dn_diags *diags) {
  *out = NULL;
  if (dn_policy_is_bytecode(name, buf, len)) return load_bytecode(name, buf, len, out, diags);
  dn_status st;
  if (dn_policy_binary_source(name, buf, len, diags)) st = DN_ERR_INPUT;
  else st = dn_compile_source(name, buf, len, out, diags);
  dn_diags_sort(diags);
  if (st != DN_OK && *out) {
    dn_program_free(*out);
    *out = NULL;
  }
  return st;
}

/* Splits "a.so:b.so" into paths pointing inside a copy. */
static char **split_paths(const char *allow, char **copy, int *n) {
  *n = 0;
  *copy = NULL;
  if (!allow || !*allow) return NULL;
  *copy = strdup(allow);
  size_t cap = 1;
  for (const char *s = allow; *s; s++) cap += *s == ':';
  char **paths = calloc(cap, sizeof *paths);
  if (!*copy || !paths) {
    free(paths);
    return NULL;
  }
  char *save = NULL;
  for (char *t = strtok_r(*copy, ":", &save); t; t = strtok_r(NULL, ":", &save)) paths[(*n)++] = t;
  return paths;
}

dn_status dn_policy_bind_externs(const char *policy_name, const dn_program *p,
                                 const char *const *allowed, int nallowed,
                                 dn_policy_externs *out, dn_diags *diags) {
  memset(out, 0, sizeof *out);
  if (p->nexterns == 0) return DN_OK;
  out->libs = dn_ffi_libs_new(allowed, nallowed);
  out->fns = calloc(p->nexterns, sizeof *out->fns);
  if (!out->libs || !out->fns) {
    dn_policy_externs_free(out);
    return DN_ERR_INTERNAL;
  }
  for (uint32_t i = 0; i < p->nexterns; i++) {
    const dn_extern_def *x = &p->externs[i];
    char err[512];
    out->fns[i] = dn_ffi_lookup(out->libs, p->strings[x->library], p->strings[x->name], err, sizeof err);
    if (!out->fns[i]) {
      dn_diag_add_at(diags, DN_E0313, policy_name, 0, "extern fn %s: %s", p->strings[x->name], err);
      dn_policy_externs_free(out);
      return DN_ERR_INPUT;
    }
  }
  return DN_OK;
}

void dn_policy_externs_free(dn_policy_externs *e) {
  dn_ffi_libs_free(e->libs);
  free(e->fns);
  memset(e, 0, sizeof *e);
}

dn_status dn_policy_bind_externs_list(const char *policy_name, const dn_program *p, const char *allow,
                                      dn_policy_externs *out, dn_diags *diags) {
  char *copy;
  int n;
  char **paths = split_paths(allow, &copy, &n);
  if (allow && *allow && !paths) {
    free(copy);
    memset(out, 0, sizeof *out);
    return DN_ERR_INTERNAL;
  }
  dn_status st = dn_policy_bind_externs(policy_name, p, (const char *const *)paths, n, out, diags);
  free(paths);
  free(copy);
  return st;
}
