/* calendar.c - business days: Saturday/Sunday weekends, the public
 * holidays of the built-in calendars (US, GB, DE, FR) computed by rule,
 * and days added from the ledger's holidays table.
 *
 * A calendar is read from several threads at once (one policy, many
 * workers), so it never caches lazily: the rule holidays of 1901..2199
 * are computed once in dn_calendar_new into a sorted array, and a date
 * outside that range computes its year's rules on the stack. A holiday
 * that falls on a weekend is listed on its own date AND on its observed
 * date; only the observed one matters for business days, but
 * is_holiday(2026-07-04) answering true is what a reader expects. */
#include "stdlib/calendar.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum cal_kind { CAL_NONE, CAL_US, CAL_GB, CAL_DE, CAL_FR } cal_kind;

enum { WD_MON = 0, WD_THU = 3, WD_FRI = 4, WD_SAT = 5, WD_SUN = 6 };
enum { FIRST_YEAR = 1900, LAST_YEAR = 2200, MAX_PER_YEAR = 32 };

struct dn_calendar {
  cal_kind kind;
  dn_date *rule_days; /* sorted, unique; years FIRST_YEAR..LAST_YEAR */
  size_t n_rule;
  /* weekdays[i]: how many of rule_days[0..i) fall on a weekday, so the
   * holidays of a span are counted with two binary searches. */
  uint32_t *rule_weekdays;
  dn_date *added; /* sorted, unique */
  size_t n_added, cap_added;
};

/* A year's holiday list while it is being built. */
typedef struct day_list {
  dn_date d[MAX_PER_YEAR];
  int n;
} day_list;

static void push(day_list *l, dn_date d) {
  if (l->n < MAX_PER_YEAR) l->d[l->n++] = d;
}

static cal_kind kind_of(const char *name) {
  if (name == NULL) return CAL_NONE;
  if (strcmp(name, "US") == 0) return CAL_US;
  if (strcmp(name, "GB") == 0 || strcmp(name, "UK") == 0) return CAL_GB;
  if (strcmp(name, "DE") == 0) return CAL_DE;
  if (strcmp(name, "FR") == 0) return CAL_FR;
  return CAL_NONE;
}

bool dn_calendar_is_builtin(const char *name) { return kind_of(name) != CAL_NONE; }

/* ---- date rules ---------------------------------------------------- */

/* The n-th (1-based) weekday wd of month m. */
static dn_date nth_weekday(int y, int m, int wd, int n) {
  dn_date first = dn_date_from_ymd(y, m, 1);
  int off = (wd - dn_date_weekday(first) + 7) % 7;
  return first + off + 7 * (n - 1);
}

static dn_date last_weekday(int y, int m, int wd) {
  dn_date last = dn_date_from_ymd(y, m, dn_days_in_month(y, m));
  return last - (dn_date_weekday(last) - wd + 7) % 7;
}

/* Easter Sunday, anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
static dn_date easter(int y) {
  int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
  int f = (b + 8) / 25, g = (b - f + 1) / 3;
  int h = (19 * a + b - d - g + 15) % 30;
  int i = c / 4, k = c % 4;
  int l = (32 + 2 * e + 2 * i - h - k) % 7;
  int m = (a + 11 * h + 22 * l) / 451;
  int month = (h + l - 7 * m + 114) / 31;
  int day = (h + l - 7 * m + 114) % 31 + 1;
  return dn_date_from_ymd(y, month, day);
}

static bool is_weekend(dn_date d) { return dn_date_weekday(d) >= WD_SAT; }

/* US federal rule (5 U.S.C. 6103): Saturday -> Friday, Sunday -> Monday. */
static void push_us_fixed(day_list *l, int y, int m, int day) {
  dn_date d = dn_date_from_ymd(y, m, day);
  push(l, d);
  int wd = dn_date_weekday(d);
  if (wd == WD_SAT) push(l, d - 1);
  if (wd == WD_SUN) push(l, d + 1);
}

static void us_year(day_list *l, int y) {
  push_us_fixed(l, y, 1, 1);
  if (y >= 1986) push(l, nth_weekday(y, 1, WD_MON, 3));
  push(l, nth_weekday(y, 2, WD_MON, 3));
  push(l, last_weekday(y, 5, WD_MON));
  if (y >= 2021) push_us_fixed(l, y, 6, 19);
  push_us_fixed(l, y, 7, 4);
  push(l, nth_weekday(y, 9, WD_MON, 1));
  push(l, nth_weekday(y, 10, WD_MON, 2));
  push_us_fixed(l, y, 11, 11);
  push(l, nth_weekday(y, 11, WD_THU, 4));
  push_us_fixed(l, y, 12, 25);
}

/* England & Wales: a weekend New Year moves to the next Monday; Christmas
 * and Boxing Day move to the next free weekdays, so a Saturday Christmas
 * gives Mon 27 + Tue 28 and a Sunday Christmas gives Mon 26 + Tue 27. */
static void gb_christmas(day_list *l, int y) {
  dn_date xmas = dn_date_from_ymd(y, 12, 25);
  push(l, xmas);
  push(l, xmas + 1);
  int wd = dn_date_weekday(xmas);
  if (wd == WD_FRI) push(l, xmas + 3);                   /* Boxing Sat -> Mon 28 */
  if (wd == WD_SAT) { push(l, xmas + 2); push(l, xmas + 3); }
  if (wd == WD_SUN) push(l, xmas + 2);                   /* Boxing Mon 26, Xmas Tue 27 */
}

static void gb_may(day_list *l, int y) {
  /* Early May: moved for VE Day anniversaries in 1995 and 2020. */
  if (y == 1995) push(l, dn_date_from_ymd(1995, 5, 8));
  else if (y == 2020) push(l, dn_date_from_ymd(2020, 5, 8));
  else if (y >= 1978) push(l, nth_weekday(y, 5, WD_MON, 1));
  /* Spring: moved for the jubilees, each with an extra day. */
  if (y == 2002) { push(l, dn_date_from_ymd(2002, 6, 3)); push(l, dn_date_from_ymd(2002, 6, 4)); }
  else if (y == 2012) { push(l, dn_date_from_ymd(2012, 6, 4)); push(l, dn_date_from_ymd(2012, 6, 5)); }
  else if (y == 2022) { push(l, dn_date_from_ymd(2022, 6, 2)); push(l, dn_date_from_ymd(2022, 6, 3)); }
  else push(l, last_weekday(y, 5, WD_MON));
}

static void gb_year(day_list *l, int y) {
  dn_date ny = dn_date_from_ymd(y, 1, 1);
  push(l, ny);
  if (is_weekend(ny)) push(l, nth_weekday(y, 1, WD_MON, 1));
  dn_date e = easter(y);
  push(l, e - 2);
  push(l, e + 1);
  gb_may(l, y);
  push(l, last_weekday(y, 8, WD_MON));
  gb_christmas(l, y);
  /* One-off bank holidays by royal proclamation. */
  if (y == 1999) push(l, dn_date_from_ymd(1999, 12, 31));
  if (y == 2011) push(l, dn_date_from_ymd(2011, 4, 29));
  if (y == 2022) push(l, dn_date_from_ymd(2022, 9, 19));
  if (y == 2023) push(l, dn_date_from_ymd(2023, 5, 8));
}

/* National holidays only: Länder add their own (a ledger can add them). */
static void de_year(day_list *l, int y) {
  dn_date e = easter(y);
  push(l, dn_date_from_ymd(y, 1, 1));
  push(l, e - 2);
  push(l, e + 1);
  push(l, dn_date_from_ymd(y, 5, 1));
  push(l, e + 39);
  push(l, e + 50);
  if (y >= 1990) push(l, dn_date_from_ymd(y, 10, 3));
  if (y == 2017) push(l, dn_date_from_ymd(2017, 10, 31)); /* Reformation 500 */
  push(l, dn_date_from_ymd(y, 12, 25));
  push(l, dn_date_from_ymd(y, 12, 26));
}

static void fr_year(day_list *l, int y) {
  static const int fixed[][2] = {{1, 1}, {5, 1}, {5, 8}, {7, 14}, {8, 15},
                                 {11, 1}, {11, 11}, {12, 25}};
  dn_date e = easter(y);
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    push(l, dn_date_from_ymd(y, fixed[i][0], fixed[i][1]));
  push(l, e + 1);
  push(l, e + 39);
  push(l, e + 50);
}

static void rule_year(cal_kind k, int y, day_list *l) {
  l->n = 0;
  /* The Gregorian Easter rule starts in 1583; earlier years are not
   * business dates anyone schedules. */
  if (y < 1583 || y > 999999) return;
  switch (k) {
    case CAL_US: us_year(l, y); break;
    case CAL_GB: gb_year(l, y); break;
    case CAL_DE: de_year(l, y); break;
    case CAL_FR: fr_year(l, y); break;
    case CAL_NONE: break;
  }
}

/* ---- sorted arrays ------------------------------------------------- */

static int cmp_date(const void *a, const void *b) {
  dn_date x = *(const dn_date *)a, y = *(const dn_date *)b;
  return (x > y) - (x < y);
}

static bool contains(const dn_date *arr, size_t n, dn_date d) {
  return n > 0 && bsearch(&d, arr, n, sizeof *arr, cmp_date) != NULL;
}

static size_t sort_unique(dn_date *arr, size_t n) {
  if (n == 0) return 0;
  qsort(arr, n, sizeof *arr, cmp_date);
  size_t w = 1;
  for (size_t i = 1; i < n; i++)
    if (arr[i] != arr[w - 1]) arr[w++] = arr[i];
  return w;
}

static bool precompute(dn_calendar *cal) {
  size_t cap = (size_t)(LAST_YEAR - FIRST_YEAR + 1) * MAX_PER_YEAR;
  cal->rule_days = malloc(cap * sizeof *cal->rule_days);
  if (cal->rule_days == NULL) return false;
  size_t n = 0;
  day_list l;
  for (int y = FIRST_YEAR; y <= LAST_YEAR; y++) {
    rule_year(cal->kind, y, &l);
    memcpy(cal->rule_days + n, l.d, (size_t)l.n * sizeof l.d[0]);
    n += (size_t)l.n;
  }
  cal->n_rule = sort_unique(cal->rule_days, n);
  cal->rule_weekdays = malloc((cal->n_rule + 1) * sizeof *cal->rule_weekdays);
  if (cal->rule_weekdays == NULL) return false;
  cal->rule_weekdays[0] = 0;
  for (size_t i = 0; i < cal->n_rule; i++)
    cal->rule_weekdays[i + 1] = cal->rule_weekdays[i] + !is_weekend(cal->rule_days[i]);
  return true;
}

dn_calendar *dn_calendar_new(const char *name) {
  dn_calendar *cal = calloc(1, sizeof *cal);
  if (cal == NULL) return NULL;
  cal->kind = kind_of(name);
  if (cal->kind != CAL_NONE && !precompute(cal)) {
    dn_calendar_free(cal);
    return NULL;
  }
  return cal;
}

/* Copying ~3,500 precomputed days is a memcpy; recomputing them is the
 * Easter and weekday arithmetic of 301 years and a qsort. */
static dn_date *dup_days(const dn_date *src, size_t n) {
  if (n == 0) return NULL;
  dn_date *d = malloc(n * sizeof *d);
  if (d) memcpy(d, src, n * sizeof *d);
  return d;
}

dn_calendar *dn_calendar_clone(const dn_calendar *src) {
  dn_calendar *cal = calloc(1, sizeof *cal);
  if (cal == NULL) return NULL;
  cal->kind = src->kind;
  cal->rule_days = dup_days(src->rule_days, src->n_rule);
  cal->added = dup_days(src->added, src->n_added);
  if (src->rule_weekdays) {
    size_t bytes = (src->n_rule + 1) * sizeof *cal->rule_weekdays;
    cal->rule_weekdays = malloc(bytes);
    if (cal->rule_weekdays) memcpy(cal->rule_weekdays, src->rule_weekdays, bytes);
  }
  if ((src->n_rule && !cal->rule_days) || (src->n_added && !cal->added) ||
      (src->rule_weekdays && !cal->rule_weekdays)) {
    dn_calendar_free(cal);
    return NULL;
  }
  cal->n_rule = src->n_rule;
  cal->n_added = cal->cap_added = src->n_added;
  return cal;
}

void dn_calendar_free(dn_calendar *cal) {
  if (cal == NULL) return;
  free(cal->rule_days);
  free(cal->rule_weekdays);
  free(cal->added);
  free(cal);
}

bool dn_calendar_add_holiday(dn_calendar *cal, dn_date d) {
  if (contains(cal->added, cal->n_added, d)) return true;
  if (cal->n_added == cal->cap_added) {
    size_t cap = cal->cap_added ? cal->cap_added * 2 : 16;
    dn_date *p = realloc(cal->added, cap * sizeof *p);
    if (p == NULL) return false;
    cal->added = p;
    cal->cap_added = cap;
  }
  /* Keep the array sorted by inserting in place: ledgers add tens of days. */
  size_t i = cal->n_added;
  while (i > 0 && cal->added[i - 1] > d) {
    cal->added[i] = cal->added[i - 1];
    i--;
  }
  cal->added[i] = d;
  cal->n_added++;
  return true;
}

static bool rule_holiday(const dn_calendar *cal, dn_date d) {
  if (cal->kind == CAL_NONE || d < DN_CAL_MIN || d > DN_CAL_MAX) return false;
  int y, m, day;
  dn_date_to_ymd(d, &y, &m, &day);
  /* Observed days may spill into the previous year (US New Year on a
   * Saturday is observed on Dec 31), so the precomputed range is trusted
   * only strictly inside its year bounds. */
  if (y > FIRST_YEAR && y < LAST_YEAR) return contains(cal->rule_days, cal->n_rule, d);
  day_list l;
  for (int yy = y; yy <= y + 1; yy++) {
    rule_year(cal->kind, yy, &l);
    for (int i = 0; i < l.n; i++)
      if (l.d[i] == d) return true;
  }
  return false;
}

bool dn_calendar_is_holiday(const dn_calendar *cal, dn_date d) {
  return contains(cal->added, cal->n_added, d) || rule_holiday(cal, d);
}

bool dn_calendar_is_business_day(const dn_calendar *cal, dn_date d) {
  return !is_weekend(d) && !dn_calendar_is_holiday(cal, d);
}

dn_date dn_calendar_next_business_day(const dn_calendar *cal, dn_date d) {
  while (!dn_calendar_is_business_day(cal, d)) d++;
  return d;
}

/* ---- counting business days -------------------------------------------------
 *
 * A policy may ask for the business days between any two dates it can
 * make (a fuzzed one asked across millennia), so a span is counted, not
 * walked: its weekdays by arithmetic, less the holidays on weekdays, found
 * by binary search in the precomputed years and year by year outside them. */

/* Weekdays in [lo, hi]: whole weeks have five, and the days left over
 * start on lo's weekday. */
static int64_t weekdays_in(int64_t lo, int64_t hi) {
  if (hi < lo) return 0;
  int64_t n = hi - lo + 1, left = n % 7, count = n / 7 * 5;
  int wd = dn_date_weekday((dn_date)lo);
  for (int64_t i = 0; i < left; i++) count += (wd + i) % 7 < WD_SAT;
  return count;
}

/* The first index of sorted arr[0..n) whose day is >= d. */
static size_t lower_bound(const dn_date *arr, size_t n, int64_t d) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (arr[mid] < d) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* Rule holidays on weekdays in [lo, hi], a span of the precomputed years. */
static int64_t precomputed_in(const dn_calendar *cal, int64_t lo, int64_t hi) {
  size_t a = lower_bound(cal->rule_days, cal->n_rule, lo), b = lower_bound(cal->rule_days, cal->n_rule, hi + 1);
  return (int64_t)cal->rule_weekdays[b] - cal->rule_weekdays[a];
}

/* Rule holidays on weekdays in [lo, hi] outside the precomputed years:
 * a day of year y is one when year y's or y+1's rules give it (an
 * observed New Year spills back), as rule_holiday asks. */
static int64_t ruled_in(const dn_calendar *cal, int64_t lo, int64_t hi) {
  int64_t count = 0;
  int y0, y1, m, d;
  dn_date_to_ymd((dn_date)lo, &y0, &m, &d);
  dn_date_to_ymd((dn_date)hi, &y1, &m, &d);
  day_list cur, next;
  rule_year(cal->kind, y0, &cur);
  for (int y = y0; y <= y1; y++, cur = next) {
    rule_year(cal->kind, y + 1, &next);
    dn_date first = dn_date_from_ymd(y, 1, 1), last = dn_date_from_ymd(y, 12, 31);
    for (int i = 0; i < cur.n + next.n; i++) {
      dn_date h = i < cur.n ? cur.d[i] : next.d[i - cur.n];
      if (h < first || h > last || h < lo || h > hi || is_weekend(h)) continue;
      /* the same day twice (a rule of both years, or one pushed twice) */
      bool seen = false;
      for (int j = 0; j < i && !seen; j++) seen = (j < cur.n ? cur.d[j] : next.d[j - cur.n]) == h;
      count += !seen;
    }
  }
  return count;
}

/* Rule holidays on weekdays in [lo, hi], both within years 1..9999. */
static int64_t rule_holidays_in(const dn_calendar *cal, int64_t lo, int64_t hi) {
  if (cal->kind == CAL_NONE || hi < lo) return 0;
  /* rule_holiday trusts the precomputed days strictly inside their years */
  int64_t pre_lo = dn_date_from_ymd(FIRST_YEAR + 1, 1, 1), pre_hi = dn_date_from_ymd(LAST_YEAR - 1, 12, 31);
  int64_t count = 0;
  if (lo < pre_lo) count += ruled_in(cal, lo, hi < pre_lo - 1 ? hi : pre_lo - 1);
  if (hi > pre_hi) count += ruled_in(cal, lo > pre_hi + 1 ? lo : pre_hi + 1, hi);
  int64_t a = lo > pre_lo ? lo : pre_lo, b = hi < pre_hi ? hi : pre_hi;
  if (a <= b) count += precomputed_in(cal, a, b);
  return count;
}

/* Business days in [lo, hi]. Holidays are known for years 1 to 9999;
 * beyond them only weekends are days off. */
static int64_t business_in(const dn_calendar *cal, int64_t lo, int64_t hi) {
  if (hi < lo) return 0;
  int64_t count = weekdays_in(lo, hi);
  int64_t a = lo > DN_CAL_MIN ? lo : DN_CAL_MIN, b = hi < DN_CAL_MAX ? hi : DN_CAL_MAX;
  if (a > b) return count;
  count -= rule_holidays_in(cal, a, b);
  /* added days on weekdays that the rules do not already make holidays */
  for (size_t i = lower_bound(cal->added, cal->n_added, a); i < cal->n_added && cal->added[i] <= b; i++)
    count -= !is_weekend(cal->added[i]) && !rule_holiday(cal, cal->added[i]);
  return count;
}

int64_t dn_calendar_business_days_between(const dn_calendar *cal, dn_date from, dn_date to) {
  /* A missing date has no distance. */
  if (from == DN_DATE_NONE || to == DN_DATE_NONE) return 0;
  if (to < from) return -business_in(cal, (int64_t)to + 1, from);
  return business_in(cal, (int64_t)from + 1, to);
}

/* Whole weeks are jumped while many days are left (counted, as above),
 * then the last few walked: the walk alone would take a policy's
 * `+ 2000000000 business days` two billion steps. */
dn_date dn_calendar_add_business_days(const dn_calendar *cal, dn_date d, int n) {
  int step = n < 0 ? -1 : 1;
  int64_t left = n < 0 ? -(int64_t)n : n, at = d;
  while (left > 10) {
    int64_t to = at + step * ((left - 5) / 5 * 7);
    if (to < DN_CAL_MIN || to > DN_CAL_MAX) return DN_DATE_NONE;
    left -= step > 0 ? business_in(cal, at + 1, to) : business_in(cal, to, at - 1);
    at = to;
  }
  while (left > 0) {
    at += step;
    if (at < DN_CAL_MIN || at > DN_CAL_MAX) return DN_DATE_NONE;
    if (dn_calendar_is_business_day(cal, (dn_date)at)) left--;
  }
  return (dn_date)at;
}
