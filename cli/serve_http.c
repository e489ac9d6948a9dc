/* serve_http.c - libmicrohttpd glue (see serve_http.h).
 *
 * microhttpd calls on_request once when the headers are in, then once per
 * piece of body, then once more. The first call decides everything that
 * needs no body (route, token, method, declared length), so a refused
 * request is answered before its body is read at all. */
#include "cli/serve_http.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/serve_auth.h"
#include "cli/serve_route.h"

typedef struct http_call {
  const serve_route *route;
  serve_endpoint endpoint;
  char method[16];
  char path[128];           /* for the log line, control bytes replaced */
  char *body;
  size_t len, cap;
  unsigned status;          /* 0 until a reply is queued */
  struct timespec start;
} http_call;

const char *serve_query(const serve_request *rq, const char *key) {
  return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

bool serve_query_date(const serve_request *rq, dn_date *date, char text[11], serve_reply *out) {
  const char *as_of = serve_query(rq, "as_of");
  if (!as_of) {
    serve_reply_error(out, 400, "as_of=YYYY-MM-DD is required");
    return false;
  }
  if (!dn_date_parse(as_of, strlen(as_of), date)) {
    serve_reply_error(out, 400, "as_of: \"%.40s\" is not a date (YYYY-MM-DD)", as_of);
    return false;
  }
  dn_date_format(*date, text);
  return true;
}

typedef struct query_scan {
  const char *const *known;
  size_t n;
  int counts[8];
  const char *unknown;
} query_scan;

static enum MHD_Result scan_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  (void)kind, (void)value;
  query_scan *q = cls;
  for (size_t i = 0; i < q->n; i++)
    if (strcmp(key, q->known[i]) == 0) {
      q->counts[i]++;
      return MHD_YES;
    }
  if (!q->unknown) q->unknown = key;
  return MHD_YES;
}

bool serve_query_check(const serve_request *rq, const char *const *known, size_t n, serve_reply *out) {
  query_scan q = {.known = known, .n = n < 8 ? n : 8};
  MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, scan_arg, &q);
  if (q.unknown) {
    serve_reply_error(out, 400, "unknown query parameter \"%.40s\" (expected %s%s%s)", q.unknown, known[0],
                      n > 1 ? " or " : "", n > 1 ? known[1] : "");
    return false;
  }
  for (size_t i = 0; i < q.n; i++)
    if (q.counts[i] > 1) {
      serve_reply_error(out, 400, "query parameter \"%s\" given %d times", known[i], q.counts[i]);
      return false;
    }
  return true;
}

static void printable_copy(char *dst, size_t cap, const char *src) {
  size_t i = 0;
  for (; src[i] && i + 1 < cap; i++) dst[i] = (src[i] > 0x20 && src[i] < 0x7f) ? src[i] : '?';
  dst[i] = '\0';
}

static http_call *call_new(const char *url, const char *method) {
  http_call *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  clock_gettime(CLOCK_MONOTONIC, &c->start);
  c->route = serve_route_find(url);
  c->endpoint = c->route ? c->route->endpoint : SERVE_EP_OTHER;
  printable_copy(c->method, sizeof c->method, method);
  printable_copy(c->path, sizeof c->path, url);
  return c;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, http_call *c, serve_reply *r) {
  if (!r->body) serve_reply_take(r, r->status ? r->status : 500, "application/json", strdup("{}\n"));
  if (!r->body) return MHD_NO;
  struct MHD_Response *resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(r->body);
    return MHD_NO;
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
  if (r->allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
  if (r->status == MHD_HTTP_UNAUTHORIZED) MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
  enum MHD_Result ok = MHD_queue_response(conn, r->status, resp);
  MHD_destroy_response(resp);
  if (ok == MHD_YES) c->status = r->status;
  return ok;
}

static bool declared_too_big(struct MHD_Connection *conn, size_t max) {
  const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (!cl) return false;
  char *end;
  unsigned long long n = strtoull(cl, &end, 10);
  return n > max;
}

/* Everything decided from the headers alone; false with r filled when
 * the request is refused. */
static bool preflight(serve_ctx *ctx, struct MHD_Connection *conn, const char *method, http_call *c,
                      serve_reply *r) {
  const serve_route *rt = c->route;
  if (!rt) {
    serve_reply_error(r, MHD_HTTP_NOT_FOUND, "no such endpoint (see docs/serve.md)");
    return false;
  }
  if (!rt->open && ctx->token &&
      !serve_token_ok(ctx->token, ctx->token_len,
                      MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION))) {
    serve_reply_error(r, MHD_HTTP_UNAUTHORIZED, "missing or wrong bearer token");
    return false;
  }
  if (strcmp(method, rt->method) != 0) {
    serve_reply_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s takes %s", rt->path, rt->method);
    r->allow = rt->method;
    return false;
  }
  if (declared_too_big(conn, ctx->cfg.max_body)) {
    serve_reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger than %zu bytes (--max-body)",
                      ctx->cfg.max_body);
    return false;
  }
  return true;
}

static bool append_body(http_call *c, const char *data, size_t n, size_t max) {
  if (n > max - c->len) return false;
  if (c->len + n + 1 > c->cap) {
    size_t cap = c->cap ? c->cap : 4096;
    while (cap < c->len + n + 1) cap *= 2;
    char *b = realloc(c->body, cap);
    if (!b) return false;
    c->body = b;
    c->cap = cap;
  }
  memcpy(c->body + c->len, data, n);
  c->len += n;
  c->body[c->len] = '\0';
  return true;
}

static enum MHD_Result dispatch(serve_ctx *ctx, struct MHD_Connection *conn, http_call *c) {
  serve_request rq = {.method = c->method, .path = c->route->path, .body = c->body ? c->body : "",
                      .len = c->len, .conn = conn};
  serve_reply r = {0};
  c->route->handler(ctx, &rq, &r);
  return send_reply(conn, c, &r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  (void)version;
  serve_ctx *ctx = cls;
  http_call *c = *con_cls;
  if (!c) {
    if (!(c = call_new(url, method))) return MHD_NO;
    *con_cls = c;
    serve_reply r = {0};
    return preflight(ctx, conn, method, c, &r) ? MHD_YES : send_reply(conn, c, &r);
  }
  if (c->status) { /* answered already: drop what still comes */
    *upload_size = 0;
    return MHD_YES;
  }
  if (*upload_size) {
    bool fits = append_body(c, upload, *upload_size, ctx->cfg.max_body);
    *upload_size = 0;
    if (fits) return MHD_YES;
    /* a chunked body grew past the limit: refuse it now; if microhttpd
     * cannot answer in mid-body, the connection is closed instead */
    serve_reply r = {0};
    serve_reply_error(&r, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger than %zu bytes (--max-body)",
                      ctx->cfg.max_body);
    return send_reply(conn, c, &r);
  }
  return dispatch(ctx, conn, c);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)conn;
  serve_ctx *ctx = cls;
  http_call *c = *con_cls;
  if (!c) return;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double ms = (double)(now.tv_sec - c->start.tv_sec) * 1e3 + (double)(now.tv_nsec - c->start.tv_nsec) / 1e6;
  if (c->status) serve_metrics_request(&ctx->metrics, c->endpoint, c->status);
  if (c->status)
    fprintf(stderr, "%s %s %u %.3fms\n", c->method, c->path, c->status, ms);
  else
    fprintf(stderr, "%s %s - %.3fms (connection ended before a reply, code %d)\n", c->method, c->path, ms,
            (int)toe);
  free(c->body);
  free(c);
  *con_cls = NULL;
}

static void log_mhd(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  fputs("dunlin serve: http: ", stderr);
  vfprintf(stderr, fmt, ap);
}

struct MHD_Daemon *serve_http_start(serve_ctx *ctx, const struct sockaddr *addr, unsigned *port,
                                    FILE *err) {
  unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
  if (addr->sa_family == AF_INET6) flags |= MHD_USE_IPv6;
  /* the logger goes first, so that microhttpd's own complaints about
   * the options after it go through it too */
  struct MHD_Daemon *d = MHD_start_daemon(
      flags, 0, NULL, NULL, on_request, ctx, MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL, MHD_OPTION_SOCK_ADDR,
      addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)ctx->cfg.threads, MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned)ctx->cfg.timeout_s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, ctx, MHD_OPTION_END);
  if (!d) {
    fprintf(err, "dunlin serve: cannot listen on %s (address in use, or not an address of this machine)\n",
            ctx->cfg.listen);
    return NULL;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  *port = info ? info->port : 0;
  return d;
}

void serve_http_stop(struct MHD_Daemon *d) {
  MHD_socket fd = MHD_quiesce_daemon(d);
  MHD_stop_daemon(d);
  if (fd != MHD_INVALID_SOCKET) close(fd);
}
