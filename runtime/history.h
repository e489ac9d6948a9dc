/* history.h - a customer's action history as the engine consults it.
 *
 * The engine asks the history (LANGUAGE.md s.5): was this step emitted
 * for this invoice, when did this rule last fire, is a contact kind still
 * owed after a cap deferred it. A row may stand for several parts: a
 * consolidated record lists its parts' rules and steps comma-separated
 * ("dunning,over_limit", "15d,7d"), in the order of its invoice list. Rows
 * are split into (rule, step, invoice) parts sorted by (rule, step), so a
 * lookup is a binary search and a walk over one group, and each part
 * carries what the lookups test (its row's date and class) so the walk
 * never compares status strings or touches the rows.
 *
 * With a memo (dn_history_memo, engine.h), kept by a caller that runs day
 * after day on facts whose history only grows at its end and whose
 * strings stay in place (simulate over its row store), only the rows
 * added since the customer's last load are parsed and merged: the cost
 * follows the new records, not the whole history every day. Internal to
 * the runtime. */
#ifndef DN_RUNTIME_HISTORY_H
#define DN_RUNTIME_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "lang/arena.h"
#include "runtime/engine.h"
#include "runtime/facts.h"
#include "runtime/vec.h"

/* A part's (rule, step), kept once for a whole memo (or a dn_hist without
 * one) and named by index: a replay's millions of parts share a few dozen
 * of them, and a part without its own two pointers and two prefixes is
 * half the size. */
typedef struct dn_hist_name {
  const char *rule, *step;   /* NULL when the row has none */
  uint64_t rule8, step8;     /* their first 8 bytes, for comparing (history.c) */
} dn_hist_name;

typedef struct dn_hist_names {
  dn_hist_name *items;
  int32_t n, cap;
  int32_t *slots;            /* by content: index + 1, 0 for empty */
  size_t nslots;
  dn_arena arena;            /* their text */
} dn_hist_names;

typedef struct dn_hist_part {
  /* 32 bytes, two to a cache line (a year's replay keeps millions of
   * parts and binary searches them). Its kind is its row's
   * (rows[row].kind). */
  int32_t row;
  dn_date as_of;             /* its row's */
  unsigned name : 24;        /* its (rule, step): dn_hist_part_name */
  unsigned flags : 8;        /* its row's DN_HIST_* */
  /* -1: it applies to one invoice, u.inv; else to any of the ninvs
   * invoices u.invs lists (none: u.invs NULL). */
  signed int ninvs : 24;
  unsigned kind_id : 8;      /* its kind's dn_action_kind + 1; 0: none of them */
  union {
    const char *inv;
    const char **invs;
  } u;
  /* A bit per invoice it names (u.inv, or every one of u.invs), chosen by
   * the id's hash: a lookup for another invoice mostly fails on this
   * word without comparing ids. */
  uint64_t inv_bits;
} dn_hist_part;

/* The one invoice a part applies to (its own, or the only one it lists);
 * NULL when none or several. */
static inline const char *dn_hist_part_invoice(const dn_hist_part *hp) {
  return hp->ninvs < 0 ? hp->u.inv : hp->ninvs == 1 ? hp->u.invs[0] : NULL;
}

/* The last groups looked up, by the query's own pointers: the engine
 * asks the same (rule, step) for every open invoice, and day after day,
 * with the program's strings, so most lookups skip the binary searches
 * (whose probes into a long history are cache misses in a replay of
 * 100k customers). */
typedef struct dn_hist_groups {
  struct { const char *rule, *step; int32_t lo, hi; } g[8];
  int n, next;
} dn_hist_groups;

/* One customer's history, loaded: its rows as the facts hold them, each
 * row's DN_HIST_* class, and the sorted parts. Valid until the next load. */
typedef struct dn_hist {
  const dn_history_fact *rows;
  int32_t nrows;
  const uint8_t *flags;
  const dn_hist_part *parts;
  int32_t nparts;
  /* Without a memo: the parts and classes of the current customer. */
  VEC(dn_hist_part) own;
  VEC(uint8_t) own_flags;
  /* The groups looked up (see dn_hist_groups): the memo entry's, kept
   * from day to day while the customer's parts do not change, or own. */
  dn_hist_groups *gc;
  dn_hist_groups own_gc;
  /* The parts' names: the memo's, or own (kept from customer to
   * customer). */
  dn_hist_names *names;
  dn_hist_names own_names;
  /* Why the last load failed when it was not for memory: a history
   * holding more than a part can name or count; "" otherwise. */
  char too_large[128];
} dn_hist;

/* The (rule, step) of part hp of h. */
static inline const dn_hist_name *dn_hist_part_name(const dn_hist *h, const dn_hist_part *hp) {
  return &h->names->items[hp->name];
}

/* Loads c's history into h (memo: NULL or the caller's); merge buffers
 * and, without a memo, split strings go to scratch. False when out of
 * memory or, with h->too_large set, when the history holds more than a
 * part can (a memo's entry then stays as it was). */
bool dn_hist_load(dn_hist *h, const dn_customer_facts *c, dn_history_memo *memo,
                  dn_arena *scratch);
void dn_hist_free(dn_hist *h);

/* Starts fetching the memo's state of the customers at store slots next
 * (its parts) and after (its entry), 0 for none: see
 * dn_facts_reader_upcoming. */
void dn_hist_prefetch(const dn_history_memo *m, int32_t next, int32_t after);

/* Whether two parts of h have the same (rule, step). */
bool dn_hist_same_key(const dn_hist *h, const dn_hist_part *a, const dn_hist_part *b);

/* The latest row of `rule` (and step, and invoice, when given) with a
 * status that counts (scheduled, skipped, sent); -1 when none. */
int32_t dn_hist_find(dn_hist *h, const char *rule, const char *step, const char *inv);
/* Whether a row of (rule, step, invoice; NULL: any) of this action kind
 * was deferred (`deferred`) or counts. */
bool dn_hist_has_kind(dn_hist *h, const char *rule, const char *step, const char *inv,
                      const char *kind, bool deferred);
/* Whether a contact of this kind is still owed for (rule, step, invoice;
 * NULL: any): a row of it was deferred and none counts. One walk for
 * has_kind(deferred) && !has_kind(counting). */
bool dn_hist_owed(dn_hist *h, const char *rule, const char *step, const char *inv,
                  const char *kind);
/* The latest as_of of such a row of `rule`, any step; DN_DATE_NONE if none. */
dn_date dn_hist_last_kind(dn_hist *h, const char *rule, const char *inv, const char *kind,
                          bool deferred);
/* The parts [*lo, *hi) whose rule starts with prefix (at most 15 bytes;
 * the engine's "on "): a binary search, not a walk of the history. */
void dn_hist_rule_prefix(const dn_hist *h, const char *prefix, int32_t *lo, int32_t *hi);
/* The day, after as_of, on which the count of contacts that went out
 * within `cap`'s window (as dn_hist_count_contacts counts them, with
 * `admitted` more that go out on as_of) first falls below its limit, the
 * history staying as it is until then. */
dn_date dn_hist_cap_frees(const dn_hist *h, dn_date as_of, const dn_cap_def *cap,
                          int32_t admitted);

/* Per cap k of caps[0..n): the contacts that went out (scheduled or
 * sent) on as_of - caps[k].days < day <= as_of, added to counts[k]. */
void dn_hist_count_contacts(const dn_hist *h, dn_date as_of, const dn_cap_def *caps, uint32_t n,
                            int32_t *counts);

#endif
