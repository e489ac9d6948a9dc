/* api_request.c - libdunlin's request builder (dunlin_request_*, see
 * include/dunlin.h): a request assembled column by column in C becomes the
 * JSON request of docs/decide.md, so both ways in are checked by the same
 * code (runtime/decide.c) and fail with the same field paths. */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "include/dunlin.h"

struct dunlin_request {
  json_t *root;
};

static const char *const tables[] = {"invoices", "payments", "credits", "disputes",
                                     "promises", "actions",  "fx_rates", "holidays"};

/* Columns the request takes as JSON integers; everything else is text,
 * which the decide schema accepts for every other column. A value that is
 * not a whole number stays text and is refused there, with its path. */
static bool integer_column(const char *c) {
  size_t n = strlen(c);
  return (n > 6 && strcmp(c + n - 6, "_minor") == 0) || strcmp(c, "run_id") == 0 ||
         strcmp(c, "policy_version") == 0;
}

static json_t *value(const char *column, const char *text) {
  if (!text) return json_null();
  if (integer_column(column) && *text) {
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*end && errno == 0) return json_integer(v);
  }
  return json_string(text);
}

dunlin_request *dunlin_request_new(const char *customer_id, const char *as_of) {
  if (!customer_id || !as_of) return NULL;
  dunlin_request *r = malloc(sizeof *r);
  json_t *cust = json_pack("{s:s}", "id", customer_id);
  json_t *root = cust ? json_pack("{s:s,s:o}", "as_of", as_of, "customer", cust) : NULL;
  if (!r || !root) {
    free(r);
    json_decref(root ? root : cust);
    return NULL;
  }
  r->root = root;
  return r;
}

void dunlin_request_free(dunlin_request *r) {
  if (!r) return;
  json_decref(r->root);
  free(r);
}

dunlin_status dunlin_request_customer(dunlin_request *r, const char *column, const char *v) {
  if (!r || !column) return DUNLIN_ERR_USAGE;
  json_t *j = value(column, v);
  if (!j) return DUNLIN_ERR_INPUT; /* not UTF-8 */
  return json_object_set_new(json_object_get(r->root, "customer"), column, j) == 0 ? DUNLIN_OK
                                                                                   : DUNLIN_ERR_INTERNAL;
}

dunlin_status dunlin_request_add_row(dunlin_request *r, const char *table, const char *const *columns,
                                     const char *const *values, size_t n) {
  if (!r || !table || (n && (!columns || !values))) return DUNLIN_ERR_USAGE;
  bool known = false;
  for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) known |= strcmp(table, tables[i]) == 0;
  if (!known) return DUNLIN_ERR_USAGE;
  json_t *row = json_object();
  if (!row) return DUNLIN_ERR_INTERNAL;
  for (size_t i = 0; i < n; i++) {
    json_t *j = columns[i] ? value(columns[i], values[i]) : NULL;
    if (!j || json_object_set_new(row, columns[i], j) != 0) {
      json_decref(row);
      return columns[i] ? DUNLIN_ERR_INPUT : DUNLIN_ERR_USAGE;
    }
  }
  json_t *list = json_object_get(r->root, table);
  if (!list) {
    list = json_array();
    if (!list || json_object_set_new(r->root, table, list) != 0) {
      json_decref(row);
      return DUNLIN_ERR_INTERNAL;
    }
  }
  return json_array_append_new(list, row) == 0 ? DUNLIN_OK : DUNLIN_ERR_INTERNAL;
}

char *dunlin_request_json(const dunlin_request *r) {
  return r ? json_dumps(r->root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
}

dunlin_status dunlin_decide(const dunlin_policy *p, const dunlin_request *r, dunlin_actions **actions,
                            dunlin_diagnostics *diags) {
  if (actions) *actions = NULL;
  if (!p || !r) return DUNLIN_ERR_USAGE;
  char *text = dunlin_request_json(r);
  if (!text) return DUNLIN_ERR_INTERNAL;
  char *response = NULL;
  dunlin_status st = dunlin_decide_json(p, text, strlen(text), &response, actions, diags);
  free(response);
  free(text);
  return st;
}
