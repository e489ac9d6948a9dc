/* test_arena.c - lang/arena.c: standard and small arenas hand out zeroed,
 * aligned, non-overlapping memory across block boundaries, oversized
 * requests and resets. Under AddressSanitizer a block made smaller than
 * what it must hold is an overflow here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lang/arena.h"

enum { NALLOC = 3000 };

/* Fills NALLOC allocations of growing sizes (some beyond 64 KiB) with a
 * pattern of their own, then checks every one: a block handed out twice,
 * or too small for what it holds, breaks a pattern or trips ASan. */
static void fill_and_check(dn_arena *a) {
  static unsigned char *ptrs[NALLOC];
  static size_t sizes[NALLOC];
  for (int i = 0; i < NALLOC; i++) {
    sizes[i] = (size_t)(i % 97) * 13 + 1 + (i % 1000 == 999 ? 70000 : 0);
    ptrs[i] = dn_arena_alloc(a, sizes[i]);
    assert_non_null(ptrs[i]);
    assert_int_equal((uintptr_t)ptrs[i] % 16, 0);
    for (size_t k = 0; k < sizes[i]; k++) assert_int_equal(ptrs[i][k], 0);
    memset(ptrs[i], i & 0xff, sizes[i]);
  }
  for (int i = 0; i < NALLOC; i++)
    for (size_t k = 0; k < sizes[i]; k++) assert_int_equal(ptrs[i][k], i & 0xff);
}

static void test_standard(void **state) {
  (void)state;
  dn_arena a;
  dn_arena_init(&a);
  fill_and_check(&a);
  dn_arena_reset(&a);
  fill_and_check(&a);
  dn_arena_free(&a);
}

static void test_small_grows(void **state) {
  (void)state;
  dn_arena a;
  dn_arena_init_small(&a);
  char *s = dn_arena_strndup(&a, "dunning,over_limit", 7);
  assert_string_equal(s, "dunning");
  fill_and_check(&a);
  assert_string_equal(s, "dunning"); /* earlier blocks stay where they were */
  dn_arena_reset(&a);
  fill_and_check(&a);
  dn_arena_free(&a);
  /* A small arena that was freed starts again. */
  assert_non_null(dn_arena_strdup(&a, "again"));
  dn_arena_free(&a);
}

/* A zeroed arena (as a struct copy leaves one) is a standard one. */
static void test_zeroed_is_standard(void **state) {
  (void)state;
  dn_arena a = {0};
  fill_and_check(&a);
  dn_arena_free(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_standard),
      cmocka_unit_test(test_small_grows),
      cmocka_unit_test(test_zeroed_is_standard),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
