/* decide.c - one JSON request about one customer in, its actions out (see
 * decide.h and docs/decide.md).
 *
 * The request is checked here field by field, so that a wrong field is
 * named by its path (`invoices[2].amount`); the values then go into the
 * decider's scratch ledger through dn_ledger_insert_history, which applies
 * the rules of `ledger import` (dates, currencies, amounts, references),
 * inside a transaction that is rolled back once the engine has run. The
 * facts are thus derived by the same code as in a ledger run, and a
 * decision equals `dunlin run` on a ledger holding the same rows. */
#include "runtime/decide.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/engine.h"
#include "runtime/facts_reader.h"
#include "runtime/ledger.h"
#include "runtime/outbox.h"
#include "stdlib/text.h"

struct dn_decider {
  const dn_program *p;
  void *const *extern_fns;
  dn_ledger ledger;
  /* The policy's built-in calendar, computed once: each run clones it and
   * adds the request's holidays rows to its clone. */
  dn_calendar *calendar;
  /* The scratch ledger's INSERT statements, prepared once. */
  dn_row_cache *rows;
  /* ... and its facts reader's SELECTs. */
  dn_facts_cache *facts;
};

dn_status dn_decider_open(const dn_program *p, void *const *extern_fns, dn_decider **out,
                          dn_diags *diags) {
  *out = NULL;
  dn_decider *d = calloc(1, sizeof *d);
  if (!d) return DN_ERR_INTERNAL;
  d->p = p;
  d->extern_fns = extern_fns;
  d->calendar = dn_calendar_new(p->calendar ? p->calendar : "");
  d->rows = dn_row_cache_new();
  d->facts = dn_facts_cache_new();
  if (!d->calendar || !d->rows || !d->facts) {
    dn_calendar_free(d->calendar);
    dn_row_cache_free(d->rows);
    dn_facts_cache_free(d->facts);
    free(d);
    return DN_ERR_INTERNAL;
  }
  dn_status st = dn_ledger_open_memory(&d->ledger, diags);
  if (st != DN_OK) {
    dn_calendar_free(d->calendar);
    dn_row_cache_free(d->rows);
    dn_facts_cache_free(d->facts);
    free(d);
    return st;
  }
  /* The scratch ledger's name is what data errors of a decision (a
   * missing fx rate) give as their file: ":memory:" means nothing to the
   * caller, the request does. */
  char *name = strdup("request");
  if (!name) {
    dn_decider_close(d);
    return DN_ERR_INTERNAL;
  }
  free(d->ledger.path);
  d->ledger.path = name;
  *out = d;
  return DN_OK;
}

void dn_decider_close(dn_decider *d) {
  if (!d) return;
  dn_row_cache_free(d->rows);
  dn_facts_cache_free(d->facts);
  dn_ledger_close(&d->ledger);
  dn_calendar_free(d->calendar);
  free(d);
}

/* ---- the request schema -------------------------------------------- */

/* What JSON a column takes. Amounts are never JSON numbers: a double
 * cannot hold 0.10 exactly, and money is exact everywhere else. */
typedef enum col_kind {
  K_ID,      /* string, or an integer (ERP ids often are) */
  K_TEXT,    /* string */
  K_MINOR,   /* integer */
  K_DECIMAL, /* decimal string */
  K_REAL,    /* number */
  K_OBJECT,  /* JSON object (attrs), stored as its text */
  K_IDLIST,  /* array of ids, stored as JSON array text */
  K_IGNORED  /* accepted and dropped (an action record's `text`) */
} col_kind;

typedef struct col_def {
  const char *name;
  col_kind kind;
  const char *column; /* the ledger column when it differs (aliases) */
} col_def;

#define MAX_REQ_COLS 20

typedef struct table_schema {
  const char *key;   /* request field */
  const char *table; /* ledger table */
  bool owned;        /* has customer_id, defaulted to the request's customer */
  col_def cols[MAX_REQ_COLS];
} table_schema;

static const table_schema customer_schema = {
    "customer", "customers", false,
    {{"id", K_ID, NULL}, {"name", K_TEXT, NULL}, {"tier", K_TEXT, NULL}, {"country", K_TEXT, NULL},
     {"timezone", K_TEXT, NULL}, {"language", K_TEXT, NULL}, {"email", K_TEXT, NULL},
     {"phone", K_TEXT, NULL}, {"credit_limit_minor", K_MINOR, NULL}, {"credit_limit", K_DECIMAL, NULL},
     {"currency", K_TEXT, NULL}, {"risk_score", K_REAL, NULL}, {"attrs", K_OBJECT, NULL}}};

static const table_schema list_schemas[] = {
    {"invoices", "invoices", true,
     {{"id", K_ID, NULL}, {"customer_id", K_ID, NULL}, {"number", K_ID, NULL}, {"issue_date", K_TEXT, NULL},
      {"due_date", K_TEXT, NULL}, {"currency", K_TEXT, NULL}, {"amount_minor", K_MINOR, NULL},
      {"amount", K_DECIMAL, NULL}}},
    {"payments", "payments", true,
     {{"id", K_ID, NULL}, {"customer_id", K_ID, NULL}, {"invoice_id", K_ID, NULL}, {"date", K_TEXT, NULL},
      {"amount_minor", K_MINOR, NULL}, {"amount", K_DECIMAL, NULL}, {"currency", K_TEXT, NULL},
      {"status", K_TEXT, NULL}}},
    {"credits", "credits", false,
     {{"id", K_ID, NULL}, {"invoice_id", K_ID, NULL}, {"date", K_TEXT, NULL}, {"amount_minor", K_MINOR, NULL},
      {"amount", K_DECIMAL, NULL}, {"reason", K_TEXT, NULL}}},
    {"disputes", "disputes", false,
     {{"id", K_ID, NULL}, {"invoice_id", K_ID, NULL}, {"opened_on", K_TEXT, NULL},
      {"resolved_on", K_TEXT, NULL}, {"reason", K_TEXT, NULL}, {"owner", K_TEXT, NULL},
      {"amount_minor", K_MINOR, NULL}, {"amount", K_DECIMAL, NULL}}},
    {"promises", "promises", true,
     {{"id", K_ID, NULL}, {"customer_id", K_ID, NULL}, {"invoice_id", K_ID, NULL}, {"made_on", K_TEXT, NULL},
      {"promised_date", K_TEXT, NULL}, {"amount_minor", K_MINOR, NULL}, {"amount", K_DECIMAL, NULL}}},
    {"fx_rates", "fx_rates", false,
     {{"date", K_TEXT, NULL}, {"base", K_TEXT, NULL}, {"quote", K_TEXT, NULL}, {"rate", K_DECIMAL, NULL}}},
    {"holidays", "holidays", false, {{"calendar", K_TEXT, NULL}, {"date", K_TEXT, NULL}, {"name", K_TEXT, NULL}}},
    /* Recent actions: the outbox's columns, or the action record exactly
     * as decide and run print it (customer, invoices, text). */
    {"actions", "actions", true,
     {{"key", K_TEXT, NULL}, {"run_id", K_MINOR, NULL}, {"as_of", K_TEXT, NULL}, {"policy", K_TEXT, NULL},
      {"policy_version", K_MINOR, NULL}, {"rule", K_TEXT, NULL}, {"step", K_TEXT, NULL},
      {"customer_id", K_ID, NULL}, {"customer", K_ID, "customer_id"}, {"invoice_ids", K_IDLIST, NULL},
      {"invoices", K_IDLIST, "invoice_ids"}, {"kind", K_TEXT, NULL}, {"tone", K_TEXT, NULL},
      {"template", K_TEXT, NULL}, {"scheduled_at", K_TEXT, NULL}, {"priority", K_REAL, NULL},
      {"assignee", K_TEXT, NULL}, {"status", K_TEXT, NULL}, {"reason", K_TEXT, NULL},
      {"text", K_IGNORED, NULL}}},
};
#define NLISTS (sizeof list_schemas / sizeof *list_schemas)

static const char *const top_fields[] = {"id",       "as_of",    "customer", "invoices", "payments", "credits",
                                         "disputes", "promises", "actions",  "fx_rates", "holidays"};
#define NTOP (sizeof top_fields / sizeof *top_fields)

/* ---- building rows ---------------------------------------------------- */


static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = dn_vformat(fmt, ap);
  va_end(ap);
  return s;
}

/* Everything one request allocates, freed together. */
typedef struct req {
  const dn_program *p;
  dn_diags *diags;
  const char *customer_id;
  dn_row *rows;
  size_t nrows, caprows;
  char **owned;
  size_t nowned, capowned;
  bool oom;
} req;

static char *keep(req *r, char *s) {
  if (!s) {
    r->oom = true;
    return NULL;
  }
  if (r->nowned == r->capowned) {
    size_t cap = r->capowned ? r->capowned * 2 : 64;
    char **n = realloc(r->owned, cap * sizeof *n);
    if (!n) {
      free(s);
      r->oom = true;
      return NULL;
    }
    r->owned = n;
    r->capowned = cap;
  }
  r->owned[r->nowned++] = s;
  return s;
}

static char *keepf(req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *keepf(req *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = dn_vformat(fmt, ap);
  va_end(ap);
  return keep(r, s);
}

static void req_free(req *r) {
  for (size_t i = 0; i < r->nowned; i++) free(r->owned[i]);
  free(r->owned);
  free(r->rows);
}

static void bad(req *r, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bad(req *r, const char *path, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = dn_vformat(fmt, ap);
  va_end(ap);
  dn_diag_add_at(r->diags, DN_E0508, path, 0, "%s", msg ? msg : "out of memory");
  free(msg);
}

static void unknown_field(req *r, const char *path, const char *field, const char *const *names, size_t n) {
  const char *s = dn_closest(field, names, n, 2);
  if (s) bad(r, path, "unknown field \"%s\"; did you mean \"%s\"?", field, s);
  else bad(r, path, "unknown field \"%s\"", field);
}

static const char *json_type_word(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: return "an integer";
  case JSON_REAL: return "a number";
  case JSON_TRUE: case JSON_FALSE: return "a boolean";
  case JSON_NULL: return "null";
  }
  return "?";
}

static char *id_list_text(req *r, const char *path, json_t *v) {
  if (json_is_string(v)) return (char *)json_string_value(v);
  if (!json_is_array(v)) {
    bad(r, path, "expected an array of invoice ids, got %s", json_type_word(v));
    return NULL;
  }
  size_t i;
  json_t *e;
  json_array_foreach(v, i, e) {
    if (!json_is_string(e) && !json_is_integer(e)) {
      bad(r, path, "expected an array of invoice ids, element %zu is %s", i, json_type_word(e));
      return NULL;
    }
  }
  json_t *norm = json_array();
  json_array_foreach(v, i, e) {
    if (json_is_string(e)) json_array_append(norm, e);
    else json_array_append_new(norm, json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(e)));
  }
  char *s = keep(r, json_dumps(norm, JSON_COMPACT));
  json_decref(norm);
  return s;
}

/* One JSON value as the text `ledger import` would read in a CSV cell.
 * *ok false (with a diagnostic) when the JSON type is wrong. */
static const char *cell(req *r, const char *path, const col_def *c, json_t *v, bool *ok) {
  *ok = true;
  if (json_is_null(v)) return NULL;
  switch (c->kind) {
  case K_ID:
    if (json_is_integer(v)) return keepf(r, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    /* fall through */
  case K_TEXT:
    if (json_is_string(v)) return json_string_value(v);
    bad(r, path, "expected a string, got %s", json_type_word(v));
    break;
  case K_MINOR:
    if (json_is_integer(v)) return keepf(r, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    bad(r, path, "expected an integer (minor units), got %s", json_type_word(v));
    break;
  case K_DECIMAL:
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_number(v)) {
      dn_diag *g = dn_diag_add_at(r->diags, DN_E0508, path, 0, "expected a decimal string, got %s",
                                  json_type_word(v));
      dn_diag_hint(g, "write \"%s\": \"1234.50\" (a string: JSON numbers are binary fractions), "
                      "or an integer in minor units", c->name);
    } else {
      bad(r, path, "expected a decimal string, got %s", json_type_word(v));
    }
    break;
  case K_REAL:
    if (json_is_number(v)) return keepf(r, "%.17g", json_number_value(v));
    if (json_is_string(v)) return json_string_value(v);
    bad(r, path, "expected a number, got %s", json_type_word(v));
    break;
  case K_OBJECT:
    if (json_is_object(v)) return keep(r, json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS));
    if (json_is_string(v)) return json_string_value(v);
    bad(r, path, "expected an object, got %s", json_type_word(v));
    break;
  case K_IDLIST: {
    char *s = id_list_text(r, path, v);
    if (s) return s;
    break;
  }
  case K_IGNORED: return NULL;
  }
  *ok = false;
  return NULL;
}

static const col_def *find_col(const table_schema *t, const char *name) {
  for (int i = 0; i < MAX_REQ_COLS && t->cols[i].name; i++)
    if (strcmp(t->cols[i].name, name) == 0) return &t->cols[i];
  return NULL;
}

static void unknown_column(req *r, const char *path, const table_schema *t, const char *field) {
  const char *names[MAX_REQ_COLS];
  size_t n = 0;
  for (int i = 0; i < MAX_REQ_COLS && t->cols[i].name; i++) names[n++] = t->cols[i].name;
  unknown_field(r, path, field, names, n);
}

static bool add_row(req *r, const char *table, const char **names, const char **values, int n,
                    const char *origin) {
  if (r->nrows == r->caprows) {
    size_t cap = r->caprows ? r->caprows * 2 : 16;
    dn_row *nr = realloc(r->rows, cap * sizeof *nr);
    if (!nr) return r->oom = true, false;
    r->rows = nr;
    r->caprows = cap;
  }
  const char **nm = (const char **)keep(r, malloc(sizeof *nm * (size_t)(n ? n : 1)));
  const char **vl = (const char **)keep(r, malloc(sizeof *vl * (size_t)(n ? n : 1)));
  if (!nm || !vl) return false;
  memcpy(nm, names, sizeof *nm * (size_t)n);
  memcpy(vl, values, sizeof *vl * (size_t)n);
  r->rows[r->nrows++] = (dn_row){.table = table, .names = nm, .values = vl, .n = n, .origin = origin};
  return true;
}

/* The row's customer: given and equal to the request's, or defaulted. */
static bool owner_ok(req *r, const char *origin, const char **names, const char **values, int n) {
  for (int i = 0; i < n; i++) {
    if (strcmp(names[i], "customer_id") != 0 || !values[i]) continue;
    if (strcmp(values[i], r->customer_id) == 0) return true;
    dn_diag *g = dn_diag_add_at(r->diags, DN_E0508, keepf(r, "%s.customer_id", origin), 0,
                                "\"%s\" is another customer: this request is about \"%s\"", values[i],
                                r->customer_id);
    dn_diag_hint(g, "a request carries one customer's rows; leave customer_id out inside it");
    return false;
  }
  return true;
}

/* One object of the request -> one ledger row. */
static bool object_row(req *r, const table_schema *t, const char *origin, json_t *obj) {
  if (!json_is_object(obj)) {
    bad(r, origin, "expected an object, got %s", json_type_word(obj));
    return false;
  }
  const char *names[MAX_REQ_COLS + 1], *values[MAX_REQ_COLS + 1];
  int n = 0;
  bool ok = true, has_owner = false;
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    const col_def *c = find_col(t, key);
    const char *path = keepf(r, "%s.%s", origin, key);
    if (!c) {
      unknown_column(r, path ? path : origin, t, key);
      ok = false;
      continue;
    }
    bool good;
    const char *text = cell(r, path ? path : origin, c, v, &good);
    if (!good) ok = false;
    if (!good || c->kind == K_IGNORED || n >= MAX_REQ_COLS) continue;
    const char *column = c->column ? c->column : c->name;
    bool dup = false;
    for (int i = 0; i < n; i++) dup |= strcmp(names[i], column) == 0;
    if (dup) {
      bad(r, path ? path : origin, "\"%s\" is given twice (as \"%s\" and under another name)", column, key);
      ok = false;
      continue;
    }
    has_owner |= strcmp(column, "customer_id") == 0 && text;
    names[n] = column;
    values[n++] = text;
  }
  if (t->owned && !owner_ok(r, origin, names, values, n)) ok = false;
  if (!ok) return false;
  if (t->owned && !has_owner) {
    int at = n;
    for (int i = 0; i < n; i++)
      if (strcmp(names[i], "customer_id") == 0) at = i; /* given as null */
    names[at] = "customer_id";
    values[at] = r->customer_id;
    if (at == n) n++;
  }
  /* A recent action without as_of is taken as of its scheduled day. */
  if (strcmp(t->table, "actions") == 0) {
    bool has_as_of = false;
    const char *sched = NULL;
    for (int i = 0; i < n; i++) {
      if (strcmp(names[i], "as_of") == 0 && values[i]) has_as_of = true;
      if (strcmp(names[i], "scheduled_at") == 0) sched = values[i];
    }
    if (!has_as_of && sched && strlen(sched) >= 10 && n < MAX_REQ_COLS + 1) {
      names[n] = "as_of";
      values[n++] = keepf(r, "%.10s", sched);
    }
  }
  return add_row(r, t->table, names, values, n, origin);
}

static bool list_rows(req *r, const table_schema *t, json_t *arr) {
  if (!json_is_array(arr)) {
    bad(r, t->key, "expected an array of objects, got %s", json_type_word(arr));
    return false;
  }
  bool ok = true;
  size_t i;
  json_t *e;
  json_array_foreach(arr, i, e) {
    const char *origin = keepf(r, "%s[%zu]", t->key, i);
    if (!origin) return false;
    ok &= object_row(r, t, origin, e);
  }
  return ok;
}

static bool customer_row(req *r, json_t *cust) {
  if (!cust) {
    bad(r, "customer", "missing: a request is about one customer, given as an object with at least \"id\"");
    return false;
  }
  if (!json_is_object(cust)) {
    bad(r, "customer", "expected an object, got %s", json_type_word(cust));
    return false;
  }
  json_t *id = json_object_get(cust, "id");
  if (!id || json_is_null(id)) {
    bad(r, "customer.id", "missing: the customer's id is required");
    return false;
  }
  bool ok;
  r->customer_id = cell(r, "customer.id", &customer_schema.cols[0], id, &ok);
  if (!ok || !r->customer_id) return false;
  return object_row(r, &customer_schema, "customer", cust);
}

static bool top_known(req *r, json_t *root) {
  bool ok = true;
  const char *key;
  json_t *v;
  json_object_foreach(root, key, v) {
    bool known = false;
    for (size_t i = 0; i < NTOP; i++) known |= strcmp(key, top_fields[i]) == 0;
    if (!known) {
      unknown_field(r, key, key, top_fields, NTOP);
      ok = false;
    }
  }
  return ok;
}

static bool read_as_of(req *r, json_t *root, dn_date *as_of) {
  json_t *v = json_object_get(root, "as_of");
  if (!v) {
    bad(r, "as_of", "missing: the date to decide for, as \"YYYY-MM-DD\"");
    return false;
  }
  const char *s = json_string_value(v);
  if (!s) {
    bad(r, "as_of", "expected a date string \"YYYY-MM-DD\", got %s", json_type_word(v));
    return false;
  }
  if (!dn_date_parse(s, strlen(s), as_of)) {
    bad(r, "as_of", "\"%s\" is not a date (YYYY-MM-DD)", s);
    return false;
  }
  return true;
}

/* The whole request -> rows. Every problem found is reported, not just
 * the first, so one round trip shows them all. */
static bool request_rows(req *r, json_t *root, dn_date *as_of) {
  bool ok = top_known(r, root);
  ok &= read_as_of(r, root, as_of);
  if (!customer_row(r, json_object_get(root, "customer"))) return false;
  for (size_t i = 0; i < NLISTS; i++) {
    json_t *arr = json_object_get(root, list_schemas[i].key);
    if (arr && !json_is_null(arr)) ok &= list_rows(r, &list_schemas[i], arr);
  }
  return ok && !r->oom;
}

/* ---- the response ---------------------------------------------------- */

typedef struct decide_sink {
  FILE *out;
  size_t count;
  dn_action_sink user;
  void *user_ctx;
} decide_sink;

static dn_status collect(void *ctx, const dn_action_rec *a) {
  decide_sink *s = ctx;
  if (s->user) {
    dn_status st = s->user(s->user_ctx, a);
    if (st != DN_OK) return st;
  }
  if (s->count++ && fputc(',', s->out) == EOF) return DN_ERR_INTERNAL;
  char *line = dn_action_json_text(a, false);
  dn_status st = line && fputs(line, s->out) != EOF ? DN_OK : DN_ERR_INTERNAL;
  free(line);
  return st;
}

/* The diagnostics added since `from`, as a JSON array. */
static json_t *diags_json(const dn_diags *diags, size_t from) {
  json_t *arr = json_array();
  if (!arr || from >= diags->count) return arr;
  dn_diags part = *diags;
  part.items = diags->items + from;
  part.count = diags->count - from;
  part.dropped = 0;
  part.failed = false;
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  if (!m) return arr;
  dn_diags_render_json(&part, m, false);
  fclose(m);
  for (char *line = text, *nl; line && *line; line = nl + 1) {
    nl = strchr(line, '\n');
    if (!nl) break;
    json_t *o = json_loadb(line, (size_t)(nl - line), 0, NULL);
    if (o) json_array_append_new(arr, o);
  }
  free(text);
  return arr;
}

static char *error_response(json_t *id, const dn_diags *diags, size_t from) {
  const dn_diag *first = NULL;
  for (size_t i = from; i < diags->count && !first; i++)
    if (diags->items[i].severity == DN_SEV_ERROR) first = &diags->items[i];
  char *msg = NULL;
  if (first && first->file && *first->file) {
    msg = format("%s: %s", first->file, first->message ? first->message : "error");
  } else if (first && first->message) {
    msg = strdup(first->message);
  }
  json_t *o = json_object();
  json_object_set(o, "id", id ? id : json_null());
  json_object_set_new(o, "error", json_string(msg ? msg : "the request could not be decided"));
  json_object_set_new(o, "diagnostics", diags_json(diags, from));
  free(msg);
  char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  return s;
}

/* {"id":…,"actions":[…]} built as text, so each action is byte for byte
 * the line `dunlin run` prints for it. Data errors of the run (a missing
 * fx rate skips an invoice) ride along in "diagnostics". */
static char *ok_response(json_t *id, const char *actions, size_t len, const dn_diags *diags, size_t from) {
  char *idtext = json_dumps(id ? id : json_null(), JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
  char *diagtext = NULL;
  if (from < diags->count) {
    json_t *d = diags_json(diags, from);
    diagtext = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(d);
  }
  char *s = NULL;
  if (idtext)
    s = format("{\"id\":%s,\"actions\":[%.*s]%s%s}", idtext, (int)len, actions ? actions : "",
               diagtext ? ",\"diagnostics\":" : "", diagtext ? diagtext : "");
  free(idtext);
  free(diagtext);
  return s;
}

/* Inserts the rows, runs the engine for the one customer, rolls back. */
static dn_status decide_rows(dn_decider *d, req *r, dn_date as_of, decide_sink *sink, dn_diags *diags) {
  sqlite3 *db = d->ledger.db;
  if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
    dn_diag_add_at(diags, DN_E0505, "decide", 0, "scratch ledger: %s", sqlite3_errmsg(db));
    return DN_ERR_INTERNAL;
  }
  dn_status st = dn_ledger_insert_history_cached(&d->ledger, d->rows, d->p->name, r->rows, r->nrows, diags);
  if (st == DN_OK) {
    dn_run_options o = {.as_of = as_of, .only_customer = r->customer_id, .extern_fns = d->extern_fns,
                         .calendar_base = d->calendar, .facts_cache = d->facts};
    dn_run_stats stats;
    st = dn_engine_run(d->p, &d->ledger, &o, collect, sink, &stats, diags);
  }
  sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  return st;
}

dn_status dn_decide_json_sink(dn_decider *d, const char *request, size_t len, dn_action_sink sink,
                              void *sink_ctx, char **response, dn_diags *diags) {
  *response = NULL;
  size_t from = diags->count;
  json_error_t jerr;
  /* DECODE_ANY: `null` or `42` is JSON, only not an object; say so. */
  json_t *root = json_loadb(request, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  if (!root) {
    dn_diag_add_at(diags, DN_E0508, "request", 0, "not JSON: %s at line %d, column %d", jerr.text, jerr.line,
                   jerr.column);
    *response = error_response(NULL, diags, from);
    return *response ? DN_ERR_INPUT : DN_ERR_INTERNAL;
  }
  json_t *id = json_is_object(root) ? json_object_get(root, "id") : NULL;
  req r = {.p = d->p, .diags = diags};
  dn_date as_of = 0;
  dn_status st = DN_ERR_INPUT;
  char *actions = NULL;
  size_t alen = 0;
  decide_sink ds = {.user = sink, .user_ctx = sink_ctx};
  if (!json_is_object(root)) {
    bad(&r, "request", "expected a JSON object, got %s", json_type_word(root));
  } else if (request_rows(&r, root, &as_of)) {
    ds.out = open_memstream(&actions, &alen);
    st = ds.out ? decide_rows(d, &r, as_of, &ds, diags) : DN_ERR_INTERNAL;
    if (ds.out) fclose(ds.out);
  } else if (r.oom) {
    st = DN_ERR_INTERNAL;
  }
  if (st == DN_OK) *response = ok_response(id, actions, alen, diags, from);
  else *response = error_response(id, diags, from);
  if (!*response) st = DN_ERR_INTERNAL;
  free(actions);
  req_free(&r);
  json_decref(root);
  return st;
}

dn_status dn_decide_json(dn_decider *d, const char *request, size_t len, char **response,
                         dn_diags *diags) {
  return dn_decide_json_sink(d, request, len, NULL, NULL, response, diags);
}
