/* text.c - UTF-8 validity, edit distance, formatting into an allocation. */
#include "stdlib/text.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t dn_utf8_seq(const unsigned char *s, size_t n) {
  unsigned char b = s[0];
  if (b < 0x80) return 1;
  size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 ? 2 : 0;
  if (len == 0 || b > 0xF4 || len > n) return 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b == 0xE0) lo = 0xA0;       /* overlong */
  else if (b == 0xED) hi = 0x9F;  /* surrogates */
  else if (b == 0xF0) lo = 0x90;  /* overlong */
  else if (b == 0xF4) hi = 0x8F;  /* above U+10FFFF */
  if (s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  return len;
}

static int same_ci(char a, char b) { return tolower((unsigned char)a) == tolower((unsigned char)b); }

enum { DN_FAR = 1 << 20, DN_LONGEST = 64 };

int dn_edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > DN_LONGEST || lb > DN_LONGEST) return DN_FAR;
  int rows[3][DN_LONGEST + 1];
  int *prev2 = rows[0], *prev = rows[1], *row = rows[2];
  for (size_t j = 0; j <= lb; j++) prev[j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    row[0] = (int)i;
    for (size_t j = 1; j <= lb; j++) {
      int best = prev[j - 1] + !same_ci(a[i - 1], b[j - 1]);
      if (prev[j] + 1 < best) best = prev[j] + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      if (i > 1 && j > 1 && same_ci(a[i - 1], b[j - 2]) && same_ci(a[i - 2], b[j - 1]) &&
          prev2[j - 2] + 1 < best)
        best = prev2[j - 2] + 1;
      row[j] = best;
    }
    int *t = prev2;
    prev2 = prev;
    prev = row;
    row = t;
  }
  return prev[lb];
}

const char *dn_closest(const char *name, const char *const *candidates, size_t n, int max_edits) {
  if (!name || !candidates) return NULL;
  const char *best = NULL;
  int best_d = max_edits + 1;
  for (size_t i = 0; i < n; i++) {
    if (!candidates[i]) continue;
    int d = dn_edit_distance(name, candidates[i]);
    if (d < best_d) {
      best_d = d;
      best = candidates[i];
    }
  }
  return best;
}

char *dn_vformat(const char *fmt, va_list ap) {
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  char *s = n < 0 ? NULL : malloc((size_t)n + 1);
  if (s) vsnprintf(s, (size_t)n + 1, fmt, again);
  va_end(again);
  return s;
}
