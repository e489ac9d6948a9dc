/* compile.h - checked AST -> dn_program. */
#ifndef DN_COMPILE_H
#define DN_COMPILE_H

#include "lang/ast.h"
#include "lang/program.h"
#include "stdlib/status.h"

/* The AST must have passed dn_check with no error. *out is owned by the
 * caller (dn_program_free). Fails only on out of memory or a limit (more
 * than 65535 constants), reported in diags. */
dn_status dn_compile(const dn_ast *ast, dn_program **out, dn_diags *diags);

/* Parse + check + compile a source file in one call (what the CLI does
 * for a .dun argument). Diagnostics (including warnings) go to diags. */
dn_status dn_compile_source(const char *filename, const char *source, size_t len,
                            dn_program **out, dn_diags *diags);

#endif
