/* test_locale.c - money and dates per language (stdlib/locale.c). Every
 * expected string is written from CLDR's patterns by hand: U+00A0 is the
 * no-break space before a trailing symbol, U+202F the French group
 * separator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "stdlib/locale.h"
#include "stdlib/money.h"

#define NBSP "\xC2\xA0"
#define NNBSP "\xE2\x80\xAF"
#define EURO "\xE2\x82\xAC"

static void money_is(dn_lang l, int64_t minor, const char *code, const char *want) {
  uint16_t cur = dn_currency_lookup(code, strlen(code));
  assert_int_not_equal(cur, DN_CUR_NONE);
  char buf[DN_LOCALE_BUF];
  dn_locale_format_money(l, minor, cur, buf);
  assert_string_equal(buf, want);
}

static void date_is(dn_lang l, int y, int m, int d, const char *want) {
  char buf[DN_LOCALE_BUF];
  dn_locale_format_date(l, dn_date_from_ymd(y, m, d), buf);
  assert_string_equal(buf, want);
}

static void test_english_money(void **state) {
  (void)state;
  money_is(DN_LANG_EN, 123456, "USD", "$1,234.56");
  money_is(DN_LANG_EN, -123456, "USD", "-$1,234.56");
  money_is(DN_LANG_EN, 0, "USD", "$0.00");
  money_is(DN_LANG_EN, 5, "USD", "$0.05");
  money_is(DN_LANG_EN, -5, "USD", "-$0.05");
  money_is(DN_LANG_EN, 99999, "USD", "$999.99");
  money_is(DN_LANG_EN, 100000, "USD", "$1,000.00");
  money_is(DN_LANG_EN, 123456789012, "USD", "$1,234,567,890.12");
  money_is(DN_LANG_EN, 100, "EUR", EURO "1.00");
  money_is(DN_LANG_EN, 250075, "GBP", "\xC2\xA3" "2,500.75");
  money_is(DN_LANG_EN, 1234567, "JPY", "\xC2\xA5" "1,234,567");
  money_is(DN_LANG_EN, 0, "JPY", "\xC2\xA5" "0");
  money_is(DN_LANG_EN, 1234567, "KWD", "KWD" NBSP "1,234.567");
  money_is(DN_LANG_EN, -1, "KWD", "-KWD" NBSP "0.001");
  money_is(DN_LANG_EN, 12345, "CLF", "CLF" NBSP "1.2345");
  /* INT64_MIN has no positive int64: the magnitude is kept unsigned. */
  money_is(DN_LANG_EN, INT64_MIN, "USD", "-$92,233,720,368,547,758.08");
}

static void test_german_money(void **state) {
  (void)state;
  money_is(DN_LANG_DE, 123456, "EUR", "1.234,56" NBSP EURO);
  money_is(DN_LANG_DE, -5, "EUR", "-0,05" NBSP EURO);
  money_is(DN_LANG_DE, 0, "EUR", "0,00" NBSP EURO);
  money_is(DN_LANG_DE, 123456, "USD", "1.234,56" NBSP "$");
  money_is(DN_LANG_DE, 1234567, "KWD", "1.234,567" NBSP "KWD");
  money_is(DN_LANG_DE, 1234567, "JPY", "1.234.567" NBSP "\xC2\xA5");
  money_is(DN_LANG_DE, INT64_MAX, "KWD", "9.223.372.036.854.775,807" NBSP "KWD");
}

static void test_french_money(void **state) {
  (void)state;
  money_is(DN_LANG_FR, 123456, "EUR", "1" NNBSP "234,56" NBSP EURO);
  money_is(DN_LANG_FR, 123456789, "EUR", "1" NNBSP "234" NNBSP "567,89" NBSP EURO);
  money_is(DN_LANG_FR, -99999, "EUR", "-999,99" NBSP EURO);
  money_is(DN_LANG_FR, 1000, "JPY", "1" NNBSP "000" NBSP "JPY");
  money_is(DN_LANG_FR, 123456, "USD", "1" NNBSP "234,56" NBSP "$US");
  money_is(DN_LANG_FR, 500, "KWD", "0,500" NBSP "KWD");
}

static void test_spanish_money(void **state) {
  (void)state;
  /* CLDR es: minimum grouping digits 2, so four-digit amounts are not
   * grouped and five-digit ones are. */
  money_is(DN_LANG_ES, 123456, "EUR", "1234,56" NBSP EURO);
  money_is(DN_LANG_ES, 1234567, "EUR", "12.345,67" NBSP EURO);
  money_is(DN_LANG_ES, -123456789, "EUR", "-1.234.567,89" NBSP EURO);
  money_is(DN_LANG_ES, 99, "USD", "0,99" NBSP "US$");
  money_is(DN_LANG_ES, 9999, "JPY", "9999" NBSP "JPY");
  money_is(DN_LANG_ES, 10000, "JPY", "10.000" NBSP "JPY");
  money_is(DN_LANG_ES, 12345678, "KWD", "12.345,678" NBSP "KWD");
}

static void test_dates(void **state) {
  (void)state;
  date_is(DN_LANG_EN, 2026, 3, 10, "March 10, 2026");
  date_is(DN_LANG_DE, 2026, 3, 10, "10. M\xC3\xA4rz 2026");
  date_is(DN_LANG_FR, 2026, 3, 10, "10 mars 2026");
  date_is(DN_LANG_ES, 2026, 3, 10, "10 de marzo de 2026");
  date_is(DN_LANG_EN, 2026, 1, 1, "January 1, 2026");
  date_is(DN_LANG_DE, 2026, 1, 1, "1. Januar 2026");
  date_is(DN_LANG_FR, 2026, 8, 15, "15 ao\xC3\xBBt 2026");
  date_is(DN_LANG_FR, 2024, 2, 29, "29 f\xC3\xA9vrier 2024");
  date_is(DN_LANG_ES, 2026, 12, 31, "31 de diciembre de 2026");
  date_is(DN_LANG_DE, 1999, 12, 31, "31. Dezember 1999");
  char buf[DN_LOCALE_BUF] = "x";
  dn_locale_format_date(DN_LANG_EN, DN_DATE_NONE, buf);
  assert_string_equal(buf, "");
}

static void test_language_tags(void **state) {
  (void)state;
  dn_lang l;
  assert_true(dn_lang_parse("de", &l));
  assert_int_equal(l, DN_LANG_DE);
  assert_true(dn_lang_parse("de-AT", &l));
  assert_int_equal(l, DN_LANG_DE);
  assert_true(dn_lang_parse("fr_CA", &l));
  assert_int_equal(l, DN_LANG_FR);
  assert_true(dn_lang_parse("ES", &l));
  assert_int_equal(l, DN_LANG_ES);
  assert_true(dn_lang_parse("en-GB", &l));
  assert_int_equal(l, DN_LANG_EN);
  l = DN_LANG_DE;
  assert_false(dn_lang_parse("pt-BR", &l));
  assert_int_equal(l, DN_LANG_EN);
  assert_false(dn_lang_parse("deu", &l));
  assert_false(dn_lang_parse("", &l));
  assert_false(dn_lang_parse(NULL, &l));
  assert_false(dn_lang_parse("d", &l));
  assert_string_equal(dn_lang_code(DN_LANG_FR), "fr");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_english_money), cmocka_unit_test(test_german_money),
      cmocka_unit_test(test_french_money),  cmocka_unit_test(test_spanish_money),
      cmocka_unit_test(test_dates),         cmocka_unit_test(test_language_tags),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
