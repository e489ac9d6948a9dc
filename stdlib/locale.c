/* locale.c - per-language money and date formatting (see locale.h).
 *
 * The tables follow CLDR 44 for en, de, fr and es: decimal and group
 * separators, minimum grouping digits (2 in Spanish, so 1234 is not
 * grouped), the currency pattern (symbol first in English, last after a
 * no-break space elsewhere) and the long date pattern. */
#include "stdlib/locale.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "stdlib/money.h"

#define NBSP "\xC2\xA0"        /* U+00A0 NO-BREAK SPACE */
#define NNBSP "\xE2\x80\xAF"   /* U+202F NARROW NO-BREAK SPACE */

typedef struct lang_rules {
  const char *code;
  const char *decimal, *group;
  int min_grouping;      /* digits of the integer part before grouping starts */
  bool symbol_first;
  const char *months[12];
} lang_rules;

static const lang_rules rules[DN_LANG_COUNT] = {
    [DN_LANG_EN] = {"en", ".", ",", 4, true,
                    {"January", "February", "March", "April", "May", "June", "July", "August",
                     "September", "October", "November", "December"}},
    [DN_LANG_DE] = {"de", ",", ".", 4, false,
                    {"Januar", "Februar", "M\xC3\xA4rz", "April", "Mai", "Juni", "Juli", "August",
                     "September", "Oktober", "November", "Dezember"}},
    [DN_LANG_FR] = {"fr", ",", NNBSP, 4, false,
                    {"janvier", "f\xC3\xA9vrier", "mars", "avril", "mai", "juin", "juillet",
                     "ao\xC3\xBBt", "septembre", "octobre", "novembre", "d\xC3\xA9" "cembre"}},
    [DN_LANG_ES] = {"es", ",", ".", 5, false,
                    {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                     "septiembre", "octubre", "noviembre", "diciembre"}},
};

/* CLDR symbols of the currencies customers meet most; every other
 * currency is written with its ISO code, which no reader misreads. */
typedef struct symbol_row {
  char code[4];
  const char *sym[DN_LANG_COUNT]; /* en, de, fr, es */
} symbol_row;

static const symbol_row symbols[] = {
    {"EUR", {"\xE2\x82\xAC", "\xE2\x82\xAC", "\xE2\x82\xAC", "\xE2\x82\xAC"}},
    {"GBP", {"\xC2\xA3", "\xC2\xA3", "\xC2\xA3GB", "GBP"}},
    {"JPY", {"\xC2\xA5", "\xC2\xA5", "JPY", "JPY"}},
    {"USD", {"$", "$", "$US", "US$"}},
};

bool dn_lang_parse(const char *tag, dn_lang *out) {
  *out = DN_LANG_EN;
  if (!tag) return false;
  size_t n = 0;
  while (isalpha((unsigned char)tag[n])) n++;
  if (n != 2 || (tag[n] != '\0' && tag[n] != '-' && tag[n] != '_')) return false;
  char a = (char)tolower((unsigned char)tag[0]), b = (char)tolower((unsigned char)tag[1]);
  for (int i = 0; i < DN_LANG_COUNT; i++)
    if (rules[i].code[0] == a && rules[i].code[1] == b) {
      *out = (dn_lang)i;
      return true;
    }
  return false;
}

const char *dn_lang_code(dn_lang l) { return (unsigned)l < DN_LANG_COUNT ? rules[l].code : "en"; }

static const char *currency_symbol(dn_lang l, uint16_t cur) {
  const char *code = dn_currency_code(cur);
  for (size_t i = 0; i < sizeof symbols / sizeof *symbols; i++)
    if (strcmp(symbols[i].code, code) == 0) return symbols[i].sym[l];
  return *code ? code : "???";
}

/* The integer part with the language's grouping, written from the right. */
static void group_digits(const lang_rules *r, uint64_t v, char *out) {
  char digits[24];
  int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
  bool grouped = n >= r->min_grouping;
  size_t o = 0, glen = strlen(r->group);
  for (int i = 0; i < n; i++) {
    if (grouped && i > 0 && (n - i) % 3 == 0) {
      memcpy(out + o, r->group, glen);
      o += glen;
    }
    out[o++] = digits[i];
  }
  out[o] = '\0';
}

/* Bounded concatenation into a DN_LOCALE_BUF buffer (never reached: the
 * longest amount is 20 digits, 6 groups and a symbol). */
static void append(char *buf, size_t *o, const char *s) {
  size_t n = strlen(s);
  if (*o + n >= DN_LOCALE_BUF) n = DN_LOCALE_BUF - 1 - *o;
  memcpy(buf + *o, s, n);
  *o += n;
  buf[*o] = '\0';
}

void dn_locale_format_money(dn_lang l, int64_t minor, uint16_t cur, char *buf) {
  if ((unsigned)l >= DN_LANG_COUNT) l = DN_LANG_EN;
  const lang_rules *r = &rules[l];
  int digits = dn_currency_digits(cur);
  if (digits < 0 || digits > 9) digits = 0;
  /* Unsigned negation keeps INT64_MIN exact. */
  uint64_t mag = minor < 0 ? 0 - (uint64_t)minor : (uint64_t)minor;
  uint64_t scale = 1;
  for (int i = 0; i < digits; i++) scale *= 10;
  char whole[48], frac[32] = "";
  group_digits(r, mag / scale, whole);
  if (digits > 0) snprintf(frac, sizeof frac, "%s%0*llu", r->decimal, digits, (unsigned long long)(mag % scale));
  const char *sym = currency_symbol(l, cur);
  size_t o = 0;
  buf[0] = '\0';
  if (minor < 0) append(buf, &o, "-");
  if (r->symbol_first) {
    /* A letter symbol ("KWD") is kept off the digits, as CLDR's currency
     * spacing rule does; "$" and "€" touch them. */
    append(buf, &o, sym);
    if (isalpha((unsigned char)sym[strlen(sym) - 1])) append(buf, &o, NBSP);
    append(buf, &o, whole);
    append(buf, &o, frac);
  } else {
    append(buf, &o, whole);
    append(buf, &o, frac);
    append(buf, &o, NBSP);
    append(buf, &o, sym);
  }
}

void dn_locale_format_date(dn_lang l, dn_date d, char *buf) {
  if ((unsigned)l >= DN_LANG_COUNT) l = DN_LANG_EN;
  if (d == DN_DATE_NONE) {
    buf[0] = '\0';
    return;
  }
  int y, m, day;
  dn_date_to_ymd(d, &y, &m, &day);
  const char *month = rules[l].months[(m - 1) % 12];
  switch (l) {
  case DN_LANG_DE: snprintf(buf, DN_LOCALE_BUF, "%d. %s %d", day, month, y); break;
  case DN_LANG_FR: snprintf(buf, DN_LOCALE_BUF, "%d %s %d", day, month, y); break;
  case DN_LANG_ES: snprintf(buf, DN_LOCALE_BUF, "%d de %s de %d", day, month, y); break;
  default: snprintf(buf, DN_LOCALE_BUF, "%s %d, %d", month, day, y); break;
  }
}
