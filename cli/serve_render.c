/* serve_render.c - collecting actions as JSON objects (serve_render.h). */
#include "cli/serve_render.h"

#include "runtime/outbox.h"
#include "runtime/render.h"

dn_status serve_collect_init(serve_collect *c, const serve_policy *p, dn_diags *diags) {
  c->outbox = NULL;
  return dn_render_collect_init(&c->render, p->templates, NULL, diags);
}

dn_status serve_collect_action(void *ctx, const dn_action_rec *a) {
  serve_collect *c = ctx;
  if (c->outbox) {
    dn_status st = dn_outbox_add(c->outbox, a, c->render.diags);
    if (st != DN_OK) return st;
  }
  return dn_render_collect_action(&c->render, a);
}
