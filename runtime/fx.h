/* fx.h - currency conversion through a ledger's fx_rates as of a date.
 *
 * One rule for every command that converts ledger money (run through the
 * facts reader, kpi): LEDGER.md's latest row dated <= D, the inverse pair
 * only where only it is given, and, where the ledger quotes both
 * currencies only against a third, the cross rate through that pivot
 * (alphabetically first candidate). Results are exact with one half-even
 * rounding (stdlib/money.h). Lookups are cached per dn_fx. */
#ifndef DN_RUNTIME_FX_H
#define DN_RUNTIME_FX_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "lang/diag.h"
#include "stdlib/date.h"
#include "stdlib/status.h"

typedef struct dn_fx dn_fx;

/* Prepares the rate queries on db as of as_of. A failure is E0502
 * naming ledger_name (the ledger lacks the table or is corrupt). */
dn_status dn_fx_open(sqlite3 *db, const char *ledger_name, dn_date as_of, dn_fx **out,
                     dn_diags *diags);
void dn_fx_close(dn_fx *fx);

/* minor units of `from` -> minor units of `to`; false when no rate (or
 * no cross rate) exists as of the date, or on overflow. Same currency is
 * the identity. */
bool dn_fx_convert(dn_fx *fx, int64_t minor, uint16_t from, uint16_t to, int64_t *out);

#endif
