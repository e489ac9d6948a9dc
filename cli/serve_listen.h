/* serve_listen.h - the --listen address of `dunlin serve`. */
#ifndef DN_SERVE_LISTEN_H
#define DN_SERVE_LISTEN_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>

#include "stdlib/status.h"

/* "HOST:PORT": an IPv4 address, [IPv6], or a name resolved once at
 * startup ("localhost:8080"). Port 0 asks the system for a free port. */
dn_status serve_listen_parse(const char *text, struct sockaddr_storage *out, FILE *err);
/* 127.0.0.0/8, ::1 or ::ffff:127.x.y.z. */
bool serve_listen_is_loopback(const struct sockaddr_storage *a);

#endif
