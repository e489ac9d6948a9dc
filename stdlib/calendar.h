/* calendar.h - business days: weekends plus public holidays.
 *
 * Built-in calendars (US, GB, DE, FR) compute their holidays from rules,
 * including the observance rules that move a holiday falling on a weekend.
 * A ledger may add days (its holidays table), and a company calendar may
 * exist only in the ledger; dn_calendar_add_holiday covers both. */
#ifndef DN_CALENDAR_H
#define DN_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>
#include "stdlib/date.h"

/* 0001-01-01 and 9999-12-31 as dn_date (test_calendar checks them). */
enum { DN_CAL_MIN = -719162, DN_CAL_MAX = 2932896 };

typedef struct dn_calendar dn_calendar;

/* True when `name` is a calendar this build knows by rule. */
bool dn_calendar_is_builtin(const char *name);
/* Creates a calendar; a name that is not built in gives weekends only
 * (plus whatever dn_calendar_add_holiday adds). NULL on out of memory. */
dn_calendar *dn_calendar_new(const char *name);
void dn_calendar_free(dn_calendar *cal);
/* An independent copy of `cal` (rule days and added days): a caller that
 * runs often builds the rule-generated base once and clones it per run,
 * adding that run's ledger holidays to the clone. NULL on out of memory. */
dn_calendar *dn_calendar_clone(const dn_calendar *cal);
/* Adds a holiday (from the ledger's holidays table). false on OOM. */
bool dn_calendar_add_holiday(dn_calendar *cal, dn_date d);
bool dn_calendar_is_holiday(const dn_calendar *cal, dn_date d);
bool dn_calendar_is_business_day(const dn_calendar *cal, dn_date d);
/* The first business day on or after d. */
dn_date dn_calendar_next_business_day(const dn_calendar *cal, dn_date d);
/* Business days in (from, to]; negative when to < from. Holidays are
 * known for years 1 to 9999 (DN_CAL_MIN..DN_CAL_MAX): outside them only
 * weekends are days off. Counted, not walked: any span takes about the
 * same time within the built-in calendars' years 1901 to 2199, a year's
 * rules per year outside them. */
int64_t dn_calendar_business_days_between(const dn_calendar *cal, dn_date from, dn_date to);
/* d moved by n business days (n may be negative); DN_DATE_NONE when the
 * result would leave years 1 to 9999. */
dn_date dn_calendar_add_business_days(const dn_calendar *cal, dn_date d, int n);

#endif
