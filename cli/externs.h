/* externs.h - binding a policy's `extern fn`s to the libraries allowed
 * by --allow-ffi, before anything runs (LANGUAGE.md s.8: a policy that
 * needs a library that is not allowed fails to load). */
#ifndef DN_CLI_EXTERNS_H
#define DN_CLI_EXTERNS_H

#include "lang/program.h"
#include "stdlib/ffi.h"
#include "stdlib/status.h"

typedef struct dn_cli_externs {
  dn_ffi_libs *libs;
  void **fns; /* one per p->externs, for dn_run_options.extern_fns */
} dn_cli_externs;

/* `allow` is --allow-ffi: library paths separated by ':' (or NULL). On
 * failure prints `POLICY: error[E0313]: ...` naming the function and the
 * library and returns DN_ERR_INPUT. */
dn_status dn_cli_externs_load(const char *policy, const dn_program *p, const char *allow,
                              dn_cli_externs *out);
void dn_cli_externs_free(dn_cli_externs *e);

/* What a loaded policy runs with: its extern fns (dn_run_options.
 * extern_fns) and its native library (dn_run_options.native), each NULL
 * when there is none. */
typedef struct dn_cli_bound {
  void *const *extern_fns;
  const struct dn_native *native;
} dn_cli_bound;

/* The start and end of every command that runs one policy: loads it
 * (source, or bytecode verified first; diagnostics printed), binds its
 * extern fns to the libraries `allow` names, loads the native library
 * `native` (--native, or NULL) made for it, calls fn, frees all three.
 * Returns fn's exit status, or the failed load's. */
typedef int (*dn_cli_policy_fn)(void *ctx, const dn_program *p, const dn_cli_bound *b);
int dn_cli_with_policy(const char *path, const char *allow, const char *native, dn_cli_policy_fn fn,
                       void *ctx);

#endif
