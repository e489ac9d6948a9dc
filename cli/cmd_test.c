/* cmd_test.c - `dunlin test [PATH...]` (LANGUAGE.md s.9, docs/testing.md):
 * finds the *_test.dun files, has runtime/testrun.c check and run them,
 * and prints one line per test, each failing expectation with what the
 * run emitted instead, coverage on request, and `N passed, N failed` last.
 * Exit 0 when every test passed, 1 otherwise, 2 usage, 3 internal. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "runtime/testrun.h"

static const char help[] =
    "usage: dunlin test [--quiet] [--format text|json] [--coverage] [--coverage-fail]\n"
    "                   [--allow-ffi LIB[:LIB...]] [PATH...]\n\n"
    "Runs the policy tests of each PATH: a file, or a directory searched recursively\n"
    "for *_test.dun files (default: the current directory). Each test builds a small\n"
    "ledger in memory, runs its policy as of its date and checks its expectations.\n"
    "Prints `ok   NAME` per passing test (not with --quiet), each failing expectation\n"
    "as FILE:LINE with the actions emitted instead, and `N passed, N failed` last.\n"
    "--format json prints one JSON object per test, then {\"passed\":N,\"failed\":N}.\n"
    "--coverage lists, per policy, the segments, escalation steps, `on` events and\n"
    "rules no test reached; --coverage-fail also exits 1 when any was missed.\n"
    "Exit status 0 when all tests pass, 1 when any fails or a test file has an error.\n"
    "See docs/testing.md for the test syntax.\n";

typedef struct opts {
  bool quiet, json, coverage, coverage_fail;
  const char *allow_ffi;
} opts;

typedef struct path_list {
  char **items;
  size_t n, cap;
} path_list;

typedef struct tally {
  long passed, failed;
} tally;

/* ---- finding test files --------------------------------------------------- */

static bool push_path(path_list *l, const char *p) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **g = realloc(l->items, sizeof *g * cap);
    if (!g) return false;
    l->items = g, l->cap = cap;
  }
  return (l->items[l->n++] = strdup(p)) != NULL;
}

static bool is_test_name(const char *name) {
  size_t n = strlen(name), k = strlen("_test.dun");
  return n > k && strcmp(name + n - k, "_test.dun") == 0;
}

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Depth-first, entries sorted, so the order of the output is stable. */
static bool walk(const char *dir, path_list *out, int depth) {
  DIR *d = opendir(dir);
  if (!d) return true; /* unreadable subdirectories are skipped */
  path_list here = {0};
  struct dirent *e;
  bool ok = true;
  while (ok && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue; /* ., .., .git and other hidden ones */
    char path[4096];
    /* `dunlin test` alone names files `policies/x_test.dun`, not `./policies/...` */
    if (strcmp(dir, ".") == 0) snprintf(path, sizeof path, "%s", e->d_name);
    else snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    ok = push_path(&here, path);
  }
  closedir(d);
  if (here.n) qsort(here.items, here.n, sizeof *here.items, str_cmp);
  for (size_t i = 0; i < here.n; i++) {
    struct stat sb;
    const char *slash = strrchr(here.items[i], '/'), *base = slash ? slash + 1 : here.items[i];
    if (ok && stat(here.items[i], &sb) == 0) {
      if (S_ISDIR(sb.st_mode) && depth < 32) ok = walk(here.items[i], out, depth + 1);
      else if (S_ISREG(sb.st_mode) && is_test_name(base)) ok = push_path(out, here.items[i]);
    }
    free(here.items[i]);
  }
  free(here.items);
  return ok;
}

/* A named file is run whatever its name; a directory gives its tests. */
static int collect(const char *const *paths, int n, path_list *out) {
  static const char *const here[] = {"."};
  if (n == 0) paths = here, n = 1;
  for (int i = 0; i < n; i++) {
    struct stat sb;
    if (stat(paths[i], &sb) != 0) {
      fprintf(stderr, "dunlin test: %s: %s\n", paths[i], strerror(errno));
      return 2;
    }
    const char *p = paths[i];
    char trimmed[4096];
    snprintf(trimmed, sizeof trimmed, "%s", p);
    for (size_t k = strlen(trimmed); k > 1 && trimmed[k - 1] == '/'; k--) trimmed[k - 1] = '\0';
    bool ok = S_ISDIR(sb.st_mode) ? walk(trimmed, out, 0) : push_path(out, p);
    if (!ok) return 3;
  }
  return 0;
}

/* ---- text output --------------------------------------------------------- */

static void print_failure_text(const char *file, const dn_test_result *r, const dn_test_failure *x) {
  printf("%s:%d: test \"%s\": expected %s%s%s%s; emitted:%s\n", file, x->line, r->name, x->expected,
         x->found ? " (" : "", x->found ? x->found : "", x->found ? ")" : "", x->nemitted ? "" : " nothing");
  for (int i = 0; i < x->nemitted; i++) printf("    %s\n", x->emitted[i]);
}

static void print_result_text(const opts *o, const char *file, const dn_test_result *r) {
  if (r->diags.count) dn_diags_render_text(&r->diags, stderr, false);
  if (r->passed) {
    if (!o->quiet) printf("ok   %s\n", r->name);
    return;
  }
  printf("FAIL %s\n", r->name);
  for (int i = 0; i < r->nfailures; i++) print_failure_text(file, r, &r->failures[i]);
  if (r->nfailures == 0) printf("%s:%d: test \"%s\": could not run (see the errors above)\n", file, r->line, r->name);
}

/* ---- JSON output ------------------------------------------------------------ */

static void print_json(json_t *o) {
  char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (s) puts(s);
  free(s);
  json_decref(o);
}

static json_t *diag_messages(const dn_diags *d) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < d->count; i++) {
    const dn_diag *g = &d->items[i];
    char buf[800];
    if (g->file && g->line) snprintf(buf, sizeof buf, "%s:%d: %s", g->file, g->line, g->message);
    else if (g->file) snprintf(buf, sizeof buf, "%s: %s", g->file, g->message);
    else snprintf(buf, sizeof buf, "%s", g->message);
    json_array_append_new(a, json_string(buf));
  }
  return a;
}

static void print_result_json(const char *file, const dn_test_result *r) {
  json_t *o = json_object(), *fails = json_array();
  json_object_set_new(o, "file", json_string(file));
  json_object_set_new(o, "test", json_string(r->name));
  json_object_set_new(o, "line", json_integer(r->line));
  json_object_set_new(o, "passed", json_boolean(r->passed));
  for (int i = 0; i < r->nfailures; i++) {
    const dn_test_failure *x = &r->failures[i];
    json_t *f = json_object(), *em = json_array();
    json_object_set_new(f, "line", json_integer(x->line));
    json_object_set_new(f, "expected", json_string(x->expected));
    if (x->found) json_object_set_new(f, "found", json_string(x->found));
    for (int k = 0; k < x->nemitted; k++) json_array_append_new(em, json_string(x->emitted[k]));
    json_object_set_new(f, "emitted", em);
    json_array_append_new(fails, f);
  }
  json_object_set_new(o, "failures", fails);
  json_object_set_new(o, "errors", diag_messages(&r->diags));
  print_json(o);
}

/* A file that did not check: each of its tests (or the file) fails. */
static void report_bad_file(const opts *o, const dn_test_file *f, tally *t) {
  dn_diags_render_text(&f->diags, stderr, false);
  int n = f->ast.ntests > 0 ? f->ast.ntests : 1;
  t->failed += n;
  for (int i = 0; i < n; i++) {
    const char *name = f->ast.ntests > 0 ? f->ast.tests[i].name : f->path;
    int line = f->ast.ntests > 0 ? dn_test_line(f, f->ast.tests[i].span.start) : 0;
    if (!o->json) {
      printf("FAIL %s\n", name);
      continue;
    }
    json_t *j = json_object();
    json_object_set_new(j, "file", json_string(f->path));
    json_object_set_new(j, "test", json_string(name));
    json_object_set_new(j, "line", json_integer(line));
    json_object_set_new(j, "passed", json_false());
    json_object_set_new(j, "failures", json_array());
    json_object_set_new(j, "errors", diag_messages(&f->diags));
    print_json(j);
  }
}

/* ---- coverage ---------------------------------------------------------------- */

static int report_coverage(const opts *o, const dn_test_suite *s, bool *missed_any) {
  int reached = 0, total = 0;
  *missed_any = false;
  for (int i = 0; i < s->npolicies; i++) {
    dn_coverage c;
    if (dn_test_suite_coverage(s, i, &c) != DN_OK) return 3;
    if (!s->policies[i].program) continue;
    reached += c.reached;
    total += c.total;
    *missed_any |= c.nmissed > 0;
    if (o->json) {
      json_t *j = json_object(), *m = json_array();
      json_object_set_new(j, "coverage", json_string(c.policy));
      json_object_set_new(j, "reached", json_integer(c.reached));
      json_object_set_new(j, "total", json_integer(c.total));
      for (int k = 0; k < c.nmissed; k++) json_array_append_new(m, json_string(c.missed[k]));
      json_object_set_new(j, "missed", m);
      print_json(j);
    } else {
      printf("coverage %s: %d of %d reached\n", c.policy, c.reached, c.total);
      for (int k = 0; k < c.nmissed; k++) printf("  missed %s\n", c.missed[k]);
    }
    dn_coverage_free(&c);
  }
  if (!o->json)
    printf("coverage: %d of %d reached in %d polic%s\n", reached, total, s->npolicies,
           s->npolicies == 1 ? "y" : "ies");
  return 0;
}

/* ---- the command ---------------------------------------------------------------- */

static int run_file(const opts *o, dn_test_suite *s, const char *path, tally *t) {
  dn_test_file *f;
  dn_status st = dn_test_file_load(s, path, &f);
  int rc = 0;
  if (st == DN_ERR_INTERNAL || !f) {
    fprintf(stderr, "%s: error: internal error (out of memory)\n", path);
    rc = 3;
  } else if (st != DN_OK) {
    report_bad_file(o, f, t);
  } else if (dn_test_file_run(s, f) != DN_OK) {
    fprintf(stderr, "%s: error: internal error while running the tests\n", path);
    rc = 3;
  } else {
    if (f->ast.ntests == 0) fprintf(stderr, "%s: warning: no tests in this file\n", path);
    for (int i = 0; i < f->nresults; i++) {
      const dn_test_result *r = &f->results[i];
      r->passed ? t->passed++ : t->failed++;
      if (o->json) {
        if (r->diags.count) dn_diags_render_text(&r->diags, stderr, false);
        print_result_json(path, r);
      } else {
        print_result_text(o, path, r);
      }
    }
  }
  dn_test_file_free(f);
  return rc;
}

int dn_cmd_test(int argc, char **argv) {
  opts o = {0};
  const char *format = "text";
  dn_opt defs[] = {{"quiet", NULL, &o.quiet},       {"format", &format, NULL},
                   {"coverage", NULL, &o.coverage}, {"coverage-fail", NULL, &o.coverage_fail},
                   {"allow-ffi", &o.allow_ffi, NULL}};
  const char **pos = calloc((size_t)argc + 1, sizeof *pos);
  int npos = 0;
  bool want_help = false;
  if (!pos) return 3;
  dn_status st = dn_args_parse("test", argc, argv, defs, 5, pos, argc, &npos, &want_help);
  if (st != DN_OK || want_help) {
    if (want_help && st == DN_OK) dn_cli_help(help);
    free(pos);
    return st != DN_OK ? 2 : 0;
  }
  if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
    fprintf(stderr, "dunlin test: --format must be text or json, not '%s'\n", format);
    free(pos);
    return 2;
  }
  o.json = strcmp(format, "json") == 0;
  o.coverage |= o.coverage_fail;
  path_list files = {0};
  int rc = collect(pos, npos, &files);
  free(pos);
  if (rc == 0 && files.n == 0) {
    fprintf(stderr, "dunlin test: no *_test.dun files found\n");
    rc = 1;
  }
  dn_test_suite suite;
  dn_test_suite_init(&suite, o.allow_ffi);
  tally t = {0, 0};
  for (size_t i = 0; i < files.n && rc == 0; i++) rc = run_file(&o, &suite, files.items[i], &t);
  bool missed = false;
  if (rc == 0 && o.coverage) rc = report_coverage(&o, &suite, &missed);
  if (rc == 0 || rc == 1) {
    if (o.json) printf("{\"passed\":%ld,\"failed\":%ld}\n", t.passed, t.failed);
    else printf("%ld passed, %ld failed\n", t.passed, t.failed);
  }
  if (rc == 0 && (t.failed > 0 || (o.coverage_fail && missed))) rc = 1;
  dn_test_suite_free(&suite);
  for (size_t i = 0; i < files.n; i++) free(files.items[i]);
  free(files.items);
  return rc;
}
