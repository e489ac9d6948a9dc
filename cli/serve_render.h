/* serve_render.h - an action record as the JSON object the server sends:
 * the record of LEDGER.md, plus "language", "subject" and "body" for a
 * contact when the server runs with --templates (runtime/render.h). */
#ifndef DN_SERVE_RENDER_H
#define DN_SERVE_RENDER_H

#include <jansson.h>

#include "cli/serve_policy.h"
#include "runtime/engine.h"
#include "runtime/render.h"

/* A sink context collecting the actions of a run or a decision. */
typedef struct serve_collect {
  dn_render_collect render; /* the records, rendered with the policy's templates */
  struct dn_outbox *outbox; /* committed runs only, else NULL */
} serve_collect;

dn_status serve_collect_init(serve_collect *c, const serve_policy *p, dn_diags *diags);
/* A dn_action_sink: appends the action (rendered) and writes it to the
 * outbox when there is one. */
dn_status serve_collect_action(void *ctx, const dn_action_rec *a);

#endif
