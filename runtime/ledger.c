/* ledger.c - opening, creating, checking and migrating the SQLite ledger.
 *
 * Owns the schema of LEDGER.md (embedded here, one migration per schema
 * version) and the connection settings every ledger user relies on:
 * foreign keys on, WAL and a busy timeout for writers, a truly read-only
 * connection for readers. Import lives in import.c, demo data in demo.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/ledger.h"

/* 'DUNL': marks the file as a Dunlin ledger for `file(1)` and for us. */
#define DN_LEDGER_APPLICATION_ID 0x44554E4C
#define DN_LEDGER_BUSY_MS 5000

/* Version 0 -> 1: the whole v0 contract of LEDGER.md. Dates are checked by
 * shape only (a GLOB is cheap); import.c checks that they are real days.
 * Nullable columns are the ones LEDGER.md marks NULL plus descriptive
 * customer fields a CRM export may not have. */
static const char schema_v1[] =
    "CREATE TABLE customers ("
    " id TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),"
    " name TEXT, tier TEXT, country TEXT, timezone TEXT, language TEXT,"
    " email TEXT, phone TEXT,"
    " credit_limit_minor INTEGER CHECK (credit_limit_minor IS NULL OR credit_limit_minor >= 0),"
    " currency TEXT CHECK (currency IS NULL OR length(currency) = 3),"
    " risk_score REAL, attrs TEXT);"
    "CREATE TABLE invoices ("
    " id TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),"
    " customer_id TEXT NOT NULL REFERENCES customers(id),"
    " number TEXT,"
    " issue_date TEXT NOT NULL CHECK (issue_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),"
    " due_date TEXT NOT NULL CHECK (due_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),"
    " currency TEXT NOT NULL CHECK (length(currency) = 3),"
    " amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),"
    " CHECK (due_date >= issue_date));"
    "CREATE INDEX invoices_customer ON invoices(customer_id, id);"
    "CREATE TABLE payments ("
    " id TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),"
    " customer_id TEXT NOT NULL REFERENCES customers(id),"
    " invoice_id TEXT REFERENCES invoices(id),"
    " date TEXT NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),"
    " amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),"
    " currency TEXT NOT NULL CHECK (length(currency) = 3),"
    " status TEXT NOT NULL DEFAULT 'settled' CHECK (status IN ('settled', 'failed')));"
    "CREATE INDEX payments_customer ON payments(customer_id);"
    "CREATE INDEX payments_invoice ON payments(invoice_id);"
    "CREATE TABLE credits ("
    " id TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),"
    " invoice_id TEXT NOT NULL REFERENCES invoices(id),"
    " date TEXT NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),"
    " amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),"
    " reason TEXT);"
    "CREATE INDEX credits_invoice ON credits(invoice_id);"
    "CREATE TABLE disputes ("
    " id TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),"
    " invoice_id TEXT NOT NULL REFERENCES invoices(id),"
    " opened_on TEXT NOT NULL CHECK (opened_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),"
    " resolved_on TEXT CHECK (resolved_on IS NULL OR resolved_on >= opened_on),"
    " reason TEXT, owner TEXT,"
    " amount_minor INTEGER CHECK (amount_minor IS NULL OR amount_minor >= 0));"
    "CREATE INDEX disputes_invoice ON disputes(invoice_id);"
    "CREATE TABLE promises ("
    " id TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),"
    " customer_id TEXT NOT NULL REFERENCES customers(id),"
    " invoice_id TEXT REFERENCES invoices(id),"
    " made_on TEXT NOT NULL CHECK (made_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),"
    " promised_date TEXT NOT NULL CHECK (promised_date >= made_on),"
    " amount_minor INTEGER NOT NULL CHECK (amount_minor > 0));"
    "CREATE INDEX promises_customer ON promises(customer_id);"
    "CREATE TABLE fx_rates ("
    " date TEXT NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),"
    " base TEXT NOT NULL CHECK (length(base) = 3),"
    " quote TEXT NOT NULL CHECK (length(quote) = 3 AND quote <> base),"
    " rate TEXT NOT NULL);"
    "CREATE UNIQUE INDEX fx_rates_pair ON fx_rates(base, quote, date);"
    "CREATE TABLE holidays ("
    " calendar TEXT NOT NULL CHECK (calendar <> ''),"
    " date TEXT NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),"
    " name TEXT);"
    "CREATE UNIQUE INDEX holidays_day ON holidays(calendar, date);"
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY, policy TEXT, policy_hash TEXT, as_of TEXT,"
    " started_at TEXT, finished_at TEXT, emitted INTEGER, errors INTEGER);"
    "CREATE TABLE actions ("
    " key TEXT PRIMARY KEY NOT NULL,"
    " run_id INTEGER REFERENCES runs(id),"
    " as_of TEXT, policy TEXT, policy_version INTEGER, rule TEXT, step TEXT,"
    " customer_id TEXT, invoice_ids TEXT, kind TEXT, tone TEXT, template TEXT,"
    " scheduled_at TEXT, priority REAL, assignee TEXT,"
    " status TEXT CHECK (status IN ('scheduled', 'skipped', 'deferred', 'sent', 'cancelled')),"
    " reason TEXT);"
    "CREATE INDEX actions_customer ON actions(customer_id, as_of);"
    "CREATE INDEX actions_run ON actions(run_id);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT);"
    "INSERT INTO meta(key, value) VALUES ('created_by', 'dunlin');";

/* migrations[v] takes a ledger from user_version v to v + 1. */
static const char *const migrations[DN_LEDGER_SCHEMA_VERSION] = {schema_v1};

/* The columns of LEDGER.md that every reader relies on; a file lacking
 * one of them is not a ledger we can use. Checked by preparing a SELECT,
 * which fails naming the first missing table or column. */
static const char *const required_selects[] = {
    "SELECT id, name, tier, country, timezone, language, email, phone,"
    " credit_limit_minor, currency, risk_score, attrs FROM customers",
    "SELECT id, customer_id, number, issue_date, due_date, currency, amount_minor FROM invoices",
    "SELECT id, customer_id, invoice_id, date, amount_minor, currency, status FROM payments",
    "SELECT id, invoice_id, date, amount_minor, reason FROM credits",
    "SELECT id, invoice_id, opened_on, resolved_on, reason, owner, amount_minor FROM disputes",
    "SELECT id, customer_id, invoice_id, made_on, promised_date, amount_minor FROM promises",
    "SELECT date, base, quote, rate FROM fx_rates",
    "SELECT calendar, date, name FROM holidays",
    "SELECT key, run_id, as_of, policy, policy_version, rule, step, customer_id, invoice_ids,"
    " kind, tone, template, scheduled_at, priority, assignee, status, reason FROM actions",
    "SELECT id, policy, policy_hash, as_of, started_at, finished_at, emitted, errors FROM runs",
};

static dn_status bad_ledger(dn_ledger *l, dn_diags *diags, const char *what) {
  dn_diag *g = dn_diag_add_at(diags, DN_E0502, l->path, 0, "%s is not a usable ledger: %s", l->path, what);
  dn_diag_hint(g, "create one with `dunlin ledger init` or `dunlin ledger demo`");
  return DN_ERR_INPUT;
}

/* Permissions, a read-only directory or a full disk are the user's to
 * fix, not internal errors: exit 1 with what to check. SQLite keeps a WAL
 * ledger's -wal and -shm files next to it, so even a reader needs the
 * directory to be writable unless they already exist. */
static dn_status io_problem(dn_ledger *l, dn_diags *diags, int rc, const char *doing) {
  const char *why = NULL;
  switch (rc) {
    case SQLITE_READONLY_CANTINIT:
    case SQLITE_READONLY_DIRECTORY:
    case SQLITE_CANTOPEN:
      why = "the directory must be writable: SQLite keeps LEDGER-wal and LEDGER-shm files next to the ledger";
      break;
    default:
      if ((rc & 0xff) == SQLITE_READONLY)
        why = "the ledger file or its file system is read-only (check its permissions and the mount); "
              "a WAL ledger on read-only media also needs its LEDGER-shm file";
      else if ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_PERM) why = "check the permissions of the file and its directory";
      else if ((rc & 0xff) == SQLITE_FULL) why = "the disk is full";
      else if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        why = "another process is writing to the ledger; try again";
      else if ((rc & 0xff) == SQLITE_IOERR) why = "the disk may be full or failing";
  }
  if (!why) return DN_OK;
  dn_diag *g = dn_diag_add_at(diags, DN_E0505, l->path, 0, "%s %s: %s", doing, l->path, sqlite3_errstr(rc));
  dn_diag_hint(g, "%s", why);
  return DN_ERR_INPUT;
}

static dn_status db_status(dn_ledger *l, dn_diags *diags, int rc, const char *doing) {
  if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT) return bad_ledger(l, diags, sqlite3_errstr(rc));
  dn_status st = io_problem(l, diags, rc, doing);
  if (st != DN_OK) return st;
  dn_diag_add_at(diags, DN_E0505, l->path, 0, "%s %s: %s", doing, l->path, sqlite3_errmsg(l->db));
  return DN_ERR_INTERNAL;
}

/* Reads a one-integer PRAGMA; the first statement run on a connection is
 * where SQLite notices a file that is not a database. */
static int pragma_int(sqlite3 *db, const char *sql, int64_t *out) {
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(st, 0);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc;
}

static int exec(sqlite3 *db, const char *sql) { return sqlite3_exec(db, sql, NULL, NULL, NULL); }

static dn_status check_tables(dn_ledger *l, dn_diags *diags) {
  for (size_t i = 0; i < sizeof required_selects / sizeof *required_selects; i++) {
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(l->db, required_selects[i], -1, &st, NULL);
    sqlite3_finalize(st);
    if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) return bad_ledger(l, diags, sqlite3_errstr(rc));
    if (rc != SQLITE_OK) return bad_ledger(l, diags, sqlite3_errmsg(l->db));
  }
  return DN_OK;
}

/* Applies every migration from `from` on, and the new version, in one
 * transaction: a failed migration leaves the file at its old version. */
static dn_status migrate(dn_ledger *l, int64_t from, dn_diags *diags) {
  int rc = exec(l->db, "BEGIN IMMEDIATE");
  if (rc != SQLITE_OK) return db_status(l, diags, rc, "cannot lock");
  for (int64_t v = from; v < DN_LEDGER_SCHEMA_VERSION && rc == SQLITE_OK; v++) rc = exec(l->db, migrations[v]);
  char pragmas[96];
  snprintf(pragmas, sizeof pragmas, "PRAGMA user_version = %d; PRAGMA application_id = %d;",
           DN_LEDGER_SCHEMA_VERSION, DN_LEDGER_APPLICATION_ID);
  if (rc == SQLITE_OK) rc = exec(l->db, pragmas);
  if (rc == SQLITE_OK) rc = exec(l->db, "COMMIT");
  if (rc != SQLITE_OK) {
    dn_status st = db_status(l, diags, rc, "cannot migrate");
    exec(l->db, "ROLLBACK");
    return st;
  }
  return DN_OK;
}

/* An empty database (no tables at all) is what CREATE may fill in;
 * anything else must already be a ledger, so we never clobber a file. */
static dn_status is_empty_db(dn_ledger *l, bool *empty, dn_diags *diags) {
  int64_t n = 0;
  int rc = pragma_int(l->db, "SELECT count(*) FROM sqlite_master", &n);
  if (rc != SQLITE_OK) return db_status(l, diags, rc, "cannot read");
  *empty = n == 0;
  return DN_OK;
}

static dn_status check_version(dn_ledger *l, dn_ledger_mode mode, int64_t *version, dn_diags *diags) {
  int64_t app = 0;
  int rc = pragma_int(l->db, "PRAGMA user_version", version);
  if (rc == SQLITE_OK) rc = pragma_int(l->db, "PRAGMA application_id", &app);
  if (rc != SQLITE_OK) return db_status(l, diags, rc, "cannot read");
  if (app != 0 && app != DN_LEDGER_APPLICATION_ID) return bad_ledger(l, diags, "it belongs to another application");
  if (*version > DN_LEDGER_SCHEMA_VERSION) {
    char why[96];
    snprintf(why, sizeof why, "schema version %lld is newer than this dunlin supports (%d)",
             (long long)*version, DN_LEDGER_SCHEMA_VERSION);
    return bad_ledger(l, diags, why);
  }
  if (*version == 0) return bad_ledger(l, diags, "it has no ledger schema (user_version 0)");
  if (*version < DN_LEDGER_SCHEMA_VERSION && mode == DN_LEDGER_READ)
    return bad_ledger(l, diags, "its schema is older; open it for writing once to migrate it");
  return DN_OK;
}

/* A writer checks the whole file first: SQLite notices a corrupt page
 * only when it reads it, so an import touching only healthy pages would
 * otherwise succeed and add to a file that is already damaged. */
static dn_status quick_check(dn_ledger *l, dn_diags *diags) {
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(l->db, "PRAGMA quick_check(1)", -1, &st, NULL);
  if (rc != SQLITE_OK) return db_status(l, diags, rc, "cannot check");
  rc = sqlite3_step(st);
  dn_status out = DN_OK;
  if (rc == SQLITE_ROW) {
    const char *res = (const char *)sqlite3_column_text(st, 0);
    if (!res || strcmp(res, "ok") != 0) {
      const char *skip = "*** in database main ***\n";
      if (res && strncmp(res, skip, strlen(skip)) == 0) res += strlen(skip);
      char why[200];
      snprintf(why, sizeof why, "it is corrupt (%s)", res ? res : "quick_check failed");
      for (char *c = why; *c; c++)
        if (*c == '\n') *c = ' ';
      out = bad_ledger(l, diags, why);
    }
  } else if (rc != SQLITE_DONE) {
    out = db_status(l, diags, rc, "cannot check");
  }
  sqlite3_finalize(st);
  return out;
}

static dn_status configure_writer(dn_ledger *l, dn_diags *diags) {
  int rc = exec(l->db, "PRAGMA journal_mode = WAL");
  if (rc != SQLITE_OK) return db_status(l, diags, rc, "cannot configure");
  return DN_OK;
}

static dn_status open_checked(dn_ledger *l, dn_ledger_mode mode, dn_diags *diags) {
  sqlite3_busy_timeout(l->db, DN_LEDGER_BUSY_MS);
  sqlite3_extended_result_codes(l->db, 1);
  /* SQLite silently falls back to read-only on a file it may not write;
   * say so now rather than fail at the first INSERT. */
  if (mode != DN_LEDGER_READ && sqlite3_db_readonly(l->db, "main") == 1)
    return io_problem(l, diags, SQLITE_READONLY, "cannot write ledger");
  int rc = exec(l->db, "PRAGMA foreign_keys = ON");
  if (rc != SQLITE_OK) return db_status(l, diags, rc, "cannot configure");
  bool empty = false;
  dn_status st = is_empty_db(l, &empty, diags);
  if (st != DN_OK) return st;
  if (empty && mode == DN_LEDGER_CREATE) {
    st = configure_writer(l, diags);
    return st == DN_OK ? migrate(l, 0, diags) : st;
  }
  /* Check before configuring, so a foreign file is not switched to WAL. */
  int64_t version = 0;
  st = check_version(l, mode, &version, diags);
  if (st == DN_OK && version == DN_LEDGER_SCHEMA_VERSION) st = check_tables(l, diags);
  if (st == DN_OK && mode != DN_LEDGER_READ) st = quick_check(l, diags);
  if (st == DN_OK && mode != DN_LEDGER_READ) st = configure_writer(l, diags);
  if (st == DN_OK && version < DN_LEDGER_SCHEMA_VERSION) {
    st = migrate(l, version, diags);
    if (st == DN_OK) st = check_tables(l, diags);
  }
  if (st == DN_OK && mode == DN_LEDGER_READ) exec(l->db, "PRAGMA query_only = ON");
  return st;
}

dn_status dn_ledger_open(const char *path, dn_ledger_mode mode, dn_ledger *out, dn_diags *diags) {
  memset(out, 0, sizeof *out);
  out->path = strdup(path);
  if (!out->path) return DN_ERR_INTERNAL;
  struct stat sb;
  if (mode != DN_LEDGER_CREATE && stat(path, &sb) != 0) {
    dn_diag_add_at(diags, DN_E0505, path, 0, "cannot open ledger %s: %s", path, strerror(errno));
    dn_ledger_close(out);
    return DN_ERR_INPUT;
  }
  int flags = mode == DN_LEDGER_READ ? SQLITE_OPEN_READONLY
              : mode == DN_LEDGER_WRITE ? SQLITE_OPEN_READWRITE
                                        : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path, &out->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
  dn_status st = DN_OK;
  if (rc != SQLITE_OK) {
    dn_diag_add_at(diags, DN_E0505, path, 0, "cannot open ledger %s: %s",
                   path, out->db ? sqlite3_errmsg(out->db) : sqlite3_errstr(rc));
    st = DN_ERR_INPUT;
  } else {
    st = open_checked(out, mode, diags);
  }
  if (st != DN_OK) dn_ledger_close(out);
  return st;
}

void dn_ledger_close(dn_ledger *l) {
  if (!l) return;
  if (l->db) sqlite3_close_v2(l->db);
  free(l->path);
  l->db = NULL;
  l->path = NULL;
}

static dn_status has_row(dn_ledger *l, const char *sql, const char *id, bool *found, dn_diags *diags) {
  sqlite3_stmt *st;
  *found = false;
  if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
    dn_diag_add_at(diags, DN_E0502, l->path, 0, "cannot read the ledger: %s", sqlite3_errmsg(l->db));
    return DN_ERR_INPUT;
  }
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *found = rc == SQLITE_ROW;
  sqlite3_finalize(st);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) return DN_OK;
  dn_diag_add_at(diags, DN_E0502, l->path, 0, "cannot read the ledger: %s", sqlite3_errstr(rc));
  return DN_ERR_INPUT;
}

dn_status dn_ledger_has_customer(dn_ledger *l, const char *id, bool *found, dn_diags *diags) {
  return has_row(l, "SELECT 1 FROM customers WHERE id = ?1", id, found, diags);
}

dn_status dn_ledger_has_invoice(dn_ledger *l, const char *id, bool *found, dn_diags *diags) {
  return has_row(l, "SELECT 1 FROM invoices WHERE id = ?1", id, found, diags);
}
