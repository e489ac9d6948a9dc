/* template.c - parsing one template, loading a templates directory and
 * checking it against what a policy can emit (see template.h). */
#include "runtime/template.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "lang/check.h"

static const char *const var_names[DN_TV_COUNT] = {
    [DN_TV_CUSTOMER_NAME] = "customer.name",     [DN_TV_CUSTOMER_ID] = "customer.id",
    [DN_TV_COMPANY_NAME] = "company.name",       [DN_TV_INVOICES] = "invoices",
    [DN_TV_INVOICE_NUMBERS] = "invoice_numbers", [DN_TV_INVOICE_COUNT] = "invoice_count",
    [DN_TV_AMOUNT_DUE] = "amount_due",           [DN_TV_TOTAL_OVERDUE] = "total_overdue",
    [DN_TV_TOTAL_OPEN] = "total_open",           [DN_TV_OLDEST_DUE_DATE] = "oldest_due_date",
    [DN_TV_DATE] = "date",                       [DN_TV_PAY_LINK] = "pay_link",
};

const char *dn_tmpl_var_name(dn_tmpl_var v) { return (unsigned)v < DN_TV_COUNT ? var_names[v] : "?"; }

/* ---- one template ------------------------------------------------------- */

typedef struct parts_vec {
  dn_tmpl_part *items;
  int n, cap;
} parts_vec;

static bool push_part(parts_vec *v, const char *text, size_t len, int var) {
  if (var < 0 && len == 0) return true;
  if (v->n == v->cap) {
    int nc = v->cap ? v->cap * 2 : 8;
    dn_tmpl_part *p = realloc(v->items, sizeof *p * (size_t)nc);
    if (!p) return false;
    v->items = p;
    v->cap = nc;
  }
  v->items[v->n++] = (dn_tmpl_part){text, len, var};
  return true;
}

static dn_span span_of(const char *src, const char *from, size_t len) {
  return (dn_span){(uint32_t)(from - src), (uint32_t)(from - src + len)};
}

static int lookup_var(const char *name, size_t len) {
  for (int i = 0; i < DN_TV_COUNT; i++)
    if (strlen(var_names[i]) == len && memcmp(var_names[i], name, len) == 0) return i;
  return -1;
}

static void unknown_var(const char *src, const char *name, size_t len, dn_diags *diags) {
  char buf[128];
  size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
  memcpy(buf, name, n);
  buf[n] = '\0';
  dn_diag *g = dn_diag_add(diags, DN_E0801, span_of(src, name, len), "unknown variable `%s`", buf);
  const char *s = dn_suggest(buf, var_names, DN_TV_COUNT);
  if (s) dn_diag_hint(g, "did you mean `%s`?", s);
  else dn_diag_hint(g, "see docs/templates.md for the variables a template can use");
}

/* One `{{ name }}` tag starting at p (which points at "{{"), ending before
 * eol. Returns the byte after the tag, or NULL when it is not closed on
 * its line (reported). *var is -1 after an error. */
static const char *parse_tag(const char *src, const char *p, const char *eol, int *var, dn_diags *diags) {
  *var = -1;
  const char *close = NULL;
  for (const char *q = p + 2; q + 1 < eol; q++)
    if (q[0] == '}' && q[1] == '}') {
      close = q;
      break;
    }
  if (!close) {
    dn_diag *g = dn_diag_add(diags, DN_E0802, span_of(src, p, 2), "unclosed `{{`: no `}}` on the same line");
    dn_diag_hint(g, "close the tag, e.g. `{{customer.name}}`");
    return NULL;
  }
  const char *a = p + 2, *b = close;
  while (a < b && (*a == ' ' || *a == '\t')) a++;
  while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
  if (a == b) {
    dn_diag_add(diags, DN_E0802, span_of(src, p, (size_t)(close + 2 - p)), "empty tag `{{}}`");
    return close + 2;
  }
  *var = lookup_var(a, (size_t)(b - a));
  if (*var < 0) unknown_var(src, a, (size_t)(b - a), diags);
  return close + 2;
}

/* Splits [p, end) into literal runs and variables. */
static bool parse_parts(const char *src, const char *p, const char *end, parts_vec *v, dn_diags *diags) {
  const char *lit = p;
  while (p + 1 < end) {
    if (!(p[0] == '{' && p[1] == '{')) {
      p++;
      continue;
    }
    if (!push_part(v, lit, (size_t)(p - lit), -1)) return false;
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    int var;
    const char *next = parse_tag(src, p, eol, &var, diags);
    if (var >= 0 && !push_part(v, NULL, 0, var)) return false;
    p = next ? next : eol;
    lit = p;
  }
  return push_part(v, lit, (size_t)(end - lit), -1);
}

static const char *line_end(const char *p, const char *end) {
  const char *e = memchr(p, '\n', (size_t)(end - p));
  return e ? e : end;
}

static bool blank(const char *p, const char *e) {
  for (; p < e; p++)
    if (*p != ' ' && *p != '\t' && *p != '\r') return false;
  return true;
}

dn_status dn_template_parse(const char *src, size_t len, dn_template *t, dn_diags *diags) {
  size_t errors_before = diags->errors;
  const char *p = src, *end = src + len;
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
  parts_vec subj = {0}, body = {0};
  bool ok = true;
  t->has_subject = (size_t)(end - p) >= 8 && memcmp(p, "subject:", 8) == 0;
  if (t->has_subject) {
    const char *eol = line_end(p, end), *a = p + 8, *b = eol;
    while (a < b && (*a == ' ' || *a == '\t')) a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r')) b--;
    ok = parse_parts(src, a, b, &subj, diags);
    p = eol < end ? eol + 1 : end;
    const char *e2 = line_end(p, end);
    if (p < end && !blank(p, e2)) {
      dn_diag *g = dn_diag_add(diags, DN_E0802, span_of(src, p, 0), "expected a blank line after the subject");
      dn_diag_hint(g, "the body starts after one empty line");
    }
    p = e2 < end ? e2 + 1 : end;
  }
  /* Trailing blank lines are the editor's, not the message's. */
  while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t')) end--;
  if (ok) ok = parse_parts(src, p, end, &body, diags);
  t->subject = subj.items;
  t->nsubject = subj.n;
  t->body = body.items;
  t->nbody = body.n;
  if (!ok) return DN_ERR_INTERNAL;
  t->ok = diags->errors == errors_before;
  return t->ok ? DN_OK : DN_ERR_INPUT;
}

void dn_template_clear(dn_template *t) {
  free(t->subject);
  free(t->body);
  t->subject = t->body = NULL;
  t->nsubject = t->nbody = 0;
}

/* ---- a directory -------------------------------------------------------- */

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *join(const char *a, const char *b, const char *c) {
  size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s%s%s", a, b, c);
  return s;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int cmp_tmpl(const void *pa, const void *pb) {
  const dn_template *a = pa, *b = pb;
  int c = strcmp(a->lang, b->lang);
  return c ? c : strcmp(a->name, b->name);
}

static bool push_str(char ***v, int *n, const char *s) {
  char **nv = realloc(*v, sizeof *nv * (size_t)(*n + 1));
  if (!nv) return false;
  *v = nv;
  if (!(nv[*n] = strdup(s))) return false;
  (*n)++;
  return true;
}

/* Names of the entries of dir that satisfy keep, sorted. */
static dn_status list_dir(const char *dir, bool want_dirs, char ***names, int *n, dn_diags *diags) {
  *names = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) {
    dn_diag_add_at(diags, DN_E0505, dir, 0, "cannot open the templates directory: %s", strerror(errno));
    return DN_ERR_INPUT;
  }
  dn_status st = DN_OK;
  struct dirent *e;
  while (st == DN_OK && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    size_t len = strlen(e->d_name);
    char *full = join(dir, "/", e->d_name);
    if (!full) {
      st = DN_ERR_INTERNAL;
      break;
    }
    bool keep = want_dirs ? is_dir(full) : len > 5 && strcmp(e->d_name + len - 5, ".tmpl") == 0 && !is_dir(full);
    free(full);
    if (keep && !push_str(names, n, e->d_name)) st = DN_ERR_INTERNAL;
  }
  closedir(d);
  if (*n > 1) qsort(*names, (size_t)*n, sizeof **names, cmp_str);
  return st;
}

static void free_strs(char **v, int n) {
  for (int i = 0; i < n; i++) free(v[i]);
  free(v);
}

static dn_status read_all(const char *path, char **buf, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return DN_ERR_INPUT;
  size_t cap = 4096, n = 0;
  char *b = malloc(cap + 1);
  while (b) {
    n += fread(b + n, 1, cap - n, f);
    if (n < cap) break;
    char *nb = realloc(b, cap * 2 + 1);
    if (!nb) {
      free(b);
      b = NULL;
      break;
    }
    b = nb;
    cap *= 2;
  }
  bool bad = ferror(f) != 0;
  fclose(f);
  if (!b || bad) {
    free(b);
    return b ? DN_ERR_INPUT : DN_ERR_INTERNAL;
  }
  b[n] = '\0';
  *buf = b;
  *len = n;
  return DN_OK;
}

static dn_status load_one(dn_templates *t, const char *lang, const char *file) {
  dn_template *nv = realloc(t->items, sizeof *nv * (size_t)(t->n + 1));
  if (!nv) return DN_ERR_INTERNAL;
  t->items = nv;
  dn_template *tp = &t->items[t->n];
  memset(tp, 0, sizeof *tp);
  tp->lang = strdup(lang);
  tp->name = strndup(file, strlen(file) - 5);
  tp->path = join(t->dir, "/", lang);
  char *path = tp->path ? join(tp->path, "/", file) : NULL;
  free(tp->path);
  tp->path = path;
  if (!tp->lang || !tp->name || !tp->path) {
    t->n++;
    return DN_ERR_INTERNAL;
  }
  t->n++;
  errno = 0;
  dn_status st = read_all(tp->path, &tp->src, &tp->len);
  int err = errno;
  if (st != DN_OK) {
    dn_diags_init(&tp->diags, tp->path, NULL, 0);
    if (st == DN_ERR_INPUT)
      dn_diag_add_at(&tp->diags, DN_E0505, tp->path, 0, "cannot read: %s", err ? strerror(err) : "read error");
    return st;
  }
  dn_diags_init(&tp->diags, tp->path, tp->src, tp->len);
  if (memchr(tp->src, 0, tp->len)) {
    dn_diag_add(&tp->diags, DN_E0802, (dn_span){0, 0}, "a NUL byte: this is a binary file, not a template");
    return DN_ERR_INPUT;
  }
  return dn_template_parse(tp->src, tp->len, tp, &tp->diags);
}

static dn_status load_lang(dn_templates *t, const char *lang) {
  char *sub = join(t->dir, "/", lang);
  if (!sub) return DN_ERR_INTERNAL;
  char **files;
  int nfiles;
  dn_status st = list_dir(sub, false, &files, &nfiles, &t->diags);
  free(sub);
  for (int i = 0; st != DN_ERR_INTERNAL && i < nfiles; i++) {
    dn_status s = load_one(t, lang, files[i]);
    if (s != DN_OK && st == DN_OK) st = s;
    if (s == DN_ERR_INTERNAL) st = s;
  }
  free_strs(files, nfiles);
  return st;
}

dn_status dn_templates_load(const char *dir, dn_templates **out) {
  dn_templates *t = calloc(1, sizeof *t);
  *out = t;
  if (!t || !(t->dir = strdup(dir))) return DN_ERR_INTERNAL;
  dn_diags_init(&t->diags, t->dir, NULL, 0);
  dn_status st = list_dir(t->dir, true, &t->langs, &t->nlangs, &t->diags);
  for (int i = 0; st != DN_ERR_INTERNAL && i < t->nlangs; i++) {
    dn_status s = load_lang(t, t->langs[i]);
    if (s != DN_OK && st == DN_OK) st = s;
    if (s == DN_ERR_INTERNAL) st = s;
  }
  if (st == DN_OK && t->nlangs == 0) {
    dn_diag *g = dn_diag_add_at(&t->diags, DN_E0803, t->dir, 0, "no language directories (en, de, ...)");
    dn_diag_hint(g, "templates live in DIR/LANG/NAME.tmpl, e.g. %s/en/email-firm.tmpl", t->dir);
    st = DN_ERR_INPUT;
  }
  if (t->n > 1) qsort(t->items, (size_t)t->n, sizeof *t->items, cmp_tmpl);
  return st;
}

void dn_templates_free(dn_templates *t) {
  if (!t) return;
  for (int i = 0; i < t->n; i++) {
    dn_template *tp = &t->items[i];
    dn_template_clear(tp);
    if (tp->path && tp->lang && tp->name) dn_diags_free(&tp->diags);
    free(tp->name);
    free(tp->lang);
    free(tp->path);
    free(tp->src);
  }
  free(t->items);
  free_strs(t->langs, t->nlangs);
  if (t->dir) dn_diags_free(&t->diags);
  free(t->dir);
  free(t);
}

const dn_template *dn_templates_find(const dn_templates *t, const char *lang, const char *name) {
  for (int i = 0; i < t->n; i++)
    if (strcmp(t->items[i].lang, lang) == 0 && strcmp(t->items[i].name, name) == 0) return &t->items[i];
  return NULL;
}

/* "de_AT" and "de-at" name the same language. */
static bool same_tag(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char x = a[i] == '_' ? '-' : a[i], y = b[i] == '_' ? '-' : b[i];
    if (tolower((unsigned char)x) != tolower((unsigned char)y)) return false;
  }
  return true;
}

const char *dn_templates_language(const dn_templates *t, const char *tag) {
  if (t->nlangs == 0) return NULL;
  if (tag && *tag) {
    size_t n = strlen(tag), primary = strcspn(tag, "-_");
    for (int i = 0; i < t->nlangs; i++)
      if (strlen(t->langs[i]) == n && same_tag(t->langs[i], tag, n)) return t->langs[i];
    for (int i = 0; i < t->nlangs; i++)
      if (strlen(t->langs[i]) == primary && same_tag(t->langs[i], tag, primary)) return t->langs[i];
  }
  for (int i = 0; i < t->nlangs; i++)
    if (strcmp(t->langs[i], "en") == 0) return t->langs[i];
  return t->langs[0];
}

/* ---- against a policy ---------------------------------------------------- */

typedef struct need {
  char *name;
  dn_action_kind kind;   /* the first channel that emits it, for messages */
  bool subject;          /* some channel that emits it is email or letter */
} need;

typedef struct needs {
  need *items;
  int n;
} needs;

static bool add_need(needs *v, const char *name, dn_action_kind kind) {
  bool subject = kind == DN_ACT_EMAIL || kind == DN_ACT_LETTER;
  for (int i = 0; i < v->n; i++)
    if (strcmp(v->items[i].name, name) == 0) {
      if (subject && !v->items[i].subject) v->items[i].kind = kind;
      v->items[i].subject |= subject;
      return true;
    }
  need *nv = realloc(v->items, sizeof *nv * (size_t)(v->n + 1));
  if (!nv) return false;
  v->items = nv;
  if (!(nv[v->n].name = strdup(name))) return false;
  nv[v->n].kind = kind;
  nv[v->n++].subject = subject;
  return true;
}

/* Every template name the program can put in an action record. */
static bool collect_needs(const dn_program *p, needs *v) {
  bool channel[DN_ACT_COUNT] = {false};
  for (uint32_t i = 0; i < p->nactions; i++) {
    const dn_action_def *a = &p->actions[i];
    if (!dn_action_is_contact(a->kind)) continue;
    if (a->template_name != DN_NONE) {
      if (!add_need(v, p->strings[a->template_name], a->kind)) return false;
    } else {
      channel[a->kind] = true;
    }
  }
  for (int k = 0; k < DN_ACT_COUNT; k++) {
    if (!channel[k]) continue;
    for (uint32_t i = 0; i < p->ntone_names; i++) {
      char name[160];
      snprintf(name, sizeof name, "%s-%s", dn_action_kind_name((dn_action_kind)k), p->tone_names[i]);
      if (!add_need(v, name, (dn_action_kind)k)) return false;
    }
  }
  return true;
}

static void check_need(dn_templates *t, const need *n) {
  for (int l = 0; l < t->nlangs; l++) {
    const dn_template *tp = dn_templates_find(t, t->langs[l], n->name);
    if (!tp) {
      dn_diag *g = dn_diag_add_at(&t->diags, DN_E0803, t->dir, 0, "template `%s` (for %s) is missing in `%s`",
                                  n->name, dn_action_kind_name(n->kind), t->langs[l]);
      dn_diag_hint(g, "create %s/%s/%s.tmpl", t->dir, t->langs[l], n->name);
    } else if (n->subject && !tp->has_subject && tp->ok) {
      dn_diag *g = dn_diag_add_at(&t->diags, DN_E0804, tp->path, 1, "template `%s` is used for %s but has no subject",
                                  n->name, dn_action_kind_name(n->kind));
      dn_diag_hint(g, "start the file with `subject: ...` and a blank line");
    }
  }
}

dn_status dn_templates_check_program(dn_templates *t, const dn_program *p) {
  size_t before = t->diags.errors;
  bool has_en = false;
  for (int l = 0; l < t->nlangs; l++) has_en |= strcmp(t->langs[l], "en") == 0;
  if (!has_en && t->nlangs > 0) {
    dn_diag *g = dn_diag_add_at(&t->diags, DN_E0803, t->dir, 0, "no `en` directory");
    dn_diag_hint(g, "English is the language of customers whose language has no directory");
  }
  needs v = {0};
  bool ok = collect_needs(p, &v);
  for (int i = 0; ok && i < v.n; i++) check_need(t, &v.items[i]);
  for (int i = 0; i < v.n; i++) free(v.items[i].name);
  free(v.items);
  if (!ok) return DN_ERR_INTERNAL;
  return t->diags.errors > before ? DN_ERR_INPUT : DN_OK;
}

size_t dn_templates_errors(const dn_templates *t) {
  size_t n = t->diags.errors;
  for (int i = 0; i < t->n; i++) n += t->items[i].diags.errors;
  return n;
}

void dn_templates_render_diags(const dn_templates *t, FILE *out, bool json) {
  for (int i = 0; i < t->n; i++) {
    const dn_diags *d = &t->items[i].diags;
    if (d->count == 0 && !d->failed) continue;
    if (json) dn_diags_render_json(d, out, false);
    else dn_diags_render_text(d, out, false);
  }
  if (json) dn_diags_render_json(&t->diags, out, false);
  else dn_diags_render_text(&t->diags, out, false);
}

/* ---- finding the directory ---------------------------------------------- */

bool dn_templates_default_dir(const char *policy_path, char *buf, size_t n) {
  const char *slash = strrchr(policy_path, '/');
  char dir[4096];
  if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - policy_path), policy_path);
  else snprintf(dir, sizeof dir, ".");
  if (slash == policy_path) snprintf(dir, sizeof dir, "/");
  char cand[4200];
  snprintf(cand, sizeof cand, "%s/templates", dir);
  if (is_dir(cand)) {
    snprintf(buf, n, "%s", strcmp(dir, ".") == 0 ? "templates" : cand);
    return true;
  }
  /* The parent: textually, so that messages keep the user's relative
   * paths (policies/x.dun -> templates/...). */
  const char *last = strrchr(dir, '/');
  const char *base = last ? last + 1 : dir;
  if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || !*base)
    snprintf(cand, sizeof cand, "%s/../templates", dir);
  else if (!last)
    snprintf(cand, sizeof cand, "templates");
  else
    snprintf(cand, sizeof cand, "%.*s/templates", (int)(last - dir), dir);
  if (!is_dir(cand)) return false;
  snprintf(buf, n, "%s", cand);
  return true;
}

dn_status dn_templates_load_checked(const char *dir, const dn_program *p, FILE *log, dn_templates **out) {
  dn_status st = dn_templates_load(dir, out);
  if (*out && st != DN_ERR_INTERNAL) st = dn_templates_check_program(*out, p);
  if (*out) dn_templates_render_diags(*out, log, false);
  if (*out && st == DN_OK && dn_templates_errors(*out) > 0) st = DN_ERR_INPUT;
  if (st != DN_OK) {
    dn_templates_free(*out);
    *out = NULL;
  }
  return st;
}
