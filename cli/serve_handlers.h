/* serve_handlers.h - one function per endpoint (serve_route.c lists
 * them): each reads the request and fills the reply, never prints. */
#ifndef DN_SERVE_HANDLERS_H
#define DN_SERVE_HANDLERS_H

#include "cli/serve_route.h"

void serve_handle_decide(serve_ctx *ctx, const serve_request *rq, serve_reply *out);
void serve_handle_runs(serve_ctx *ctx, const serve_request *rq, serve_reply *out);
void serve_handle_actions(serve_ctx *ctx, const serve_request *rq, serve_reply *out);
void serve_handle_levels(serve_ctx *ctx, const serve_request *rq, serve_reply *out);
void serve_handle_events(serve_ctx *ctx, const serve_request *rq, serve_reply *out);
void serve_handle_reload(serve_ctx *ctx, const serve_request *rq, serve_reply *out);
void serve_handle_healthz(serve_ctx *ctx, const serve_request *rq, serve_reply *out);
void serve_handle_metrics(serve_ctx *ctx, const serve_request *rq, serve_reply *out);

/* Parses a request body that must be a JSON object; on failure fills a
 * 400 reply naming the line and column, and returns NULL. */
json_t *serve_body_object(const serve_request *rq, serve_reply *out);

/* Runs one reload and answers for it (POST /v1/reload and SIGHUP share
 * it); the reply may be NULL (SIGHUP), diagnostics go to stderr too. */
void serve_reload(serve_ctx *ctx, serve_reply *out);

#endif
