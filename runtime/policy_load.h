/* policy_load.h - turning a file or a buffer into a runnable policy: a
 * `.dbc` (by its magic or its name) is read and verified, anything else is
 * compiled from source; then the policy's `extern fn`s are bound to the
 * libraries a caller allows (LANGUAGE.md s.8). Shared by the CLI
 * (cli/common.c, cli/externs.c) and libdunlin (runtime/api.c); nothing
 * here prints. */
#ifndef DN_POLICY_LOAD_H
#define DN_POLICY_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "lang/diag.h"
#include "lang/program.h"
#include "stdlib/ffi.h"
#include "stdlib/status.h"

/* Reads a whole file, NUL-terminated. E0505 naming the path on failure. */
dn_status dn_policy_read_file(const char *path, char **buf, size_t *len, dn_diags *diags);

/* True when buf is to be read as bytecode: it starts with the magic, or
 * `name` ends in `.dbc` (a damaged .dbc then gets E0504, not a page of
 * syntax errors about binary text). name may be NULL. */
bool dn_policy_is_bytecode(const char *name, const char *buf, size_t len);

/* True (with an E0103 at the first NUL) when text meant as policy source
 * is binary (a ledger passed by mistake). */
bool dn_policy_binary_source(const char *name, const char *buf, size_t len, dn_diags *diags);

/* Loads a policy held in memory. The caller initialises diags with
 * (name, buf, len) so that source diagnostics can quote the text; they are
 * sorted by position. *out is NULL on failure: DN_ERR_INPUT for a wrong
 * policy, DN_ERR_INTERNAL for out of memory or a parser stack overflow,
 * which may come without any diagnostic (the caller says so). */
dn_status dn_policy_load_buffer(const char *name, const char *buf, size_t len, dn_program **out,
                                dn_diags *diags);

/* The policy's extern fns resolved against `allowed` library paths. On
 * failure an E0313 names the function and the library (attributed to
 * `policy_name`), nothing is kept, and the status is DN_ERR_INPUT. With no
 * extern fns both outputs are NULL. */
typedef struct dn_policy_externs {
  dn_ffi_libs *libs;
  void **fns; /* one per p->externs, for dn_run_options.extern_fns */
} dn_policy_externs;
dn_status dn_policy_bind_externs(const char *policy_name, const dn_program *p,
                                 const char *const *allowed, int nallowed,
                                 dn_policy_externs *out, dn_diags *diags);
/* The same with the CLI's --allow-ffi form: paths separated by ':' (or
 * NULL for none). */
dn_status dn_policy_bind_externs_list(const char *policy_name, const dn_program *p, const char *allow,
                                      dn_policy_externs *out, dn_diags *diags);
void dn_policy_externs_free(dn_policy_externs *e);

#endif
