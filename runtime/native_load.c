/* native_load.c - building a native library with the system C compiler,
 * and loading one for the program it was made from (native.h). */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/native.h"

/* E0509 about `path`: why, with an optional detail after it. */
static dn_status native_error(dn_diags *d, const char *path, const char *why, const char *detail) {
  dn_diag_add_at(d, DN_E0509, path, 0, "%s%s%s", why, detail ? ": " : "", detail ? detail : "");
  return DN_ERR_INPUT;
}

/* $CC split at spaces ("ccache gcc" works), then the fixed arguments.
 * -O2 because the point is speed; -fPIC -shared for dlopen. */
static dn_status run_compiler(const char *c_path, const char *tmp_so, const char *so_path,
                              dn_diags *d) {
  const char *cc = getenv("CC");
  char *words = strdup(cc && *cc ? cc : "cc");
  char *argv[40];
  int n = 0;
  if (!words) return DN_ERR_INTERNAL;
  for (char *w = strtok(words, " "); w && n < 30; w = strtok(NULL, " ")) argv[n++] = w;
  const char *fixed[] = {"-O2", "-std=c11", "-fPIC", "-shared", "-w", "-o", tmp_so, c_path, NULL};
  for (int i = 0; fixed[i]; i++) argv[n++] = (char *)fixed[i];
  argv[n] = NULL;
  pid_t pid = fork();
  if (pid == 0) {
    execvp(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  bool ok = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  dn_status st = DN_OK;
  if (!ok) {
    bool missing = pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 127;
    char why[256];
    snprintf(why, sizeof why,
             missing ? "the C compiler `%s` was not found (set CC, or install gcc)"
                     : "the C compiler `%s` failed on the generated code",
             argv[0]);
    st = native_error(d, so_path, why, NULL);
  }
  free(words);
  return st;
}

dn_status dn_native_build(const dn_program *p, const char *so_path, dn_diags *diags) {
  size_t n = strlen(so_path) + 32;
  char *c_path = malloc(n), *tmp_so = malloc(n);
  if (!c_path || !tmp_so) {
    free(c_path);
    free(tmp_so);
    return DN_ERR_INTERNAL;
  }
  snprintf(c_path, n, "%s.tmp%ld.c", so_path, (long)getpid());
  snprintf(tmp_so, n, "%s.tmp%ld", so_path, (long)getpid());
  FILE *out = fopen(c_path, "w");
  dn_status st = out ? dn_native_emit(p, out, diags) : native_error(diags, c_path, "cannot write", strerror(errno));
  if (out && fclose(out) != 0 && st == DN_OK) st = native_error(diags, c_path, "cannot write", strerror(errno));
  if (st == DN_OK) st = run_compiler(c_path, tmp_so, so_path, diags);
  if (st == DN_OK && rename(tmp_so, so_path) != 0)
    st = native_error(diags, so_path, "cannot write", strerror(errno));
  remove(c_path);
  remove(tmp_so);
  free(c_path);
  free(tmp_so);
  return st;
}

/* dlopen searches the library path for a bare name; a path is meant. */
static void *open_library(const char *path) {
  if (strchr(path, '/')) return dlopen(path, RTLD_NOW | RTLD_LOCAL);
  size_t n = strlen(path) + 3;
  char *rel = malloc(n);
  if (!rel) return NULL;
  snprintf(rel, n, "./%s", path);
  void *h = dlopen(rel, RTLD_NOW | RTLD_LOCAL);
  free(rel);
  return h;
}

/* The library's tables, once it is known to be p's. */
static dn_status check_library(void *h, const char *path, const dn_program *p, dn_native *n,
                               dn_diags *d) {
  const uint64_t *abi = dlsym(h, "dunlin_native_abi");
  const uint64_t *prog = dlsym(h, "dunlin_native_program");
  const uint32_t *nchunks = dlsym(h, "dunlin_native_nchunks");
  n->chunks = dlsym(h, "dunlin_native_chunks");
  n->escalations = dlsym(h, "dunlin_native_escalations");
  if (!abi || !prog || !nchunks || !n->chunks)
    return native_error(d, path, "not a Dunlin native library", NULL);
  /* before the ladders' table: a library of a build without them is
   * another build's, not a stranger */
  if (*abi != dn_native_abi())
    return native_error(d, path, "made by another build of Dunlin; rebuild it with `dunlin compile --native`", NULL);
  if (!n->escalations) return native_error(d, path, "not a Dunlin native library", NULL);
  uint64_t id;
  dn_status st = dn_native_program_id(p, &id, d);
  if (st != DN_OK) return st;
  if (*prog != id || *nchunks != p->nchunks)
    return native_error(d, path, "made from another policy or another version of it; rebuild it with `dunlin compile --native`", NULL);
  return DN_OK;
}

dn_status dn_native_load(const char *so_path, const dn_program *p, dn_native **out, dn_diags *diags) {
  *out = NULL;
  void *h = open_library(so_path);
  if (!h) return native_error(diags, so_path, "cannot load", dlerror());
  dn_native found = {.handle = h, .nchunks = p->nchunks};
  dn_status st = check_library(h, so_path, p, &found, diags);
  dn_native *n = st == DN_OK ? malloc(sizeof *n) : NULL;
  if (!n) {
    dlclose(h);
    return st == DN_OK ? DN_ERR_INTERNAL : st;
  }
  *n = found;
  *out = n;
  return DN_OK;
}

void dn_native_free(dn_native *n) {
  if (!n) return;
  dlclose(n->handle);
  free(n);
}
