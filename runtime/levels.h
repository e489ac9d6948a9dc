/* levels.h - each open invoice's dunning level as of a date: the engine's
 * decisions (dn_engine_session_decide) turned into one row per open
 * invoice and escalation, for `dunlin levels` and `GET /v1/levels`.
 * docs/levels.md describes the fields. */
#ifndef DN_LEVELS_H
#define DN_LEVELS_H

#include <stdint.h>

#include "lang/diag.h"
#include "lang/program.h"
#include "runtime/engine.h"
#include "runtime/ledger.h"

typedef struct dn_level_row {
  const char *customer, *invoice;
  const char *segment;     /* NULL when no segment matched */
  const char *escalation;  /* NULL when none applies to the segment */
  int32_t escalation_index, step_index; /* into the program's tables, or DN_NONE */
  const char *status;      /* "due", "none", "paused" or "error" */
  const char *step;        /* "15d", "3bd", "-3d", or NULL */
  const char *tone;        /* NULL when the step names none or none is due */
  int32_t days_past_due;
  int64_t balance;         /* minor units of `currency`, the invoice's own */
  uint16_t currency;
  const char *rules;       /* rules firing for the invoice or its customer,
                              comma-separated; "" when none */
  dn_date as_of;
} dn_level_row;

/* Strings are valid during the call only. A non-OK status stops the run. */
typedef dn_status (*dn_level_sink)(void *ctx, const dn_level_row *r);

/* Decides every customer of the ledger (or o->only_customer) as of
 * o->as_of and hands each open invoice's rows to the sink, in customer
 * then invoice order. Options and errors as for dn_engine_run (its
 * on_decision is used here and must be unset); an only_customer the
 * ledger does not hold is DN_ERR_INPUT with E0506. */
dn_status dn_levels_run(const dn_program *p, dn_ledger *l, const dn_run_options *o,
                        dn_level_sink sink, void *ctx, dn_run_stats *stats, dn_diags *diags);

struct json_t; /* jansson's */
/* A row as a JSON object in docs/levels.md's field order (a new reference,
 * NULL on out of memory); `rules` is an array there. */
struct json_t *dn_level_row_json(const dn_level_row *r);

#endif
