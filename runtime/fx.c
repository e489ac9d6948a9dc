/* fx.c - the ledger's exchange rates as of a date (fx.h): the two rate
 * queries and a small per-pair cache. Moved out of facts.c so that kpi
 * converts with exactly the rules of run. */
#include "runtime/fx.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/vec.h"
#include "stdlib/money.h"

/* A conversion as of D: a direct (or inverse) rate, or, where the ledger
 * quotes both currencies only against a third (EUR/USD and GBP/USD for a
 * GBP invoice in an EUR policy), the cross rate through that pivot. */
typedef struct fx_entry {
  uint16_t from, to;
  bool found;
  dn_money_plan plan; /* prepared once: the reader converts many amounts per pair */
} fx_entry;

struct dn_fx {
  char as_of_text[11];
  sqlite3_stmt *rate_stmt, *pivot_stmt;
  VEC(fx_entry) cache;
  int32_t last; /* index of the last entry used */
};

/* LEDGER.md: the latest rate dated <= D applies, and the inverse pair
 * only where only it is given: a direct row wins over a later inverse.
 * One pair, one direction a query: a seek on fx_rates_pair and one row
 * (both directions in one OR sorted every row of the pair up to D, about
 * 700k instructions a day and pair on a daily-rated ledger). */
static const char kRateSql[] =
    "SELECT rate FROM fx_rates WHERE base = ?2 AND quote = ?3 AND date <= ?1"
    " ORDER BY date DESC LIMIT 1";

/* Pivot candidates: currencies quoted against both sides as of D; the
 * alphabetically first wins, so the choice is deterministic. */
static const char kPivotSql[] =
    "SELECT CASE WHEN base = ?2 THEN quote ELSE base END FROM fx_rates"
    " WHERE date <= ?1 AND (base = ?2 OR quote = ?2)"
    " INTERSECT"
    " SELECT CASE WHEN base = ?3 THEN quote ELSE base END FROM fx_rates"
    " WHERE date <= ?1 AND (base = ?3 OR quote = ?3)"
    " ORDER BY 1 LIMIT 1";

dn_status dn_fx_open(sqlite3 *db, const char *ledger_name, dn_date as_of, dn_fx **out,
                     dn_diags *diags) {
  *out = NULL;
  dn_fx *fx = calloc(1, sizeof *fx);
  if (!fx) return DN_ERR_INTERNAL;
  dn_date_format(as_of, fx->as_of_text);
  const char *what = NULL;
  if (sqlite3_prepare_v2(db, kRateSql, -1, &fx->rate_stmt, NULL) != SQLITE_OK)
    what = "preparing the fx query";
  else if (sqlite3_prepare_v2(db, kPivotSql, -1, &fx->pivot_stmt, NULL) != SQLITE_OK)
    what = "preparing the fx pivot query";
  if (what) {
    dn_diag_add_at(diags, DN_E0502, ledger_name ? ledger_name : "ledger", 0, "%s: %s", what,
                   sqlite3_errmsg(db));
    dn_fx_close(fx);
    return DN_ERR_INPUT;
  }
  *out = fx;
  return DN_OK;
}

void dn_fx_close(dn_fx *fx) {
  if (!fx) return;
  sqlite3_finalize(fx->rate_stmt);
  sqlite3_finalize(fx->pivot_stmt);
  free(fx->cache.items);
  free(fx);
}

static void bind_pair(dn_fx *fx, sqlite3_stmt *q, uint16_t a, uint16_t b) {
  sqlite3_reset(q);
  sqlite3_bind_text(q, 1, fx->as_of_text, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, dn_currency_code(a), -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 3, dn_currency_code(b), -1, SQLITE_STATIC);
}

/* The latest row of base -> quote dated <= D: 1 found (and *rate set,
 * when it parses to a positive rate; else 0), -1 no row. */
static int latest_rate(dn_fx *fx, uint16_t base, uint16_t quote, dn_rate *rate) {
  sqlite3_stmt *q = fx->rate_stmt;
  int found = -1;
  bind_pair(fx, q, base, quote);
  if (sqlite3_step(q) == SQLITE_ROW) {
    const char *text = (const char *)sqlite3_column_text(q, 0);
    found = text && dn_rate_parse(text, strlen(text), rate) && rate->num > 0;
  }
  sqlite3_reset(q);
  return found;
}

/* The latest rate dated <= D between from and to, either way round. */
static bool direct_rate(dn_fx *fx, uint16_t from, uint16_t to, dn_rate *rate, bool *invert) {
  int found = latest_rate(fx, from, to, rate);
  *invert = found < 0;
  if (found < 0) found = latest_rate(fx, to, from, rate);
  return found > 0;
}

static uint16_t find_pivot(dn_fx *fx, uint16_t from, uint16_t to) {
  sqlite3_stmt *q = fx->pivot_stmt;
  uint16_t pivot = DN_CUR_NONE;
  bind_pair(fx, q, from, to);
  if (sqlite3_step(q) == SQLITE_ROW) {
    const char *code = (const char *)sqlite3_column_text(q, 0);
    if (code) pivot = dn_currency_lookup(code, strlen(code));
  }
  sqlite3_reset(q);
  return pivot;
}

/* Finds the pair's rate: direct or inverse, else the cross rate through
 * the pivot (rate links from-pivot, rate2 pivot-to). */
static bool find_plan(dn_fx *fx, uint16_t from, uint16_t to, dn_money_plan *plan) {
  dn_rate rate, rate2;
  bool invert, invert2;
  if (direct_rate(fx, from, to, &rate, &invert)) {
    *plan = dn_money_plan_direct(from, to, rate, invert);
    return true;
  }
  uint16_t pivot = find_pivot(fx, from, to);
  if (pivot == DN_CUR_NONE || !direct_rate(fx, from, pivot, &rate, &invert) ||
      !direct_rate(fx, pivot, to, &rate2, &invert2))
    return false;
  *plan = dn_money_plan_cross(from, to, rate, invert, rate2, invert2);
  return true;
}

/* The pair's entry, made (with its queries) on the first conversion.
 * Out of line so that dn_fx_convert, which calls this only when the last
 * entry used is another pair's, stays a few instructions and saves no
 * registers. */
static __attribute__((noinline)) fx_entry *lookup(dn_fx *fx, uint16_t from, uint16_t to) {
  for (int32_t i = 0; i < fx->cache.n; i++) {
    if (fx->cache.items[i].from == from && fx->cache.items[i].to == to) {
      fx->last = i;
      return &fx->cache.items[i];
    }
  }
  fx_entry *e = VEC_PUSH(fx->cache);
  if (!e) return NULL;
  fx->last = fx->cache.n - 1;
  e->from = from;
  e->to = to;
  e->found = find_plan(fx, from, to, &e->plan);
  return e;
}

/* The facts reader converts invoice after invoice of one customer, in one
 * currency, into the policy's: the last entry used is tried first. */
bool dn_fx_convert(dn_fx *fx, int64_t minor, uint16_t from, uint16_t to, int64_t *out) {
  if (from == to) {
    *out = minor;
    return true;
  }
  if (from == DN_CUR_NONE || to == DN_CUR_NONE) return false;
  int32_t i = fx->last;
  fx_entry *e;
  if (i < fx->cache.n && fx->cache.items[i].from == from && fx->cache.items[i].to == to)
    e = &fx->cache.items[i];
  else
    e = lookup(fx, from, to);
  if (!e || !e->found) return false;
  return dn_money_plan_convert(&e->plan, minor, out);
}
