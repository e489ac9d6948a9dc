/* format.h - the canonical layout of policy and policy-test source
 * (`dunlin fmt`, docs/formatting.md).
 *
 * The formatter lays out the lexer's own token stream (lang/tokens.h) and
 * the comments between tokens; it never rewrites a token. Before it hands
 * back any text it scans that text again and proves that the tokens and
 * the comments are exactly those of the input, and parses it, so a
 * formatter bug can make it refuse, never change what a policy means. */
#ifndef DN_FORMAT_H
#define DN_FORMAT_H

#include <stddef.h>

#include "lang/diag.h"
#include "stdlib/status.h"

/* Formats src[0..len) into a malloc'd, NUL-terminated *out of *out_len
 * bytes (free() it).
 *   DN_OK            *out is the canonical text (equal to src when the
 *                    file was already formatted)
 *   DN_ERR_INPUT     a lexical or syntax error: the diagnostics the parser
 *                    reports (as `dunlin check` prints them) are appended
 *                    to diags; nothing is formatted
 *   DN_ERR_INTERNAL  out of memory, or the safety check failed (a bug in
 *                    the formatter); *why says which, nothing is returned
 * `why` may be NULL. */
dn_status dn_format(const char *filename, const char *src, size_t len, char **out,
                    size_t *out_len, dn_diags *diags, const char **why);

/* The safety check dn_format runs on its own output: DN_OK when `out`
 * has exactly the tokens (kinds and spellings) and the comments of `src`,
 * else DN_ERR_INTERNAL with *why saying what differs. */
dn_status dn_format_verify(const char *src, size_t len, const char *out, size_t out_len,
                           const char **why);

#endif
