/* template.h - message templates: loading, parsing and checking a
 * templates directory (docs/templates.md).
 *
 * A directory holds one subdirectory per language (`en`, `de`, `de-AT`)
 * and in each one file per template name, `NAME.tmpl`: an optional
 * `subject:` line, a blank line, then the body. `{{variable}}` tags are
 * resolved against a fixed list of variables when the file is loaded, so
 * a typo is an error at check time and never a blank in a customer's
 * inbox. Diagnostics about a template point into that template's own
 * text (file:line:col with a caret); the set keeps each file's text and
 * diagnostics so the caller can print them. */
#ifndef DN_TEMPLATE_H
#define DN_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lang/diag.h"
#include "lang/program.h"
#include "stdlib/status.h"

/* The variables a template may use; names in template.c. */
typedef enum dn_tmpl_var {
  DN_TV_CUSTOMER_NAME, DN_TV_CUSTOMER_ID, DN_TV_COMPANY_NAME,
  DN_TV_INVOICES, DN_TV_INVOICE_NUMBERS, DN_TV_INVOICE_COUNT, DN_TV_AMOUNT_DUE,
  DN_TV_TOTAL_OVERDUE, DN_TV_TOTAL_OPEN, DN_TV_OLDEST_DUE_DATE, DN_TV_DATE,
  DN_TV_PAY_LINK,
  DN_TV_COUNT
} dn_tmpl_var;

const char *dn_tmpl_var_name(dn_tmpl_var v); /* "customer.name" */

/* A run of literal text (var < 0) or one variable. Literal text points
 * into the template's source. */
typedef struct dn_tmpl_part {
  const char *text;
  size_t len;
  int var;
} dn_tmpl_part;

typedef struct dn_template {
  char *name, *lang, *path;   /* owned when part of a set */
  char *src; size_t len;      /* owned when part of a set */
  bool has_subject;
  dn_tmpl_part *subject; int nsubject;
  dn_tmpl_part *body; int nbody;
  bool ok;                    /* parsed without error */
  dn_diags diags;             /* about this file, positions into src */
} dn_template;

/* Parses src (borrowed: the parts point into it) into *t, appending
 * E0801/E0802 diagnostics with spans into src. DN_ERR_INPUT when the
 * template has an error, DN_ERR_INTERNAL when memory runs out. Frees
 * nothing of *t beyond its part arrays: see dn_template_clear. */
dn_status dn_template_parse(const char *src, size_t len, dn_template *t, dn_diags *diags);
void dn_template_clear(dn_template *t);

typedef struct dn_templates {
  char *dir;
  char **langs; int nlangs;   /* subdirectories, sorted */
  dn_template *items; int n;  /* sorted by language then name */
  dn_diags diags;             /* about the set: missing files, unreadable dir */
} dn_templates;

/* Loads every LANG/NAME.tmpl under dir. *out is set whenever it could be
 * allocated, even with errors, so they can be printed; DN_ERR_INPUT when
 * any file or the directory has an error. */
dn_status dn_templates_load(const char *dir, dn_templates **out);
void dn_templates_free(dn_templates *t);

/* Checks that every template the policy can emit exists in every
 * language of the set, with a subject where the channel needs one
 * (E0803, E0804 in t->diags). Generous on purpose: each contact channel
 * the policy uses without an explicit template needs CHANNEL-TONE for
 * every tone of every ladder, whatever the segments' shifts. */
dn_status dn_templates_check_program(dn_templates *t, const dn_program *p);

/* What every command that renders does first (run --render, serve and
 * decide --templates): loads dir, checks it against the policy, prints
 * the diagnostics to `log` as text, and keeps the set only when it has no
 * error, so a missing template or an unknown variable never reaches a
 * customer. *out is NULL on failure. */
dn_status dn_templates_load_checked(const char *dir, const dn_program *p, FILE *log, dn_templates **out);

/* Errors in the set and its files. */
size_t dn_templates_errors(const dn_templates *t);
/* Prints the diagnostics of every file, then the set's, as text or JSON
 * lines (the format of dn_diags_render_*). */
void dn_templates_render_diags(const dn_templates *t, FILE *out, bool json);

/* The template NAME in language LANG (exact directory name), or NULL. */
const dn_template *dn_templates_find(const dn_templates *t, const char *lang, const char *name);
/* The language directory for a customer's language tag: the exact tag
 * (case-insensitive, `_` = `-`), then its primary subtag (`de-AT` ->
 * `de`), then `en`, then the first language; NULL for an empty set. */
const char *dn_templates_language(const dn_templates *t, const char *tag);

/* The templates directory to use for a policy when none is given: a
 * `templates` directory next to the policy file, else in its parent
 * directory. Writes it into buf and returns true when one exists. */
bool dn_templates_default_dir(const char *policy_path, char *buf, size_t n);

#endif
