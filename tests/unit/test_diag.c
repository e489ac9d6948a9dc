/* test_diag.c - diagnostics as values and their text and JSON renderings
 * (LANGUAGE.md section 7). Expected texts are written out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/diag.h"

/* Renders d into a string the test frees. */
/* The stream's buffer pointer lives on the heap: gcc -O2 otherwise takes
 * the text open_memstream returns for a pointer into this frame
 * (-Wdangling-pointer, a false positive that breaks Release builds). */
static char *render(const dn_diags *d, bool json, bool werror) {
  struct { char *buf; size_t len; } *m = calloc(1, sizeof *m);
  assert_non_null(m);
  FILE *f = open_memstream(&m->buf, &m->len);
  assert_non_null(f);
  if (json) dn_diags_render_json(d, f, werror);
  else dn_diags_render_text(d, f, werror);
  fclose(f);
  char *buf = m->buf;
  free(m);
  return buf;
}

static dn_span span_of(const char *src, const char *needle, size_t len) {
  const char *at = strstr(src, needle);
  assert_non_null(at);
  uint32_t start = (uint32_t)(at - src);
  return (dn_span){start, start + (uint32_t)len};
}

/* Sixteen lines, then the line of the section 7 example as line 17. */
static const char section7_src[] =
    "policy \"acme\" version 1\n"
    "currency USD\n"
    "#3\n#4\n#5\n#6\n#7\n#8\n#9\n#10\n#11\n#12\n#13\n#14\n#15\n#16\n"
    "segment big when invoice.balance > 5000\n"
    "segment rest otherwise\n";

/* LANGUAGE.md section 7, byte for byte, except the column in the first
 * line: the spec prints 17:33 but its caret stands under `>`, which is
 * code point 34 of the line ("segment big when invoice.balance " is 33
 * characters). Header and caret must agree, so the header says 34. */
static const char section7_expected[] =
    "policies/acme.dun:17:34: error[E0203]: cannot compare money with number\n"
    "   17 | segment big when invoice.balance > 5000\n"
    "      |                                  ^~~~~~\n"
    "      = hint: write the amount with its currency, e.g. `5000 USD`\n";

static void test_section7_text(void **state) {
  (void)state;
  dn_diags d;
  dn_diags_init(&d, "policies/acme.dun", section7_src, strlen(section7_src));
  dn_span sp = span_of(section7_src, "> 5000", 6);
  dn_diag *g = dn_diag_add(&d, DN_E0203, sp, "cannot compare %s with %s", "money", "number");
  dn_diag_hint(g, "write the amount with its currency, e.g. `%d USD`", 5000);
  assert_int_equal(d.errors, 1);
  assert_int_equal(d.warnings, 0);
  char *out = render(&d, false, false);
  assert_string_equal(out, section7_expected);
  free(out);
  dn_diags_free(&d);
}

static void test_warning_and_werror(void **state) {
  (void)state;
  static const char src[] = "let unused = 1\n";
  dn_diags d;
  dn_diags_init(&d, "p.dun", src, strlen(src));
  dn_diag_add(&d, DN_W0104, (dn_span){4, 10}, "`%s` is never used", "unused");
  assert_int_equal(d.errors, 0);
  assert_int_equal(d.warnings, 1);
  char *plain = render(&d, false, false);
  assert_string_equal(plain,
                      "p.dun:1:5: warning[W0104]: `unused` is never used\n"
                      "    1 | let unused = 1\n"
                      "      |     ^~~~~~\n");
  char *strict = render(&d, false, true);
  assert_string_equal(strict,
                      "p.dun:1:5: error[W0104]: `unused` is never used\n"
                      "    1 | let unused = 1\n"
                      "      |     ^~~~~~\n");
  free(plain);
  free(strict);
  dn_diags_free(&d);
}

static void test_utf8_columns(void **state) {
  (void)state;
  /* `é` is two bytes but one column: x is byte 19, column 19. */
  static const char src[] = "let s = \"h\xc3\xa9llo\" + x\n";
  dn_diags d;
  dn_diags_init(&d, "u.dun", src, strlen(src));
  dn_diag_add(&d, DN_E0202, (dn_span){19, 20}, "unknown name `x`");
  int line, col;
  dn_source_position(src, strlen(src), 19, &line, &col);
  assert_int_equal(line, 1);
  assert_int_equal(col, 19);
  char *out = render(&d, false, false);
  assert_string_equal(out,
                      "u.dun:1:19: error[E0202]: unknown name `x`\n"
                      "    1 | let s = \"h\xc3\xa9llo\" + x\n"
                      "      |                   ^\n");
  free(out);
  dn_diags_free(&d);
  /* A span over the multi-byte string gets one `~` per code point. */
  dn_diags_init(&d, "u.dun", src, strlen(src));
  dn_diag_add(&d, DN_E0204, (dn_span){8, 16}, "bad");
  out = render(&d, false, false);
  assert_non_null(strstr(out, "\n      |         ^~~~~~~\n"));
  free(out);
  dn_diags_free(&d);
}

static void test_note_and_point_span(void **state) {
  (void)state;
  static const char src[] = "segment s when a {\n  tone -1\n";
  dn_diags d;
  dn_diags_init(&d, "n.dun", src, strlen(src));
  /* An empty span still gets one caret. */
  dn_diag *g = dn_diag_add(&d, DN_E0104, (dn_span){28, 28}, "unclosed `{`");
  dn_diag_note(g, (dn_span){17, 18}, "the `{` opened here");
  char *out = render(&d, false, false);
  assert_string_equal(out,
                      "n.dun:2:10: error[E0104]: unclosed `{`\n"
                      "    2 |   tone -1\n"
                      "      |          ^\n"
                      "      = note: 1:18: the `{` opened here\n");
  free(out);
  dn_diags_free(&d);
}

static void test_other_file(void **state) {
  (void)state;
  dn_diags d;
  dn_diags_init(&d, "p.dun", "", 0);
  dn_diag_add_at(&d, DN_E0503, "ledger.csv", 12, "column `amount`: not a number");
  dn_diag_add_at(&d, DN_E0505, "missing.db", 0, "cannot open: %s", "no such file");
  char *out = render(&d, false, false);
  assert_string_equal(out,
                      "ledger.csv:12: error[E0503]: column `amount`: not a number\n"
                      "missing.db: error[E0505]: cannot open: no such file\n");
  free(out);
  assert_int_equal(d.errors, 2);
  dn_diags_free(&d);
}

static void test_json(void **state) {
  (void)state;
  static const char src[] = "let a = \"q\"\nlet b = 1\n";
  dn_diags d;
  dn_diags_init(&d, "j \"x\".dun", src, strlen(src));
  dn_diag *g = dn_diag_add(&d, DN_E0204, (dn_span){8, 11}, "can't use \"q\"\there");
  dn_diag_hint(g, "a\\b");
  g = dn_diag_add(&d, DN_W0104, (dn_span){16, 17}, "`b` is never used");
  dn_diag_note(g, (dn_span){4, 5}, "`a` is declared here");
  char *out = render(&d, true, false);
  char *save = NULL;
  char *line1 = strtok_r(out, "\n", &save);
  char *line2 = strtok_r(NULL, "\n", &save);
  assert_non_null(line1);
  assert_non_null(line2);
  assert_null(strtok_r(NULL, "\n", &save));
  json_error_t err;
  json_t *o = json_loads(line1, 0, &err);
  assert_non_null(o);
  assert_string_equal(json_string_value(json_object_get(o, "file")), "j \"x\".dun");
  assert_int_equal(json_integer_value(json_object_get(o, "line")), 1);
  assert_int_equal(json_integer_value(json_object_get(o, "column")), 9);
  assert_int_equal(json_integer_value(json_object_get(o, "end_line")), 1);
  assert_int_equal(json_integer_value(json_object_get(o, "end_column")), 12);
  assert_string_equal(json_string_value(json_object_get(o, "severity")), "error");
  assert_string_equal(json_string_value(json_object_get(o, "code")), "E0204");
  assert_string_equal(json_string_value(json_object_get(o, "slug")), "type-mismatch");
  assert_string_equal(json_string_value(json_object_get(o, "message")), "can't use \"q\"\there");
  assert_string_equal(json_string_value(json_object_get(o, "hint")), "a\\b");
  assert_int_equal(json_object_size(o), 11);
  assert_true(json_is_null(json_object_get(o, "note")));
  json_decref(o);
  o = json_loads(line2, 0, &err);
  assert_non_null(o);
  assert_int_equal(json_integer_value(json_object_get(o, "line")), 2);
  assert_int_equal(json_integer_value(json_object_get(o, "column")), 5);
  assert_string_equal(json_string_value(json_object_get(o, "severity")), "warning");
  assert_true(json_is_null(json_object_get(o, "hint")));
  /* the note at byte 4 is line 1, column 5 */
  json_t *note = json_object_get(o, "note");
  assert_int_equal(json_integer_value(json_object_get(note, "line")), 1);
  assert_int_equal(json_integer_value(json_object_get(note, "column")), 5);
  assert_string_equal(json_string_value(json_object_get(note, "message")), "`a` is declared here");
  json_decref(o);
  free(out);
  out = render(&d, true, true);
  assert_non_null(strstr(out, "\"severity\":\"error\",\"code\":\"W0104\""));
  free(out);
  dn_diags_free(&d);
}

/* Text that is not UTF-8 (a Latin-1 file name, an overlong form) still
 * gives every key, with U+FFFD for each bad byte. */
static void test_json_not_utf8(void **state) {
  (void)state;
  static const char src[] = "let a = 1\n";
  dn_diags d;
  dn_diags_init(&d, "caf\xe9.dun", src, strlen(src));
  dn_diag_add(&d, DN_E0202, (dn_span){4, 5}, "bad \xc0\xaf byte, then \xc3\xa9");
  char *out = render(&d, true, false);
  json_error_t err;
  json_t *o = json_loads(out, 0, &err);
  assert_non_null(o);
  assert_string_equal(json_string_value(json_object_get(o, "file")), "caf\xef\xbf\xbd.dun");
  assert_string_equal(json_string_value(json_object_get(o, "message")),
                      "bad \xef\xbf\xbd\xef\xbf\xbd byte, then \xc3\xa9");
  assert_int_equal(json_object_size(o), 11);
  assert_true(json_is_null(json_object_get(o, "note")));
  json_decref(o);
  free(out);
  dn_diags_free(&d);
}

static void test_sort_is_stable(void **state) {
  (void)state;
  static const char src[] = "0123456789";
  dn_diags d;
  dn_diags_init(&d, "s.dun", src, strlen(src));
  dn_diag_add(&d, DN_E0202, (dn_span){5, 6}, "c");
  dn_diag_add(&d, DN_E0202, (dn_span){1, 2}, "a");
  dn_diag_add(&d, DN_E0204, (dn_span){5, 5}, "d");
  dn_diag_add(&d, DN_E0202, (dn_span){3, 4}, "b");
  dn_diag_add(&d, DN_E0202, (dn_span){5, 9}, "e");
  dn_diags_sort(&d);
  const char *want[] = {"a", "b", "c", "d", "e"};
  assert_int_equal(d.count, 5);
  for (int i = 0; i < 5; i++) assert_string_equal(d.items[i].message, want[i]);
  dn_diags_free(&d);
}

static void test_codes(void **state) {
  (void)state;
  dn_diag_code c;
  assert_true(dn_diag_code_parse("E0203", &c));
  assert_int_equal(c, DN_E0203);
  assert_string_equal(dn_diag_code_name(DN_W0101), "W0101");
  assert_string_equal(dn_diag_code_slug(DN_E0104), "unclosed-brace");
  assert_int_equal(dn_diag_code_severity(DN_W0103), DN_SEV_WARNING);
  assert_int_equal(dn_diag_code_severity(DN_E0310), DN_SEV_ERROR);
  assert_non_null(strstr(dn_diag_code_help(DN_E0310), "payment.failed"));
  assert_false(dn_diag_code_parse("E9999", &c));
  assert_false(dn_diag_code_parse("e0203", &c));
}

static void test_many_diags(void **state) {
  (void)state;
  dn_diags d;
  dn_diags_init(&d, "m.dun", "x", 1);
  for (int i = 0; i < 1000; i++) assert_non_null(dn_diag_add(&d, DN_E0202, (dn_span){0, 1}, "n%d", i));
  assert_int_equal(d.count, DN_DIAGS_SHOWN);
  assert_int_equal(d.errors, 1000);
  assert_string_equal(d.items[DN_DIAGS_SHOWN - 1].message, "n199");
  assert_false(d.failed);
  dn_diags_free(&d);
  assert_int_equal(d.count, 0);
}

/* Past DN_DIAGS_SHOWN, diagnostics are counted (the run still fails) but
 * not kept, and the text says how many were left out. */
static void test_too_many_shown(void **state) {
  (void)state;
  static const char src[] = "x";
  dn_diags d;
  dn_diags_init(&d, "bin.dun", src, 1);
  for (int i = 0; i < DN_DIAGS_SHOWN + 50; i++) dn_diag_add(&d, DN_E0103, (dn_span){0, 1}, "bad byte %d", i);
  assert_int_equal(d.count, DN_DIAGS_SHOWN);
  assert_int_equal(d.errors, DN_DIAGS_SHOWN + 50);
  assert_int_equal(d.dropped, 50);
  char *out = render(&d, false, false);
  assert_non_null(strstr(out, "bin.dun: note: 50 more diagnostics not shown\n"));
  free(out);
  dn_diags_free(&d);
}

/* A diagnostic on a 10,000-byte line quotes a window around the caret,
 * marked with "...", and the caret still sits under the right byte. */
static void test_long_line_window(void **state) {
  (void)state;
  size_t n = 10000;
  char *src = malloc(n + 1);
  memset(src, 'a', n);
  memcpy(src + 6000, "BAD", 3);
  src[n] = '\0';
  dn_diags d;
  dn_diags_init(&d, "long.dun", src, n);
  dn_diag_add(&d, DN_E0202, (dn_span){6000, 6003}, "unknown name");
  char *out = render(&d, false, false);
  assert_true(strlen(out) < 700);
  char *quote = strstr(out, "    1 | ...");
  assert_non_null(quote);
  char *bad = strstr(quote, "BAD");
  assert_non_null(bad);
  char *caret = strstr(quote, "\n      | ");
  assert_non_null(caret);
  caret += 1;
  char *hat = strchr(caret, '^');
  assert_non_null(hat);
  /* same column on both lines: offsets from each line's start agree */
  assert_int_equal((int)(hat - caret), (int)(bad - quote));
  assert_int_equal(strncmp(hat, "^~~\n", 4), 0);
  free(out);
  dn_diags_free(&d);
  free(src);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_section7_text),
      cmocka_unit_test(test_warning_and_werror),
      cmocka_unit_test(test_utf8_columns),
      cmocka_unit_test(test_note_and_point_span),
      cmocka_unit_test(test_other_file),
      cmocka_unit_test(test_json),
      cmocka_unit_test(test_json_not_utf8),
      cmocka_unit_test(test_sort_is_stable),
      cmocka_unit_test(test_codes),
      cmocka_unit_test(test_many_diags),
      cmocka_unit_test(test_too_many_shown),
      cmocka_unit_test(test_long_line_window),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
