/* serve_listen.c - parsing --listen and telling loopback addresses apart
 * (see serve_listen.h). */
#include "cli/serve_listen.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static bool split(const char *text, char *host, size_t hcap, const char **port) {
  const char *colon;
  if (text[0] == '[') {
    const char *close = strchr(text, ']');
    if (!close || close[1] != ':') return false;
    colon = close + 1;
    text++;
    if ((size_t)(close - text) >= hcap) return false;
    memcpy(host, text, (size_t)(close - text));
    host[close - text] = '\0';
  } else {
    colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= hcap || memchr(text, ':', (size_t)(colon - text))) return false;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
  }
  *port = colon + 1;
  size_t n = strlen(*port);
  return host[0] && n > 0 && n <= 5 && strspn(*port, "0123456789") == n;
}

dn_status serve_listen_parse(const char *text, struct sockaddr_storage *out, FILE *err) {
  char host[256];
  const char *port;
  if (!split(text, host, sizeof host, &port) || strtol(port, NULL, 10) > 65535) {
    fprintf(err, "dunlin serve: --listen %s: expected HOST:PORT (127.0.0.1:8080, [::1]:8080)\n", text);
    return DN_ERR_USAGE;
  }
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0 || !res) {
    fprintf(err, "dunlin serve: --listen %s: %s\n", text, gai_strerror(rc));
    return DN_ERR_USAGE;
  }
  memset(out, 0, sizeof *out);
  memcpy(out, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  return DN_OK;
}

bool serve_listen_is_loopback(const struct sockaddr_storage *a) {
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)a;
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (a->ss_family == AF_INET6) {
    const struct in6_addr *in6 = &((const struct sockaddr_in6 *)a)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(in6)) return true;
    return IN6_IS_ADDR_V4MAPPED(in6) && in6->s6_addr[12] == 127;
  }
  return false;
}
