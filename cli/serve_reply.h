/* serve_reply.h - an HTTP reply being built by a handler: status, body
 * and content type. Errors are JSON objects {"error": "..."} so that
 * every client can read why. */
#ifndef DN_SERVE_REPLY_H
#define DN_SERVE_REPLY_H

#include <jansson.h>
#include <stddef.h>

#include "lang/diag.h"

typedef struct serve_reply {
  unsigned status;
  char *body;              /* malloc'd */
  size_t len;
  const char *content_type;
  const char *allow;       /* the Allow header of a 405 */
} serve_reply;

/* Takes the reference to j; JSON bodies end with a newline. */
void serve_reply_json(serve_reply *r, unsigned status, json_t *j);
/* Takes ownership of body (malloc'd, NUL-terminated). */
void serve_reply_take(serve_reply *r, unsigned status, const char *content_type, char *body);
void serve_reply_error(serve_reply *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* {"error": first diagnostic, "diagnostics": [every line of text]} */
void serve_reply_diags(serve_reply *r, unsigned status, const char *fallback, const dn_diags *d);
/* A rendered text split at newlines, one JSON string per non-empty line. */
json_t *serve_diag_lines(const char *text);
/* Diagnostics rendered as text, one array element per line. */
json_t *serve_diag_list(const dn_diags *d);

#endif
