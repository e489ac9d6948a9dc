/* decide.h - "what should happen next for this customer?" for systems
 * that hold the facts themselves (an ERP, a billing platform, a CRM): one
 * JSON request in (a customer with its invoices, payments, disputes,
 * promises and recent actions, and the date), one JSON response out.
 *
 * A decider owns a scratch in-memory ledger: the request's rows go in
 * through dn_ledger_insert_rows inside a transaction, the engine runs for
 * that customer, and the transaction is rolled back, so the facts are
 * derived exactly as a ledger run derives them. One decider per thread;
 * any number of deciders may share one loaded program. */
#ifndef DN_DECIDE_H
#define DN_DECIDE_H

#include <stddef.h>

#include "lang/diag.h"
#include "lang/program.h"
#include "runtime/engine.h"
#include "stdlib/status.h"

typedef struct dn_decider dn_decider;

/* extern_fns as in dn_run_options (may be NULL when the policy has none). */
dn_status dn_decider_open(const dn_program *p, void *const *extern_fns, dn_decider **out,
                          dn_diags *diags);
void dn_decider_close(dn_decider *d);

/* One request (schema: docs/decide.md). On success *response is a
 * malloc'd JSON object text, {"id":…,"actions":[…]}; on a bad request the
 * status is DN_ERR_INPUT, the reasons are in diags, and *response is an
 * error object {"id":…,"error":"…"} still fit to send back. */
dn_status dn_decide_json(dn_decider *d, const char *request, size_t len, char **response,
                         dn_diags *diags);

/* The same, and each action also goes to `sink` (NULL for none) as the
 * engine emits it, for callers that want records rather than text
 * (libdunlin's dunlin_decide_json). */
dn_status dn_decide_json_sink(dn_decider *d, const char *request, size_t len, dn_action_sink sink,
                              void *sink_ctx, char **response, dn_diags *diags);

#endif
