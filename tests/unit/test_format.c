/* test_format.c - the token API (lang/tokens.h) and the formatter
 * (lang/format.h) on the edge cases a shell test cannot spell easily:
 * comments at the end of the file without a newline, CRLF input, tabs,
 * UTF-8 in strings and comments, an empty file, a file of only comments,
 * a byte order mark, syntax errors, and the safety check itself. Every
 * expected text is written by hand from docs/formatting.md; every
 * formatted text is also checked to be a fixed point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/format.h"
#include "lang/tokens.h"
#include "parser.h"

/* ---- tokens ------------------------------------------------------------ */

typedef struct lexed {
  dn_token *t;
  size_t n;
  dn_status st;
  dn_diags diags;
} lexed;

static lexed lex(const char *src) {
  lexed l;
  dn_diags_init(&l.diags, "t.dun", src, strlen(src));
  l.st = dn_lex_tokens(src, strlen(src), &l.t, &l.n, &l.diags);
  return l;
}

static void unlex(lexed *l) {
  free(l->t);
  dn_diags_free(&l->diags);
}

static void expect_tok(const lexed *l, size_t i, int kind, dn_tok_class cls, uint32_t start,
                       uint32_t end) {
  assert_true(i < l->n);
  assert_int_equal(l->t[i].kind, kind);
  assert_int_equal(l->t[i].cls, cls);
  assert_int_equal(l->t[i].start, start);
  assert_int_equal(l->t[i].end, end);
}

static void test_tokens_spans_and_classes(void **state) {
  (void)state;
  /*           0         1         2         3
   *           0123456789012345678901234567890123456 */
  lexed l = lex("let big = x >= 50_000 USD # c\n  and 30%");
  assert_int_equal(l.st, DN_OK);
  assert_int_equal(l.n, 9);
  expect_tok(&l, 0, T_LET, DN_TOK_KEYWORD, 0, 3);
  expect_tok(&l, 1, T_IDENT, DN_TOK_IDENT, 4, 7);
  expect_tok(&l, 2, '=', DN_TOK_PUNCT, 8, 9);
  expect_tok(&l, 3, T_IDENT, DN_TOK_IDENT, 10, 11);
  expect_tok(&l, 4, T_GE, DN_TOK_PUNCT, 12, 14);
  expect_tok(&l, 5, T_INT, DN_TOK_NUMBER, 15, 21);
  expect_tok(&l, 6, T_CURCODE, DN_TOK_CODE, 22, 25);
  /* the comment (26..29) and the newline are a gap, not tokens */
  expect_tok(&l, 7, T_AND, DN_TOK_KEYWORD, 32, 35);
  expect_tok(&l, 8, T_PERCENT, DN_TOK_NUMBER, 36, 39);
  unlex(&l);
}

static void test_tokens_context_rules(void **state) {
  (void)state;
  /* After `.` a keyword spelling is a name; three capitals are a code
   * only after a number or `currency`. */
  lexed l = lex("customer.segment SME currency EUR 2026-03-10 09:00 \"é\"");
  assert_int_equal(l.st, DN_OK);
  assert_int_equal(l.n, 9);
  expect_tok(&l, 0, T_CUSTOMER, DN_TOK_KEYWORD, 0, 8);
  expect_tok(&l, 1, '.', DN_TOK_PUNCT, 8, 9);
  expect_tok(&l, 2, T_IDENT, DN_TOK_IDENT, 9, 16);
  expect_tok(&l, 3, T_IDENT, DN_TOK_IDENT, 17, 20);
  expect_tok(&l, 4, T_CURRENCY, DN_TOK_KEYWORD, 21, 29);
  expect_tok(&l, 5, T_CURCODE, DN_TOK_CODE, 30, 33);
  expect_tok(&l, 6, T_DATE, DN_TOK_DATE, 34, 44);
  expect_tok(&l, 7, T_TIME, DN_TOK_TIME, 45, 50);
  expect_tok(&l, 8, T_STRING, DN_TOK_STRING, 51, 55); /* `"é"`: 1 + 2 + 1 bytes */
  unlex(&l);
  l = lex("x \"é\"");
  expect_tok(&l, 1, T_STRING, DN_TOK_STRING, 2, 6);
  unlex(&l);
}

static void test_tokens_test_words_only_in_tests(void **state) {
  (void)state;
  /* `as_of` is a keyword inside a `test` block and a name outside, as the
   * parser sees it. */
  lexed l = lex("let as_of = 1 test \"t\" { as_of 2026-01-01 }");
  assert_int_equal(l.st, DN_OK);
  assert_int_equal(l.n, 10);
  assert_int_equal(l.t[1].cls, DN_TOK_IDENT);
  assert_int_equal(l.t[4].kind, T_TEST);
  expect_tok(&l, 7, T_AS_OF, DN_TOK_KEYWORD, 25, 30);
  unlex(&l);
}

static void test_tokens_empty_and_comments_only(void **state) {
  (void)state;
  lexed l = lex("");
  assert_int_equal(l.st, DN_OK);
  assert_int_equal(l.n, 0);
  assert_null(l.t);
  unlex(&l);
  l = lex("# one\n\n  # two");
  assert_int_equal(l.st, DN_OK);
  assert_int_equal(l.n, 0);
  unlex(&l);
}

static void test_tokens_crlf_and_tabs(void **state) {
  (void)state;
  lexed l = lex("currency\tUSD\r\nlet a = 1\r\n");
  assert_int_equal(l.st, DN_OK);
  assert_int_equal(l.n, 6);
  expect_tok(&l, 1, T_CURCODE, DN_TOK_CODE, 9, 12);
  expect_tok(&l, 2, T_LET, DN_TOK_KEYWORD, 14, 17);
  unlex(&l);
}

static void test_tokens_lexical_error(void **state) {
  (void)state;
  lexed l = lex("let a = 1 ; let b = 2");
  assert_int_equal(l.st, DN_ERR_INPUT);
  assert_int_equal(l.diags.errors, 1);
  assert_string_equal(dn_diag_code_name(l.diags.items[0].code), "E0103");
  /* the tokens around the bad character are still there */
  assert_int_equal(l.n, 8);
  unlex(&l);
}

/* ---- the formatter ------------------------------------------------------- */

static char *format_ok(const char *src, size_t len) {
  dn_diags d;
  dn_diags_init(&d, "t.dun", src, len);
  char *out = NULL;
  size_t out_len = 0;
  const char *why = NULL;
  dn_status st = dn_format("t.dun", src, len, &out, &out_len, &d, &why);
  if (st != DN_OK)
    fprintf(stderr, "status %d, %zu errors, why: %s\n", st, d.errors, why ? why : "-");
  assert_int_equal(st, DN_OK);
  assert_int_equal(d.errors, 0);
  assert_int_equal(strlen(out), out_len);
  dn_diags_free(&d);
  return out;
}

/* Formats src, compares with want, then requires want to be a fixed point. */
static void expect_fmt(const char *src, const char *want) {
  char *out = format_ok(src, strlen(src));
  assert_string_equal(out, want);
  char *again = format_ok(out, strlen(out));
  assert_string_equal(again, out);
  free(out);
  free(again);
}

static void test_fmt_empty_file(void **state) {
  (void)state;
  expect_fmt("", "");
  expect_fmt("\n\n   \n", "");
}

static void test_fmt_only_comments(void **state) {
  (void)state;
  expect_fmt("  # one   \n\n\n#two", "# one\n\n#two\n");
}

static void test_fmt_comment_at_eof_without_newline(void **state) {
  (void)state;
  expect_fmt("policy \"p\" version 1 # last", "policy \"p\" version 1 # last\n");
  expect_fmt("currency USD\n# last", "currency USD\n# last\n");
}

static void test_fmt_crlf(void **state) {
  (void)state;
  /* The first line end decides; a comment loses its \r, gets it back. */
  expect_fmt("policy \"p\" version 1\r\n\r\n\r\ncurrency  USD # x\r\n",
             "policy \"p\" version 1\r\n\r\ncurrency USD  # x\r\n");
  expect_fmt("currency USD\nlet a=1\r\n", "currency USD\nlet a = 1\n");
}

static void test_fmt_tabs(void **state) {
  (void)state;
  /* Tabs between tokens become single spaces, but the author's columns
   * count a tab to the next multiple of 8: `=` is at column 10 (so the
   * `let` keeps it) and `#` at column 16. */
  expect_fmt("let\ta = 1\t# one\n", "let a     = 1   # one\n");
  /* a tab inside a comment is the comment's own text */
  expect_fmt("# a\tb\ncurrency USD\n", "# a\tb\ncurrency USD\n");
}

static void test_fmt_utf8(void **state) {
  (void)state;
  /* Columns count code points: `"é"` is 3 columns wide, so both lines
   * are 12 wide and the comments align at the author's column 17. */
  expect_fmt("let a = \"é\"      # é!\nlet bb = \"x\" # ü\n",
             "let a  = \"é\"     # é!\nlet bb = \"x\"     # ü\n");
}

static void test_fmt_bom_is_kept(void **state) {
  (void)state;
  expect_fmt("\xEF\xBB\xBF" "currency   USD # c\n", "\xEF\xBB\xBF" "currency USD   # c\n");
}

static void test_fmt_literals_keep_spelling(void **state) {
  (void)state;
  expect_fmt("let a=1_200.50 EUR+0_1 EUR\nlet b=30%*2026-03-10\n",
             "let a = 1_200.50 EUR + 0_1 EUR\nlet b = 30% * 2026-03-10\n");
}

static void test_fmt_unary_and_calls(void **state) {
  (void)state;
  expect_fmt("let a = - ( - b ) - - 3 + max ( 1 , - 2 )\n",
             "let a = -(-b) - -3 + max(1, -2)\n");
  expect_fmt("let c = customer . attr ( \"k\" ) == \"v\"\n",
             "let c = customer.attr(\"k\") == \"v\"\n");
}

static void test_fmt_semantic_errors_do_not_block(void **state) {
  (void)state;
  /* an unknown event is the checker's business, not the formatter's */
  expect_fmt("on payment.faild for invoice do   email\n",
             "on payment.faild for invoice do email\n");
}

static void test_fmt_syntax_error(void **state) {
  (void)state;
  const char *src = "policy \"p\" version 1\nsegment a when customer.tier = \"x\"\n";
  dn_diags d;
  dn_diags_init(&d, "t.dun", src, strlen(src));
  char *out = (char *)"unchanged";
  size_t out_len = 7;
  dn_status st = dn_format("t.dun", src, strlen(src), &out, &out_len, &d, NULL);
  assert_int_equal(st, DN_ERR_INPUT);
  assert_null(out);
  assert_int_equal(out_len, 0);
  assert_true(d.errors >= 1);
  assert_string_equal(dn_diag_code_name(d.items[0].code), "E0101");
  assert_int_equal(d.items[0].span.start, 50); /* the `=` of line 2: 21 + 29 */
  dn_diags_free(&d);
}

static void test_fmt_lexical_error(void **state) {
  (void)state;
  const char *src = "let a = 1 ; let b = 2\n";
  dn_diags d;
  dn_diags_init(&d, "t.dun", src, strlen(src));
  char *out;
  size_t out_len;
  assert_int_equal(dn_format("t.dun", src, strlen(src), &out, &out_len, &d, NULL), DN_ERR_INPUT);
  assert_null(out);
  assert_string_equal(dn_diag_code_name(d.items[0].code), "E0103");
  dn_diags_free(&d);
}

static void test_verify_catches_changes(void **state) {
  (void)state;
  const char *src = "let a = 1 # why\n";
  const char *why = NULL;
  assert_int_equal(dn_format_verify(src, strlen(src), "let  a=1   # why\n", 17, &why), DN_OK);
  assert_null(why);
  /* a token spelled differently, even with the same value */
  const char *t = "let a = 01 # why\n";
  assert_int_equal(dn_format_verify(src, strlen(src), t, strlen(t), &why), DN_ERR_INTERNAL);
  assert_non_null(strstr(why, "tokens"));
  /* a token lost */
  t = "let a = # why\n";
  assert_int_equal(dn_format_verify(src, strlen(src), t, strlen(t), &why), DN_ERR_INTERNAL);
  /* a comment lost, or its text changed */
  t = "let a = 1\n";
  assert_int_equal(dn_format_verify(src, strlen(src), t, strlen(t), &why), DN_ERR_INTERNAL);
  assert_non_null(strstr(why, "comments"));
  t = "let a = 1 # Why\n";
  assert_int_equal(dn_format_verify(src, strlen(src), t, strlen(t), &why), DN_ERR_INTERNAL);
  /* two tokens glued into one */
  const char *s2 = "let a = b - -3\n";
  t = "let a = b --3\n";
  assert_int_equal(dn_format_verify(s2, strlen(s2), t, strlen(t), &why), DN_OK);
  t = "let a = b - - 3\n";
  assert_int_equal(dn_format_verify(s2, strlen(s2), t, strlen(t), &why), DN_OK);
  const char *s3 = "let a = x . y\n";
  t = "let a = x.y\n";
  assert_int_equal(dn_format_verify(s3, strlen(s3), t, strlen(t), &why), DN_OK);
  const char *s4 = "send_window 09:00 .. 17:00\n";
  t = "send_window 09:00 . . 17:00\n";
  assert_int_equal(dn_format_verify(s4, strlen(s4), t, strlen(t), &why), DN_ERR_INTERNAL);
}

static void test_fmt_let_alignment_runs(void **state) {
  (void)state;
  /* A blank line or a comment line ends a run of `let`s. */
  expect_fmt("let a = 1\nlet bbb = 2\n\nlet cc = 3\n# c\nlet d = 4\n",
             "let a   = 1\nlet bbb = 2\n\nlet cc = 3\n# c\nlet d = 4\n");
  /* The author's wider column is kept for the whole run. */
  expect_fmt("let a      = 1\nlet bbb = 2\n", "let a      = 1\nlet bbb    = 2\n");
}

static void test_fmt_step_alignment_per_escalation(void **state) {
  (void)state;
  expect_fmt("escalation e for invoice in s {\n"
             "step 1 day: email\n"
             "\n"
             "# later\n"
             "step 10 business days: sms\n"
             "}\n"
             "escalation f for invoice in s {\n"
             "  step 100 days: call\n"
             "}\n",
             "escalation e for invoice in s {\n"
             "  step 1 day:" "            " "email\n" /* 13 + 12 = 25 */
             "\n"
             "  # later\n"
             "  step 10 business days: sms\n"
             "}\n"
             "escalation f for invoice in s {\n"
             "  step 100 days: call\n"
             "}\n");
}

static void test_fmt_kept_breaks(void **state) {
  (void)state;
  /* A long step guard or condition may stay on a continuation line;
   * any other break inside a declaration is joined. */
  expect_fmt("escalation e for invoice in s {\n"
             "  step 1 day: email,\n"
             "sms when invoice.balance > 1 USD\n"
             "     and invoice.open\n"
             "}\n"
             "let x =\n  1 +\n  2\n",
             "escalation e for invoice in s {\n"
             "  step 1 day: email,\n"
             "    sms when invoice.balance > 1 USD\n"
             "    and invoice.open\n"
             "}\n"
             "let x = 1 + 2\n");
}

static void test_fmt_test_file(void **state) {
  (void)state;
  expect_fmt("test \"t\" { policy \"p.dun\" as_of 2026-03-10 customer C1 {tier:\"a\"} "
             "expect no email }\n",
             "test \"t\" {\n"
             "  policy \"p.dun\"\n"
             "  as_of 2026-03-10\n"
             "  customer C1 { tier: \"a\" }\n"
             "  expect no email\n"
             "}\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tokens_spans_and_classes),
      cmocka_unit_test(test_tokens_context_rules),
      cmocka_unit_test(test_tokens_test_words_only_in_tests),
      cmocka_unit_test(test_tokens_empty_and_comments_only),
      cmocka_unit_test(test_tokens_crlf_and_tabs),
      cmocka_unit_test(test_tokens_lexical_error),
      cmocka_unit_test(test_fmt_empty_file),
      cmocka_unit_test(test_fmt_only_comments),
      cmocka_unit_test(test_fmt_comment_at_eof_without_newline),
      cmocka_unit_test(test_fmt_crlf),
      cmocka_unit_test(test_fmt_tabs),
      cmocka_unit_test(test_fmt_utf8),
      cmocka_unit_test(test_fmt_bom_is_kept),
      cmocka_unit_test(test_fmt_literals_keep_spelling),
      cmocka_unit_test(test_fmt_unary_and_calls),
      cmocka_unit_test(test_fmt_semantic_errors_do_not_block),
      cmocka_unit_test(test_fmt_syntax_error),
      cmocka_unit_test(test_fmt_lexical_error),
      cmocka_unit_test(test_verify_catches_changes),
      cmocka_unit_test(test_fmt_let_alignment_runs),
      cmocka_unit_test(test_fmt_step_alignment_per_escalation),
      cmocka_unit_test(test_fmt_kept_breaks),
      cmocka_unit_test(test_fmt_test_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
