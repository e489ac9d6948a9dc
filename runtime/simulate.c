/* simulate.c - the day-by-day replay behind `dunlin simulate` and `diff`
 * (see simulate.h): the in-memory working copy of the ledger, the per-day
 * loop through the engine and the outbox, the wake days that let a day
 * evaluate only the customers whose actions could change (the incremental
 * replay), the totals of dn_sim_summary, and the pairing of two
 * simulations' actions by a policy-independent identity. */
#include "runtime/simulate.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/facts_reader.h"
#include "runtime/outbox.h"
#include "runtime/redefer.h"
#include "runtime/vec.h"
#include "stdlib/calendar.h"

/* ---- the working copy ------------------------------------------------------ */

static dn_status copy_error(dn_ledger *src, sqlite3 *db, dn_diags *diags, const char *what) {
  dn_diag_add_at(diags, DN_E0505, src->path ? src->path : "ledger", 0, "%s: %s", what,
                 db ? sqlite3_errmsg(db) : "out of memory");
  return DN_ERR_INTERNAL;
}

/* The copy starts with the policy's history before `from` only: rows the
 * policy committed on or after `from` (a real daily run) are exactly what
 * the simulation recomputes, and left in place they would count as already
 * emitted (and their runs rows would make the outbox treat each day as
 * committed already), so the replay would show nothing for those days. */
static dn_status drop_replayed(dn_ledger *copy, const dn_program *p, dn_date from,
                               dn_diags *diags) {
  static const char *const sql[] = {
      "DELETE FROM actions WHERE policy = ?1 AND as_of >= ?2",
      "DELETE FROM runs WHERE policy = ?1 AND as_of >= ?2",
  };
  char d[11];
  dn_date_format(from, d);
  for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(copy->db, sql[i], -1, &st, NULL) != SQLITE_OK)
      return copy_error(copy, copy->db, diags, "preparing the working copy");
    sqlite3_bind_text(st, 1, p->name ? p->name : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return copy_error(copy, copy->db, diags, "preparing the working copy");
  }
  return DN_OK;
}

dn_status dn_sim_copy_ledger(dn_ledger *source, const dn_program *p, dn_date from,
                             dn_ledger *out, dn_diags *diags) {
  memset(out, 0, sizeof *out);
  out->path = strdup(source->path ? source->path : "ledger");
  if (!out->path) return DN_ERR_INTERNAL;
  if (sqlite3_open_v2(":memory:", &out->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
      SQLITE_OK) {
    dn_status st = copy_error(source, out->db, diags, "cannot make the working copy");
    dn_ledger_close(out);
    return st;
  }
  /* The backup API copies pages, schema and indexes included, at the cost
   * of one read of the file: far cheaper than re-importing row by row. */
  sqlite3_backup *b = sqlite3_backup_init(out->db, "main", source->db, "main");
  int rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
  if (b) sqlite3_backup_finish(b);
  dn_status st = DN_OK;
  if (rc != SQLITE_DONE) {
    /* A busy or unreadable source is the user's to fix, like any read. */
    dn_diag_add_at(diags, DN_E0502, source->path ? source->path : "ledger", 0,
                   "cannot copy the ledger for the simulation: %s",
                   b ? sqlite3_errstr(rc) : sqlite3_errmsg(out->db));
    st = DN_ERR_INPUT;
  }
  if (st == DN_OK) st = drop_replayed(out, p, from, diags);
  if (st != DN_OK) dn_ledger_close(out);
  return st;
}

/* ---- the summary ------------------------------------------------------------ */

static int64_t *count_named(dn_sim_summary *s, dn_sim_count **items, int32_t *n,
                            const char *name) {
  for (int32_t i = 0; i < *n; i++)
    if (!strcmp((*items)[i].name, name)) return &(*items)[i].n;
  dn_sim_count *grown = realloc(*items, sizeof **items * (size_t)(*n + 1));
  if (!grown) return NULL;
  *items = grown;
  dn_sim_count *c = &grown[(*n)++];
  c->name = dn_arena_strdup(&s->arena, name);
  c->n = 0;
  return c->name ? &c->n : NULL;
}

/* The local date of scheduled_at ("2026-03-10T09:00:00-05:00"): the day
 * the action goes out, which is D or the next business day. */
static dn_date scheduled_day(const dn_action_rec *a) {
  dn_date d;
  if (strlen(a->scheduled_at) >= 10 && dn_date_parse(a->scheduled_at, 10, &d)) return d;
  return a->as_of;
}

static dn_date monday_of(dn_date d) { return d - dn_date_weekday(d); }

static bool count_week(dn_sim_summary *s, dn_date day, dn_action_kind k) {
  dn_date monday = monday_of(day);
  if (s->nweeks == 0) {
    s->weeks = calloc(1, sizeof *s->weeks);
    if (!s->weeks) return false;
    s->weeks[0].monday = monday_of(s->from);
    s->nweeks = 1;
  }
  /* Scheduled days never precede the simulated day, so weeks only grow. */
  int32_t i = (monday - s->weeks[0].monday) / 7;
  if (i < 0) i = 0;
  if (i >= s->nweeks) {
    dn_sim_week *w = realloc(s->weeks, sizeof *w * (size_t)(i + 1));
    if (!w) return false;
    for (int32_t j = s->nweeks; j <= i; j++) {
      memset(&w[j], 0, sizeof w[j]);
      w[j].monday = w[0].monday + 7 * j;
    }
    s->weeks = w;
    s->nweeks = i + 1;
  }
  s->weeks[i].by_kind[k]++;
  return true;
}

static dn_sim_collector *collector(dn_sim_summary *s, const char *name) {
  int32_t lo = 0, hi = s->ncollectors;
  while (lo < hi) {
    int32_t mid = lo + (hi - lo) / 2;
    int c = strcmp(s->collectors[mid].assignee, name);
    if (c == 0) return &s->collectors[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  dn_sim_collector *g = realloc(s->collectors, sizeof *g * (size_t)(s->ncollectors + 1));
  if (!g) return NULL;
  s->collectors = g;
  memmove(&g[lo + 1], &g[lo], sizeof *g * (size_t)(s->ncollectors - lo));
  s->ncollectors++;
  memset(&g[lo], 0, sizeof g[lo]);
  g[lo].assignee = dn_arena_strdup(&s->arena, name);
  g[lo].first_day = s->from;
  return g[lo].assignee ? &g[lo] : NULL;
}

static bool count_call(dn_sim_summary *s, const dn_action_rec *a) {
  dn_sim_collector *c = collector(s, a->assignee ? a->assignee : "unassigned");
  if (!c) return false;
  dn_date day = scheduled_day(a);
  int32_t i = day - c->first_day;
  if (i < 0) i = 0;
  if (i >= c->ndays) {
    /* A week of slack past the last day: scheduling moves a weekend's
     * calls to the next business day, rarely further. */
    int32_t nd = i + 1 > s->days + 7 ? i + 1 : s->days + 7;
    int64_t *p = realloc(c->per_day, sizeof *p * (size_t)nd);
    if (!p) return false;
    memset(p + c->ndays, 0, sizeof *p * (size_t)(nd - c->ndays));
    c->per_day = p;
    c->ndays = nd;
  }
  c->per_day[i]++;
  c->calls++;
  return true;
}

/* The i-th part of a comma-separated list aligned with the invoices, or
 * the whole value when it is a single one (LEDGER's consolidated rows). */
static bool list_part(const char *list, int32_t i, char *buf, size_t len) {
  if (!list) return false;
  const char *p = list;
  /* One name stands for every part. */
  for (int32_t k = 0; k < i && strchr(list, ','); k++) {
    p = strchr(p, ',');
    if (!p) return false;
    p++;
  }
  size_t n = strcspn(p, ",");
  if (n >= len) n = len - 1;
  memcpy(buf, p, n);
  buf[n] = '\0';
  return true;
}

/* ---- incremental replay: who must be evaluated on which day ------------------
 *
 * A customer evaluated on day D produces records only if something that
 * decides its output changed since it was last evaluated, or a record of
 * the day before asks to be reconsidered (a deferred contact). Everything
 * that can change is listed below as a "wake" date; on the other days the
 * full replay gives the customer no record at all, so skipping it changes
 * nothing. The rules (docs/simulate.md, "Wake rules"):
 *  - ledger rows dated D of the customer: an invoice issued, a payment, a
 *    credit, a dispute opened or resolved, a promise made; a promise's
 *    break day promised_date + grace + 1;
 *  - fx rates dated D: every customer holding money in another currency
 *    than the policy's (everyone when the policy has a literal in another
 *    currency);
 *  - from the customer's facts when it was last evaluated: the day after
 *    each open invoice falls due (overdue totals and counts change), the
 *    next day each open invoice reaches a step offset of any escalation
 *    (calendar or business days);
 *  - from its records: the next day after a deferred record (deferred
 *    contacts are proposed again) or, when decisions read the history's
 *    facts or a rule has no `once per`, after any record; and every
 *    history row's day + (once-per window - 1, window, window + 1) of
 *    every rule;
 *  - the next day after an evaluation that reported a data error (errors
 *    are reported on each day they occur);
 *  - every customer every day (the full replay) when a decision chunk
 *    (segment, unless guard, step guard, event guard, rule condition,
 *    and the lets they read) reads something that changes by itself with
 *    the date: invoice.days_past_due, customer.oldest_days_past_due,
 *    today(), or an extern function. */

#define WAKE_NEVER INT32_MAX

/* What a chunk's instruction reads that the wake rules must know of. */
typedef bool (*reads_fn)(dn_opcode op, const uint8_t *operands);

/* Reads something that changes by itself with the date. */
static bool reads_clock(dn_opcode op, const uint8_t *o) {
  switch (op) {
    case DN_OPC_FIELD:
      return o[0] == DN_F_INVOICE_days_past_due || o[0] == DN_F_CUSTOMER_oldest_days_past_due;
    case DN_OPC_CALL: return o[0] == DN_B_TODAY;
    case DN_OPC_EXTERN: return true; /* a foreign function may read the clock */
    default: return false;
  }
}

/* Reads a fact made from the customer's action history. */
static bool reads_history(dn_opcode op, const uint8_t *o) {
  return op == DN_OPC_FIELD &&
         (o[0] == DN_F_CUSTOMER_last_contact_date || o[0] == DN_F_CUSTOMER_last_tone);
}

/* Whether the chunk, or a let it reads, has an instruction `hit` asks
 * for; true too for what the walk cannot read (the safe answer). */
static bool chunk_reads(const dn_program *p, int32_t chunk, reads_fn hit, int depth) {
  if (chunk == DN_NONE) return false;
  if (chunk < 0 || (uint32_t)chunk >= p->nchunks || depth > 32) return true;
  const dn_chunk *c = &p->chunks[chunk];
  const uint8_t *code = p->code + c->start;
  for (uint32_t pc = 0; pc < c->len;) {
    uint8_t op = code[pc];
    int size = dn_opcode_operand_size(op);
    if (size < 0 || pc + 1u + (uint32_t)size > c->len) return true;
    const uint8_t *o = code + pc + 1;
    if (hit((dn_opcode)op, o)) return true;
    if (op == DN_OPC_LET) {
      uint32_t h = (uint32_t)o[0] | (uint32_t)o[1] << 8;
      if (h >= p->nlets || chunk_reads(p, p->lets[h].chunk, hit, depth + 1)) return true;
    }
    pc += 1u + (uint32_t)size;
  }
  return false;
}

/* Whether any decision chunk of the policy reads what `hit` asks for. */
static bool decisions_read(const dn_program *p, reads_fn hit) {
  for (uint32_t i = 0; i < p->nsegments; i++)
    if (chunk_reads(p, p->segments[i].cond, hit, 0)) return true;
  for (uint32_t i = 0; i < p->nescalations; i++)
    if (chunk_reads(p, p->escalations[i].unless_guard, hit, 0)) return true;
  for (uint32_t i = 0; i < p->nsteps; i++)
    if (chunk_reads(p, p->steps[i].guard, hit, 0)) return true;
  for (uint32_t i = 0; i < p->nevents; i++)
    if (chunk_reads(p, p->events[i].guard, hit, 0)) return true;
  for (uint32_t i = 0; i < p->nrules; i++)
    if (chunk_reads(p, p->rules[i].cond, hit, 0)) return true;
  return false;
}

/* Whether the policy's decisions can change with the date alone. */
static bool decisions_move(const dn_program *p) { return decisions_read(p, reads_clock); }

/* Whether every record can be issued again a day later as it was: no
 * action's priority reads something that moves with the date. */
static bool records_keep(const dn_program *p) {
  for (uint32_t i = 0; i < p->nactions; i++)
    if (chunk_reads(p, p->actions[i].priority, reads_clock, 0)) return false;
  return true;
}

/* Whether a record that is not a deferred contact can change the next
 * day's decisions (rule 5): through the history's facts, or a rule
 * without `once per`, which fires again every day its condition holds. */
static bool every_record_wakes(const dn_program *p) {
  for (uint32_t i = 0; i < p->nrules; i++)
    if (p->rules[i].once_per_days <= 0) return true;
  return decisions_read(p, reads_history);
}

static bool foreign_literal(const dn_program *p) {
  for (uint32_t i = 0; i < p->nconsts; i++)
    if (p->consts[i].type == DN_T_MONEY && p->consts[i].as.m.cur != p->currency) return true;
  return false;
}

typedef struct wake_state {
  const dn_program *p;
  dn_date from, to;
  dn_calendar *cal;
  dn_arena arena;             /* the ids */
  const char **ids;           /* every customer, in the reader's order */
  size_t n;
  dn_date *next;              /* per customer: the next wake from its facts */
  bool *foreign;              /* holds money in another currency */
  /* A row date that is text but no date: the row appears, or changes, on
   * a day only SQLite's text comparison knows, so the customer is awake
   * every day. */
  bool *odd_date;
  uint32_t *day_first;        /* ledger-row wakes of day from+i: */
  uint32_t *day_cust;         /* day_cust[day_first[i] .. day_first[i+1]) */
  bool *fx_day;
  bool fx_all, lost;
  /* the day being run */
  dn_date day;
  uint32_t *awake; size_t nawake; /* indices, ascending */
  const char **awake_ids;
  uint32_t *mark;             /* day stamp: awake today */
  /* per customer: awake today for a new fx rate and nothing else, which
   * the run checks against its last conditions trace (runtime/trace.h) */
  bool *fx_only;
  size_t cursor;              /* into awake (or all customers on the first day) */
  const char *cur_id;         /* the customer last found in the list, and where */
  int32_t cur_idx;
  bool first;
  size_t errors_seen;
  bool had_records, had_deferred; /* the customer being run got a record; a deferred one */
  bool every_record;              /* every_record_wakes */
  /* Deferred again (docs/simulate.md): the book, NULL when off; per
   * customer the day the cap that deferred its kept records lets one
   * through (set with its book entry). */
  dn_redefer *book;
  dn_date *cap_next;
  int32_t offered; /* the customer whose records replay() handed out, or -1 */
  dn_diags *diags;
} wake_state;

static void wake_free(wake_state *w) {
  if (w->cal) dn_calendar_free(w->cal);
  dn_arena_free(&w->arena);
  free(w->ids);
  free(w->next);
  free(w->foreign);
  free(w->odd_date);
  free(w->day_first);
  free(w->day_cust);
  free(w->fx_day);
  free(w->awake);
  free(w->awake_ids);
  free(w->mark);
  free(w->fx_only);
  dn_redefer_free(w->book);
  free(w->cap_next);
  memset(w, 0, sizeof *w);
}

static int32_t cust_index(const wake_state *w, const char *id) {
  /* ids are in the ledger's order, which is byte order for text ids;
   * a binary search that misses (odd ids) falls back to a scan. */
  size_t lo = 0, hi = w->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(w->ids[mid], id);
    if (c == 0) return (int32_t)mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  for (size_t i = 0; i < w->n; i++)
    if (!strcmp(w->ids[i], id)) return (int32_t)i;
  return -1;
}

typedef struct pair { uint32_t day, cust; } pair;
typedef VEC(pair) pair_vec;

static dn_status wake_sql_error(dn_ledger *l, dn_diags *diags) {
  dn_diag_add_at(diags, DN_E0502, l->path ? l->path : "ledger", 0, "reading the ledger: %s",
                 sqlite3_errmsg(l->db));
  return DN_ERR_INPUT;
}

/* Ledger rows dated in [from, to]: (customer, day) pairs. Column 0 is the
 * customer id, column 1 a date; `shift` days are added (a promise breaks
 * on promised_date + grace + 1). */
static dn_status collect_rows(wake_state *w, dn_ledger *l, const char *sql, int32_t shift,
                              pair_vec *out, dn_diags *diags) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) return wake_sql_error(l, diags);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *id = (const char *)sqlite3_column_text(st, 0);
    const char *t = (const char *)sqlite3_column_text(st, 1);
    dn_date d;
    if (!id || !t) continue;
    if (!dn_date_parse(t, (size_t)sqlite3_column_bytes(st, 1), &d)) {
      int32_t c = sqlite3_column_type(st, 1) == SQLITE_TEXT ? cust_index(w, id) : -1;
      if (c >= 0) w->odd_date[c] = true;
      continue;
    }
    d += shift;
    if (d < w->from || d > w->to) continue;
    int32_t c = cust_index(w, id);
    if (c < 0) continue;
    pair *pr = VEC_PUSH(*out);
    if (!pr) {
      sqlite3_finalize(st);
      return DN_ERR_INTERNAL;
    }
    *pr = (pair){(uint32_t)(d - w->from), (uint32_t)c};
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? DN_OK : wake_sql_error(l, diags);
}

static dn_status load_customers(wake_state *w, dn_ledger *l, dn_diags *diags) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(l->db, "SELECT id, currency FROM customers ORDER BY id", -1, &st, NULL) !=
      SQLITE_OK)
    return wake_sql_error(l, diags);
  size_t cap = 0;
  int rc;
  dn_status res = DN_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *id = (const char *)sqlite3_column_text(st, 0);
    if (w->n == cap) {
      cap = cap ? cap * 2 : 1024;
      const char **g = realloc(w->ids, sizeof *g * cap);
      bool *f = realloc(w->foreign, sizeof *f * cap);
      if (g) w->ids = g;
      if (f) w->foreign = f;
      if (!g || !f) { res = DN_ERR_INTERNAL; break; }
    }
    w->ids[w->n] = dn_arena_strdup(&w->arena, id ? id : "");
    const char *cur = (const char *)sqlite3_column_text(st, 1);
    w->foreign[w->n] = cur && dn_currency_lookup(cur, strlen(cur)) != w->p->currency;
    if (!w->ids[w->n]) { res = DN_ERR_INTERNAL; break; }
    w->n++;
  }
  sqlite3_finalize(st);
  if (res != DN_OK) return res;
  return rc == SQLITE_DONE ? DN_OK : wake_sql_error(l, diags);
}

/* Customers with an invoice or a payment in another currency. */
static dn_status mark_foreign(wake_state *w, dn_ledger *l, dn_diags *diags) {
  static const char *const sql[] = {
      "SELECT DISTINCT customer_id, currency FROM invoices WHERE currency IS NOT NULL",
      "SELECT DISTINCT customer_id, currency FROM payments WHERE currency IS NOT NULL",
  };
  for (size_t k = 0; k < 2; k++) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(l->db, sql[k], -1, &st, NULL) != SQLITE_OK) return wake_sql_error(l, diags);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      const char *id = (const char *)sqlite3_column_text(st, 0);
      const char *cur = (const char *)sqlite3_column_text(st, 1);
      if (!id || !cur || dn_currency_lookup(cur, strlen(cur)) == w->p->currency) continue;
      int32_t c = cust_index(w, id);
      if (c >= 0) w->foreign[c] = true;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return wake_sql_error(l, diags);
  }
  return DN_OK;
}

static dn_status load_fx_days(wake_state *w, dn_ledger *l, dn_diags *diags) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(l->db, "SELECT DISTINCT date FROM fx_rates", -1, &st, NULL) != SQLITE_OK)
    return wake_sql_error(l, diags);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *t = (const char *)sqlite3_column_text(st, 0);
    dn_date d;
    if (t && dn_date_parse(t, (size_t)sqlite3_column_bytes(st, 0), &d) && d >= w->from && d <= w->to)
      w->fx_day[d - w->from] = true;
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? DN_OK : wake_sql_error(l, diags);
}

static dn_status bucket_rows(wake_state *w, dn_ledger *l, dn_diags *diags) {
  char grace_sql[256];
  snprintf(grace_sql, sizeof grace_sql, "SELECT customer_id, promised_date FROM promises");
  const struct { const char *sql; int32_t shift; } q[] = {
      {"SELECT customer_id, issue_date FROM invoices", 0},
      {"SELECT customer_id, date FROM payments", 0},
      {"SELECT i.customer_id, c.date FROM credits c JOIN invoices i ON i.id = c.invoice_id", 0},
      {"SELECT i.customer_id, d.opened_on FROM disputes d JOIN invoices i ON i.id = d.invoice_id", 0},
      {"SELECT i.customer_id, d.resolved_on FROM disputes d JOIN invoices i ON i.id = d.invoice_id", 0},
      {"SELECT customer_id, made_on FROM promises", 0},
      {grace_sql, w->p->promise_grace_days + 1},
  };
  pair_vec v = {0};
  dn_status st = DN_OK;
  for (size_t k = 0; k < sizeof q / sizeof *q && st == DN_OK; k++)
    st = collect_rows(w, l, q[k].sql, q[k].shift, &v, diags);
  int32_t days = w->to - w->from + 1;
  w->day_first = calloc((size_t)days + 1, sizeof *w->day_first);
  w->day_cust = malloc(sizeof *w->day_cust * (v.n ? (size_t)v.n : 1));
  if (st == DN_OK && (!w->day_first || !w->day_cust)) st = DN_ERR_INTERNAL;
  if (st == DN_OK) { /* a counting sort by day */
    for (int32_t i = 0; i < v.n; i++) w->day_first[v.items[i].day + 1]++;
    for (int32_t i = 0; i < days; i++) w->day_first[i + 1] += w->day_first[i];
    uint32_t *fill = calloc((size_t)days, sizeof *fill);
    if (!fill) st = DN_ERR_INTERNAL;
    for (int32_t i = 0; fill && i < v.n; i++) {
      uint32_t d = v.items[i].day;
      w->day_cust[w->day_first[d] + fill[d]++] = v.items[i].cust;
    }
    free(fill);
  }
  free(v.items);
  return st;
}

/* Indexes on the working copy (never the ledger file) that answer the
 * per-customer reads of dn_facts_reader_open_set in their ORDER BY, so no
 * statement sorts: the copy is read customer by customer every day. */
static dn_status index_copy(dn_ledger *l, dn_diags *diags) {
  static const char sql[] =
      "CREATE INDEX IF NOT EXISTS sim_payments ON payments(customer_id, date, id);"
      "CREATE INDEX IF NOT EXISTS sim_credits ON credits(invoice_id, date, id);"
      "CREATE INDEX IF NOT EXISTS sim_promises ON promises(customer_id, id);"
      "CREATE INDEX IF NOT EXISTS sim_actions ON actions(customer_id, policy, as_of, key);";
  if (sqlite3_exec(l->db, sql, NULL, NULL, NULL) != SQLITE_OK) return wake_sql_error(l, diags);
  return DN_OK;
}

static dn_status wake_init(wake_state *w, const dn_program *p, dn_ledger *l, dn_date from,
                           dn_date to, int read, dn_diags *diags) {
  memset(w, 0, sizeof *w);
  dn_arena_init(&w->arena);
  w->p = p;
  w->from = from;
  w->to = to;
  w->diags = diags;
  w->fx_all = foreign_literal(p);
  w->every_record = every_record_wakes(p);
  w->cal = dn_calendar_new(p->calendar ? p->calendar : "");
  if (!w->cal) return DN_ERR_INTERNAL;
  dn_status st = p->calendar ? dn_facts_load_holidays(l, p->calendar, w->cal, diags) : DN_OK;
  /* Read from memory (AUTO), the copy is never read by customer. */
  if (st == DN_OK && read != DN_SIM_READ_AUTO) st = index_copy(l, diags);
  if (st == DN_OK) st = load_customers(w, l, diags);
  if (st != DN_OK) return st;
  size_t n = w->n ? w->n : 1;
  int32_t days = to - from + 1;
  w->next = malloc(sizeof *w->next * n);
  w->mark = calloc(n, sizeof *w->mark);
  w->awake = malloc(sizeof *w->awake * n);
  w->awake_ids = malloc(sizeof *w->awake_ids * n);
  w->fx_day = calloc((size_t)days, sizeof *w->fx_day);
  w->odd_date = calloc(n, sizeof *w->odd_date);
  w->fx_only = calloc(n, sizeof *w->fx_only);
  if (!w->next || !w->mark || !w->awake || !w->awake_ids || !w->fx_day || !w->odd_date ||
      !w->fx_only)
    return DN_ERR_INTERNAL;
  for (size_t i = 0; i < w->n; i++) w->next[i] = WAKE_NEVER;
  if (records_keep(p)) {
    w->book = dn_redefer_new(p, w->n);
    if (w->book) dn_redefer_drop_done(w->book, !w->every_record);
    w->cap_next = calloc(n, sizeof *w->cap_next);
    if (!w->book || !w->cap_next) return DN_ERR_INTERNAL;
  }
  st = mark_foreign(w, l, diags);
  if (st == DN_OK) st = load_fx_days(w, l, diags);
  if (st == DN_OK) st = bucket_rows(w, l, diags);
  return st;
}

static void wake_at(dn_date *nx, dn_date today, dn_date d) {
  if (d > today && d < *nx) *nx = d;
}

/* The first day after `today` on which an open invoice reaches the next
 * offset of a step of any escalation (which step, guard or segment is
 * decided when evaluated: any step listing any segment counts). */
static dn_date next_step_day(const wake_state *w, const dn_invoice_facts *f, dn_date today) {
  const dn_program *p = w->p;
  int32_t dpd = today - f->due_date, next_cal = INT32_MAX, next_bus = INT32_MAX;
  int32_t bdpd = 0;
  bool have_bdpd = false;
  for (uint32_t s = 0; s < p->nsteps; s++) {
    const dn_step_def *st = &p->steps[s];
    if (!st->business) {
      if (st->offset_days > dpd && st->offset_days < next_cal) next_cal = st->offset_days;
      continue;
    }
    if (!have_bdpd) {
      bdpd = (int32_t)dn_calendar_business_days_between(w->cal, f->due_date, today);
      have_bdpd = true;
    }
    if (st->offset_days > bdpd && st->offset_days < next_bus) next_bus = st->offset_days;
  }
  dn_date best = WAKE_NEVER;
  if (next_cal != INT32_MAX) best = f->due_date + next_cal;
  if (next_bus != INT32_MAX) {
    /* business_days_between(due, d + 1) = (.., d) + is_business_day(d + 1),
     * on either side of the due date. */
    int32_t past = bdpd;
    for (dn_date d = today + 1; d <= w->to && d < best; d++) {
      past += dn_calendar_is_business_day(w->cal, d);
      if (past >= next_bus) {
        best = d;
        break;
      }
    }
  }
  return best;
}

/* Whether `name` (n bytes) is one of the comma-separated names of a
 * history row's rule: a consolidated record lists its parts' rules
 * ("dunning,over_limit"), and the engine's `once per` counts each part.
 * Byte by byte: the once-per wake scan asks it of every recent row. */
static bool list_has(const char *list, const char *name, size_t n) {
  for (const char *p = list; p;) {
    size_t i = 0;
    while (i < n && p[i] == name[i]) i++;
    if (i == n && (p[n] == ',' || p[n] == '\0')) return true;
    p += i;
    p = strchr(p, ','); /* the rest of a name that differs: scanned by libc */
    if (p) p++;
  }
  return false;
}

/* c's index in the customer list: customers arrive in the order of the
 * day's list, and each is asked for twice (the fx check, then
 * on_customer); -1 when it is not there. */
static int32_t customer_index(wake_state *w, const dn_customer_facts *c) {
  if (w->cur_id == c->id) return w->cur_idx;
  int32_t idx = -1;
  size_t total = w->first ? w->n : w->nawake;
  while (w->cursor < total) {
    uint32_t i = w->first ? (uint32_t)w->cursor : w->awake[w->cursor];
    w->cursor++;
    if (w->ids[i] == c->id || !strcmp(w->ids[i], c->id)) {
      idx = (int32_t)i;
      break;
    }
  }
  w->cur_id = c->id;
  w->cur_idx = idx;
  return idx;
}

/* dn_run_options.fx_wake: whether a new rate can wake c, and whether
 * one alone did today. */
static dn_fx_wake fx_wake(void *ctx, const dn_customer_facts *c) {
  wake_state *w = ctx;
  int32_t idx = customer_index(w, c);
  if (idx < 0 || !(w->fx_all || w->foreign[idx])) return DN_FX_WAKE_NEVER;
  return !w->first && w->fx_only[idx] ? DN_FX_WAKE_ONLY : DN_FX_WAKE_CAN;
}

static void on_customer(void *ctx, const dn_customer_facts *c) {
  wake_state *w = ctx;
  dn_date today = w->day, nx = WAKE_NEVER;
  int32_t idx = customer_index(w, c);
  w->cur_id = NULL; /* the next customer is looked up afresh */
  if (idx < 0) {
    w->lost = true; /* cannot happen with one ledger; the replay turns full */
    return;
  }
  bool had = w->had_records, deferred = w->had_deferred;
  bool errors = w->diags->errors != w->errors_seen;
  w->errors_seen = w->diags->errors;
  w->had_records = w->had_deferred = false;
  for (uint32_t r = 0; r < w->p->nrules; r++) {
    int32_t win = w->p->rules[r].once_per_days;
    if (win <= 0) continue;
    const char *name = w->p->strings[w->p->rules[r].name];
    size_t name_len = strlen(name);
    /* A row's window ends on its day + win, the first day the engine lets
     * the rule fire again (engine.c, once_blocked: the last row's day is
     * at most D - win); tests/cli/simulate_incremental.sh fails a wake a
     * day early or late. Dated rows are in date order (facts.h): back
     * from the newest, down to the first whose window ended by today.
     * Rows mostly share their rule's text (the store keeps one copy of
     * each value): one found not to list the rule is not scanned again. */
    const char *other = NULL;
    for (int32_t h = c->nhistory - 1; h >= 0; h--) {
      const dn_history_fact *hf = &c->history[h];
      if (hf->as_of == DN_DATE_NONE) continue;
      if (hf->as_of + win <= today) break;
      if (hf->rule == other) continue;
      if (!list_has(hf->rule, name, name_len)) {
        other = hf->rule;
        continue;
      }
      wake_at(&nx, today, hf->as_of + win);
    }
    /* today's records are not history yet */
    if (had) wake_at(&nx, today, today + win);
  }
  for (int32_t i = 0; i < c->ninvoices; i++) {
    const dn_invoice_facts *f = &c->invoices[i];
    if (!f->open) continue;
    wake_at(&nx, today, f->due_date + 1);
    wake_at(&nx, today, next_step_day(w, f, today));
  }
  if (w->book) {
    /* Records all deferred, no event, no error: tomorrow, if no rule but
     * the day-after one wakes it (nx: none of its own) and the cap that
     * deferred them still holds, they can be issued again. A run says
     * until when that cap holds; a replay leaves the history's contacts,
     * hence that day, as they were. */
    bool keep = deferred && !errors && c->nevents == 0;
    if (c->deferred_until != DN_DATE_NONE) w->cap_next[idx] = c->deferred_until;
    else if (w->offered != idx) keep = false;
    dn_redefer_close(w->book, idx, keep && nx > today + 1 && w->cap_next[idx] > today + 1);
  }
  w->offered = -1;
  if (errors || deferred || (had && w->every_record)) wake_at(&nx, today, today + 1);
  w->next[idx] = nx;
}

/* dn_run_options.replay: c's records of yesterday, kept by on_customer
 * when only the day-after rule could wake it today and the cap that
 * deferred them still holds (redefer.h), unless a ledger row of today
 * wakes it too; a new rate may (*rated). A rate moves a money priority:
 * records with a priority are issued again only on days without one. */
static const dn_action_rec *replay(void *ctx, const dn_customer_facts *c, int32_t *n,
                                   bool *rated) {
  wake_state *w = ctx;
  *n = 0;
  if (w->first) return NULL;
  int32_t idx = customer_index(w, c);
  uint32_t stamp = (uint32_t)(w->day - w->from) + 1;
  if (idx < 0 || w->mark[idx] == stamp || w->odd_date[idx]) return NULL;
  const dn_action_rec *recs = dn_redefer_get(w->book, idx, w->day, n);
  *rated = w->fx_day[w->day - w->from] && (w->fx_all || w->foreign[idx]);
  for (int32_t i = 0; recs && *rated && i < *n; i++)
    if (recs[i].has_priority) recs = NULL;
  if (recs) w->offered = idx;
  return recs;
}

/* The day's awake customers, ascending in the ledger's order. */
static void wake_list(wake_state *w, dn_date day) {
  uint32_t stamp = (uint32_t)(day - w->from) + 1, di = (uint32_t)(day - w->from);
  for (uint32_t k = w->day_first[di]; k < w->day_first[di + 1]; k++) w->mark[w->day_cust[k]] = stamp;
  bool fx = w->fx_day[di];
  w->nawake = 0;
  for (size_t i = 0; i < w->n; i++) {
    bool other = w->mark[i] == stamp || w->next[i] <= day || w->odd_date[i];
    bool rate = fx && (w->fx_all || w->foreign[i]);
    w->fx_only[i] = rate && !other;
    if (other || rate) {
      w->awake[w->nawake] = (uint32_t)i;
      w->awake_ids[w->nawake++] = w->ids[i];
    }
  }
}

/* ---- the replay ------------------------------------------------------------- */

typedef struct sim_run {
  const dn_program *p;
  const dn_sim_options *o;
  dn_sim_summary *sum;
  dn_outbox *outbox;
  dn_diags *diags;
  char **last_label; /* per escalation: the label of its last step */
  wake_state *wake;  /* NULL: every customer every day */
  /* The policy calendar's rule holidays, computed once rather than by
   * every day's run (a day's fixed cost, 2.5 % of a year at 1k customers). */
  dn_calendar *cal_base;
  bool discard_copy; /* the outbox writes to the store only (simulate_copy) */
  /* Customers' parsed history from day to day, when the copy is read from
   * its store (there a history only grows at its end). */
  dn_history_memo *memo;
  /* Customers' conditions traces, for the fx check (with the memo). */
  dn_trace_book *traces;
  /* No deferred record of the policy is in the ledger before the replay:
   * a deferred contact's key is then new exactly once, when the outbox
   * first takes it, and the distinct deferred contacts are counted there
   * without a set of their keys (dn_sim_summary.deferred_contacts). */
  bool deferred_keys_new;
} sim_run;

static int32_t escalation_index(const sim_run *r, const char *rule) {
  for (uint32_t e = 0; e < r->p->nescalations; e++)
    if (!strcmp(r->p->strings[r->p->escalations[e].name], rule)) return (int32_t)e;
  return -1;
}

static bool add_final(dn_sim_summary *s, const dn_action_rec *a, const char *invoice,
                      const char *rule, const char *step, const char *target) {
  if (s->nfinals % 64 == 0) {
    dn_sim_final *f = realloc(s->finals, sizeof *f * (size_t)(s->nfinals + 64));
    if (!f) return false;
    s->finals = f;
  }
  dn_sim_final *f = &s->finals[s->nfinals++];
  f->as_of = a->as_of;
  f->customer = dn_arena_strdup(&s->arena, a->customer);
  f->invoice = invoice ? dn_arena_strdup(&s->arena, invoice) : NULL;
  f->rule = rule ? dn_arena_strdup(&s->arena, rule) : NULL;
  f->step = step ? dn_arena_strdup(&s->arena, step) : NULL;
  f->target = target ? dn_arena_strdup(&s->arena, target) : NULL;
  return f->customer != NULL;
}

/* Invoices whose part of a scheduled action is the last step of its
 * escalation, and every invoice of a scheduled `escalate`. */
static bool note_finals(sim_run *r, const dn_action_rec *a) {
  dn_sim_summary *s = r->sum;
  if (a->kind == DN_ACT_ESCALATE) {
    if (a->ninvoices == 0) return add_final(s, a, NULL, a->rule, a->step, a->text);
    for (int i = 0; i < a->ninvoices; i++) {
      char rule[256], step[64];
      bool hr = list_part(a->rule, i, rule, sizeof rule), hs = list_part(a->step, i, step, sizeof step);
      if (!add_final(s, a, a->invoices[i], hr ? rule : NULL, hs ? step : NULL, a->text)) return false;
    }
    return true;
  }
  if (!a->rule || !a->step) return true;
  for (int i = 0; i < a->ninvoices; i++) {
    char rule[256], step[64];
    if (!list_part(a->rule, i, rule, sizeof rule) || !list_part(a->step, i, step, sizeof step))
      continue;
    int32_t e = escalation_index(r, rule);
    if (e < 0 || !r->last_label[e] || strcmp(r->last_label[e], step)) continue;
    if (!add_final(s, a, a->invoices[i], rule, step, NULL)) return false;
  }
  return true;
}

static uint64_t hex64(const char *h) {
  uint64_t v = 0;
  for (int i = 0; i < 16 && h[i]; i++)
    v = v << 4 | (uint64_t)(h[i] <= '9' ? h[i] - '0' : (h[i] | 0x20) - 'a' + 10);
  return v;
}

/* Open addressing over the 128-bit key; (0, 0) marks an empty slot (a
 * real key of all zeros would only be missed from the count). */
static bool note_deferred(dn_sim_summary *s, const char *key) {
  if ((size_t)(s->deferred_contacts + 1) * 2 > s->deferred_cap) {
    size_t cap = s->deferred_cap ? s->deferred_cap * 2 : 1024;
    dn_sim_key *t = calloc(cap, sizeof *t), *old = s->deferred_keys;
    if (!t) return false;
    for (size_t i = 0; i < s->deferred_cap; i++) {
      if (!old[i].hi && !old[i].lo) continue;
      size_t j = (size_t)old[i].lo & (cap - 1);
      while (t[j].hi || t[j].lo) j = (j + 1) & (cap - 1);
      t[j] = old[i];
    }
    free(old);
    s->deferred_keys = t;
    s->deferred_cap = cap;
  }
  uint64_t hi = hex64(key), lo = hex64(key + 16);
  size_t j = (size_t)lo & (s->deferred_cap - 1);
  for (; s->deferred_keys[j].hi || s->deferred_keys[j].lo; j = (j + 1) & (s->deferred_cap - 1))
    if (s->deferred_keys[j].hi == hi && s->deferred_keys[j].lo == lo) return true;
  s->deferred_keys[j].hi = hi;
  s->deferred_keys[j].lo = lo;
  s->deferred_contacts++;
  return true;
}

/* fresh: the outbox took a's key for the first time. */
static bool summarise(sim_run *r, const dn_action_rec *a, bool fresh) {
  dn_sim_summary *s = r->sum;
  int st = (unsigned)a->status < 3 ? (int)a->status : 0;
  s->actions++;
  s->by_status[st]++;
  if (a->status == DN_STATUS_DEFERRED) {
    if (r->deferred_keys_new) s->deferred_contacts += fresh;
    /* A record issued again was counted under its key the day before. */
    else if (!a->reissued && !note_deferred(s, a->key)) return false;
  }
  if ((unsigned)a->kind < DN_ACT_COUNT) s->by_kind[a->kind][st]++;
  if (a->status != DN_STATUS_SCHEDULED || (unsigned)a->kind >= DN_ACT_COUNT) return true;
  int64_t *n;
  if (a->tone) {
    if (!(n = count_named(s, &s->tones, &s->ntones, a->tone))) return false;
    (*n)++;
  }
  if (!(n = count_named(s, &s->segments, &s->nsegments, a->segment ? a->segment : "none")))
    return false;
  (*n)++;
  if (!count_week(s, scheduled_day(a), a->kind)) return false;
  if (a->kind == DN_ACT_CALL && !count_call(s, a)) return false;
  return note_finals(r, a);
}

static dn_status day_sink(void *ctx, const dn_action_rec *a) {
  sim_run *r = ctx;
  if (r->wake) {
    r->wake->had_records = true;
    if (a->status == DN_STATUS_DEFERRED) r->wake->had_deferred = true;
    if (r->wake->book) dn_redefer_add(r->wake->book, a);
  }
  long taken = r->outbox->inserted;
  dn_status st = dn_outbox_add(r->outbox, a, r->diags);
  if (st != DN_OK) return st;
  if (!summarise(r, a, r->outbox->inserted != taken)) return DN_ERR_INTERNAL;
  return r->o->on_action ? r->o->on_action(r->o->ctx, a) : DN_OK;
}

static dn_status run_day(sim_run *r, dn_ledger *copy, dn_date day) {
  dn_outbox ob;
  dn_status st = dn_outbox_begin(&ob, copy, r->p, day, r->diags);
  if (st != DN_OK) return st;
  ob.store_only = r->discard_copy;
  r->outbox = &ob;
  dn_run_options ro = {.as_of = day, .extern_fns = r->o->extern_fns, .native = r->o->native,
                       .calendar_base = r->cal_base, .history_memo = r->memo};
  wake_state *w = r->wake;
  if (w) {
    w->day = day;
    w->cursor = 0;
    w->cur_id = NULL;
    w->first = day == r->o->from;
    w->had_records = w->had_deferred = false;
    w->errors_seen = r->diags->errors;
    ro.on_customer = on_customer;
    ro.on_customer_ctx = w;
    ro.traces = r->traces;
    ro.fx_wake = fx_wake;
    ro.fx_wake_ctx = w;
    if (w->book) {
      dn_redefer_day(w->book, day);
      w->offered = -1;
      ro.replay = replay;
      ro.replay_ctx = w;
    }
    if (!w->first) {
      wake_list(w, day);
      ro.only_customers = w->awake_ids;
      ro.nonly_customers = w->nawake;
      /* Read from SQLite (KEYED, SCAN) or, by default, from memory, where
       * this choice does not arise. */
      ro.only_customers_scan = r->o->read == DN_SIM_READ_SCAN;
    }
  }
  dn_run_stats stats = {0};
  st = dn_engine_run(r->p, copy, &ro, day_sink, r, &stats, r->diags);
  dn_status end = dn_outbox_end(&ob, st == DN_OK, (long)stats.errors, r->diags);
  r->outbox = NULL;
  r->sum->errors += stats.errors;
  r->sum->customers = w && !w->first ? (int64_t)w->n : stats.customers;
  r->sum->evaluated += stats.customers;
  r->sum->settled += stats.settled;
  r->sum->replayed += stats.replayed;
  /* A customer the list could not place (not possible with one ledger):
   * the rest of the replay evaluates everyone. */
  if (w && w->lost) r->wake = NULL;
  return st != DN_OK ? st : end;
}

/* Ties of the final list (an invoice reaching the last step and getting
 * an escalate on the same run, or a final step with two actions) keep the
 * first day: sorted by (customer, invoice, rule, day), then deduplicated. */
static int nstrcmp(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : ""); }

static int final_key_cmp(const void *pa, const void *pb) {
  const dn_sim_final *a = pa, *b = pb;
  int c = strcmp(a->customer, b->customer);
  if (!c) c = nstrcmp(a->invoice, b->invoice);
  if (!c) c = nstrcmp(a->rule, b->rule);
  if (!c) c = (a->as_of > b->as_of) - (a->as_of < b->as_of);
  if (!c) c = (a->target == NULL) - (b->target == NULL); /* keep the escalate target */
  return c;
}

static int final_day_cmp(const void *pa, const void *pb) {
  const dn_sim_final *a = pa, *b = pb;
  if (a->as_of != b->as_of) return a->as_of < b->as_of ? -1 : 1;
  int c = strcmp(a->customer, b->customer);
  return c ? c : nstrcmp(a->invoice, b->invoice);
}

static void finish_finals(dn_sim_summary *s) {
  if (s->nfinals < 2) return;
  qsort(s->finals, (size_t)s->nfinals, sizeof *s->finals, final_key_cmp);
  int32_t m = 1;
  for (int32_t i = 1; i < s->nfinals; i++) {
    const dn_sim_final *a = &s->finals[m - 1], *b = &s->finals[i];
    if (!strcmp(a->customer, b->customer) && !nstrcmp(a->invoice, b->invoice) &&
        !nstrcmp(a->rule, b->rule))
      continue;
    s->finals[m++] = *b;
  }
  s->nfinals = m;
  qsort(s->finals, (size_t)s->nfinals, sizeof *s->finals, final_day_cmp);
}

static char **last_labels(const dn_program *p) {
  char **out = calloc(p->nescalations + 1, sizeof *out);
  if (!out) return NULL;
  for (uint32_t e = 0; e < p->nescalations; e++) {
    const dn_escalation_def *d = &p->escalations[e];
    if (d->nsteps <= 0) continue;
    const dn_step_def *st = &p->steps[d->first_step + d->nsteps - 1];
    char buf[24];
    /* The engine's step label (engine.c step_label): "60d", "3bd", "-3d". */
    snprintf(buf, sizeof buf, "%d%s", st->offset_days, st->business ? "bd" : "d");
    out[e] = strdup(buf);
  }
  return out;
}

/* Tones in ladder order and segments in policy order read better than
 * first-seen order; names the policy does not have ("none") go last. */
static int32_t tone_rank(const dn_program *p, const char *name) {
  for (uint32_t i = 0; i < p->ntone_names; i++)
    if (!strcmp(p->tone_names[i], name)) return (int32_t)i;
  return INT32_MAX;
}

static int32_t segment_rank(const dn_program *p, const char *name) {
  for (uint32_t i = 0; i < p->nsegments; i++)
    if (!strcmp(p->strings[p->segments[i].name], name)) return (int32_t)i;
  return INT32_MAX;
}

static void order_counts(const dn_program *p, dn_sim_count *c, int32_t n,
                         int32_t (*rank)(const dn_program *, const char *)) {
  for (int32_t i = 1; i < n; i++) { /* a handful of names: insertion sort */
    dn_sim_count x = c[i];
    int32_t rx = rank(p, x.name), j = i;
    while (j > 0 && rank(p, c[j - 1].name) > rx) {
      c[j] = c[j - 1];
      j--;
    }
    c[j] = x;
  }
}

static void summary_init(dn_sim_summary *s, const dn_sim_options *o) {
  memset(s, 0, sizeof *s);
  dn_arena_init(&s->arena);
  s->from = o->from;
  s->to = o->to;
  s->days = o->to >= o->from ? o->to - o->from + 1 : 0;
}

/* While the copy is read from memory, every record committed to it
 * costs SQLite work nobody reads back: its CHECK (status IN (...)) builds
 * a temporary table on every insert (SQLite 3.40; the outbox writes only
 * statuses the check allows, so it cannot fail), and the indexes on
 * actions by customer and by run only serve reads. Measured (callgrind,
 * 1,000 customers, 60 days): the two cut the outbox's cost per record
 * from 57k to 15k instructions. */
static dn_status exec_copy(dn_ledger *copy, const char *sql, dn_diags *diags) {
  if (sqlite3_exec(copy->db, sql, NULL, NULL, NULL) != SQLITE_OK) return wake_sql_error(copy, diags);
  return DN_OK;
}

static dn_status lighten_copy(dn_ledger *copy, dn_diags *diags) {
  return exec_copy(copy,
                   "PRAGMA ignore_check_constraints = ON;"
                   "DROP INDEX IF EXISTS actions_customer;"
                   "DROP INDEX IF EXISTS actions_run;",
                   diags);
}

static dn_status restore_checks(dn_ledger *copy, dn_diags *diags) {
  return exec_copy(copy, "PRAGMA ignore_check_constraints = OFF", diags);
}

/* Once the store holds the ledger's rows, a discarded copy keeps only
 * what runs still read from SQLite (fx rates, holidays, runs): the rows
 * the store holds are deleted and the database vacuumed, so the memory
 * of the in-memory copy (a tenth of a 100k-customer year's peak) goes
 * back to malloc before the year's history grows into it. On this
 * machine every megabyte a process touches for the first time costs
 * system time (bench/RESULTS.md, "what a megabyte costs"). */
static dn_status empty_copy(dn_ledger *copy, dn_diags *diags) {
  return exec_copy(copy,
                   "DELETE FROM actions; DELETE FROM payments; DELETE FROM credits;"
                   "DELETE FROM disputes; DELETE FROM promises; DELETE FROM invoices;"
                   "DELETE FROM customers; VACUUM;",
                   diags);
}

/* Whether the copy holds a deferred record of p (one the replay may
 * defer again under the same key, never new to the outbox). */
static dn_status has_deferred(dn_ledger *copy, const dn_program *p, bool *any, dn_diags *diags) {
  sqlite3_stmt *q;
  const char *sql = "SELECT 1 FROM actions WHERE policy = ?1 AND status = 'deferred' LIMIT 1";
  if (sqlite3_prepare_v2(copy->db, sql, -1, &q, NULL) != SQLITE_OK) return wake_sql_error(copy, diags);
  sqlite3_bind_text(q, 1, p->name ? p->name : "", -1, SQLITE_STATIC);
  int rc = sqlite3_step(q);
  sqlite3_finalize(q);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return wake_sql_error(copy, diags);
  *any = rc == SQLITE_ROW;
  return DN_OK;
}

/* discard: the caller closes the copy afterwards, so while it is read
 * from its store the simulated actions need not be written to its table
 * (the outbox's SQLite inserts were a fifth of a busy month's replay). */
static dn_status simulate_copy(const dn_program *p, dn_ledger *copy, const dn_sim_options *o,
                               dn_sim_summary *sum, bool discard, dn_diags *diags) {
  summary_init(sum, o);
  if (o->to < o->from) return DN_ERR_USAGE;
  sim_run r = {.p = p, .o = o, .sum = sum, .diags = diags, .last_label = last_labels(p),
               .cal_base = dn_calendar_new(p->calendar ? p->calendar : "")};
  dn_status st = r.last_label && r.cal_base ? DN_OK : DN_ERR_INTERNAL;
  bool old_deferred = true;
  if (st == DN_OK) st = has_deferred(copy, p, &old_deferred, diags);
  r.deferred_keys_new = !old_deferred;
  wake_state w;
  memset(&w, 0, sizeof w);
  dn_facts_store *store = NULL;
  if (st == DN_OK && !o->full && !decisions_move(p)) {
    st = wake_init(&w, p, copy, o->from, o->to, o->read, diags);
    if (st == DN_OK) r.wake = &w;
    /* Only the incremental replay reads from memory: --full stays the
     * SQLite-read reference it is compared with. */
    if (st == DN_OK && o->read == DN_SIM_READ_AUTO) st = dn_facts_store_load(copy, p, &store, diags);
    copy->store = store;
    if (store) st = lighten_copy(copy, diags);
    r.discard_copy = discard && store;
    if (store && (!(r.memo = dn_history_memo_new()) || !(r.traces = dn_trace_book_new())))
      st = DN_ERR_INTERNAL;
    /* The day's list names customers by the store's pointers (see
     * dn_facts_store_customer_id). */
    for (size_t i = 0; store && st == DN_OK && i < w.n; i++) {
      const char *own = dn_facts_store_customer_id(store, w.ids[i]);
      if (own) w.ids[i] = own;
    }
    if (st == DN_OK && r.discard_copy) st = empty_copy(copy, diags);
  }
  sum->incremental = r.wake != NULL;
  for (dn_date d = o->from; d <= o->to && st == DN_OK; d++) st = run_day(&r, copy, d);
  if (store && restore_checks(copy, diags) != DN_OK && st == DN_OK) st = DN_ERR_INPUT;
  copy->store = NULL;
  dn_history_memo_free(r.memo);
  dn_trace_book_free(r.traces);
  dn_facts_store_free(store);
  wake_free(&w);
  for (uint32_t e = 0; r.last_label && e < p->nescalations; e++) free(r.last_label[e]);
  free(r.last_label);
  if (r.cal_base) dn_calendar_free(r.cal_base);
  finish_finals(sum);
  order_counts(p, sum->tones, sum->ntones, tone_rank);
  order_counts(p, sum->segments, sum->nsegments, segment_rank);
  return st;
}

dn_status dn_simulate_on(const dn_program *p, dn_ledger *copy, const dn_sim_options *o,
                         dn_sim_summary *sum, dn_diags *diags) {
  return simulate_copy(p, copy, o, sum, false, diags);
}

dn_status dn_simulate(const dn_program *p, dn_ledger *source, const dn_sim_options *o,
                      dn_sim_summary *sum, dn_diags *diags) {
  dn_ledger copy;
  dn_status st = dn_sim_copy_ledger(source, p, o->from, &copy, diags);
  if (st != DN_OK) {
    summary_init(sum, o);
    return st;
  }
  st = simulate_copy(p, &copy, o, sum, true, diags);
  dn_ledger_close(&copy);
  return st;
}

void dn_sim_summary_free(dn_sim_summary *s) {
  for (int32_t i = 0; i < s->ncollectors; i++) free(s->collectors[i].per_day);
  free(s->collectors);
  free(s->tones);
  free(s->segments);
  free(s->weeks);
  free(s->finals);
  free(s->deferred_keys);
  dn_arena_free(&s->arena);
  memset(s, 0, sizeof *s);
}

/* ---- collecting and comparing ------------------------------------------------ */

void dn_action_list_init(dn_action_list *l) {
  memset(l, 0, sizeof *l);
  dn_arena_init(&l->arena);
}

void dn_action_list_free(dn_action_list *l) {
  free(l->items);
  dn_arena_free(&l->arena);
  memset(l, 0, sizeof *l);
}

static bool dup_str(dn_arena *a, const char **s) {
  if (!*s) return true;
  *s = dn_arena_strdup(a, *s);
  return *s != NULL;
}

dn_status dn_action_list_add(void *list, const dn_action_rec *a) {
  dn_action_list *l = list;
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 256;
    dn_action_rec *g = realloc(l->items, sizeof *g * nc);
    if (!g) return DN_ERR_INTERNAL;
    l->items = g;
    l->cap = nc;
  }
  dn_action_rec *c = &l->items[l->n];
  *c = *a;
  const char **inv = a->ninvoices ? dn_arena_alloc(&l->arena, sizeof *inv * (size_t)a->ninvoices) : NULL;
  if (a->ninvoices && !inv) return DN_ERR_INTERNAL;
  for (int i = 0; i < a->ninvoices; i++) {
    inv[i] = a->invoices[i];
    if (!dup_str(&l->arena, &inv[i])) return DN_ERR_INTERNAL;
  }
  c->invoices = inv;
  if (!dup_str(&l->arena, &c->customer) || !dup_str(&l->arena, &c->tone) ||
      !dup_str(&l->arena, &c->template_name) || !dup_str(&l->arena, &c->rule) ||
      !dup_str(&l->arena, &c->step) || !dup_str(&l->arena, &c->assignee) ||
      !dup_str(&l->arena, &c->reason) || !dup_str(&l->arena, &c->text) ||
      !dup_str(&l->arena, &c->segment))
    return DN_ERR_INTERNAL;
  l->n++;
  return DN_OK;
}

int dn_action_identity_cmp(const dn_action_rec *a, const dn_action_rec *b) {
  if (a->as_of != b->as_of) return a->as_of < b->as_of ? -1 : 1;
  int c = strcmp(a->customer, b->customer);
  if (c) return c;
  if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
  if ((c = nstrcmp(a->rule, b->rule))) return c;
  if ((c = nstrcmp(a->step, b->step))) return c;
  for (int i = 0; i < a->ninvoices && i < b->ninvoices; i++)
    if ((c = strcmp(a->invoices[i], b->invoices[i]))) return c;
  if (a->ninvoices != b->ninvoices) return a->ninvoices < b->ninvoices ? -1 : 1;
  return nstrcmp(a->text, b->text);
}

bool dn_action_same_outcome(const dn_action_rec *a, const dn_action_rec *b) {
  return dn_action_identity_cmp(a, b) == 0 && !nstrcmp(a->tone, b->tone) &&
         !nstrcmp(a->template_name, b->template_name) && !strcmp(a->scheduled_at, b->scheduled_at) &&
         a->has_priority == b->has_priority && (!a->has_priority || a->priority == b->priority) &&
         !nstrcmp(a->assignee, b->assignee) && a->status == b->status;
}

/* qsort is not stable: the index breaks ties, so equal identities pair in
 * run order. */
typedef struct ranked {
  const dn_action_rec *a;
  size_t i;
} ranked;

static int ranked_cmp(const void *pa, const void *pb) {
  const ranked *x = pa, *y = pb;
  int c = dn_action_identity_cmp(x->a, y->a);
  if (c) return c;
  return (x->i > y->i) - (x->i < y->i);
}

static ranked *rank_list(const dn_action_list *l) {
  ranked *r = malloc(sizeof *r * (l->n ? l->n : 1));
  if (!r) return NULL;
  for (size_t i = 0; i < l->n; i++) r[i] = (ranked){&l->items[i], i};
  qsort(r, l->n, sizeof *r, ranked_cmp);
  return r;
}

dn_status dn_action_diff(const dn_action_list *before, const dn_action_list *after,
                         dn_diff_entry **out, size_t *n, size_t counts[4]) {
  *out = NULL;
  *n = 0;
  memset(counts, 0, sizeof *counts * 4);
  ranked *b = rank_list(before), *a = rank_list(after);
  dn_diff_entry *e = malloc(sizeof *e * (before->n + after->n + 1));
  if (!a || !b || !e) {
    free(a);
    free(b);
    free(e);
    return DN_ERR_INTERNAL;
  }
  size_t i = 0, j = 0, m = 0;
  while (i < before->n || j < after->n) {
    int c = i == before->n ? 1 : j == after->n ? -1 : dn_action_identity_cmp(b[i].a, a[j].a);
    if (c < 0) e[m++] = (dn_diff_entry){DN_DIFF_REMOVED, b[i++].a, NULL};
    else if (c > 0) e[m++] = (dn_diff_entry){DN_DIFF_ADDED, NULL, a[j++].a};
    else {
      bool same = dn_action_same_outcome(b[i].a, a[j].a);
      e[m++] = (dn_diff_entry){same ? DN_DIFF_UNCHANGED : DN_DIFF_CHANGED, b[i++].a, a[j++].a};
    }
    counts[e[m - 1].kind]++;
  }
  free(a);
  free(b);
  *out = e;
  *n = m;
  return DN_OK;
}
