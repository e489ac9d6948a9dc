/* serve_body.c - reading a request body as a JSON object (see
 * serve_handlers.h): malformed input is a 400 naming where it broke. */
#include <string.h>

#include "cli/serve_handlers.h"

json_t *serve_body_object(const serve_request *rq, serve_reply *out) {
  json_error_t err;
  /* DECODE_ANY: `null` is JSON, only not an object; the 400 says so */
  json_t *j = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
  if (!j) {
    serve_reply_error(out, 400, "malformed JSON at line %d, column %d: %s", err.line, err.column, err.text);
    return NULL;
  }
  if (!json_is_object(j)) {
    json_decref(j);
    serve_reply_error(out, 400, "the body must be a JSON object");
    return NULL;
  }
  return j;
}
