/* money.c - the ISO 4217 table, exact decimal parsing and formatting,
 * half-to-even rounding and exchange-rate conversion.
 *
 * Nothing here computes with floating point except dn_money_mul_number,
 * whose operand is a double by contract: that double is first turned into
 * the shortest decimal that reads back as the same double (0.30 -> "3e-1")
 * and the product is then formed exactly in 128-bit integers, so
 * 1000 * 0.30 is 300 and not 299.99999... rounded. */
#include "stdlib/money.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef __int128 i128;

typedef struct currency_row {
  char code[4];
  int digits;
} currency_row;

static const currency_row currencies[] = {
#define DN_CURRENCY(CODE, DIGITS, NAME) {#CODE, DIGITS},
#include "stdlib/currency.def"
#undef DN_CURRENCY
};

enum { currency_count = (int)(sizeof currencies / sizeof currencies[0]) };

/* 10^0 .. 10^38: every power of ten an __int128 can hold. */
static i128 pow10_i128(int n) {
  i128 p = 1;
  for (int i = 0; i < n; i++) p *= 10;
  return p;
}

uint16_t dn_currency_lookup(const char *code, size_t len) {
  if (code == NULL || len != 3) return DN_CUR_NONE;
  int lo = 0, hi = currency_count - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    int c = memcmp(code, currencies[mid].code, 3);
    if (c == 0) return (uint16_t)mid;
    if (c < 0)
      hi = mid - 1;
    else
      lo = mid + 1;
  }
  return DN_CUR_NONE;
}

/* An unknown index gives "" rather than NULL so that a caller formatting
 * a diagnostic about a bad currency cannot crash on it. */
const char *dn_currency_code(uint16_t cur) {
  return cur < currency_count ? currencies[cur].code : "";
}

/* -1 for an unknown index: parsing and conversion refuse it. */
int dn_currency_digits(uint16_t cur) {
  return cur < currency_count ? currencies[cur].digits : -1;
}

static bool fits_i64(i128 v) { return v >= INT64_MIN && v <= INT64_MAX; }

/* n / d for d > 0, rounded half to even. Amounts and rates mostly fit
 * in 64 bits: their quotient then takes one machine division instead of
 * a call to the 128-bit one (a conversion per invoice per day simulated). */
static i128 div_half_even(i128 n, i128 d) {
  if (n > INT64_MIN && n <= INT64_MAX && d <= INT64_MAX) {
    int64_t n64 = (int64_t)n, d64 = (int64_t)d, q64 = n64 / d64, r64 = n64 % d64;
    uint64_t twice = (uint64_t)(r64 < 0 ? -r64 : r64) * 2;
    if (twice > (uint64_t)d64 || (twice == (uint64_t)d64 && (q64 & 1) != 0)) q64 += n64 < 0 ? -1 : 1;
    return q64;
  }
  i128 q = n / d, r = n % d;
  i128 twice = (r < 0 ? -r : r) * 2;
  if (twice > d || (twice == d && (q & 1) != 0)) q += n < 0 ? -1 : 1;
  return q;
}

/* Scales v by 10^e (e may be negative, rounding half to even); false when
 * the result leaves int64. */
static bool scale_to_i64(i128 v, int e, int64_t *out) {
  if (e >= 0) {
    for (int i = 0; i < e; i++) {
      if (v > INT64_MAX || v < INT64_MIN) return false;
      v *= 10;
    }
  } else if (e < -38) {
    /* |v| < 10^38 < 10^-e / 2, so the quotient rounds to zero. */
    v = 0;
  } else {
    v = div_half_even(v, pow10_i128(-e));
  }
  if (!fits_i64(v)) return false;
  *out = (int64_t)v;
  return true;
}

/* Digits of a decimal with '_' allowed only between two digits; stops at
 * the first other byte. Returns the number of digits read (0 = none) and
 * accumulates into *acc, failing (-1) once *acc exceeds `limit`. */
static int read_digits(const char *s, size_t len, size_t *pos, i128 *acc, i128 limit) {
  int n = 0;
  while (*pos < len) {
    char c = s[*pos];
    if (c == '_') {
      bool between = n > 0 && *pos + 1 < len && s[*pos + 1] >= '0' && s[*pos + 1] <= '9';
      if (!between) return -1;
      (*pos)++;
      continue;
    }
    if (c < '0' || c > '9') break;
    *acc = *acc * 10 + (c - '0');
    if (*acc > limit) return -1;
    n++;
    (*pos)++;
  }
  return n;
}

/* "1.500" USD is refused even though the extra digit is a zero: the
 * language makes any literal with more decimals than the currency has an
 * error, and one rule for parsing keeps CSV import and policy literals in
 * agreement. */
bool dn_money_parse(const char *text, size_t len, uint16_t cur, int64_t *minor) {
  int digits = dn_currency_digits(cur);
  if (text == NULL || digits < 0) return false;
  size_t pos = 0;
  bool neg = false;
  if (pos < len && (text[pos] == '-' || text[pos] == '+')) neg = text[pos++] == '-';
  /* The magnitude may reach 2^63 so that INT64_MIN parses. */
  const i128 limit = (i128)INT64_MAX + 1;
  i128 acc = 0;
  if (read_digits(text, len, &pos, &acc, limit) <= 0) return false;
  int frac = 0;
  if (pos < len && text[pos] == '.') {
    pos++;
    frac = read_digits(text, len, &pos, &acc, limit);
    if (frac <= 0 || frac > digits) return false;
  }
  if (pos != len) return false;
  for (int i = frac; i < digits; i++) {
    acc *= 10;
    if (acc > limit) return false;
  }
  if (neg) acc = -acc;
  if (!fits_i64(acc)) return false;
  *minor = (int64_t)acc;
  return true;
}

void dn_money_format(int64_t minor, uint16_t cur, char *buf) {
  int digits = dn_currency_digits(cur);
  if (digits < 0) digits = 0;
  /* Unsigned magnitude so that INT64_MIN formats too. */
  uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
  char tmp[32];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + mag % 10);
    mag /= 10;
  } while (mag > 0 || n <= digits);
  size_t o = 0;
  if (minor < 0) buf[o++] = '-';
  for (int i = n - 1; i >= 0; i--) {
    if (i == digits - 1) buf[o++] = '.';
    buf[o++] = tmp[i];
  }
  buf[o] = '\0';
}

/* The shortest "%.*e" rendering of x that reads back as x, split into an
 * integer mantissa and a power of ten: x == mant * 10^exp exactly in the
 * decimal sense the user wrote. */
static bool shortest_decimal(double x, int64_t *mant, int *exp) {
  char buf[40];
  for (int prec = 0; prec <= 16; prec++) {
    snprintf(buf, sizeof buf, "%.*e", prec, x);
    if (strtod(buf, NULL) == x || prec == 16) break;
  }
  /* Parse "-d.ddde+XX" ourselves: the decimal point is locale-dependent,
   * so any byte that is not a digit before the 'e' is skipped. */
  const char *p = buf;
  bool neg = *p == '-';
  if (neg) p++;
  int64_t m = 0;
  int fdigits = 0;
  bool seen_point = false;
  for (; *p != '\0' && *p != 'e'; p++) {
    if (*p >= '0' && *p <= '9') {
      m = m * 10 + (*p - '0');
      fdigits += seen_point;
    } else {
      seen_point = true;
    }
  }
  if (*p != 'e') return false;
  *mant = neg ? -m : m;
  *exp = atoi(p + 1) - fdigits;
  return true;
}

bool dn_money_mul_number(int64_t minor, double x, int64_t *out) {
  if (!isfinite(x)) return false;
  if (x == 0.0 || minor == 0) {
    *out = 0;
    return true;
  }
  int64_t mant;
  int exp;
  if (!shortest_decimal(x, &mant, &exp)) return false;
  /* |minor| < 2^63 and |mant| < 10^17, so the product fits in 127 bits. */
  return scale_to_i64((i128)minor * mant, exp, out);
}

/* NaN for b == 0: there is no ratio, and the caller decides what that
 * means (the VM reports it as a runtime error). */
double dn_money_ratio(int64_t a, int64_t b) {
  if (b == 0) return NAN;
  return (double)a / (double)b;
}

/* Plain positive decimals only ("1.0850", "110", "0.0065"): fx_rates rows
 * are machine-written, so anything else is a data error to report. At
 * most 18 digits so that num fits an int64 with room to spare. */
bool dn_rate_parse(const char *text, size_t len, dn_rate *out) {
  if (text == NULL || len == 0) return false;
  int64_t num = 0;
  int ndigits = 0, scale = 0;
  bool point = false;
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    if (c == '.') {
      if (point || ndigits == 0) return false;
      point = true;
      continue;
    }
    if (c < '0' || c > '9') return false;
    if (++ndigits > 18) return false;
    num = num * 10 + (c - '0');
    scale += point;
  }
  if (ndigits == 0 || (point && scale == 0) || num == 0) return false;
  out->num = num;
  out->scale = scale;
  return true;
}

/* minor_to = minor_from * rate * 10^(digits_to - digits_from), with the
 * rate num / 10^scale, formed as one exact integer fraction and rounded
 * once. If the 128-bit numerator overflows, the quotient (divisor at
 * most 10^22 or num < 10^18) could not fit an int64 either. */
bool dn_money_convert(int64_t minor, uint16_t from, uint16_t to, dn_rate rate,
                      bool invert, int64_t *out) {
  int df = dn_currency_digits(from), dt = dn_currency_digits(to);
  if (df < 0 || dt < 0 || rate.num <= 0 || rate.scale < 0 || rate.scale > 18) return false;
  if (!invert) return scale_to_i64((i128)minor * rate.num, dt - df - rate.scale, out);
  /* Divide by the rate: minor * 10^(scale + dt - df) / num. */
  int e = rate.scale + dt - df;
  i128 n = minor;
  i128 d = rate.num;
  const i128 cap = pow10_i128(37);
  if (e >= 0) {
    for (int i = 0; i < e; i++) {
      if (n > cap || n < -cap) return false;
      n *= 10;
    }
  } else {
    d *= pow10_i128(-e); /* -e <= 4 (df <= 4), so d < 10^22 */
  }
  i128 q = div_half_even(n, d);
  if (!fits_i64(q)) return false;
  *out = (int64_t)q;
  return true;
}

static bool mul_i128(i128 a, i128 b, i128 *out) { return !__builtin_mul_overflow(a, b, out); }

/* from -> pivot -> to in one exact fraction, rounded once: two roundings
 * (one per leg) could move the result by a minor unit of the pivot. */
bool dn_money_convert_cross(int64_t minor, uint16_t from, uint16_t to, dn_rate r1, bool inv1,
                            dn_rate r2, bool inv2, int64_t *out) {
  int df = dn_currency_digits(from), dt = dn_currency_digits(to);
  if (df < 0 || dt < 0 || r1.num <= 0 || r2.num <= 0 || r1.scale < 0 || r1.scale > 18 ||
      r2.scale < 0 || r2.scale > 18)
    return false;
  i128 p1 = pow10_i128(r1.scale), p2 = pow10_i128(r2.scale);
  i128 n = minor, d = 1;
  if (!mul_i128(n, inv1 ? p1 : r1.num, &n) || !mul_i128(n, inv2 ? p2 : r2.num, &n)) return false;
  if (!mul_i128(d, inv1 ? r1.num : p1, &d) || !mul_i128(d, inv2 ? r2.num : p2, &d)) return false;
  int e = dt - df;
  if (e > 0 && !mul_i128(n, pow10_i128(e), &n)) return false;
  if (e < 0 && !mul_i128(d, pow10_i128(-e), &d)) return false;
  i128 q = div_half_even(n, d);
  if (!fits_i64(q)) return false;
  *out = (int64_t)q;
  return true;
}

/* ---- prepared conversions (dn_money_plan) --------------------------------
 * The 128-bit functions above stay the definition; a plan only remembers
 * the fraction they would form, so that an amount whose product with it
 * fits 64 bits skips the digit lookups, the exponent loops and the 128-bit
 * arithmetic (about 130 instructions a conversion, 2.4 M conversions in a
 * year simulated over 1,000 customers). */

/* 10^0 .. 10^18: every power of ten an int64 holds. */
static const int64_t pow10_i64[] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000, 10000000000,
    100000000000, 1000000000000, 10000000000000, 100000000000000, 1000000000000000,
    10000000000000000, 100000000000000000, 1000000000000000000};

/* *acc *= b; false when the product leaves int64. */
static bool mul_i64(int64_t *acc, int64_t b) { return !__builtin_mul_overflow(*acc, b, acc); }

/* *acc *= 10^e for e >= 0; false when the product leaves int64. */
static bool mul_pow10_i64(int64_t *acc, int e) {
  return e < (int)(sizeof pow10_i64 / sizeof pow10_i64[0]) && mul_i64(acc, pow10_i64[e]);
}

/* The exponent of ten moves to the divisor when negative, as in the
 * 128-bit path; the plan keeps the fraction only when both halves fit. */
static void plan_fraction(dn_money_plan *p, int64_t mul, int64_t div, int e) {
  bool ok = e >= 0 ? mul_pow10_i64(&mul, e) : mul_pow10_i64(&div, -e);
  if (!ok) return;
  p->mul = mul;
  p->div = div;
}

dn_money_plan dn_money_plan_direct(uint16_t from, uint16_t to, dn_rate rate, bool invert) {
  dn_money_plan p = {.from = from, .to = to, .invert = invert, .rate = rate};
  int df = dn_currency_digits(from), dt = dn_currency_digits(to);
  /* What dn_money_convert refuses keeps mul 0 and reaches it, to be refused. */
  if (df < 0 || dt < 0 || rate.num <= 0 || rate.scale < 0 || rate.scale > 18) return p;
  /* dn_money_convert's fraction: minor * num * 10^(dt - df - scale), or
   * inverted minor * 10^(scale + dt - df) / num. */
  if (invert)
    plan_fraction(&p, 1, rate.num, rate.scale + dt - df);
  else
    plan_fraction(&p, rate.num, 1, dt - df - rate.scale);
  return p;
}

/* One leg of a cross rate: multiplies by num / 10^scale, or by its inverse. */
static bool plan_leg(int64_t *mul, int64_t *div, dn_rate r, bool inv) {
  return mul_i64(inv ? div : mul, r.num) && mul_pow10_i64(inv ? mul : div, r.scale);
}

dn_money_plan dn_money_plan_cross(uint16_t from, uint16_t to, dn_rate r1, bool inv1, dn_rate r2,
                                  bool inv2) {
  dn_money_plan p = {.from = from, .to = to, .cross = true, .invert = inv1, .invert2 = inv2,
                     .rate = r1, .rate2 = r2};
  int df = dn_currency_digits(from), dt = dn_currency_digits(to);
  if (df < 0 || dt < 0 || r1.num <= 0 || r2.num <= 0 || r1.scale < 0 || r1.scale > 18 ||
      r2.scale < 0 || r2.scale > 18)
    return p;
  int64_t mul = 1, div = 1;
  if (plan_leg(&mul, &div, r1, inv1) && plan_leg(&mul, &div, r2, inv2))
    plan_fraction(&p, mul, div, dt - df);
  return p;
}

/* n / d for d > 0 rounded half to even, all in 64 bits: |r| < d, so 2|r|
 * fits a uint64 and -r cannot overflow; a remainder exists only for
 * d >= 2, where |q| <= |n| / 2, so q +- 1 cannot overflow either. Kept
 * apart from div_half_even so that test_money, which checks one against
 * the other, would see a slip in either. */
static int64_t div_half_even_i64(int64_t n, int64_t d) {
  int64_t q = n / d, r = n % d;
  uint64_t twice = (uint64_t)(r < 0 ? -r : r) * 2;
  if (twice > (uint64_t)d || (twice == (uint64_t)d && (q & 1) != 0)) q += n < 0 ? -1 : 1;
  return q;
}

/* When minor * mul fits an int64 the 128-bit path forms that same
 * numerator (its partial products divide it, so none is larger and
 * none of its overflow refusals fires) over the same divisor, and the
 * rounded quotient, no larger than the numerator, fits: the answers are
 * the same. Otherwise the 128-bit path answers. */
bool dn_money_plan_convert(const dn_money_plan *p, int64_t minor, int64_t *out) {
  int64_t n;
  if (p->mul != 0 && !__builtin_mul_overflow(minor, p->mul, &n)) {
    *out = div_half_even_i64(n, p->div);
    return true;
  }
  if (p->cross)
    return dn_money_convert_cross(minor, p->from, p->to, p->rate, p->invert, p->rate2, p->invert2,
                                  out);
  return dn_money_convert(minor, p->from, p->to, p->rate, p->invert, out);
}
