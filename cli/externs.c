/* externs.c - see externs.h. */
#include "cli/externs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits "a.so:b.so" into a NULL-free array of paths inside a copy. */
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

dn_status dn_cli_externs_load(const char *policy, const dn_program *p, const char *allow,
                              dn_cli_externs *out) {
  memset(out, 0, sizeof *out);
  if (p->nexterns == 0) return DN_OK;
  char *copy;
  int n;
  char **paths = split_paths(allow, &copy, &n);
  out->libs = dn_ffi_libs_new((const char *const *)paths, n);
  out->fns = calloc(p->nexterns, sizeof *out->fns);
  free(paths);
  free(copy);
  if (!out->libs || !out->fns) {
    dn_cli_externs_free(out);
    return DN_ERR_INTERNAL;
  }
  for (uint32_t i = 0; i < p->nexterns; i++) {
    const dn_extern_def *x = &p->externs[i];
    char err[512];
    out->fns[i] = dn_ffi_lookup(out->libs, p->strings[x->library], p->strings[x->name], err, sizeof err);
    if (!out->fns[i]) {
      fprintf(stderr, "%s: error[E0313]: extern fn %s: %s\n", policy, p->strings[x->name], err);
      dn_cli_externs_free(out);
      return DN_ERR_INPUT;
    }
  }
  return DN_OK;
}

void dn_cli_externs_free(dn_cli_externs *e) {
  dn_ffi_libs_free(e->libs);
  free(e->fns);
  memset(e, 0, sizeof *e);
}
