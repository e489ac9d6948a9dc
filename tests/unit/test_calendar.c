/* test_calendar.c - built-in holiday rules against published dates,
 * observance, ledger-added days and business-day arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stdlib/calendar.h"

static dn_date D(int y, int m, int d) { return dn_date_from_ymd(y, m, d); }

static dn_calendar *cal_new(const char *name) {
  dn_calendar *c = dn_calendar_new(name);
  assert_non_null(c);
  return c;
}

static void expect_holidays(const dn_calendar *c, const dn_date *days, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!dn_calendar_is_holiday(c, days[i])) fail_msg("expected holiday: day %d", days[i]);
    if (dn_date_weekday(days[i]) < 5) assert_false(dn_calendar_is_business_day(c, days[i]));
  }
}

static void expect_business(const dn_calendar *c, const dn_date *days, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!dn_calendar_is_business_day(c, days[i])) fail_msg("expected business day: %d", days[i]);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_names(void **state) {
  (void)state;
  assert_true(dn_calendar_is_builtin("US"));
  assert_true(dn_calendar_is_builtin("GB"));
  assert_true(dn_calendar_is_builtin("UK"));
  assert_true(dn_calendar_is_builtin("DE"));
  assert_true(dn_calendar_is_builtin("FR"));
  assert_false(dn_calendar_is_builtin("us"));
  assert_false(dn_calendar_is_builtin("ACME"));
  assert_false(dn_calendar_is_builtin(""));
}

static void test_us_2026(void **state) {
  (void)state;
  dn_calendar *c = cal_new("US");
  const dn_date hol[] = {D(2026, 1, 1),  D(2026, 1, 19), D(2026, 2, 16), D(2026, 5, 25),
                         D(2026, 6, 19), D(2026, 7, 3),  D(2026, 7, 4),  D(2026, 9, 7),
                         D(2026, 10, 12), D(2026, 11, 11), D(2026, 11, 26), D(2026, 12, 25)};
  expect_holidays(c, hol, N(hol));
  const dn_date biz[] = {D(2026, 1, 2),  D(2026, 1, 12), D(2026, 1, 26), D(2026, 5, 18),
                         D(2026, 7, 2),  D(2026, 7, 6),  D(2026, 9, 8),  D(2026, 11, 27),
                         D(2026, 12, 24), D(2026, 12, 28), D(2026, 11, 25)};
  expect_business(c, biz, N(biz));
  /* Juneteenth only from 2021. */
  assert_true(dn_calendar_is_business_day(c, D(2020, 6, 19)));
  assert_true(dn_calendar_is_holiday(c, D(2021, 6, 18))); /* Sat 19 -> Fri 18 */
  dn_calendar_free(c);
}

static void test_us_observance(void **state) {
  (void)state;
  dn_calendar *c = cal_new("US");
  /* 2027: Jul 4 Sunday -> Mon 5; Christmas Saturday -> Fri 24; 2028-01-01
   * Saturday -> observed Fri 2027-12-31, across the year boundary. */
  const dn_date hol[] = {D(2027, 7, 5), D(2027, 12, 24), D(2027, 12, 31)};
  expect_holidays(c, hol, N(hol));
  const dn_date biz[] = {D(2027, 7, 2), D(2027, 12, 27), D(2027, 12, 30), D(2028, 1, 3)};
  expect_business(c, biz, N(biz));
  /* Rules still apply outside the precomputed range. */
  assert_true(dn_calendar_is_holiday(c, D(2250, 7, 4)));
  assert_true(dn_calendar_is_holiday(c, D(2250, 12, 25)));
  assert_false(dn_calendar_is_holiday(c, D(2250, 12, 23)));
  dn_calendar_free(c);
}

static void test_gb(void **state) {
  (void)state;
  dn_calendar *c = cal_new("GB");
  const dn_date hol[] = {
      D(2026, 1, 1), D(2026, 4, 3), D(2026, 4, 6), D(2026, 5, 4), D(2026, 5, 25),
      D(2026, 8, 31), D(2026, 12, 25), D(2026, 12, 28), /* Boxing Sat -> Mon 28 */
      D(2021, 12, 27), D(2021, 12, 28),                 /* Christmas Sat */
      D(2022, 1, 3),                                    /* New Year Sat -> Mon 3 */
      D(2022, 12, 26), D(2022, 12, 27),                 /* Christmas Sun */
      D(2020, 5, 8), D(2022, 6, 2), D(2022, 6, 3), D(2022, 9, 19), D(2023, 5, 8),
      D(2024, 3, 29), D(2024, 4, 1),  /* Easter 2024-03-31 */
      D(2025, 4, 18), D(2025, 4, 21), /* Easter 2025-04-20 */
      D(2038, 4, 26),                 /* Easter 2038-04-25 */
  };
  expect_holidays(c, hol, N(hol));
  const dn_date biz[] = {D(2020, 5, 4), D(2022, 5, 30), D(2021, 12, 29), D(2022, 12, 28),
                         D(2026, 12, 29), D(2026, 4, 7), D(2026, 4, 2)};
  expect_business(c, biz, N(biz));
  dn_calendar_free(c);
  c = cal_new("UK");
  assert_true(dn_calendar_is_holiday(c, D(2021, 12, 28)));
  dn_calendar_free(c);
}

static void test_de(void **state) {
  (void)state;
  dn_calendar *c = cal_new("DE");
  const dn_date hol[] = {D(2026, 1, 1),  D(2026, 4, 3),  D(2026, 4, 6),  D(2026, 5, 1),
                         D(2026, 5, 14), D(2026, 5, 25), D(2026, 10, 3), D(2026, 12, 25),
                         D(2026, 12, 26), D(2017, 10, 31)};
  expect_holidays(c, hol, N(hol));
  /* No weekend observance: Oct 3 2026 is a Saturday. */
  const dn_date biz[] = {D(2026, 10, 2), D(2026, 10, 5), D(2018, 10, 31), D(2026, 12, 28),
                         D(2026, 4, 7), D(2026, 5, 15)};
  expect_business(c, biz, N(biz));
  dn_calendar_free(c);
}

static void test_fr(void **state) {
  (void)state;
  dn_calendar *c = cal_new("FR");
  const dn_date hol[] = {D(2026, 1, 1),  D(2026, 4, 6),  D(2026, 5, 1),  D(2026, 5, 8),
                         D(2026, 5, 14), D(2026, 5, 25), D(2026, 7, 14), D(2026, 8, 15),
                         D(2026, 11, 1), D(2026, 11, 11), D(2026, 12, 25)};
  expect_holidays(c, hol, N(hol));
  const dn_date biz[] = {D(2026, 4, 3), D(2026, 12, 28), D(2026, 8, 17), D(2026, 11, 2)};
  expect_business(c, biz, N(biz));
  dn_calendar_free(c);
}

/* Every weekday holiday of a year, as published (gov.uk bank holidays for
 * England and Wales, OPM federal holidays), so a spurious extra day fails
 * as well as a missing one. Entries are MMDD. */
static void expect_year(const char *cal_name, int y, const int *mmdd, size_t n) {
  dn_calendar *c = cal_new(cal_name);
  size_t found = 0;
  for (dn_date d = D(y, 1, 1); d <= D(y, 12, 31); d++) {
    if (dn_date_weekday(d) >= 5 || !dn_calendar_is_holiday(c, d)) continue;
    int yy, m, day;
    dn_date_to_ymd(d, &yy, &m, &day);
    bool listed = false;
    for (size_t i = 0; i < n; i++) listed |= mmdd[i] == m * 100 + day;
    if (!listed) fail_msg("%s %d: unexpected holiday %02d-%02d", cal_name, y, m, day);
    found++;
  }
  assert_int_equal(found, n);
  dn_calendar_free(c);
}

static void test_published_years(void **state) {
  (void)state;
  static const int gb2020[] = {101, 410, 413, 508, 525, 831, 1225, 1228};
  static const int gb2021[] = {101, 402, 405, 503, 531, 830, 1227, 1228};
  static const int gb2022[] = {103, 415, 418, 502, 602, 603, 829, 919, 1226, 1227};
  static const int gb2023[] = {102, 407, 410, 501, 508, 529, 828, 1225, 1226};
  static const int gb2024[] = {101, 329, 401, 506, 527, 826, 1225, 1226};
  static const int gb2025[] = {101, 418, 421, 505, 526, 825, 1225, 1226};
  static const int gb2026[] = {101, 403, 406, 504, 525, 831, 1225, 1228};
  static const int gb2027[] = {101, 326, 329, 503, 531, 830, 1227, 1228};
  expect_year("GB", 2020, gb2020, N(gb2020));
  expect_year("GB", 2021, gb2021, N(gb2021));
  expect_year("GB", 2022, gb2022, N(gb2022));
  expect_year("GB", 2023, gb2023, N(gb2023));
  expect_year("GB", 2024, gb2024, N(gb2024));
  expect_year("GB", 2025, gb2025, N(gb2025));
  expect_year("GB", 2026, gb2026, N(gb2026));
  expect_year("GB", 2027, gb2027, N(gb2027));
  static const int us2024[] = {101, 115, 219, 527, 619, 704, 902, 1014, 1111, 1128, 1225};
  static const int us2025[] = {101, 120, 217, 526, 619, 704, 901, 1013, 1111, 1127, 1225};
  static const int us2026[] = {101, 119, 216, 525, 619, 703, 907, 1012, 1111, 1126, 1225};
  /* 2027 also holds Fri Dec 31, New Year 2028 observed. */
  static const int us2027[] = {101, 118, 215, 531, 618, 705, 906, 1011, 1111, 1125, 1224, 1231};
  expect_year("US", 2024, us2024, N(us2024));
  expect_year("US", 2025, us2025, N(us2025));
  expect_year("US", 2026, us2026, N(us2026));
  expect_year("US", 2027, us2027, N(us2027));
  /* DE 2025: Easter Apr 20, so Ascension May 29 and Whit Monday Jun 9. */
  static const int de2025[] = {101, 418, 421, 501, 529, 609, 1003, 1225, 1226};
  expect_year("DE", 2025, de2025, N(de2025));
  static const int fr2025[] = {101, 421, 501, 508, 529, 609, 714, 815, 1111, 1225};
  expect_year("FR", 2025, fr2025, N(fr2025));
}

static void test_business_day_math(void **state) {
  (void)state;
  dn_calendar *c = cal_new("US");
  /* Independence Day weekend 2026: Fri 3 observed, Sat 4, Sun 5. */
  assert_int_equal(dn_calendar_add_business_days(c, D(2026, 7, 2), 1), D(2026, 7, 6));
  assert_int_equal(dn_calendar_add_business_days(c, D(2026, 7, 6), -1), D(2026, 7, 2));
  assert_int_equal(dn_calendar_add_business_days(c, D(2026, 7, 2), 0), D(2026, 7, 2));
  assert_int_equal(dn_calendar_add_business_days(c, D(2026, 7, 1), 3), D(2026, 7, 7));
  assert_int_equal(dn_calendar_business_days_between(c, D(2026, 7, 2), D(2026, 7, 6)), 1);
  assert_int_equal(dn_calendar_business_days_between(c, D(2026, 7, 6), D(2026, 7, 2)), -1);
  assert_int_equal(dn_calendar_business_days_between(c, D(2026, 7, 2), D(2026, 7, 2)), 0);
  /* Thanksgiving: (Wed 25, Mon 30] holds Fri 27 and Mon 30. */
  assert_int_equal(dn_calendar_business_days_between(c, D(2026, 11, 25), D(2026, 11, 30)), 2);
  assert_int_equal(dn_calendar_add_business_days(c, D(2026, 11, 25), 1), D(2026, 11, 27));
  assert_int_equal(dn_calendar_add_business_days(c, D(2026, 11, 25), 2), D(2026, 11, 30));
  assert_int_equal(dn_calendar_next_business_day(c, D(2026, 7, 3)), D(2026, 7, 6));
  assert_int_equal(dn_calendar_next_business_day(c, D(2026, 7, 2)), D(2026, 7, 2));
  dn_calendar_free(c);

  c = cal_new("GB");
  assert_int_equal(dn_calendar_add_business_days(c, D(2021, 12, 24), 1), D(2021, 12, 29));
  assert_int_equal(dn_calendar_business_days_between(c, D(2021, 12, 24), D(2021, 12, 31)), 3);
  dn_calendar_free(c);
}

static void test_added_holidays(void **state) {
  (void)state;
  dn_calendar *c = cal_new("ACME");
  /* Weekends only: Mon 2026-03-02 .. Mon 2026-03-09 is 5 business days. */
  assert_int_equal(dn_calendar_business_days_between(c, D(2026, 3, 2), D(2026, 3, 9)), 5);
  assert_false(dn_calendar_is_holiday(c, D(2026, 12, 25)));
  for (int i = 9; i >= 1; i -= 2) assert_true(dn_calendar_add_holiday(c, D(2026, 3, i)));
  assert_true(dn_calendar_add_holiday(c, D(2026, 3, 5))); /* duplicate is fine */
  for (int i = 1; i <= 10; i++)
    assert_int_equal(dn_calendar_is_holiday(c, D(2026, 3, i)), i % 2 == 1 && i <= 9);
  /* Tue 3, Thu 5 are gone; Wed 4, Fri 6 remain; Mon 9 is a holiday. */
  assert_int_equal(dn_calendar_business_days_between(c, D(2026, 3, 2), D(2026, 3, 9)), 2);
  dn_calendar_free(c);

  c = cal_new("US");
  assert_true(dn_calendar_add_holiday(c, D(2026, 11, 27)));
  assert_int_equal(dn_calendar_add_business_days(c, D(2026, 11, 25), 1), D(2026, 11, 30));
  dn_calendar_free(c);
  dn_calendar_free(NULL);
}

/* ---- counting against walking ---------------------------------------------- */

/* The definitions, day by day: what the counted versions must equal. */
static int64_t walked_between(const dn_calendar *c, dn_date from, dn_date to) {
  if (to < from) return -walked_between(c, to, from);
  int64_t n = 0;
  for (dn_date d = from + 1; d <= to; d++) n += dn_calendar_is_business_day(c, d);
  return n;
}

static dn_date walked_add(const dn_calendar *c, dn_date d, int n) {
  int step = n < 0 ? -1 : 1;
  for (int left = n < 0 ? -n : n; left > 0;) {
    d += step;
    if (dn_calendar_is_business_day(c, d)) left--;
  }
  return d;
}

/* A small deterministic generator (xorshift), so a failure reproduces. */
static uint64_t next_rand(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void test_bounds(void **state) {
  (void)state;
  assert_int_equal(DN_CAL_MIN, D(1, 1, 1));
  assert_int_equal(DN_CAL_MAX, D(9999, 12, 31));
}

/* Spans around the edges of the precomputed years (1900/1901, 2199/2200),
 * far outside them, and across a company's added days, on every built-in
 * calendar and on none. */
static void test_counted_as_walked(void **state) {
  (void)state;
  const char *names[] = {"US", "GB", "DE", "FR", "ACME"};
  const dn_date centers[] = {D(2026, 6, 1), D(1900, 12, 28), D(1901, 1, 3), D(2199, 12, 30),
                             D(2200, 1, 2),  D(1, 1, 10),     D(9999, 12, 20), D(1750, 4, 1),
                             D(3001, 4, 15)};
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  for (size_t k = 0; k < N(names); k++) {
    dn_calendar *c = cal_new(names[k]);
    for (int i = 0; i < 40; i++) assert_true(dn_calendar_add_holiday(c, D(2026, 1 + i % 12, 1 + i % 28)));
    assert_true(dn_calendar_add_holiday(c, D(1900, 12, 31)));
    assert_true(dn_calendar_add_holiday(c, D(2200, 1, 1)));
    for (size_t ci = 0; ci < N(centers); ci++)
      for (int t = 0; t < 60; t++) {
        int64_t a = centers[ci] + (int64_t)(next_rand(&seed) % 1500) - 750;
        int64_t b = centers[ci] + (int64_t)(next_rand(&seed) % 1500) - 750;
        if (a < DN_CAL_MIN || b < DN_CAL_MIN || a > DN_CAL_MAX - 800 || b > DN_CAL_MAX - 800) continue;
        int64_t want = walked_between(c, (dn_date)a, (dn_date)b);
        if (dn_calendar_business_days_between(c, (dn_date)a, (dn_date)b) != want)
          fail_msg("%s: between %lld and %lld", names[k], (long long)a, (long long)b);
        int n = (int)(next_rand(&seed) % 600) - 300;
        dn_date walked = walked_add(c, (dn_date)a, n);
        if (walked < DN_CAL_MIN || walked > DN_CAL_MAX) walked = DN_DATE_NONE; /* out of years 1..9999 */
        if (dn_calendar_add_business_days(c, (dn_date)a, n) != walked)
          fail_msg("%s: %lld + %d business days", names[k], (long long)a, n);
      }
    dn_calendar_free(c);
  }
}

/* Outside the precomputed years, a year's rules are read as they come:
 * in 2206 (Easter on March 23) France's Ascension is May 1, one holiday
 * that two rules give. */
static void test_two_rules_one_day(void **state) {
  (void)state;
  dn_calendar *c = cal_new("FR");
  assert_true(dn_calendar_is_holiday(c, D(2206, 5, 1)));
  assert_int_equal(dn_calendar_business_days_between(c, D(2205, 12, 31), D(2206, 12, 31)),
                   walked_between(c, D(2205, 12, 31), D(2206, 12, 31)));
  dn_calendar_free(c);
}

/* What a walk could not do in reasonable time: the span of every year a
 * date can be written with, and two billion business days (which leave
 * those years: no date). */
static void test_long_spans(void **state) {
  (void)state;
  dn_calendar *c = cal_new("US");
  int64_t all = dn_calendar_business_days_between(c, DN_CAL_MIN, DN_CAL_MAX);
  /* 3,652,058 days: 521,722 weeks and 4 days (0001-01-01 is a Monday) */
  assert_int_equal(dn_date_weekday(DN_CAL_MIN), 0);
  int64_t weekdays = 521722LL * 5 + 4;
  assert_true(all < weekdays && all > weekdays - 9999LL * 12);
  assert_int_equal(dn_calendar_business_days_between(c, DN_CAL_MAX, DN_CAL_MIN), -all);
  /* spans add up: (a, b] = (a, MIN] + (MIN, MAX] + (MAX, b] */
  assert_int_equal(dn_calendar_business_days_between(c, INT32_MIN + 1, INT32_MAX),
                   dn_calendar_business_days_between(c, INT32_MIN + 1, DN_CAL_MIN) + all +
                       dn_calendar_business_days_between(c, DN_CAL_MAX, INT32_MAX));
  assert_int_equal(dn_calendar_add_business_days(c, D(2026, 1, 1), 2000000000), DN_DATE_NONE);
  assert_int_equal(dn_calendar_add_business_days(c, D(2026, 1, 1), -2000000000), DN_DATE_NONE);
  /* a long jump lands where the walk does */
  assert_int_equal(dn_calendar_add_business_days(c, D(2026, 1, 1), 25000), walked_add(c, D(2026, 1, 1), 25000));
  assert_int_equal(dn_calendar_add_business_days(c, D(2026, 1, 1), -25000), walked_add(c, D(2026, 1, 1), -25000));
  dn_calendar_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names), cmocka_unit_test(test_us_2026),
      cmocka_unit_test(test_us_observance), cmocka_unit_test(test_gb),
      cmocka_unit_test(test_de), cmocka_unit_test(test_fr),
      cmocka_unit_test(test_published_years),
      cmocka_unit_test(test_business_day_math), cmocka_unit_test(test_added_holidays),
      cmocka_unit_test(test_bounds), cmocka_unit_test(test_counted_as_walked),
      cmocka_unit_test(test_long_spans), cmocka_unit_test(test_two_rules_one_day),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
