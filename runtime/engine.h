/* engine.h - a run: the semantics of LANGUAGE.md s.5.
 *
 * For each customer in id order (streamed from the ledger), computes the
 * segment, escalation steps with catch-up, events, rules, tones,
 * consolidation, caps and schedule, and hands each resulting action to a
 * sink in the output order of LEDGER.md (customer id, scheduled_at, key).
 * The engine never writes to the ledger; outbox.c does, from the sink. */
#ifndef DN_ENGINE_H
#define DN_ENGINE_H

#include <stdbool.h>
#include <stdio.h>

#include "lang/diag.h"
#include "lang/program.h"
#include "runtime/facts.h"
#include "runtime/ledger.h"
#include "stdlib/calendar.h"
#include "stdlib/status.h"

typedef enum dn_action_status {
  DN_STATUS_SCHEDULED, DN_STATUS_SKIPPED, DN_STATUS_DEFERRED
} dn_action_status;

/* Where a reason says how many days past due an invoice is (" 9 days
 * past due", from its leading space to "due"): bytes [at, at + len) of
 * the reason, about facts invoice `invoice`. Simulate's replay (runtime/
 * simulate.c) writes the same reason for a later day from them. */
typedef struct dn_reason_span {
  int32_t at, len, invoice;
} dn_reason_span;

/* One action record (LEDGER.md "The action record"). Strings are owned by
 * the engine and valid only during the sink call; in a ledger run with
 * on_customer, the record and its strings stay valid until the
 * on_customer call of its customer returns (simulate's replay keeps the
 * records of some customers, runtime/redefer.h). */
typedef struct dn_action_rec {
  char key[33];              /* 128-bit hash of the idempotency key, hex */
  const char *customer;
  const char **invoices; int ninvoices;
  dn_action_kind kind;
  const char *tone;          /* NULL for non-contacts without a tone */
  const char *template_name; /* NULL for non-contacts */
  char scheduled_at[32];     /* RFC 3339 with offset */
  const char *rule;          /* escalation, rule name, or "on EVENT" */
  const char *step;          /* "15d", "3bd", "-3d", event id, or NULL */
  bool has_priority;
  double priority;           /* in policy currency units when money */
  const char *assignee;      /* NULL when none */
  dn_action_status status;
  const char *reason;
  const char *text;          /* task text / escalate target, or NULL */
  dn_date as_of;
  const char *segment;       /* the customer's segment on as_of, or NULL (simulate's totals) */
  /* The customer's facts, valid during the sink call (render.c writes
   * the message from them); NULL when a record is built elsewhere. */
  const dn_customer_facts *facts;
  const dn_reason_span *spans; /* in reason, ascending; NULL when none */
  int32_t nspans;
  /* Issued again by dn_run_options.replay: yesterday's deferred record
   * with only its dates moved, so its key is one the same sink was
   * handed yesterday (simulate skips looking it up). */
  bool reissued;
} dn_action_rec;

typedef dn_status (*dn_action_sink)(void *ctx, const dn_action_rec *a);

/* What explain prints: one line per decision (segment chosen, step taken
 * or not and why, guard values, caps). */
typedef void (*dn_explain_sink)(void *ctx, const char *customer, const char *invoice,
                                const char *line);

/* The decisions of a run without its records: which segment the customer
 * is in, which step of which escalation is due for each open invoice (with
 * the step's tone on the customer's ladder), and which condition rules fire.
 * The same code as a run decides them (segment, unless guards, step
 * offsets and `when` guards, `once per` against the history), so they agree
 * with the records a run would make; what a run adds on top (catch-up
 * records, events, consolidation, caps, schedule, keys, reasons) is left
 * out. For callers that need the dunning level of millions of invoices,
 * not the actions (a benchmark, a report, a quick screen). */
/* One per open invoice and escalation that applies to the customer's
 * segment. */
typedef struct dn_step_decision {
  int32_t escalation;        /* index into program->escalations */
  int32_t invoice;           /* index into the customer's invoices */
  int32_t step;              /* index into program->steps: the step due; DN_NONE
                                when no step is due or the ladder is paused */
  int32_t tone;              /* the tone the step's first contact goes out in (rank on
                                the customer's ladder, the segment's shift applied);
                                -1 when the step makes no contact */
  bool paused;               /* the escalation's `unless` guard holds */
  bool error;                /* a runtime error skipped the invoice (a diagnostic
                                says why): no step */
} dn_step_decision;

typedef struct dn_rule_decision {
  int32_t rule;              /* index into program->rules */
  int32_t invoice;           /* index into the invoices, -1 for a customer rule */
} dn_rule_decision;

typedef struct dn_decision {
  int32_t segment;           /* index into program->segments, DN_NONE for none */
  bool skipped;              /* the customer was skipped: a diagnostic says why */
  const dn_step_decision *steps; int32_t nsteps;  /* in escalation, invoice order */
  const dn_rule_decision *rules; int32_t nrules;  /* in rule, invoice order */
} dn_decision;

/* What a new fx rate does to a customer of simulate's replay (see
 * dn_run_options.traces). */
typedef enum dn_fx_wake {
  DN_FX_WAKE_NEVER, /* no rate wakes it: no trace is recorded */
  DN_FX_WAKE_CAN,   /* a rate can wake it, but other reasons did today */
  DN_FX_WAKE_ONLY   /* a new rate alone woke it today */
} dn_fx_wake;

typedef struct dn_run_options {
  dn_date as_of;
  const char *only_customer;  /* explain / decide one customer, or NULL */
  const char *only_invoice;   /* explain one invoice, or NULL */
  dn_explain_sink explain; void *explain_ctx;
  /* Resolved `extern fn` pointers, one per program->externs entry (the
   * caller loads the allowed libraries), or NULL when there are none. */
  void *const *extern_fns;
  /* The program's chunks compiled to machine code (runtime/native.h,
   * `dunlin compile --native`), or NULL to interpret them. */
  const struct dn_native *native;
  /* Only these customers, sorted by id in byte order (simulate's awake
   * set), or NULL for all; ignored when only_customer is set. */
  const char *const *only_customers; size_t nonly_customers;
  bool only_customers_scan;   /* stream and skip (a dense set) */
  /* Called after each customer is processed, its facts still valid
   * (simulate computes the next day it must look at it again); not for
   * one the fx check settled (nothing it decides on moved, so neither did
   * that day). */
  void (*on_customer)(void *ctx, const dn_customer_facts *c);
  void *on_customer_ctx;
  /* dn_calendar_new(program->calendar) built once by a caller that runs
   * often (a decider), or NULL: the run clones it instead of computing
   * the rule holidays again, then adds the ledger's holidays to its copy
   * as usual. It must be the calendar of the program's `calendar`. */
  const dn_calendar *calendar_base;
  /* Statements of the facts reader kept by a caller that runs often on
   * one ledger (runtime/facts_reader.h), or NULL to prepare them per run;
   * used for only_customer and whole-ledger runs, not only_customers. */
  struct dn_facts_cache *facts_cache;
  /* Set: the run only decides (`dunlin levels`): each customer's
   * decisions (see dn_engine_session_decide) go here, no action record is
   * made and the action sink is not called. A non-OK status stops the run. */
  dn_status (*on_decision)(void *ctx, const dn_customer_facts *c, const dn_decision *d);
  void *on_decision_ctx;
  /* Customers' parsed action history kept from one run to the next by a
   * caller that runs day after day on facts whose history only grows at
   * its end and whose strings stay in place (simulate reading from its
   * row store), or NULL. A customer whose history is not the one seen
   * before is parsed again from scratch. */
  struct dn_history_memo *history_memo;
  /* The fx check (simulate, docs/simulate.md "A new fx rate"; runtime/
   * trace.h): with a book, the run of each store-read customer that
   * fx_wake(fx_wake_ctx, c) says a new rate can wake keeps its conditions
   * trace when it made no diagnostic and no record or only scheduled and
   * skipped ones (the day's own events stay out of it, and with them no
   * contact may be deferred), and forgets it otherwise. A
   * customer that a new rate alone woke today (DN_FX_WAKE_ONLY) first has
   * that trace evaluated again on its facts: every result the same, it
   * would take the path of that last run, whose records (if any) are
   * done, so it is settled without running (stats->settled). NULL: every
   * customer is run. */
  struct dn_trace_book *traces;
  dn_fx_wake (*fx_wake)(void *ctx, const dn_customer_facts *c);
  void *fx_wake_ctx;
  /* Simulate's replay (docs/simulate.md "Deferred again"), or NULL: asked
   * for each customer read; an answer of *n records (the customer's of
   * the day before, every one deferred, with their spans) is issued again
   * as of this day instead of running the customer: the same records
   * with this day's as_of, scheduled_at and days past due in the reasons
   * (stats->replayed). The caller answers only when the run would make
   * exactly those, but for a new fx rate (*rated): then they are issued
   * again only when the customer's conditions trace, kept from the run
   * that made them (traces), holds on today's facts; otherwise, and on
   * NULL, the customer is run. */
  const dn_action_rec *(*replay)(void *ctx, const dn_customer_facts *c, int32_t *n, bool *rated);
  void *replay_ctx;
} dn_run_options;

typedef struct dn_history_memo dn_history_memo;
dn_history_memo *dn_history_memo_new(void);
void dn_history_memo_free(dn_history_memo *m);

typedef struct dn_trace_book dn_trace_book;
dn_trace_book *dn_trace_book_new(void);
void dn_trace_book_free(dn_trace_book *b);

typedef struct dn_run_stats {
  int64_t customers, invoices, actions, errors;
  int64_t settled;  /* customers settled by the fx check, not run */
  int64_t replayed; /* customers whose deferred records were issued again, not run */
} dn_run_stats;

/* Runs `p` against ledger `l`. Per-invoice and per-customer data errors
 * (a missing fx rate) are appended to diags and counted in stats->errors;
 * they do not stop the run. A failing sink or a ledger error does. */
dn_status dn_engine_run(const dn_program *p, dn_ledger *l, const dn_run_options *o,
                        dn_action_sink sink, void *sink_ctx, dn_run_stats *stats,
                        dn_diags *diags);

/* Runs `p` for one customer whose facts are already in memory (the
 * decide path, policy tests): same semantics, no ledger. */
dn_status dn_engine_run_customer(const dn_program *p, dn_customer_facts *c,
                                 const dn_run_options *o, dn_action_sink sink,
                                 void *sink_ctx, dn_diags *diags);

/* The same for many customers in a row (a decision service, a benchmark):
 * set up once with the options (as_of, extern_fns), then one call per
 * customer. Not for concurrent use: one session per thread. */
typedef struct dn_engine_session dn_engine_session;
dn_status dn_engine_session_open(const dn_program *p, const dn_run_options *o,
                                 dn_engine_session **out, dn_diags *diags);
dn_status dn_engine_session_run(dn_engine_session *s, dn_customer_facts *c,
                                dn_action_sink sink, void *sink_ctx, dn_diags *diags);
void dn_engine_session_close(dn_engine_session *s);

/* Decides one customer. The arrays are the session's, valid until its next
 * call. A runtime error in an invoice's guard marks its entry `error` (a
 * diagnostic says why); one in the segment or a customer rule skips the
 * customer. */
dn_status dn_engine_session_decide(dn_engine_session *s, dn_customer_facts *c,
                                   dn_decision *out, dn_diags *diags);

const char *dn_action_status_name(dn_action_status s);

#endif
