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

typedef struct dn_ledger {
  sqlite3 *db;
  char *path;
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

/* Synthetic demo data: `customers` customers with about ten invoices
 * each, reproducible from `seed`, dated around `today`. */
typedef struct dn_demo_options {
  int64_t customers;
  uint64_t seed;
  dn_date today;
} dn_demo_options;
dn_status dn_ledger_demo(dn_ledger *l, const dn_demo_options *o, dn_diags *diags);

#endif
