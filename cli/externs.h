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

/* The start and end of every command that runs one policy: loads it
 * (source, or bytecode verified first; diagnostics printed), binds its
 * extern fns to the libraries `allow` names, calls fn, frees both. Returns
 * fn's exit status, or the failed load's. */
typedef int (*dn_cli_policy_fn)(void *ctx, const dn_program *p, void *const *extern_fns);
int dn_cli_with_policy(const char *path, const char *allow, dn_cli_policy_fn fn, void *ctx);

#endif
