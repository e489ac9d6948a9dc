/* serve_runs.c - POST /v1/runs: the policy run against the ledger as of
 * a date, committed to the outbox when asked, as `dunlin run` does. */
#include <stdlib.h>
#include <string.h>

#include "cli/serve_handlers.h"
#include "runtime/engine.h"
#include "runtime/outbox.h"
#include "cli/serve_render.h"

typedef struct runs_args {
  dn_date as_of;
  char date[11];
  bool commit;
} runs_args;

static bool parse_args(const serve_request *rq, runs_args *a, serve_reply *out) {
  json_t *j = serve_body_object(rq, out);
  if (!j) return false;
  const char *key;
  json_t *v;
  bool ok = true, has_date = false;
  a->commit = false;
  json_object_foreach(j, key, v) {
    if (strcmp(key, "as_of") == 0 && json_is_string(v) &&
        dn_date_parse(json_string_value(v), json_string_length(v), &a->as_of)) {
      has_date = true;
    } else if (strcmp(key, "as_of") == 0) {
      serve_reply_error(out, 400, "as_of must be a date YYYY-MM-DD");
      ok = false;
    } else if (strcmp(key, "commit") == 0 && json_is_boolean(v)) {
      a->commit = json_is_true(v);
    } else {
      serve_reply_error(out, 400, strcmp(key, "commit") == 0 ? "commit must be true or false"
                                                                : "unknown field (expected as_of, commit)");
      ok = false;
    }
    if (!ok) break;
  }
  json_decref(j);
  if (ok && !has_date) {
    serve_reply_error(out, 400, "as_of is required (YYYY-MM-DD)");
    ok = false;
  }
  if (ok) dn_date_format(a->as_of, a->date);
  return ok;
}

typedef struct runs_result {
  dn_status st;
  dn_run_stats stats;
  dn_outbox outbox;
  serve_collect actions;
} runs_result;

/* The run itself; commit wraps it in the outbox's one transaction, rolled
 * back unless everything but data errors went right. */
static void run_engine(const serve_policy *p, dn_ledger *l, const runs_args *a, runs_result *r, dn_diags *d) {
  if ((r->st = serve_collect_init(&r->actions, p, d)) != DN_OK) return;
  r->actions.outbox = a->commit ? &r->outbox : NULL;
  r->st = a->commit ? dn_outbox_begin(&r->outbox, l, p->program, a->as_of, d) : DN_OK;
  if (r->st == DN_OK) {
    dn_run_options o = {.as_of = a->as_of, .extern_fns = (void *const *)p->ext.fns};
    r->st = dn_engine_run(p->program, l, &o, serve_collect_action, &r->actions, &r->stats, d);
    if (a->commit) {
      dn_status end = dn_outbox_end(&r->outbox, r->st == DN_OK, (long)r->stats.errors, d);
      if (r->st == DN_OK) r->st = end;
    }
  }
}

static void reply_run(serve_ctx *ctx, const serve_policy *p, const runs_args *a, runs_result *r,
                      const dn_diags *d, serve_reply *out) {
  json_t *actions = json_incref(r->actions.render.actions);
  serve_metrics_actions(&ctx->metrics, actions);
  json_t *j = json_pack("{s:s,s:s,s:I,s:s,s:b}", "as_of", a->date, "policy", p->program->name, "version",
                        (json_int_t)p->program->version, "hash", p->hash, "committed", a->commit);
  if (!j) {
    json_decref(actions);
    serve_reply_error(out, 500, "out of memory");
    return;
  }
  if (a->commit) {
    json_object_set_new(j, "run_id", json_integer(r->outbox.run_id));
    json_object_set_new(j, "already_committed", json_boolean(r->outbox.already));
    json_object_set_new(j, "inserted", json_integer(r->outbox.inserted));
  }
  json_object_set_new(j, "data_errors", serve_diag_list(d));
  json_object_set_new(j, "actions", actions);
  serve_reply_json(out, 200, j);
}

void serve_handle_runs(serve_ctx *ctx, const serve_request *rq, serve_reply *out) {
  runs_args a;
  if (!parse_args(rq, &a, out)) return;
  serve_policy *p = serve_policy_acquire(&ctx->policies);
  dn_diags d;
  dn_diags_init(&d, ctx->cfg.ledger_path, NULL, 0);
  dn_ledger l;
  runs_result r = {0};
  r.st = dn_ledger_open(ctx->cfg.ledger_path, a.commit ? DN_LEDGER_WRITE : DN_LEDGER_READ, &l, &d);
  if (r.st == DN_OK) {
    run_engine(p, &l, &a, &r, &d);
    dn_ledger_close(&l);
  }
  if (r.st == DN_OK) reply_run(ctx, p, &a, &r, &d, out);
  else serve_reply_diags(out, 500, "the run failed", &d);
  json_decref(r.actions.render.actions);
  dn_diags_free(&d);
  serve_policy_release(&ctx->policies, p);
}
