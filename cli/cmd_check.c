/* cmd_check.c - `dunlin check FILE...`: parse and type-check, print
 * diagnostics as text (stderr) or JSON lines (stdout). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "lang/ast.h"
#include "lang/check.h"
#include "lang/compile.h"
#include "runtime/testrun.h"
#include "runtime/template.h"

static const char help[] =
    "usage: dunlin check [--werror] [--format text|json] [--templates DIR] FILE...\n"
    "       dunlin check --explain CODE\n\n"
    "Parses and type-checks each policy and prints its diagnostics: text with the\n"
    "source line and a caret on stderr, or one JSON object per diagnostic on stdout\n"
    "(--format json, for CI annotations). --werror turns warnings into errors.\n"
    "--explain CODE prints what a diagnostic code means and how to fix it.\n"
    "--templates DIR also checks the message templates every policy can emit (each\n"
    "in every language of DIR, every variable known); without it, a `templates`\n"
    "directory next to the policy file or in its parent is checked when present.\n"
    "A file named *_test.dun is checked as `dunlin test` reads it (its tests, rows,\n"
    "expectations and the policies it names), without running it.\n"
    "Exit status 1 when any file has an error (or a warning under --werror).\n";

static int explain_code(const char *name) {
  dn_diag_code code;
  if (!dn_diag_code_parse(name, &code)) {
    fprintf(stderr, "dunlin check: unknown diagnostic code '%s'\n", name);
    return 2;
  }
  printf("%s (%s, %s)\n\n%s\n", dn_diag_code_name(code), dn_diag_code_slug(code),
         dn_diag_code_severity(code) == DN_SEV_ERROR ? "error" : "warning", dn_diag_code_help(code));
  return 0;
}

/* The templates of a clean policy: an explicit --templates DIR, else the
 * directory found next to the policy; none is fine. False when they have
 * an error (printed). */
static bool check_templates(const char *path, const char *dir, const dn_program *p, bool json) {
  char found[4096];
  if (!dir && dn_templates_default_dir(path, found, sizeof found)) dir = found;
  if (!dir) return true;
  dn_templates *t;
  dn_status st = dn_templates_load(dir, &t);
  if (t && st != DN_ERR_INTERNAL) st = dn_templates_check_program(t, p);
  if (t) dn_templates_render_diags(t, json ? stdout : stderr, json);
  bool ok = t && st == DN_OK && dn_templates_errors(t) == 0;
  if (!t || st == DN_ERR_INTERNAL) fprintf(stderr, "%s: error: out of memory loading templates\n", dir);
  dn_templates_free(t);
  return ok;
}

static bool is_test_file(const char *path) {
  size_t n = strlen(path), k = strlen("_test.dun");
  return n >= k && strcmp(path + n - k, "_test.dun") == 0;
}

/* A `*_test.dun` file is checked as `dunlin test` loads it (its grammar,
 * the policies it names, every row and expectation) without running it:
 * a CI job can lint a whole policy directory with one `check`. */
static bool check_test_file(const char *path, bool werror, bool json, int *status) {
  dn_test_suite suite;
  if (dn_test_suite_init(&suite, NULL) != DN_OK) {
    *status = 3;
    return false;
  }
  dn_test_file *f = NULL;
  dn_status st = dn_test_file_load(&suite, path, &f);
  bool clean = false;
  if (f) {
    dn_diags_sort(&f->diags);
    if (json) dn_diags_render_json(&f->diags, stdout, werror);
    else dn_diags_render_text(&f->diags, stderr, werror);
    clean = st == DN_OK && f->diags.errors == 0 && !(werror && f->diags.warnings > 0);
    if (st != DN_OK && f->diags.errors == 0) dn_cli_silent_failure(path, st);
  } else {
    dn_cli_silent_failure(path, st);
  }
  dn_test_file_free(f);
  dn_test_suite_free(&suite);
  if (!clean && *status == 0) *status = st == DN_ERR_INTERNAL ? 3 : 1;
  return clean;
}

/* Checks one file; returns true when it is clean (under werror rules). */
static bool check_file(const char *path, const char *templates, bool werror, bool json, int *status) {
  if (is_test_file(path)) return check_test_file(path, werror, json, status);
  dn_diags diags;
  dn_diags_init(&diags, path, NULL, 0);
  char *src;
  size_t len;
  if (dn_cli_read_file(path, &src, &len, &diags) != DN_OK) {
    dn_cli_print_diags(&diags);
    dn_diags_free(&diags);
    *status = 1;
    return false;
  }
  dn_diags_init(&diags, path, src, len);
  dn_ast ast;
  memset(&ast, 0, sizeof ast);
  dn_status st = dn_cli_binary_source(path, src, len, &diags) ? DN_ERR_INPUT
                                                             : dn_parse(path, src, len, &ast, &diags);
  if (st == DN_OK) st = dn_check(&ast, &diags);
  /* Compiling too, so that a policy beyond the bytecode's limits (an
   * expression over 64 KiB) fails here and not first at `run`. */
  dn_program *prog = NULL;
  if (st == DN_OK) st = dn_compile(&ast, &prog, &diags);
  dn_diags_sort(&diags);
  if (json) dn_diags_render_json(&diags, stdout, werror);
  else dn_diags_render_text(&diags, stderr, werror);
  bool templates_ok = st != DN_OK || check_templates(path, templates, prog, json);
  dn_program_free(prog);
  /* A failure without a diagnostic must not pass for a clean file. */
  bool silent = st != DN_OK && diags.errors == 0;
  if (silent) dn_cli_silent_failure(path, st);
  bool clean = !silent && templates_ok && diags.errors == 0 && !(werror && diags.warnings > 0);
  if (silent && st == DN_ERR_INTERNAL) *status = 3;
  dn_ast_free(&ast);
  dn_diags_free(&diags);
  free(src);
  if (!clean && *status == 0) *status = 1;
  return clean;
}

int dn_cmd_check(int argc, char **argv) {
  bool werror = false, help_flag = false;
  const char *format = "text", *explain = NULL, *templates = NULL;
  const char *files[256];
  int nfiles;
  dn_opt opts[] = {{"werror", NULL, &werror},
                   {"format", &format, NULL},
                   {"explain", &explain, NULL},
                   {"templates", &templates, NULL}};
  if (dn_args_parse("check", argc, argv, opts, 4, files, 256, &nfiles, &help_flag) != DN_OK) return 2;
  if (help_flag) {
    dn_cli_help(help);
    return 0;
  }
  if (explain) return explain_code(explain);
  bool json = strcmp(format, "json") == 0;
  if (!json && strcmp(format, "text") != 0) {
    fprintf(stderr, "dunlin check: --format must be text or json\n");
    return 2;
  }
  if (nfiles == 0) {
    fprintf(stderr, "dunlin check: no policy files given (see dunlin check --help)\n");
    return 2;
  }
  int status = 0, clean = 0;
  for (int i = 0; i < nfiles; i++) clean += check_file(files[i], templates, werror, json, &status);
  if (!json) fprintf(stderr, "%d of %d file%s checked clean\n", clean, nfiles, nfiles == 1 ? "" : "s");
  return status;
}
