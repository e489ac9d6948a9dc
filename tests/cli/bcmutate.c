/* bcmutate.c - writes mutated copies of a .dbc file for the bytecode
 * robustness test (tests/cli/bytecode_fuzz.sh), which compiles it with
 * the system C compiler. It knows the file layout of lang/bcfile.h so that
 * mutations can aim at the section table, the table counts and the code,
 * and it can recompute the trailing FNV-1a checksum so that a mutation
 * reaches the parser and the verifier instead of stopping at the checksum.
 *
 *   bcmutate IN.dbc OUTDIR SEED COUNT
 *     writes OUTDIR/mNNNN.dbc and prints one line per file, "mNNNN what",
 *     so a failure names the mutation. Deterministic for a given seed.
 *   bcmutate --sections IN.dbc
 *     prints "INDEX ID ENTRY_OFFSET BODY_OFFSET LENGTH" per section.
 *   bcmutate --set IN.dbc OUT.dbc OFFSET NBYTES VALUE fix|nofix
 *     overwrites NBYTES (1..8) little endian at OFFSET.
 *   bcmutate --consts IN.dbc OUTDIR
 *     for every constant, files with its value set to the extremes of its
 *     type (checksum recomputed): cNNNN.dbc, one "cNNNN what" line each. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREAMBLE 18 /* magic 8, version 2, sentinel 6, section count 2 */

typedef struct buf { uint8_t *d; size_t len; } buf;

static uint64_t rng_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *s = x;
  return x;
}

static size_t rnd(uint64_t *s, size_t n) { return n ? (size_t)(rng_next(s) % n) : 0; }

static uint64_t fnv(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 0x100000001b3ULL; }
  return h;
}

static void put_le(uint8_t *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le(const uint8_t *p, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; i++) v |= (uint32_t)p[i] << (8 * i);
  return v;
}

static void fix_checksum(buf *b) {
  if (b->len < 8) return;
  put_le(b->d + b->len - 8, fnv(b->d, b->len - 8), 8);
}

/* Section i's entry offset in the table, and its body offset. */
static unsigned nsections(const buf *b) { return b->len >= PREAMBLE ? get_le(b->d + 16, 2) : 0; }
static size_t entry_at(unsigned i) { return PREAMBLE + 6u * i; }
static size_t body_at(const buf *b, unsigned i) {
  size_t pos = PREAMBLE + 6u * nsections(b);
  for (unsigned k = 0; k < i; k++) pos += get_le(b->d + entry_at(k) + 2, 4);
  return pos;
}

static void insert(buf *b, size_t at, const uint8_t *src, size_t n) {
  b->d = realloc(b->d, b->len + n);
  memmove(b->d + at + n, b->d + at, b->len - at);
  memcpy(b->d + at, src, n);
  b->len += n;
}

static const uint32_t interesting[] = {0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000,
                                       0x7FFFFFFF, 0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu,
                                       0x10000000, 1000000};
#define NINTERESTING (sizeof interesting / sizeof interesting[0])

/* Applies one mutation; returns whether recomputing the checksum makes
 * sense afterwards (it does not for a cut-off file). */
static int mutate(buf *b, uint64_t *s, char *what, size_t wn) {
  unsigned nsec = nsections(b);
  size_t body_len = b->len - 8;
  /* The embedded source is half the file and only informational; aim
   * three in four byte-level mutations at the sections before it. */
  size_t hot_end = body_len;
  if (nsec > 0 && get_le(b->d + entry_at(nsec - 1), 2) == 19 && rnd(s, 4) != 0)
    hot_end = body_at(b, nsec - 1);
  switch (rnd(s, 11)) {
    case 0: {
      size_t cut = rnd(s, b->len);
      b->len = cut;
      snprintf(what, wn, "truncate to %zu bytes", cut);
      return 0;
    }
    case 1: {
      int n = 1 + (int)rnd(s, 4);
      snprintf(what, wn, "flip %d random bytes at", n);
      for (int i = 0; i < n; i++) {
        size_t at = rnd(s, hot_end);
        b->d[at] ^= (uint8_t)(1 + rnd(s, 255));
        size_t l = strlen(what);
        snprintf(what + l, wn - l, " %zu", at);
      }
      return 1;
    }
    case 2: {
      uint8_t junk[16];
      size_t n = 1 + rnd(s, sizeof junk), at = rnd(s, body_len + 1);
      for (size_t i = 0; i < n; i++) junk[i] = (uint8_t)rng_next(s);
      insert(b, at, junk, n);
      snprintf(what, wn, "insert %zu bytes at %zu", n, at);
      return 1;
    }
    case 3: {
      size_t at = rnd(s, body_len), n = 1 + rnd(s, 16);
      if (at + n > body_len) n = body_len - at;
      memmove(b->d + at, b->d + at + n, b->len - at - n);
      b->len -= n;
      snprintf(what, wn, "delete %zu bytes at %zu", n, at);
      return 1;
    }
    case 4: {
      size_t at = rnd(s, hot_end), n = 1 + rnd(s, 64);
      if (at + n > body_len) n = body_len - at;
      memset(b->d + at, 0, n);
      snprintf(what, wn, "zero %zu bytes at %zu", n, at);
      return 1;
    }
    case 5: { /* swap two sections' ids: one body is parsed as the other */
      if (nsec < 2) break;
      unsigned i = (unsigned)rnd(s, nsec), j = (unsigned)rnd(s, nsec);
      uint8_t t[2];
      memcpy(t, b->d + entry_at(i), 2);
      memcpy(b->d + entry_at(i), b->d + entry_at(j), 2);
      memcpy(b->d + entry_at(j), t, 2);
      snprintf(what, wn, "swap section ids of entries %u and %u", i, j);
      return 1;
    }
    case 6: { /* a table's leading count set to a huge or off-by-one value */
      if (nsec < 2) break;
      unsigned i = 1 + (unsigned)rnd(s, nsec - 1);
      size_t at = body_at(b, i);
      if (at + 4 > body_len) break;
      uint32_t old = get_le(b->d + at, 4);
      uint32_t v = rnd(s, 3) == 0 ? old + (rnd(s, 2) ? 1u : -1u) : interesting[rnd(s, NINTERESTING)];
      put_le(b->d + at, v, 4);
      snprintf(what, wn, "count of section entry %u (id %u) %u -> %u", i,
               get_le(b->d + entry_at(i), 2), old, v);
      return 1;
    }
    case 7: { /* a section length in the table */
      if (nsec < 1) break;
      unsigned i = (unsigned)rnd(s, nsec);
      uint32_t v = interesting[rnd(s, NINTERESTING)];
      put_le(b->d + entry_at(i) + 2, v, 4);
      snprintf(what, wn, "length of section entry %u -> %u", i, v);
      return 1;
    }
    case 8: { /* a 32-bit field anywhere in the sections */
      size_t first = PREAMBLE + 6u * nsec;
      if (hot_end < first + 4) break;
      size_t at = first + rnd(s, hot_end - first - 3);
      uint32_t v = interesting[rnd(s, NINTERESTING)];
      put_le(b->d + at, v, 4);
      snprintf(what, wn, "u32 at %zu -> %u", at, v);
      return 1;
    }
    case 9:
    case 10: { /* bytes of the code section (id 4): aims at the verifier */
      for (unsigned i = 0; i < nsec; i++) {
        if (get_le(b->d + entry_at(i), 2) != 4) continue;
        size_t at = body_at(b, i), n = get_le(b->d + entry_at(i) + 2, 4);
        if (n == 0 || at + n > body_len) break;
        size_t k = at + rnd(s, n);
        uint8_t v = (uint8_t)rng_next(s);
        if (rnd(s, 2)) v %= 32; /* mostly opcodes and small operands */
        b->d[k] = v;
        snprintf(what, wn, "code byte %zu (offset %zu) -> %u", k, k - at, v);
        return 1;
      }
      break;
    }
  }
  size_t at = rnd(s, b->len);
  b->d[at] ^= 0x40;
  snprintf(what, wn, "flip bit 6 of byte %zu", at);
  return 1;
}

static int read_file(const char *path, buf *b) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); return 0; }
  b->d = malloc(1 << 20);
  b->len = fread(b->d, 1, 1 << 20, f);
  fclose(f);
  if (b->len < PREAMBLE + 8) { fprintf(stderr, "%s: too short\n", path); return 0; }
  return 1;
}

static int write_file(const char *path, const buf *b) {
  FILE *o = fopen(path, "wb");
  if (!o || fwrite(b->d, 1, b->len, o) != b->len || fclose(o) != 0) { perror(path); return 0; }
  return 1;
}

/* Extreme payloads per constant type (types.h: INT 2, NUMBER 3, MONEY 4,
 * DATE 5, DURATION 6); the first payload byte is at `at`. */
static const uint64_t int_extremes[] = {0x8000000000000000ULL, 0x7FFFFFFFFFFFFFFFULL, 0, ~0ULL, 1};
static const uint64_t num_extremes[] = {0x7FEFFFFFFFFFFFFFULL /* max */, 0xFFEFFFFFFFFFFFFFULL, 0,
                                        0x0000000000000001ULL /* denormal */, 0x8000000000000000ULL /* -0 */,
                                        0x7FF0000000000000ULL /* inf */, 0x7FF8000000000000ULL /* NaN */};
static const uint64_t i32_extremes[] = {0x80000000u, 0x7FFFFFFFu, 0, 0xFFFFFFFFu, 0xFFF00000u};

static int write_const_variants(const buf *orig, const char *dir, int *n) {
  unsigned nsec = nsections(orig);
  for (unsigned s = 0; s < nsec; s++) {
    if (get_le(orig->d + entry_at(s), 2) != 3) continue;
    size_t pos = body_at(orig, s), end = pos + get_le(orig->d + entry_at(s) + 2, 4);
    uint32_t count = get_le(orig->d + pos, 4);
    pos += 4;
    for (uint32_t k = 0; k < count && pos < end; k++) {
      unsigned type = orig->d[pos++];
      const uint64_t *vals = NULL;
      size_t nvals = 0, width = 0, skip = 0;
      switch (type) {
        case 1: skip = 1; break;
        case 2: vals = int_extremes; nvals = 5; width = 8; skip = 8; break;
        case 3: vals = num_extremes; nvals = 7; width = 8; skip = 8; break;
        case 4: vals = int_extremes; nvals = 5; width = 8; skip = 10; break;
        case 5: vals = i32_extremes; nvals = 5; width = 4; skip = 4; break;
        case 6: vals = i32_extremes; nvals = 5; width = 4; skip = 5; break;
        case 7: skip = 4; break;
        default: return 0;
      }
      for (size_t v = 0; v < nvals; v++) {
        buf b = {malloc(orig->len), orig->len};
        memcpy(b.d, orig->d, b.len);
        put_le(b.d + pos, vals[v], (int)width);
        fix_checksum(&b);
        char path[4096];
        snprintf(path, sizeof path, "%s/c%04d.dbc", dir, *n);
        if (!write_file(path, &b)) return 0;
        printf("c%04d constant %u (type %u) payload -> 0x%llx\n", *n, k, type, (unsigned long long)vals[v]);
        (*n)++;
        free(b.d);
      }
      pos += skip;
    }
  }
  return 1;
}

static int tool_mode(int argc, char **argv) {
  buf b;
  if (argc == 4 && strcmp(argv[1], "--consts") == 0) {
    int n = 0;
    if (!read_file(argv[2], &b)) return 1;
    return write_const_variants(&b, argv[3], &n) ? 0 : 1;
  }
  if (argc == 3 && strcmp(argv[1], "--sections") == 0) {
    if (!read_file(argv[2], &b)) return 1;
    for (unsigned i = 0; i < nsections(&b); i++)
      printf("%u %u %zu %zu %u\n", i, get_le(b.d + entry_at(i), 2), entry_at(i), body_at(&b, i),
             get_le(b.d + entry_at(i) + 2, 4));
    return 0;
  }
  if (argc == 8 && strcmp(argv[1], "--set") == 0) {
    if (!read_file(argv[2], &b)) return 1;
    size_t at = strtoull(argv[4], NULL, 10);
    int n = atoi(argv[5]);
    if (n < 1 || n > 8 || at + (size_t)n > b.len) { fprintf(stderr, "bad offset\n"); return 1; }
    put_le(b.d + at, strtoull(argv[6], NULL, 0), n);
    if (strcmp(argv[7], "fix") == 0) fix_checksum(&b);
    return write_file(argv[3], &b) ? 0 : 1;
  }
  fprintf(stderr, "usage: bcmutate IN.dbc OUTDIR SEED COUNT | --sections IN | --set IN OUT OFF N VALUE fix|nofix\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strncmp(argv[1], "--", 2) == 0) return tool_mode(argc, argv);
  if (argc != 5) {
    fprintf(stderr, "usage: bcmutate IN.dbc OUTDIR SEED COUNT\n");
    return 2;
  }
  buf orig;
  if (!read_file(argv[1], &orig)) return 1;
  uint64_t seed = strtoull(argv[3], NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
  int count = atoi(argv[4]);
  for (int m = 0; m < count; m++) {
    buf b = {malloc(orig.len), orig.len};
    memcpy(b.d, orig.d, orig.len);
    char what[200];
    int can_fix = mutate(&b, &seed, what, sizeof what);
    if (b.len == orig.len && memcmp(b.d, orig.d, b.len) == 0) {
      /* the mutation rewrote a value with itself: make it count */
      size_t at = PREAMBLE + rnd(&seed, b.len - 8 - PREAMBLE);
      b.d[at] ^= 0x40;
      size_t l = strlen(what);
      snprintf(what + l, sizeof what - l, ", a no-op, so flip bit 6 of byte %zu", at);
    }
    /* Two in three keep a valid checksum so the parser and verifier see them. */
    int fixed = can_fix && rnd(&seed, 3) != 0;
    if (fixed) fix_checksum(&b);
    char path[4096];
    snprintf(path, sizeof path, "%s/m%04d.dbc", argv[2], m);
    if (!write_file(path, &b)) return 1;
    printf("m%04d %s%s\n", m, what, fixed ? " (checksum recomputed)" : "");
    free(b.d);
  }
  free(orig.d);
  return 0;
}
