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

#endif
