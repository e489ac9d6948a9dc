/* tz.h - UTC offsets from the system's tz database.
 *
 * Zone rules are never written by hand: a zone is loaded from its TZif
 * file under /usr/share/zoneinfo (or $TZDIR), parsed here without touching
 * the process-wide TZ variable, so two threads can use two zones. */
#ifndef DN_TZ_H
#define DN_TZ_H

#include <stdbool.h>
#include <stdint.h>
#include "stdlib/date.h"

typedef struct dn_zone dn_zone;

/* Loads "America/New_York"; NULL when the zone does not exist or the name
 * is unsafe (absolute, contains ".."). */
dn_zone *dn_zone_load(const char *name);
void dn_zone_free(dn_zone *z);
/* Offset from UTC in seconds for the local wall time `minute_of_day` on
 * date d. A time skipped by a DST jump takes the offset in force after the
 * jump; an ambiguous time takes the first (earlier) occurrence. */
int32_t dn_zone_offset_at_local(const dn_zone *z, dn_date d, int minute_of_day);
/* Writes RFC 3339 "2026-03-10T09:00:00-05:00" for local wall time
 * minute_of_day on d in zone z (buf >= 32 bytes). */
void dn_zone_format_local(const dn_zone *z, dn_date d, int minute_of_day, char *buf);

#endif
