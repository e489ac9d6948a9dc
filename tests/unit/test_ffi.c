/* test_ffi.c - the allow-list in front of extern functions: only a
 * library the caller named is opened, by path or by its file name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "stdlib/ffi.h"

typedef double (*bonus_fn)(const char *, int64_t);

static void test_allowed_by_file_name_and_path(void **state) {
  (void)state;
  const char *allowed[] = {DN_FFI_FIXTURE};
  dn_ffi_libs *l = dn_ffi_libs_new(allowed, 1);
  assert_non_null(l);
  char err[256] = "";
  const char *name = strrchr(DN_FFI_FIXTURE, '/') + 1; /* "libdunlin_test_score.so" */
  bonus_fn f = (bonus_fn)dn_ffi_lookup(l, name, "risk_bonus", err, sizeof err);
  assert_non_null(f);
  /* strategic 0.5 + 2 whole thousands (2500.00 = 250000 minor) * 0.1 */
  assert_true(f("strategic", 250000) > 0.699 && f("strategic", 250000) < 0.701);
  assert_non_null(dn_ffi_lookup(l, DN_FFI_FIXTURE, "double_days", err, sizeof err));
  dn_ffi_libs_free(l);
}

static void test_refused(void **state) {
  (void)state;
  char err[256] = "";
  /* nothing allowed: not even opened */
  dn_ffi_libs *none = dn_ffi_libs_new(NULL, 0);
  assert_null(dn_ffi_lookup(none, DN_FFI_FIXTURE, "risk_bonus", err, sizeof err));
  assert_non_null(strstr(err, "is not allowed"));
  assert_non_null(strstr(err, "--allow-ffi"));
  dn_ffi_libs_free(none);
  /* a system library is refused when another one is allowed */
  const char *allowed[] = {DN_FFI_FIXTURE};
  dn_ffi_libs *l = dn_ffi_libs_new(allowed, 1);
  assert_null(dn_ffi_lookup(l, "libc.so.6", "system", err, sizeof err));
  assert_non_null(strstr(err, "not allowed"));
  /* allowed library, missing function */
  const char *name = strrchr(DN_FFI_FIXTURE, '/') + 1;
  assert_null(dn_ffi_lookup(l, name, "no_such_function", err, sizeof err));
  assert_non_null(strstr(err, "has no function no_such_function"));
  dn_ffi_libs_free(l);
  /* an allowed path that does not exist fails to load, naming it */
  const char *ghost[] = {"/nonexistent/libghost.so"};
  dn_ffi_libs *g = dn_ffi_libs_new(ghost, 1);
  assert_null(dn_ffi_lookup(g, "libghost.so", "f", err, sizeof err));
  assert_non_null(strstr(err, "/nonexistent/libghost.so"));
  dn_ffi_libs_free(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_allowed_by_file_name_and_path),
                                     cmocka_unit_test(test_refused)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
