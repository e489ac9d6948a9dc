/* tz.c - a TZif reader (RFC 8536) and the POSIX TZ rules of its footer.
 *
 * A zone holds its transitions, the UTC offset of each, and the footer
 * rule that governs every instant after the last transition. The footer
 * matters: Debian may ship "slim" files whose transitions stop around
 * 2007, so the current rules exist only as a string like
 * "EST5EDT,M3.2.0,M11.1.0". Nothing here touches TZ, tzset() or
 * localtime(): those are process-wide, and two policies may schedule in
 * two zones at once. */
#include "stdlib/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_FILE = 1 << 20, SECS_PER_DAY = 86400 };

/* A POSIX TZ rule date: "Jn" (1..365, Feb 29 never counted), "n"
 * (0..365, counted) or "Mm.w.d"; time is seconds after local midnight and
 * may be negative or past 24h. */
typedef struct rule_date {
  char kind; /* 'J', 'N' or 'M' */
  int m, w, d, n;
  int32_t time;
} rule_date;

typedef struct posix_tz {
  bool valid, has_dst;
  int32_t std_off, dst_off; /* seconds east of UTC */
  rule_date start, end;
} posix_tz;

struct dn_zone {
  int64_t *trans; /* sorted UTC instants */
  uint8_t *trans_type;
  int32_t *type_off;
  uint32_t n_trans, n_types;
  posix_tz rule;
};

/* ---- POSIX TZ strings ---------------------------------------------- */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static int read_int(const char **p, int max) {
  if (!is_digit(**p)) return -1;
  int v = 0;
  while (is_digit(**p)) {
    v = v * 10 + (*(*p)++ - '0');
    if (v > max) return -1;
  }
  return v;
}

/* "<+0330>" or "EST": the abbreviation only has to be skipped. */
static bool skip_name(const char **p) {
  const char *s = *p;
  if (*s == '<') {
    while (*s != '\0' && *s != '>') s++;
    if (*s != '>' || s - *p < 2) return false;
    *p = s + 1;
    return true;
  }
  while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) s++;
  if (s - *p < 3) return false;
  *p = s;
  return true;
}

/* [+-]hh[:mm[:ss]] in seconds; hours up to max_h (167 for rule times,
 * the RFC 8536 extension; 24 for offsets). */
static bool read_hms(const char **p, int max_h, int32_t *out) {
  int sign = 1;
  if (**p == '+' || **p == '-') sign = *(*p)++ == '-' ? -1 : 1;
  int h = read_int(p, max_h), m = 0, s = 0;
  if (h < 0) return false;
  if (**p == ':') {
    (*p)++;
    if ((m = read_int(p, 59)) < 0) return false;
    if (**p == ':') {
      (*p)++;
      if ((s = read_int(p, 59)) < 0) return false;
    }
  }
  *out = sign * (h * 3600 + m * 60 + s);
  return true;
}

static bool read_rule_date(const char **p, rule_date *r) {
  r->time = 2 * 3600;
  if (**p == 'M') {
    (*p)++;
    r->kind = 'M';
    if ((r->m = read_int(p, 12)) < 1 || *(*p)++ != '.') return false;
    if ((r->w = read_int(p, 5)) < 1 || *(*p)++ != '.') return false;
    if ((r->d = read_int(p, 6)) < 0) return false;
  } else if (**p == 'J') {
    (*p)++;
    r->kind = 'J';
    if ((r->n = read_int(p, 365)) < 1) return false;
  } else {
    r->kind = 'N';
    if ((r->n = read_int(p, 365)) < 0) return false;
  }
  if (**p == '/') {
    (*p)++;
    return read_hms(p, 167, &r->time);
  }
  return true;
}

/* POSIX offsets count west of Greenwich ("EST5"); ours count east. */
static bool parse_posix(const char *s, posix_tz *tz) {
  int32_t west;
  memset(tz, 0, sizeof *tz);
  if (!skip_name(&s) || !read_hms(&s, 24, &west)) return false;
  tz->std_off = -west;
  tz->dst_off = tz->std_off;
  if (*s != '\0') {
    if (!skip_name(&s)) return false;
    tz->has_dst = true;
    tz->dst_off = tz->std_off + 3600;
    if (*s != ',' && *s != '\0') {
      if (!read_hms(&s, 24, &west)) return false;
      tz->dst_off = -west;
    }
    /* No rule given: POSIX leaves it to the implementation; the tz
     * project's choice is the US rule. */
    const char *rules = *s == '\0' ? ",M3.2.0,M11.1.0" : s;
    if (*rules++ != ',' || !read_rule_date(&rules, &tz->start)) return false;
    if (*rules++ != ',' || !read_rule_date(&rules, &tz->end)) return false;
    s = rules;
  }
  if (*s != '\0') return false;
  tz->valid = true;
  return true;
}

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static dn_date rule_day(const rule_date *r, int y) {
  dn_date jan1 = dn_date_from_ymd(y, 1, 1);
  if (r->kind == 'J') return jan1 + r->n - 1 + (is_leap(y) && r->n >= 60);
  if (r->kind == 'N') return jan1 + r->n;
  /* Mm.w.d: d is 0 = Sunday; week 5 means the last such weekday. */
  int iso = (r->d + 6) % 7;
  dn_date first = dn_date_from_ymd(y, r->m, 1);
  dn_date day = first + (iso - dn_date_weekday(first) + 7) % 7 + 7 * (r->w - 1);
  int dim = dn_days_in_month(y, r->m);
  while (day >= first + dim) day -= 7;
  return day;
}

/* A rule time is local time under the offset in force before the switch. */
static int64_t rule_instant(const rule_date *r, int y, int32_t off_before) {
  return (int64_t)rule_day(r, y) * SECS_PER_DAY + r->time - off_before;
}

static int32_t posix_offset(const posix_tz *tz, int64_t t) {
  if (!tz->has_dst) return tz->std_off;
  int y, m, d;
  int64_t days = t / SECS_PER_DAY - (t % SECS_PER_DAY < 0);
  if (days < -700000000 || days > 700000000) return tz->std_off;
  dn_date_to_ymd((dn_date)days, &y, &m, &d);
  /* The latest switch at or before t decides; looking at three years
   * covers rules that straddle New Year (southern zones, permanent DST
   * written as "0/0,J365/25"). When one year's end is the next year's
   * start, as in that encoding, the start wins: DST never lapses. */
  int64_t best = INT64_MIN;
  int32_t off = tz->std_off;
  for (int yy = y - 1; yy <= y + 1; yy++) {
    int64_t on = rule_instant(&tz->start, yy, tz->std_off);
    int64_t off_at = rule_instant(&tz->end, yy, tz->dst_off);
    if (on <= t && on >= best) best = on, off = tz->dst_off;
    if (off_at <= t && off_at > best) best = off_at, off = tz->std_off;
  }
  return off;
}

/* ---- TZif ---------------------------------------------------------- */

typedef struct reader {
  const unsigned char *p;
  size_t len, pos;
} reader;

static bool need(const reader *r, size_t n) { return n <= r->len - r->pos; }

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p) {
  return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzif_counts {
  uint32_t isut, isstd, leap, time, type, chars;
} tzif_counts;

static bool read_header(reader *r, int *version, tzif_counts *c) {
  if (!need(r, 44) || memcmp(r->p + r->pos, "TZif", 4) != 0) return false;
  const unsigned char *h = r->p + r->pos;
  *version = h[4] == 0 ? 1 : h[4] - '0';
  c->isut = be32(h + 20);
  c->isstd = be32(h + 24);
  c->leap = be32(h + 28);
  c->time = be32(h + 32);
  c->type = be32(h + 36);
  c->chars = be32(h + 40);
  r->pos += 44;
  /* Counts bounded by the file size keep the size arithmetic below safe. */
  return c->type <= 256 && c->time <= MAX_FILE && c->leap <= MAX_FILE &&
         c->chars <= MAX_FILE && c->isut <= c->type && c->isstd <= c->type;
}

static size_t block_size(const tzif_counts *c, size_t tsize) {
  return (size_t)c->time * (tsize + 1) + (size_t)c->type * 6 + c->chars +
         (size_t)c->leap * (tsize + 4) + c->isstd + c->isut;
}

static bool read_block(reader *r, const tzif_counts *c, size_t tsize, dn_zone *z) {
  if (c->type == 0 || !need(r, block_size(c, tsize))) return false;
  const unsigned char *p = r->p + r->pos;
  z->n_trans = c->time;
  z->n_types = c->type;
  z->trans = malloc(((size_t)c->time + 1) * sizeof *z->trans);
  z->trans_type = malloc((size_t)c->time + 1);
  z->type_off = malloc((size_t)c->type * sizeof *z->type_off);
  if (z->trans == NULL || z->trans_type == NULL || z->type_off == NULL) return false;
  for (uint32_t i = 0; i < c->time; i++, p += tsize) {
    z->trans[i] = tsize == 8 ? be64(p) : (int64_t)(int32_t)be32(p);
    if (i > 0 && z->trans[i] <= z->trans[i - 1]) return false;
  }
  for (uint32_t i = 0; i < c->time; i++) {
    if (p[i] >= c->type) return false;
    z->trans_type[i] = p[i];
  }
  p += c->time;
  for (uint32_t i = 0; i < c->type; i++, p += 6) {
    z->type_off[i] = (int32_t)be32(p);
    /* RFC 8536: -2^31 is invalid; anything beyond a day is nonsense. */
    if (z->type_off[i] < -89999 || z->type_off[i] > 93599) return false;
  }
  r->pos += block_size(c, tsize);
  return true;
}

/* The footer is "\n<TZ string>\n"; an empty string means "no rule". */
static bool read_footer(reader *r, posix_tz *tz) {
  /* Some writers omit the footer entirely; then the table is all there is. */
  if (r->pos == r->len) return true;
  if (!need(r, 2) || r->p[r->pos] != '\n') return false;
  const unsigned char *start = r->p + r->pos + 1;
  const unsigned char *nl = memchr(start, '\n', r->len - r->pos - 1);
  if (nl == NULL || nl - start > 255) return false;
  char buf[256];
  memcpy(buf, start, (size_t)(nl - start));
  buf[nl - start] = '\0';
  if (buf[0] == '\0') return true;
  return parse_posix(buf, tz);
}

static bool parse_tzif(const unsigned char *data, size_t len, dn_zone *z) {
  reader r = {data, len, 0};
  int version;
  tzif_counts c;
  if (!read_header(&r, &version, &c)) return false;
  if (version < 2) return read_block(&r, &c, 4, z);
  /* Skip the 32-bit block: the 64-bit one after it is complete. */
  if (!need(&r, block_size(&c, 4))) return false;
  r.pos += block_size(&c, 4);
  if (!read_header(&r, &version, &c) || !read_block(&r, &c, 8, z)) return false;
  return read_footer(&r, &z->rule);
}

static bool safe_name(const char *name) {
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > 255 || name[0] == '/' || strstr(name, "..") != NULL) return false;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) ||
              c == '/' || c == '_' || c == '-' || c == '+' || c == '.';
    if (!ok) return false;
  }
  return true;
}

/* The file's bytes, up to MAX_FILE - 1 (a larger one is no TZif file of
 * ours). The buffer grows from 4 KiB: zone files are a few KiB, and a run
 * loads each zone it meets (simulate: each day), which with a 1 MiB
 * buffer each time was a megabyte mapped and zeroed per zone per day. */
static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  unsigned char *buf = NULL;
  size_t n = 0, cap = 0;
  bool bad = false;
  while (n == cap && cap < MAX_FILE) {
    cap = cap ? cap * 2 : 4096;
    unsigned char *grown = realloc(buf, cap);
    if (grown == NULL) {
      bad = true;
      break;
    }
    buf = grown;
    n += fread(buf + n, 1, cap - n, f);
  }
  bad = bad || ferror(f) || n == 0 || n == MAX_FILE;
  fclose(f);
  if (bad) {
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

dn_zone *dn_zone_load(const char *name) {
  if (!safe_name(name)) return NULL;
  const char *dir = getenv("TZDIR");
  if (dir == NULL || dir[0] == '\0') dir = "/usr/share/zoneinfo";
  char path[4096];
  int n = snprintf(path, sizeof path, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= sizeof path) return NULL;
  size_t len;
  unsigned char *data = slurp(path, &len);
  if (data == NULL) return NULL;
  dn_zone *z = calloc(1, sizeof *z);
  bool ok = z != NULL && parse_tzif(data, len, z);
  free(data);
  if (!ok) {
    dn_zone_free(z);
    return NULL;
  }
  return z;
}

void dn_zone_free(dn_zone *z) {
  if (z == NULL) return;
  free(z->trans);
  free(z->trans_type);
  free(z->type_off);
  free(z);
}

/* ---- offsets ------------------------------------------------------- */

static int32_t offset_at_utc(const dn_zone *z, int64_t t) {
  uint32_t n = z->n_trans;
  if (n > 0 && t < z->trans[0]) return z->type_off[0];
  if ((n == 0 || t >= z->trans[n - 1]) && z->rule.valid) return posix_offset(&z->rule, t);
  if (n == 0) return z->type_off[0];
  uint32_t lo = 0, hi = n - 1; /* trans[lo] <= t; find the last such */
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo + 1) / 2;
    if (z->trans[mid] <= t)
      lo = mid;
    else
      hi = mid - 1;
  }
  return z->type_off[z->trans_type[lo]];
}

/* A wall time L is valid under offset o when the instant L - o really has
 * offset o. The offsets a day either side are the only candidates (zones
 * do not switch twice in two days); both valid is a fall-back overlap
 * (take the earlier instant, the pre-switch offset), neither is a
 * spring-forward gap (take the post-switch offset). */
int32_t dn_zone_offset_at_local(const dn_zone *z, dn_date d, int minute_of_day) {
  int64_t local = (int64_t)d * SECS_PER_DAY + (int64_t)minute_of_day * 60;
  int32_t before = offset_at_utc(z, local - SECS_PER_DAY);
  int32_t after = offset_at_utc(z, local + SECS_PER_DAY);
  if (before == after) return before;
  if (offset_at_utc(z, local - before) == before) return before;
  if (offset_at_utc(z, local - after) == after) return after;
  return after;
}

/* The wall time is printed as asked, even inside a gap: the string then
 * names the instant local - offset, which is what the offset rule chose. */
void dn_zone_format_local(const dn_zone *z, dn_date d, int minute_of_day, char *buf) {
  int32_t off = dn_zone_offset_at_local(z, d, minute_of_day);
  int64_t m = minute_of_day;
  int64_t carry = m / 1440 - (m % 1440 < 0);
  m -= carry * 1440;
  int y, mo, day;
  dn_date_to_ymd((dn_date)(d + carry), &y, &mo, &day);
  int32_t a = off < 0 ? -off : off;
  /* Unsigned, bounded fields: years outside 0..9999 cannot be RFC 3339. */
  unsigned yy = (unsigned)(y < 0 ? 0 : y) % 10000u, hh = (unsigned)(a / 3600) % 100u;
  snprintf(buf, 32, "%04u-%02u-%02uT%02u:%02u:00%c%02u:%02u", yy, (unsigned)mo % 100u,
           (unsigned)day % 100u, (unsigned)(m / 60) % 100u, (unsigned)(m % 60) % 100u,
           off < 0 ? '-' : '+', hh, (unsigned)(a / 60 % 60) % 100u);
}
