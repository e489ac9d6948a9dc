/* facts_reader.h - the streaming reader of runtime/facts.c.
 *
 * Yields the ledger's customers in id order, each as a filled
 * dn_customer_facts as of D, by merging a handful of statements that are
 * all ordered by customer id (a merge join), so a run reads the ledger
 * once and memory follows the largest customer, not the ledger.
 * The reader also owns the run's fx cache (used by the VM for literals in
 * other currencies) and loads ledger holidays into a calendar. */
#ifndef DN_FACTS_READER_H
#define DN_FACTS_READER_H

#include <stdbool.h>

#include "lang/diag.h"
#include "lang/program.h"
#include "runtime/facts.h"
#include "runtime/ledger.h"
#include "stdlib/calendar.h"
#include "stdlib/status.h"

typedef struct dn_facts_reader dn_facts_reader;

/* Prepares the statements. only_customer (may be NULL) restricts the
 * stream to one customer. Ledger errors are E0502 naming the ledger. */
dn_status dn_facts_reader_open(dn_ledger *l, const dn_program *p, dn_date as_of,
                               const char *only_customer, dn_facts_reader **out,
                               dn_diags *diags);
/* The same facts for a chosen set of customers only, ids sorted by byte
 * order (as the reader's ORDER BY id); ids not in the ledger are passed
 * over; `ids` must outlive the reader. scan false: each customer is read
 * through the ledger's customer indexes, so the cost follows the set, not
 * the ledger. scan true: the streams of dn_facts_reader_open, skipping the
 * customers not listed, cheaper when the set is a large part of the
 * ledger. */
dn_status dn_facts_reader_open_set(dn_ledger *l, const dn_program *p, dn_date as_of,
                                   const char *const *ids, size_t nids, bool scan,
                                   dn_facts_reader **out, dn_diags *diags);
void dn_facts_reader_close(dn_facts_reader *r);

/* Prepared statements kept for the readers of one ledger connection, one
 * reader at a time (a decider's scratch ledger: one customer per request).
 * dn_facts_reader_open_cached is dn_facts_reader_open whose reader borrows
 * them instead of preparing its own, and gives them back reset on close.
 * Free the cache before closing its ledger; it follows the ledger it is
 * used with (moved to another one, it starts over). */
typedef struct dn_facts_cache dn_facts_cache;
dn_facts_cache *dn_facts_cache_new(void);
void dn_facts_cache_free(dn_facts_cache *c);
dn_status dn_facts_reader_open_cached(dn_ledger *l, dn_facts_cache *cache, const dn_program *p,
                                      dn_date as_of, const char *only_customer,
                                      dn_facts_reader **out, dn_diags *diags);

/* A ledger's rows decoded once and kept in memory, for a caller that reads
 * the same customers of one unchanging ledger again and again as of
 * successive dates (simulate's working copy). Attached as l->store, it is
 * what every reader of l reads instead of SQLite (but those of a
 * dn_facts_cache), giving the same facts; the policy's action history in
 * it, and the keys of the actions table, are kept up to date by the
 * outbox (dn_facts_store_add_history), the only writer of l while it is
 * attached. */
typedef struct dn_facts_store dn_facts_store;
dn_status dn_facts_store_load(dn_ledger *l, const dn_program *p, dn_facts_store **out,
                              dn_diags *diags);
/* A row inserted into l's actions table: v is key, rule, step, kind,
 * tone, status, invoice_ids (invoice_ids_len bytes, not NUL-terminated),
 * as_of, as bound (NULL for NULL); customer NULL for a row no reader
 * selects (another policy's), whose key only is kept. false when out of
 * memory. */
bool dn_facts_store_add_history(dn_facts_store *s, const char *customer, const char *const v[8],
                                size_t invoice_ids_len);
/* The store's own copy of customer id (NULL: no such customer). A
 * listed read whose ids are these pointers finds each customer without
 * comparing strings (simulate lists a day's awake customers so). */
const char *dn_facts_store_customer_id(const dn_facts_store *s, const char *id);
/* Whether l's actions table holds a row with this key (any policy). */
bool dn_facts_store_has_key(const dn_facts_store *s, const char *key);
void dn_facts_store_free(dn_facts_store *s);

/* Fills *c with the next customer (its arena is reset first; c must have
 * been set up with dn_customer_facts_init). *got is false at the end.
 * The invoice, event and history arrays belong to the reader and stay
 * valid until the next call. */
dn_status dn_facts_reader_next(dn_facts_reader *r, dn_customer_facts *c, bool *got,
                               dn_diags *diags);

/* A store reader's next two customers, as store slots (1-based; 0 when
 * not known), so the caller can prefetch its own per-slot state while
 * it runs the customer just read. */
void dn_facts_reader_upcoming(const dn_facts_reader *r, int32_t slots[2]);

/* Money conversion at the run date's rate (latest fx_rates row <= D, or
 * the inverse pair), cached per run. false when no rate exists. */
bool dn_facts_convert(dn_facts_reader *r, dn_money in, uint16_t to, dn_money *out);

/* The customer owning an invoice (for `explain --invoice`); *found false
 * when the invoice does not exist. The id is copied into buf. */
dn_status dn_facts_invoice_customer(dn_ledger *l, const char *invoice, char *buf,
                                    size_t buflen, bool *found, dn_diags *diags);

/* Adds the ledger's holidays rows for calendar `name` to cal. */
dn_status dn_facts_load_holidays(dn_ledger *l, const char *name, dn_calendar *cal,
                                 dn_diags *diags);
/* The same through a dn_facts_cache's statement. */
dn_status dn_facts_load_holidays_cached(dn_ledger *l, dn_facts_cache *cache, const char *name,
                                        dn_calendar *cal, dn_diags *diags);

void dn_customer_facts_init(dn_customer_facts *c);
void dn_customer_facts_free(dn_customer_facts *c);

#endif
