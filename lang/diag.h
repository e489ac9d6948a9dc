/* diag.h - diagnostics as values.
 *
 * A diagnostic is a record (severity, code, message, span, hint, secondary
 * note span) appended to a list the caller owns. Spans are byte offsets
 * into the source; line and column are computed only when rendering, the
 * way jq and rustc do it, so tokens and AST nodes stay small. */
#ifndef DN_DIAG_H
#define DN_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum dn_diag_code {
#define DN_DIAG(code, sev, slug, help) DN_##code,
#include "lang/diag_codes.def"
#undef DN_DIAG
  DN_DIAG_COUNT
} dn_diag_code;

#define DN_DIAGS_SHOWN 200

typedef enum dn_severity { DN_SEV_ERROR, DN_SEV_WARNING } dn_severity;

typedef struct dn_span {
  uint32_t start, end; /* byte offsets, end exclusive; end == start is a point */
} dn_span;

typedef struct dn_diag {
  dn_diag_code code;
  dn_severity severity;
  dn_span span;
  char *message;  /* lower case, no trailing period */
  char *hint;     /* NULL or "write the amount with its currency, ..." */
  dn_span note_span;  /* secondary location, valid when note != NULL */
  char *note;
  /* For diagnostics about other files (CSV, ledger, bytecode): rendered
   * as "file:line: error[CODE]: message" when file != NULL. line 0 = none. */
  char *file;
  int line;
} dn_diag;

/* The list of diagnostics for one source file. */
typedef struct dn_diags {
  const char *filename; /* borrowed */
  const char *source;   /* borrowed; may be NULL for non-source diagnostics */
  size_t source_len;
  dn_diag *items;
  size_t count, cap;
  size_t errors, warnings;
  /* Out of memory: some diagnostics were lost (the counts still include
   * them). dn_diag_add then returns &scratch, which belongs to this list
   * alone, so callers may still attach a hint or note without a check. */
  bool failed;
  dn_diag scratch;
  /* Diagnostics past DN_DIAGS_SHOWN are counted here, not kept: a binary
   * file fed as a policy would otherwise yield one error per byte. */
  size_t dropped;
} dn_diags;

void dn_diags_init(dn_diags *d, const char *filename, const char *source, size_t len);
void dn_diags_free(dn_diags *d);
/* Appends a diagnostic with a printf-style message; returns it so the
 * caller can add a hint or note. Never fails visibly: on OOM it keeps the
 * count (so the run still fails), sets `failed` and returns the list's
 * own scratch record (never NULL, never shared between lists). */
dn_diag *dn_diag_add(dn_diags *d, dn_diag_code code, dn_span span, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A diagnostic about another file than the policy (a CSV row, a ledger,
 * a bytecode file): `file:line: error[CODE]: message`, line 0 omitted. */
dn_diag *dn_diag_add_at(dn_diags *d, dn_diag_code code, const char *file, int line,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void dn_diag_hint(dn_diag *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dn_diag_note(dn_diag *g, dn_span span, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

const char *dn_diag_code_name(dn_diag_code code); /* "E0203" */
const char *dn_diag_code_slug(dn_diag_code code);
const char *dn_diag_code_help(dn_diag_code code);
dn_severity dn_diag_code_severity(dn_diag_code code);
/* "E0203" -> code; false when unknown. */
bool dn_diag_code_parse(const char *name, dn_diag_code *out);

/* 1-based line and column (in code points) of a byte offset. */
void dn_source_position(const char *src, size_t len, uint32_t offset, int *line, int *col);

/* Renders every diagnostic as text:
 *   file:17:33: error[E0203]: message
 *      17 | source line
 *         |         ^~~~~~
 *         = hint: ...
 * With werror, warnings print as errors. */
void dn_diags_render_text(const dn_diags *d, FILE *out, bool werror);
/* Writes each diagnostic as one JSON object per line. */
void dn_diags_render_json(const dn_diags *d, FILE *out, bool werror);
/* Sorts by position (stable), so output is in source order. */
void dn_diags_sort(dn_diags *d);

#endif
