/* serve_levels.c - GET /v1/levels?as_of=D[&customer=ID]: each open
 * invoice's dunning level as `dunlin levels` gives it (runtime/levels.h),
 * read from the ledger with the current policy. Nothing is written. */
#include <stdlib.h>
#include <string.h>

#include "cli/serve_handlers.h"
#include "runtime/levels.h"
#include "runtime/outbox.h"

static dn_status add_row(void *ctx, const dn_level_row *r) {
  json_t *row = dn_level_row_json(r);
  return row && json_array_append_new(ctx, row) == 0 ? DN_OK : DN_ERR_INTERNAL;
}

static void reply_levels(const serve_policy *p, const char *date, const char *customer, json_t *rows,
                         const dn_diags *d, serve_reply *out) {
  json_t *j = json_pack("{s:s,s:s,s:I,s:s}", "as_of", date, "policy", p->program->name, "version",
                        (json_int_t)p->program->version, "hash", p->hash);
  if (!j) {
    json_decref(rows);
    serve_reply_error(out, 500, "out of memory");
    return;
  }
  if (customer) json_object_set_new(j, "customer", dn_json_text(customer));
  json_object_set_new(j, "data_errors", serve_diag_list(d));
  json_object_set_new(j, "levels", rows);
  serve_reply_json(out, 200, j);
}

/* The rows from the ledger; *missing when the asked customer is not in it. */
static dn_status read_levels(serve_ctx *ctx, const serve_policy *p, dn_date date, const char *customer,
                             json_t *rows, bool *missing, dn_diags *d) {
  dn_ledger l;
  dn_status st = dn_ledger_open(ctx->cfg.ledger_path, DN_LEDGER_READ, &l, d);
  if (st != DN_OK) return st;
  bool found = true;
  if (customer) st = dn_ledger_has_customer(&l, customer, &found, d);
  *missing = st == DN_OK && !found;
  if (st == DN_OK && found) {
    dn_run_options o = {.as_of = date, .only_customer = customer,
                        .extern_fns = (void *const *)p->ext.fns};
    st = dn_levels_run(p->program, &l, &o, add_row, rows, NULL, d);
  }
  dn_ledger_close(&l);
  return *missing ? DN_ERR_INPUT : st;
}

void serve_handle_levels(serve_ctx *ctx, const serve_request *rq, serve_reply *out) {
  static const char *const known[] = {"as_of", "customer"};
  const char *customer = serve_query(rq, "customer");
  dn_date date;
  char text[11];
  if (!serve_query_check(rq, known, 2, out) || !serve_query_date(rq, &date, text, out)) return;
  serve_policy *p = serve_policy_acquire(&ctx->policies);
  dn_diags d;
  dn_diags_init(&d, ctx->cfg.ledger_path, NULL, 0);
  json_t *rows = json_array();
  bool missing = false;
  dn_status st = rows ? read_levels(ctx, p, date, customer, rows, &missing, &d) : DN_ERR_INTERNAL;
  if (st == DN_OK) {
    reply_levels(p, text, customer, rows, &d, out);
  } else {
    json_decref(rows);
    if (missing) serve_reply_error(out, 404, "no customer \"%.80s\" in the ledger", customer);
    else serve_reply_diags(out, 500, "cannot read the levels", &d);
  }
  dn_diags_free(&d);
  serve_policy_release(&ctx->policies, p);
}
