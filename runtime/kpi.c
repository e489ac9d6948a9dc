/* kpi.c - the figures of `dunlin kpi` (kpi.h) from a ledger as of D.
 *
 * Reads every invoice issued <= D with its settled payments and credits
 * dated <= D (converted to the invoice's currency) once, then evaluates
 * balances at each date a figure needs (D, month starts and ends) in
 * memory: balance at X = amount - movements dated <= X. Each balance is
 * converted to the reporting currency at D's rates (runtime/fx.c, the
 * rules of `run`), one half-even rounding per invoice; the sums are exact.
 * Ratios are computed in 128-bit integers and rounded half to even to
 * hundredths. docs/kpi.md states every choice the spec leaves open. */
#include "runtime/kpi.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/fx.h"
#include "runtime/vec.h"
#include "stdlib/money.h"

typedef __int128 i128;

typedef struct kpi_mov {
  dn_date date;
  int64_t amount; /* in the invoice's currency */
} kpi_mov;

typedef struct kpi_inv {
  dn_date issue, due;
  uint16_t cur;
  int64_t amount;
  int32_t m0, m1; /* its movements, by date: mov[m0..m1) */
} kpi_inv;

typedef struct kpi_ctx {
  sqlite3 *db;
  const char *name;
  dn_fx *fx;
  dn_diags *diags;
  dn_date as_of;
  char as_of_text[11];
  uint16_t rc; /* reporting currency */
  bool overflow;
  VEC(kpi_inv) inv;
  VEC(kpi_mov) mov;
} kpi_ctx;

/* What an AR snapshot at a date adds up. */
typedef struct ar_snap {
  int64_t open, current, count;
  int64_t aging[DN_KPI_AGING_BUCKETS];
} ar_snap;

static const char *const kAgingLabel[DN_KPI_AGING_BUCKETS] = {"current", "1-30", "31-60", "61-90",
                                                             "90+"};

const char *dn_kpi_aging_label(int i) {
  return i >= 0 && i < DN_KPI_AGING_BUCKETS ? kAgingLabel[i] : "?";
}

void dn_kpi_options_init(dn_kpi_options *o, dn_date as_of) {
  memset(o, 0, sizeof *o);
  o->as_of = as_of;
  o->period_days = 90;
  o->currency = DN_CUR_NONE;
}

/* ---- exact ratios ------------------------------------------------------ */

/* n / d rounded half to even, clamped to int64 (only absurd ledgers,
 * a few cents of sales against billions open, get that far). */
static int64_t div_half_even(i128 n, i128 d) {
  if (d < 0) {
    n = -n;
    d = -d;
  }
  i128 q = n / d, r = n % d;
  i128 twice = (r < 0 ? -r : r) * 2;
  if (twice > d || (twice == d && (q % 2 != 0))) q += n < 0 ? -1 : 1;
  if (q > INT64_MAX) return INT64_MAX;
  if (q < INT64_MIN) return INT64_MIN;
  return (int64_t)q;
}

/* num * scale / den to hundredths; undefined when den is 0. */
static dn_kpi_ratio ratio(int64_t num, int64_t scale, int64_t den) {
  dn_kpi_ratio r = {false, 0};
  if (den == 0) return r;
  r.defined = true;
  r.centi = div_half_even((i128)num * scale * 100, den);
  return r;
}

void dn_kpi_ratio_format(dn_kpi_ratio r, char *buf) {
  if (!r.defined) {
    strcpy(buf, "null");
    return;
  }
  uint64_t a = r.centi < 0 ? (uint64_t)0 - (uint64_t)r.centi : (uint64_t)r.centi;
  snprintf(buf, 32, "%s%llu.%02llu", r.centi < 0 ? "-" : "", (unsigned long long)(a / 100),
           (unsigned long long)(a % 100));
}

/* ---- reading ----------------------------------------------------------- */

static dn_status sql_error(kpi_ctx *c, const char *what) {
  dn_diag_add_at(c->diags, DN_E0502, c->name, 0, "%s: %s", what, sqlite3_errmsg(c->db));
  return DN_ERR_INPUT;
}

static dn_status prepare(kpi_ctx *c, const char *sql, sqlite3_stmt **st) {
  if (sqlite3_prepare_v2(c->db, sql, -1, st, NULL) != SQLITE_OK) return sql_error(c, "reading the ledger");
  sqlite3_bind_text(*st, 1, c->as_of_text, -1, SQLITE_STATIC);
  return DN_OK;
}

static dn_date col_date(sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  dn_date d;
  if (!t || !dn_date_parse((const char *)t, (size_t)sqlite3_column_bytes(st, i), &d)) return DN_DATE_NONE;
  return d;
}

/* A currency column; NULL gives dflt, an unknown code DN_CUR_NONE. */
static uint16_t col_cur(sqlite3_stmt *st, int i, uint16_t dflt) {
  const unsigned char *t = sqlite3_column_text(st, i);
  if (!t) return dflt;
  return dn_currency_lookup((const char *)t, (size_t)sqlite3_column_bytes(st, i));
}

static dn_status missing_rate(kpi_ctx *c, uint16_t from, uint16_t to, const char *why) {
  char d[11];
  dn_date_format(c->as_of, d);
  dn_diag *g = dn_diag_add_at(c->diags, DN_E0501, c->name, 0,
                              "no fx rate %s/%s on or before %s (%s)", dn_currency_code(from),
                              dn_currency_code(to), d, why);
  dn_diag_hint(g, "import a %s/%s row into fx_rates, or choose another --currency",
               dn_currency_code(from), dn_currency_code(to));
  return DN_ERR_INPUT;
}

/* --currency, else the most common invoice currency (ties: the first
 * code alphabetically), else USD for a ledger without invoices. */
static dn_status choose_currency(kpi_ctx *c, uint16_t wanted) {
  if (wanted != DN_CUR_NONE) {
    c->rc = wanted;
    return DN_OK;
  }
  sqlite3_stmt *q;
  dn_status st = prepare(c,
                         "SELECT COALESCE(i.currency, c.currency) AS cur, COUNT(*) AS n"
                         " FROM invoices i LEFT JOIN customers c ON c.id = i.customer_id"
                         " WHERE i.issue_date <= ?1 AND cur IS NOT NULL"
                         " GROUP BY cur ORDER BY n DESC, cur LIMIT 1",
                         &q);
  if (st != DN_OK) return st;
  c->rc = dn_currency_lookup("USD", 3);
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    c->rc = col_cur(q, 0, DN_CUR_NONE);
    if (c->rc == DN_CUR_NONE) {
      dn_diag_add_at(c->diags, DN_E0506, c->name, 0, "invoices in an unknown currency '%s'",
                     (const char *)sqlite3_column_text(q, 0));
      st = DN_ERR_INPUT;
    }
  } else if (rc != SQLITE_DONE) {
    st = sql_error(c, "reading the ledger");
  }
  sqlite3_finalize(q);
  return st;
}

static dn_status bad_invoice(kpi_ctx *c, const char *id, const char *what) {
  dn_diag_add_at(c->diags, DN_E0506, c->name, 0, "invoice %s: %s", id ? id : "?", what);
  return DN_ERR_INPUT;
}

/* The invoice row of q (columns id, issue, due, currency, amount). */
static dn_status add_invoice(kpi_ctx *c, sqlite3_stmt *q) {
  const char *id = (const char *)sqlite3_column_text(q, 0);
  kpi_inv *v = VEC_PUSH(c->inv);
  if (!v) return DN_ERR_INTERNAL;
  v->issue = col_date(q, 1);
  v->due = col_date(q, 2);
  v->cur = col_cur(q, 3, c->rc);
  v->amount = sqlite3_column_int64(q, 4);
  v->m0 = v->m1 = c->mov.n;
  if (v->issue == DN_DATE_NONE || v->due == DN_DATE_NONE) return bad_invoice(c, id, "bad issue or due date");
  if (v->cur == DN_CUR_NONE) return bad_invoice(c, id, "unknown currency");
  int64_t conv;
  if (!dn_fx_convert(c->fx, v->amount, v->cur, c->rc, &conv))
    return missing_rate(c, v->cur, c->rc, "invoice currency to the reporting currency");
  return DN_OK;
}

/* The movement row of q (invoice_id, date, amount, currency or NULL) on
 * invoice v, converted to its currency. */
static dn_status add_movement(kpi_ctx *c, sqlite3_stmt *q, kpi_inv *v) {
  dn_date d = col_date(q, 1);
  if (d == DN_DATE_NONE) return DN_OK; /* import rejects these; an old ledger may hold them */
  uint16_t cur = col_cur(q, 3, v->cur);
  if (cur == DN_CUR_NONE) return bad_invoice(c, (const char *)sqlite3_column_text(q, 0), "payment in an unknown currency");
  kpi_mov *m = VEC_PUSH(c->mov);
  if (!m) return DN_ERR_INTERNAL;
  m->date = d;
  if (!dn_fx_convert(c->fx, sqlite3_column_int64(q, 2), cur, v->cur, &m->amount))
    return missing_rate(c, cur, v->cur, "payment currency to its invoice's currency");
  v->m1 = c->mov.n;
  return DN_OK;
}

/* Invoices by id and their movements by invoice id then date, merged. */
static const char kInvoiceSql[] =
    "SELECT i.id, i.issue_date, i.due_date, COALESCE(i.currency, c.currency), i.amount_minor"
    " FROM invoices i LEFT JOIN customers c ON c.id = i.customer_id"
    " WHERE i.issue_date <= ?1 ORDER BY i.id";
static const char kMovementSql[] =
    "SELECT invoice_id, date, amount_minor, currency FROM payments"
    " WHERE date <= ?1 AND status = 'settled' AND invoice_id IS NOT NULL"
    " UNION ALL SELECT invoice_id, date, amount_minor, NULL FROM credits WHERE date <= ?1"
    " ORDER BY 1, 2";

static dn_status load(kpi_ctx *c) {
  sqlite3_stmt *qi = NULL, *qm = NULL;
  dn_status st = prepare(c, kInvoiceSql, &qi);
  if (st == DN_OK) st = prepare(c, kMovementSql, &qm);
  int rm = st == DN_OK ? sqlite3_step(qm) : SQLITE_DONE;
  int ri = SQLITE_DONE;
  while (st == DN_OK && (ri = sqlite3_step(qi)) == SQLITE_ROW) {
    st = add_invoice(c, qi);
    const char *id = (const char *)sqlite3_column_text(qi, 0);
    /* Movements of invoices not issued by D (or unknown) sort before or
     * between and are passed over. */
    while (st == DN_OK && rm == SQLITE_ROW && id) {
      const char *mid = (const char *)sqlite3_column_text(qm, 0);
      int cmp = strcmp(mid ? mid : "", id);
      if (cmp > 0) break;
      if (cmp == 0) st = add_movement(c, qm, &c->inv.items[c->inv.n - 1]);
      rm = sqlite3_step(qm);
    }
    if (st == DN_OK && rm != SQLITE_ROW && rm != SQLITE_DONE) st = sql_error(c, "reading payments");
  }
  if (st == DN_OK && ri != SQLITE_DONE) st = sql_error(c, "reading invoices");
  sqlite3_finalize(qi);
  sqlite3_finalize(qm);
  return st;
}

/* ---- figures ----------------------------------------------------------- */

static void add_to(kpi_ctx *c, int64_t *sum, int64_t v) {
  if (__builtin_add_overflow(*sum, v, sum)) c->overflow = true;
}

static int64_t balance_at(const kpi_ctx *c, const kpi_inv *v, dn_date x, bool *overflow) {
  int64_t bal = v->amount;
  for (int32_t i = v->m0; i < v->m1 && c->mov.items[i].date <= x; i++)
    if (__builtin_sub_overflow(bal, c->mov.items[i].amount, &bal)) *overflow = true;
  return bal;
}

static int aging_bucket(int32_t days_past_due) {
  if (days_past_due <= 0) return 0;
  if (days_past_due <= 30) return 1;
  if (days_past_due <= 60) return 2;
  if (days_past_due <= 90) return 3;
  return 4;
}

/* Open balances at x in the reporting currency; current: due_date >= x. */
static ar_snap ar_at(kpi_ctx *c, dn_date x) {
  ar_snap s;
  memset(&s, 0, sizeof s);
  for (int32_t i = 0; i < c->inv.n; i++) {
    const kpi_inv *v = &c->inv.items[i];
    if (v->issue > x) continue;
    int64_t bal = balance_at(c, v, x, &c->overflow), conv;
    if (bal <= 0) continue;
    if (!dn_fx_convert(c->fx, bal, v->cur, c->rc, &conv)) {
      c->overflow = true; /* rates were checked at load: only overflow is left */
      continue;
    }
    s.count++;
    add_to(c, &s.open, conv);
    if (v->due >= x) add_to(c, &s.current, conv);
    add_to(c, &s.aging[aging_bucket(x - v->due)], conv);
  }
  return s;
}

/* Amounts of invoices issued in (after, upto]. */
static int64_t sales_in(kpi_ctx *c, dn_date after, dn_date upto) {
  int64_t sum = 0, conv;
  for (int32_t i = 0; i < c->inv.n; i++) {
    const kpi_inv *v = &c->inv.items[i];
    if (v->issue <= after || v->issue > upto) continue;
    if (!dn_fx_convert(c->fx, v->amount, v->cur, c->rc, &conv)) c->overflow = true;
    else add_to(c, &sum, conv);
  }
  return sum;
}


static void month_figures(kpi_ctx *c, dn_kpi_month *m, int32_t period) {
  m->ar_start = ar_at(c, m->first - 1).open;
  m->sales = sales_in(c, m->first - 1, m->last);
  ar_snap end = ar_at(c, m->last);
  m->ar_end = end.open;
  m->current_end = end.current;
  int64_t num = 0, den = 0;
  add_to(c, &num, m->ar_start);
  add_to(c, &num, m->sales);
  den = num;
  if (__builtin_sub_overflow(num, m->ar_end, &num) || __builtin_sub_overflow(den, m->current_end, &den))
    c->overflow = true;
  m->cei = ratio(num, 100, den);
  int64_t window = sales_in(c, m->last - period, m->last);
  m->dso = ratio(end.open, period, window);
  m->best_possible_dso = ratio(end.current, period, window);
}

static void set_month(dn_kpi_month *m, int y, int mo, dn_date last) {
  memset(m, 0, sizeof *m);
  m->year = y;
  m->month = mo;
  m->first = dn_date_from_ymd(y, mo, 1);
  m->last = last;
}

/* The last twelve calendar months ending on or before D, less those
 * that end before the first invoice was issued; then D's own month to
 * date when D is not a month end. */
static void months(kpi_ctx *c, dn_kpi *k) {
  int y, mo, d;
  dn_date_to_ymd(c->as_of, &y, &mo, &d);
  dn_date first_issue = c->as_of + 1;
  for (int32_t i = 0; i < c->inv.n; i++)
    if (c->inv.items[i].issue < first_issue) first_issue = c->inv.items[i].issue;
  k->has_mtd = d != dn_days_in_month(y, mo);
  if (k->has_mtd) {
    set_month(&k->mtd, y, mo, c->as_of);
    month_figures(c, &k->mtd, k->period_days);
  }
  int ey = y, em = mo;
  if (k->has_mtd && --em == 0) {
    em = 12;
    ey--;
  }
  /* Oldest first: start eleven months before the last one. */
  int sy = ey, sm = em - (DN_KPI_MAX_MONTHS - 1);
  while (sm <= 0) {
    sm += 12;
    sy--;
  }
  k->nmonths = 0;
  for (int i = 0; i < DN_KPI_MAX_MONTHS; i++) {
    dn_date last = dn_date_from_ymd(sy, sm, dn_days_in_month(sy, sm));
    if (last >= first_issue) {
      dn_kpi_month *m = &k->months[k->nmonths++];
      set_month(m, sy, sm, last);
      month_figures(c, m, k->period_days);
    }
    if (++sm == 13) {
      sm = 1;
      sy++;
    }
  }
}

/* Settled payments towards a promise, in its currency: the customer's
 * payments on the promised invoice (any of them when the promise names
 * none), dated in [made_on, promised_date + grace]. */
static dn_status promise_paid(kpi_ctx *c, sqlite3_stmt *pay, sqlite3_stmt *pr, uint16_t cur,
                              const char *end, int64_t *paid) {
  sqlite3_reset(pay);
  sqlite3_bind_value(pay, 1, sqlite3_column_value(pr, 0));
  sqlite3_bind_value(pay, 2, sqlite3_column_value(pr, 1));
  sqlite3_bind_value(pay, 3, sqlite3_column_value(pr, 2));
  sqlite3_bind_text(pay, 4, end, -1, SQLITE_TRANSIENT);
  *paid = 0;
  int rc;
  while ((rc = sqlite3_step(pay)) == SQLITE_ROW) {
    uint16_t from = col_cur(pay, 1, cur);
    int64_t m;
    if (from == DN_CUR_NONE) return bad_invoice(c, (const char *)sqlite3_column_text(pr, 1), "payment in an unknown currency");
    if (!dn_fx_convert(c->fx, sqlite3_column_int64(pay, 0), from, cur, &m))
      return missing_rate(c, from, cur, "payment currency to a promise's currency");
    add_to(c, paid, m);
  }
  return rc == SQLITE_DONE ? DN_OK : sql_error(c, "reading payments");
}

static dn_status promises(kpi_ctx *c, dn_kpi *k) {
  sqlite3_stmt *pr = NULL, *pay = NULL;
  dn_status st = prepare(c,
                         "SELECT p.customer_id, p.invoice_id, p.made_on, p.promised_date, p.amount_minor,"
                         " COALESCE(i.currency, ic.currency, c.currency) FROM promises p"
                         " LEFT JOIN invoices i ON i.id = p.invoice_id AND i.issue_date <= ?1"
                         " LEFT JOIN customers ic ON ic.id = i.customer_id"
                         " LEFT JOIN customers c ON c.id = p.customer_id"
                         " WHERE p.made_on <= ?1",
                         &pr);
  if (st == DN_OK &&
      sqlite3_prepare_v2(c->db,
                         "SELECT p.amount_minor, COALESCE(p.currency, i.currency, c.currency)"
                         " FROM payments p LEFT JOIN invoices i ON i.id = p.invoice_id"
                         " LEFT JOIN customers c ON c.id = p.customer_id"
                         " WHERE p.customer_id = ?1 AND (?2 IS NULL OR p.invoice_id = ?2)"
                         " AND p.status = 'settled' AND p.date >= ?3 AND p.date <= ?4",
                         -1, &pay, NULL) != SQLITE_OK)
    st = sql_error(c, "reading payments");
  int rc = SQLITE_DONE;
  while (st == DN_OK && (rc = sqlite3_step(pr)) == SQLITE_ROW) {
    dn_date made = col_date(pr, 2), promised = col_date(pr, 3);
    if (made == DN_DATE_NONE || promised == DN_DATE_NONE) continue;
    dn_date end = promised + k->promise_grace_days;
    if (end > c->as_of) continue; /* not due yet: neither kept nor broken */
    char end_text[11];
    dn_date_format(end, end_text);
    int64_t paid;
    st = promise_paid(c, pay, pr, col_cur(pr, 5, c->rc), end_text, &paid);
    k->promises_due++;
    if (paid >= sqlite3_column_int64(pr, 4)) k->promises_kept++;
  }
  if (st == DN_OK && rc != SQLITE_DONE) st = sql_error(c, "reading promises");
  sqlite3_finalize(pr);
  sqlite3_finalize(pay);
  k->promise_kept_rate = ratio(k->promises_kept, 1, k->promises_due);
  return st;
}

static dn_status disputes(kpi_ctx *c, dn_kpi *k) {
  sqlite3_stmt *q;
  dn_status st = prepare(c,
                         "SELECT opened_on, resolved_on FROM disputes WHERE opened_on <= ?1"
                         " AND resolved_on IS NOT NULL AND resolved_on <= ?1",
                         &q);
  if (st != DN_OK) return st;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    dn_date o = col_date(q, 0), r = col_date(q, 1);
    if (o == DN_DATE_NONE || r == DN_DATE_NONE || r < o) continue;
    k->disputes_resolved++;
    k->dispute_days += r - o;
  }
  if (rc != SQLITE_DONE) st = sql_error(c, "reading disputes");
  sqlite3_finalize(q);
  k->dispute_resolution_days = ratio(k->dispute_days, 1, k->disputes_resolved);
  return st;
}

static void headline(kpi_ctx *c, dn_kpi *k) {
  ar_snap s = ar_at(c, c->as_of);
  k->open_invoices = s.count;
  k->open_ar = s.open;
  k->current_ar = s.current;
  memcpy(k->aging, s.aging, sizeof k->aging);
  k->sales = sales_in(c, c->as_of - k->period_days, c->as_of);
  k->dso = ratio(k->open_ar, k->period_days, k->sales);
  k->best_possible_dso = ratio(k->current_ar, k->period_days, k->sales);
  /* The difference of the two rounded figures, so the printed
   * add = dso - best_possible_dso holds exactly. */
  k->add.defined = k->dso.defined && k->best_possible_dso.defined;
  k->add.centi = k->add.defined ? k->dso.centi - k->best_possible_dso.centi : 0;
}

dn_status dn_kpi_compute(dn_ledger *l, const dn_kpi_options *opt, dn_kpi *out, dn_diags *diags) {
  memset(out, 0, sizeof *out);
  out->as_of = opt->as_of;
  out->period_days = opt->period_days > 0 ? opt->period_days : 90;
  out->promise_grace_days = opt->promise_grace_days > 0 ? opt->promise_grace_days : 0;
  kpi_ctx c;
  memset(&c, 0, sizeof c);
  c.db = l->db;
  c.name = l->path ? l->path : "ledger";
  c.diags = diags;
  c.as_of = opt->as_of;
  dn_date_format(opt->as_of, c.as_of_text);
  dn_status st = dn_fx_open(c.db, c.name, c.as_of, &c.fx, diags);
  if (st == DN_OK) st = choose_currency(&c, opt->currency);
  if (st == DN_OK) st = load(&c);
  if (st == DN_OK) {
    out->currency = c.rc;
    headline(&c, out);
    months(&c, out);
    st = promises(&c, out);
  }
  if (st == DN_OK) st = disputes(&c, out);
  if (st == DN_OK && c.overflow) {
    dn_diag_add_at(diags, DN_E0507, c.name, 0, "amounts overflow 64-bit minor units");
    st = DN_ERR_INPUT;
  }
  dn_fx_close(c.fx);
  free(c.inv.items);
  free(c.mov.items);
  return st;
}
