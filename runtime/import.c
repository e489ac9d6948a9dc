/* import.c - CSV import into the ledger (LEDGER.md "Import").
 *
 * Reads RFC 4180 files with libcsv, one file per table, in parent-first
 * order (customers, invoices, payments, credits, disputes, promises,
 * fx_rates, holidays) so that a row's parent is always already in the
 * database, whether it came from the ledger or from this import. All files
 * go in one transaction; any error rolls everything back.
 *
 * Error policy: header errors (unknown, duplicate or missing columns) stop
 * the file at once. Row errors are collected, up to DN_IMPORT_MAX_ERRORS
 * in the first file that has any; later files are not read, because their
 * rows would fail for want of the rejected parents and only add noise.
 *
 * Line numbers are physical lines where a record starts (header = 1), so
 * a quoted field spanning lines does not shift the numbers that follow.
 * libcsv does not count lines, so we feed it one physical line at a time. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <csv.h>

#include "lang/ast.h"
#include "runtime/ledger.h"
#include "stdlib/money.h"
#include "stdlib/text.h"

#define DN_IMPORT_MAX_ERRORS 20
/* 10^15 minor units (ten trillion dollars in cents) is beyond any real
 * invoice, and keeps the runtime's sums over a customer's invoices,
 * payments and credits far from int64 overflow. */
#define DN_IMPORT_MAX_MINOR 1000000000000000LL
#define MAX_COLS 20
#define DN_ID_MAX 256 /* longer customer ids are cut, and then fail as unknown */

typedef struct importer importer;
typedef bool (*row_fn)(importer *imp);
/* Where the cells of the current row come from: a CSV record (the header
 * is itself a record) or a dn_row (names and values given apart). Every
 * validator reads through these, so both paths check rows alike. */
typedef const char *(*cell_fn)(const importer *imp, int f);

typedef struct col_def {
  const char *name;
  bool required; /* the header must name it */
} col_def;

typedef struct table_def {
  const char *name;
  size_t file_off, count_off; /* into dn_import_files, dn_import_counts */
  col_def cols[MAX_COLS];
  /* Money may come as integer minor units or as a decimal; one of the
   * two is needed when money_required. NULL pair = no money column. */
  const char *minor_col, *decimal_col;
  bool money_required;
  const char *insert_sql;
  const char *dup_sql; /* finds the row a unique key clashed with */
  row_fn row;
} table_def;

typedef struct map_entry {
  char *from, *to;
} map_entry;

/* Statements dn_ledger_insert_history_cached keeps between calls, so a
 * decider does not parse the same INSERTs again for every request. */
enum { CACHE_TABLES = 16 };
struct dn_row_cache {
  sqlite3 *db; /* the ledger they were prepared on */
  sqlite3_stmt *max_rowid[CACHE_TABLES], *insert[CACHE_TABLES], *dup[CACHE_TABLES];
  sqlite3_stmt *find_customer, *find_invoice;
};

struct importer {
  dn_ledger *l;
  dn_diags *diags;
  map_entry *map;
  size_t nmap;
  /* the source of cells: CSV (csv_cell for both) or a dn_row */
  cell_fn cell, header_cell;
  const dn_row *row;
  const char *default_policy; /* for action rows without a policy */
  const char *earlier;        /* "this file" / "these rows", for duplicates */
  /* current file */
  const table_def *t;
  const char *file;
  int line, rec_line;
  bool have_header, stop;
  int ncsv;                 /* fields in the header */
  int field_of[MAX_COLS];   /* table column -> CSV field, or -1 */
  /* current record: fields stored NUL-terminated in buf */
  char *buf;
  size_t len, cap;
  size_t *offs;             /* SIZE_MAX = empty cell (NULL) */
  int nfields, fcap;
  bool oom;
  /* results */
  int errors;
  int64_t rows;
  dn_status status;
  sqlite3_stmt *insert, *dup, *find_customer, *find_invoice;
  int64_t max_rowid_before; /* rows with a larger rowid came from this import */
  dn_row_cache *cache;      /* statements kept across calls, or NULL */
};

/* ---- diagnostics ---------------------------------------------------- */

static dn_diag *row_error(importer *imp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static dn_diag *row_error(importer *imp, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  dn_diag *g = dn_diag_add_at(imp->diags, DN_E0503, imp->file, imp->rec_line, "%s", msg);
  imp->status = DN_ERR_INPUT;
  if (++imp->errors == DN_IMPORT_MAX_ERRORS) imp->stop = true; /* import_file says so */
  return g;
}

static void header_error_stop(importer *imp) { imp->stop = true; }

static dn_status io_error(importer *imp, const char *path, const char *what) {
  dn_diag_add_at(imp->diags, DN_E0505, path, 0, "cannot read %s: %s", path, what);
  imp->status = DN_ERR_INPUT;
  imp->stop = true;
  return imp->status;
}

static dn_status db_error(importer *imp, const char *doing) {
  int rc = sqlite3_extended_errcode(imp->l->db) & 0xff;
  dn_diag *g = dn_diag_add_at(imp->diags, DN_E0505, imp->l->path, 0, "%s: %s", doing, sqlite3_errmsg(imp->l->db));
  /* locked by another writer past the busy timeout, or a full disk: the
   * user's to fix and retry, so exit 1 rather than 3 */
  bool busy = rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
  if (busy) dn_diag_hint(g, "another process is writing to the ledger; try again");
  imp->status = busy || rc == SQLITE_FULL || rc == SQLITE_IOERR ? DN_ERR_INPUT : DN_ERR_INTERNAL;
  imp->stop = true;
  return imp->status;
}

/* ---- "did you mean" ------------------------------------------------- */

static const char *suggest_column(const table_def *t, const char *name) {
  const char *best = NULL;
  int best_d = 3; /* more than two edits is a different word */
  for (int i = 0; i < MAX_COLS && t->cols[i].name; i++) {
    int d = dn_edit_distance(name, t->cols[i].name);
    if (d < best_d) best_d = d, best = t->cols[i].name;
  }
  return best;
}

/* ---- the current record --------------------------------------------- */

static int col_index(const table_def *t, const char *name) {
  for (int i = 0; i < MAX_COLS && t->cols[i].name; i++)
    if (strcmp(t->cols[i].name, name) == 0) return i;
  return -1;
}

static const char *csv_cell(const importer *imp, int f) {
  if (f < 0 || f >= imp->nfields || imp->offs[f] == SIZE_MAX) return NULL;
  return imp->buf + imp->offs[f];
}

/* An empty value is NULL, as an empty CSV cell is. */
static const char *row_cell(const importer *imp, int f) {
  if (f < 0 || f >= imp->row->n || !imp->row->values) return NULL;
  const char *v = imp->row->values[f];
  return v && *v ? v : NULL;
}

static const char *row_name(const importer *imp, int f) {
  return f < 0 || f >= imp->row->n || !imp->row->names ? NULL : imp->row->names[f];
}

static const char *field_text(const importer *imp, int f) { return imp->cell(imp, f); }

/* The cell of column `name` in the current row, or NULL when the column
 * is absent or the cell empty (LEDGER.md: an empty cell is NULL). */
static const char *val(const importer *imp, const char *name) {
  int c = col_index(imp->t, name);
  return c < 0 ? NULL : field_text(imp, imp->field_of[c]);
}

static bool has_col(const importer *imp, const char *name) {
  int c = col_index(imp->t, name);
  return c >= 0 && imp->field_of[c] >= 0;
}

static void on_field(void *s, size_t n, void *data) {
  importer *imp = data;
  if (imp->stop || imp->oom) return;
  if (imp->nfields == imp->fcap) {
    int cap = imp->fcap ? imp->fcap * 2 : 16;
    size_t *o = realloc(imp->offs, sizeof *o * (size_t)cap);
    if (!o) { imp->oom = true; return; }
    imp->offs = o, imp->fcap = cap;
  }
  if (!s || n == 0) {
    imp->offs[imp->nfields++] = SIZE_MAX;
    return;
  }
  if (imp->len + n + 1 > imp->cap) {
    size_t cap = (imp->len + n + 1) * 2;
    char *b = realloc(imp->buf, cap);
    if (!b) { imp->oom = true; return; }
    imp->buf = b, imp->cap = cap;
  }
  memcpy(imp->buf + imp->len, s, n);
  imp->buf[imp->len + n] = '\0';
  imp->offs[imp->nfields++] = imp->len;
  imp->len += n + 1;
}

/* ---- header --------------------------------------------------------- */

static const char *mapped_name(const importer *imp, const char *name) {
  for (size_t i = 0; i < imp->nmap; i++)
    if (strcmp(imp->map[i].from, name) == 0) return imp->map[i].to;
  return name;
}

static bool header_column(importer *imp, int f, const char *raw) {
  const char *name = mapped_name(imp, raw);
  if (strcmp(name, "-") == 0) return true; /* the map says: ignore it */
  char from[160] = "";
  if (name != raw) snprintf(from, sizeof from, " (mapped from \"%s\")", raw);
  int c = col_index(imp->t, name);
  if (c < 0) {
    const char *s = suggest_column(imp->t, name);
    dn_diag *g = s ? row_error(imp, "unknown column \"%s\"%s; did you mean \"%s\"?", name, from, s)
                   : row_error(imp, "unknown column \"%s\"%s in a %s file", name, from, imp->t->name);
    /* European spreadsheets export with ';', some tools with tabs */
    const char *sep = strchr(name, ';') ? "';'" : strchr(name, '\t') ? "tabs" : NULL;
    if (sep)
      dn_diag_hint(g, "the file seems to be separated by %s; save it as comma-separated CSV", sep);
    else
      dn_diag_hint(g, "rename it in the file or with a --map line `%s = %s` (`%s = -` skips it)", raw,
                   s ? s : "our_name", raw);
    return false;
  }
  if (imp->field_of[c] >= 0) {
    row_error(imp, "column \"%s\"%s appears twice", name, from);
    return false;
  }
  imp->field_of[c] = f;
  return true;
}

static bool header_complete(importer *imp) {
  const table_def *t = imp->t;
  bool ok = true;
  for (int i = 0; i < MAX_COLS && t->cols[i].name; i++)
    if (t->cols[i].required && imp->field_of[i] < 0) {
      row_error(imp, "missing column \"%s\"", t->cols[i].name);
      ok = false;
    }
  if (t->minor_col && has_col(imp, t->minor_col) && has_col(imp, t->decimal_col)) {
    row_error(imp, "columns \"%s\" and \"%s\" both given; keep one", t->minor_col, t->decimal_col);
    ok = false;
  } else if (t->money_required && !has_col(imp, t->minor_col) && !has_col(imp, t->decimal_col)) {
    row_error(imp, "missing column \"%s\" (or \"%s\")", t->decimal_col, t->minor_col);
    ok = false;
  }
  /* A payment or promise finds its customer through its invoice. */
  if (col_index(t, "customer_id") >= 0 && col_index(t, "invoice_id") >= 0 &&
      !has_col(imp, "customer_id") && !has_col(imp, "invoice_id")) {
    row_error(imp, "missing column \"customer_id\" (or \"invoice_id\")");
    ok = false;
  }
  return ok;
}

/* Maps the named columns (a CSV header, or a dn_row's names) to fields. */
static bool bind_columns(importer *imp) {
  imp->have_header = true;
  imp->ncsv = imp->nfields;
  for (int i = 0; i < MAX_COLS; i++) imp->field_of[i] = -1;
  bool ok = true;
  for (int f = 0; f < imp->nfields && ok; f++) {
    const char *name = imp->header_cell(imp, f);
    if (!name) {
      row_error(imp, "column %d has no name", f + 1);
      ok = false;
    } else {
      ok = header_column(imp, f, name);
    }
  }
  if (ok) ok = header_complete(imp);
  return ok;
}

static void on_header(importer *imp) {
  if (!bind_columns(imp)) header_error_stop(imp);
}

/* ---- the current row ------------------------------------------------ */

/* Offset of the first byte that is not valid UTF-8, or -1. */
static long utf8_invalid_at(const unsigned char *s) {
  for (const unsigned char *p = s; *p;) {
    unsigned c = *p;
    size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    bool ok = n > 0;
    for (size_t i = 1; ok && i < n; i++) ok = (p[i] & 0xC0) == 0x80;
    if (ok && n == 3) ok = !(c == 0xE0 && p[1] < 0xA0) && !(c == 0xED && p[1] >= 0xA0);
    if (ok && n == 4) ok = !(c == 0xF0 && p[1] < 0x90) && !(c == 0xF4 && p[1] >= 0x90);
    if (!ok) return (long)(p - s);
    p += n;
  }
  return -1;
}

/* Text goes into JSON output and must compare equal to what a policy
 * writes, so a file in another encoding (a Latin-1 ERP export) is
 * refused with advice instead of being stored as mojibake. */
static bool row_is_utf8(importer *imp) {
  for (int f = 0; f < imp->nfields; f++) {
    const char *t = field_text(imp, f);
    long at = t ? utf8_invalid_at((const unsigned char *)t) : -1;
    if (at < 0) continue;
    const char *name = imp->row ? row_name(imp, f) : NULL;
    dn_diag *g = name ? row_error(imp, "column \"%s\" is not valid UTF-8 (byte 0x%02X at offset %ld)", name,
                                  (unsigned char)t[at], at)
                      : row_error(imp, "column %d is not valid UTF-8 (byte 0x%02X at offset %ld)", f + 1,
                                  (unsigned char)t[at], at);
    dn_diag_hint(g, "save the file as UTF-8, or convert it, e.g. `iconv -f latin1 -t utf-8`");
    return false;
  }
  return true;
}

static void on_record(int c, void *data) {
  importer *imp = data;
  (void)c;
  if (!imp->stop && !imp->oom) {
    if (!row_is_utf8(imp)) {
      if (!imp->have_header) header_error_stop(imp);
    } else if (!imp->have_header) {
      on_header(imp);
    } else if (imp->nfields != imp->ncsv) {
      row_error(imp, "expected %d fields as in the header, found %d", imp->ncsv, imp->nfields);
    } else if (imp->t->row(imp)) {
      imp->rows++;
    }
  }
  imp->nfields = 0;
  imp->len = 0;
  imp->rec_line = 0;
}

/* ---- cell parsers: each reports its own error ----------------------- */

static bool need(importer *imp, const char *col, const char **out) {
  *out = val(imp, col);
  if (*out) return true;
  row_error(imp, "missing value in column \"%s\"", col);
  return false;
}

static bool parse_date(importer *imp, const char *col, const char *text, dn_date *out) {
  if (dn_date_parse(text, strlen(text), out)) return true;
  row_error(imp, "bad date \"%s\" in column \"%s\": expected a real day as YYYY-MM-DD", text, col);
  return false;
}

static bool need_date(importer *imp, const char *col, dn_date *d, const char **text) {
  return need(imp, col, text) && parse_date(imp, col, *text, d);
}

/* An optional date: NULL text is fine. */
static bool opt_date(importer *imp, const char *col, dn_date *d, const char **text) {
  *text = val(imp, col);
  *d = DN_DATE_NONE;
  return !*text || parse_date(imp, col, *text, d);
}

static bool parse_currency(importer *imp, const char *col, const char *text, uint16_t *cur) {
  *cur = dn_currency_lookup(text, strlen(text));
  if (*cur != DN_CUR_NONE) return true;
  dn_diag *g = row_error(imp, "unknown currency \"%s\" in column \"%s\"", text, col);
  dn_diag_hint(g, "use an ISO 4217 code in upper case, such as USD or EUR");
  return false;
}

static bool parse_int64(const char *s, int64_t *out) {
  if (!*s || isspace((unsigned char)*s)) return false;
  errno = 0;
  char *end;
  long long v = strtoll(s, &end, 10);
  if (errno || *end) return false;
  *out = v;
  return true;
}

static int count_decimals(const char *s) {
  const char *dot = strchr(s, '.');
  if (!dot) return 0;
  int n = 0;
  for (const char *p = dot + 1; *p; p++) n += isdigit((unsigned char)*p) != 0;
  return n;
}

/* min: the smallest acceptable value (0 or 1 minor unit). */
static bool check_sign(importer *imp, const char *col, const char *text, int64_t v, int64_t min) {
  /* "-0" parses as zero, but a minus sign where no amount may be
   * negative is a sign that the export means something else (a refund?) */
  if (v > DN_IMPORT_MAX_MINOR) {
    row_error(imp, "bad amount \"%s\" in column \"%s\": more than %lld minor units", text, col,
              (long long)DN_IMPORT_MAX_MINOR);
    return false;
  }
  if (v >= min && text[0] != '-') return true;
  row_error(imp, "bad amount \"%s\" in column \"%s\": must be %s", text, col,
            min > 0 ? "positive" : "zero or more");
  return false;
}

/* Reads the row's money from minor_col or decimal_col. cur may be
 * DN_CUR_NONE when the row has no currency; a decimal then is an error.
 * *present is false when neither cell is filled (the caller decides). */
static bool read_money(importer *imp, const char *minor_col, const char *decimal_col, uint16_t cur,
                       int64_t min, int64_t *out, bool *present) {
  const char *m = val(imp, minor_col), *d = val(imp, decimal_col);
  *present = m || d;
  if (m) {
    if (!parse_int64(m, out)) {
      row_error(imp, "bad amount \"%s\" in column \"%s\": not a whole number of minor units", m, minor_col);
      return false;
    }
    return check_sign(imp, minor_col, m, *out, min);
  }
  if (!d) return true;
  if (cur == DN_CUR_NONE) {
    row_error(imp, "cannot read decimal \"%s\" in column \"%s\": the row has no currency", d, decimal_col);
    return false;
  }
  if (!dn_money_parse(d, strlen(d), cur, out)) {
    int digits = dn_currency_digits(cur);
    if (strspn(d, "-+0123456789._") == strlen(d) && count_decimals(d) > digits)
      row_error(imp, "bad amount \"%s\" in column \"%s\": %s has %d decimal%s", d, decimal_col,
                dn_currency_code(cur), digits, digits == 1 ? "" : "s");
    else
      row_error(imp, "bad amount \"%s\" in column \"%s\": not a number", d, decimal_col);
    return false;
  }
  return check_sign(imp, decimal_col, d, *out, min);
}

static bool need_money(importer *imp, uint16_t cur, int64_t min, int64_t *out) {
  bool present;
  if (!read_money(imp, imp->t->minor_col, imp->t->decimal_col, cur, min, out, &present)) return false;
  if (present) return true;
  row_error(imp, "missing value in column \"%s\"", has_col(imp, imp->t->minor_col) ? imp->t->minor_col : imp->t->decimal_col);
  return false;
}

/* ---- parents: rows already in the ledger or inserted by this import -- */

typedef struct parent {
  bool found;
  uint16_t cur;        /* DN_CUR_NONE when the customer has no currency */
  char customer[DN_ID_MAX];  /* an invoice's customer */
} parent;

static bool lookup(importer *imp, sqlite3_stmt *st, const char *id, parent *p, bool invoice) {
  memset(p, 0, sizeof *p);
  p->cur = DN_CUR_NONE;
  sqlite3_reset(st);
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    p->found = true;
    const char *cur = (const char *)sqlite3_column_text(st, 0);
    if (cur) p->cur = dn_currency_lookup(cur, strlen(cur));
    if (invoice) snprintf(p->customer, sizeof p->customer, "%s", (const char *)sqlite3_column_text(st, 1));
  } else if (rc != SQLITE_DONE) {
    db_error(imp, "lookup");
  }
  sqlite3_reset(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

static bool need_customer(importer *imp, const char *id, parent *p) {
  if (!lookup(imp, imp->find_customer, id, p, false)) return false;
  if (p->found) return true;
  row_error(imp, "unknown customer \"%s\"", id);
  return false;
}

static bool need_invoice(importer *imp, const char *id, parent *p) {
  if (!lookup(imp, imp->find_invoice, id, p, true)) return false;
  if (p->found) return true;
  row_error(imp, "unknown invoice \"%s\"", id);
  return false;
}

/* For payments and promises: customer_id, invoice_id or both, and they
 * must agree. A customer taken from the invoice is copied to `derived`.
 * *cur is the invoice's currency, else the customer's. */
static bool customer_and_invoice(importer *imp, const char **cust, const char **inv, uint16_t *cur,
                                 char derived[DN_ID_MAX]) {
  parent c, i;
  *cust = val(imp, "customer_id");
  *inv = val(imp, "invoice_id");
  *cur = DN_CUR_NONE;
  if (!*cust && !*inv) return need(imp, "customer_id", cust);
  if (*inv) {
    if (!need_invoice(imp, *inv, &i)) return false;
    if (*cust && strcmp(*cust, i.customer) != 0) {
      row_error(imp, "invoice \"%s\" belongs to customer \"%s\", not \"%s\"", *inv, i.customer, *cust);
      return false;
    }
    if (!*cust) *cust = memcpy(derived, i.customer, DN_ID_MAX);
    *cur = i.cur;
  }
  if (!need_customer(imp, *cust, &c)) return false;
  if (*cur == DN_CUR_NONE) *cur = c.cur;
  return true;
}

/* ---- insert --------------------------------------------------------- */

static void bind_text(sqlite3_stmt *st, int i, const char *s) {
  if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
  else sqlite3_bind_null(st, i);
}

static void bind_money(sqlite3_stmt *st, int i, bool present, int64_t v) {
  if (present) sqlite3_bind_int64(st, i, v);
  else sqlite3_bind_null(st, i);
}

static void report_duplicate(importer *imp, const char *k1, const char *k2, const char *k3) {
  sqlite3_stmt *d = imp->dup;
  sqlite3_reset(d);
  bind_text(d, 1, k1);
  if (k2) bind_text(d, 2, k2);
  if (k3) bind_text(d, 3, k3);
  int64_t rowid = sqlite3_step(d) == SQLITE_ROW ? sqlite3_column_int64(d, 0) : 0;
  sqlite3_reset(d);
  char earlier[48];
  snprintf(earlier, sizeof earlier, "also earlier in %s", imp->earlier);
  const char *where = rowid > imp->max_rowid_before ? earlier : "already in the ledger";
  if (strcmp(imp->t->name, "fx_rates") == 0)
    row_error(imp, "duplicate rate %s/%s on %s (%s)", k2, k3, k1, where);
  else if (strcmp(imp->t->name, "holidays") == 0)
    row_error(imp, "duplicate holiday %s in calendar \"%s\" (%s)", k2, k1, where);
  else
    row_error(imp, "duplicate id \"%s\" (%s)", k1, where);
}

/* Runs the bound insert. k1..k3 is the row's unique key, for the message. */
static bool insert_row(importer *imp, const char *k1, const char *k2, const char *k3) {
  int rc = sqlite3_step(imp->insert);
  sqlite3_reset(imp->insert);
  sqlite3_clear_bindings(imp->insert);
  if (rc == SQLITE_DONE) return true;
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    report_duplicate(imp, k1, k2, k3);
  } else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    row_error(imp, "row rejected by the ledger: %s", sqlite3_errmsg(imp->l->db));
  } else {
    db_error(imp, "insert");
  }
  return false;
}

/* Ids are kept to DN_ID_MAX - 1 bytes: a payment or promise given only
 * its invoice copies the invoice's customer id into a DN_ID_MAX buffer,
 * and a cut id would then fail as an "unknown customer". */
static bool need_id(importer *imp, const char **id) {
  if (!need(imp, "id", id)) return false;
  size_t n = strlen(*id);
  if (n < DN_ID_MAX) return true;
  row_error(imp, "id \"%.32s...\" is %zu bytes long; ids may have at most %d", *id, n, DN_ID_MAX - 1);
  return false;
}

/* ---- one function per table ----------------------------------------- */

static bool parse_number(importer *imp, const char *col, const char *text, double *out) {
  char *end;
  errno = 0;
  *out = strtod(text, &end);
  if (!errno && !*end && isfinite(*out)) return true;
  row_error(imp, "bad number \"%s\" in column \"%s\"", text, col);
  return false;
}

static bool check_attrs(importer *imp, const char *text) {
  json_error_t err;
  json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
  bool ok = j && json_is_object(j);
  json_decref(j);
  if (!ok) row_error(imp, "bad attrs %s: expected a JSON object such as {\"industry\":\"retail\"}", text);
  return ok;
}

static bool row_customer(importer *imp) {
  const char *id, *cur_text = val(imp, "currency"), *risk = val(imp, "risk_score"), *attrs = val(imp, "attrs");
  uint16_t cur = DN_CUR_NONE;
  int64_t limit = 0;
  bool has_limit = false;
  double risk_v = 0;
  if (!need_id(imp, &id)) return false;
  if (cur_text && !parse_currency(imp, "currency", cur_text, &cur)) return false;
  if (!read_money(imp, "credit_limit_minor", "credit_limit", cur, 0, &limit, &has_limit)) return false;
  if (risk && !parse_number(imp, "risk_score", risk, &risk_v)) return false;
  if (attrs && !check_attrs(imp, attrs)) return false;
  sqlite3_stmt *st = imp->insert;
  static const char *const text_cols[] = {"id", "name", "tier", "country", "timezone", "language", "email", "phone"};
  for (int i = 0; i < 8; i++) bind_text(st, i + 1, val(imp, text_cols[i]));
  bind_money(st, 9, has_limit, limit);
  bind_text(st, 10, cur_text);
  if (risk) sqlite3_bind_double(st, 11, risk_v);
  bind_text(st, 12, attrs);
  return insert_row(imp, id, NULL, NULL);
}

static bool row_invoice(importer *imp) {
  const char *id, *cust, *issue_t, *due_t, *cur_text = val(imp, "currency");
  dn_date issue, due;
  parent c;
  uint16_t cur;
  int64_t amount;
  if (!need_id(imp, &id) || !need(imp, "customer_id", &cust) || !need_customer(imp, cust, &c)) return false;
  if (!need_date(imp, "issue_date", &issue, &issue_t) || !need_date(imp, "due_date", &due, &due_t)) return false;
  if (due < issue) {
    row_error(imp, "due_date %s is before issue_date %s", due_t, issue_t);
    return false;
  }
  if (cur_text) {
    if (!parse_currency(imp, "currency", cur_text, &cur)) return false;
  } else if ((cur = c.cur) == DN_CUR_NONE) {
    row_error(imp, "missing value in column \"currency\" (customer \"%s\" has no currency either)", cust);
    return false;
  }
  if (!need_money(imp, cur, 0, &amount)) return false;
  sqlite3_stmt *st = imp->insert;
  bind_text(st, 1, id);
  bind_text(st, 2, cust);
  bind_text(st, 3, val(imp, "number"));
  bind_text(st, 4, issue_t);
  bind_text(st, 5, due_t);
  bind_text(st, 6, dn_currency_code(cur));
  sqlite3_bind_int64(st, 7, amount);
  return insert_row(imp, id, NULL, NULL);
}

static bool row_payment(importer *imp) {
  const char *id, *cust, *inv, *date_t, *cur_text = val(imp, "currency"), *status = val(imp, "status");
  dn_date date;
  uint16_t cur, given;
  int64_t amount;
  char derived[DN_ID_MAX];
  if (!need_id(imp, &id) || !customer_and_invoice(imp, &cust, &inv, &cur, derived)) return false;
  if (!need_date(imp, "date", &date, &date_t)) return false;
  if (cur_text) {
    if (!parse_currency(imp, "currency", cur_text, &given)) return false;
    if (inv && cur != DN_CUR_NONE && given != cur) {
      row_error(imp, "payment currency %s differs from invoice \"%s\" in %s", cur_text, inv, dn_currency_code(cur));
      return false;
    }
    cur = given;
  } else if (cur == DN_CUR_NONE) {
    row_error(imp, "missing value in column \"currency\" (no invoice or customer currency to take)");
    return false;
  }
  if (status && strcmp(status, "settled") != 0 && strcmp(status, "failed") != 0) {
    row_error(imp, "bad status \"%s\": expected settled or failed", status);
    return false;
  }
  if (!need_money(imp, cur, 1, &amount)) return false;
  sqlite3_stmt *st = imp->insert;
  bind_text(st, 1, id);
  bind_text(st, 2, cust);
  bind_text(st, 3, inv);
  bind_text(st, 4, date_t);
  sqlite3_bind_int64(st, 5, amount);
  bind_text(st, 6, dn_currency_code(cur));
  bind_text(st, 7, status ? status : "settled");
  return insert_row(imp, id, NULL, NULL);
}

static bool row_credit(importer *imp) {
  const char *id, *inv, *date_t;
  dn_date date;
  parent i;
  int64_t amount;
  if (!need_id(imp, &id) || !need(imp, "invoice_id", &inv) || !need_invoice(imp, inv, &i)) return false;
  if (!need_date(imp, "date", &date, &date_t) || !need_money(imp, i.cur, 1, &amount)) return false;
  sqlite3_stmt *st = imp->insert;
  bind_text(st, 1, id);
  bind_text(st, 2, inv);
  bind_text(st, 3, date_t);
  sqlite3_bind_int64(st, 4, amount);
  bind_text(st, 5, val(imp, "reason"));
  return insert_row(imp, id, NULL, NULL);
}

static bool row_dispute(importer *imp) {
  const char *id, *inv, *open_t, *res_t;
  dn_date opened, resolved;
  parent i;
  int64_t amount = 0;
  bool has_amount;
  if (!need_id(imp, &id) || !need(imp, "invoice_id", &inv) || !need_invoice(imp, inv, &i)) return false;
  if (!need_date(imp, "opened_on", &opened, &open_t) || !opt_date(imp, "resolved_on", &resolved, &res_t)) return false;
  if (res_t && resolved < opened) {
    row_error(imp, "resolved_on %s is before opened_on %s", res_t, open_t);
    return false;
  }
  if (!read_money(imp, "amount_minor", "amount", i.cur, 0, &amount, &has_amount)) return false;
  sqlite3_stmt *st = imp->insert;
  bind_text(st, 1, id);
  bind_text(st, 2, inv);
  bind_text(st, 3, open_t);
  bind_text(st, 4, res_t);
  bind_text(st, 5, val(imp, "reason"));
  bind_text(st, 6, val(imp, "owner"));
  bind_money(st, 7, has_amount, amount);
  return insert_row(imp, id, NULL, NULL);
}

static bool row_promise(importer *imp) {
  const char *id, *cust, *inv, *made_t, *prom_t;
  dn_date made, promised;
  uint16_t cur;
  int64_t amount;
  char derived[DN_ID_MAX];
  if (!need_id(imp, &id) || !customer_and_invoice(imp, &cust, &inv, &cur, derived)) return false;
  if (!need_date(imp, "made_on", &made, &made_t) || !need_date(imp, "promised_date", &promised, &prom_t)) return false;
  if (promised < made) {
    row_error(imp, "promised_date %s is before made_on %s", prom_t, made_t);
    return false;
  }
  if (!need_money(imp, cur, 1, &amount)) return false;
  sqlite3_stmt *st = imp->insert;
  bind_text(st, 1, id);
  bind_text(st, 2, cust);
  bind_text(st, 3, inv);
  bind_text(st, 4, made_t);
  bind_text(st, 5, prom_t);
  sqlite3_bind_int64(st, 6, amount);
  return insert_row(imp, id, NULL, NULL);
}

static bool row_fx_rate(importer *imp) {
  const char *date_t, *base, *quote, *rate;
  dn_date date;
  uint16_t b, q;
  dn_rate r;
  if (!need_date(imp, "date", &date, &date_t) || !need(imp, "base", &base) || !need(imp, "quote", &quote) ||
      !need(imp, "rate", &rate))
    return false;
  if (!parse_currency(imp, "base", base, &b) || !parse_currency(imp, "quote", quote, &q)) return false;
  if (b == q) {
    row_error(imp, "base and quote are both %s", base);
    return false;
  }
  if (!dn_rate_parse(rate, strlen(rate), &r) || r.num <= 0) {
    row_error(imp, "bad rate \"%s\": expected a positive decimal such as 1.0850", rate);
    return false;
  }
  sqlite3_stmt *st = imp->insert;
  bind_text(st, 1, date_t);
  bind_text(st, 2, base);
  bind_text(st, 3, quote);
  bind_text(st, 4, rate);
  return insert_row(imp, date_t, base, quote);
}

static bool row_holiday(importer *imp) {
  const char *cal, *date_t;
  dn_date date;
  if (!need(imp, "calendar", &cal) || !need_date(imp, "date", &date, &date_t)) return false;
  sqlite3_stmt *st = imp->insert;
  bind_text(st, 1, cal);
  bind_text(st, 2, date_t);
  bind_text(st, 3, val(imp, "name"));
  return insert_row(imp, cal, date_t, NULL);
}

/* ---- prior actions (in-memory rows only) ---------------------------- */

static bool known_kind(const char *k) {
  for (int i = 0; i < DN_ACT_COUNT; i++)
    if (strcmp(k, dn_action_kind_name((dn_action_kind)i)) == 0) return true;
  return false;
}

static bool known_status(const char *s) {
  static const char *const ok[] = {"scheduled", "skipped", "deferred", "sent", "cancelled"};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
    if (strcmp(s, ok[i]) == 0) return true;
  return false;
}

static bool action_invoice(importer *imp, const char *inv, const char *cust, json_t *arr) {
  parent i;
  if (!need_invoice(imp, inv, &i)) return false;
  if (strcmp(i.customer, cust) != 0) {
    row_error(imp, "invoice \"%s\" belongs to customer \"%s\", not \"%s\"", inv, i.customer, cust);
    return false;
  }
  return json_array_append_new(arr, json_string(inv)) == 0;
}

/* invoice_ids as the outbox stores it (a JSON array of ids) or, for
 * people writing rows by hand, a comma-separated list; stored as JSON. */
static bool action_invoices(importer *imp, const char *text, const char *cust, char **out) {
  json_t *arr = json_array();
  bool ok = arr != NULL;
  if (ok && text && text[0] == '[') {
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    bool shape = j && json_is_array(j);
    for (size_t k = 0; shape && k < json_array_size(j); k++) shape = json_is_string(json_array_get(j, k));
    if (!shape) row_error(imp, "bad invoice_ids %s: expected a JSON array of invoice ids", text);
    ok = shape;
    for (size_t k = 0; ok && k < json_array_size(j); k++)
      ok = action_invoice(imp, json_string_value(json_array_get(j, k)), cust, arr);
    json_decref(j);
  } else if (ok && text) {
    for (const char *p = text; ok && *p;) {
      size_t n = strcspn(p, ",");
      char id[DN_ID_MAX];
      while (n && isspace((unsigned char)*p)) p++, n--;
      size_t m = n;
      while (m && isspace((unsigned char)p[m - 1])) m--;
      snprintf(id, sizeof id, "%.*s", (int)m, p);
      if (m) ok = action_invoice(imp, id, cust, arr);
      p += n + (p[n] == ',');
    }
  }
  *out = ok ? json_dumps(arr, JSON_COMPACT) : NULL;
  json_decref(arr);
  return ok && *out;
}

static bool opt_int(importer *imp, const char *col, const char **text, int64_t *v) {
  *text = val(imp, col);
  if (!*text || parse_int64(*text, v)) return true;
  row_error(imp, "bad number \"%s\" in column \"%s\": expected a whole number", *text, col);
  return false;
}

/* A generated key cannot clash with an engine key: those are 32 hex digits. */
static void action_key(importer *imp, char key[48]) {
  snprintf(key, 48, "given-%lld", (long long)(imp->max_rowid_before + imp->rows + 1));
}

static bool row_action(importer *imp) {
  const char *key = val(imp, "key"), *as_of_t, *cust, *kind, *status = val(imp, "status");
  const char *policy = val(imp, "policy"), *prio = val(imp, "priority"), *ver_t, *run_t;
  dn_date as_of;
  parent c;
  double prio_v = 0;
  int64_t ver = 0, run = 0;
  char gen[48], *invs = NULL;
  if (!policy) policy = imp->default_policy;
  if (!policy) return need(imp, "policy", &policy);
  if (!need_date(imp, "as_of", &as_of, &as_of_t) || !need(imp, "customer_id", &cust) ||
      !need_customer(imp, cust, &c) || !need(imp, "kind", &kind))
    return false;
  if (!known_kind(kind)) {
    row_error(imp, "bad kind \"%s\": expected email, sms, letter, call, task, hold, release or escalate", kind);
    return false;
  }
  if (status && !known_status(status)) {
    row_error(imp, "bad status \"%s\": expected scheduled, skipped, deferred, sent or cancelled", status);
    return false;
  }
  if ((prio && !parse_number(imp, "priority", prio, &prio_v)) || !opt_int(imp, "policy_version", &ver_t, &ver) ||
      !opt_int(imp, "run_id", &run_t, &run))
    return false;
  if (!action_invoices(imp, val(imp, "invoice_ids"), cust, &invs)) return false;
  if (!key) action_key(imp, gen), key = gen;
  sqlite3_stmt *st = imp->insert;
  bind_text(st, 1, key);
  if (run_t) sqlite3_bind_int64(st, 2, run);
  bind_text(st, 3, as_of_t);
  bind_text(st, 4, policy);
  if (ver_t) sqlite3_bind_int64(st, 5, ver);
  bind_text(st, 6, val(imp, "rule"));
  bind_text(st, 7, val(imp, "step"));
  bind_text(st, 8, cust);
  bind_text(st, 9, invs);
  bind_text(st, 10, kind);
  bind_text(st, 11, val(imp, "tone"));
  bind_text(st, 12, val(imp, "template"));
  bind_text(st, 13, val(imp, "scheduled_at"));
  if (prio) sqlite3_bind_double(st, 14, prio_v);
  bind_text(st, 15, val(imp, "assignee"));
  bind_text(st, 16, status ? status : "scheduled");
  bind_text(st, 17, val(imp, "reason"));
  free(invs);
  return insert_row(imp, key, NULL, NULL);
}

/* ---- the tables, in load order -------------------------------------- */

#define NO_FILE SIZE_MAX
#define FILE_OFF(f) offsetof(dn_import_files, f), offsetof(dn_import_counts, f)

static const table_def tables[] = {
    {"customers", FILE_OFF(customers),
     {{"id", true}, {"name", false}, {"tier", false}, {"country", false}, {"timezone", false},
      {"language", false}, {"email", false}, {"phone", false}, {"credit_limit_minor", false},
      {"credit_limit", false}, {"currency", false}, {"risk_score", false}, {"attrs", false}},
     "credit_limit_minor", "credit_limit", false,
     "INSERT INTO customers(id, name, tier, country, timezone, language, email, phone,"
     " credit_limit_minor, currency, risk_score, attrs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
     "SELECT rowid FROM customers WHERE id = ?1", row_customer},
    {"invoices", FILE_OFF(invoices),
     {{"id", true}, {"customer_id", true}, {"number", false}, {"issue_date", true}, {"due_date", true},
      {"currency", false}, {"amount_minor", false}, {"amount", false}},
     "amount_minor", "amount", true,
     "INSERT INTO invoices(id, customer_id, number, issue_date, due_date, currency, amount_minor)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
     "SELECT rowid FROM invoices WHERE id = ?1", row_invoice},
    {"payments", FILE_OFF(payments),
     {{"id", true}, {"customer_id", false}, {"invoice_id", false}, {"date", true}, {"amount_minor", false},
      {"amount", false}, {"currency", false}, {"status", false}},
     "amount_minor", "amount", true,
     "INSERT INTO payments(id, customer_id, invoice_id, date, amount_minor, currency, status)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
     "SELECT rowid FROM payments WHERE id = ?1", row_payment},
    {"credits", FILE_OFF(credits),
     {{"id", true}, {"invoice_id", true}, {"date", true}, {"amount_minor", false}, {"amount", false},
      {"reason", false}},
     "amount_minor", "amount", true,
     "INSERT INTO credits(id, invoice_id, date, amount_minor, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
     "SELECT rowid FROM credits WHERE id = ?1", row_credit},
    {"disputes", FILE_OFF(disputes),
     {{"id", true}, {"invoice_id", true}, {"opened_on", true}, {"resolved_on", false}, {"reason", false},
      {"owner", false}, {"amount_minor", false}, {"amount", false}},
     "amount_minor", "amount", false,
     "INSERT INTO disputes(id, invoice_id, opened_on, resolved_on, reason, owner, amount_minor)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
     "SELECT rowid FROM disputes WHERE id = ?1", row_dispute},
    {"promises", FILE_OFF(promises),
     {{"id", true}, {"customer_id", false}, {"invoice_id", false}, {"made_on", true},
      {"promised_date", true}, {"amount_minor", false}, {"amount", false}},
     "amount_minor", "amount", true,
     "INSERT INTO promises(id, customer_id, invoice_id, made_on, promised_date, amount_minor)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
     "SELECT rowid FROM promises WHERE id = ?1", row_promise},
    {"fx_rates", FILE_OFF(fx_rates),
     {{"date", true}, {"base", true}, {"quote", true}, {"rate", true}},
     NULL, NULL, false,
     "INSERT INTO fx_rates(date, base, quote, rate) VALUES (?1, ?2, ?3, ?4)",
     "SELECT rowid FROM fx_rates WHERE date = ?1 AND base = ?2 AND quote = ?3", row_fx_rate},
    {"holidays", FILE_OFF(holidays),
     {{"calendar", true}, {"date", true}, {"name", false}},
     NULL, NULL, false,
     "INSERT INTO holidays(calendar, date, name) VALUES (?1, ?2, ?3)",
     "SELECT rowid FROM holidays WHERE calendar = ?1 AND date = ?2", row_holiday},
    /* Only from in-memory rows: history for tests and `decide`. */
    {"actions", NO_FILE, NO_FILE,
     {{"key", false}, {"run_id", false}, {"as_of", true}, {"policy", false}, {"policy_version", false},
      {"rule", false}, {"step", false}, {"customer_id", true}, {"invoice_ids", false}, {"kind", true},
      {"tone", false}, {"template", false}, {"scheduled_at", false}, {"priority", false},
      {"assignee", false}, {"status", false}, {"reason", false}},
     NULL, NULL, false,
     "INSERT INTO actions(key, run_id, as_of, policy, policy_version, rule, step, customer_id, invoice_ids,"
     " kind, tone, template, scheduled_at, priority, assignee, status, reason)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
     "SELECT rowid FROM actions WHERE key = ?1", row_action},
};

/* ---- the --map file ------------------------------------------------- */

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

static bool map_line(importer *imp, const char *path, int lineno, char *line) {
  char *hash = strchr(line, '#');
  if (hash) *hash = '\0';
  char *s = trim(line);
  if (!*s) return true;
  char *eq = strchr(s, '=');
  char *from = s, *to = eq ? trim(eq + 1) : NULL;
  if (eq) *eq = '\0';
  from = trim(from);
  if (!eq || !*from || !*to) {
    dn_diag_add_at(imp->diags, DN_E0503, path, lineno, "expected `their_name = our_name`");
    return false;
  }
  map_entry *m = realloc(imp->map, sizeof *m * (imp->nmap + 1));
  if (!m) return false;
  imp->map = m;
  m[imp->nmap].from = strdup(from);
  m[imp->nmap].to = strdup(to);
  imp->nmap++;
  return m[imp->nmap - 1].from && m[imp->nmap - 1].to;
}

static dn_status read_map(importer *imp, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return io_error(imp, path, strerror(errno));
  char *line = NULL;
  size_t cap = 0;
  int lineno = 0;
  bool ok = true;
  errno = 0;
  while (ok && getline(&line, &cap, f) >= 0) {
    bool bom = ++lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0;
    ok = map_line(imp, path, lineno, bom ? line + 3 : line);
  }
  int err = errno;
  bool failed = ferror(f) != 0;
  free(line);
  fclose(f);
  /* a directory opens fine and then fails to read: not an empty map */
  if (failed) return io_error(imp, path, strerror(err ? err : EIO));
  if (!ok) imp->status = DN_ERR_INPUT;
  return imp->status;
}

/* ---- one file ------------------------------------------------------- */

static bool blank_line(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != '\r' && s[i] != '\n') return false;
  return true;
}

static void parse_stream(importer *imp, FILE *f) {
  struct csv_parser p;
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0) {
    imp->oom = true;
    return;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while (!imp->stop && !imp->oom && (n = getline(&line, &cap, f)) > 0) {
    const char *s = line;
    if (++imp->line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3, n -= 3;
    if (imp->rec_line == 0 && !blank_line(s, (size_t)n)) imp->rec_line = imp->line;
    if (csv_parse(&p, s, (size_t)n, on_field, on_record, imp) != (size_t)n) {
      if (!imp->rec_line) imp->rec_line = imp->line;
      row_error(imp, "malformed quoted field: quote a field that contains a quote, and double the quote (\"\")");
      imp->stop = true;
    }
  }
  free(line);
  if (ferror(f)) io_error(imp, imp->file, strerror(errno));
  if (!imp->stop && !imp->oom && csv_fini(&p, on_field, on_record, imp) != 0) {
    row_error(imp, "unterminated quoted field");
    imp->stop = true;
  }
  csv_free(&p);
}

static dn_status prepare(importer *imp, const char *sql, sqlite3_stmt **st) {
  if (sqlite3_prepare_v2(imp->l->db, sql, -1, st, NULL) != SQLITE_OK) return db_error(imp, "prepare");
  return DN_OK;
}

/* The statement for `sql` in cache slot *slot (prepared on first use), or
 * a fresh one when there is no cache; give it back with release(). */
static dn_status prepare_kept(importer *imp, sqlite3_stmt **slot, const char *sql, sqlite3_stmt **st) {
  if (!imp->cache) return prepare(imp, sql, st);
  if (!*slot && sqlite3_prepare_v3(imp->l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
    *slot = NULL;
    return db_error(imp, "prepare");
  }
  *st = *slot;
  return DN_OK;
}

/* A kept statement is only reset: bindings cleared, so that a later call
 * sees the same fresh statement a prepare would give. */
static void release(importer *imp, sqlite3_stmt *st) {
  if (!imp->cache) {
    sqlite3_finalize(st);
  } else if (st) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
}

/* Table t's slot in one of the cache's arrays, or NULL without a cache. */
static sqlite3_stmt **slot_of(sqlite3_stmt **arr, const table_def *t) {
  return arr ? &arr[t - tables] : NULL;
}

static dn_status max_rowid(importer *imp, const table_def *t) {
  char sql[96];
  sqlite3_stmt *st;
  snprintf(sql, sizeof sql, "SELECT coalesce(max(rowid), 0) FROM %s", t->name);
  if (prepare_kept(imp, slot_of(imp->cache ? imp->cache->max_rowid : NULL, t), sql, &st) != DN_OK)
    return imp->status;
  imp->max_rowid_before = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  release(imp, st);
  return DN_OK;
}

static dn_status import_file(importer *imp, const table_def *t, const char *path, int64_t *count) {
  imp->t = t;
  imp->file = path;
  imp->line = imp->rec_line = 0;
  imp->have_header = false;
  imp->rows = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return io_error(imp, path, strerror(errno));
  if (max_rowid(imp, t) == DN_OK && prepare(imp, t->insert_sql, &imp->insert) == DN_OK &&
      prepare(imp, t->dup_sql, &imp->dup) == DN_OK)
    parse_stream(imp, f);
  fclose(f);
  sqlite3_finalize(imp->insert);
  sqlite3_finalize(imp->dup);
  imp->insert = imp->dup = NULL;
  if (imp->oom) {
    dn_diag_add_at(imp->diags, DN_E0505, path, 0, "out of memory");
    imp->status = DN_ERR_INTERNAL;
  } else if (imp->status == DN_OK && !imp->have_header) {
    imp->rec_line = 1;
    row_error(imp, "empty file: expected a header row naming the %s columns", t->name);
  }
  if (imp->errors >= DN_IMPORT_MAX_ERRORS)
    dn_diag_add_at(imp->diags, DN_E0503, path, 0, "stopped after %d errors; fix these and import again",
                   DN_IMPORT_MAX_ERRORS);
  *count = imp->rows;
  return imp->status;
}

/* ---- the whole import ----------------------------------------------- */

static void importer_free(importer *imp) {
  for (size_t i = 0; i < imp->nmap; i++) free(imp->map[i].from), free(imp->map[i].to);
  free(imp->map);
  free(imp->buf);
  free(imp->offs);
  release(imp, imp->find_customer);
  release(imp, imp->find_invoice);
}

static dn_status import_all(importer *imp, const dn_import_files *files, dn_import_counts *counts) {
  if (files->map_path && read_map(imp, files->map_path) != DN_OK) return imp->status;
  if (prepare(imp, "SELECT currency FROM customers WHERE id = ?1", &imp->find_customer) != DN_OK ||
      prepare(imp, "SELECT currency, customer_id FROM invoices WHERE id = ?1", &imp->find_invoice) != DN_OK)
    return imp->status;
  for (size_t i = 0; i < sizeof tables / sizeof *tables && imp->status == DN_OK; i++) {
    if (tables[i].file_off == NO_FILE) continue;
    const char *path = *(const char *const *)((const char *)files + tables[i].file_off);
    if (path) import_file(imp, &tables[i], path, (int64_t *)((char *)counts + tables[i].count_off));
  }
  return imp->status;
}

_Static_assert(sizeof tables / sizeof *tables <= CACHE_TABLES, "dn_row_cache has a slot per table");

dn_status dn_ledger_import(dn_ledger *l, const dn_import_files *files, dn_import_counts *counts,
                           dn_diags *diags) {
  importer imp;
  memset(&imp, 0, sizeof imp);
  imp.l = l;
  imp.diags = diags;
  imp.cell = imp.header_cell = csv_cell;
  imp.earlier = "this file";
  memset(counts, 0, sizeof *counts);
  if (sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return db_error(&imp, "begin import");
  dn_status st = import_all(&imp, files, counts);
  importer_free(&imp);
  if (st == DN_OK && sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) st = db_error(&imp, "commit import");
  if (st != DN_OK) {
    sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    memset(counts, 0, sizeof *counts);
  }
  return st;
}

/* ---- rows from memory (policy tests, decide, serve) ------------------ */

static const table_def *find_table(const char *name) {
  for (size_t i = 0; name && i < sizeof tables / sizeof *tables; i++)
    if (strcmp(tables[i].name, name) == 0) return &tables[i];
  return NULL;
}

static bool rows_tables_known(importer *imp, const dn_row *rows, size_t n) {
  bool ok = true;
  for (size_t r = 0; r < n; r++) {
    if (find_table(rows[r].table)) continue;
    const char *best = NULL;
    int best_d = 3;
    for (size_t i = 0; rows[r].table && i < sizeof tables / sizeof *tables; i++) {
      int d = dn_edit_distance(rows[r].table, tables[i].name);
      if (d < best_d) best_d = d, best = tables[i].name;
    }
    imp->file = rows[r].origin;
    imp->rec_line = 0;
    if (best) row_error(imp, "unknown table \"%s\"; did you mean \"%s\"?", rows[r].table ? rows[r].table : "", best);
    else row_error(imp, "unknown table \"%s\"", rows[r].table ? rows[r].table : "");
    ok = false;
  }
  return ok;
}

static bool row_names_utf8(importer *imp) {
  for (int f = 0; f < imp->nfields; f++) {
    const char *name = row_name(imp, f);
    if (name && utf8_invalid_at((const unsigned char *)name) >= 0) {
      row_error(imp, "the name of column %d is not valid UTF-8", f + 1);
      return false;
    }
  }
  return true;
}

/* One row: its names play the CSV header, its values the record. */
static void insert_one(importer *imp, const dn_row *row) {
  imp->row = row;
  imp->file = row->origin ? row->origin : "row";
  imp->rec_line = 0;
  imp->nfields = row->n < 0 ? 0 : row->n;
  imp->header_cell = row_name;
  imp->cell = row_cell;
  bool ok = row_names_utf8(imp) && row_is_utf8(imp) && bind_columns(imp);
  if (ok && imp->t->row(imp)) imp->rows++;
}

static dn_status insert_table(importer *imp, const table_def *t, const dn_row *rows, size_t n) {
  bool any = false;
  for (size_t r = 0; r < n && !any; r++) any = find_table(rows[r].table) == t;
  if (!any) return imp->status;
  imp->t = t;
  imp->rows = 0;
  dn_row_cache *c = imp->cache;
  if (max_rowid(imp, t) == DN_OK &&
      prepare_kept(imp, slot_of(c ? c->insert : NULL, t), t->insert_sql, &imp->insert) == DN_OK &&
      prepare_kept(imp, slot_of(c ? c->dup : NULL, t), t->dup_sql, &imp->dup) == DN_OK)
    for (size_t r = 0; r < n && !imp->stop; r++)
      if (find_table(rows[r].table) == t) insert_one(imp, &rows[r]);
  release(imp, imp->insert);
  release(imp, imp->dup);
  imp->insert = imp->dup = NULL;
  if (imp->errors >= DN_IMPORT_MAX_ERRORS)
    dn_diag_add_at(imp->diags, DN_E0503, imp->file, 0, "stopped after %d errors; nothing was inserted",
                   DN_IMPORT_MAX_ERRORS);
  return imp->status;
}

static dn_status insert_all(importer *imp, const dn_row *rows, size_t n) {
  if (!rows_tables_known(imp, rows, n)) return imp->status;
  dn_row_cache *c = imp->cache;
  if (prepare_kept(imp, c ? &c->find_customer : NULL, "SELECT currency FROM customers WHERE id = ?1",
                   &imp->find_customer) != DN_OK ||
      prepare_kept(imp, c ? &c->find_invoice : NULL, "SELECT currency, customer_id FROM invoices WHERE id = ?1",
                   &imp->find_invoice) != DN_OK)
    return imp->status;
  /* As with CSV files, a table with errors ends the load: the rows of
   * later tables would only fail for want of their rejected parents. */
  for (size_t i = 0; i < sizeof tables / sizeof *tables && imp->status == DN_OK; i++)
    insert_table(imp, &tables[i], rows, n);
  return imp->status;
}

static void cache_clear(dn_row_cache *c) {
  for (int i = 0; i < CACHE_TABLES; i++) {
    sqlite3_finalize(c->max_rowid[i]);
    sqlite3_finalize(c->insert[i]);
    sqlite3_finalize(c->dup[i]);
  }
  sqlite3_finalize(c->find_customer);
  sqlite3_finalize(c->find_invoice);
  memset(c, 0, sizeof *c);
}

dn_row_cache *dn_row_cache_new(void) { return calloc(1, sizeof(dn_row_cache)); }

void dn_row_cache_free(dn_row_cache *c) {
  if (!c) return;
  cache_clear(c);
  free(c);
}

static dn_status insert_history(dn_ledger *l, dn_row_cache *cache, const char *policy, const dn_row *rows,
                                size_t n, dn_diags *diags);

dn_status dn_ledger_insert_history(dn_ledger *l, const char *policy, const dn_row *rows, size_t n,
                                   dn_diags *diags) {
  return insert_history(l, NULL, policy, rows, n, diags);
}

dn_status dn_ledger_insert_history_cached(dn_ledger *l, dn_row_cache *cache, const char *policy,
                                          const dn_row *rows, size_t n, dn_diags *diags) {
  /* Statements belong to one connection: a cache moved to another ledger
   * starts over. */
  if (cache && cache->db != l->db) {
    cache_clear(cache);
    cache->db = l->db;
  }
  return insert_history(l, cache, policy, rows, n, diags);
}

static dn_status insert_history(dn_ledger *l, dn_row_cache *cache, const char *policy, const dn_row *rows,
                                size_t n, dn_diags *diags) {
  importer imp;
  memset(&imp, 0, sizeof imp);
  imp.l = l;
  imp.cache = cache;
  imp.diags = diags;
  imp.default_policy = policy;
  imp.earlier = "these rows";
  /* A savepoint nests in the caller's transaction, or is one itself. */
  if (sqlite3_exec(l->db, "SAVEPOINT dn_rows", NULL, NULL, NULL) != SQLITE_OK) return db_error(&imp, "begin rows");
  dn_status st = insert_all(&imp, rows, n);
  importer_free(&imp);
  if (st == DN_OK && sqlite3_exec(l->db, "RELEASE dn_rows", NULL, NULL, NULL) != SQLITE_OK)
    st = db_error(&imp, "commit rows");
  if (st != DN_OK) {
    sqlite3_exec(l->db, "ROLLBACK TO dn_rows", NULL, NULL, NULL);
    sqlite3_exec(l->db, "RELEASE dn_rows", NULL, NULL, NULL);
  }
  return st;
}

dn_status dn_ledger_insert_rows(dn_ledger *l, const dn_row *rows, size_t n, dn_diags *diags) {
  return dn_ledger_insert_history(l, NULL, rows, n, diags);
}

dn_status dn_ledger_open_memory(dn_ledger *out, dn_diags *diags) {
  return dn_ledger_open(":memory:", DN_LEDGER_CREATE, out, diags);
}
