/* test_parser.c - the scanner and parser: the section 1 policy of
 * LANGUAGE.md as an AST, every literal and construct of sections 2, 3, 6
 * and 8, operator precedence, and each lexical/syntax diagnostic with its
 * exact code and line:col. Expected values are worked out from the spec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/ast.h"
#include "spec_example.h"

typedef struct parsed {
  dn_ast ast;
  dn_diags diags;
  dn_status st;
} parsed;

static parsed *parse(const char *src) {
  parsed *p = calloc(1, sizeof *p);
  assert_non_null(p);
  dn_diags_init(&p->diags, "t.dun", src, strlen(src));
  p->st = dn_parse("t.dun", src, strlen(src), &p->ast, &p->diags);
  return p;
}

static void done(parsed *p) {
  dn_ast_free(&p->ast);
  dn_diags_free(&p->diags);
  free(p);
}

/* Parses and requires no diagnostics at all. */
static parsed *parse_ok(const char *src) {
  parsed *p = parse(src);
  if (p->diags.count) dn_diags_render_text(&p->diags, stderr, false);
  assert_int_equal(p->diags.count, 0);
  assert_int_equal(p->st, DN_OK);
  return p;
}

/* The value of `let x = EXPR`, the only declaration of src. */
static dn_expr *let_value(parsed *p) {
  assert_int_equal(p->ast.ndecls, 1);
  assert_int_equal(p->ast.decls[0].kind, DN_D_LET);
  return p->ast.decls[0].expr;
}

/* Requires that diagnostic i has this code at this line:col. */
static void expect_diag(parsed *p, size_t i, dn_diag_code code, int line, int col) {
  if (p->diags.count <= i) dn_diags_render_text(&p->diags, stderr, false);
  assert_true(p->diags.count > i);
  const dn_diag *g = &p->diags.items[i];
  int l, c;
  dn_source_position(p->ast.source, p->ast.source_len, g->span.start, &l, &c);
  if (g->code != code || l != line || c != col) dn_diags_render_text(&p->diags, stderr, false);
  assert_string_equal(dn_diag_code_name(g->code), dn_diag_code_name(code));
  assert_int_equal(l, line);
  assert_int_equal(c, col);
  assert_int_not_equal(p->st, DN_OK);
}

static const dn_decl *find_decl(const dn_ast *a, dn_decl_kind k, int nth) {
  for (int i = 0; i < a->ndecls; i++)
    if (a->decls[i].kind == k && nth-- == 0) return &a->decls[i];
  fail_msg("no declaration of kind %d", (int)k);
  return NULL;
}

static void assert_field(const dn_expr *e, const char *obj, const char *field) {
  assert_non_null(e);
  assert_int_equal(e->kind, DN_EX_FIELD);
  assert_string_equal(e->object, obj);
  assert_string_equal(e->field_name, field);
}

static void test_acme_header(void **state) {
  (void)state;
  parsed *p = parse_ok(DN_SPEC_EXAMPLE);
  const dn_ast *a = &p->ast;
  /* policy currency timezone calendar send_window tones let let
   * segment*3 escalation on*3 rule limit */
  assert_int_equal(a->ndecls, 17);
  assert_int_equal(a->decls[0].kind, DN_D_POLICY);
  assert_string_equal(a->decls[0].name.name, "acme-b2b");
  assert_int_equal(a->decls[0].version, 3);
  assert_int_equal(a->decls[1].kind, DN_D_CURRENCY);
  assert_string_equal(a->decls[1].name.name, "USD");
  assert_string_equal(a->decls[2].name.name, "America/New_York");
  assert_string_equal(a->decls[3].name.name, "US");
  assert_int_equal(a->decls[4].kind, DN_D_SEND_WINDOW);
  assert_int_equal(a->decls[4].window_start, 9 * 60);
  assert_int_equal(a->decls[4].window_end, 17 * 60);
  const dn_decl *t = &a->decls[5];
  assert_int_equal(t->kind, DN_D_TONES);
  assert_string_equal(t->name.name, "standard");
  assert_int_equal(t->ntones, 4);
  assert_string_equal(t->tones[0].name, "friendly");
  assert_string_equal(t->tones[3].name, "final");
  const dn_decl *big = &a->decls[6];
  assert_int_equal(big->kind, DN_D_LET);
  assert_string_equal(big->name.name, "big_balance");
  assert_int_equal(big->expr->kind, DN_EX_BINARY);
  assert_int_equal(big->expr->op, DN_OP_GE);
  assert_field(big->expr->lhs, "customer", "total_overdue");
  assert_int_equal(big->expr->rhs->kind, DN_EX_MONEY);
  assert_string_equal(big->expr->rhs->money_text, "50000");
  assert_string_equal(big->expr->rhs->currency, "USD");
  done(p);
}

static void test_acme_segments(void **state) {
  (void)state;
  parsed *p = parse_ok(DN_SPEC_EXAMPLE);
  const dn_decl *s0 = find_decl(&p->ast, DN_D_SEGMENT, 0);
  const dn_decl *s1 = find_decl(&p->ast, DN_D_SEGMENT, 1);
  const dn_decl *s2 = find_decl(&p->ast, DN_D_SEGMENT, 2);
  assert_string_equal(s0->name.name, "strategic");
  assert_string_equal(s1->name.name, "high_risk");
  assert_string_equal(s2->name.name, "standard");
  assert_false(s0->otherwise);
  assert_int_equal(s0->expr->op, DN_OP_OR);
  assert_true(s0->has_tone_shift);
  assert_int_equal(s0->tone_shift, -1);
  assert_string_equal(s0->assign, "key-accounts");
  assert_null(s0->ladder.name);
  assert_false(s1->has_tone_shift);
  assert_null(s1->assign);
  assert_true(s2->otherwise);
  assert_null(s2->expr);
  done(p);
}

static void test_acme_escalation(void **state) {
  (void)state;
  parsed *p = parse_ok(DN_SPEC_EXAMPLE);
  const dn_decl *e = find_decl(&p->ast, DN_D_ESCALATION, 0);
  assert_string_equal(e->name.name, "dunning");
  assert_int_equal(e->nsegments, 3);
  assert_string_equal(e->segments[0].name, "standard");
  assert_string_equal(e->segments[1].name, "high_risk");
  assert_string_equal(e->segments[2].name, "strategic");
  assert_non_null(e->expr); /* the unless guard */
  assert_int_equal(e->expr->op, DN_OP_OR);
  assert_field(e->expr->lhs, "invoice", "disputed");
  assert_int_equal(e->nsteps, 6);
  static const int offsets[6] = {-3, 1, 7, 15, 30, 60};
  static const int nacts[6] = {1, 1, 2, 2, 2, 1};
  for (int i = 0; i < 6; i++) {
    assert_int_equal(e->steps[i].offset.days, offsets[i]);
    assert_false(e->steps[i].offset.business);
    assert_int_equal(e->steps[i].nactions, nacts[i]);
    if (i < 5) assert_null(e->steps[i].guard);
  }
  const dn_step *s = e->steps;
  assert_int_equal(s[0].actions[0].kind, DN_ACT_EMAIL);
  assert_string_equal(s[0].actions[0].tone.name, "friendly");
  assert_string_equal(s[0].actions[0].template_name, "upcoming-due");
  assert_null(s[1].actions[0].template_name);
  assert_int_equal(s[2].actions[1].kind, DN_ACT_SMS);
  assert_null(s[2].actions[1].tone.name);
  assert_int_equal(s[3].actions[1].kind, DN_ACT_CALL);
  assert_field(s[3].actions[1].priority, "invoice", "balance");
  assert_int_equal(s[4].actions[0].kind, DN_ACT_LETTER);
  assert_string_equal(s[4].actions[0].tone.name, "final");
  assert_int_equal(s[4].actions[1].kind, DN_ACT_HOLD);
  assert_int_equal(s[5].actions[0].kind, DN_ACT_ESCALATE);
  assert_string_equal(s[5].actions[0].text, "agency");
  const dn_expr *g = s[5].guard;
  assert_non_null(g);
  assert_int_equal(g->op, DN_OP_GE);
  assert_field(g->lhs, "invoice", "balance");
  assert_string_equal(g->rhs->money_text, "500");
  /* The step's span starts at `step` on line 23 (1-based). */
  int line, col;
  dn_source_position(DN_SPEC_EXAMPLE, strlen(DN_SPEC_EXAMPLE), s[0].span.start, &line, &col);
  assert_int_equal(line, 23);
  assert_int_equal(col, 3);
  done(p);
}

static void test_acme_events_rule_limit(void **state) {
  (void)state;
  parsed *p = parse_ok(DN_SPEC_EXAMPLE);
  const dn_decl *o0 = find_decl(&p->ast, DN_D_ON, 0);
  const dn_decl *o1 = find_decl(&p->ast, DN_D_ON, 1);
  const dn_decl *o2 = find_decl(&p->ast, DN_D_ON, 2);
  assert_int_equal(o0->event, DN_EV_PAYMENT_FAILED);
  assert_string_equal(o0->event_name.name, "payment.failed");
  assert_int_equal(o0->scope, DN_SCOPE_INVOICE);
  assert_null(o0->expr);
  assert_string_equal(o0->actions[0].template_name, "payment-failed");
  assert_int_equal(o1->event, DN_EV_PROMISE_BROKEN);
  assert_int_equal(o1->scope, DN_SCOPE_CUSTOMER);
  assert_field(o1->actions[0].priority, "customer", "total_overdue");
  assert_int_equal(o2->event, DN_EV_DISPUTE_OPENED);
  assert_int_equal(o2->actions[0].kind, DN_ACT_TASK);
  assert_string_equal(o2->actions[0].text, "review dispute");
  assert_string_equal(o2->actions[0].assign, "billing");
  const dn_decl *r = find_decl(&p->ast, DN_D_RULE, 0);
  assert_string_equal(r->name.name, "over_limit");
  assert_int_equal(r->scope, DN_SCOPE_CUSTOMER);
  assert_int_equal(r->expr->op, DN_OP_GT);
  assert_int_equal(r->nactions, 1);
  assert_int_equal(r->actions[0].kind, DN_ACT_HOLD);
  assert_int_equal(r->duration.days, 30);
  const dn_decl *l = find_decl(&p->ast, DN_D_LIMIT, 0);
  assert_int_equal(l->ncaps, 2);
  assert_int_equal(l->caps[0].count, 1);
  assert_int_equal(l->caps[0].window.days, 3);
  assert_int_equal(l->caps[1].count, 4);
  assert_int_equal(l->caps[1].window.days, 30);
  done(p);
}

static void test_declarations(void **state) {
  (void)state;
  parsed *p = parse_ok(
      "tones soft: a < b < c\n"
      "promise_grace 5 days\n"
      "extern fn score(string, money) -> number from \"libacme_risk.so\"\n"
      "extern fn now() -> date from \"libx.so\"\n"
      "segment s when true { tones soft tone +2 }\n"
      "rule r for invoice when true do release credit\n");
  const dn_decl *d = p->ast.decls;
  assert_int_equal(p->ast.ndecls, 6);
  assert_int_equal(d[0].ntones, 3);
  assert_string_equal(d[0].name.name, "soft");
  assert_string_equal(d[0].tones[1].name, "b");
  assert_int_equal(d[1].kind, DN_D_PROMISE_GRACE);
  assert_int_equal(d[1].duration.days, 5);
  assert_int_equal(d[2].kind, DN_D_EXTERN);
  assert_string_equal(d[2].name.name, "score");
  assert_int_equal(d[2].nparams, 2);
  assert_int_equal(d[2].param_types[0], DN_T_STRING);
  assert_int_equal(d[2].param_types[1], DN_T_MONEY);
  assert_int_equal(d[2].ret_type, DN_T_NUMBER);
  assert_string_equal(d[2].library, "libacme_risk.so");
  assert_int_equal(d[3].nparams, 0);
  assert_int_equal(d[3].ret_type, DN_T_DATE);
  assert_string_equal(d[4].ladder.name, "soft");
  assert_int_equal(d[4].tone_shift, 2);
  assert_int_equal(d[5].scope, DN_SCOPE_INVOICE);
  assert_int_equal(d[5].actions[0].kind, DN_ACT_RELEASE);
  assert_int_equal(d[5].duration.days, 0); /* no `once per` */
  done(p);
}

static void test_durations(void **state) {
  (void)state;
  parsed *p = parse_ok(
      "escalation e for invoice in s {\n"
      "  step 3 business days: email\n"
      "  step 2 weeks: sms\n"
      "  step 1 business day: call\n"
      "  step 1 week: letter when invoice.due_date + 2 weeks < 2026-03-10\n"
      "}\n");
  const dn_decl *e = p->ast.decls;
  assert_int_equal(e->nsteps, 4);
  assert_int_equal(e->steps[0].offset.days, 3);
  assert_true(e->steps[0].offset.business);
  assert_int_equal(e->steps[1].offset.days, 14);
  assert_false(e->steps[1].offset.business);
  assert_int_equal(e->steps[2].offset.days, 1);
  assert_true(e->steps[2].offset.business);
  assert_int_equal(e->steps[3].offset.days, 7);
  const dn_expr *g = e->steps[3].guard;
  assert_int_equal(g->op, DN_OP_LT);
  assert_int_equal(g->lhs->op, DN_OP_ADD);
  assert_int_equal(g->lhs->rhs->kind, DN_EX_DURATION);
  assert_int_equal(g->lhs->rhs->duration.days, 14);
  assert_int_equal(g->rhs->kind, DN_EX_DATE);
  /* 2026-03-10: 56 years of days since 1970 (14 leap years) + 68 days. */
  assert_int_equal(g->rhs->date, 56 * 365 + 14 + 31 + 28 + 9);
  done(p);
}

static void test_numbers(void **state) {
  (void)state;
  parsed *p = parse_ok("let x = 30%");
  assert_int_equal(let_value(p)->kind, DN_EX_NUMBER);
  assert_true(let_value(p)->n == 0.30);
  done(p);
  p = parse_ok("let x = 1_200.50 EUR");
  assert_int_equal(let_value(p)->kind, DN_EX_MONEY);
  assert_string_equal(let_value(p)->money_text, "1200.50");
  assert_string_equal(let_value(p)->currency, "EUR");
  done(p);
  p = parse_ok("let x = 1_000_000");
  assert_int_equal(let_value(p)->kind, DN_EX_INT);
  assert_int_equal(let_value(p)->i, 1000000);
  done(p);
  p = parse_ok("let x = 0.75");
  assert_true(let_value(p)->n == 0.75);
  done(p);
  p = parse_ok("let x = 12.5%");
  assert_true(let_value(p)->n == 0.125);
  done(p);
  p = parse_ok("let x = 1000 JPY");
  assert_string_equal(let_value(p)->money_text, "1000");
  assert_string_equal(let_value(p)->currency, "JPY");
  done(p);
}

static void test_strings(void **state) {
  (void)state;
  parsed *p = parse_ok("let x = \"a\\\"b\\\\c\\nd\\te\"");
  assert_int_equal(let_value(p)->kind, DN_EX_STRING);
  assert_string_equal(let_value(p)->str, "a\"b\\c\nd\te");
  done(p);
  p = parse_ok("let x = \"caf\xc3\xa9 # not a comment\" # a comment");
  assert_string_equal(let_value(p)->str, "caf\xc3\xa9 # not a comment");
  done(p);
}

static void test_in_call_attr(void **state) {
  (void)state;
  parsed *p = parse_ok("let x = customer.country in [\"US\", \"CA\", \"MX\"]");
  const dn_expr *e = let_value(p);
  assert_int_equal(e->kind, DN_EX_IN);
  assert_field(e->lhs, "customer", "country");
  assert_int_equal(e->nitems, 3);
  assert_string_equal(e->items[2]->str, "MX");
  done(p);
  p = parse_ok("let x = max(days_between(invoice.due_date, today()), 0)");
  e = let_value(p);
  assert_int_equal(e->kind, DN_EX_CALL);
  assert_string_equal(e->str, "max");
  assert_int_equal(e->nitems, 2);
  assert_int_equal(e->items[0]->kind, DN_EX_CALL);
  assert_string_equal(e->items[0]->str, "days_between");
  assert_int_equal(e->items[0]->items[1]->nitems, 0);
  assert_int_equal(e->items[1]->i, 0);
  done(p);
  p = parse_ok("let x = customer.attr(\"key\") == \"v\"");
  e = let_value(p)->lhs;
  assert_int_equal(e->kind, DN_EX_ATTR);
  assert_string_equal(e->str, "key");
  done(p);
  /* Keywords after a dot are field names. */
  p = parse_ok("let x = invoice.currency == customer.segment");
  assert_field(let_value(p)->lhs, "invoice", "currency");
  assert_field(let_value(p)->rhs, "customer", "segment");
  done(p);
}

static void test_precedence(void **state) {
  (void)state;
  /* or < and < not < comparison < + - < * / < unary minus */
  parsed *p = parse_ok("let x = a or b and not c == 1 + 2 * -3");
  const dn_expr *e = let_value(p);
  assert_int_equal(e->op, DN_OP_OR);
  assert_string_equal(e->lhs->str, "a");
  const dn_expr *r = e->rhs;
  assert_int_equal(r->op, DN_OP_AND);
  assert_string_equal(r->lhs->str, "b");
  const dn_expr *n = r->rhs;
  assert_int_equal(n->kind, DN_EX_UNARY);
  assert_int_equal(n->op, DN_OP_NOT);
  const dn_expr *eq = n->lhs;
  assert_int_equal(eq->op, DN_OP_EQ);
  assert_string_equal(eq->lhs->str, "c");
  const dn_expr *add = eq->rhs;
  assert_int_equal(add->op, DN_OP_ADD);
  assert_int_equal(add->lhs->i, 1);
  const dn_expr *mul = add->rhs;
  assert_int_equal(mul->op, DN_OP_MUL);
  assert_int_equal(mul->rhs->kind, DN_EX_UNARY);
  assert_int_equal(mul->rhs->op, DN_OP_NEG);
  assert_int_equal(mul->rhs->lhs->i, 3);
  done(p);
  /* Left associativity, and parentheses. */
  p = parse_ok("let x = 10 - 4 - 3 / (1 + 1)");
  e = let_value(p);
  assert_int_equal(e->op, DN_OP_SUB);
  assert_int_equal(e->lhs->op, DN_OP_SUB);
  assert_int_equal(e->rhs->op, DN_OP_DIV);
  assert_int_equal(e->rhs->rhs->op, DN_OP_ADD);
  /* A binary node spans its operands. */
  assert_int_equal(e->span.start, 8);
  assert_int_equal(e->span.end, strlen("let x = 10 - 4 - 3 / (1 + 1)"));
  done(p);
}

static void test_actions(void **state) {
  (void)state;
  parsed *p = parse_ok(
      "on invoice.issued for invoice when invoice.amount > 0 USD do\n"
      "  email assign \"ar\" priority 2 template \"t\" tone firm,\n"
      "  escalate \"agency\", release credit\n");
  const dn_decl *d = p->ast.decls;
  assert_int_equal(d->event, DN_EV_INVOICE_ISSUED);
  assert_non_null(d->expr);
  assert_int_equal(d->nactions, 3);
  const dn_action *a = d->actions;
  assert_string_equal(a[0].assign, "ar");
  assert_int_equal(a[0].priority->i, 2);
  assert_string_equal(a[0].template_name, "t");
  assert_string_equal(a[0].tone.name, "firm");
  assert_int_equal(a[1].kind, DN_ACT_ESCALATE);
  assert_int_equal(a[2].kind, DN_ACT_RELEASE);
  done(p);
}

static void test_names(void **state) {
  (void)state;
  assert_string_equal(dn_event_name(DN_EV_PROMISE_MADE), "promise.made");
  assert_string_equal(dn_action_kind_name(DN_ACT_HOLD), "hold");
  assert_string_equal(dn_action_kind_name(DN_ACT_LETTER), "letter");
  assert_true(dn_action_is_contact(DN_ACT_SMS));
  assert_false(dn_action_is_contact(DN_ACT_TASK));
  assert_string_equal(dn_type_name(DN_T_MONEY), "money");
  assert_string_equal(dn_type_name(DN_T_ERROR), "<error>");
}

static void test_vec_push(void **state) {
  (void)state;
  dn_arena a;
  dn_arena_init(&a);
  void *items = NULL;
  int n = 0;
  for (int i = 0; i < 1000; i++) {
    int *slot = dn_vec_push(&a, &items, &n, sizeof(int));
    assert_non_null(slot);
    assert_int_equal(*slot, 0);
    *slot = i;
  }
  assert_int_equal(n, 1000);
  for (int i = 0; i < 1000; i++) assert_int_equal(((int *)items)[i], i);
  dn_arena_free(&a);
}

/* ---- diagnostics --------------------------------------------------------- */

static void test_e0101_user_words(void **state) {
  (void)state;
  parsed *p = parse("escalation e for invoice in s {\n  step 7 dayz: email\n}\n");
  expect_diag(p, 0, DN_E0101, 2, 10);
  assert_non_null(strstr(p->diags.items[0].message, "expected a duration such as `7 days`"));
  assert_non_null(strstr(p->diags.items[0].message, "found `dayz`"));
  done(p);
  p = parse("on payment.failed for invoice do emial\n");
  expect_diag(p, 0, DN_E0101, 1, 34);
  assert_non_null(strstr(p->diags.items[0].message, "expected an action (email, sms"));
  done(p);
  p = parse("promise_grace days\n");
  expect_diag(p, 0, DN_E0101, 1, 15);
  assert_non_null(strstr(p->diags.items[0].message, "expected a duration such as `7 days`"));
  done(p);
}

static void test_e0101_more_words(void **state) {
  (void)state;
  parsed *p = parse("rule r for invoice when true do hold\nlet x = 1\n");
  expect_diag(p, 0, DN_E0101, 2, 1);
  assert_string_equal(p->diags.items[0].message, "expected `credit`, found `let`");
  done(p);
  p = parse("policy");
  expect_diag(p, 0, DN_E0101, 1, 7);
  assert_string_equal(p->diags.items[0].message,
                      "expected the policy name in quotes, as in `policy \"acme\" version 1`, found end of file");
  done(p);
  p = parse("let a = 500 usd");
  expect_diag(p, 0, DN_E0101, 1, 13);
  assert_non_null(strstr(p->diags.items[0].message, "`500 USD`"));
  done(p);
  p = parse("let a = 1 <= 2 == 3");
  expect_diag(p, 0, DN_E0101, 1, 16); /* comparisons do not chain */
  done(p);
}

static void test_e0101_two_errors(void **state) {
  (void)state;
  parsed *p = parse(
      "policy \"x\" version 1\n"
      "let a = 1 +\n"
      "let b = 2\n"
      "segment s when a > {\n"
      "}\n"
      "let c = 3\n");
  assert_int_equal(p->diags.count, 2);
  expect_diag(p, 0, DN_E0101, 3, 1);
  expect_diag(p, 1, DN_E0101, 4, 20);
  assert_non_null(strstr(p->diags.items[0].message, "expected an expression"));
  /* Recovery kept the declarations around the errors. */
  const dn_decl *last = &p->ast.decls[p->ast.ndecls - 1];
  assert_int_equal(last->kind, DN_D_LET);
  assert_string_equal(last->name.name, "c");
  done(p);
}

static void test_e0102(void **state) {
  (void)state;
  parsed *p = parse("let a = 1\nlet b = \"oops\nlet c = 2\n");
  expect_diag(p, 0, DN_E0102, 2, 9);
  assert_int_equal(p->diags.count, 1); /* the next line still parses */
  assert_int_equal(p->ast.ndecls, 3);
  assert_string_equal(p->ast.decls[1].expr->str, "oops");
  done(p);
}

static void test_e0103(void **state) {
  (void)state;
  parsed *p = parse("let a = 1 $ 2\n");
  expect_diag(p, 0, DN_E0103, 1, 11);
  done(p);
  p = parse("let \xc3\xa9t\xc3\xa9 = 1\n");
  expect_diag(p, 0, DN_E0103, 1, 5);
  assert_string_equal(p->diags.items[0].message, "invalid character `\xc3\xa9`");
  done(p);
}

/* Nesting beyond the parser's stack is an input error that is reported,
 * not an internal failure that `check` would take for a clean file. */
static void test_too_deep(void **state) {
  (void)state;
  enum { DEPTH = 20000 };
  char *src = malloc(2 * DEPTH + 16);
  assert_non_null(src);
  size_t n = (size_t)sprintf(src, "let x = ");
  memset(src + n, '(', DEPTH);
  n += DEPTH;
  src[n++] = '1';
  memset(src + n, ')', DEPTH);
  n += DEPTH;
  src[n] = '\0';
  parsed *p = parse(src);
  assert_int_equal(p->st, DN_ERR_INPUT);
  assert_int_equal(p->diags.count, 1);
  assert_int_equal(p->diags.items[0].code, DN_E0101);
  assert_string_equal(p->diags.items[0].message, "the policy is nested too deeply to parse");
  done(p);
  free(src);
}

/* A long flat chain does not deepen the parser stack but does deepen the
 * tree that the checker walks recursively: it is refused with a message. */
static void test_too_many_operators(void **state) {
  (void)state;
  enum { TERMS = 30000 };
  char *src = malloc(4 * TERMS + 32);
  assert_non_null(src);
  size_t n = (size_t)sprintf(src, "let x = 1");
  for (int i = 1; i < TERMS; i++) n += (size_t)sprintf(src + n, " + 1");
  sprintf(src + n, " > 0\n");
  parsed *p = parse(src);
  assert_int_equal(p->st, DN_ERR_INPUT);
  assert_int_equal(p->diags.count, 1);
  assert_int_equal(p->diags.items[0].code, DN_E0101);
  assert_string_equal(p->diags.items[0].message,
                      "this declaration has more than 20000 operators, too many to check");
  done(p);
  free(src);
}

static void test_e0104(void **state) {
  (void)state;
  parsed *p = parse("let a = 1\nsegment s when a {\n  tone -1\n  assign \"x\"\n");
  assert_int_equal(p->diags.count, 1);
  expect_diag(p, 0, DN_E0104, 4, 13); /* just after `assign "x"` */
  const dn_diag *g = &p->diags.items[0];
  assert_non_null(g->note);
  int l, c;
  dn_source_position(p->ast.source, p->ast.source_len, g->note_span.start, &l, &c);
  assert_int_equal(l, 2);
  assert_int_equal(c, 18);
  done(p);
}

static void test_e0105(void **state) {
  (void)state;
  parsed *p = parse("let d = 2026-02-30\n");
  expect_diag(p, 0, DN_E0105, 1, 9);
  done(p);
  p = parse("policy \"p\" version 1\nsend_window 09:00 .. 25:00\n");
  expect_diag(p, 0, DN_E0105, 2, 22);
  done(p);
  p = parse("let n = 99999999999999999999\n");
  expect_diag(p, 0, DN_E0105, 1, 9);
  done(p);
  p = parse_ok("let d = 2024-02-29"); /* a leap day is a real date */
  done(p);
}

static void test_e0106(void **state) {
  (void)state;
  parsed *p = parse("let s = \"ab\\qc\"\n");
  expect_diag(p, 0, DN_E0106, 1, 12);
  assert_int_equal(p->diags.count, 1);
  done(p);
}

static void test_e0310(void **state) {
  (void)state;
  parsed *p = parse("let a = 1\non payment.bounced for invoice do email\n");
  expect_diag(p, 0, DN_E0310, 2, 4);
  const dn_diag *g = &p->diags.items[0];
  assert_int_equal(g->span.end - g->span.start, strlen("payment.bounced"));
  done(p);
}

/* ---- reentrancy and speed ------------------------------------------------ */

static void *parse_in_thread(void *arg) {
  (void)arg;
  for (int i = 0; i < 20; i++) {
    dn_ast ast;
    dn_diags d;
    dn_diags_init(&d, "t.dun", DN_SPEC_EXAMPLE, strlen(DN_SPEC_EXAMPLE));
    dn_status st = dn_parse("t.dun", DN_SPEC_EXAMPLE, strlen(DN_SPEC_EXAMPLE), &ast, &d);
    bool ok = st == DN_OK && ast.ndecls == 17 && d.count == 0;
    dn_ast_free(&ast);
    dn_diags_free(&d);
    if (!ok) return (void *)1;
  }
  return NULL;
}

static void test_two_threads(void **state) {
  (void)state;
  pthread_t t1, t2;
  assert_int_equal(pthread_create(&t1, NULL, parse_in_thread, NULL), 0);
  assert_int_equal(pthread_create(&t2, NULL, parse_in_thread, NULL), 0);
  void *r1, *r2;
  pthread_join(t1, &r1);
  pthread_join(t2, &r2);
  assert_null(r1);
  assert_null(r2);
}

static void test_big_policy(void **state) {
  (void)state;
  size_t cap = 1 << 20, len = 0;
  char *src = malloc(cap);
  assert_non_null(src);
  len += (size_t)snprintf(src, cap, "escalation e for invoice in s {\n");
  for (int i = 0; i < 5000; i++)
    len += (size_t)snprintf(src + len, cap - len,
                            "  step %d days: email tone firm, call priority invoice.balance\n", i);
  len += (size_t)snprintf(src + len, cap - len, "}\n");
  for (int i = 0; i < 4998; i++)
    len += (size_t)snprintf(src + len, cap - len, "let v%d = customer.risk_score * 2 + 1 > 0.5\n", i);
  assert_true(len < cap);
  parsed *p = parse(src);
  assert_int_equal(p->diags.count, 0);
  assert_int_equal(p->ast.ndecls, 4999);
  assert_int_equal(p->ast.decls[0].nsteps, 5000);
  done(p);
  free(src);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_acme_header),
      cmocka_unit_test(test_acme_segments),
      cmocka_unit_test(test_acme_escalation),
      cmocka_unit_test(test_acme_events_rule_limit),
      cmocka_unit_test(test_declarations),
      cmocka_unit_test(test_durations),
      cmocka_unit_test(test_numbers),
      cmocka_unit_test(test_strings),
      cmocka_unit_test(test_in_call_attr),
      cmocka_unit_test(test_precedence),
      cmocka_unit_test(test_actions),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_vec_push),
      cmocka_unit_test(test_e0101_user_words),
      cmocka_unit_test(test_e0101_more_words),
      cmocka_unit_test(test_e0101_two_errors),
      cmocka_unit_test(test_e0102),
      cmocka_unit_test(test_e0103),
      cmocka_unit_test(test_e0104),
      cmocka_unit_test(test_e0105),
      cmocka_unit_test(test_e0106),
      cmocka_unit_test(test_e0310),
      cmocka_unit_test(test_too_deep),
      cmocka_unit_test(test_too_many_operators),
      cmocka_unit_test(test_two_threads),
      cmocka_unit_test(test_big_policy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
