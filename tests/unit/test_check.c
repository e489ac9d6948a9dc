/* test_check.c - the checker: the section 1 policy checks clean, and every
 * diagnostic code the checker emits has a tiny policy that triggers it,
 * asserted by code, line:col of the span start, and hint text. Columns
 * below were counted by hand from the source strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lang/ast.h"
#include "lang/check.h"
#include "lang/diag.h"
#include "stdlib/money.h"
#include "spec_example.h"

/* Two lines; snippets appended to it start on line 3. */
#define HEAD "policy \"t\" version 1\ncurrency USD\n"

typedef struct fx {
  const char *src;
  dn_ast ast;
  dn_diags d;
  dn_status check;
} fx;

static void run(fx *f, const char *src) {
  memset(f, 0, sizeof *f);
  f->src = src;
  dn_diags_init(&f->d, "t.dun", src, strlen(src));
  dn_status p = dn_parse("t.dun", src, strlen(src), &f->ast, &f->d);
  if (p != DN_OK) {
    for (size_t i = 0; i < f->d.count; i++) print_error("parse: %s\n", f->d.items[i].message);
  }
  assert_int_equal(p, DN_OK);
  f->check = dn_check(&f->ast, &f->d);
}

/* Every message follows the house style: lower case, no trailing period. */
static void done(fx *f) {
  for (size_t i = 0; i < f->d.count; i++) {
    const char *m = f->d.items[i].message;
    size_t n = strlen(m);
    assert_true(n > 0);
    assert_false(m[0] >= 'A' && m[0] <= 'Z');
    assert_int_not_equal(m[n - 1], '.');
  }
  dn_ast_free(&f->ast);
  dn_diags_free(&f->d);
}

static size_t count_code(const fx *f, dn_diag_code code) {
  size_t n = 0;
  for (size_t i = 0; i < f->d.count; i++) n += f->d.items[i].code == code;
  return n;
}

static void dump(const fx *f) {
  for (size_t i = 0; i < f->d.count; i++) {
    int l, c;
    dn_source_position(f->src, strlen(f->src), f->d.items[i].span.start, &l, &c);
    print_error("  %s %d:%d %s\n", dn_diag_code_name(f->d.items[i].code), l, c, f->d.items[i].message);
  }
}

/* The first diagnostic with `code`, asserted to start at line:col. */
static const dn_diag *expect_at(const fx *f, dn_diag_code code, int line, int col) {
  for (size_t i = 0; i < f->d.count; i++) {
    const dn_diag *g = &f->d.items[i];
    if (g->code != code) continue;
    int l = 0, c = 0;
    dn_source_position(f->src, strlen(f->src), g->span.start, &l, &c);
    if (l != line || c != col) dump(f);
    assert_int_equal(l, line);
    assert_int_equal(c, col);
    return g;
  }
  dump(f);
  fail_msg("no %s", dn_diag_code_name(code));
  return NULL;
}

static void expect_pos(const fx *f, dn_span s, int line, int col) {
  int l = 0, c = 0;
  dn_source_position(f->src, strlen(f->src), s.start, &l, &c);
  assert_int_equal(l, line);
  assert_int_equal(c, col);
}

static void expect_error(const fx *f) {
  assert_int_equal(f->check, DN_ERR_INPUT);
}

/* ---- clean policies ---------------------------------------------------- */

static void t_section1_clean(void **state) {
  (void)state;
  fx f;
  run(&f, DN_SPEC_EXAMPLE);
  if (f.d.count) dump(&f);
  assert_int_equal(f.check, DN_OK);
  assert_int_equal(f.d.errors, 0);
  assert_int_equal(f.d.warnings, 0);
  assert_int_equal(f.ast.nlets, 2);
  /* chronic is a customer-scope let; the `unless` reads an invoice. */
  const dn_decl *chronic = &f.ast.decls[f.ast.lets[1]];
  assert_string_equal(chronic->name.name, "chronic");
  assert_int_equal(chronic->let_scope, DN_SCOPE_CUSTOMER);
  assert_true(chronic->used);
  done(&f);
}

static void t_types_filled(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD
      "let big = customer.total_overdue >= 50_000 USD\n"
      "let late = customer.avg_days_late > 20\n"
      "let ratio = invoice.balance / invoice.amount\n"
      "let next = invoice.due_date + 7 days\n"
      "let gap = days_between(invoice.due_date, today())\n"
      "let m = max(invoice.balance, 10 USD) * 2\n"
      "let tone_ok = customer.last_tone >= firm\n"
      "segment s when big or late\n"
      "segment o otherwise\n"
      "escalation e for invoice in s, o unless ratio > 0.5 or next < today() or gap > 3 or m > 1 USD "
      "or tone_ok { step 1 day: email }\n");
  if (f.d.count) dump(&f);
  assert_int_equal(f.check, DN_OK);
  assert_int_equal(f.d.count, 0);
  const dn_expr *big = f.ast.decls[f.ast.lets[0]].expr;
  assert_int_equal(big->type, DN_T_BOOL);
  assert_int_equal(big->lhs->type, DN_T_MONEY);
  assert_int_equal(big->lhs->field, DN_F_CUSTOMER_total_overdue);
  assert_int_equal(big->rhs->kind, DN_EX_MONEY);
  assert_int_equal(big->rhs->type, DN_T_MONEY);
  assert_int_equal(big->rhs->money.minor, 5000000);
  assert_int_equal(big->rhs->money.cur, dn_currency_lookup("USD", 3));
  assert_int_equal(big->scope, DN_SCOPE_CUSTOMER);

  const dn_expr *late = f.ast.decls[f.ast.lets[1]].expr;
  assert_int_equal(late->lhs->type, DN_T_NUMBER);
  assert_int_equal(late->rhs->type, DN_T_INT);
  assert_true(late->rhs->convert_to_number);
  assert_false(late->lhs->convert_to_number);

  const dn_decl *ratio = &f.ast.decls[f.ast.lets[2]];
  assert_int_equal(ratio->expr->type, DN_T_NUMBER);
  assert_int_equal(ratio->let_scope, DN_SCOPE_INVOICE);
  assert_int_equal(f.ast.decls[f.ast.lets[3]].expr->type, DN_T_DATE);

  const dn_expr *gap = f.ast.decls[f.ast.lets[4]].expr;
  assert_int_equal(gap->type, DN_T_INT);
  assert_int_equal(gap->builtin, DN_B_DAYS_BETWEEN);
  assert_int_equal(gap->items[1]->builtin, DN_B_TODAY);

  /* max(money, money) * int: MAX_MONEY, then money * number with the
   * int converted. */
  const dn_expr *m = f.ast.decls[f.ast.lets[5]].expr;
  assert_int_equal(m->type, DN_T_MONEY);
  assert_int_equal(m->lhs->builtin, DN_B_MAX_MONEY);
  assert_true(m->rhs->convert_to_number);

  const dn_expr *t = f.ast.decls[f.ast.lets[6]].expr;
  assert_int_equal(t->type, DN_T_BOOL);
  assert_int_equal(t->rhs->type, DN_T_TONE);
  assert_int_equal(t->rhs->tone_rank, 2); /* friendly neutral firm final */

  /* A reference to a let carries its index and type. */
  const dn_decl *seg = &f.ast.decls[f.ast.lets[6] + 1];
  assert_int_equal(seg->kind, DN_D_SEGMENT);
  assert_int_equal(seg->expr->lhs->let_index, 0);
  assert_int_equal(seg->expr->rhs->let_index, 1);
  done(&f);
}

static void t_foreign_literal_vs_ledger_ok(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment s when customer.total_open > 5 EUR\nsegment o otherwise\n"
               "escalation e for invoice in s, o { step 1 day: email }\n");
  if (f.d.count) dump(&f);
  assert_int_equal(f.check, DN_OK);
  done(&f);
}

static void t_suggest(void **state) {
  (void)state;
  const char *c[] = {"friendly", "neutral", "firm", "final"};
  assert_string_equal(dn_suggest("frim", c, 4), "firm");
  assert_string_equal(dn_suggest("FIRM", c, 4), "firm");
  assert_string_equal(dn_suggest("nuetral", c, 4), "neutral"); /* 2 <= 7/3 */
  assert_null(dn_suggest("zzzz", c, 4));
  assert_null(dn_suggest("fxx", c, 4)); /* distance 2 > max(1, 1) */
  assert_null(dn_suggest("x", NULL, 0));
}

/* ---- E02xx ------------------------------------------------------------- */

static void t_e0201_unknown_field(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment s when customer.risk_scor > 0.5\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0201, 3, 25);
  assert_string_equal(g->hint, "did you mean `customer.risk_score`?");
  done(&f);
  run(&f, HEAD "segment s when customer.balance > 5 USD\n");
  g = expect_at(&f, DN_E0201, 3, 25);
  assert_string_equal(g->hint, "did you mean `invoice.balance`?");
  done(&f);
}

static void t_e0202_unknown_name(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "let chronic = customer.avg_days_late > 20\nsegment s when chronik\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0202, 4, 16);
  assert_string_equal(g->message, "unknown name `chronik`");
  assert_string_equal(g->hint, "did you mean `chronic`?");
  done(&f);
  run(&f, HEAD "segment s when custmer.tier == \"a\"\n");
  g = expect_at(&f, DN_E0202, 3, 16);
  assert_string_equal(g->hint, "did you mean `customer`?");
  done(&f);
  /* A let must be declared before it is used. */
  run(&f, HEAD "segment s when later\nlet later = true\n");
  g = expect_at(&f, DN_E0202, 3, 16);
  assert_string_equal(g->message, "`later` is used before it is declared");
  expect_pos(&f, g->note_span, 4, 5);
  done(&f);
}

static void t_e0203_money_vs_number(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment big when customer.total_overdue > 5000\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0203, 3, 41); /* at `>` */
  assert_int_equal(g->span.end - g->span.start, 6); /* `> 5000`, the ^~~~~~ of s.7 */
  assert_string_equal(g->message, "cannot compare money with number");
  assert_string_equal(g->hint, "write the amount with its currency, e.g. `5000 USD`");
  assert_int_equal(count_code(&f, DN_E0208), 0);
  done(&f);
}

/* The line of LANGUAGE.md s.7: both mistakes are reported, the E0203 with
 * the caret of the picture (col 34, `>`), the E0208 at `invoice`. */
static void t_e0203_section7_line(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment big when invoice.balance > 5000\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0203, 3, 34);
  assert_int_equal(g->span.end - g->span.start, 6);
  assert_string_equal(g->hint, "write the amount with its currency, e.g. `5000 USD`");
  expect_at(&f, DN_E0208, 3, 18);
  done(&f);
}

static void t_e0204_type_mismatch(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment s when customer.tier > 3\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0204, 3, 30);
  assert_string_equal(g->message, "cannot compare string with int");
  done(&f);
  run(&f, HEAD "segment s when customer.tier < \"b\"\n");
  g = expect_at(&f, DN_E0204, 3, 30);
  assert_string_equal(g->message, "string values can only be compared with == and !=");
  done(&f);
}

static void t_e0205_bad_arguments(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment s when days_between(customer.last_contact_date) > 3\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0205, 3, 16);
  assert_string_equal(g->message, "`days_between` cannot be called with (date)");
  assert_string_equal(g->hint, "`days_between` takes (date, date)");
  done(&f);
}

static void t_e0206_unknown_function(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment s when lowr(customer.tier) == \"a\"\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0206, 3, 16);
  assert_int_equal(g->span.end - g->span.start, 4);
  assert_string_equal(g->hint, "did you mean `lower`?");
  done(&f);
}

static void t_e0207_not_bool(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment s when customer.risk_score\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0207, 3, 16);
  assert_string_equal(g->message, "a segment condition must be bool, found number");
  done(&f);
  run(&f, HEAD "segment s when customer.open_invoices and true\n");
  expect_at(&f, DN_E0207, 3, 16);
  done(&f);
}

static void t_e0208_wrong_scope(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment s when invoice.disputed\n");
  expect_error(&f);
  expect_at(&f, DN_E0208, 3, 16);
  done(&f);
  run(&f, HEAD "rule r for customer when invoice.open do hold credit\n");
  expect_at(&f, DN_E0208, 3, 26);
  done(&f);
  /* Through an invoice-scope let: the caret is at the let's name. */
  run(&f, HEAD "let late = invoice.days_past_due > 30\nsegment s when late\n");
  const dn_diag *g = expect_at(&f, DN_E0208, 4, 16);
  expect_pos(&f, g->note_span, 3, 5);
  done(&f);
}

static void t_e0209_currency_mismatch(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment s when customer.total_open > 5 EUR + 3 USD\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0209, 3, 44);
  assert_string_equal(g->message, "cannot combine an amount in EUR with one in USD");
  done(&f);
}

static void t_e0210_bad_priority(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "on payment.failed for invoice do email priority invoice.disputed\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0210, 3, 49);
  assert_string_equal(g->message, "priority must be a number or money, found bool");
  done(&f);
}

static void t_e0211_let_cycle(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "let a = b\nlet b = a\nsegment s when a\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0211, 3, 9);
  expect_pos(&f, g->note_span, 4, 5);
  assert_int_equal(count_code(&f, DN_E0202), 0);
  done(&f);
  run(&f, HEAD "let a = not a\nsegment s when a\n");
  g = expect_at(&f, DN_E0211, 3, 13);
  assert_string_equal(g->message, "let `a` refers to itself");
  done(&f);
}

/* ---- E03xx ------------------------------------------------------------- */

static void t_e0301_unknown_segment(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment standard otherwise\nescalation e for invoice in standrd {\n  step 1 day: email\n}\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0301, 4, 29);
  assert_string_equal(g->hint, "did you mean `standard`?");
  done(&f);
}

static void t_e0302_unknown_tone(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment standard otherwise\nescalation e for invoice in standard {\n"
               "  step 1 day: email tone frim\n}\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0302, 5, 26);
  assert_string_equal(g->message, "tone `frim` is not on ladder `standard` of segment `standard`");
  assert_string_equal(g->hint, "did you mean `firm`?");
  done(&f);
  /* A tone must be on the ladder of every listed segment. */
  run(&f, HEAD "tones soft: polite < firm\nsegment a when true { tones soft }\nsegment b otherwise\n"
               "escalation e for invoice in a, b {\n  step 1 day: email tone neutral\n}\n");
  g = expect_at(&f, DN_E0302, 7, 26);
  assert_string_equal(g->message, "tone `neutral` is not on ladder `soft` of segment `a`");
  assert_int_equal(count_code(&f, DN_E0302), 1);
  done(&f);
}

static void t_e0303_unknown_ladder(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "tones strict: polite < stern\nsegment s otherwise { tones strct }\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0303, 4, 29);
  assert_string_equal(g->hint, "did you mean `strict`?");
  done(&f);
}

static void t_e0304_duplicate(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "let a = true\nlet a = false\nsegment s when a\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0304, 4, 5);
  expect_pos(&f, g->note_span, 3, 5);
  done(&f);
  run(&f, HEAD "currency EUR\n");
  g = expect_at(&f, DN_E0304, 3, 1);
  assert_string_equal(g->message, "`currency` is given twice");
  expect_pos(&f, g->note_span, 2, 1);
  done(&f);
  run(&f, HEAD "tones t: a < b < a\n");
  expect_at(&f, DN_E0304, 3, 18);
  done(&f);
}

static void t_e0305_steps_out_of_order(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment standard otherwise\nescalation e for invoice in standard {\n"
               "  step 7 days: email\n  step 1 day: sms\n}\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0305, 6, 8);
  expect_pos(&f, g->note_span, 5, 8);
  done(&f);
  /* Business and calendar days compare by their day count. */
  run(&f, HEAD "segment standard otherwise\nescalation e for invoice in standard {\n"
               "  step 3 business days: email\n  step 3 days: sms\n}\n");
  expect_at(&f, DN_E0305, 6, 8);
  done(&f);
}

static void t_e0306_otherwise_not_last(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment o otherwise\nsegment s when true\n");
  expect_error(&f);
  expect_at(&f, DN_E0306, 3, 1);
  expect_at(&f, DN_W0101, 4, 9);
  done(&f);
}

static void t_e0307_too_many_decimals(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment s when customer.total_open > 1.005 USD\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0307, 3, 38);
  assert_string_equal(g->message, "`1.005 USD` has 3 decimals but USD has 2");
  done(&f);
  run(&f, HEAD "segment s when customer.total_open > 1.5 JPY\n");
  g = expect_at(&f, DN_E0307, 3, 38);
  assert_string_equal(g->message, "`1.5 JPY` has 1 decimal but JPY has 0");
  done(&f);
}

static void t_e0308_unknown_currency(void **state) {
  (void)state;
  fx f;
  run(&f, "policy \"t\" version 1\ncurrency USX\n");
  expect_error(&f);
  expect_at(&f, DN_E0308, 2, 10);
  done(&f);
  run(&f, HEAD "segment s when customer.total_open > 5 USB\n");
  const dn_diag *g = expect_at(&f, DN_E0308, 3, 40);
  assert_string_equal(g->hint, "did you mean `USD`?");
  done(&f);
}

static void t_e0309_missing_header(void **state) {
  (void)state;
  fx f;
  run(&f, "currency USD\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0309, 1, 1);
  assert_string_equal(g->message, "missing `policy \"NAME\" version N` header");
  done(&f);
  run(&f, "policy \"t\" version 1\n");
  g = expect_at(&f, DN_E0309, 1, 1);
  assert_string_equal(g->message, "missing `currency` declaration");
  done(&f);
  run(&f, "currency USD\npolicy \"t\" version 1\n");
  g = expect_at(&f, DN_E0309, 2, 1);
  assert_string_equal(g->message, "`policy` must be the first declaration");
  done(&f);
}

static void t_e0311_unknown_timezone(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "timezone \"Mars/Olympus\"\n");
  expect_error(&f);
  expect_at(&f, DN_E0311, 3, 10);
  done(&f);
}

static void t_e0312_bad_send_window(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "send_window 17:00 .. 09:00\n");
  expect_error(&f);
  const dn_diag *g = expect_at(&f, DN_E0312, 3, 1);
  assert_string_equal(g->message, "the send window ends at 09:00, not after its start at 17:00");
  done(&f);
}

static void t_e0313_bad_extern(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "extern fn f(duration) -> number from \"libx.so\"\n");
  expect_error(&f);
  expect_at(&f, DN_E0313, 3, 13);
  done(&f);
}

static void t_extern_call_types(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "extern fn score(string, money) -> number from \"libacme_risk.so\"\n"
               "segment s when score(customer.tier, customer.total_open) > 0.5\nsegment o otherwise\n"
               "escalation e for invoice in s, o { step 1 day: email }\n");
  if (f.d.count) dump(&f);
  assert_int_equal(f.check, DN_OK);
  const dn_expr *call = f.ast.decls[3].expr->lhs;
  assert_int_equal(call->type, DN_T_NUMBER);
  assert_int_equal(call->builtin, -1);
  assert_int_equal(call->extern_index, 0);
  done(&f);
  run(&f, HEAD "extern fn score(string, money) -> number from \"libacme_risk.so\"\n"
               "segment s when score(customer.tier, 5) > 0.5\n");
  const dn_diag *g = expect_at(&f, DN_E0205, 4, 16);
  assert_string_equal(g->hint, "`score` takes (string, money)");
  done(&f);
}

static void t_e0314_bad_action(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "on dispute.opened for invoice do hold credit tone firm\n");
  expect_error(&f);
  expect_at(&f, DN_E0314, 3, 51);
  done(&f);
}

static void t_e0315_bad_limit(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "limit contacts per customer: 0 per 3 days\n");
  expect_error(&f);
  expect_at(&f, DN_E0315, 3, 30);
  done(&f);
}

/* ---- W01xx ------------------------------------------------------------- */

static void t_w0101_unreachable(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment a when true\nsegment b when customer.risk_score > 0.5\n");
  assert_int_equal(f.check, DN_OK);
  const dn_diag *g = expect_at(&f, DN_W0101, 4, 9);
  assert_int_equal(g->severity, DN_SEV_WARNING);
  expect_pos(&f, g->note_span, 3, 9);
  done(&f);
}

static void t_w0102_unused_segment(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment a when customer.risk_score > 0.5\nsegment b otherwise\n"
               "on payment.failed for invoice when customer.segment == \"b\" do email\n");
  assert_int_equal(f.check, DN_OK);
  expect_at(&f, DN_W0102, 3, 9);
  assert_int_equal(count_code(&f, DN_W0102), 1); /* b is tested by the event rule */
  done(&f);
}

static void t_w0103_tone_goes_gentler(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "segment standard otherwise\nescalation e for invoice in standard {\n"
               "  step 1 day: email tone firm\n  step 7 days: email tone neutral\n}\n");
  assert_int_equal(f.check, DN_OK);
  const dn_diag *g = expect_at(&f, DN_W0103, 6, 27);
  expect_pos(&f, g->note_span, 5, 26);
  done(&f);
}

static void t_w0104_unused_let(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "let x = true\n");
  assert_int_equal(f.check, DN_OK);
  const dn_diag *g = expect_at(&f, DN_W0104, 3, 5);
  assert_string_equal(g->message, "let `x` is never used");
  done(&f);
}

static void t_w0105_calendar_not_builtin(void **state) {
  (void)state;
  fx f;
  run(&f, HEAD "calendar \"ACME\"\n");
  assert_int_equal(f.check, DN_OK);
  expect_at(&f, DN_W0105, 3, 10);
  done(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_section1_clean),
      cmocka_unit_test(t_types_filled),
      cmocka_unit_test(t_foreign_literal_vs_ledger_ok),
      cmocka_unit_test(t_suggest),
      cmocka_unit_test(t_e0201_unknown_field),
      cmocka_unit_test(t_e0202_unknown_name),
      cmocka_unit_test(t_e0203_money_vs_number),
      cmocka_unit_test(t_e0203_section7_line),
      cmocka_unit_test(t_e0204_type_mismatch),
      cmocka_unit_test(t_e0205_bad_arguments),
      cmocka_unit_test(t_e0206_unknown_function),
      cmocka_unit_test(t_e0207_not_bool),
      cmocka_unit_test(t_e0208_wrong_scope),
      cmocka_unit_test(t_e0209_currency_mismatch),
      cmocka_unit_test(t_e0210_bad_priority),
      cmocka_unit_test(t_e0211_let_cycle),
      cmocka_unit_test(t_e0301_unknown_segment),
      cmocka_unit_test(t_e0302_unknown_tone),
      cmocka_unit_test(t_e0303_unknown_ladder),
      cmocka_unit_test(t_e0304_duplicate),
      cmocka_unit_test(t_e0305_steps_out_of_order),
      cmocka_unit_test(t_e0306_otherwise_not_last),
      cmocka_unit_test(t_e0307_too_many_decimals),
      cmocka_unit_test(t_e0308_unknown_currency),
      cmocka_unit_test(t_e0309_missing_header),
      cmocka_unit_test(t_e0311_unknown_timezone),
      cmocka_unit_test(t_e0312_bad_send_window),
      cmocka_unit_test(t_e0313_bad_extern),
      cmocka_unit_test(t_extern_call_types),
      cmocka_unit_test(t_e0314_bad_action),
      cmocka_unit_test(t_e0315_bad_limit),
      cmocka_unit_test(t_w0101_unreachable),
      cmocka_unit_test(t_w0102_unused_segment),
      cmocka_unit_test(t_w0103_tone_goes_gentler),
      cmocka_unit_test(t_w0104_unused_let),
      cmocka_unit_test(t_w0105_calendar_not_builtin),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
