/* check.c - the checker (LANGUAGE.md s.3, s.4, s.7).
 *
 * Owns everything between "it parses" and "it compiles": the policy header
 * and settings, names (lets, segments, ladders, tones, fields, functions),
 * scopes (customer vs invoice), static types with the int -> number
 * conversion, money literals and currency rules, declaration rules (step
 * order, `otherwise` last, actions, limits) and the warnings. It annotates
 * the AST in place (fields marked "checker" in ast.h) and reports every
 * problem it finds; a node whose type is DN_T_ERROR was already reported,
 * so nothing above it reports again (no cascades).
 *
 * Choices the spec leaves open are documented in docs/diagnostics.md. */
#include "lang/check.h"
#include "stdlib/text.h"
#include "lang/names.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "stdlib/calendar.h"
#include "stdlib/money.h"
#include "stdlib/tz.h"

/* ---- static tables from the .def files --------------------------------- */

typedef struct field_info {
  dn_scope scope;
  const char *name;
  dn_type type;
} field_info;

static const field_info k_fields[DN_F_COUNT] = {
#define DN_FIELD(scope, name, type, doc) {DN_SCOPE_##scope, #name, DN_T_##type},
#include "lang/fields.def"
#undef DN_FIELD
};

typedef struct builtin_info {
  const char *name;
  dn_type ret;
  int nargs;
  dn_type args[2];
} builtin_info;

static const builtin_info k_builtins[DN_B_COUNT] = {
#define DN_BUILTIN(id, name, ret, nargs, a1, a2, doc) {name, DN_T_##ret, nargs, {DN_T_##a1, DN_T_##a2}},
#include "stdlib/builtins.def"
#undef DN_BUILTIN
};

typedef struct arith_info {
  dn_op op;
  dn_type lhs, rhs, result;
} arith_info;

static const arith_info k_arith[] = {
#define DN_ARITH(name, op, lhs, rhs, res) {DN_OP_##op, DN_T_##lhs, DN_T_##rhs, DN_T_##res},
#include "lang/arith.def"
#undef DN_ARITH
};

static const char *const k_op_text[] = {
    [DN_OP_OR] = "or", [DN_OP_AND] = "and", [DN_OP_NOT] = "not", [DN_OP_EQ] = "==",
    [DN_OP_NE] = "!=", [DN_OP_LT] = "<",    [DN_OP_LE] = "<=",   [DN_OP_GT] = ">",
    [DN_OP_GE] = ">=", [DN_OP_ADD] = "+",   [DN_OP_SUB] = "-",   [DN_OP_MUL] = "*",
    [DN_OP_DIV] = "/", [DN_OP_NEG] = "-",
};

static const char *const k_default_tones[] = {"friendly", "neutral", "firm", "final"};

/* ---- checker state ----------------------------------------------------- */

typedef struct ladder {
  const char *name;
  const dn_decl *decl;      /* NULL for the implicit default ladder */
  const char *const *tones; /* gentlest first */
  int ntones;
} ladder;

/* A ladder an action's tone must be on, and the segment that brings it. */
typedef struct ladder_use {
  int ladder;
  const dn_decl *segment; /* NULL when no segment is declared at all */
} ladder_use;

typedef struct ck {
  dn_ast *ast;
  dn_diags *diags;
  const char *src;
  size_t src_len;
  bool oom;
  uint16_t cur;            /* policy currency, DN_CUR_NONE when unknown */
  ladder *ladders;         /* [0] is the default ladder `standard` */
  int nladders;
  dn_decl **segs;          /* segments in file order */
  int nsegs;
  int *seg_ladder;         /* per segment: index into ladders, -1 unknown */
  dn_decl **externs;       /* extern fns in file order (extern_index) */
  int nexterns;
  int let_limit;           /* lets [0, let_limit) are visible */
  int cur_let;             /* the let being checked, or -1 */
  dn_names let_index;      /* let name -> index into ast->lets (first wins) */
  dn_names seg_index;      /* segment name -> index into segs (first wins) */
} ck;

static void *ck_alloc(ck *c, size_t n) {
  void *p = dn_arena_alloc(&c->ast->arena, n ? n : 1);
  if (!p) c->oom = true;
  return p;
}

/* ---- did you mean ------------------------------------------------------ */

const char *dn_suggest(const char *name, const char *const *candidates, int n) {
  if (!name || !candidates) return NULL;
  for (int i = 0; i < n; i++)
    if (candidates[i] && strcasecmp(name, candidates[i]) == 0) return candidates[i];
  int len = (int)strlen(name);
  return dn_closest(name, candidates, (size_t)(n > 0 ? n : 0), len / 3 > 1 ? len / 3 : 1);
}

static const char *hint_suggest(dn_diag *g, const char *name, const char *const *cands, int n) {
  const char *s = dn_suggest(name, cands, n);
  if (s) dn_diag_hint(g, "did you mean `%s`?", s);
  return s;
}

/* A growable list of candidate names, freed by the caller. */
typedef struct names {
  const char **v;
  int n, cap;
} names;

static void names_add(names *l, const char *s) {
  if (!s) return;
  if (l->n == l->cap) {
    int cap = l->cap ? l->cap * 2 : 16;
    const char **v = realloc(l->v, (size_t)cap * sizeof *v);
    if (!v) return;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = s;
}

/* ---- small helpers ----------------------------------------------------- */

static dn_diag *err(ck *c, dn_diag_code code, dn_span span, const char *msg) {
  return dn_diag_add(c->diags, code, span, "%s", msg);
}

static bool streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static dn_span span_len(uint32_t start, size_t len) {
  dn_span s = {start, start + (uint32_t)len};
  return s;
}

/* The source text of a span, for quoting what the user wrote. */
static int span_text(const ck *c, dn_span s, const char **text) {
  if (!c->src || s.end > c->src_len || s.end < s.start) return 0;
  *text = c->src + s.start;
  return (int)(s.end - s.start);
}

static int find_segment(const ck *c, const char *name) { return dn_names_get(&c->seg_index, name); }

static int find_ladder(const ck *c, const char *name) {
  for (int i = 0; i < c->nladders; i++)
    if (streq(c->ladders[i].name, name)) return i;
  return -1;
}

static int tone_rank(const ladder *l, const char *tone) {
  for (int i = 0; i < l->ntones; i++)
    if (streq(l->tones[i], tone)) return i;
  return -1;
}

static const char *policy_code(const ck *c) {
  return c->cur != DN_CUR_NONE ? dn_currency_code(c->cur) : "USD";
}

/* ---- money literals ---------------------------------------------------- */

static int decimals_of(const char *text) {
  const char *dot = strchr(text, '.');
  if (!dot) return 0;
  int n = 0;
  for (const char *p = dot + 1; isdigit((unsigned char)*p); p++) n++;
  return n;
}

static dn_type check_money_literal(ck *c, dn_expr *e) {
  const char *code = e->currency ? e->currency : "";
  const char *text = e->money_text ? e->money_text : "";
  uint16_t cur = dn_currency_lookup(code, strlen(code));
  if (cur == DN_CUR_NONE) {
    size_t n = strlen(code);
    dn_span s = e->span.end >= e->span.start + n ? span_len(e->span.end - (uint32_t)n, n) : e->span;
    dn_diag *g = dn_diag_add(c->diags, DN_E0308, s, "unknown currency `%s`", code);
    if (c->cur != DN_CUR_NONE) {
      const char *cands[] = {dn_currency_code(c->cur)};
      hint_suggest(g, code, cands, 1);
    }
    return DN_T_ERROR;
  }
  int64_t minor = 0;
  if (!dn_money_parse(text, strlen(text), cur, &minor)) {
    int dec = decimals_of(text), allowed = dn_currency_digits(cur);
    const char *w = NULL;
    int wl = span_text(c, e->span, &w);
    if (dec > allowed) {
      dn_diag *g;
      if (wl > 0)
        g = dn_diag_add(c->diags, DN_E0307, e->span, "`%.*s` has %d decimal%s but %s has %d", wl, w,
                        dec, dec == 1 ? "" : "s", code, allowed);
      else
        g = dn_diag_add(c->diags, DN_E0307, e->span, "`%s %s` has %d decimal%s but %s has %d", text,
                        code, dec, dec == 1 ? "" : "s", code, allowed);
      if (allowed == 0)
        dn_diag_hint(g, "%s amounts are written without decimals", code);
      else
        dn_diag_hint(g, "%s amounts are written with at most %d decimal%s", code, allowed,
                     allowed == 1 ? "" : "s");
    } else {
      dn_diag *g = wl > 0 ? dn_diag_add(c->diags, DN_E0105, e->span, "the amount `%.*s` is out of range", wl, w)
                          : dn_diag_add(c->diags, DN_E0105, e->span, "the amount `%s %s` is out of range", text, code);
      dn_diag_hint(g, "amounts must fit in 64 bits as a count of the currency's minor unit");
    }
    return DN_T_ERROR;
  }
  e->money.minor = minor;
  e->money.cur = cur;
  return DN_T_MONEY;
}

/* The currency of an expression made only of literals (DN_CUR_NONE once
 * ledger money is involved: that is in the policy currency, and the VM
 * converts a foreign literal combined with it). */
static uint16_t lit_cur(const ck *c, const dn_expr *e) {
  if (!e || e->type != DN_T_MONEY) return DN_CUR_NONE;
  switch (e->kind) {
  case DN_EX_MONEY: return e->money.cur;
  case DN_EX_UNARY: return lit_cur(c, e->lhs);
  case DN_EX_BINARY:
    if (e->op == DN_OP_ADD || e->op == DN_OP_SUB) {
      uint16_t l = lit_cur(c, e->lhs), r = lit_cur(c, e->rhs);
      return l == r ? l : DN_CUR_NONE;
    }
    return e->lhs && e->lhs->type == DN_T_MONEY ? lit_cur(c, e->lhs) : lit_cur(c, e->rhs);
  case DN_EX_NAME:
    if (e->let_index >= 0 && e->let_index < c->ast->nlets)
      return lit_cur(c, c->ast->decls[c->ast->lets[e->let_index]].expr);
    return DN_CUR_NONE;
  case DN_EX_CALL: {
    uint16_t r = DN_CUR_NONE;
    for (int i = 0; i < e->nitems; i++) {
      uint16_t a = lit_cur(c, e->items[i]);
      if (i > 0 && a != r) return DN_CUR_NONE;
      r = a;
    }
    return e->builtin >= 0 ? r : DN_CUR_NONE;
  }
  default: return DN_CUR_NONE;
  }
}

/* E0209 when two literal amounts in different currencies meet. */
static bool currencies_agree(ck *c, const dn_expr *a, const dn_expr *b, dn_span where) {
  uint16_t x = lit_cur(c, a), y = lit_cur(c, b);
  if (x == DN_CUR_NONE || y == DN_CUR_NONE || x == y) return true;
  dn_diag *g = dn_diag_add(c->diags, DN_E0209, where, "cannot combine an amount in %s with one in %s",
                           dn_currency_code(x), dn_currency_code(y));
  dn_diag_hint(g, "write both amounts in %s, the policy currency", policy_code(c));
  return false;
}

/* ---- expressions ------------------------------------------------------- */

static dn_type check_expr(ck *c, dn_expr *e);

/* From the operator to the end of the right operand, the caret of s.7. */
static dn_span op_span(const ck *c, const dn_expr *e) {
  dn_span s = e->span;
  if (!e->lhs || !e->rhs || !c->src) return s;
  uint32_t p = e->lhs->span.end, stop = e->rhs->span.start;
  while (p < stop && p < c->src_len) {
    char ch = c->src[p];
    if (ch == '#') {
      while (p < stop && c->src[p] != '\n') p++;
    } else if (isspace((unsigned char)ch) || ch == ')') {
      p++;
    } else {
      break;
    }
  }
  if (p < stop) s.start = p;
  if (e->rhs->span.end > s.end) s.end = e->rhs->span.end;
  return s;
}

static bool is_numeric(dn_type t) { return t == DN_T_INT || t == DN_T_NUMBER; }

/* E0203 with the hint of s.7: the number as written plus the currency. */
static void money_vs_number(ck *c, const dn_expr *e, const dn_expr *num, const char *what) {
  dn_diag *g = dn_diag_add(c->diags, DN_E0203, op_span(c, e), "%s", what);
  const char *w = NULL;
  int wl = (num->kind == DN_EX_INT || num->kind == DN_EX_NUMBER) ? span_text(c, num->span, &w) : 0;
  if (wl > 0)
    dn_diag_hint(g, "write the amount with its currency, e.g. `%.*s %s`", wl, w, policy_code(c));
  else
    dn_diag_hint(g, "write the amount with its currency, e.g. `5000 %s`", policy_code(c));
}

/* A typo's suggested segment is what the user meant: no W0102 on top. */
static void mark_meant_segment(ck *c, const char *name) {
  int k = name ? find_segment(c, name) : -1;
  if (k >= 0) c->segs[k]->used = true;
}

/* `customer.segment == "name"` counts as a use of the segment; a name that
 * is no segment is a typo that would silently never match. */
static void segment_literal(ck *c, const dn_expr *field, const dn_expr *lit) {
  if (!field || !lit || field->kind != DN_EX_FIELD || field->type != DN_T_STRING ||
      field->field != DN_F_CUSTOMER_segment || lit->kind != DN_EX_STRING)
    return;
  int k = find_segment(c, lit->str);
  if (k >= 0) {
    c->segs[k]->used = true;
    return;
  }
  dn_diag *g = dn_diag_add(c->diags, DN_E0301, lit->span, "unknown segment `%s`", lit->str);
  names l = {0};
  for (int i = 0; i < c->nsegs; i++) names_add(&l, c->segs[i]->name.name);
  mark_meant_segment(c, hint_suggest(g, lit->str, l.v, l.n));
  free(l.v);
}

/* A hint that repeats the user's own literal in the form that fits. */
static void compare_hint(const ck *c, dn_diag *g, const dn_expr *e, dn_type l, dn_type r) {
  const dn_expr *lit = NULL;
  const char *w = NULL;
  int wl = 0;
  if ((l == DN_T_DURATION && r == DN_T_INT) || (l == DN_T_INT && r == DN_T_DURATION)) {
    lit = l == DN_T_INT ? e->lhs : e->rhs;
    if (lit->kind == DN_EX_INT && (wl = span_text(c, lit->span, &w)) > 0) {
      dn_diag_hint(g, "write the number of days as a duration, e.g. `%.*s days`", wl, w);
      return;
    }
    lit = l == DN_T_DURATION ? e->lhs : e->rhs;
    if (lit->kind == DN_EX_DURATION && !lit->duration.business) {
      dn_diag_hint(g, "the other side counts days as an int; write `%d`", lit->duration.days);
      return;
    }
    dn_diag_hint(g, "compare an int with an int (`30`) or a duration with a duration (`30 days`)");
  } else if ((l == DN_T_TONE && r == DN_T_STRING) || (l == DN_T_STRING && r == DN_T_TONE)) {
    lit = l == DN_T_STRING ? e->lhs : e->rhs;
    if (lit->kind == DN_EX_STRING && lit->str) dn_diag_hint(g, "tones are written without quotes: `%s`", lit->str);
  }
}

static int dur_business(const ck *c, const dn_expr *e);

static dn_type check_compare(ck *c, dn_expr *e) {
  dn_type l = e->lhs->type, r = e->rhs->type;
  if (l == DN_T_ERROR || r == DN_T_ERROR) return DN_T_ERROR;
  if (l == DN_T_MONEY && is_numeric(r)) {
    money_vs_number(c, e, e->rhs, "cannot compare money with number");
    return DN_T_ERROR;
  }
  if (r == DN_T_MONEY && is_numeric(l)) {
    money_vs_number(c, e, e->lhs, "cannot compare number with money");
    return DN_T_ERROR;
  }
  if (l == DN_T_INT && r == DN_T_NUMBER) {
    e->lhs->convert_to_number = true;
    l = DN_T_NUMBER;
  } else if (l == DN_T_NUMBER && r == DN_T_INT) {
    e->rhs->convert_to_number = true;
    r = DN_T_NUMBER;
  }
  if (l != r) {
    dn_diag *g = dn_diag_add(c->diags, DN_E0204, op_span(c, e), "cannot compare %s with %s",
                             dn_type_name(l), dn_type_name(r));
    compare_hint(c, g, e, l, r);
    return DN_T_ERROR;
  }
  bool ordering = e->op != DN_OP_EQ && e->op != DN_OP_NE;
  if (ordering && (l == DN_T_STRING || l == DN_T_BOOL)) {
    dn_diag_add(c->diags, DN_E0204, op_span(c, e), "%s values can only be compared with == and !=",
                dn_type_name(l));
    return DN_T_ERROR;
  }
  if (l == DN_T_MONEY && !currencies_agree(c, e->lhs, e->rhs, op_span(c, e))) return DN_T_ERROR;
  if (l == DN_T_DURATION) {
    /* `today() - d > 3 business days` would compare 3 calendar days: the
     * VM compares day counts, so the two kinds must not meet. */
    int bl = dur_business(c, e->lhs), br = dur_business(c, e->rhs);
    if (bl >= 0 && br >= 0 && bl != br) {
      dn_diag *g = dn_diag_add(c->diags, DN_E0204, op_span(c, e), "cannot compare business days with calendar days");
      dn_diag_hint(g, "a date minus a date counts calendar days; for business days compare "
                      "`business_days_between(d1, d2)` with a number");
      return DN_T_ERROR;
    }
  }
  segment_literal(c, e->lhs, e->rhs);
  segment_literal(c, e->rhs, e->lhs);
  return DN_T_BOOL;
}

static int find_arith(dn_op op, dn_type l, dn_type r) {
  for (size_t i = 0; i < sizeof k_arith / sizeof k_arith[0]; i++)
    if (k_arith[i].op == op && k_arith[i].lhs == l && k_arith[i].rhs == r) return (int)i;
  return -1;
}

/* Whether a duration counts business days: 1 yes, 0 calendar, -1 not
 * known before run time. The VM refuses to add the two kinds; where both
 * are known here the mistake is reported now instead of once per customer. */
static int dur_business(const ck *c, const dn_expr *e) {
  if (!e || e->type != DN_T_DURATION) return -1;
  switch (e->kind) {
  case DN_EX_DURATION: return e->duration.business ? 1 : 0;
  case DN_EX_UNARY: return dur_business(c, e->lhs);
  case DN_EX_BINARY:
    if (e->op == DN_OP_SUB && e->lhs && e->lhs->type == DN_T_DATE) return 0; /* date - date */
    if (e->op == DN_OP_MUL) return dur_business(c, e->lhs);
    if (e->op == DN_OP_ADD || e->op == DN_OP_SUB) {
      int l = dur_business(c, e->lhs);
      return l >= 0 ? l : dur_business(c, e->rhs);
    }
    return -1;
  case DN_EX_NAME:
    if (e->let_index >= 0 && e->let_index < c->ast->nlets)
      return dur_business(c, c->ast->decls[c->ast->lets[e->let_index]].expr);
    return -1;
  default: return -1;
  }
}

static dn_type check_arith(ck *c, dn_expr *e) {
  dn_type l = e->lhs->type, r = e->rhs->type;
  if (l == DN_T_ERROR || r == DN_T_ERROR) return DN_T_ERROR;
  if ((e->op == DN_OP_ADD || e->op == DN_OP_SUB) &&
      ((l == DN_T_MONEY && is_numeric(r)) || (r == DN_T_MONEY && is_numeric(l)))) {
    char msg[64];
    const char *lt = l == DN_T_MONEY ? "money" : "number", *rt = r == DN_T_MONEY ? "money" : "number";
    if (e->op == DN_OP_ADD) snprintf(msg, sizeof msg, "cannot add %s and %s", lt, rt);
    else snprintf(msg, sizeof msg, "cannot subtract %s from %s", rt, lt);
    money_vs_number(c, e, l == DN_T_MONEY ? e->rhs : e->lhs, msg);
    return DN_T_ERROR;
  }
  int v = find_arith(e->op, l, r);
  bool cl = false, cr = false;
  if (v < 0 && l == DN_T_INT && (v = find_arith(e->op, DN_T_NUMBER, r)) >= 0) cl = true;
  if (v < 0 && r == DN_T_INT && (v = find_arith(e->op, l, DN_T_NUMBER)) >= 0) cr = true;
  if (v < 0 && l == DN_T_INT && r == DN_T_INT &&
      (v = find_arith(e->op, DN_T_NUMBER, DN_T_NUMBER)) >= 0)
    cl = cr = true;
  if (v < 0) {
    dn_diag *g = dn_diag_add(c->diags, DN_E0204, op_span(c, e), "cannot apply `%s` to %s and %s",
                             k_op_text[e->op], dn_type_name(l), dn_type_name(r));
    if ((l == DN_T_DATE && r == DN_T_INT) || (l == DN_T_INT && r == DN_T_DATE))
      dn_diag_hint(g, "add a duration to a date, e.g. `invoice.due_date + 7 days`");
    else if (l == DN_T_MONEY && r == DN_T_MONEY)
      dn_diag_hint(g, "money can be multiplied by a number; money / money gives a ratio");
    return DN_T_ERROR;
  }
  if (l == DN_T_DURATION && r == DN_T_DURATION) {
    int bl = dur_business(c, e->lhs), br = dur_business(c, e->rhs);
    if (bl >= 0 && br >= 0 && bl != br) {
      dn_diag *g = dn_diag_add(c->diags, DN_E0204, op_span(c, e), "cannot mix business days and calendar days");
      dn_diag_hint(g, "write both durations in business days or both in calendar days");
      return DN_T_ERROR;
    }
  }
  e->lhs->convert_to_number |= cl;
  e->rhs->convert_to_number |= cr;
  if (l == DN_T_MONEY && r == DN_T_MONEY && !currencies_agree(c, e->lhs, e->rhs, op_span(c, e)))
    return DN_T_ERROR;
  return k_arith[v].result;
}

static dn_type check_logic(ck *c, dn_expr *e, dn_expr *operand) {
  if (!operand || operand->type == DN_T_ERROR) return DN_T_ERROR;
  if (operand->type == DN_T_BOOL) return DN_T_BOOL;
  dn_diag_add(c->diags, DN_E0207, operand->span, "operand of `%s` must be bool, found %s",
              k_op_text[e->op], dn_type_name(operand->type));
  return DN_T_ERROR;
}

static dn_type check_unary(ck *c, dn_expr *e) {
  dn_type t = check_expr(c, e->lhs);
  if (e->op == DN_OP_NOT) return check_logic(c, e, e->lhs);
  if (t == DN_T_ERROR) return t;
  if (t == DN_T_INT || t == DN_T_NUMBER || t == DN_T_MONEY || t == DN_T_DURATION) return t;
  dn_diag_add(c->diags, DN_E0204, e->span, "cannot negate %s", dn_type_name(t));
  return DN_T_ERROR;
}

static dn_type check_binary(ck *c, dn_expr *e) {
  check_expr(c, e->lhs);
  check_expr(c, e->rhs);
  if (!e->lhs || !e->rhs) return DN_T_ERROR;
  switch (e->op) {
  case DN_OP_AND:
  case DN_OP_OR: {
    dn_type a = check_logic(c, e, e->lhs), b = check_logic(c, e, e->rhs);
    return a == DN_T_BOOL && b == DN_T_BOOL ? DN_T_BOOL : DN_T_ERROR;
  }
  case DN_OP_EQ: case DN_OP_NE: case DN_OP_LT: case DN_OP_LE: case DN_OP_GT: case DN_OP_GE:
    return check_compare(c, e);
  default: return check_arith(c, e);
  }
}

static dn_type check_in(ck *c, dn_expr *e) {
  dn_type t = check_expr(c, e->lhs);
  bool any_number = t == DN_T_NUMBER, bad = t == DN_T_ERROR;
  for (int i = 0; i < e->nitems; i++) {
    dn_type it = check_expr(c, e->items[i]);
    if (it == DN_T_ERROR || t == DN_T_ERROR) {
      bad = true;
      continue;
    }
    if (it == DN_T_NUMBER) any_number = true;
    if (it == t || (is_numeric(it) && is_numeric(t))) {
      if (t == DN_T_MONEY && !currencies_agree(c, e->lhs, e->items[i], e->items[i]->span)) bad = true;
      continue;
    }
    bad = true;
    if (t == DN_T_MONEY && is_numeric(it)) {
      money_vs_number(c, e->items[i], e->items[i], "cannot compare money with number");
    } else {
      dn_diag_add(c->diags, DN_E0204, e->items[i]->span, "list item is %s but the value tested is %s",
                  dn_type_name(it), dn_type_name(t));
    }
  }
  if (bad) return DN_T_ERROR;
  if (any_number) {
    if (e->lhs->type == DN_T_INT) e->lhs->convert_to_number = true;
    for (int i = 0; i < e->nitems; i++)
      if (e->items[i]->type == DN_T_INT) e->items[i]->convert_to_number = true;
  }
  for (int i = 0; i < e->nitems; i++) segment_literal(c, e->lhs, e->items[i]);
  return DN_T_BOOL;
}

/* ---- calls ------------------------------------------------------------- */

static bool arg_fits(dn_type want, dn_type have, bool convert) {
  return want == have || (convert && want == DN_T_NUMBER && have == DN_T_INT);
}

static void describe_args(char *buf, size_t cap, dn_expr **args, int n) {
  size_t used = (size_t)snprintf(buf, cap, "(");
  for (int i = 0; i < n && used < cap; i++)
    used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", dn_type_name(args[i]->type));
  if (used < cap) snprintf(buf + used, cap - used, ")");
}

static void describe_params(char *buf, size_t cap, const dn_type *p, int n) {
  size_t used = (size_t)snprintf(buf, cap, "(");
  for (int i = 0; i < n && used < cap; i++)
    used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", dn_type_name(p[i]));
  if (used < cap) snprintf(buf + used, cap - used, ")");
}

static int pick_builtin(dn_expr *e, bool convert) {
  for (int b = 0; b < DN_B_COUNT; b++) {
    const builtin_info *bi = &k_builtins[b];
    if (!streq(bi->name, e->str) || bi->nargs != e->nitems) continue;
    bool ok = true;
    for (int i = 0; i < e->nitems && ok; i++) ok = arg_fits(bi->args[i], e->items[i]->type, convert);
    if (ok) return b;
  }
  return -1;
}

static void bad_builtin_args(ck *c, dn_expr *e) {
  char have[128], want[512];
  describe_args(have, sizeof have, e->items, e->nitems);
  size_t used = 0;
  int count = 0;
  want[0] = '\0';
  for (int b = 0; b < DN_B_COUNT; b++) {
    if (!streq(k_builtins[b].name, e->str) || used >= sizeof want) continue;
    char one[96];
    describe_params(one, sizeof one, k_builtins[b].args, k_builtins[b].nargs);
    used += (size_t)snprintf(want + used, sizeof want - used, "%s%s", count++ ? ", " : "", one);
  }
  dn_diag *g = dn_diag_add(c->diags, DN_E0205, e->span, "`%s` cannot be called with %s", e->str, have);
  dn_diag_hint(g, "`%s` takes %s", e->str, want);
}

static dn_type check_builtin_call(ck *c, dn_expr *e) {
  int b = pick_builtin(e, false);
  if (b < 0) b = pick_builtin(e, true);
  if (b < 0) {
    bad_builtin_args(c, e);
    return DN_T_ERROR;
  }
  e->builtin = b;
  for (int i = 0; i < e->nitems; i++)
    if (k_builtins[b].args[i] == DN_T_NUMBER && e->items[i]->type == DN_T_INT)
      e->items[i]->convert_to_number = true;
  if (e->nitems == 2 && e->items[0]->type == DN_T_MONEY &&
      !currencies_agree(c, e->items[0], e->items[1], e->span))
    return DN_T_ERROR;
  return k_builtins[b].ret;
}

static dn_type check_extern_call(ck *c, dn_expr *e, int x) {
  const dn_decl *d = c->externs[x];
  e->builtin = -1;
  e->extern_index = x;
  bool ok = d->nparams == e->nitems;
  for (int i = 0; i < e->nitems && ok; i++) ok = arg_fits(d->param_types[i], e->items[i]->type, true);
  if (!ok) {
    char have[128], want[128];
    describe_args(have, sizeof have, e->items, e->nitems);
    describe_params(want, sizeof want, d->param_types, d->nparams);
    dn_diag *g = dn_diag_add(c->diags, DN_E0205, e->span, "`%s` cannot be called with %s", e->str, have);
    dn_diag_hint(g, "`%s` takes %s", e->str, want);
    dn_diag_note(g, d->name.span, "declared here");
    return DN_T_ERROR;
  }
  for (int i = 0; i < e->nitems; i++)
    if (d->param_types[i] == DN_T_NUMBER && e->items[i]->type == DN_T_INT)
      e->items[i]->convert_to_number = true;
  return d->ret_type;
}

static dn_type check_call(ck *c, dn_expr *e) {
  bool arg_error = false;
  e->builtin = -1;
  e->extern_index = -1;
  for (int i = 0; i < e->nitems; i++)
    if (check_expr(c, e->items[i]) == DN_T_ERROR) arg_error = true;
  for (int x = 0; x < c->nexterns; x++)
    if (streq(c->externs[x]->name.name, e->str))
      return arg_error ? DN_T_ERROR : check_extern_call(c, e, x);
  for (int b = 0; b < DN_B_COUNT; b++)
    if (streq(k_builtins[b].name, e->str)) return arg_error ? DN_T_ERROR : check_builtin_call(c, e);
  dn_diag *g = dn_diag_add(c->diags, DN_E0206, span_len(e->span.start, strlen(e->str ? e->str : "")),
                           "unknown function `%s`", e->str ? e->str : "");
  names l = {0};
  for (int b = 0; b < DN_B_COUNT; b++)
    if (b == 0 || !streq(k_builtins[b].name, k_builtins[b - 1].name)) names_add(&l, k_builtins[b].name);
  for (int x = 0; x < c->nexterns; x++) names_add(&l, c->externs[x]->name.name);
  hint_suggest(g, e->str, l.v, l.n);
  free(l.v);
  return DN_T_ERROR;
}

/* ---- names and fields -------------------------------------------------- */

static int let_by_name(const ck *c, const char *name) { return dn_names_get(&c->let_index, name); }

/* Does the expression reach let `target` through let references? */
static bool reaches_let(const ck *c, const dn_expr *e, int target, bool *seen) {
  if (!e) return false;
  if (e->kind == DN_EX_NAME) {
    int k = let_by_name(c, e->str);
    if (k < 0) return false;
    if (k == target) return true;
    if (seen[k]) return false;
    seen[k] = true;
    return reaches_let(c, c->ast->decls[c->ast->lets[k]].expr, target, seen);
  }
  if (reaches_let(c, e->lhs, target, seen) || reaches_let(c, e->rhs, target, seen)) return true;
  for (int i = 0; i < e->nitems; i++)
    if (reaches_let(c, e->items[i], target, seen)) return true;
  return false;
}

static bool is_cycle(ck *c, int from, int to) {
  if (from == to) return true;
  bool *seen = calloc((size_t)c->ast->nlets + 1, sizeof *seen);
  if (!seen) {
    c->oom = true;
    return false;
  }
  bool r = reaches_let(c, c->ast->decls[c->ast->lets[to]].expr, from, seen);
  free(seen);
  return r;
}

static dn_type let_reference(ck *c, dn_expr *e, int k) {
  dn_decl *d = &c->ast->decls[c->ast->lets[k]];
  if (k < c->let_limit) {
    d->used = true;
    e->let_index = k;
    e->scope = d->let_scope;
    return d->expr ? d->expr->type : DN_T_ERROR;
  }
  dn_diag *g;
  if (c->cur_let >= 0 && is_cycle(c, c->cur_let, k)) {
    g = k == c->cur_let ? dn_diag_add(c->diags, DN_E0211, e->span, "let `%s` refers to itself", e->str)
                        : dn_diag_add(c->diags, DN_E0211, e->span, "let `%s` depends on itself through `%s`",
                                      c->ast->decls[c->ast->lets[c->cur_let]].name.name, e->str);
  } else {
    g = dn_diag_add(c->diags, DN_E0202, e->span, "`%s` is used before it is declared", e->str);
    dn_diag_hint(g, "move `let %s` above its first use", e->str);
  }
  dn_diag_note(g, d->name.span, "`%s` is declared here", e->str);
  d->used = true; /* reported; W0104 would be noise */
  return DN_T_ERROR;
}

static dn_type check_name(ck *c, dn_expr *e) {
  e->let_index = -1;
  e->tone_rank = -1;
  int k = let_by_name(c, e->str);
  if (k >= 0) return let_reference(c, e, k);
  for (int l = 0; l < c->nladders; l++) {
    int r = tone_rank(&c->ladders[l], e->str);
    if (r >= 0) {
      e->tone_rank = r;
      return DN_T_TONE;
    }
  }
  dn_diag *g = dn_diag_add(c->diags, DN_E0202, e->span, "unknown name `%s`", e->str);
  for (int f = 0; f < DN_F_COUNT; f++)
    if (streq(k_fields[f].name, e->str)) {
      dn_diag_hint(g, "did you mean `%s.%s`?", k_fields[f].scope == DN_SCOPE_INVOICE ? "invoice" : "customer",
                   e->str);
      return DN_T_ERROR;
    }
  names l = {0};
  for (int i = 0; i < c->let_limit; i++) names_add(&l, c->ast->decls[c->ast->lets[i]].name.name);
  for (int i = 0; i < c->nladders; i++)
    for (int t = 0; t < c->ladders[i].ntones; t++) names_add(&l, c->ladders[i].tones[t]);
  const char *meant = hint_suggest(g, e->str, l.v, l.n);
  int mk = meant ? let_by_name(c, meant) : -1;
  if (mk >= 0) c->ast->decls[c->ast->lets[mk]].used = true; /* no W0104 on top of the typo */
  free(l.v);
  return DN_T_ERROR;
}

static int object_scope(const char *object) {
  if (streq(object, "invoice")) return DN_SCOPE_INVOICE;
  if (streq(object, "customer")) return DN_SCOPE_CUSTOMER;
  return -1;
}

static void unknown_object(ck *c, const dn_expr *e) {
  const char *obj = e->object ? e->object : "";
  dn_diag *g = dn_diag_add(c->diags, DN_E0202, span_len(e->span.start, strlen(obj)), "unknown name `%s`", obj);
  const char *cands[] = {"invoice", "customer"};
  hint_suggest(g, obj, cands, 2);
}

static dn_type check_field(ck *c, dn_expr *e) {
  int scope = object_scope(e->object);
  if (scope < 0) {
    unknown_object(c, e);
    return DN_T_ERROR;
  }
  for (int f = 0; f < DN_F_COUNT; f++)
    if ((int)k_fields[f].scope == scope && streq(k_fields[f].name, e->field_name)) {
      e->field = (dn_field_id)f;
      e->scope = (dn_scope)scope;
      return k_fields[f].type;
    }
  dn_diag *g = dn_diag_add(c->diags, DN_E0201, e->field_span, "`%s` has no field `%s`", e->object,
                           e->field_name ? e->field_name : "");
  for (int f = 0; f < DN_F_COUNT; f++)
    if (streq(k_fields[f].name, e->field_name)) {
      dn_diag_hint(g, "did you mean `%s.%s`?", scope == DN_SCOPE_INVOICE ? "customer" : "invoice", e->field_name);
      return DN_T_ERROR;
    }
  names l = {0};
  for (int f = 0; f < DN_F_COUNT; f++)
    if ((int)k_fields[f].scope == scope) names_add(&l, k_fields[f].name);
  const char *s = dn_suggest(e->field_name, l.v, l.n);
  free(l.v);
  if (s) dn_diag_hint(g, "did you mean `%s.%s`?", e->object, s);
  return DN_T_ERROR;
}

static dn_type check_attr(ck *c, dn_expr *e) {
  if (e->object && !streq(e->object, "customer")) {
    if (object_scope(e->object) < 0) {
      unknown_object(c, e);
    } else {
      dn_diag *g = dn_diag_add(c->diags, DN_E0201, e->field_span.end > e->field_span.start ? e->field_span : e->span,
                               "`%s` has no field `attr`", e->object);
      dn_diag_hint(g, "attributes belong to the customer: `customer.attr(\"%s\")`", e->str ? e->str : "");
    }
    return DN_T_ERROR;
  }
  e->scope = DN_SCOPE_CUSTOMER;
  return DN_T_STRING;
}

/* The node's scope from its children: invoice as soon as one reads an invoice. */
static void inherit_scope(dn_expr *e) {
  if (e->kind == DN_EX_FIELD || e->kind == DN_EX_NAME || e->kind == DN_EX_ATTR) return;
  bool inv = (e->lhs && e->lhs->scope == DN_SCOPE_INVOICE) || (e->rhs && e->rhs->scope == DN_SCOPE_INVOICE);
  for (int i = 0; i < e->nitems; i++)
    if (e->items[i] && e->items[i]->scope == DN_SCOPE_INVOICE) inv = true;
  e->scope = inv ? DN_SCOPE_INVOICE : DN_SCOPE_CUSTOMER;
}

static dn_type check_expr(ck *c, dn_expr *e) {
  if (!e) return DN_T_ERROR;
  dn_type t = DN_T_ERROR;
  e->scope = DN_SCOPE_CUSTOMER;
  switch (e->kind) {
  case DN_EX_BOOL: t = DN_T_BOOL; break;
  case DN_EX_INT: t = DN_T_INT; break;
  case DN_EX_NUMBER: t = DN_T_NUMBER; break;
  case DN_EX_MONEY: t = check_money_literal(c, e); break;
  case DN_EX_DATE: t = DN_T_DATE; break;
  case DN_EX_DURATION: t = DN_T_DURATION; break;
  case DN_EX_STRING: t = DN_T_STRING; break;
  case DN_EX_NAME: t = check_name(c, e); break;
  case DN_EX_FIELD: t = check_field(c, e); break;
  case DN_EX_ATTR: t = check_attr(c, e); break;
  case DN_EX_UNARY: t = check_unary(c, e); break;
  case DN_EX_BINARY: t = check_binary(c, e); break;
  case DN_EX_IN: t = check_in(c, e); break;
  case DN_EX_CALL: t = check_call(c, e); break;
  }
  inherit_scope(e);
  e->type = t;
  return t;
}

/* ---- contexts: conditions, priorities ---------------------------------- */

/* The leftmost node that makes e an invoice-scope expression. */
static const dn_expr *invoice_reader(const dn_expr *e) {
  if (!e || e->scope != DN_SCOPE_INVOICE) return NULL;
  if (e->kind == DN_EX_FIELD || e->kind == DN_EX_NAME) return e;
  const dn_expr *r = invoice_reader(e->lhs);
  if (!r) r = invoice_reader(e->rhs);
  for (int i = 0; !r && i < e->nitems; i++) r = invoice_reader(e->items[i]);
  return r;
}

/* `where` names the customer-only context, e.g. "a segment condition". */
static void require_customer(ck *c, const dn_expr *e, const char *where) {
  const dn_expr *r = invoice_reader(e);
  if (!r) return;
  dn_diag *g;
  if (r->kind == DN_EX_FIELD) {
    g = dn_diag_add(c->diags, DN_E0208, r->span, "`invoice.%s` reads an invoice, but %s is about a customer",
                    r->field_name, where);
  } else {
    g = dn_diag_add(c->diags, DN_E0208, r->span, "let `%s` reads an invoice, but %s is about a customer",
                    r->str, where);
    if (r->let_index >= 0)
      dn_diag_note(g, c->ast->decls[c->ast->lets[r->let_index]].name.span, "`%s` is declared here", r->str);
  }
  if (strstr(where, "`for customer`"))
    dn_diag_hint(g, "use a customer field (e.g. `customer.total_overdue`), or declare it `for invoice`");
  else
    dn_diag_hint(g, "use a customer field (e.g. `customer.total_overdue`), or test the invoice in an "
                    "escalation's `unless` or a step's `when`");
}

static void check_cond(ck *c, dn_expr *e, const char *what, const char *customer_only) {
  dn_type t = check_expr(c, e);
  if (t != DN_T_BOOL && t != DN_T_ERROR)
    dn_diag_add(c->diags, DN_E0207, e->span, "%s must be bool, found %s", what, dn_type_name(t));
  if (customer_only) require_customer(c, e, customer_only);
}

static void check_priority(ck *c, dn_expr *e, const char *customer_only) {
  dn_type t = check_expr(c, e);
  if (t == DN_T_INT) {
    e->convert_to_number = true;
  } else if (t != DN_T_NUMBER && t != DN_T_MONEY && t != DN_T_ERROR) {
    dn_diag *g = dn_diag_add(c->diags, DN_E0210, e->span, "priority must be a number or money, found %s",
                             dn_type_name(t));
    dn_diag_hint(g, "e.g. `priority invoice.balance` or `priority customer.risk_score`");
  }
  if (customer_only) require_customer(c, e, customer_only);
}

/* ---- header and settings ----------------------------------------------- */

static const char *setting_name(dn_decl_kind k) {
  switch (k) {
  case DN_D_POLICY: return "policy";
  case DN_D_CURRENCY: return "currency";
  case DN_D_TIMEZONE: return "timezone";
  case DN_D_CALENDAR: return "calendar";
  case DN_D_SEND_WINDOW: return "send_window";
  case DN_D_PROMISE_GRACE: return "promise_grace";
  case DN_D_LIMIT: return "limit contacts";
  default: return NULL;
  }
}

static void check_settings_once(ck *c) {
  dn_decl *first[DN_D_EXTERN + 1] = {0};
  for (int i = 0; i < c->ast->ndecls; i++) {
    dn_decl *d = &c->ast->decls[i];
    const char *name = setting_name(d->kind);
    if (!name) continue;
    if (!first[d->kind]) {
      first[d->kind] = d;
      continue;
    }
    dn_diag *g = dn_diag_add(c->diags, DN_E0304, d->span, "`%s` is given twice", name);
    dn_diag_note(g, first[d->kind]->span, "first given here");
  }
}

static void check_policy_header(ck *c) {
  dn_ast *a = c->ast;
  dn_decl *policy = NULL;
  for (int i = 0; i < a->ndecls && !policy; i++)
    if (a->decls[i].kind == DN_D_POLICY) policy = &a->decls[i];
  dn_span top = {0, 0};
  if (!policy) {
    dn_diag *g = err(c, DN_E0309, top, "missing `policy \"NAME\" version N` header");
    dn_diag_hint(g, "start the file with e.g. `policy \"my-policy\" version 1`");
  } else if (policy != &a->decls[0]) {
    dn_diag *g = err(c, DN_E0309, policy->span, "`policy` must be the first declaration");
    dn_diag_note(g, a->decls[0].span, "this comes before it");
  }
  dn_decl *cur = NULL;
  for (int i = 0; i < a->ndecls && !cur; i++)
    if (a->decls[i].kind == DN_D_CURRENCY) cur = &a->decls[i];
  c->cur = DN_CUR_NONE;
  if (!cur) {
    dn_diag *g = err(c, DN_E0309, policy ? policy->span : top, "missing `currency` declaration");
    dn_diag_hint(g, "add the policy's reporting currency, e.g. `currency USD`");
    return;
  }
  const char *code = cur->name.name ? cur->name.name : "";
  c->cur = dn_currency_lookup(code, strlen(code));
  if (c->cur == DN_CUR_NONE) {
    dn_diag *g = dn_diag_add(c->diags, DN_E0308, cur->name.span, "unknown currency `%s`", code);
    char up[4] = {0};
    size_t n = strlen(code);
    for (size_t i = 0; i < 3 && i < n; i++) up[i] = (char)toupper((unsigned char)code[i]);
    if (n == 3 && dn_currency_lookup(up, 3) != DN_CUR_NONE)
      dn_diag_hint(g, "currency codes are written in capitals: `currency %s`", up);
    else
      dn_diag_hint(g, "use an ISO 4217 code such as USD, EUR, GBP or JPY");
  }
}

static void format_hhmm(int minutes, char *buf) {
  snprintf(buf, 8, "%02d:%02d", (minutes / 60) % 100, minutes % 60);
}

/* promise_grace, `once per` and contact limits count calendar days: they
 * are windows of history (LANGUAGE.md s.5 steps 4, 5, 8), and a business
 * day there would silently mean a calendar day. */
static void calendar_days_only(ck *c, const dn_duration *d, const char *what) {
  if (!d->business) return;
  dn_diag *g = dn_diag_add(c->diags, DN_E0317, d->span, "%s counts calendar days, not business days", what);
  dn_diag_hint(g, "write `%d days`", d->days);
}

static void check_setting(ck *c, dn_decl *d) {
  switch (d->kind) {
  case DN_D_TIMEZONE: {
    dn_zone *z = d->name.name ? dn_zone_load(d->name.name) : NULL;
    if (z) {
      dn_zone_free(z);
      break;
    }
    dn_diag *g = dn_diag_add(c->diags, DN_E0311, d->name.span, "unknown time zone \"%s\"",
                             d->name.name ? d->name.name : "");
    dn_diag_hint(g, "use an IANA name such as \"America/New_York\" or \"Europe/Berlin\"");
    break;
  }
  case DN_D_CALENDAR:
    if (!d->name.name || !dn_calendar_is_builtin(d->name.name)) {
      dn_diag *g = dn_diag_add(c->diags, DN_W0105, d->name.span, "calendar \"%s\" is not built in",
                               d->name.name ? d->name.name : "");
      dn_diag_hint(g, "built-in calendars are \"US\", \"GB\", \"DE\" and \"FR\"; other holidays come from the "
                      "ledger's holidays table, else only weekends are skipped");
    }
    break;
  case DN_D_SEND_WINDOW:
    if (d->window_end <= d->window_start) {
      char a[8], b[8];
      format_hhmm(d->window_start, a);
      format_hhmm(d->window_end, b);
      dn_diag *g = dn_diag_add(c->diags, DN_E0312, d->span, "the send window ends at %s, not after its start at %s",
                               b, a);
      dn_diag_hint(g, "write the earlier time first, e.g. `send_window 09:00 .. 17:00`");
    }
    break;
  case DN_D_PROMISE_GRACE:
    if (d->duration.days < 0)
      dn_diag_add(c->diags, DN_E0105, d->duration.span.end > d->duration.span.start ? d->duration.span : d->span,
                  "promise_grace cannot be negative");
    calendar_days_only(c, &d->duration, "promise_grace");
    break;
  default: break;
  }
}

/* ---- collecting declarations ------------------------------------------- */

static void duplicate(ck *c, const dn_decl *d, const dn_decl *first, const char *what) {
  dn_diag *g = dn_diag_add(c->diags, DN_E0304, d->name.span, "%s `%s` is declared twice", what, d->name.name);
  dn_diag_note(g, first->name.span, "first declared here");
}

static void collect_ladders(ck *c) {
  dn_ast *a = c->ast;
  int n = 1;
  for (int i = 0; i < a->ndecls; i++) n += a->decls[i].kind == DN_D_TONES;
  c->ladders = ck_alloc(c, (size_t)n * sizeof *c->ladders);
  if (!c->ladders) return;
  c->ladders[0] = (ladder){"standard", NULL, k_default_tones, 4};
  c->nladders = 1;
  bool standard_declared = false;
  for (int i = 0; i < a->ndecls; i++) {
    dn_decl *d = &a->decls[i];
    if (d->kind != DN_D_TONES) continue;
    int prev = find_ladder(c, d->name.name);
    if (prev >= 0 && (prev > 0 || standard_declared)) {
      duplicate(c, d, c->ladders[prev].decl, "tone ladder");
      continue;
    }
    const char **tones = ck_alloc(c, (size_t)(d->ntones + 1) * sizeof *tones);
    if (!tones) return;
    for (int t = 0; t < d->ntones; t++) {
      tones[t] = d->tones[t].name;
      for (int u = 0; u < t; u++)
        if (streq(d->tones[u].name, d->tones[t].name)) {
          dn_diag *g = dn_diag_add(c->diags, DN_E0304, d->tones[t].span, "tone `%s` appears twice on ladder `%s`",
                                   d->tones[t].name, d->name.name);
          dn_diag_note(g, d->tones[u].span, "first here");
          break;
        }
    }
    ladder l = {d->name.name, d, tones, d->ntones};
    if (prev == 0) { /* a declared `standard` replaces the implicit one */
      c->ladders[0] = l;
      standard_declared = true;
    } else {
      c->ladders[c->nladders++] = l;
    }
  }
}

static void collect_lets(ck *c) {
  dn_ast *a = c->ast;
  a->nlets = 0;
  a->lets = ck_alloc(c, (size_t)(a->ndecls + 1) * sizeof *a->lets);
  if (!a->lets) return;
  for (int i = 0; i < a->ndecls; i++) {
    dn_decl *d = &a->decls[i];
    if (d->kind != DN_D_LET) continue;
    d->used = false;
    int prev = let_by_name(c, d->name.name);
    if (prev >= 0) {
      duplicate(c, d, &a->decls[a->lets[prev]], "let");
      d->used = true; /* references resolve to the first; W0104 would be noise */
    } else if (!dn_names_put(&c->let_index, d->name.name, a->nlets)) {
      c->oom = true;
    }
    a->lets[a->nlets++] = i;
  }
}

static void collect_segments(ck *c) {
  dn_ast *a = c->ast;
  c->segs = ck_alloc(c, (size_t)(a->ndecls + 1) * sizeof *c->segs);
  c->seg_ladder = ck_alloc(c, (size_t)(a->ndecls + 1) * sizeof *c->seg_ladder);
  if (!c->segs || !c->seg_ladder) return;
  for (int i = 0; i < a->ndecls; i++) {
    dn_decl *d = &a->decls[i];
    if (d->kind != DN_D_SEGMENT) continue;
    d->used = false;
    int prev = find_segment(c, d->name.name);
    if (prev >= 0) {
      duplicate(c, d, c->segs[prev], "segment");
      d->used = true; /* references resolve to the first; W0102 would be noise */
    }
    int l = 0;
    if (d->ladder.name && (l = find_ladder(c, d->ladder.name)) < 0) {
      dn_diag *g = dn_diag_add(c->diags, DN_E0303, d->ladder.span, "unknown tone ladder `%s`", d->ladder.name);
      names n = {0};
      for (int k = 0; k < c->nladders; k++) names_add(&n, c->ladders[k].name);
      hint_suggest(g, d->ladder.name, n.v, n.n);
      free(n.v);
    }
    c->seg_ladder[c->nsegs] = l;
    if (prev < 0 && !dn_names_put(&c->seg_index, d->name.name, c->nsegs)) c->oom = true;
    c->segs[c->nsegs++] = d;
  }
}

/* DN_T_ERROR was already reported by the parser (unknown type name). */
static bool extern_type_ok(dn_type t) {
  return t == DN_T_ERROR || t == DN_T_BOOL || t == DN_T_INT || t == DN_T_NUMBER || t == DN_T_MONEY || t == DN_T_STRING ||
         t == DN_T_DATE;
}

static void check_extern_decl(ck *c, dn_decl *d) {
  for (int b = 0; b < DN_B_COUNT; b++)
    if (streq(k_builtins[b].name, d->name.name)) {
      dn_diag_add(c->diags, DN_E0304, d->name.span, "extern fn `%s` has the name of a built-in function",
                  d->name.name);
      break;
    }
  if (d->nparams > 8)
    dn_diag_add(c->diags, DN_E0313, d->name.span, "extern fn `%s` has %d parameters; at most 8 are supported",
                d->name.name, d->nparams);
  for (int i = 0; i < d->nparams; i++)
    if (!extern_type_ok(d->param_types[i])) {
      dn_diag *g = dn_diag_add(c->diags, DN_E0313, d->param_spans ? d->param_spans[i] : d->span,
                               "type %s cannot be passed to a native function", dn_type_name(d->param_types[i]));
      dn_diag_hint(g, "extern functions take bool, int, number, money, string or date");
    }
  if (!extern_type_ok(d->ret_type)) {
    dn_diag *g = dn_diag_add(c->diags, DN_E0313, d->ret_span.end > d->ret_span.start ? d->ret_span : d->span,
                             "type %s cannot be returned by a native function", dn_type_name(d->ret_type));
    dn_diag_hint(g, "extern functions return bool, int, number, money, string or date");
  }
  if (!d->library || !d->library[0])
    dn_diag_add(c->diags, DN_E0313, d->library_span.end > d->library_span.start ? d->library_span : d->span,
                "extern fn `%s` names no library", d->name.name);
}

static void collect_externs(ck *c) {
  dn_ast *a = c->ast;
  c->externs = ck_alloc(c, (size_t)(a->ndecls + 1) * sizeof *c->externs);
  if (!c->externs) return;
  for (int i = 0; i < a->ndecls; i++) {
    dn_decl *d = &a->decls[i];
    if (d->kind != DN_D_EXTERN) continue;
    bool dup = false;
    for (int x = 0; x < c->nexterns && !dup; x++)
      if (streq(c->externs[x]->name.name, d->name.name)) {
        duplicate(c, d, c->externs[x], "extern fn");
        dup = true;
      }
    check_extern_decl(c, d);
    c->externs[c->nexterns++] = d;
  }
}

/* Escalations and rules share one namespace: both name actions in the
 * idempotency key (LANGUAGE.md s.5). */
static void check_rule_names(ck *c) {
  dn_ast *a = c->ast;
  dn_names seen;
  dn_names_init(&seen);
  for (int i = 0; i < a->ndecls; i++) {
    dn_decl *d = &a->decls[i];
    if (d->kind != DN_D_ESCALATION && d->kind != DN_D_RULE) continue;
    int32_t j = d->name.name ? dn_names_get(&seen, d->name.name) : -1;
    if (j >= 0) duplicate(c, d, &a->decls[j], d->kind == DN_D_RULE ? "rule" : "escalation");
    else if (d->name.name && !dn_names_put(&seen, d->name.name, i)) c->oom = true;
  }
  dn_names_free(&seen);
}

/* ---- actions and tones ------------------------------------------------- */

/* An escalation lists its segments, so its tones must be on each of their
 * ladders (strict: a miss is almost surely a typo). `on` and `rule` apply
 * to every segment: there a tone only needs to be on one of the ladders,
 * and the engine maps it to the customer's ladder by relative position
 * (docs/semantics.md), so a policy with two ladders can still use events. */
static void tone_on_ladders(ck *c, const dn_ident *tone, const ladder_use *uses, int nuses, bool any) {
  if (any) {
    for (int u = 0; u < nuses; u++)
      if (tone_rank(&c->ladders[uses[u].ladder], tone->name) >= 0) return;
    for (int l = 0; l < c->nladders; l++)
      if (tone_rank(&c->ladders[l], tone->name) >= 0) return;
    if (c->nladders > 1) { /* any ladder would do: say so, and suggest from all */
      dn_diag *g = dn_diag_add(c->diags, DN_E0302, tone->span, "tone `%s` is not on any tone ladder", tone->name);
      names l = {0};
      for (int k = 0; k < c->nladders; k++)
        for (int t = 0; t < c->ladders[k].ntones; t++) names_add(&l, c->ladders[k].tones[t]);
      hint_suggest(g, tone->name, l.v, l.n);
      free(l.v);
      return;
    }
    nuses = nuses > 0 ? 1 : 0; /* report against the first ladder only */
  }
  for (int u = 0; u < nuses; u++) {
    const ladder *l = &c->ladders[uses[u].ladder];
    if (tone_rank(l, tone->name) >= 0) continue;
    dn_diag *g;
    if (uses[u].segment && !any)
      g = dn_diag_add(c->diags, DN_E0302, tone->span, "tone `%s` is not on ladder `%s` of segment `%s`",
                      tone->name, l->name, uses[u].segment->name.name);
    else
      g = dn_diag_add(c->diags, DN_E0302, tone->span, "tone `%s` is not on ladder `%s`", tone->name, l->name);
    hint_suggest(g, tone->name, l->tones, l->ntones);
    if (l->decl) dn_diag_note(g, l->decl->name.span, "ladder `%s` is declared here", l->name);
  }
}

static void check_action(ck *c, dn_action *act, const ladder_use *uses, int nuses, bool any_ladder,
                         const char *customer_only) {
  /* Named as written: `hold credit`, not the bare kind. */
  char kind_buf[32];
  const char *kind = dn_action_kind_name(act->kind);
  if (act->kind == DN_ACT_HOLD || act->kind == DN_ACT_RELEASE) {
    snprintf(kind_buf, sizeof kind_buf, "%s credit", kind);
    kind = kind_buf;
  }
  if (!dn_action_is_contact(act->kind)) {
    if (act->tone.name)
      dn_diag_add(c->diags, DN_E0314, act->tone.span, "`%s` takes no tone; only email, sms, letter and call do", kind);
    if (act->template_name)
      dn_diag_add(c->diags, DN_E0314, act->template_span,
                  "`%s` takes no template; only email, sms, letter and call do", kind);
    if (act->priority)
      dn_diag_add(c->diags, DN_E0314, act->priority->span,
                  "`%s` takes no priority; only email, sms, letter and call do", kind);
  } else if (act->tone.name) {
    tone_on_ladders(c, &act->tone, uses, nuses, any_ladder);
  }
  if ((act->kind == DN_ACT_TASK || act->kind == DN_ACT_ESCALATE) && (!act->text || !act->text[0]))
    dn_diag_add(c->diags, DN_E0314, act->span, "`%s` needs a text, e.g. `%s \"%s\"`", kind, kind,
                act->kind == DN_ACT_TASK ? "call the customer" : "agency");
  if (act->priority && dn_action_is_contact(act->kind)) check_priority(c, act->priority, customer_only);
}

static void add_use(ladder_use *uses, int *n, int l, const dn_decl *seg) {
  if (l < 0) return;
  for (int i = 0; i < *n; i++)
    if (uses[i].ladder == l) return;
  uses[*n].ladder = l;
  uses[*n].segment = seg;
  (*n)++;
}

/* `on` and `rule` apply to any customer, so to every segment's ladder. */
static int all_ladder_uses(const ck *c, ladder_use *uses) {
  int n = 0;
  for (int s = 0; s < c->nsegs; s++) add_use(uses, &n, c->seg_ladder[s], c->segs[s]);
  if (c->nsegs == 0) add_use(uses, &n, 0, NULL);
  return n;
}

/* ---- escalations ------------------------------------------------------- */

static void check_escalation_segments(ck *c, dn_decl *d, ladder_use *uses, int *nuses) {
  for (int i = 0; i < d->nsegments; i++) {
    dn_ident *id = &d->segments[i];
    for (int j = 0; j < i; j++)
      if (streq(d->segments[j].name, id->name)) {
        dn_diag *g = dn_diag_add(c->diags, DN_E0304, id->span, "segment `%s` is listed twice", id->name);
        dn_diag_note(g, d->segments[j].span, "first listed here");
        break;
      }
    int k = find_segment(c, id->name);
    if (k >= 0) {
      c->segs[k]->used = true;
      add_use(uses, nuses, c->seg_ladder[k], c->segs[k]);
      continue;
    }
    dn_diag *g = dn_diag_add(c->diags, DN_E0301, id->span, "unknown segment `%s`", id->name);
    names n = {0};
    for (int s = 0; s < c->nsegs; s++) names_add(&n, c->segs[s]->name.name);
    mark_meant_segment(c, hint_suggest(g, id->name, n.v, n.n));
    free(n.v);
  }
}

static void format_offset(const dn_duration *o, char *buf, size_t cap) {
  int d = o->days;
  snprintf(buf, cap, "%d %sday%s", d, o->business ? "business " : "", (d == 1 || d == -1) ? "" : "s");
}

static void check_step_order(ck *c, const dn_decl *d) {
  for (int i = 1; i < d->nsteps; i++) {
    const dn_step *s = &d->steps[i], *p = &d->steps[i - 1];
    if (s->offset.days > p->offset.days) continue;
    char a[48], b[48];
    format_offset(&s->offset, a, sizeof a);
    format_offset(&p->offset, b, sizeof b);
    dn_span where = s->offset.span.end > s->offset.span.start ? s->offset.span : s->span;
    dn_span prev = p->offset.span.end > p->offset.span.start ? p->offset.span : p->span;
    dn_diag *g = dn_diag_add(c->diags, DN_E0305, where, "step `%s` must come after the previous step `%s`", a, b);
    dn_diag_note(g, prev, "previous step here");
    dn_diag_hint(g, "order the steps by their offset, earliest first");
  }
}

static const dn_ident *step_tone(const dn_step *s) {
  for (int i = 0; i < s->nactions; i++)
    if (s->actions[i].tone.name) return &s->actions[i].tone;
  return NULL;
}

/* W0103: on a ladder, a later step whose tone is gentler than an earlier one. */
static void check_tone_progression(ck *c, const dn_decl *d, const ladder_use *uses, int nuses) {
  bool *warned = calloc((size_t)d->nsteps + 1, sizeof *warned);
  if (!warned) {
    c->oom = true;
    return;
  }
  for (int u = 0; u < nuses; u++) {
    const ladder *l = &c->ladders[uses[u].ladder];
    int best = -1;
    const dn_ident *best_id = NULL;
    for (int i = 0; i < d->nsteps; i++) {
      const dn_ident *t = step_tone(&d->steps[i]);
      int r = t ? tone_rank(l, t->name) : -1;
      if (r < 0) continue;
      if (r < best && !warned[i]) {
        warned[i] = true;
        dn_diag *g = dn_diag_add(c->diags, DN_W0103, t->span,
                                 "tone `%s` is gentler than the earlier step's `%s` on ladder `%s`", t->name,
                                 best_id->name, l->name);
        dn_diag_note(g, best_id->span, "the earlier, firmer step");
        dn_diag_hint(g, "later steps usually get firmer; reorder the tones or the steps");
      }
      if (r > best) {
        best = r;
        best_id = t;
      }
    }
  }
  free(warned);
}

static void check_escalation(ck *c, dn_decl *d) {
  ladder_use *uses = calloc((size_t)d->nsegments + 1, sizeof *uses);
  if (!uses) {
    c->oom = true;
    return;
  }
  int nuses = 0;
  check_escalation_segments(c, d, uses, &nuses);
  if (d->expr) check_cond(c, d->expr, "an `unless` condition", NULL);
  check_step_order(c, d);
  for (int i = 0; i < d->nsteps; i++) {
    dn_step *s = &d->steps[i];
    for (int a = 0; a < s->nactions; a++) check_action(c, &s->actions[a], uses, nuses, false, NULL);
    if (s->guard) check_cond(c, s->guard, "a step's `when` condition", NULL);
  }
  check_tone_progression(c, d, uses, nuses);
  free(uses);
}

/* ---- events, rules, limits --------------------------------------------- */

static void check_event_rule(ck *c, dn_decl *d) {
  bool customer = d->scope == DN_SCOPE_CUSTOMER;
  const char *where = d->kind == DN_D_ON ? "a `for customer` event rule" : "a `for customer` rule";
  if (d->kind == DN_D_ON && d->event_name.name && !streq(d->event_name.name, dn_event_name(d->event))) {
    dn_diag *g = dn_diag_add(c->diags, DN_E0310, d->event_name.span, "unknown event `%s`", d->event_name.name);
    const char *ev[DN_EV_COUNT];
    for (int i = 0; i < DN_EV_COUNT; i++) ev[i] = dn_event_name((dn_event_kind)i);
    hint_suggest(g, d->event_name.name, ev, DN_EV_COUNT);
  }
  if (d->expr) check_cond(c, d->expr, d->kind == DN_D_ON ? "an event's `when` condition" : "a rule's `when` condition",
                          customer ? where : NULL);
  if (d->kind == DN_D_RULE) calendar_days_only(c, &d->duration, "`once per`");
  ladder_use *uses = calloc((size_t)c->nsegs + 1, sizeof *uses);
  if (!uses) {
    c->oom = true;
    return;
  }
  int nuses = all_ladder_uses(c, uses);
  for (int a = 0; a < d->nactions; a++) check_action(c, &d->actions[a], uses, nuses, true, customer ? where : NULL);
  free(uses);
}

static void check_limit(ck *c, const dn_decl *d) {
  for (int i = 0; i < d->ncaps; i++) {
    const dn_cap *cap = &d->caps[i];
    calendar_days_only(c, &cap->window, "a contact limit");
    if (cap->count <= 0)
      dn_diag_add(c->diags, DN_E0315, cap->span, "a contact limit needs a positive count, not %lld",
                  (long long)cap->count);
    if (cap->window.days <= 0)
      dn_diag_add(c->diags, DN_E0315, cap->span, "a contact limit needs a window of at least 1 day");
  }
}

/* ---- segments ---------------------------------------------------------- */

/* The node through which e reads `customer.segment` (the field itself or a
 * let that reads it), or NULL. Lets only refer to earlier lets, so this ends. */
static const dn_expr *segment_reader(const ck *c, const dn_expr *e) {
  if (!e) return NULL;
  if (e->kind == DN_EX_FIELD) return e->type == DN_T_STRING && e->field == DN_F_CUSTOMER_segment ? e : NULL;
  if (e->kind == DN_EX_NAME) {
    if (e->let_index < 0 || e->let_index >= c->ast->nlets) return NULL;
    return segment_reader(c, c->ast->decls[c->ast->lets[e->let_index]].expr) ? e : NULL;
  }
  const dn_expr *r = segment_reader(c, e->lhs);
  if (!r) r = segment_reader(c, e->rhs);
  for (int i = 0; !r && i < e->nitems; i++) r = segment_reader(c, e->items[i]);
  return r;
}

/* While segments are being chosen the customer has none yet: a test of
 * `customer.segment` there could never hold, which is surely a mistake. */
static void segment_in_segment(ck *c, const dn_expr *cond) {
  const dn_expr *r = segment_reader(c, cond);
  if (!r) return;
  dn_diag *g;
  if (r->kind == DN_EX_FIELD) {
    g = dn_diag_add(c->diags, DN_E0208, r->span,
                    "a segment condition cannot read `customer.segment`: the segment is being chosen");
  } else {
    g = dn_diag_add(c->diags, DN_E0208, r->span,
                    "let `%s` reads `customer.segment`, which a segment condition cannot: the segment is "
                    "being chosen", r->str);
    dn_diag_note(g, c->ast->decls[c->ast->lets[r->let_index]].name.span, "`%s` is declared here", r->str);
  }
  dn_diag_hint(g, "test the customer fields the segments are based on instead");
}

static void check_segment(ck *c, dn_decl *d) {
  if (d->otherwise || !d->expr) return;
  check_cond(c, d->expr, "a segment condition", "a segment condition");
  segment_in_segment(c, d->expr);
}

static void check_segment_order(ck *c) {
  const dn_decl *otherwise = NULL, *always = NULL;
  bool reported = false;
  for (int s = 0; s < c->nsegs; s++) {
    dn_decl *d = c->segs[s];
    if (otherwise) {
      if (!reported) {
        dn_diag *g = dn_diag_add(c->diags, DN_E0306, otherwise->span,
                                 "`segment %s otherwise` must be the last segment", otherwise->name.name);
        dn_diag_note(g, d->name.span, "segment `%s` comes after it", d->name.name);
        reported = true;
      }
      dn_diag *w = dn_diag_add(c->diags, DN_W0101, d->name.span, "segment `%s` can never be chosen", d->name.name);
      dn_diag_note(w, otherwise->name.span, "`%s` catches every customer before it", otherwise->name.name);
    } else if (always) {
      dn_diag *w = dn_diag_add(c->diags, DN_W0101, d->name.span, "segment `%s` can never be chosen", d->name.name);
      dn_diag_note(w, always->name.span, "`%s` is always true and comes first", always->name.name);
    }
    if (d->otherwise && !otherwise) {
      otherwise = d;
      reported = false;
    } else if (!d->otherwise && !always && d->expr && d->expr->kind == DN_EX_BOOL && d->expr->b) {
      always = d;
    }
  }
}

static void check_unused(ck *c) {
  for (int s = 0; s < c->nsegs; s++)
    if (!c->segs[s]->used) {
      dn_diag *g = dn_diag_add(c->diags, DN_W0102, c->segs[s]->name.span,
                               "segment `%s` is not used by any escalation, rule or event", c->segs[s]->name.name);
      dn_diag_hint(g, "list it in an escalation (`for invoice in %s`) or remove it", c->segs[s]->name.name);
    }
  for (int i = 0; i < c->ast->nlets; i++) {
    dn_decl *d = &c->ast->decls[c->ast->lets[i]];
    if (!d->used) dn_diag_add(c->diags, DN_W0104, d->name.span, "let `%s` is never used", d->name.name);
  }
}

/* ---- driver ------------------------------------------------------------ */

static void check_decls(ck *c) {
  int nlet = 0;
  for (int i = 0; i < c->ast->ndecls; i++) {
    dn_decl *d = &c->ast->decls[i];
    c->let_limit = nlet;
    c->cur_let = -1;
    switch (d->kind) {
    case DN_D_TIMEZONE: case DN_D_CALENDAR: case DN_D_SEND_WINDOW: case DN_D_PROMISE_GRACE:
      check_setting(c, d);
      break;
    case DN_D_LET:
      c->cur_let = nlet;
      check_expr(c, d->expr);
      d->let_scope = d->expr ? d->expr->scope : DN_SCOPE_CUSTOMER;
      nlet++;
      break;
    case DN_D_SEGMENT: check_segment(c, d); break;
    case DN_D_ESCALATION: check_escalation(c, d); break;
    case DN_D_ON: case DN_D_RULE: check_event_rule(c, d); break;
    case DN_D_LIMIT: check_limit(c, d); break;
    default: break;
    }
  }
}

dn_status dn_check(dn_ast *ast, dn_diags *diags) {
  if (!ast || !diags) return DN_ERR_INTERNAL;
  size_t errors_before = diags->errors;
  ck c = {0};
  c.ast = ast;
  c.diags = diags;
  c.src = ast->source ? ast->source : diags->source;
  c.src_len = ast->source ? ast->source_len : diags->source_len;
  c.cur_let = -1;
  check_policy_header(&c);
  check_settings_once(&c);
  collect_ladders(&c);
  collect_lets(&c);
  collect_segments(&c);
  collect_externs(&c);
  check_rule_names(&c);
  if (!c.oom) {
    check_decls(&c);
    check_segment_order(&c);
    check_unused(&c);
  }
  dn_names_free(&c.let_index);
  dn_names_free(&c.seg_index);
  if (c.oom) return DN_ERR_INTERNAL;
  return diags->errors > errors_before ? DN_ERR_INPUT : DN_OK;
}
