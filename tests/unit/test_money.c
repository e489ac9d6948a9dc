/* test_money.c - currency table, exact parsing/formatting, half-even
 * multiplication and fx conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "stdlib/money.h"

static uint16_t cur(const char *code) {
  uint16_t c = dn_currency_lookup(code, strlen(code));
  assert_int_not_equal(c, DN_CUR_NONE);
  return c;
}

static int64_t parse_ok(const char *s, const char *code) {
  int64_t v = 0;
  assert_true(dn_money_parse(s, strlen(s), cur(code), &v));
  return v;
}

static bool parses(const char *s, const char *code) {
  int64_t v;
  return dn_money_parse(s, strlen(s), cur(code), &v);
}

static void test_currency_table(void **state) {
  (void)state;
  assert_int_equal(dn_currency_digits(cur("USD")), 2);
  assert_int_equal(dn_currency_digits(cur("EUR")), 2);
  assert_int_equal(dn_currency_digits(cur("GBP")), 2);
  assert_int_equal(dn_currency_digits(cur("JPY")), 0);
  assert_int_equal(dn_currency_digits(cur("KWD")), 3);
  assert_int_equal(dn_currency_digits(cur("BHD")), 3);
  assert_int_equal(dn_currency_digits(cur("TND")), 3);
  assert_int_equal(dn_currency_digits(cur("CLF")), 4);
  assert_int_equal(dn_currency_digits(cur("UYW")), 4);
  assert_int_equal(dn_currency_digits(cur("ISK")), 0);
  assert_int_equal(dn_currency_digits(cur("KRW")), 0);
  assert_int_equal(dn_currency_digits(cur("XOF")), 0);
  assert_int_equal(dn_currency_digits(cur("AED")), 2);
  assert_int_equal(dn_currency_digits(cur("ZMW")), 2);
  assert_string_equal(dn_currency_code(cur("CHF")), "CHF");
  assert_int_equal(dn_currency_lookup("usd", 3), DN_CUR_NONE);
  assert_int_equal(dn_currency_lookup("USDX", 4), DN_CUR_NONE);
  assert_int_equal(dn_currency_lookup("US", 2), DN_CUR_NONE);
  assert_int_equal(dn_currency_lookup("ABC", 3), DN_CUR_NONE);
  assert_int_equal(dn_currency_digits(DN_CUR_NONE), -1);
  assert_string_equal(dn_currency_code(DN_CUR_NONE), "");
  /* Every index must be found by its own code: this fails when
   * currency.def is not sorted. */
  int n = 0;
  for (uint16_t i = 0; dn_currency_digits(i) >= 0; i++, n++) {
    const char *code = dn_currency_code(i);
    assert_int_equal(dn_currency_lookup(code, 3), i);
  }
  assert_true(n >= 150);
}

static void test_parse(void **state) {
  (void)state;
  assert_int_equal(parse_ok("1200.50", "USD"), 120050);
  assert_int_equal(parse_ok("1_200.5", "USD"), 120050);
  assert_int_equal(parse_ok("1000", "JPY"), 1000);
  assert_int_equal(parse_ok("-3.10", "USD"), -310);
  assert_int_equal(parse_ok("-3", "USD"), -300);
  assert_int_equal(parse_ok("0.01", "USD"), 1);
  assert_int_equal(parse_ok("1.234", "KWD"), 1234);
  assert_int_equal(parse_ok("1_000_000", "USD"), 100000000);
  assert_int_equal(parse_ok("92233720368547758.07", "USD"), INT64_MAX);
  assert_int_equal(parse_ok("-92233720368547758.08", "USD"), INT64_MIN);
  assert_false(parses("1.5", "JPY"));
  assert_false(parses("1.005", "USD"));
  assert_false(parses("1.500", "USD")); /* too many decimals, even zeros */
  assert_false(parses("92233720368547758.08", "USD"));
  assert_false(parses("99999999999999999999999", "USD"));
  assert_false(parses("9223372036854775808", "JPY"));
  const char *garbage[] = {"", "-", ".", "1.", ".5", "abc", "1,5", "1e3", "1__0",
                           "_1", "1_", "1_.5", "1._5", "--1", "1 ", " 1", "1.2.3", "0x10"};
  for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
    assert_false(parses(garbage[i], "USD"));
  int64_t v;
  assert_false(dn_money_parse("1", 1, DN_CUR_NONE, &v));
}

static void fmt(int64_t minor, const char *code, const char *want) {
  char buf[32];
  dn_money_format(minor, cur(code), buf);
  assert_string_equal(buf, want);
}

static void test_format(void **state) {
  (void)state;
  fmt(120050, "USD", "1200.50");
  fmt(-50, "USD", "-0.50");
  fmt(0, "USD", "0.00");
  fmt(5, "USD", "0.05");
  fmt(1000, "JPY", "1000");
  fmt(-7, "JPY", "-7");
  fmt(1234, "KWD", "1.234");
  fmt(1, "CLF", "0.0001");
  fmt(INT64_MIN, "USD", "-92233720368547758.08");
  fmt(INT64_MAX, "JPY", "9223372036854775807");
}

static int64_t mul(int64_t minor, double x) {
  int64_t out = 0;
  assert_true(dn_money_mul_number(minor, x, &out));
  return out;
}

static void test_mul_number(void **state) {
  (void)state;
  assert_int_equal(mul(25, 0.5), 12);   /* 12.5 -> even 12 */
  assert_int_equal(mul(35, 0.5), 18);   /* 17.5 -> even 18 */
  assert_int_equal(mul(-25, 0.5), -12);
  assert_int_equal(mul(-35, 0.5), -18);
  assert_int_equal(mul(1000, 0.30), 300);
  assert_int_equal(mul(100000, 0.07), 7000);
  assert_int_equal(mul(1005, 0.1), 100);  /* 100.5 -> 100 */
  assert_int_equal(mul(1015, 0.1), 102);  /* 101.5 -> 102 */
  assert_int_equal(mul(1016, 0.1), 102);  /* 101.6 */
  assert_int_equal(mul(12345, 2.0), 24690);
  assert_int_equal(mul(3, 1e18), 3000000000000000000LL);
  assert_int_equal(mul(12345, 0.0), 0);
  assert_int_equal(mul(1, 1e-30), 0);
  assert_int_equal(mul(INT64_MAX, 1.0), INT64_MAX);
  assert_int_equal(mul(10, 1.15), 12);  /* 11.5 -> 12 */
  assert_int_equal(mul(10, 1.25), 12);  /* 12.5 -> 12 */
  int64_t out;
  assert_false(dn_money_mul_number(INT64_MAX, 2.0, &out));
  assert_false(dn_money_mul_number(1, 1e19, &out));
  assert_false(dn_money_mul_number(1, NAN, &out));
  assert_false(dn_money_mul_number(1, INFINITY, &out));
}

static void test_ratio(void **state) {
  (void)state;
  assert_true(dn_money_ratio(50, 200) == 0.25);
  assert_true(dn_money_ratio(-300, 100) == -3.0);
  assert_true(isnan(dn_money_ratio(1, 0)));
}

static dn_rate rate_ok(const char *s) {
  dn_rate r = {0, 0};
  assert_true(dn_rate_parse(s, strlen(s), &r));
  return r;
}

static void test_rate_parse(void **state) {
  (void)state;
  dn_rate r = rate_ok("1.0850");
  assert_int_equal(r.num, 10850);
  assert_int_equal(r.scale, 4);
  r = rate_ok("110");
  assert_int_equal(r.num, 110);
  assert_int_equal(r.scale, 0);
  r = rate_ok("0.0065");
  assert_int_equal(r.num, 65);
  assert_int_equal(r.scale, 4);
  r = rate_ok("123456789.123456789");
  assert_int_equal(r.num, 123456789123456789LL);
  assert_int_equal(r.scale, 9);
  const char *bad[] = {"", "-1.2", "0", "0.000", "abc", "1.", ".5", "1.2.3", "+1",
                       "1e3", "1,5", "1234567890.123456789", " 1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    dn_rate x;
    assert_false(dn_rate_parse(bad[i], strlen(bad[i]), &x));
  }
}

static int64_t conv(int64_t minor, const char *from, const char *to, const char *rate,
                    bool invert) {
  int64_t out = 0;
  assert_true(dn_money_convert(minor, cur(from), cur(to), rate_ok(rate), invert, &out));
  return out;
}

/* Cross rates through a pivot, rounded once at the end. */
static void test_convert_cross(void **state) {
  (void)state;
  int64_t out = 0;
  /* 100.00 GBP -> USD at GBP/USD 1.25 = 125 USD -> EUR with EUR/USD 1.0850
   * inverted: 125 / 1.085 = 115.2073.. -> 115.21 EUR. */
  assert_true(dn_money_convert_cross(10000, cur("GBP"), cur("EUR"), rate_ok("1.25"), false,
                                     rate_ok("1.0850"), true, &out));
  assert_int_equal(out, 11521);
  /* One rounding, not two: 0.07 EUR x 1.5 x 1.05 = 0.11025 -> 0.11 GBP,
   * where rounding each leg gives 0.105 -> 0.10, x 1.05 = 0.105 -> 0.10. */
  assert_true(dn_money_convert_cross(7, cur("EUR"), cur("GBP"), rate_ok("1.5"), false, rate_ok("1.05"),
                                     false, &out));
  assert_int_equal(out, 11);
  /* JPY -> USD -> KWD: 15000 JPY / 150 = 100 USD, x 0.3075 = 30.750 KWD. */
  assert_true(dn_money_convert_cross(15000, cur("JPY"), cur("KWD"), rate_ok("150"), true,
                                     rate_ok("0.3075"), false, &out));
  assert_int_equal(out, 30750);
  assert_false(dn_money_convert_cross(INT64_MAX, cur("JPY"), cur("KWD"), rate_ok("1000"), false,
                                      rate_ok("1000"), false, &out));
}

static void test_convert(void **state) {
  (void)state;
  /* 100.00 EUR at 1.0850 USD per EUR = 108.50 USD. */
  assert_int_equal(conv(10000, "EUR", "USD", "1.0850", false), 10850);
  /* 108.50 USD back with the EUR/USD rate inverted = 100.00 EUR. */
  assert_int_equal(conv(10850, "USD", "EUR", "1.0850", true), 10000);
  /* 1000 JPY at 0.0065 USD per JPY = 6.50 USD. */
  assert_int_equal(conv(1000, "JPY", "USD", "0.0065", false), 650);
  /* 10.00 USD at 150 JPY per USD, inverted (JPY->USD given as USD/JPY):
   * 1500 JPY / 150 = 10.00 USD. */
  assert_int_equal(conv(1500, "JPY", "USD", "150", true), 1000);
  /* 10.00 USD at 0.3075 KWD per USD = 3.075 KWD. */
  assert_int_equal(conv(1000, "USD", "KWD", "0.3075", false), 3075);
  /* Half to even: 0.01 EUR * 1.5 = 0.015 -> 0.02; 0.03 * 1.5 = 0.045 -> 0.04. */
  assert_int_equal(conv(1, "EUR", "USD", "1.5", false), 2);
  assert_int_equal(conv(3, "EUR", "USD", "1.5", false), 4);
  assert_int_equal(conv(-3, "EUR", "USD", "1.5", false), -4);
  /* 0.05 EUR * 1.1 = 0.055 -> 0.06 (5 odd -> up); 0.15 * 1.1 = 0.165 -> 0.16. */
  assert_int_equal(conv(5, "EUR", "USD", "1.1", false), 6);
  assert_int_equal(conv(15, "EUR", "USD", "1.1", false), 16);
  /* Inverse: 1.00 USD / 3 = 0.333.. -> 0.33; 0.05 / 2 = 0.025 -> 0.02. */
  assert_int_equal(conv(100, "USD", "EUR", "3", true), 33);
  assert_int_equal(conv(5, "USD", "EUR", "2", true), 2);
  assert_int_equal(conv(7, "USD", "EUR", "2", true), 4);
  /* KWD -> JPY: 1.000 KWD at 487.5 JPY = 487.5 -> 488 (7 odd? 487 odd -> 488). */
  assert_int_equal(conv(1000, "KWD", "JPY", "487.5", false), 488);
  assert_int_equal(conv(1000, "KWD", "JPY", "486.5", false), 486);
  int64_t out;
  assert_false(dn_money_convert(INT64_MAX, cur("JPY"), cur("KWD"), rate_ok("2"), false, &out));
  assert_false(dn_money_convert(INT64_MAX, cur("JPY"), cur("KWD"), rate_ok("0.5"), true, &out));
  dn_rate zero = {0, 0};
  assert_false(dn_money_convert(1, cur("USD"), cur("EUR"), zero, false, &out));
  assert_false(dn_money_convert(1, DN_CUR_NONE, cur("EUR"), rate_ok("1"), false, &out));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_currency_table), cmocka_unit_test(test_parse),
      cmocka_unit_test(test_format),         cmocka_unit_test(test_mul_number),
      cmocka_unit_test(test_ratio),          cmocka_unit_test(test_rate_parse),
      cmocka_unit_test(test_convert),        cmocka_unit_test(test_convert_cross),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
