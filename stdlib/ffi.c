/* ffi.c - the allow-list and dlopen/dlsym behind extern functions (see
 * ffi.h). Nothing is opened that the caller did not name. */
#include "stdlib/ffi.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct allowed_lib {
  char *path;   /* resolved with realpath() */
  void *handle; /* opened on first use */
} allowed_lib;

struct dn_ffi_libs {
  allowed_lib *libs;
  int n;
};

dn_ffi_libs *dn_ffi_libs_new(const char *const *allowed, int nallowed) {
  dn_ffi_libs *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  l->libs = calloc((size_t)(nallowed > 0 ? nallowed : 1), sizeof *l->libs);
  if (!l->libs) {
    free(l);
    return NULL;
  }
  for (int i = 0; i < nallowed; i++) {
    char *real = realpath(allowed[i], NULL);
    /* A path that does not exist stays as given: the lookup then reports
     * the failure to open it, naming the path the user wrote. */
    l->libs[l->n++].path = real ? real : strdup(allowed[i]);
  }
  return l;
}

void dn_ffi_libs_free(dn_ffi_libs *l) {
  if (!l) return;
  for (int i = 0; i < l->n; i++) {
    if (l->libs[i].handle) dlclose(l->libs[i].handle);
    free(l->libs[i].path);
  }
  free(l->libs);
  free(l);
}

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

static allowed_lib *find_allowed(dn_ffi_libs *l, const char *library) {
  if (!strchr(library, '/')) {
    for (int i = 0; i < l->n; i++)
      if (strcmp(base_name(l->libs[i].path), library) == 0) return &l->libs[i];
    return NULL;
  }
  char *real = realpath(library, NULL);
  allowed_lib *hit = NULL;
  for (int i = 0; i < l->n && real && !hit; i++)
    if (strcmp(l->libs[i].path, real) == 0) hit = &l->libs[i];
  free(real);
  return hit;
}

void *dn_ffi_lookup(dn_ffi_libs *l, const char *library, const char *symbol, char *err, size_t errlen) {
  allowed_lib *a = l ? find_allowed(l, library) : NULL;
  if (!a) {
    snprintf(err, errlen, "library \"%s\" is not allowed (allow it with --allow-ffi PATH)", library);
    return NULL;
  }
  if (!a->handle) {
    a->handle = dlopen(a->path, RTLD_NOW | RTLD_LOCAL);
    if (!a->handle) {
      const char *why = dlerror();
      snprintf(err, errlen, "cannot load %s: %s", a->path, why ? why : "unknown error");
      return NULL;
    }
  }
  dlerror();
  void *fn = dlsym(a->handle, symbol);
  if (!fn) {
    snprintf(err, errlen, "%s has no function %s", a->path, symbol);
    return NULL;
  }
  return fn;
}
