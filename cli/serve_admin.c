/* serve_admin.c - the endpoints about the server itself: /healthz,
 * /metrics and /v1/reload (and SIGHUP, which reloads the same way). */
#include <stdlib.h>

#include "cli/serve_handlers.h"

void serve_handle_healthz(serve_ctx *ctx, const serve_request *rq, serve_reply *out) {
  (void)rq;
  serve_policy *p = serve_policy_acquire(&ctx->policies);
  serve_reply_json(out, 200, json_pack("{s:s,s:s,s:I,s:s}", "status", "ok", "policy", p->program->name,
                                       "version", (json_int_t)p->program->version, "hash", p->hash));
  serve_policy_release(&ctx->policies, p);
}

void serve_handle_metrics(serve_ctx *ctx, const serve_request *rq, serve_reply *out) {
  (void)rq;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) {
    serve_reply_error(out, 500, "out of memory");
    return;
  }
  serve_policy *p = serve_policy_acquire(&ctx->policies);
  serve_metrics_write(&ctx->metrics, f, p->program->name, p->program->version, p->hash);
  serve_policy_release(&ctx->policies, p);
  fclose(f);
  serve_reply_take(out, 200, "text/plain; version=0.0.4", text);
}

void serve_reload(serve_ctx *ctx, serve_reply *out) {
  char *log = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&log, &len);
  dn_status st = f ? serve_policies_reload(&ctx->policies, f) : DN_ERR_INTERNAL;
  if (f) fclose(f);
  bool ok = st == DN_OK;
  serve_metrics_reload(&ctx->metrics, ok);
  serve_policy *p = serve_policy_acquire(&ctx->policies);
  if (log) fputs(log, stderr);
  fprintf(stderr, "reload %s: serving policy \"%s\" version %lld (%s)\n",
          ok ? "ok" : "failed, the running policy stays", p->program->name,
          (long long)p->program->version, p->hash);
  if (out) {
    json_t *j = json_pack("{s:b,s:s,s:I,s:s}", "reloaded", ok, "policy", p->program->name, "version",
                          (json_int_t)p->program->version, "hash", p->hash);
    if (j) json_object_set_new(j, "diagnostics", serve_diag_lines(log));
    if (j && !ok) json_object_set_new(j, "error", json_string("the policy failed to load; the running one stays"));
    serve_reply_json(out, ok ? 200 : 422, j);
  }
  serve_policy_release(&ctx->policies, p);
  free(log);
}

void serve_handle_reload(serve_ctx *ctx, const serve_request *rq, serve_reply *out) {
  (void)rq;
  serve_reload(ctx, out);
}
