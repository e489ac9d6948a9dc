/* test_tz.c - offsets from the system tz database and from hand-built
 * TZif files that exercise the POSIX footer rules on their own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "stdlib/tz.h"

enum { H = 3600 };

static dn_date D(int y, int m, int d) { return dn_date_from_ymd(y, m, d); }
static int M(int h, int m) { return h * 60 + m; }

static dn_zone *load(const char *name) {
  dn_zone *z = dn_zone_load(name);
  if (z == NULL) fail_msg("cannot load zone %s", name);
  return z;
}

static void test_new_york(void **state) {
  (void)state;
  unsetenv("TZDIR");
  dn_zone *z = load("America/New_York");
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 6), M(9, 0)), -5 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 9), M(9, 0)), -4 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 11, 2), M(9, 0)), -5 * H);
  /* DST begins Sun 2026-03-08 02:00 -> 03:00: 02:30 does not exist. */
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 8), M(1, 59)), -5 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 8), M(2, 30)), -4 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 8), M(3, 0)), -4 * H);
  /* DST ends Sun 2026-11-01 02:00 -> 01:00: 01:30 happens twice. */
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 11, 1), M(0, 30)), -4 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 11, 1), M(1, 30)), -4 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 11, 1), M(2, 30)), -5 * H);
  /* 2045 lies past any table: Jan 1 2045 is a Sunday, so DST starts on
   * Sun Mar 12 and ends Sun Nov 5. */
  assert_int_equal(dn_zone_offset_at_local(z, D(2045, 3, 11), M(12, 0)), -5 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2045, 3, 13), M(12, 0)), -4 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2045, 11, 4), M(12, 0)), -4 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2045, 11, 6), M(12, 0)), -5 * H);
  char buf[32];
  dn_zone_format_local(z, D(2026, 3, 10), M(9, 0), buf);
  assert_string_equal(buf, "2026-03-10T09:00:00-04:00");
  dn_zone_format_local(z, D(2026, 3, 6), M(9, 0), buf);
  assert_string_equal(buf, "2026-03-06T09:00:00-05:00");
  /* Minutes past midnight carry into the next day. */
  dn_zone_format_local(z, D(2026, 12, 31), M(24, 30), buf);
  assert_string_equal(buf, "2027-01-01T00:30:00-05:00");
  dn_zone_free(z);
}

static void test_berlin(void **state) {
  (void)state;
  dn_zone *z = load("Europe/Berlin");
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 1, 15), M(9, 0)), 1 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 7, 15), M(9, 0)), 2 * H);
  /* Sun 2026-03-29 02:00 -> 03:00. */
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 29), M(1, 30)), 1 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 29), M(2, 30)), 2 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 28), M(12, 0)), 1 * H);
  /* Sun 2026-10-25 03:00 -> 02:00. */
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 10, 25), M(2, 30)), 2 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 10, 25), M(3, 30)), 1 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 10, 24), M(12, 0)), 2 * H);
  char buf[32];
  dn_zone_format_local(z, D(2026, 7, 1), M(17, 5), buf);
  assert_string_equal(buf, "2026-07-01T17:05:00+02:00");
  dn_zone_free(z);
}

static void test_other_zones(void **state) {
  (void)state;
  char buf[32];
  dn_zone *z = load("Asia/Kolkata");
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 6, 1), M(9, 0)), 5 * H + 1800);
  dn_zone_format_local(z, D(2026, 6, 1), M(9, 0), buf);
  assert_string_equal(buf, "2026-06-01T09:00:00+05:30");
  dn_zone_free(z);

  /* Sydney: DST ends Sun 2026-04-05, starts Sun 2026-10-04. */
  z = load("Australia/Sydney");
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 1, 15), M(9, 0)), 11 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 4, 4), M(12, 0)), 11 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 4, 6), M(12, 0)), 10 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 7, 15), M(9, 0)), 10 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 10, 3), M(12, 0)), 10 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 10, 5), M(12, 0)), 11 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2045, 12, 25), M(12, 0)), 11 * H);
  dn_zone_free(z);

  z = load("UTC");
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 6, 1), M(9, 0)), 0);
  dn_zone_format_local(z, D(2026, 3, 10), M(9, 0), buf);
  assert_string_equal(buf, "2026-03-10T09:00:00+00:00");
  dn_zone_free(z);

  /* Ireland's "negative DST": winter is the DST period in the rules. */
  z = load("Europe/Dublin");
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 1, 15), M(9, 0)), 0);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 7, 15), M(9, 0)), 1 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2045, 7, 15), M(9, 0)), 1 * H);
  dn_zone_free(z);
}

static void test_bad_names(void **state) {
  (void)state;
  const char *bad[] = {"../etc/passwd", "Nowhere/City", "", "/etc/passwd",
                       "America/../Europe/Berlin", "America", "Europe/Berlin\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_null(dn_zone_load(bad[i]));
  assert_null(dn_zone_load(NULL));
  dn_zone_free(NULL);
}

/* ---- hand-built TZif files ----------------------------------------- */

typedef struct fake_zone {
  const char *name;
  char version; /* 0 for v1, '2' */
  int32_t offs[2];
  int ntypes;
  int64_t trans[2];
  uint8_t idx[2];
  int ntrans;
  const char *footer;
} fake_zone;

static void put32(FILE *f, uint32_t v) {
  unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                        (unsigned char)(v >> 8), (unsigned char)v};
  fwrite(b, 1, 4, f);
}

static void put_block(FILE *f, const fake_zone *fz, char version, int tsize) {
  fwrite("TZif", 1, 4, f);
  fputc(version, f);
  for (int i = 0; i < 15; i++) fputc(0, f);
  put32(f, 0);                    /* isutcnt */
  put32(f, 0);                    /* isstdcnt */
  put32(f, 0);                    /* leapcnt */
  put32(f, (uint32_t)fz->ntrans); /* timecnt */
  put32(f, (uint32_t)fz->ntypes); /* typecnt */
  put32(f, 4);                    /* charcnt */
  for (int i = 0; i < fz->ntrans; i++) {
    if (tsize == 8) put32(f, (uint32_t)((uint64_t)fz->trans[i] >> 32));
    put32(f, (uint32_t)fz->trans[i]);
  }
  for (int i = 0; i < fz->ntrans; i++) fputc(fz->idx[i], f);
  for (int i = 0; i < fz->ntypes; i++) {
    put32(f, (uint32_t)fz->offs[i]);
    fputc(0, f);
    fputc(0, f);
  }
  fwrite("ABC", 1, 4, f);
}

static void write_zone(const char *dir, const fake_zone *fz) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, fz->name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  put_block(f, fz, fz->version, 4);
  if (fz->version != 0) {
    put_block(f, fz, fz->version, 8);
    fprintf(f, "\n%s\n", fz->footer);
  }
  fclose(f);
}

static char tmpdir[64];

static int setup_fake(void **state) {
  (void)state;
  strcpy(tmpdir, "/tmp/dn_tz_test_XXXXXX");
  if (mkdtemp(tmpdir) == NULL) return -1;
  const fake_zone zones[] = {
      {"Slim", '2', {-5 * H}, 1, {0}, {0}, 0, "EST5EDT,M3.2.0,M11.1.0"},
      {"Tehran", '2', {12600}, 1, {0}, {0}, 0, "<+0330>-3:30"},
      {"Nuuk", '2', {-2 * H}, 1, {0}, {0}, 0, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0"},
      {"Julian", '2', {0}, 1, {0}, {0}, 0, "XXX0YYY,J60/0,J300/0"},
      {"Zero", '2', {0}, 1, {0}, {0}, 0, "XXX0YYY,59/0,299/0"},
      {"Late", '2', {-3 * H}, 1, {0}, {0}, 0, "<-03>3<-02>,M3.2.0/26,M11.1.0/1"},
      {"Permanent", '2', {-4 * H}, 1, {0}, {0}, 0, "EST5EDT,0/0,J365/25"},
      {"V1", 0, {0, H}, 2, {365LL * 86400}, {1}, 1, ""},
      {"NoFooter", '2', {0, 2 * H}, 2, {365LL * 86400}, {1}, 1, ""},
      {"BadFooter", '2', {0}, 1, {0}, {0}, 0, "EST5EDT,M3.2"},
  };
  for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) write_zone(tmpdir, &zones[i]);
  char path[512];
  snprintf(path, sizeof path, "%s/Garbage", tmpdir);
  FILE *f = fopen(path, "wb");
  fputs("this is not a zone file at all, not even close to one\n", f);
  fclose(f);
  /* A real file cut short must be refused, not half-read. */
  snprintf(path, sizeof path, "%s/Short", tmpdir);
  FILE *in = fopen("/usr/share/zoneinfo/America/New_York", "rb");
  f = fopen(path, "wb");
  char buf[100];
  size_t n = in ? fread(buf, 1, sizeof buf, in) : 0;
  fwrite(buf, 1, n, f);
  fclose(f);
  if (in) fclose(in);
  return setenv("TZDIR", tmpdir, 1);
}

static int teardown_fake(void **state) {
  (void)state;
  const char *names[] = {"Slim", "Tehran", "Nuuk", "Julian", "Zero", "Late", "Permanent",
                         "V1", "NoFooter", "BadFooter", "Garbage", "Short"};
  char path[512];
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
    unlink(path);
  }
  rmdir(tmpdir);
  return unsetenv("TZDIR");
}

static void test_footer_us_rule(void **state) {
  (void)state;
  dn_zone *z = load("Slim");
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 6), M(9, 0)), -5 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 8), M(2, 30)), -4 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 9), M(9, 0)), -4 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 11, 1), M(1, 30)), -4 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 11, 2), M(9, 0)), -5 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2045, 3, 13), M(12, 0)), -4 * H);
  dn_zone_free(z);
  assert_null(dn_zone_load("America/New_York")); /* TZDIR is honoured */
}

static void test_footer_forms(void **state) {
  (void)state;
  char buf[32];
  dn_zone *z = load("Tehran");
  dn_zone_format_local(z, D(2026, 6, 1), M(9, 0), buf);
  assert_string_equal(buf, "2026-06-01T09:00:00+03:30");
  dn_zone_free(z);

  /* Last Sunday of March 2026 is the 29th; the switch is at local -1:00,
   * i.e. Sat 28 23:00 -> Sun 29 00:00. It ends Sun Oct 25 at 00:00 local
   * summer time, back to Sat 24 23:00. */
  z = load("Nuuk");
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 28), M(22, 30)), -2 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 28), M(23, 30)), -1 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 29), M(0, 30)), -1 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 10, 24), M(12, 0)), -1 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 10, 24), M(23, 30)), -1 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 10, 25), M(0, 30)), -2 * H);
  dn_zone_free(z);

  /* J60 is Mar 1 even in leap years; zero-based 59 is Feb 29 then. */
  z = load("Julian");
  assert_int_equal(dn_zone_offset_at_local(z, D(2024, 2, 29), M(12, 0)), 0);
  assert_int_equal(dn_zone_offset_at_local(z, D(2024, 3, 1), M(12, 0)), H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2024, 10, 26), M(12, 0)), H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2024, 10, 27), M(12, 0)), 0);
  dn_zone_free(z);
  z = load("Zero");
  assert_int_equal(dn_zone_offset_at_local(z, D(2024, 2, 28), M(12, 0)), 0);
  assert_int_equal(dn_zone_offset_at_local(z, D(2024, 2, 29), M(12, 0)), H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2025, 2, 28), M(12, 0)), 0);
  assert_int_equal(dn_zone_offset_at_local(z, D(2025, 3, 1), M(12, 0)), H);
  dn_zone_free(z);

  /* /26: the second Sunday of March 2026 is the 8th, so the switch is
   * Mon Mar 9 at 02:00. */
  z = load("Late");
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 8), M(12, 0)), -3 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 9), M(1, 0)), -3 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 3, 9), M(3, 30)), -2 * H);
  dn_zone_free(z);

  /* Permanent DST written as a rule that never leaves DST. */
  z = load("Permanent");
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 1, 1), M(0, 30)), -4 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 7, 1), M(12, 0)), -4 * H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 12, 31), M(23, 30)), -4 * H);
  dn_zone_free(z);
}

static void test_tables_without_footer(void **state) {
  (void)state;
  /* One transition at 1971-01-01 from type 0 to type 1. */
  dn_zone *z = load("V1");
  assert_int_equal(dn_zone_offset_at_local(z, D(1970, 6, 1), M(12, 0)), 0);
  assert_int_equal(dn_zone_offset_at_local(z, D(1972, 6, 1), M(12, 0)), H);
  assert_int_equal(dn_zone_offset_at_local(z, D(2026, 6, 1), M(12, 0)), H);
  dn_zone_free(z);
  z = load("NoFooter");
  assert_int_equal(dn_zone_offset_at_local(z, D(1970, 6, 1), M(12, 0)), 0);
  assert_int_equal(dn_zone_offset_at_local(z, D(2030, 6, 1), M(12, 0)), 2 * H);
  dn_zone_free(z);
  assert_null(dn_zone_load("BadFooter"));
  assert_null(dn_zone_load("Garbage"));
  assert_null(dn_zone_load("Short"));
  assert_null(dn_zone_load("Missing"));
}

/* A v1 file of n transitions every 15 days from 1970, alternating between
 * UTC and UTC+1, then pad bytes of nothing a reader needs. */
static void write_long(const char *name, int n, long pad) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fwrite("TZif", 1, 4, f);
  for (int i = 0; i < 16; i++) fputc(0, f);
  put32(f, 0);
  put32(f, 0);
  put32(f, 0);
  put32(f, (uint32_t)n); /* timecnt */
  put32(f, 2);           /* typecnt */
  put32(f, 4);           /* charcnt */
  for (int k = 0; k < n; k++) put32(f, (uint32_t)k * 15u * 86400u);
  for (int k = 0; k < n; k++) fputc(k % 2, f);
  for (int t = 0; t < 2; t++) {
    put32(f, (uint32_t)(t * H));
    fputc(t, f);
    fputc(0, f);
  }
  fwrite("ABC", 1, 4, f);
  for (long i = 0; i < pad; i++) fputc(0, f);
  fclose(f);
}

/* Zone files are read whole whatever their size up to 1 MiB: 5 KiB here
 * (past the first 4 KiB the reader asks for, so it must read on; cut
 * short, the file is refused), and one of 1 MiB or more is refused. Day
 * 12007 (2002-11-16) is mid-period 800 (UTC), day 12022 (2002-12-01)
 * mid-period 801 (UTC+1). */
static void test_file_sizes(void **state) {
  (void)state;
  write_long("Long", 1000, 0);
  write_long("Huge", 1000, 1L << 20);
  dn_zone *z = load("Long");
  assert_int_equal(dn_zone_offset_at_local(z, D(2002, 11, 16), M(12, 0)), 0);
  assert_int_equal(dn_zone_offset_at_local(z, D(2002, 12, 1), M(12, 0)), H);
  dn_zone_free(z);
  assert_null(dn_zone_load("Huge"));
  char path[512];
  snprintf(path, sizeof path, "%s/Long", tmpdir);
  unlink(path);
  snprintf(path, sizeof path, "%s/Huge", tmpdir);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest system_tests[] = {
      cmocka_unit_test(test_new_york), cmocka_unit_test(test_berlin),
      cmocka_unit_test(test_other_zones), cmocka_unit_test(test_bad_names),
  };
  const struct CMUnitTest fake_tests[] = {
      cmocka_unit_test(test_footer_us_rule), cmocka_unit_test(test_footer_forms),
      cmocka_unit_test(test_tables_without_footer), cmocka_unit_test(test_file_sizes),
  };
  int failed = cmocka_run_group_tests(system_tests, NULL, NULL);
  failed += cmocka_run_group_tests(fake_tests, setup_fake, teardown_fake);
  return failed;
}
