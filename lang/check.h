/* check.h - the checker: names, scopes, types and money rules
 * (LANGUAGE.md s.4) and the declaration rules of s.3 and s.7.
 *
 * Annotates the AST in place (the fields marked "checker" in ast.h) and
 * appends every error and warning it finds; it never stops at the first. */
#ifndef DN_CHECK_H
#define DN_CHECK_H

#include "lang/ast.h"
#include "lang/diag.h"
#include "stdlib/status.h"

/* DN_OK when no error (warnings allowed), DN_ERR_INPUT otherwise. */
dn_status dn_check(dn_ast *ast, dn_diags *diags);

/* Edit distance "did you mean": the closest of candidates to name (case-
 * insensitive match first), or NULL when nothing is close. */
const char *dn_suggest(const char *name, const char *const *candidates, int n);

#endif
