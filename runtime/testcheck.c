/* testcheck.c - loading and checking a `*_test.dun` file (docs/testing.md).
 *
 * Owns the meaning of a test's rows: which ledger table each row kind
 * fills, which fields (LEDGER.md columns and the friendly names of the
 * spec's example) it takes, what its `of` names; and the E06xx checks made
 * before anything runs: the policy file, tones and rules against that
 * policy, customers and invoices against the test's own rows. It also
 * turns a checked test into dn_rows (the ledger then applies the same
 * rules as `ledger import`). */
#include "runtime/testrun.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/check.h"
#include "runtime/ledger.h"
#include "stdlib/money.h"

/* ---- row kinds ---------------------------------------------------------- */

typedef enum parent_kind { P_NONE, P_CUSTOMER, P_INVOICE, P_EITHER } parent_kind;
typedef enum col_type { C_TEXT, C_DATE, C_MONEY, C_NUMBER, C_CODE, C_STATUS } col_type;

typedef struct col_spec {
  const char *name, *alias; /* alias: the friendly name, or NULL */
  col_type type;
} col_spec;

typedef struct row_spec {
  const char *kind, *table;
  bool has_id;
  parent_kind parent;
  bool currency_col; /* the table has its own currency column */
  col_spec cols[14];
} row_spec;

static const row_spec specs[] = {
    {"customer", "customers", true, P_NONE, true,
     {{"name", NULL, C_TEXT}, {"tier", NULL, C_TEXT}, {"country", NULL, C_TEXT},
      {"timezone", NULL, C_TEXT}, {"language", NULL, C_TEXT}, {"email", NULL, C_TEXT},
      {"phone", NULL, C_TEXT}, {"credit_limit", NULL, C_MONEY}, {"credit_limit_minor", NULL, C_NUMBER},
      {"currency", NULL, C_CODE}, {"risk_score", NULL, C_NUMBER}, {"attrs", NULL, C_TEXT}}},
    {"invoice", "invoices", true, P_CUSTOMER, true,
     {{"number", NULL, C_TEXT}, {"issue_date", "issued", C_DATE}, {"due_date", "due", C_DATE},
      {"currency", NULL, C_CODE}, {"amount", NULL, C_MONEY}, {"amount_minor", NULL, C_NUMBER}}},
    {"payment", "payments", true, P_EITHER, true,
     {{"date", NULL, C_DATE}, {"amount", NULL, C_MONEY}, {"amount_minor", NULL, C_NUMBER},
      {"currency", NULL, C_CODE}, {"status", NULL, C_STATUS}}},
    {"credit_note", "credits", true, P_INVOICE, false,
     {{"date", NULL, C_DATE}, {"amount", NULL, C_MONEY}, {"amount_minor", NULL, C_NUMBER},
      {"reason", NULL, C_TEXT}}},
    {"dispute", "disputes", true, P_INVOICE, false,
     {{"opened_on", "opened", C_DATE}, {"resolved_on", "resolved", C_DATE}, {"reason", NULL, C_TEXT},
      {"owner", NULL, C_TEXT}, {"amount", NULL, C_MONEY}, {"amount_minor", NULL, C_NUMBER}}},
    {"promise", "promises", true, P_EITHER, false,
     {{"made_on", "made", C_DATE}, {"promised_date", "promised", C_DATE}, {"amount", NULL, C_MONEY},
      {"amount_minor", NULL, C_NUMBER}}},
    {"fx_rate", "fx_rates", false, P_NONE, false,
     {{"date", NULL, C_DATE}, {"base", NULL, C_CODE}, {"quote", NULL, C_CODE}, {"rate", NULL, C_NUMBER}}},
    {"holiday", "holidays", false, P_NONE, false,
     {{"calendar", NULL, C_TEXT}, {"date", NULL, C_DATE}, {"name", NULL, C_TEXT}}},
};

static const row_spec *spec_of(const char *kind) {
  for (size_t i = 0; i < sizeof specs / sizeof *specs; i++)
    if (strcmp(specs[i].kind, kind) == 0) return &specs[i];
  return NULL;
}

static const col_spec *col_of(const row_spec *s, const char *name) {
  for (int i = 0; i < 14 && s->cols[i].name; i++)
    if (strcmp(s->cols[i].name, name) == 0 || (s->cols[i].alias && strcmp(s->cols[i].alias, name) == 0))
      return &s->cols[i];
  return NULL;
}

/* ---- diagnostics -------------------------------------------------------- */

static dn_diag *terr(dn_test_file *f, dn_diag_code code, dn_span sp, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static dn_diag *terr(dn_test_file *f, dn_diag_code code, dn_span sp, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return dn_diag_add(&f->diags, code, sp, "%s", msg);
}

static void suggest(dn_diag *g, const char *name, const char *const *cands, int n) {
  const char *s = n > 0 ? dn_suggest(name, cands, n) : NULL;
  if (s) dn_diag_hint(g, "did you mean `%s`?", s);
}

int dn_test_line(const dn_test_file *f, uint32_t offset) {
  int line, col;
  dn_source_position(f->source, f->len, offset, &line, &col);
  return line;
}

/* ---- policies ----------------------------------------------------------- */

/* The policy path relative to the test file's directory; a leading
 * "../" climbs out of it when it can, so messages name
 * `tests/x/mini.dun` rather than `tests/x/y/../mini.dun`. */
static char *join_path(const char *test_path, const char *rel) {
  if (rel[0] == '/') return strdup(rel);
  const char *slash = strrchr(test_path, '/');
  size_t dir = slash ? (size_t)(slash - test_path) : 0;
  while (strncmp(rel, "../", 3) == 0 && dir > 0) {
    size_t up = dir;
    while (up > 0 && test_path[up - 1] != '/') up--;
    size_t seg = dir - up;
    if ((seg == 2 && strncmp(test_path + up, "..", 2) == 0) || (seg == 1 && test_path[up] == '.')) break;
    rel += 3;
    dir = up > 0 ? up - 1 : 0;
    if (up == 0) {
      dir = 0;
      slash = NULL;
      break;
    }
  }
  bool has_dir = slash && (dir > 0 || test_path[0] == '/');
  char *out = malloc(dir + strlen(rel) + 2);
  if (!out) return NULL;
  memcpy(out, test_path, dir);
  if (has_dir) out[dir++] = '/';
  strcpy(out + dir, rel);
  return out;
}

static bool alloc_hits(dn_test_policy *tp) {
  const dn_program *p = tp->program;
  tp->seg_hit = calloc(p->nsegments + 1, 1);
  tp->step_hit = calloc(p->nsteps + 1, 1);
  tp->event_hit = calloc(p->nevents + 1, 1);
  tp->rule_hit = calloc(p->nrules + 1, 1);
  return tp->seg_hit && tp->step_hit && tp->event_hit && tp->rule_hit;
}

/* Loads (once per suite) the policy at `path`; its own diagnostics are
 * summed up in one E0601 at the test's `policy` line. -1 on failure. */
static int load_policy(dn_test_suite *s, dn_test_file *f, const char *path, dn_span sp, dn_status *st) {
  char real[PATH_MAX];
  if (!realpath(path, real)) {
    dn_diag *g = terr(f, DN_E0601, sp, "cannot read policy %s: %s", path, strerror(errno));
    dn_diag_hint(g, "the path is relative to the test file");
    return -1;
  }
  for (int i = 0; i < s->npolicies; i++)
    if (strcmp(s->policies[i].real, real) == 0) {
      if (!s->policies[i].program) terr(f, DN_E0601, sp, "policy %s does not load", path);
      return s->policies[i].program ? i : -1;
    }
  if (s->npolicies == s->cap) {
    int cap = s->cap ? s->cap * 2 : 8;
    dn_test_policy *g = realloc(s->policies, sizeof *g * (size_t)cap);
    if (!g) return *st = DN_ERR_INTERNAL, -1;
    s->policies = g, s->cap = cap;
  }
  dn_test_policy *tp = &s->policies[s->npolicies];
  memset(tp, 0, sizeof *tp);
  tp->path = strdup(path);
  tp->real = strdup(real);
  if (!tp->path || !tp->real) return *st = DN_ERR_INTERNAL, -1;
  s->npolicies++;
  dn_diags pd;
  dn_diags_init(&pd, path, NULL, 0);
  size_t len = 0;
  dn_status ls = dn_policy_read_file(path, &tp->source, &len, &pd);
  if (ls == DN_OK) ls = dn_policy_load_buffer(path, tp->source, len, &tp->program, &pd);
  if (ls == DN_OK) ls = dn_policy_bind_externs_list(path, tp->program, s->allow_ffi, &tp->ext, &pd);
  if (ls == DN_OK && !alloc_hits(tp)) ls = *st = DN_ERR_INTERNAL;
  if (ls != DN_OK) {
    const char *first = "it does not compile";
    for (size_t k = pd.count; k > 0; k--)
      if (pd.items[k - 1].severity == DN_SEV_ERROR) first = pd.items[k - 1].message;
    dn_diag *g = terr(f, DN_E0601, sp, "policy %s does not load: %s", path, first);
    dn_diag_hint(g, "run `dunlin check %s` for every diagnostic", path);
    if (tp->program) dn_program_free(tp->program);
    tp->program = NULL;
  }
  dn_diags_free(&pd);
  return tp->program ? s->npolicies - 1 : -1;
}

/* ---- the names a test declares ---------------------------------------- */

typedef struct names {
  const dn_test_item *customers[256], *invoices[256];
  const char *cust_ids[256], *inv_ids[256];
  int ncust, ninv;
} names;

static const dn_test_item *find_id(const dn_test_item *const *items, int n, const char *id) {
  for (int i = 0; i < n; i++)
    if (strcmp(items[i]->id.name, id) == 0) return items[i];
  return NULL;
}

static const dn_test_item *need_name(dn_test_file *f, const names *nm, dn_ident id, bool customer,
                                     bool invoice) {
  const dn_test_item *c = customer ? find_id(nm->customers, nm->ncust, id.name) : NULL;
  const dn_test_item *i = invoice ? find_id(nm->invoices, nm->ninv, id.name) : NULL;
  if (c || i) return c ? c : i;
  const char *what = customer && invoice ? "customer or invoice" : customer ? "customer" : "invoice";
  dn_diag *g = terr(f, DN_E0603, id.span, "unknown %s `%s` in this test", what, id.name);
  const char *cands[512];
  int n = 0;
  for (int k = 0; customer && k < nm->ncust; k++) cands[n++] = nm->cust_ids[k];
  for (int k = 0; invoice && k < nm->ninv; k++) cands[n++] = nm->inv_ids[k];
  const char *s = n > 0 ? dn_suggest(id.name, cands, n) : NULL;
  if (s) dn_diag_hint(g, "did you mean `%s`?", s);
  else dn_diag_hint(g, "declare it in the test, e.g. `%s %s { ... }`", customer ? "customer" : "invoice", id.name);
  return NULL;
}

static void collect_names(dn_test_file *f, const dn_test *t, names *nm) {
  memset(nm, 0, sizeof *nm);
  for (int i = 0; i < t->nitems; i++) {
    const dn_test_item *it = &t->items[i];
    if (it->kind != DN_TI_ROW || !it->id.name) continue;
    bool cust = strcmp(it->row_kind.name, "customer") == 0, inv = strcmp(it->row_kind.name, "invoice") == 0;
    if (!cust && !inv) continue;
    const dn_test_item *const *list = cust ? nm->customers : nm->invoices;
    int n = cust ? nm->ncust : nm->ninv;
    const dn_test_item *prev = find_id(list, n, it->id.name);
    if (prev) {
      dn_diag *g = terr(f, DN_E0606, it->id.span, "%s `%s` is declared twice", it->row_kind.name, it->id.name);
      dn_diag_note(g, prev->id.span, "first declared here");
      continue;
    }
    if (n == 256) {
      terr(f, DN_E0605, it->id.span, "a test may declare at most 256 %ss", it->row_kind.name);
      continue;
    }
    if (cust) nm->customers[nm->ncust] = it, nm->cust_ids[nm->ncust++] = it->id.name;
    else nm->invoices[nm->ninv] = it, nm->inv_ids[nm->ninv++] = it->id.name;
  }
}

/* ---- currencies, where the test says them -------------------------------- */

static const dn_test_field *field(const dn_test_item *it, const char *name) {
  const row_spec *s = spec_of(it->row_kind.name);
  for (int i = 0; i < it->nfields; i++) {
    const col_spec *c = s ? col_of(s, it->fields[i].name.name) : NULL;
    if (c && strcmp(c->name, name) == 0) return &it->fields[i];
  }
  return NULL;
}

static const char *money_or_code(const dn_test_item *it, const char *money_col) {
  const dn_test_field *c = field(it, "currency");
  if (c && c->value.kind == DN_TVAL_NAME) return c->value.text;
  const dn_test_field *m = field(it, money_col);
  return m && m->value.kind == DN_TVAL_MONEY ? m->value.currency : NULL;
}

/* The currency of a declared customer or invoice, when the test says it. */
static const char *currency_of(const names *nm, const dn_test_item *it) {
  if (!it) return NULL;
  if (strcmp(it->row_kind.name, "customer") == 0) return money_or_code(it, "credit_limit");
  const char *c = money_or_code(it, "amount");
  if (c || !it->parent.name) return c;
  return currency_of(nm, find_id(nm->customers, nm->ncust, it->parent.name));
}

/* ---- rows --------------------------------------------------------------- */

static void check_value(dn_test_file *f, const dn_test_field *fd, const col_spec *c) {
  static const char *const type_words[] = {"a string", "a date such as 2026-03-01",
                                           "money such as `1_200 USD`", "a number",
                                           "a currency code such as USD", "settled or failed"};
  dn_tval_kind k = fd->value.kind;
  bool ok = true;
  switch (c->type) {
  case C_TEXT: ok = k == DN_TVAL_STRING || k == DN_TVAL_NAME || k == DN_TVAL_NUMBER || k == DN_TVAL_BOOL; break;
  case C_DATE: ok = k == DN_TVAL_DATE; break;
  case C_MONEY: ok = k == DN_TVAL_MONEY || k == DN_TVAL_NUMBER; break;
  case C_NUMBER: ok = k == DN_TVAL_NUMBER; break;
  case C_CODE: ok = k == DN_TVAL_NAME && dn_currency_lookup(fd->value.text, strlen(fd->value.text)) != DN_CUR_NONE; break;
  case C_STATUS:
    ok = k == DN_TVAL_NAME && (!strcmp(fd->value.text, "settled") || !strcmp(fd->value.text, "failed"));
    break;
  }
  if (ok) return;
  terr(f, DN_E0605, fd->value.span, "`%s` takes %s", fd->name.name, type_words[c->type]);
}

static void check_fields(dn_test_file *f, const dn_test_item *it, const row_spec *s) {
  for (int i = 0; i < it->nfields; i++) {
    const dn_test_field *fd = &it->fields[i];
    const col_spec *c = col_of(s, fd->name.name);
    if (!c) {
      const char *cands[28];
      int n = 0;
      for (int k = 0; k < 14 && s->cols[k].name; k++) {
        cands[n++] = s->cols[k].name;
        if (s->cols[k].alias) cands[n++] = s->cols[k].alias;
      }
      dn_diag *g = terr(f, DN_E0604, fd->name.span, "unknown field `%s` for a %s", fd->name.name, s->kind);
      suggest(g, fd->name.name, cands, n);
      continue;
    }
    for (int j = 0; j < i; j++)
      if (col_of(s, it->fields[j].name.name) == c) {
        dn_diag *g = terr(f, DN_E0606, fd->name.span, "`%s` is given twice", c->name);
        dn_diag_note(g, it->fields[j].name.span, "first given here");
      }
    check_value(f, fd, c);
  }
}

/* Money must be in its invoice's (or customer's) currency, which the
 * ledger would otherwise report less clearly (or, for a decimal, misread). */
static void check_money_currency(dn_test_file *f, const names *nm, const dn_test_item *it, const row_spec *s,
                                 const dn_test_item *parent) {
  const dn_test_field *m = field(it, strcmp(s->kind, "customer") == 0 ? "credit_limit" : "amount");
  if (!m || m->value.kind != DN_TVAL_MONEY) return;
  const dn_test_field *code = field(it, "currency");
  const char *want = code && code->value.kind == DN_TVAL_NAME ? code->value.text : NULL;
  const char *whose = "the row's currency";
  if (!want && !s->currency_col && parent) {
    want = currency_of(nm, parent);
    whose = strcmp(parent->row_kind.name, "invoice") == 0 ? "its invoice's currency" : "its customer's currency";
  }
  if (want && strcmp(want, m->value.currency) != 0)
    terr(f, DN_E0605, m->value.span, "the amount is in %s but %s is %s", m->value.currency, whose, want);
}

static void check_row(dn_test_file *f, const names *nm, const dn_test_item *it) {
  const row_spec *s = spec_of(it->row_kind.name);
  if (s->has_id && !it->id.name) {
    terr(f, DN_E0605, it->row_kind.span, "a %s needs an id, as in `%s X1 %s{ ... }`", s->kind, s->kind,
         s->parent == P_NONE ? "" : "of ID ");
  } else if (!s->has_id && it->id.name) {
    terr(f, DN_E0605, it->id.span, "a %s row has no id", s->kind);
  }
  const dn_test_item *parent = NULL;
  if (s->parent == P_NONE && it->parent.name) {
    terr(f, DN_E0605, it->parent.span, "a %s belongs to nothing: drop `of %s`", s->kind, it->parent.name);
  } else if (s->parent != P_NONE && !it->parent.name) {
    terr(f, DN_E0605, it->row_kind.span, "a %s needs `of %s`", s->kind,
         s->parent == P_CUSTOMER ? "CUSTOMER" : s->parent == P_INVOICE ? "INVOICE" : "INVOICE (or CUSTOMER)");
  } else if (it->parent.name) {
    parent = need_name(f, nm, it->parent, s->parent != P_INVOICE, s->parent != P_CUSTOMER);
  }
  check_fields(f, it, s);
  check_money_currency(f, nm, it, s, parent);
}

/* ---- expectations and history -------------------------------------------- */

static bool policy_has_tone(const dn_program *p, const char *tone) {
  for (uint32_t i = 0; i < p->ntone_names; i++)
    if (strcmp(p->tone_names[i], tone) == 0) return true;
  return false;
}

static void check_tone(dn_test_file *f, const dn_program *p, dn_ident tone) {
  if (!tone.name || policy_has_tone(p, tone.name)) return;
  dn_diag *g = terr(f, DN_E0602, tone.span, "unknown tone `%s` for policy \"%s\"", tone.name, p->name);
  suggest(g, tone.name, (const char *const *)p->tone_names, (int)p->ntone_names);
}

/* The names an action's `rule` can have: escalations, rules, "on EVENT". */
static void check_rule(dn_test_file *f, const dn_program *p, dn_ident rule) {
  if (!rule.name) return;
  const char *cands[256];
  char events[DN_EV_COUNT][40];
  int n = 0;
  for (uint32_t i = 0; i < p->nescalations && n < 200; i++) cands[n++] = p->strings[p->escalations[i].name];
  for (uint32_t i = 0; i < p->nrules && n < 240; i++) cands[n++] = p->strings[p->rules[i].name];
  for (int e = 0; e < DN_EV_COUNT; e++) {
    snprintf(events[e], sizeof events[e], "on %s", dn_event_name((dn_event_kind)e));
    for (uint32_t i = 0; i < p->nevents; i++)
      if (p->events[i].event == (dn_event_kind)e) {
        cands[n++] = events[e];
        break;
      }
  }
  for (int i = 0; i < n; i++)
    if (strcmp(cands[i], rule.name) == 0) return;
  dn_diag *g = terr(f, DN_E0603, rule.span, "policy \"%s\" has no escalation, rule or event `%s`", p->name, rule.name);
  const char *s = dn_suggest(rule.name, cands, n);
  if (s) dn_diag_hint(g, "did you mean `%s`?", s);
  else dn_diag_hint(g, "an event rule is named `\"on payment.failed\"`");
}

static bool status_in(const char *s, const char *const *ok) {
  for (; *ok; ok++)
    if (strcmp(s, *ok) == 0) return true;
  return false;
}

static void check_attrs(dn_test_file *f, const dn_program *p, const names *nm, const dn_test_item *it,
                        dn_date as_of) {
  const dn_test_attrs *a = &it->attrs;
  bool hist = it->kind == DN_TI_HISTORY;
  if (a->to.name) need_name(f, nm, a->to, true, false);
  for (int i = 0; i < a->ninvoices; i++) need_name(f, nm, a->invoices[i], false, true);
  check_tone(f, p, a->tone);
  check_rule(f, p, a->rule);
  static const char *const expect_st[] = {"scheduled", "skipped", "deferred", "any", NULL};
  static const char *const hist_st[] = {"scheduled", "skipped", "deferred", "sent", "cancelled", NULL};
  if (a->status.name && !status_in(a->status.name, hist ? hist_st : expect_st))
    terr(f, DN_E0605, a->status.span, "unknown status `%s`: expected %s", a->status.name,
         hist ? "scheduled, skipped, deferred, sent or cancelled" : "scheduled, skipped, deferred or any");
  if (!hist) {
    if (a->has_on)
      dn_diag_hint(terr(f, DN_E0605, a->on_span, "`on DATE` dates a history line; an expectation is about as_of"),
                   "use `at DATE` for the day an action is scheduled");
    return;
  }
  if (!a->to.name) terr(f, DN_E0605, it->span, "a history line needs `to CUSTOMER`");
  if (!a->has_on) terr(f, DN_E0605, it->span, "a history line needs `on DATE`, the day that run was");
  else if (as_of != DN_DATE_NONE && a->on_date >= as_of)
    terr(f, DN_E0605, a->on_span, "history must be dated before as_of");
}

/* ---- one test ------------------------------------------------------------- */

/* The test's single `policy` and `as_of` (E0606 when given twice). */
static void settings(dn_test_file *f, const dn_test *t, const dn_test_item **pol, const dn_test_item **asof) {
  *pol = *asof = NULL;
  for (int i = 0; i < t->nitems; i++) {
    const dn_test_item *it = &t->items[i];
    const dn_test_item **slot = it->kind == DN_TI_POLICY ? pol : it->kind == DN_TI_AS_OF ? asof : NULL;
    if (!slot) continue;
    if (*slot) {
      dn_diag *g = terr(f, DN_E0606, it->span, "`%s` is given twice in this test",
                        it->kind == DN_TI_POLICY ? "policy" : "as_of");
      dn_diag_note(g, (*slot)->span, "first given here");
    } else {
      *slot = it;
    }
  }
  if (!*pol) dn_diag_hint(terr(f, DN_E0601, t->name_span, "test \"%s\" names no policy", t->name),
                          "add a line `policy \"FILE.dun\"` (relative to the test file)");
  if (!*asof) dn_diag_hint(terr(f, DN_E0601, t->name_span, "test \"%s\" has no as_of date", t->name),
                           "add a line `as_of 2026-03-10`: the day the policy runs");
}

static dn_status check_test(dn_test_suite *s, dn_test_file *f, int ti) {
  const dn_test *t = &f->ast.tests[ti];
  dn_status st = DN_OK;
  f->policy_of[ti] = -1;
  f->as_of[ti] = DN_DATE_NONE;
  for (int j = 0; j < ti; j++)
    if (strcmp(f->ast.tests[j].name, t->name) == 0) {
      dn_diag *g = terr(f, DN_E0606, t->name_span, "two tests are named \"%s\"", t->name);
      dn_diag_note(g, f->ast.tests[j].name_span, "the first one");
      break;
    }
  const dn_test_item *pol, *asof;
  settings(f, t, &pol, &asof);
  if (asof) f->as_of[ti] = asof->date;
  if (pol) {
    char *path = join_path(f->path, pol->path);
    if (!path) return DN_ERR_INTERNAL;
    f->policy_of[ti] = load_policy(s, f, path, pol->path_span, &st);
    free(path);
  }
  names *nm = malloc(sizeof *nm);
  if (!nm) return DN_ERR_INTERNAL;
  collect_names(f, t, nm);
  const dn_program *p = f->policy_of[ti] >= 0 ? s->policies[f->policy_of[ti]].program : NULL;
  for (int i = 0; i < t->nitems; i++) {
    const dn_test_item *it = &t->items[i];
    if (it->kind == DN_TI_ROW) check_row(f, nm, it);
    if ((it->kind == DN_TI_EXPECT || it->kind == DN_TI_HISTORY) && p) check_attrs(f, p, nm, it, f->as_of[ti]);
    for (int d = 0; it->kind == DN_TI_RAN && d < it->ndates; d++)
      if (f->as_of[ti] != DN_DATE_NONE && it->dates[d] >= f->as_of[ti])
        terr(f, DN_E0605, it->date_spans[d], "`ran on` dates must be before as_of");
  }
  free(nm);
  return st;
}

/* ---- the file ------------------------------------------------------------- */

dn_status dn_test_file_load(dn_test_suite *s, const char *path, dn_test_file **out) {
  dn_test_file *f = calloc(1, sizeof *f);
  *out = f;
  if (!f || !(f->path = strdup(path))) return DN_ERR_INTERNAL;
  dn_diags_init(&f->diags, path, NULL, 0);
  dn_status st = dn_policy_read_file(path, &f->source, &f->len, &f->diags);
  if (st != DN_OK) return st;
  dn_diags_init(&f->diags, path, f->source, f->len);
  if (dn_policy_binary_source(path, f->source, f->len, &f->diags)) return DN_ERR_INPUT;
  st = dn_parse(path, f->source, f->len, &f->ast, &f->diags);
  if (st == DN_ERR_INTERNAL) return st;
  if (f->ast.ndecls > 0)
    dn_diag_hint(terr(f, DN_E0601, f->ast.decls[0].span, "a test file holds tests, not policy declarations"),
                 "keep the policy in its own file and name it with `policy \"FILE.dun\"` in each test");
  int n = f->ast.ntests;
  f->policy_of = calloc((size_t)n + 1, sizeof *f->policy_of);
  f->as_of = calloc((size_t)n + 1, sizeof *f->as_of);
  if (!f->policy_of || !f->as_of) return DN_ERR_INTERNAL;
  for (int i = 0; i < n && st != DN_ERR_INTERNAL; i++) {
    dn_status ts = check_test(s, f, i);
    if (ts == DN_ERR_INTERNAL) st = ts;
  }
  dn_diags_sort(&f->diags);
  if (st == DN_ERR_INTERNAL) return st;
  return f->diags.errors > 0 ? DN_ERR_INPUT : DN_OK;
}

void dn_test_file_free(dn_test_file *f) {
  if (!f) return;
  for (int i = 0; i < f->nresults; i++) {
    dn_test_result *r = &f->results[i];
    for (int k = 0; k < r->nfailures; k++) {
      dn_test_failure *x = &r->failures[k];
      free(x->expected);
      free(x->found);
      for (int e = 0; e < x->nemitted; e++) free(x->emitted[e]);
      free(x->emitted);
    }
    free(r->failures);
    dn_diags_free(&r->diags);
  }
  free(f->results);
  dn_ast_free(&f->ast);
  dn_diags_free(&f->diags);
  free(f->policy_of);
  free(f->as_of);
  free(f->source);
  free(f->path);
  free(f);
}

dn_status dn_test_suite_init(dn_test_suite *s, const char *allow_ffi) {
  memset(s, 0, sizeof *s);
  s->allow_ffi = allow_ffi;
  return DN_OK;
}

void dn_test_suite_free(dn_test_suite *s) {
  for (int i = 0; i < s->npolicies; i++) {
    dn_test_policy *tp = &s->policies[i];
    if (tp->program) dn_program_free(tp->program);
    dn_policy_externs_free(&tp->ext);
    free(tp->path);
    free(tp->real);
    free(tp->source);
    free(tp->seg_hit);
    free(tp->step_hit);
    free(tp->event_hit);
    free(tp->rule_hit);
  }
  free(s->policies);
  memset(s, 0, sizeof *s);
}

/* ---- rows for the ledger ------------------------------------------------- */

typedef struct row_builder {
  dn_arena *a;
  const char **names, **values;
  int n;
} row_builder;

static bool put(row_builder *b, const char *name, const char *value) {
  b->names[b->n] = name;
  b->values[b->n] = value;
  b->n++;
  return value != NULL;
}

static const char *value_text(dn_arena *a, const dn_test_value *v) {
  if (v->kind != DN_TVAL_DATE) return v->text;
  char d[11];
  dn_date_format(v->date, d);
  return dn_arena_strdup(a, d);
}

static char *origin(dn_arena *a, const dn_test_file *f, dn_span sp) {
  char buf[4200];
  snprintf(buf, sizeof buf, "%s:%d", f->path, dn_test_line(f, sp.start));
  return dn_arena_strdup(a, buf);
}

/* `amount: 1_000 USD` on a row whose table has no currency column (promise,
 * credit note, dispute): the literal says its currency, so it is stored as
 * minor units of that currency rather than as a decimal the ledger would
 * have to pair with a parent's currency that the test may not state. */
static bool put_minor(row_builder *b, const char *col, const dn_test_value *v) {
  uint16_t cur = dn_currency_lookup(v->currency, strlen(v->currency));
  int64_t minor = 0;
  if (cur == DN_CUR_NONE || !dn_money_parse(v->text, strlen(v->text), cur, &minor))
    return put(b, col, v->text); /* let the ledger report it as it would */
  char name[48], num[32];
  snprintf(name, sizeof name, "%s_minor", col);
  snprintf(num, sizeof num, "%lld", (long long)minor);
  return put(b, dn_arena_strdup(b->a, name), dn_arena_strdup(b->a, num));
}

static bool build_row(const dn_test_file *f, const dn_test *t, const dn_test_item *it, dn_arena *a, dn_row *row) {
  const row_spec *s = spec_of(it->row_kind.name);
  row_builder b = {a, dn_arena_alloc(a, sizeof(char *) * 20), dn_arena_alloc(a, sizeof(char *) * 20), 0};
  if (!b.names || !b.values) return false;
  if (it->id.name) put(&b, "id", it->id.name);
  if (it->parent.name) {
    bool inv = false;
    for (int i = 0; i < t->nitems && s->parent == P_EITHER; i++)
      inv |= t->items[i].kind == DN_TI_ROW && !strcmp(t->items[i].row_kind.name, "invoice") &&
             !strcmp(t->items[i].id.name, it->parent.name);
    put(&b, s->parent == P_INVOICE || inv ? "invoice_id" : "customer_id", it->parent.name);
  }
  bool has_code = false;
  const char *money_code = NULL;
  for (int i = 0; i < it->nfields; i++) {
    const col_spec *c = col_of(s, it->fields[i].name.name);
    has_code |= strcmp(c->name, "currency") == 0;
    const dn_test_value *v = &it->fields[i].value;
    if (v->kind == DN_TVAL_MONEY) money_code = v->currency;
    if (v->kind == DN_TVAL_MONEY && !s->currency_col) {
      if (!put_minor(&b, c->name, v)) return false;
      continue;
    }
    if (!put(&b, c->name, value_text(a, v))) return false;
  }
  /* `amount: 1_200 USD` says the row's currency where the table has one */
  if (s->currency_col && !has_code && money_code) put(&b, "currency", money_code);
  *row = (dn_row){s->table, b.names, b.values, b.n, origin(a, f, it->span)};
  return row->origin != NULL;
}

static const char *join_ids(dn_arena *a, const dn_ident *ids, int n) {
  size_t len = 1;
  for (int i = 0; i < n; i++) len += strlen(ids[i].name) + 1;
  char *s = dn_arena_alloc(a, len);
  if (!s) return NULL;
  for (int i = 0; i < n; i++) {
    if (i) strcat(s, ",");
    strcat(s, ids[i].name);
  }
  return s;
}

static bool build_history(const dn_test_file *f, const dn_test_item *it, dn_arena *a, dn_row *row) {
  const dn_test_attrs *at = &it->attrs;
  row_builder b = {a, dn_arena_alloc(a, sizeof(char *) * 20), dn_arena_alloc(a, sizeof(char *) * 20), 0};
  if (!b.names || !b.values) return false;
  char d[11];
  dn_date_format(at->on_date, d);
  bool ok = put(&b, "as_of", dn_arena_strdup(a, d)) && put(&b, "customer_id", at->to.name) &&
            put(&b, "kind", dn_action_kind_name(at->kind));
  if (ok && at->ninvoices) ok = put(&b, "invoice_ids", join_ids(a, at->invoices, at->ninvoices));
  if (ok && at->tone.name) ok = put(&b, "tone", at->tone.name);
  if (ok && (at->template_name || at->text)) ok = put(&b, "template", at->template_name ? at->template_name : at->text);
  if (ok && at->rule.name) ok = put(&b, "rule", at->rule.name);
  if (ok && at->step) ok = put(&b, "step", at->step);
  if (ok && at->status.name) ok = put(&b, "status", at->status.name);
  if (ok && at->has_at) {
    char sch[40];
    dn_date_format(at->at_date, d);
    if (at->at_minutes >= 0) snprintf(sch, sizeof sch, "%sT%02d:%02d:00Z", d, at->at_minutes / 60, at->at_minutes % 60);
    else snprintf(sch, sizeof sch, "%s", d);
    ok = put(&b, "scheduled_at", dn_arena_strdup(a, sch));
  }
  *row = (dn_row){"actions", b.names, b.values, b.n, origin(a, f, it->span)};
  return ok && row->origin;
}

dn_status dn_test_rows(const dn_test_file *f, int ti, dn_arena *a, dn_row **rows, size_t *n) {
  const dn_test *t = &f->ast.tests[ti];
  *rows = dn_arena_alloc(a, sizeof **rows * (size_t)(t->nitems + 1));
  *n = 0;
  if (!*rows) return DN_ERR_INTERNAL;
  for (int i = 0; i < t->nitems; i++) {
    const dn_test_item *it = &t->items[i];
    bool ok = true;
    if (it->kind == DN_TI_ROW) ok = build_row(f, t, it, a, &(*rows)[(*n)++]);
    else if (it->kind == DN_TI_HISTORY) ok = build_history(f, it, a, &(*rows)[(*n)++]);
    if (!ok) return DN_ERR_INTERNAL;
  }
  return DN_OK;
}
