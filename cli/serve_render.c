/* serve_render.c - collecting actions as JSON objects (serve_render.h). */
#include "cli/serve_render.h"

#include "runtime/outbox.h"
#include "runtime/render.h"

dn_status serve_collect_init(serve_collect *c, const serve_policy *p, dn_diags *diags) {
  *c = (serve_collect){.policy = p, .actions = json_array(), .diags = diags};
  return c->actions ? DN_OK : DN_ERR_INTERNAL;
}

dn_status serve_collect_action(void *ctx, const dn_action_rec *a) {
  serve_collect *c = ctx;
  if (c->outbox) {
    dn_status st = dn_outbox_add(c->outbox, a, c->diags);
    if (st != DN_OK) return st;
  }
  json_t *o = dn_action_to_json(a, false);
  if (!o) return DN_ERR_INTERNAL;
  dn_status st = DN_OK;
  if (c->policy->templates) {
    dn_render_options ro = {0};
    st = dn_render_action_json(o, c->policy->templates, NULL, a, &ro, c->diags);
  }
  if (st == DN_OK && json_array_append_new(c->actions, o) != 0) return DN_ERR_INTERNAL;
  if (st != DN_OK) json_decref(o);
  return st;
}
