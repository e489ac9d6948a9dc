/* serve_actions.c - GET /v1/actions?as_of=D[&customer=ID]: the outbox
 * rows (the ledger's actions table) of one date, in run order. */
#include <stdlib.h>
#include <string.h>

#include "cli/serve_handlers.h"
#include "runtime/ledger.h"
#include "runtime/outbox.h"

static const char actions_sql[] =
    "SELECT key, run_id, as_of, policy, policy_version, rule, step, customer_id, invoice_ids, kind,"
    " tone, template, scheduled_at, priority, assignee, status, reason FROM actions"
    " WHERE as_of = ?1 AND (?2 IS NULL OR customer_id = ?2) ORDER BY customer_id, scheduled_at, key";

static json_t *column_value(sqlite3_stmt *st, int i) {
  switch (sqlite3_column_type(st, i)) {
  case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, i));
  case SQLITE_FLOAT: return json_real(sqlite3_column_double(st, i));
  case SQLITE_NULL: return json_null();
  default: return dn_json_text((const char *)sqlite3_column_text(st, i));
  }
}

static json_t *row_object(sqlite3_stmt *st) {
  json_t *o = json_object();
  for (int i = 0; o && i < sqlite3_column_count(st); i++) {
    const char *name = sqlite3_column_name(st, i);
    json_t *v = NULL;
    /* invoice_ids is stored as a JSON array: hand it out as one */
    if (strcmp(name, "invoice_ids") == 0 && sqlite3_column_type(st, i) == SQLITE_TEXT)
      v = json_loads((const char *)sqlite3_column_text(st, i), JSON_DECODE_ANY, NULL);
    if (!v) v = column_value(st, i);
    json_object_set_new(o, name, v);
  }
  return o;
}

static dn_status query_actions(dn_ledger *l, const char *date, const char *customer, json_t *arr,
                               dn_diags *d) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(l->db, actions_sql, -1, &st, NULL) != SQLITE_OK) {
    dn_diag_add_at(d, DN_E0502, l->path, 0, "cannot read the actions table: %s", sqlite3_errmsg(l->db));
    return DN_ERR_INPUT;
  }
  sqlite3_bind_text(st, 1, date, -1, SQLITE_STATIC);
  if (customer) sqlite3_bind_text(st, 2, customer, -1, SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) json_array_append_new(arr, row_object(st));
  if (rc != SQLITE_DONE)
    dn_diag_add_at(d, DN_E0502, l->path, 0, "cannot read the actions table: %s", sqlite3_errmsg(l->db));
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? DN_OK : DN_ERR_INPUT;
}

void serve_handle_actions(serve_ctx *ctx, const serve_request *rq, serve_reply *out) {
  static const char *const known[] = {"as_of", "customer"};
  const char *customer = serve_query(rq, "customer");
  dn_date date;
  char text[11];
  if (!serve_query_check(rq, known, 2, out) || !serve_query_date(rq, &date, text, out)) return;
  dn_diags d;
  dn_diags_init(&d, ctx->cfg.ledger_path, NULL, 0);
  dn_ledger l;
  json_t *arr = json_array();
  dn_status st = arr ? dn_ledger_open(ctx->cfg.ledger_path, DN_LEDGER_READ, &l, &d) : DN_ERR_INTERNAL;
  if (st == DN_OK) {
    st = query_actions(&l, text, customer, arr, &d);
    dn_ledger_close(&l);
  }
  if (st == DN_OK) {
    json_t *j = json_pack("{s:s,s:o}", "as_of", text, "actions", arr);
    if (j && customer) json_object_set_new(j, "customer", dn_json_text(customer));
    serve_reply_json(out, 200, j);
  } else {
    json_decref(arr);
    serve_reply_diags(out, 500, "cannot read the actions", &d);
  }
  dn_diags_free(&d);
}
