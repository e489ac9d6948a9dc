/* test_vec.c - runtime/vec.h: the growth of the engine's arrays.
 *
 * vec_grow doubles (arrays reset per customer, grown rarely); vec_grow_slow
 * grows by a quarter (a replay's per-customer history, kept all year):
 * each must give room for what is asked, keep what was there, and the
 * slow one must not leave more than a fifth unused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runtime/vec.h"

typedef VEC(int32_t) ints;

static void fill_and_check(ints *v, int32_t n, bool slow) {
  for (int32_t i = 0; i < n; i++) {
    bool ok = slow ? vec_grow_slow((void **)&v->items, &v->cap, v->n + 1, sizeof *v->items)
                   : vec_grow((void **)&v->items, &v->cap, v->n + 1, sizeof *v->items);
    assert_true(ok);
    assert_true(v->cap >= v->n + 1);
    v->items[v->n++] = i * 7;
  }
  for (int32_t i = 0; i < n; i++) assert_int_equal(v->items[i], i * 7);
}

static void test_double_keeps_items(void **state) {
  (void)state;
  ints v = {0};
  fill_and_check(&v, 1000, false);
  assert_int_equal(v.cap, 1024); /* 16 doubled six times */
  free(v.items);
}

static void test_slow_growth_by_a_quarter(void **state) {
  (void)state;
  ints v = {0};
  int32_t grows = 0, cap = 0;
  for (int32_t n = 1; n <= 5000; n++) {
    fill_and_check(&v, 1, true);
    if (v.cap != cap) {
      /* the first step is 16; after it, a quarter more (5/4, rounded down) */
      if (cap >= 16) assert_int_equal(v.cap, cap + cap / 4);
      cap = v.cap;
      grows++;
    }
    /* the unused tail right after a growth is at most a fifth of cap */
    assert_true((v.cap - v.n) * 5 <= v.cap || v.cap == 16);
  }
  assert_true(v.n == 5000 && grows > 10 && grows < 30);
  free(v.items);
}

static void test_slow_growth_reaches_a_big_need(void **state) {
  (void)state;
  ints v = {0};
  assert_true(vec_grow_slow((void **)&v.items, &v.cap, 100000, sizeof *v.items));
  assert_int_equal(v.cap, 100000);
  free(v.items);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_double_keeps_items),
      cmocka_unit_test(test_slow_growth_by_a_quarter),
      cmocka_unit_test(test_slow_growth_reaches_a_big_need),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
