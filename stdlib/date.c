/* date.c - civil dates as day numbers (proleptic Gregorian).
 *
 * Owns the conversion between y-m-d and days since 1970-01-01, strict ISO
 * parsing and formatting, and weekdays. The conversions are Howard
 * Hinnant's days_from_civil / civil_from_days: branch-light, exact for
 * every year an int32 day number can hold, and free of struct tm. */
#include "stdlib/date.h"

#include <stdio.h>

static bool is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int dn_days_in_month(int y, int m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return 0;
  return (m == 2 && is_leap(y)) ? 29 : days[m - 1];
}

bool dn_date_valid_ymd(int y, int m, int d) {
  /* The range keeps every valid date inside an int32 day number. */
  if (y < -999999 || y > 999999) return false;
  if (m < 1 || m > 12) return false;
  return d >= 1 && d <= dn_days_in_month(y, m);
}

dn_date dn_date_from_ymd(int y, int m, int d) {
  /* Counting years from March puts the leap day last in the "year". */
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;                                 /* [0, 399] */
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;         /* [0, 146096] */
  return (dn_date)(era * 146097 + doe - 719468);
}

void dn_date_to_ymd(dn_date z0, int *y, int *m, int *day) {
  const int64_t z = (int64_t)z0 + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;                                  /* [0, 146096] */
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);           /* [0, 365] */
  const int64_t mp = (5 * doy + 2) / 153;                                /* [0, 11] */
  const int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
  const int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (mm <= 2));
  *m = mm;
  *day = dd;
}

static bool parse_digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool dn_date_parse(const char *s, size_t len, dn_date *out) {
  int y, m, d;
  if (s == NULL || len != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!parse_digits(s, 4, &y) || !parse_digits(s + 5, 2, &m) ||
      !parse_digits(s + 8, 2, &d))
    return false;
  if (!dn_date_valid_ymd(y, m, d)) return false;
  *out = dn_date_from_ymd(y, m, d);
  return true;
}

void dn_date_format(dn_date d, char *buf) {
  int y, m, day;
  /* A missing date prints as nothing: callers show it as an empty cell. */
  if (d == DN_DATE_NONE) {
    buf[0] = '\0';
    return;
  }
  dn_date_to_ymd(d, &y, &m, &day);
  /* A year outside 0..9999 has no YYYY form and a full date would not fit
   * the 11-byte contract; the bare year is enough to spot the bad value. */
  if (y < 0 || y > 9999) {
    snprintf(buf, 11, "%d", y);
    return;
  }
  /* YYYY-MM-DD by hand: a simulated year formats dates by the million,
   * and snprintf cost 1,600 instructions a call. */
  unsigned v[3] = {(unsigned)y, (unsigned)m, (unsigned)day}, width[3] = {4, 2, 2};
  char *w = buf;
  for (int f = 0; f < 3; f++) {
    if (f) *w++ = '-';
    for (unsigned k = width[f]; k > 0; k--) {
      w[k - 1] = (char)('0' + v[f] % 10);
      v[f] /= 10;
    }
    w += width[f];
  }
  *w = '\0';
}

int dn_date_weekday(dn_date d) {
  /* 1970-01-01 was a Thursday (ISO index 3). */
  int64_t w = ((int64_t)d + 3) % 7;
  return (int)(w < 0 ? w + 7 : w);
}
