/* money.h - exact money: an integer count of minor units and a currency.
 *
 * Currencies are small indices into the ISO 4217 table (currency.def) so
 * a money value is two machine words and comparisons never touch strings.
 * Every operation that can lose a minor unit rounds half to even, the
 * rule accountants call banker's rounding, and says so in its name. */
#ifndef DN_MONEY_H
#define DN_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DN_CUR_NONE 0xFFFF

typedef struct dn_money {
  int64_t minor;
  uint16_t cur;
} dn_money;

/* ISO 4217 code ("USD", exactly 3 bytes) -> index, or DN_CUR_NONE. */
uint16_t dn_currency_lookup(const char *code, size_t len);
const char *dn_currency_code(uint16_t cur);
/* Number of minor-unit digits: USD 2, JPY 0, KWD 3. */
int dn_currency_digits(uint16_t cur);

/* Parses a decimal amount ("1200.50", "-3", "1_000.5": underscores are
 * allowed between digits) into minor units of cur. Fails when the text is
 * malformed, has more decimals than the currency allows, or overflows. */
bool dn_money_parse(const char *text, size_t len, uint16_t cur, int64_t *minor);
/* Writes the plain decimal ("1234.56", "-0.50", "1000" for JPY) into buf,
 * which must hold at least 32 bytes. */
void dn_money_format(int64_t minor, uint16_t cur, char *buf);

/* minor * x rounded half to even; false on overflow or non-finite x. */
bool dn_money_mul_number(int64_t minor, double x, int64_t *out);
/* a / b as a number (money / money in one currency). */
double dn_money_ratio(int64_t a, int64_t b);

/* An exchange rate kept exact as a decimal: value = num / 10^scale.
 * One unit of base is worth value units of quote (LEDGER.md fx_rates). */
typedef struct dn_rate {
  int64_t num;
  int scale;
} dn_rate;

bool dn_rate_parse(const char *text, size_t len, dn_rate *out);
/* Converts minor units of `from` into minor units of `to` at `rate`
 * (units of to per unit of from), rounding half to even. When invert is
 * true the rate is given as units of from per unit of to. */
bool dn_money_convert(int64_t minor, uint16_t from, uint16_t to, dn_rate rate,
                      bool invert, int64_t *out);

/* Converts through a pivot currency (a cross rate): r1 links from and the
 * pivot, r2 the pivot and to, each possibly inverted as above. Exact, with
 * one half-even rounding at the end. */
bool dn_money_convert_cross(int64_t minor, uint16_t from, uint16_t to, dn_rate r1, bool inv1,
                            dn_rate r2, bool inv2, int64_t *out);

/* A conversion prepared once for many amounts: the facts reader converts
 * every invoice of a day at the same few rates, so whatever does not
 * depend on the amount (digits, exponent, powers of ten, direction) is
 * worked out here. dn_money_plan_convert answers exactly what
 * dn_money_convert or dn_money_convert_cross answers for the same
 * arguments, false included: the amount times mul, divided by div and
 * rounded half to even, in 64 bits when that product fits an int64, and
 * through the 128-bit path otherwise. */
typedef struct dn_money_plan {
  int64_t mul, div; /* the exact fraction the 128-bit path forms; mul 0: no 64-bit path */
  uint16_t from, to;
  bool cross, invert, invert2;
  dn_rate rate, rate2; /* rate2 and invert2 only for a cross rate */
} dn_money_plan;

/* The plan of dn_money_convert(minor, from, to, rate, invert, ...). */
dn_money_plan dn_money_plan_direct(uint16_t from, uint16_t to, dn_rate rate, bool invert);
/* The plan of dn_money_convert_cross(minor, from, to, r1, inv1, r2, inv2, ...). */
dn_money_plan dn_money_plan_cross(uint16_t from, uint16_t to, dn_rate r1, bool inv1, dn_rate r2,
                                  bool inv2);
bool dn_money_plan_convert(const dn_money_plan *plan, int64_t minor, int64_t *out);

#endif
