/* date.h - civil dates as day numbers, times of day, durations.
 *
 * A date is the count of days since 1970-01-01 in the proleptic Gregorian
 * calendar. Day numbers make "D - due_date" a subtraction and keep dates
 * out of struct tm, which is neither cheap nor free of locale and zone
 * surprises. DN_DATE_NONE stands for a missing date (no payment yet). */
#ifndef DN_DATE_H
#define DN_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int32_t dn_date;
#define DN_DATE_NONE INT32_MIN

/* Days since 1970-01-01 for a valid y-m-d; no validation. */
dn_date dn_date_from_ymd(int y, int m, int d);
void dn_date_to_ymd(dn_date d, int *y, int *m, int *day);
bool dn_date_valid_ymd(int y, int m, int d);
/* Parses exactly "YYYY-MM-DD" (len bytes). Returns false if malformed or
 * not a real calendar day (2026-02-30). */
bool dn_date_parse(const char *s, size_t len, dn_date *out);
/* Writes "YYYY-MM-DD" and a NUL into buf (at least 11 bytes). */
void dn_date_format(dn_date d, char *buf);
/* 0 = Monday ... 6 = Sunday (ISO 8601). */
int dn_date_weekday(dn_date d);
int dn_days_in_month(int y, int m);

#endif
