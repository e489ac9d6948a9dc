/* serve_route.h - the routing table of `dunlin serve`: which path is
 * which endpoint, which method it takes, whether it needs the token, and
 * the handler that answers it. */
#ifndef DN_SERVE_ROUTE_H
#define DN_SERVE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/serve.h"
#include "cli/serve_reply.h"
#include "stdlib/date.h"

typedef struct serve_request {
  const char *method, *path;
  const char *body;          /* NUL-terminated, may hold NULs before len */
  size_t len;
  void *conn;                /* struct MHD_Connection *, for serve_query */
} serve_request;

typedef void (*serve_handler)(serve_ctx *ctx, const serve_request *rq, serve_reply *out);

typedef struct serve_route {
  const char *path, *method;
  serve_endpoint endpoint;
  serve_handler handler;
  bool open;                 /* answered without the token (/healthz) */
} serve_route;

/* The route of an exact path (the query string is not part of it), or
 * NULL for 404. */
const serve_route *serve_route_find(const char *path);

/* A query-string parameter of the request, or NULL (serve_http.c). */
const char *serve_query(const serve_request *rq, const char *key);

/* The required `as_of=YYYY-MM-DD` of a GET, parsed and formatted back
 * into text[11]; false with a 400 in `out` when it is missing or not a
 * date (serve_http.c). */
bool serve_query_date(const serve_request *rq, dn_date *date, char text[11], serve_reply *out);
/* False with a 400 in `out` when the query has a parameter not among the
 * n (at most 8) known ones, or one of them twice: a misspelt
 * `customer_id=` would otherwise widen the answer to the whole ledger. */
bool serve_query_check(const serve_request *rq, const char *const *known, size_t n, serve_reply *out);

#endif
