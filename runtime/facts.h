/* facts.h - what the policy can see about one customer as of date D.
 *
 * Built by the ledger reader (runtime/facts.c) one customer at a time, so
 * memory stays flat however many customers the ledger holds; read by the
 * VM through dn_fact_get and by the engine for events, history and caps.
 * All strings are owned by the dn_customer_facts' arena and die with it.
 * Money fields named *_p are in the policy currency; the others are in the
 * invoice's own currency. */
#ifndef DN_FACTS_H
#define DN_FACTS_H

#include <stdbool.h>
#include <stdint.h>

#include "lang/arena.h"
#include "lang/ast.h"
#include "runtime/value.h"
#include "stdlib/date.h"
#include "stdlib/money.h"

typedef struct dn_invoice_facts {
  const char *id, *number;
  int64_t amount, balance, paid;       /* minor units, invoice currency */
  /* The same converted to the policy currency, in its minor units: its
   * code is the program's, so not kept per amount (with it, 112 bytes an
   * invoice, not 88; evaluation reads them all, bench/RESULTS.md eval). */
  int64_t amount_p, balance_p, paid_p;
  dn_date issue_date, due_date, last_payment_date; /* NONE when no payment */
  int32_t days_past_due;
  uint16_t currency;
  bool open, disputed, promise_active;
  bool fx_missing;                     /* no rate: the invoice is skipped */
} dn_invoice_facts;

/* An event dated D (LANGUAGE.md s.5 step 4). `id` is the ledger row id
 * that makes the event unique (payment id, dispute id, promise id, invoice
 * id), used in the action key so each event fires once. */
typedef struct dn_event_fact {
  dn_event_kind kind;
  const char *id;
  int32_t invoice;   /* index into invoices, or -1 when about the customer */
} dn_event_fact;

/* A row of the customer's action history (the outbox) of this policy dated
 * before D (facts.c: re-running a date must reproduce its actions). A
 * customer's rows come in the order of their as_of text, then key: rows
 * with a well-formed date (as_of not DN_DATE_NONE) are thus in date order,
 * which lets a reader of recent rows walk back from the end. */
typedef struct dn_history_fact {
  const char *key, *rule, *step, *kind, *tone, *status;
  const char *invoice_ids;  /* JSON array text as stored */
  dn_date as_of;
} dn_history_fact;

/* A history row's class, from its kind and status: what caps, `once per`
 * and the retries of deferred contacts ask of it. */
enum {
  DN_HIST_CONTACT = 1,  /* kind email, sms, letter or call */
  DN_HIST_WENT_OUT = 2, /* status scheduled or sent */
  DN_HIST_COUNTS = 4,   /* status scheduled, skipped or sent: the step is done */
  DN_HIST_DEFERRED = 8, /* status deferred */
};
uint8_t dn_history_classify(const char *kind, const char *status);

typedef struct dn_customer_facts {
  dn_arena arena;
  const char *id, *name, *tier, *country, *timezone, *language, *attrs_json;
  dn_money credit_limit_p;
  double risk_score;
  dn_money total_open_p, total_overdue_p;
  int32_t open_invoices, overdue_invoices, oldest_days_past_due;
  double avg_days_late, on_time_ratio;
  bool promise_active;
  dn_date last_contact_date;
  const char *last_tone;   /* tone name of the latest contact, or NULL */
  const char *segment;     /* set by the engine after segmentation */
  /* Set by a run whose every contact a cap deferred: the first day after
   * D on which the cap that deferred them (the first full one) may let
   * one through, its count of contacts that went out falling as they age
   * out of its window, so that another cap or none decides; DN_DATE_NONE
   * otherwise (simulate's replay, runtime/redefer.h). */
  dn_date deferred_until;
  dn_invoice_facts *invoices; int32_t ninvoices;
  dn_event_fact *events; int32_t nevents;
  dn_history_fact *history; int32_t nhistory;
  /* Each history row's dn_history_classify, when the reader has it (a
   * row store classifies a row once, when it is added); else NULL. */
  const uint8_t *history_flags;
  /* No fx rate for the credit limit's currency: the engine reports E0501
   * and skips the customer (never a silent guess). */
  bool fx_missing;
  const char *fx_from; /* the currency code lacking a rate, when fx_missing */
  /* Amounts beyond int64 when added up (a ledger written by another tool;
   * import caps amounts at 10^15): the engine reports E0506, skips it. */
  bool overflow;
  /* Read from a row store (simulate): 1 + the customer's index there,
   * stable for the store's life, so per-customer state can be found
   * without hashing its id; 0 otherwise. */
  int32_t store_slot;
} dn_customer_facts;

#endif
