/* calendar.h - business days: weekends plus public holidays.
 *
 * Built-in calendars (US, GB, DE, FR) compute their holidays from rules,
 * including the observance rules that move a holiday falling on a weekend.
 * A ledger may add days (its holidays table), and a company calendar may
 * exist only in the ledger; dn_calendar_add_holiday covers both. */
#ifndef DN_CALENDAR_H
#define DN_CALENDAR_H

#include <stdbool.h>
#include "stdlib/date.h"

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
/* Business days in (from, to]; negative when to < from. */
int dn_calendar_business_days_between(const dn_calendar *cal, dn_date from, dn_date to);
/* d moved by n business days (n may be negative). */
dn_date dn_calendar_add_business_days(const dn_calendar *cal, dn_date d, int n);

#endif
