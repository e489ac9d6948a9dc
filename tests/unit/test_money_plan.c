/* test_money_plan.c - a prepared conversion (dn_money_plan) against the
 * 128-bit definition it stands in for (dn_money_convert and
 * dn_money_convert_cross): the same answer, false included, for every
 * rate scale, both directions, currencies of 0 to 4 digits, and amounts
 * chosen where 64-bit arithmetic goes wrong first: zero, one, exact ties
 * of both parities and signs, the edge of the 64-bit path and the int64
 * limits. The amounts and rates come from a fixed random sequence, so a
 * failure repeats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "stdlib/money.h"

typedef __int128 i128;

/* One conversion's arguments, as the caller of the 128-bit path gives them. */
typedef struct conv_case {
  uint16_t from, to;
  dn_rate r1, r2;
  bool inv1, inv2, cross;
} conv_case;

/* What the amounts exercised, so that the test can insist it reached the
 * cases it is about (a table that stopped producing ties would otherwise
 * pass by testing nothing). */
typedef struct tally {
  long fast, slow, ties_even, ties_odd, ties_neg, plans_without_fast;
} tally;

/* splitmix64 */
static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* An amount of any magnitude: a random 64-bit pattern shifted so that
 * small amounts are as likely as large ones. */
static int64_t random_amount(uint64_t *state) {
  uint64_t bits = next_random(state);
  return (int64_t)(next_random(state) >> (bits % 64));
}

static uint16_t cur(const char *code) {
  uint16_t c = dn_currency_lookup(code, strlen(code));
  assert_int_not_equal(c, DN_CUR_NONE);
  return c;
}

static dn_money_plan plan_of(const conv_case *c) {
  return c->cross ? dn_money_plan_cross(c->from, c->to, c->r1, c->inv1, c->r2, c->inv2)
                  : dn_money_plan_direct(c->from, c->to, c->r1, c->inv1);
}

static bool exact(const conv_case *c, int64_t minor, int64_t *out) {
  return c->cross
             ? dn_money_convert_cross(minor, c->from, c->to, c->r1, c->inv1, c->r2, c->inv2, out)
             : dn_money_convert(minor, c->from, c->to, c->r1, c->inv1, out);
}

/* Notes which path the plan takes for minor, and whether it is a tie. */
static void count(const dn_money_plan *p, int64_t minor, tally *t) {
  int64_t n;
  if (p->mul == 0 || __builtin_mul_overflow(minor, p->mul, &n)) {
    t->slow++;
    return;
  }
  t->fast++;
  if ((i128)(n % p->div) * 2 != p->div && (i128)(n % p->div) * -2 != p->div) return;
  if ((n / p->div) % 2 == 0)
    t->ties_even++;
  else
    t->ties_odd++;
  t->ties_neg += n < 0;
}

static void check_one(const conv_case *c, const dn_money_plan *p, int64_t minor, tally *t) {
  const int64_t unset = 0x5A5A5A5A5A5A5A5ALL;
  int64_t want = unset, got = unset;
  bool want_ok = exact(c, minor, &want);
  bool got_ok = dn_money_plan_convert(p, minor, &got);
  if (want_ok != got_ok || want != got)
    fail_msg("%s %s -> %s, rate %lld/10^%d%s, rate2 %lld/10^%d%s: %lld gives %s %lld, the "
             "128-bit path %s %lld",
             c->cross ? "cross" : "direct", dn_currency_code(c->from), dn_currency_code(c->to),
             (long long)c->r1.num, c->r1.scale, c->inv1 ? " inverted" : "", (long long)c->r2.num,
             c->r2.scale, c->inv2 ? " inverted" : "", (long long)minor, got_ok ? "true" : "false",
             (long long)got, want_ok ? "true" : "false", (long long)want);
  count(p, minor, t);
}

/* x^-1 mod m for gcd(x, m) = 1, m >= 1 (extended Euclid). */
static int64_t inverse_mod(int64_t x, int64_t m) {
  i128 r0 = m, r1 = x % m, s0 = 0, s1 = 1;
  while (r1 != 0) {
    i128 q = r0 / r1, r = r0 - q * r1, s = s0 - q * s1;
    r0 = r1, r1 = r, s0 = s1, s1 = s;
  }
  return (int64_t)(((s0 % m) + m) % m);
}

static int64_t gcd64(int64_t a, int64_t b) {
  while (b != 0) {
    int64_t r = a % b;
    a = b, b = r;
  }
  return a;
}

/* Amounts whose product with mul lies exactly halfway between two
 * multiples of div: minor * mul = div / 2 (mod div), solved for minor. */
static void check_ties(const conv_case *c, const dn_money_plan *p, tally *t) {
  if (p->mul == 0 || p->div % 2 != 0) return;
  int64_t g = gcd64(p->mul, p->div), half = p->div / 2;
  if (half % g != 0) return;
  int64_t m = p->div / g;
  int64_t base = (int64_t)((i128)(half / g) * inverse_mod((p->mul / g) % m, m) % m);
  for (int64_t k = 0; k < 4; k++) {
    i128 minor = base + (i128)k * m;
    if (minor > INT64_MAX) break;
    check_one(c, p, (int64_t)minor, t);
    check_one(c, p, -(int64_t)minor, t);
  }
}

static void check_case(const conv_case *c, uint64_t *rng, tally *t) {
  dn_money_plan p = plan_of(c);
  t->plans_without_fast += p.mul == 0;
  static const int64_t fixed[] = {0,         1,         2,         3,        5,         7,
                                  15,        25,        49,        50,       51,        99,
                                  100,       101,       150,       250,      12345,     1000000,
                                  INT64_MAX, INT64_MAX - 1, INT64_MAX / 2, INT64_MAX / 10};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
    check_one(c, &p, fixed[i], t);
    check_one(c, &p, -fixed[i], t);
  }
  check_one(c, &p, INT64_MIN, t);
  check_one(c, &p, INT64_MIN + 1, t);
  if (p.mul != 0) {
    /* Either side of the largest amounts the 64-bit path takes. */
    i128 hi = INT64_MAX / p.mul, lo = INT64_MIN / p.mul;
    for (int d = -2; d <= 2; d++) {
      if (hi + d <= INT64_MAX) check_one(c, &p, (int64_t)(hi + d), t);
      if (lo - d >= INT64_MIN) check_one(c, &p, (int64_t)(lo - d), t);
    }
  }
  check_ties(c, &p, t);
  for (int i = 0; i < 24; i++) check_one(c, &p, random_amount(rng), t);
}

/* A positive numerator of 1 to 18 digits, as dn_rate_parse gives. */
static int64_t random_num(uint64_t *rng) {
  int64_t limit = 1;
  for (int d = 1 + (int)(next_random(rng) % 18); d > 0; d--) limit *= 10;
  return 1 + (int64_t)(next_random(rng) % (uint64_t)(limit - 1));
}

static const char *const kCurrencies[] = {"JPY", "ISK", "USD", "EUR", "KWD", "BHD", "CLF"};
enum { kCurrencyCount = sizeof kCurrencies / sizeof kCurrencies[0] };

static void test_direct_matches_exact(void **state) {
  (void)state;
  uint64_t rng = 1;
  tally t = {0};
  for (int scale = 0; scale <= 18; scale++) {
    int64_t one = 1; /* 10^scale: a rate of exactly 1 */
    for (int i = 0; i < scale; i++) one *= 10;
    int64_t nums[] = {1,  2,     3,   5,   15,  25, 10856, 999999999999999999LL, random_num(&rng),
                      random_num(&rng), one};
    for (size_t n = 0; n < sizeof nums / sizeof nums[0]; n++) {
      for (int f = 0; f < kCurrencyCount; f++) {
        for (int to = 0; to < kCurrencyCount; to++) {
          for (int inv = 0; inv <= 1; inv++) {
            conv_case c = {.from = cur(kCurrencies[f]), .to = cur(kCurrencies[to]),
                           .r1 = {nums[n], scale}, .inv1 = inv};
            check_case(&c, &rng, &t);
          }
        }
      }
    }
  }
  print_message("direct: %ld fast, %ld slow, ties %ld even %ld odd %ld negative, %ld plans "
                "without a 64-bit path\n",
                t.fast, t.slow, t.ties_even, t.ties_odd, t.ties_neg, t.plans_without_fast);
  assert_true(t.fast > 500000);
  assert_true(t.slow > 50000);
  assert_true(t.ties_even > 10000 && t.ties_odd > 10000 && t.ties_neg > 10000);
  assert_true(t.plans_without_fast > 100);
}

static void test_cross_matches_exact(void **state) {
  (void)state;
  uint64_t rng = 2;
  tally t = {0};
  for (int i = 0; i < 6000; i++) {
    uint64_t pick = next_random(&rng);
    /* Small scales half the time: those are the rates ledgers hold, and
     * the ones whose fraction fits 64 bits. */
    int s1 = (int)(next_random(&rng) % (pick & 1 ? 19 : 7));
    int s2 = (int)(next_random(&rng) % (pick & 2 ? 19 : 7));
    int64_t n1 = pick & 4 ? random_num(&rng) : 1 + (int64_t)(next_random(&rng) % 20000);
    int64_t n2 = pick & 8 ? random_num(&rng) : 1 + (int64_t)(next_random(&rng) % 20000);
    conv_case c = {.from = cur(kCurrencies[(pick >> 8) % kCurrencyCount]),
                   .to = cur(kCurrencies[(pick >> 16) % kCurrencyCount]),
                   .r1 = {n1, s1},
                   .r2 = {n2, s2},
                   .inv1 = (pick >> 24) & 1,
                   .inv2 = (pick >> 25) & 1,
                   .cross = true};
    check_case(&c, &rng, &t);
  }
  print_message("cross: %ld fast, %ld slow, ties %ld even %ld odd %ld negative, %ld plans "
                "without a 64-bit path\n",
                t.fast, t.slow, t.ties_even, t.ties_odd, t.ties_neg, t.plans_without_fast);
  assert_true(t.fast > 50000);
  assert_true(t.slow > 50000);
  assert_true(t.ties_even > 1000 && t.ties_odd > 1000 && t.ties_neg > 1000);
  assert_true(t.plans_without_fast > 100);
}

/* Arguments the 128-bit path refuses are refused by the plan too. */
static void test_refusals(void **state) {
  (void)state;
  uint64_t rng = 3;
  tally t = {0};
  uint16_t usd = cur("USD"), eur = cur("EUR");
  const dn_rate ok = {10850, 4};
  const dn_rate bad[] = {{0, 0}, {-5, 2}, {10850, -1}, {10850, 19}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    for (int inv = 0; inv <= 1; inv++) {
      conv_case direct = {.from = usd, .to = eur, .r1 = bad[i], .inv1 = inv};
      conv_case first = {.from = usd, .to = eur, .r1 = bad[i], .r2 = ok, .inv1 = inv, .cross = true};
      conv_case second = {.from = usd, .to = eur, .r1 = ok, .r2 = bad[i], .inv2 = inv, .cross = true};
      check_case(&direct, &rng, &t);
      check_case(&first, &rng, &t);
      check_case(&second, &rng, &t);
    }
  }
  conv_case unknown[] = {{.from = DN_CUR_NONE, .to = eur, .r1 = ok},
                         {.from = usd, .to = DN_CUR_NONE, .r1 = ok, .inv1 = true},
                         {.from = DN_CUR_NONE, .to = eur, .r1 = ok, .r2 = ok, .cross = true}};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
    check_case(&unknown[i], &rng, &t);
  assert_int_equal(t.fast, 0);
  int64_t out;
  dn_money_plan p = dn_money_plan_direct(usd, eur, bad[0], false);
  assert_false(dn_money_plan_convert(&p, 100, &out));
}

/* The rates of the demo ledger, worked by hand: the plan's own answers,
 * not only agreement with the 128-bit path. */
static void test_known_values(void **state) {
  (void)state;
  int64_t out = 0;
  dn_money_plan p = dn_money_plan_direct(cur("EUR"), cur("USD"), (dn_rate){10856, 4}, false);
  assert_int_equal(p.mul, 10856);
  assert_int_equal(p.div, 10000);
  /* 100.00 EUR x 1.0856 = 108.56 USD; 0.05 EUR x 1.0856 = 0.05428 -> 0.05. */
  assert_true(dn_money_plan_convert(&p, 10000, &out));
  assert_int_equal(out, 10856);
  assert_true(dn_money_plan_convert(&p, -5, &out));
  assert_int_equal(out, -5);
  /* Ties at 1.5: 0.01 -> 0.015 -> 0.02, 0.03 -> 0.045 -> 0.04, and negated. */
  p = dn_money_plan_direct(cur("EUR"), cur("USD"), (dn_rate){15, 1}, false);
  assert_true(dn_money_plan_convert(&p, 1, &out));
  assert_int_equal(out, 2);
  assert_true(dn_money_plan_convert(&p, 3, &out));
  assert_int_equal(out, 4);
  assert_true(dn_money_plan_convert(&p, -1, &out));
  assert_int_equal(out, -2);
  assert_true(dn_money_plan_convert(&p, -3, &out));
  assert_int_equal(out, -4);
  /* USD -> EUR given as EUR/USD 2, inverted: 0.05 / 2 = 0.025 -> 0.02, 0.07 -> 0.035 -> 0.04. */
  p = dn_money_plan_direct(cur("USD"), cur("EUR"), (dn_rate){2, 0}, true);
  assert_true(dn_money_plan_convert(&p, 5, &out));
  assert_int_equal(out, 2);
  assert_true(dn_money_plan_convert(&p, 7, &out));
  assert_int_equal(out, 4);
  /* Too large for 64 bits: the 128-bit path refuses. */
  p = dn_money_plan_direct(cur("JPY"), cur("KWD"), (dn_rate){2, 0}, false);
  assert_false(dn_money_plan_convert(&p, INT64_MAX, &out));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_values),
      cmocka_unit_test(test_direct_matches_exact),
      cmocka_unit_test(test_cross_matches_exact),
      cmocka_unit_test(test_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
