/* serve_reply.c - building replies (see serve_reply.h). */
#include "cli/serve_reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void serve_reply_take(serve_reply *r, unsigned status, const char *content_type, char *body) {
  free(r->body);
  r->status = body ? status : 500;
  r->content_type = content_type;
  r->body = body;
  r->len = body ? strlen(body) : 0;
}

void serve_reply_json(serve_reply *r, unsigned status, json_t *j) {
  char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)) : NULL;
  json_decref(j);
  char *line = text ? realloc(text, strlen(text) + 2) : NULL;
  if (line) strcat(line, "\n");
  else free(text);
  serve_reply_take(r, status, "application/json", line);
}

void serve_reply_error(serve_reply *r, unsigned status, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  serve_reply_json(r, status, json_pack("{s:s}", "error", msg));
}

json_t *serve_diag_lines(const char *text) {
  json_t *arr = json_array();
  for (const char *p = text; arr && p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    if (n > 0) json_array_append_new(arr, json_stringn(p, n));
    p = nl ? nl + 1 : p + n;
  }
  return arr;
}

json_t *serve_diag_list(const dn_diags *d) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (f) {
    dn_diags_render_text(d, f, false);
    fclose(f);
  }
  json_t *lines = serve_diag_lines(text);
  free(text);
  return lines;
}

void serve_reply_diags(serve_reply *r, unsigned status, const char *fallback, const dn_diags *d) {
  json_t *lines = serve_diag_list(d);
  const char *first = json_string_value(json_array_get(lines, 0));
  json_t *j = json_pack("{s:s}", "error", first ? first : fallback);
  if (j && lines) json_object_set(j, "diagnostics", lines);
  json_decref(lines);
  serve_reply_json(r, status, j);
}
