/* test_date.c - day numbers, strict parsing, leap years, ISO weekdays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "stdlib/date.h"

static dn_date parse_ok(const char *s) {
  dn_date d = 0;
  assert_true(dn_date_parse(s, strlen(s), &d));
  return d;
}

static void test_epoch_and_known_days(void **state) {
  (void)state;
  assert_int_equal(dn_date_from_ymd(1970, 1, 1), 0);
  assert_int_equal(dn_date_from_ymd(1970, 1, 2), 1);
  assert_int_equal(dn_date_from_ymd(1969, 12, 31), -1);
  /* 1971-01-01: 1970 has 365 days. */
  assert_int_equal(dn_date_from_ymd(1971, 1, 1), 365);
  /* 2000-01-01 is 10957 days after the epoch (30 years, 7 leap days). */
  assert_int_equal(dn_date_from_ymd(2000, 1, 1), 10957);
  /* 2000-03-01: Jan 31 + Feb 29 (2000 is leap). */
  assert_int_equal(dn_date_from_ymd(2000, 3, 1), 10957 + 31 + 29);
  /* 1900-03-01 vs 1900-02-28: one day apart (1900 is not leap). */
  assert_int_equal(dn_date_from_ymd(1900, 3, 1) - dn_date_from_ymd(1900, 2, 28), 1);
  assert_int_equal(dn_date_from_ymd(2000, 3, 1) - dn_date_from_ymd(2000, 2, 28), 2);
}

static void test_round_trip(void **state) {
  (void)state;
  for (dn_date d = -800000; d <= 800000; d += 7) {
    int y, m, day;
    dn_date_to_ymd(d, &y, &m, &day);
    assert_true(dn_date_valid_ymd(y, m, day));
    assert_int_equal(dn_date_from_ymd(y, m, day), d);
  }
  int y, m, day;
  dn_date_to_ymd(-1, &y, &m, &day);
  assert_int_equal(y, 1969);
  assert_int_equal(m, 12);
  assert_int_equal(day, 31);
}

static void test_parse_strict(void **state) {
  (void)state;
  dn_date d;
  assert_int_equal(parse_ok("2026-11-25"), dn_date_from_ymd(2026, 11, 25));
  assert_int_equal(parse_ok("2024-02-29"), dn_date_from_ymd(2024, 2, 29));
  assert_int_equal(parse_ok("2000-02-29"), dn_date_from_ymd(2000, 2, 29));
  const char *bad[] = {"2026-02-30", "2026-13-01", "2025-02-29", "1900-02-29",
                       "2026-00-10", "2026-01-00", "2026-1-01",  "2026-01-1",
                       "2026-01-011", "26-01-01",  "2026/01/01", "2026-01-0a",
                       "",           "2026-04-31", " 2026-01-1", "+026-01-01"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_false(dn_date_parse(bad[i], strlen(bad[i]), &d));
  /* len bounds the parse: a longer buffer with the right prefix is fine. */
  assert_true(dn_date_parse("2026-03-10T09:00", 10, &d));
  assert_int_equal(d, dn_date_from_ymd(2026, 3, 10));
  assert_false(dn_date_parse("2026-03-10", 9, &d));
}

static void test_format(void **state) {
  (void)state;
  char buf[11];
  dn_date_format(dn_date_from_ymd(2026, 3, 10), buf);
  assert_string_equal(buf, "2026-03-10");
  dn_date_format(0, buf);
  assert_string_equal(buf, "1970-01-01");
  dn_date_format(dn_date_from_ymd(999, 12, 31), buf);
  assert_string_equal(buf, "0999-12-31");
}

static void test_weekday(void **state) {
  (void)state;
  assert_int_equal(dn_date_weekday(0), 3);                              /* Thu 1970-01-01 */
  assert_int_equal(dn_date_weekday(dn_date_from_ymd(2026, 11, 25)), 2); /* Wed */
  assert_int_equal(dn_date_weekday(dn_date_from_ymd(2026, 3, 8)), 6);   /* Sun */
  assert_int_equal(dn_date_weekday(dn_date_from_ymd(2026, 3, 9)), 0);   /* Mon */
  assert_int_equal(dn_date_weekday(dn_date_from_ymd(1969, 12, 29)), 0); /* Mon, negative day */
  assert_int_equal(dn_date_weekday(dn_date_from_ymd(2000, 1, 1)), 5);   /* Sat */
}

static void test_days_in_month(void **state) {
  (void)state;
  assert_int_equal(dn_days_in_month(2024, 2), 29);
  assert_int_equal(dn_days_in_month(2025, 2), 28);
  assert_int_equal(dn_days_in_month(1900, 2), 28);
  assert_int_equal(dn_days_in_month(2000, 2), 29);
  assert_int_equal(dn_days_in_month(2026, 4), 30);
  assert_int_equal(dn_days_in_month(2026, 12), 31);
  assert_int_equal(dn_days_in_month(2026, 13), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_epoch_and_known_days), cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_parse_strict),         cmocka_unit_test(test_format),
      cmocka_unit_test(test_weekday),              cmocka_unit_test(test_days_in_month),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
