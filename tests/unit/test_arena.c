/* test_arena.c - lang/arena.c: standard and small arenas hand out zeroed,
 * aligned, non-overlapping memory across block boundaries, oversized
 * requests and resets. Under AddressSanitizer a block made smaller than
 * what it must hold is an overflow here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* Text is packed (no padding to 16 bytes between strings) and does not
 * disturb the alignment of what is allocated after it. */
static void test_text_packed(void **state) {
  (void)state;
  dn_arena a;
  dn_arena_init(&a);
  char *k1 = dn_arena_strdup(&a, "6a94332a50100dc2f77b4150473f82a2");
  char *k2 = dn_arena_strdup(&a, "192da6c56cdab0d33e6b579b3ca007b9");
  assert_ptr_equal(k2, k1 + 33); /* was k1 + 48 */
  for (int i = 0; i < 500; i++) {
    char text[8];
    snprintf(text, sizeof text, "t%d", i);
    char *t = dn_arena_strdup(&a, text);
    assert_string_equal(t, text);
    unsigned char *p = dn_arena_alloc(&a, (size_t)(i % 40) + 1);
    assert_int_equal((uintptr_t)p % 16, 0);
    for (int k = 0; k < i % 40 + 1; k++) assert_int_equal(p[k], 0);
    memset(p, 0xab, (size_t)(i % 40) + 1);
    assert_string_equal(t, text);
  }
  assert_string_equal(k1, "6a94332a50100dc2f77b4150473f82a2");
  assert_string_equal(k2, "192da6c56cdab0d33e6b579b3ca007b9");
  dn_arena_free(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_standard),
      cmocka_unit_test(test_small_grows),
      cmocka_unit_test(test_zeroed_is_standard),
      cmocka_unit_test(test_text_packed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
