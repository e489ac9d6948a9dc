/* render.h - one contact action written out for one customer: subject
 * and body from the customer's language's template, money and dates
 * formatted for that language (docs/templates.md). */
#ifndef DN_RENDER_H
#define DN_RENDER_H

#include "lang/diag.h"
#include "runtime/engine.h"
#include "runtime/facts.h"
#include "runtime/template.h"
#include "stdlib/status.h"

struct json_t; /* jansson's, so that this header does not need jansson */

typedef struct dn_render_options {
  /* URL pattern for {{pay_link}}; each "{customer}" becomes the customer
   * id, percent-encoded. NULL leaves the token `{{pay_link}}` in place for
   * the mailer to fill. */
  const char *pay_link;
  /* {{company.name}}; NULL gives the language's "Accounts Receivable". */
  const char *company;
} dn_render_options;

typedef struct dn_rendered {
  char *subject;    /* NULL for sms and call (a script has no subject) */
  char *body;
  const char *language; /* the template language used (borrowed from the set) */
} dn_rendered;

/* Renders contact action a for customer c (a->facts when c is NULL).
 * DN_ERR_INPUT with E0803 when the template exists neither in the
 * customer's language nor in English; DN_ERR_INTERNAL on out of memory. */
dn_status dn_render_action(const dn_templates *t, const dn_customer_facts *c, const dn_action_rec *a,
                           const dn_render_options *o, dn_rendered *out, dn_diags *diags);
void dn_rendered_free(dn_rendered *r);

/* For the decide API and `run --render`: adds "language", "subject"
 * (null for sms and call) and "body" to the JSON object of a contact
 * action; leaves non-contacts unchanged. */
dn_status dn_render_action_json(struct json_t *obj, const dn_templates *t, const dn_customer_facts *c,
                                const dn_action_rec *a, const dn_render_options *o, dn_diags *diags);

/* A dn_action_sink collecting each record as its JSON object, with the
 * rendered message when templates are given: what `dunlin serve` answers
 * and `dunlin decide --templates` writes. */
typedef struct dn_render_collect {
  const dn_templates *templates; /* NULL: the records as they are */
  dn_render_options options;
  struct json_t *actions;        /* the array; the caller json_decrefs it */
  dn_diags *diags;
} dn_render_collect;
dn_status dn_render_collect_init(dn_render_collect *c, const dn_templates *t, const dn_render_options *o,
                                 dn_diags *diags);
dn_status dn_render_collect_action(void *ctx, const dn_action_rec *a);

/* A decide answer (dn_decide_json_sink's text) whose "actions" are
 * replaced by `actions` (collected from the same decision, so in the same
 * order): a new malloc'd text, or NULL when out of memory or when the
 * answer is not one with as many actions. */
char *dn_render_decide_answer(const char *response, struct json_t *actions);

#endif
