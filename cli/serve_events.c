/* serve_events.c - POST /v1/events: payments, disputes, promises and
 * credits recorded into the ledger, and disputes resolved, all in one
 * transaction per request. Rows go through dn_ledger_insert_rows, so they
 * are checked by exactly the rules of `ledger import`. */
#include <stdlib.h>
#include <string.h>

#include "cli/serve_handlers.h"
#include "runtime/ledger.h"

static const char *const row_tables[] = {"payments", "disputes", "promises", "credits"};
enum { NTABLES = 4 };
static const char resolutions_key[] = "dispute_resolutions";

typedef struct row_mem {
  const char **names, **values;
  char (*nums)[24];        /* integers written as the text a CSV cell holds */
  char origin[64];
} row_mem;

typedef struct event_batch {
  dn_row *rows;
  row_mem *mem;
  size_t n;
  long counts[NTABLES];
  json_t *resolutions;     /* borrowed from the body, or NULL */
} event_batch;

static void batch_free(event_batch *b) {
  for (size_t i = 0; i < b->n; i++) {
    free(b->mem[i].names);
    free(b->mem[i].values);
    free(b->mem[i].nums);
  }
  free(b->rows);
  free(b->mem);
}

static bool cell_text(json_t *v, row_mem *m, size_t i, const char *key, serve_reply *out) {
  if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v)) {
    m->values[i] = json_string_value(v);
  } else if (json_is_integer(v)) {
    snprintf(m->nums[i], sizeof m->nums[i], "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    m->values[i] = m->nums[i];
  } else if (json_is_null(v)) {
    m->values[i] = NULL;
  } else if (json_is_real(v)) {
    serve_reply_error(out, 400, "%s.%s: a number with a fraction; write amounts as decimal strings (\"12.50\") "
                      "or amount_minor as an integer", m->origin, key);
    return false;
  } else {
    serve_reply_error(out, 400, "%s.%s: must be a string, an integer or null", m->origin, key);
    return false;
  }
  return true;
}

static bool convert_row(const char *table, size_t idx, json_t *obj, dn_row *row, row_mem *m,
                        serve_reply *out) {
  snprintf(m->origin, sizeof m->origin, "%s[%zu]", table, idx);
  if (!json_is_object(obj)) {
    serve_reply_error(out, 400, "%s: each row must be a JSON object", m->origin);
    return false;
  }
  size_t n = json_object_size(obj);
  m->names = calloc(n + 1, sizeof *m->names);
  m->values = calloc(n + 1, sizeof *m->values);
  m->nums = calloc(n + 1, sizeof *m->nums);
  if (!m->names || !m->values || !m->nums) {
    serve_reply_error(out, 500, "out of memory");
    return false;
  }
  size_t i = 0;
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    m->names[i] = key;
    if (!cell_text(v, m, i, key, out)) return false;
    i++;
  }
  *row = (dn_row){.table = table, .names = m->names, .values = m->values, .n = (int)n, .origin = m->origin};
  return true;
}

static int table_index(const char *key) {
  for (int t = 0; t < NTABLES; t++)
    if (strcmp(row_tables[t], key) == 0) return t;
  return -1;
}

/* Checks the body's shape and counts the rows of each table. */
static bool check_shape(json_t *body, event_batch *b, size_t *total, serve_reply *out) {
  const char *key;
  json_t *v;
  *total = 0;
  json_object_foreach(body, key, v) {
    int t = table_index(key);
    if (t < 0 && strcmp(key, resolutions_key) != 0) {
      serve_reply_error(out, 400, "unknown field \"%s\" (expected payments, disputes, promises, credits, "
                        "dispute_resolutions)", key);
      return false;
    }
    if (!json_is_array(v)) {
      serve_reply_error(out, 400, "%s must be an array", key);
      return false;
    }
    if (t >= 0) b->counts[t] = (long)json_array_size(v);
    if (t >= 0) *total += json_array_size(v);
    else b->resolutions = v;
  }
  return true;
}

static bool build_batch(json_t *body, event_batch *b, serve_reply *out) {
  size_t total;
  if (!check_shape(body, b, &total, out)) return false;
  b->rows = calloc(total + 1, sizeof *b->rows);
  b->mem = calloc(total + 1, sizeof *b->mem);
  if (!b->rows || !b->mem) {
    serve_reply_error(out, 500, "out of memory");
    return false;
  }
  for (int t = 0; t < NTABLES; t++) {
    json_t *arr = json_object_get(body, row_tables[t]);
    size_t i;
    json_t *row;
    json_array_foreach(arr, i, row) {
      bool ok = convert_row(row_tables[t], i, row, &b->rows[b->n], &b->mem[b->n], out);
      b->n++; /* counted even when failed, so batch_free frees its arrays */
      if (!ok) return false;
    }
  }
  return true;
}

/* One resolution: {"id": "D1", "resolved_on": "YYYY-MM-DD"}. The dispute
 * must exist (it may come in the same request) and not be resolved
 * before it was opened; resolving again on the same date changes nothing,
 * on another date is refused. */
static dn_status resolve_one(dn_ledger *l, json_t *r, const char *origin, dn_diags *d) {
  const char *id = json_string_value(json_object_get(r, "id"));
  const char *on = json_string_value(json_object_get(r, "resolved_on"));
  dn_date day, opened;
  if (!json_is_object(r) || json_object_size(r) != 2 || !id || !on || !dn_date_parse(on, strlen(on), &day)) {
    dn_diag_add_at(d, DN_E0503, origin, 0, "expected {\"id\": \"DISPUTE\", \"resolved_on\": \"YYYY-MM-DD\"}");
    return DN_ERR_INPUT;
  }
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(l->db, "SELECT opened_on, resolved_on FROM disputes WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
    return DN_ERR_INTERNAL;
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  dn_status res = DN_OK;
  if (sqlite3_step(st) != SQLITE_ROW) {
    dn_diag_add_at(d, DN_E0503, origin, 0, "no dispute \"%s\" in the ledger", id);
    res = DN_ERR_INPUT;
  } else {
    const char *o = (const char *)sqlite3_column_text(st, 0), *was = (const char *)sqlite3_column_text(st, 1);
    char fmt[11];
    dn_date_format(day, fmt);
    if (o && dn_date_parse(o, strlen(o), &opened) && day < opened) {
      dn_diag_add_at(d, DN_E0503, origin, 0, "resolved_on %s is before dispute \"%s\" was opened (%s)", fmt, id, o);
      res = DN_ERR_INPUT;
    } else if (was && strcmp(was, fmt) != 0) {
      dn_diag_add_at(d, DN_E0503, origin, 0, "dispute \"%s\" was already resolved on %s", id, was);
      res = DN_ERR_INPUT;
    }
  }
  sqlite3_finalize(st);
  if (res != DN_OK) return res;
  char fmt[11];
  dn_date_format(day, fmt);
  if (sqlite3_prepare_v2(l->db, "UPDATE disputes SET resolved_on = ?1 WHERE id = ?2", -1, &st, NULL) != SQLITE_OK)
    return DN_ERR_INTERNAL;
  sqlite3_bind_text(st, 1, fmt, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? DN_OK : DN_ERR_INTERNAL;
}

static dn_status resolve_all(dn_ledger *l, json_t *arr, dn_diags *d) {
  size_t i;
  json_t *r;
  json_array_foreach(arr, i, r) {
    char origin[48];
    snprintf(origin, sizeof origin, "%s[%zu]", resolutions_key, i);
    dn_status st = resolve_one(l, r, origin, d);
    if (st != DN_OK) return st;
  }
  return DN_OK;
}

/* All or nothing: the rows and the resolutions share one transaction. */
static dn_status record(dn_ledger *l, const event_batch *b, dn_diags *d) {
  if (sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
    dn_diag_add_at(d, DN_E0505, l->path, 0, "cannot write the ledger: %s", sqlite3_errmsg(l->db));
    return DN_ERR_INTERNAL;
  }
  dn_status st = b->n ? dn_ledger_insert_rows(l, b->rows, b->n, d) : DN_OK;
  if (st == DN_OK && b->resolutions) st = resolve_all(l, b->resolutions, d);
  if (st == DN_OK && sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    dn_diag_add_at(d, DN_E0505, l->path, 0, "cannot commit: %s", sqlite3_errmsg(l->db));
    st = DN_ERR_INTERNAL;
  }
  if (st != DN_OK) sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
  return st;
}

static void reply_counts(const event_batch *b, serve_reply *out) {
  json_t *rec = json_object();
  for (int t = 0; rec && t < NTABLES; t++) json_object_set_new(rec, row_tables[t], json_integer(b->counts[t]));
  if (rec)
    json_object_set_new(rec, resolutions_key,
                        json_integer(b->resolutions ? (json_int_t)json_array_size(b->resolutions) : 0));
  serve_reply_json(out, 200, json_pack("{s:o}", "recorded", rec));
}

void serve_handle_events(serve_ctx *ctx, const serve_request *rq, serve_reply *out) {
  json_t *body = serve_body_object(rq, out);
  if (!body) return;
  event_batch b = {0};
  if (build_batch(body, &b, out)) {
    dn_diags d;
    dn_diags_init(&d, ctx->cfg.ledger_path, NULL, 0);
    dn_ledger l;
    /* a ledger that cannot be opened is the server's problem, not the
     * client's: 500, whereas bad rows are 400 */
    dn_status st = dn_ledger_open(ctx->cfg.ledger_path, DN_LEDGER_WRITE, &l, &d);
    bool opened = st == DN_OK;
    if (opened) {
      st = record(&l, &b, &d);
      dn_ledger_close(&l);
    }
    if (st == DN_OK) reply_counts(&b, out);
    else serve_reply_diags(out, opened && st == DN_ERR_INPUT ? 400 : 500, "the events were not recorded", &d);
    dn_diags_free(&d);
  }
  batch_free(&b);
  json_decref(body);
}
