/* trace.h - each customer's conditions trace, kept across simulate's days
 * for the fx check (docs/simulate.md, "A new fx rate").
 *
 * A run's path through a customer (LANGUAGE.md s.5) turns on the facts
 * the engine reads itself (which invoices are open, the history, days
 * past due against step offsets, the day's events) and on the results of
 * the decision chunks it evaluates: segment conditions, `unless` guards,
 * step and event guards, rule conditions. The trace is the second part,
 * in order: every (chunk, invoice, result) of one run, and where the
 * segment was chosen, but for the guards of that day's own events, which
 * never come back. A new fx rate changes only converted money, which the
 * engine reads only through chunks; so on a day nothing but a rate (no
 * event) wakes a customer, evaluating its last trace again on today's
 * facts and getting every result the same proves today's run would take
 * the path of its last one, whose records, if any, are done (engine.c,
 * run_traced). Internal to the runtime. */
#ifndef DN_RUNTIME_TRACE_H
#define DN_RUNTIME_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/engine.h"
#include "runtime/vm.h"

/* One chunk evaluated (chunk >= 0, inv: the invoice or -1, value: the
 * result as eval_bool read it), or the segment chosen (chunk
 * DN_TRACE_SEGMENT, inv: the segment index or -1 for none). */
typedef struct dn_trace_step {
  int32_t chunk, inv;
  bool value;
} dn_trace_step;

enum { DN_TRACE_SEGMENT = -1 };

/* A customer's trace, with the facts the engine read itself that a rate
 * could move: which invoices were open (a payment in another currency
 * than its invoice is converted at the day's rate). */
typedef struct dn_trace {
  dn_trace_step *steps;
  int32_t nsteps, cap;
  uint8_t *open; /* per invoice: 1 open */
  int32_t ninvoices, open_cap;
  bool valid;
  /* Kept from a run whose every record was a deferred contact, not from
   * one that made none: it can let simulate issue those records again
   * on a day a new rate wakes the customer (dn_run_options.replay), never
   * settle the customer as making none. */
  bool deferred;
} dn_trace;

/* The trace of store slot (1-based; c->store_slot), made empty and
 * invalid on first sight; NULL when out of memory. */
dn_trace *dn_trace_book_at(dn_trace_book *b, int32_t slot);

/* Starts fetching the traces of store slots next (its steps) and after
 * (the trace itself), 0 for none: see dn_facts_reader_upcoming. */
void dn_trace_book_prefetch(const dn_trace_book *b, int32_t next, int32_t after);

/* Recording one run: start empty, add each step, then keep it (with the
 * facts' open invoices) or drop it. False when out of memory (the trace
 * is then invalid). */
void dn_trace_start(dn_trace *t);
bool dn_trace_add(dn_trace *t, int32_t chunk, int32_t inv, bool value);
bool dn_trace_keep(dn_trace *t, const dn_customer_facts *c);

/* Whether the run of p on c today would take the path t recorded: the
 * same invoices open, no event, no amount the reader could not convert
 * or count, and every chunk of t, evaluated on vm in t's order with the
 * segment set where t chose it, giving t's result without an error.
 * Leaves c->segment as the run would. */
bool dn_trace_holds(const dn_trace *t, dn_vm *vm, const dn_program *p, dn_customer_facts *c);

#endif
