/* ledger.h - the SQLite ledger (LEDGER.md): schema, migration, import,
 * demo data, and the streaming reader of facts.
 *
 * Every write happens in one transaction: an import, a committed run. A
 * failure rolls it back, so the ledger is never half-written. */
#ifndef DN_LEDGER_H
#define DN_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "lang/diag.h"
#include "stdlib/date.h"
#include "stdlib/status.h"

#define DN_LEDGER_SCHEMA_VERSION 1

struct dn_facts_store;

typedef struct dn_ledger {
  sqlite3 *db;
  char *path;
  /* simulate's working copy only (else NULL): its rows decoded once and
   * kept in memory (runtime/facts_reader.h), read by the facts reader
   * instead of SQLite and fed the rows the outbox inserts. Not owned. */
  struct dn_facts_store *store;
} dn_ledger;

typedef enum dn_ledger_mode {
  DN_LEDGER_READ,      /* must exist, read only */
  DN_LEDGER_WRITE,     /* must exist, migrated forward if older */
  DN_LEDGER_CREATE     /* created (schema applied) if missing */
} dn_ledger_mode;

/* Opens a ledger and checks it is one (user_version, tables). Errors go
 * to diags as E0502/E0505 naming the path. */
dn_status dn_ledger_open(const char *path, dn_ledger_mode mode, dn_ledger *out, dn_diags *diags);
void dn_ledger_close(dn_ledger *l);

/* CSV import (LEDGER.md "Import"). One file per table, any subset; all
 * files in one transaction. map_path may be NULL. */
typedef struct dn_import_files {
  const char *customers, *invoices, *payments, *credits, *disputes,
      *promises, *fx_rates, *holidays;
  const char *map_path;
} dn_import_files;
typedef struct dn_import_counts {
  int64_t customers, invoices, payments, credits, disputes, promises, fx_rates, holidays;
} dn_import_counts;
dn_status dn_ledger_import(dn_ledger *l, const dn_import_files *files,
                           dn_import_counts *counts, dn_diags *diags);

/* Rows from an in-memory source (policy tests, `decide`, `serve`
 * events): each is one row of a LEDGER.md table given as column names and
 * text values, exactly as a CSV row would give them (`amount` or
 * `amount_minor`, dates as YYYY-MM-DD, an empty/NULL value is NULL), and
 * checked by the same rules as `ledger import`. `table` is one of
 * customers, invoices, payments, credits, disputes, promises, fx_rates,
 * holidays, actions. `origin` names where the row came from ("acme_test.dun:12",
 * "request 3: invoices[1]") and prefixes its diagnostics.
 * All rows go in or none: they are inserted inside one SAVEPOINT (so a
 * caller may wrap them in its own transaction and roll that back, as
 * `decide` does on a scratch ledger), in table order (customers before
 * invoices ...), whatever order they are given in. */
typedef struct dn_row {
  const char *table;
  const char *const *names;
  const char *const *values;  /* NULL entries are NULL */
  int n;
  const char *origin;
} dn_row;
dn_status dn_ledger_insert_rows(dn_ledger *l, const dn_row *rows, size_t n, dn_diags *diags);
/* The same, where `actions` rows without a `policy` value are history of
 * `policy` (a program's name: what the facts reader matches a history row
 * on). An `actions` row needs as_of, customer_id and kind; key defaults to
 * a generated one, status to scheduled; invoice_ids is a JSON array or a
 * comma-separated list of the customer's invoices. */
dn_status dn_ledger_insert_history(dn_ledger *l, const char *policy, const dn_row *rows, size_t n,
                                   dn_diags *diags);
/* The same, keeping its prepared statements in `cache` for the next call
 * on the same ledger (decide inserts a request's rows into one scratch
 * ledger again and again). A cache serves one ledger and one thread at a
 * time; free it before closing its ledger. */
typedef struct dn_row_cache dn_row_cache;
dn_row_cache *dn_row_cache_new(void);
void dn_row_cache_free(dn_row_cache *c);
dn_status dn_ledger_insert_history_cached(dn_ledger *l, dn_row_cache *cache, const char *policy,
                                          const dn_row *rows, size_t n, dn_diags *diags);

/* Whether the ledger holds a customer (or an invoice) with this id: a
 * command asked about one id must say when there is none rather than
 * answer with nothing, which reads as "nothing due". E0502 when the
 * table cannot be read. */
dn_status dn_ledger_has_customer(dn_ledger *l, const char *id, bool *found, dn_diags *diags);
dn_status dn_ledger_has_invoice(dn_ledger *l, const char *id, bool *found, dn_diags *diags);

/* An empty ledger in memory with the current schema (policy tests,
 * decide's scratch ledger, simulate's working copy). */
dn_status dn_ledger_open_memory(dn_ledger *out, dn_diags *diags);

/* Synthetic demo data: `customers` customers with about ten invoices
 * each, reproducible from `seed`, dated around `today`. */
typedef struct dn_demo_options {
  int64_t customers;
  uint64_t seed;
  dn_date today;
} dn_demo_options;
dn_status dn_ledger_demo(dn_ledger *l, const dn_demo_options *o, dn_diags *diags);

#endif
