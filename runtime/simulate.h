/* simulate.h - replaying a policy day by day (`dunlin simulate`, `diff`).
 *
 * A simulation never writes the real ledger. It copies the ledger into an
 * in-memory database, removes this policy's actions dated on or after the
 * first simulated day (they are what the simulation replaces), then runs
 * the engine for each day D1..D2 and commits that day's actions to the
 * copy through the outbox, so they are history for the next day exactly as
 * a daily `run --commit` would make them. The ledger's own rows (payments,
 * disputes, promises, credits, invoices) take effect on the day they are
 * dated, because the facts reader only sees rows dated <= D.
 *
 * By default a customer is evaluated only on its "wake" days, the days
 * its output could differ from nothing (a ledger row of its own, a step
 * or due date reached, a record the day before, an fx date...; the rules
 * are in simulate.c and docs/simulate.md); the result is the same as
 * evaluating everyone every day (dn_sim_options.full), byte for byte.
 *
 * The library aggregates the totals people read (dn_sim_summary) and hands
 * every action to an optional callback; printing is the CLI's job. */
#ifndef DN_SIMULATE_H
#define DN_SIMULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lang/arena.h"
#include "lang/diag.h"
#include "lang/program.h"
#include "runtime/engine.h"
#include "runtime/ledger.h"
#include "stdlib/status.h"

typedef struct dn_sim_options {
  dn_date from, to;            /* inclusive; from <= to */
  void *const *extern_fns;     /* as dn_run_options.extern_fns */
  const struct dn_native *native; /* as dn_run_options.native */
  /* Every action of every day, in day order and then run order; a->as_of
   * is the simulated day. May be NULL. A failing callback stops the run. */
  dn_action_sink on_action;
  void *ctx;
  /* Evaluate every customer every day (the reference replay). By default
   * a customer is evaluated only on the days its output could differ from
   * doing nothing (docs/simulate.md, "Wake rules"); the two give the same
   * actions, byte for byte. */
  bool full;
  /* How the incremental replay reads the awake customers: AUTO from the
   * copy's rows decoded once into memory (dn_facts_store); KEYED and SCAN
   * from SQLite, each by id through the customer indexes or by streaming
   * the ledger and skipping the others (tests, benches). The output is
   * the same. */
  enum { DN_SIM_READ_AUTO, DN_SIM_READ_KEYED, DN_SIM_READ_SCAN } read;
} dn_sim_options;

/* A count under a name (a tone, a segment). */
typedef struct dn_sim_count {
  const char *name;
  int64_t n;
} dn_sim_count;

/* Scheduled actions by kind in the ISO week starting `monday`, by the
 * day they are scheduled for (the date of scheduled_at, local time). */
typedef struct dn_sim_week {
  dn_date monday;
  int64_t by_kind[DN_ACT_COUNT];
} dn_sim_week;

/* Scheduled calls of one assignee ("unassigned" when none), per scheduled
 * day: per_day[i] is the count on day first_day + i. */
typedef struct dn_sim_collector {
  const char *assignee;
  int64_t calls;
  dn_date first_day;
  int64_t *per_day;
  int32_t ndays;
} dn_sim_collector;

/* An invoice that reached the last step of an escalation, or got an
 * `escalate` action (invoice NULL for a customer-level one); the first day
 * it happened. */
typedef struct dn_sim_final {
  dn_date as_of;
  const char *customer, *invoice, *rule, *step;
  const char *target;          /* the escalate target, or NULL */
} dn_sim_final;

typedef struct dn_sim_key { uint64_t hi, lo; } dn_sim_key;

typedef struct dn_sim_summary {
  dn_arena arena;              /* every string below */
  dn_date from, to;
  int32_t days;
  int64_t customers;           /* seen on the last day */
  int64_t actions;             /* all records, any status */
  int64_t by_status[3];        /* scheduled, skipped, deferred */
  /* A contact a cap holds back is re-proposed, and recorded as deferred,
   * each day until it goes out: by_status counts those records, this the
   * distinct contacts behind them (by action key). */
  int64_t deferred_contacts;
  struct dn_sim_key *deferred_keys; size_t deferred_cap;
  int64_t by_kind[DN_ACT_COUNT][3];
  dn_sim_count *tones; int32_t ntones;       /* scheduled, by tone (first seen order) */
  dn_sim_count *segments; int32_t nsegments; /* scheduled, by segment ("none") */
  dn_sim_week *weeks; int32_t nweeks;        /* consecutive, from the first week */
  dn_sim_collector *collectors; int32_t ncollectors; /* sorted by assignee */
  dn_sim_final *finals; int32_t nfinals;     /* sorted by day, customer, invoice */
  int64_t errors;              /* data errors, summed over the days */
  /* How the replay ran: customer evaluations summed over the days (days x
   * customers for the full replay), and whether wake dates were used. */
  int64_t evaluated;
  /* Of those, the customers a new fx rate alone woke whose last
   * conditions trace held (docs/simulate.md): settled without a run. */
  int64_t settled;
  /* Of those, customers whose records of the day before, every one a
   * deferred contact, were issued again without a run (docs/simulate.md,
   * "Deferred again"). */
  int64_t replayed;
  bool incremental;
} dn_sim_summary;

/* Copies `source` into a new in-memory ledger and removes `p`'s actions
 * and runs dated on or after `from` from the copy. *out is closed with
 * dn_ledger_close; its path names the source, for diagnostics. */
dn_status dn_sim_copy_ledger(dn_ledger *source, const dn_program *p, dn_date from,
                             dn_ledger *out, dn_diags *diags);

/* Runs the simulation over a working copy made by dn_sim_copy_ledger
 * (which it changes: the simulated actions are committed to it; the
 * incremental replay also drops the indexes actions_customer and
 * actions_run, which only serve reads, and reads the copy from memory). Data
 * errors are appended to diags and counted in sum->errors; they do not
 * stop the run. sum is initialised here; free it with dn_sim_summary_free
 * even on failure. */
dn_status dn_simulate_on(const dn_program *p, dn_ledger *copy, const dn_sim_options *o,
                         dn_sim_summary *sum, dn_diags *diags);

/* dn_sim_copy_ledger + dn_simulate_on + close: the whole simulation. The
 * source may be opened read-only; it is only read. */
dn_status dn_simulate(const dn_program *p, dn_ledger *source, const dn_sim_options *o,
                      dn_sim_summary *sum, dn_diags *diags);

void dn_sim_summary_free(dn_sim_summary *s);

/* ---- collecting and comparing actions (diff) ------------------------------ */

/* Actions copied out of the engine (whose strings die after the sink
 * call): dn_action_list_add is a dn_action_sink. */
typedef struct dn_action_list {
  dn_arena arena;
  dn_action_rec *items;
  size_t n, cap;
} dn_action_list;

void dn_action_list_init(dn_action_list *l);
dn_status dn_action_list_add(void *list, const dn_action_rec *a);
void dn_action_list_free(dn_action_list *l);

/* The policy-independent identity of an action: (as_of, customer, kind,
 * rule, step, invoices, text). Keys hash the policy name, so two policies
 * never share one; this identity says "the same decision". */
int dn_action_identity_cmp(const dn_action_rec *a, const dn_action_rec *b);
/* Same identity and the same outcome: tone, template, scheduled_at,
 * priority, assignee and status (the reason and key are not compared). */
bool dn_action_same_outcome(const dn_action_rec *a, const dn_action_rec *b);

typedef enum dn_diff_kind {
  DN_DIFF_UNCHANGED, DN_DIFF_CHANGED, DN_DIFF_ADDED, DN_DIFF_REMOVED
} dn_diff_kind;

typedef struct dn_diff_entry {
  dn_diff_kind kind;
  const dn_action_rec *before; /* NULL when added */
  const dn_action_rec *after;  /* NULL when removed */
} dn_diff_entry;

/* Pairs the actions of two simulations by identity (equal identities pair
 * up in their run order). *out is malloc'd, in identity order, and points
 * into the lists; counts[k] counts the entries of kind k. */
dn_status dn_action_diff(const dn_action_list *before, const dn_action_list *after,
                         dn_diff_entry **out, size_t *n, size_t counts[4]);

#endif
