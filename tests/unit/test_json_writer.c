/* test_json_writer.c - the streaming writer of action records
 * (dn_action_write_json) writes exactly the bytes jansson writes for the
 * same record (dn_action_to_json + dn_json_write_line), whatever the text:
 * controls, quotes, backslashes, '/', DEL, valid and invalid UTF-8, long
 * strings, odd priorities. A few lines are also checked against text
 * worked out by hand from RFC 8259 and jansson's dump rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/outbox.h"

/* One written line, NUL-terminated, caller frees. */
static char *streamed(const dn_action_rec *a, bool with_as_of) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  assert_int_equal(dn_action_write_json(f, a, with_as_of), DN_OK);
  fclose(f);
  return buf;
}

static char *through_jansson(const dn_action_rec *a, bool with_as_of) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  json_t *o = dn_action_to_json(a, with_as_of);
  assert_non_null(o);
  assert_int_equal(dn_json_write_line(f, o), DN_OK);
  json_decref(o);
  fclose(f);
  return buf;
}

static void assert_same(const dn_action_rec *a, bool with_as_of) {
  char *mine = streamed(a, with_as_of), *theirs = through_jansson(a, with_as_of);
  if (strcmp(mine, theirs) != 0) {
    fprintf(stderr, "streamed: %s\njansson:  %s\n", mine, theirs);
    fail();
  }
  free(mine);
  free(theirs);
}

static void base_record(dn_action_rec *a, const char **invoices, int n) {
  memset(a, 0, sizeof *a);
  strcpy(a->key, "0123456789abcdef0123456789abcdef");
  a->customer = "C1";
  a->invoices = invoices;
  a->ninvoices = n;
  a->kind = DN_ACT_EMAIL;
  a->tone = "firm";
  a->template_name = "email-firm";
  strcpy(a->scheduled_at, "2026-03-10T09:00:00-05:00");
  a->rule = "dunning";
  a->step = "15d";
  a->status = DN_STATUS_SCHEDULED;
  a->reason = "dunning step 15 days";
  a->as_of = 20522;
}

/* Worked out by hand: the field order of LEDGER.md, compact separators,
 * null for absent optional fields, a real always with '.' or 'e'. */
static void test_known_line(void **state) {
  (void)state;
  const char *inv[] = {"I1", "I2"};
  dn_action_rec a;
  base_record(&a, inv, 2);
  a.has_priority = true;
  a.priority = 100;
  a.assignee = NULL;
  char *line = streamed(&a, false);
  assert_string_equal(line,
                      "{\"key\":\"0123456789abcdef0123456789abcdef\",\"customer\":\"C1\","
                      "\"invoices\":[\"I1\",\"I2\"],\"kind\":\"email\",\"tone\":\"firm\","
                      "\"template\":\"email-firm\",\"scheduled_at\":\"2026-03-10T09:00:00-05:00\","
                      "\"rule\":\"dunning\",\"step\":\"15d\",\"priority\":100.0,\"assignee\":null,"
                      "\"status\":\"scheduled\",\"reason\":\"dunning step 15 days\"}\n");
  free(line);
}

/* By hand: '"' and '\' escaped with a backslash, \n and \t by letter, 0x01
 * and 0x1f as \u0001 and \u001F (upper-case hex), '/' and DEL (0x7f) as
 * they are, a lone continuation byte 0x80 as U+FFFD (EF BF BD), é as is. */
static void test_known_escapes(void **state) {
  (void)state;
  dn_action_rec a;
  base_record(&a, NULL, 0);
  a.tone = a.template_name = a.step = NULL;
  a.kind = DN_ACT_TASK;
  a.text = "a\"b\\c\nd\te\x01" "f\x1f/g\x7fh\x80i\xc3\xa9";
  a.status = DN_STATUS_SKIPPED;
  a.reason = NULL;
  char *line = streamed(&a, true);
  assert_non_null(strstr(line, "\"as_of\":\"2026-03-10\",\"key\""));
  assert_non_null(strstr(line, "\"invoices\":[],"));
  assert_non_null(strstr(line, "\"tone\":null,\"template\":null,"));
  assert_non_null(strstr(line, "\"status\":\"skipped\",\"reason\":null,"));
  assert_non_null(
      strstr(line, "\"text\":\"a\\\"b\\\\c\\nd\\te\\u0001f\\u001F/g\x7fh\xef\xbf\xbdi\xc3\xa9\"}\n"));
  free(line);
}

/* Every control character, alone and between text, in every field. */
static void test_controls(void **state) {
  (void)state;
  for (int c = 1; c < 0x20; c++) {
    char s[8] = {'x', (char)c, 'y', '\0'};
    char s1[2] = {(char)c, '\0'};
    const char *inv[] = {s, s1};
    dn_action_rec a;
    base_record(&a, inv, 2);
    a.customer = s;
    a.rule = s1;
    a.step = s;
    a.reason = s;
    a.text = s1;
    a.assignee = s;
    a.tone = s1;
    a.template_name = s;
    assert_same(&a, c & 1);
  }
}

static const char *const hostile[] = {
    "", "\"", "\\", "/", "\\/", "\x7f", "plain text", "\"quoted\" \\back\\ /slash/",
    "caf\xc3\xa9", "\xe2\x82\xac 100", "\xf0\x9f\x98\x80 smile", "\xef\xbb\xbf" "bom",
    "\xef\xbf\xbd", "\xed\x9f\xbf", "\xee\x80\x80", "\xf4\x8f\xbf\xbf", "\xc2\x80\xdf\xbf",
    /* invalid: lone continuation, overlong, surrogate, beyond U+10FFFF,
     * bytes never valid, truncated sequences at the end and mid-text */
    "\x80", "a\xbf" "b", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80",
    "\xed\xbf\xbf", "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
    "\xf8\x88\x80\x80\x80", "\xfe\xff", "\xc3", "ab\xe2\x82", "\xe2\x82" "A", "\xf0\x9f\x98",
    "\xf0\x9f\x98" "x\"", "\xc3\xc3\xa9", "Latin-1 caf\xe9 \xfc" "ber", "\x01\x80\x1f\xc3",
};

static void test_hostile_strings(void **state) {
  (void)state;
  size_t n = sizeof hostile / sizeof *hostile;
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < n; j += 7) {
      const char *inv[] = {hostile[i], hostile[j], "I3"};
      dn_action_rec a;
      base_record(&a, inv, 3);
      a.customer = hostile[i];
      a.rule = hostile[j];
      a.reason = hostile[i];
      a.text = hostile[j];
      a.assignee = hostile[i];
      a.template_name = hostile[j];
      assert_same(&a, false);
    }
  }
}

/* xorshift: the same pseudo-random bytes on every run. */
static uint64_t next_rand(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* Random byte strings, biased to the interesting bytes (controls, quote,
 * backslash, UTF-8 lead and continuation bytes), long ones included so a
 * line outgrows the writer's stack buffer. */
static void test_random_bytes(void **state) {
  (void)state;
  static const unsigned char interesting[] = {0x01, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, '"', '\\',
                                              '/',  0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed,
                                              0xef, 0xf0, 0xf4, 0xf5, 0xff, 'a',  ' ',  0xa0, 0x9f};
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  char a_text[4200], b_text[300];
  for (int round = 0; round < 3000; round++) {
    size_t la = next_rand(&seed) % (round % 50 == 0 ? sizeof a_text - 1 : 40);
    size_t lb = next_rand(&seed) % (sizeof b_text - 1);
    char *bufs[2] = {a_text, b_text};
    size_t lens[2] = {la, lb};
    for (int k = 0; k < 2; k++) {
      for (size_t i = 0; i < lens[k]; i++) {
        uint64_t r = next_rand(&seed);
        unsigned char c = r % 3 ? interesting[(r >> 8) % sizeof interesting] : (unsigned char)(r >> 16);
        bufs[k][i] = c ? (char)c : 'z';
      }
      bufs[k][lens[k]] = '\0';
    }
    const char *inv[] = {b_text, a_text};
    dn_action_rec rec;
    base_record(&rec, inv, 2);
    rec.reason = a_text;
    rec.text = round % 2 ? b_text : NULL;
    rec.step = round % 3 ? b_text : NULL;
    rec.assignee = a_text;
    assert_same(&rec, round % 5 == 0);
  }
}

/* Priorities: integral, fractional, tiny, huge, negative zero, 15
 * significant digits and more, and the non-finite ones jansson cannot
 * write (the key is left out). */
static void test_priorities(void **state) {
  (void)state;
  const double values[] = {0.0, -0.0, 1.0, 100.0, 0.1, 1.5, 1234.56, -3.25, 1e15, 1e16, 1e20, 1.5e300,
                           1e-5, 1e-7, 2.5e-300, 123456789012345678.0, 0.30000000000000004,
                           1.0 / 3.0, 99999999999999.99, 5e-324, INFINITY, -INFINITY, NAN};
  for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
    dn_action_rec a;
    base_record(&a, NULL, 0);
    a.has_priority = true;
    a.priority = values[i];
    assert_same(&a, false);
  }
  dn_action_rec a;
  base_record(&a, NULL, 0);
  a.has_priority = true;
  a.priority = 1e20;
  char *line = streamed(&a, false);
  assert_non_null(strstr(line, "\"priority\":1e20,")); /* "%.15g" gives 1e+20 */
  free(line);
  a.priority = 1e-7;
  line = streamed(&a, false);
  assert_non_null(strstr(line, "\"priority\":1e-7,")); /* 1e-07 */
  free(line);
}

/* Every kind and status name, as the engine gives them. */
static void test_kinds_and_statuses(void **state) {
  (void)state;
  for (int k = 0; k < DN_ACT_COUNT; k++)
    for (int s = 0; s < 3; s++) {
      const char *inv[] = {"I1"};
      dn_action_rec a;
      base_record(&a, inv, 1);
      a.kind = (dn_action_kind)k;
      a.status = (dn_action_status)s;
      assert_same(&a, s == 1);
    }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_line),
      cmocka_unit_test(test_known_escapes),
      cmocka_unit_test(test_controls),
      cmocka_unit_test(test_hostile_strings),
      cmocka_unit_test(test_random_bytes),
      cmocka_unit_test(test_priorities),
      cmocka_unit_test(test_kinds_and_statuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
