/* serve_http.h - the HTTP side of `dunlin serve`, on libmicrohttpd in
 * thread-pool mode: reading requests (size limit, token, routing) and
 * sending replies, one log line per request. */
#ifndef DN_SERVE_HTTP_H
#define DN_SERVE_HTTP_H

#include <stdio.h>
#include <sys/socket.h>

#include "cli/serve.h"

struct MHD_Daemon;

/* Starts listening on addr with ctx->cfg.threads worker threads; *port
 * is the port bound (addr may ask for port 0). NULL on failure, with the
 * reason written to err. */
struct MHD_Daemon *serve_http_start(serve_ctx *ctx, const struct sockaddr *addr, unsigned *port,
                                    FILE *err);
/* Stops accepting, lets the requests being answered finish, and stops. */
void serve_http_stop(struct MHD_Daemon *d);

#endif
