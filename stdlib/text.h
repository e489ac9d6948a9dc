/* text.h - small text routines several modules need and must agree on:
 * what counts as valid UTF-8, how far two names are apart for a "did
 * you mean", and printf into a fresh allocation. */
#ifndef DN_TEXT_H
#define DN_TEXT_H

#include <stdarg.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s[0..n), or 0 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF). For a
 * NUL-terminated string n may be SIZE_MAX: a NUL is never a continuation
 * byte, so the sequence ends there. */
size_t dn_utf8_seq(const unsigned char *s, size_t n);

/* Levenshtein distance, case-insensitive, where swapping two adjacent
 * letters counts as one edit (the commonest typo: `frim` for `firm`).
 * Names longer than 64 bytes are "far" (a large number). */
int dn_edit_distance(const char *a, const char *b);

/* The candidate nearest to name within max_edits, or NULL; the first
 * wins a tie, so callers list candidates in the order they prefer. */
const char *dn_closest(const char *name, const char *const *candidates, size_t n, int max_edits);

/* vsnprintf into malloc'd memory (C11 has no vasprintf); NULL when out
 * of memory or the format fails. */
char *dn_vformat(const char *fmt, va_list ap);

#endif
