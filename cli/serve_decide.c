/* serve_decide.c - POST /v1/decide: one decide request (docs/decide.md)
 * answered by a decider of the running policy (runtime/decide.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/serve_handlers.h"
#include "cli/serve_render.h"

static uint64_t micros_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)((t.tv_sec - t0->tv_sec) * 1000000 + (t.tv_nsec - t0->tv_nsec) / 1000);
}

/* Counts the actions by kind as the engine emits them, so that the
 * metrics need not parse the answer back (that parse was about a tenth
 * of a decision's time). */
typedef struct kind_counts {
  uint64_t n[DN_ACT_COUNT];
} kind_counts;

static dn_status count_action(void *ctx, const dn_action_rec *a) {
  kind_counts *c = ctx;
  if ((int)a->kind >= 0 && a->kind < DN_ACT_COUNT) c->n[a->kind]++;
  return DN_OK;
}

/* With templates, the rendered records (collected in the same order as
 * the engine emitted them) take the place of the plain ones, and go into
 * the metrics; without, the answer is sent as the decider wrote it. */
static void reply_response(serve_ctx *ctx, char *resp, unsigned status, json_t *rendered, serve_reply *out) {
  if (status == 200 && rendered) {
    serve_metrics_actions(&ctx->metrics, rendered);
    char *with = dn_render_decide_answer(resp, rendered);
    free(resp);
    resp = with;
    if (!resp) {
      serve_reply_error(out, 500, "out of memory");
      return;
    }
  }
  size_t n = strlen(resp);
  char *line = realloc(resp, n + 2);
  if (!line) {
    free(resp);
    serve_reply_error(out, 500, "out of memory");
    return;
  }
  memcpy(line + n, "\n", 2);
  serve_reply_take(out, status, "application/json", line);
}

void serve_handle_decide(serve_ctx *ctx, const serve_request *rq, serve_reply *out) {
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  serve_policy *p = serve_policy_acquire(&ctx->policies);
  dn_diags d;
  dn_diags_init(&d, "request", NULL, 0);
  dn_decider *dec;
  char *resp = NULL;
  dn_status st = serve_policy_take_decider(p, &dec, &d);
  serve_collect rendered = {0};
  kind_counts counts = {{0}};
  if (st == DN_OK && p->templates) st = serve_collect_init(&rendered, p, &d);
  if (st == DN_OK) {
    st = p->templates ? dn_decide_json_sink(dec, rq->body, rq->len, serve_collect_action, &rendered, &resp, &d)
                      : dn_decide_json_sink(dec, rq->body, rq->len, count_action, &counts, &resp, &d);
    /* a decider that failed for any other reason than the request is
     * not trusted with the next one */
    if (st == DN_OK || st == DN_ERR_INPUT) serve_policy_give_decider(p, dec);
    else dn_decider_close(dec);
  }
  if (st == DN_OK && !p->templates)
    for (int k = 0; k < DN_ACT_COUNT; k++) serve_metrics_action(&ctx->metrics, (dn_action_kind)k, counts.n[k]);
  if (resp && (st == DN_OK || st == DN_ERR_INPUT)) reply_response(ctx, resp, st == DN_OK ? 200 : 400, rendered.render.actions, out);
  else {
    free(resp);
    serve_reply_diags(out, st == DN_ERR_INPUT ? 400 : 500, "the decision failed", &d);
  }
  json_decref(rendered.render.actions);
  dn_diags_free(&d);
  serve_policy_release(&ctx->policies, p);
  serve_metrics_decision(&ctx->metrics, micros_since(&t0));
}
