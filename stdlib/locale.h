/* locale.h - money and dates written the way a customer reads them.
 *
 * Four languages (English, German, French, Spanish) following CLDR's
 * conventions for the plain language (en = en-US), with exact integer
 * formatting of money from minor units: an amount is never a double on
 * its way into a customer's message. docs/templates.md lists the exact
 * separators, symbols and patterns. */
#ifndef DN_LOCALE_H
#define DN_LOCALE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stdlib/date.h"

typedef enum dn_lang { DN_LANG_EN, DN_LANG_DE, DN_LANG_FR, DN_LANG_ES, DN_LANG_COUNT } dn_lang;

/* The language of a BCP 47 tag by its primary subtag, case-insensitive
 * ("de-AT", "de_at", "DE" -> German). False (and English) when the tag is
 * empty, NULL or a language without a formatter. */
bool dn_lang_parse(const char *tag, dn_lang *out);
const char *dn_lang_code(dn_lang l); /* "en", "de", "fr", "es" */

/* Buffers of this size always hold a formatted amount or date. */
#define DN_LOCALE_BUF 64

/* "$1,234.56" (en), "1.234,56 €" (de), "1 234,56 €" (fr, narrow no-break
 * space grouping), "1234,56 €" (es: no grouping below five digits), with
 * the currency's own decimals (JPY none, KWD three). Negative amounts get
 * a leading '-'. buf holds at least DN_LOCALE_BUF bytes. */
void dn_locale_format_money(dn_lang l, int64_t minor, uint16_t cur, char *buf);
/* "March 10, 2026", "10. März 2026", "10 mars 2026", "10 de marzo de
 * 2026"; "" for DN_DATE_NONE. buf holds at least DN_LOCALE_BUF bytes. */
void dn_locale_format_date(dn_lang l, dn_date d, char *buf);

#endif
