/* redefer.h - simulate's book of deferred contacts to issue again.
 *
 * Under contact caps most of a replay's records are contacts deferred
 * again and again: a customer whose every record of day D-1 was deferred,
 * and whose facts, step days, `once per` windows and cap counts do not
 * move on day D, would be run on D only to make the same records with the
 * day's date (docs/simulate.md, "Deferred again"). The book keeps each
 * customer's records of the day before, copied, so the engine can issue
 * them again (dn_run_options.replay) instead of running the customer. It
 * knows which records can be issued again; simulate.c knows which days.
 * Internal to the runtime. */
#ifndef DN_RUNTIME_REDEFER_H
#define DN_RUNTIME_REDEFER_H

#include <stdbool.h>
#include <stddef.h>

#include "lang/program.h"
#include "runtime/engine.h"

typedef struct dn_redefer dn_redefer;

/* A book for `ncustomers` customers (indices 0..n-1) of program p; NULL
 * when out of memory. */
dn_redefer *dn_redefer_new(const dn_program *p, size_t ncustomers);
void dn_redefer_free(dn_redefer *b);

/* Starts day `day`: the copies of day - 2 are let go. */
void dn_redefer_day(dn_redefer *b, dn_date day);

/* A record of the customer being run, noted while every record of it so
 * far can be issued again (deferred, of escalation steps and `on` events:
 * a condition rule's key holds the day); it must stay valid until
 * dn_redefer_close, as the engine's do until on_customer returns. */
void dn_redefer_add(dn_redefer *b, const dn_action_rec *a);

/* With `on`, records of steps and events that are not deferred are left
 * out instead of making the customer's records not kept: they count in
 * the history from the next day, so a run would not propose them again.
 * Only for a policy whose decisions do not read the history's facts
 * (simulate.c, every_record_wakes); the caps' free day then counts them
 * (dn_customer_facts.deferred_until). */
void dn_redefer_drop_done(dn_redefer *b, bool on);

/* The customer being run (index idx) is done: with `keep`, copies of its
 * records are its entry for the next day, if there were any and every one
 * could be issued again; otherwise it has none. */
void dn_redefer_close(dn_redefer *b, int32_t idx, bool keep);

/* Customer idx's records of day - 1 (*n of them), or NULL. */
const dn_action_rec *dn_redefer_get(const dn_redefer *b, int32_t idx, dn_date day, int32_t *n);

#endif
