/* api.c - libdunlin's public C API (include/dunlin.h) over the dn_*
 * modules: handles, the diagnostics list, and the pool of deciders that
 * lets many threads decide on one loaded policy.
 *
 * Internal diagnostics (dn_diags) borrow their source text, so each call
 * converts them into the public list before the text goes away: a
 * dunlin_diagnostics owns every string it hands out. */
#include "include/dunlin.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lang/diag.h"
#include "lang/program.h"
#include "runtime/decide.h"
#include "runtime/engine.h"
#include "runtime/ledger.h"
#include "runtime/levels.h"
#include "runtime/native.h"
#include "runtime/outbox.h"
#include "runtime/policy_load.h"
#include "stdlib/date.h"
#include "stdlib/money.h"

_Static_assert((int)DUNLIN_OK == (int)DN_OK && (int)DUNLIN_ERR_INPUT == (int)DN_ERR_INPUT &&
                   (int)DUNLIN_ERR_USAGE == (int)DN_ERR_USAGE && (int)DUNLIN_ERR_INTERNAL == (int)DN_ERR_INTERNAL,
               "dunlin_status mirrors dn_status");

/* Deciders kept idle per policy; more concurrent callers open their own
 * and close them afterwards. */
#define POOL_MAX 16

const char *dunlin_version(void) { return DUNLIN_VERSION_STRING; }

int dunlin_version_number(void) {
  return DUNLIN_VERSION_MAJOR * 10000 + DUNLIN_VERSION_MINOR * 100 + DUNLIN_VERSION_PATCH;
}

void dunlin_free(void *p) { free(p); }

/* ---- diagnostics -------------------------------------------------------- */

typedef struct api_diag {
  char code[8];
  dunlin_severity severity;
  char *message, *hint, *file, *text;
  int line, column;
} api_diag;

struct dunlin_diagnostics {
  api_diag *items;
  size_t count, cap, errors;
  char *all; /* dunlin_diagnostics_text's cache */
};

dunlin_diagnostics *dunlin_diagnostics_new(void) { return calloc(1, sizeof(dunlin_diagnostics)); }

void dunlin_diagnostics_clear(dunlin_diagnostics *d) {
  if (!d) return;
  for (size_t i = 0; i < d->count; i++) {
    api_diag *g = &d->items[i];
    free(g->message), free(g->hint), free(g->file), free(g->text);
  }
  d->count = d->errors = 0;
  free(d->all);
  d->all = NULL;
}

void dunlin_diagnostics_free(dunlin_diagnostics *d) {
  if (!d) return;
  dunlin_diagnostics_clear(d);
  free(d->items);
  free(d);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static api_diag *push_diag(dunlin_diagnostics *d) {
  if (d->count == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 8;
    api_diag *n = realloc(d->items, cap * sizeof *n);
    if (!n) return NULL;
    d->items = n;
    d->cap = cap;
  }
  api_diag *g = &d->items[d->count++];
  memset(g, 0, sizeof *g);
  free(d->all);
  d->all = NULL;
  return g;
}

/* One diagnostic rendered as `dunlin check` would, its source quoted. */
static char *render_one(const dn_diags *all, const dn_diag *g) {
  dn_diags one = *all;
  one.items = (dn_diag *)g;
  one.count = 1;
  one.dropped = 0;
  one.failed = false;
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  if (!m) return NULL;
  dn_diags_render_text(&one, m, false);
  fclose(m);
  return text;
}

/* A message of the library's own (no code), such as a failure that came
 * without any diagnostic. */
static void add_plain(dunlin_diagnostics *d, const char *file, const char *message) {
  api_diag *g = d ? push_diag(d) : NULL;
  if (!g) return;
  g->severity = DUNLIN_SEVERITY_ERROR;
  g->message = strdup(message);
  g->file = dup_or_null(file);
  size_t n = strlen(file ? file : "") + strlen(message) + 16;
  g->text = malloc(n);
  if (g->text) snprintf(g->text, n, "%s: error: %s\n", file ? file : "dunlin", message);
  d->errors++;
}

static void import_diags(dunlin_diagnostics *out, const dn_diags *in) {
  if (!out) return;
  for (size_t i = 0; i < in->count; i++) {
    const dn_diag *s = &in->items[i];
    api_diag *g = push_diag(out);
    if (!g) return;
    snprintf(g->code, sizeof g->code, "%s", dn_diag_code_name(s->code));
    g->severity = s->severity == DN_SEV_WARNING ? DUNLIN_SEVERITY_WARNING : DUNLIN_SEVERITY_ERROR;
    g->message = dup_or_null(s->message);
    g->hint = dup_or_null(s->hint);
    g->file = dup_or_null(s->file ? s->file : in->filename);
    if (s->file || !in->source) g->line = s->line;
    else dn_source_position(in->source, in->source_len, s->span.start, &g->line, &g->column);
    g->text = render_one(in, s);
    if (g->severity == DUNLIN_SEVERITY_ERROR) out->errors++;
  }
  if (in->dropped) {
    char msg[96];
    snprintf(msg, sizeof msg, "%zu more diagnostics not shown", in->dropped);
    add_plain(out, in->filename, msg);
  }
  if (in->failed) add_plain(out, in->filename, "out of memory: some diagnostics were lost");
}

size_t dunlin_diagnostics_count(const dunlin_diagnostics *d) { return d ? d->count : 0; }
size_t dunlin_diagnostics_errors(const dunlin_diagnostics *d) { return d ? d->errors : 0; }

static const api_diag *diag_at(const dunlin_diagnostics *d, size_t i) {
  return d && i < d->count ? &d->items[i] : NULL;
}

const char *dunlin_diagnostic_code(const dunlin_diagnostics *d, size_t i) {
  const api_diag *g = diag_at(d, i);
  return g ? g->code : NULL;
}
dunlin_severity dunlin_diagnostic_severity(const dunlin_diagnostics *d, size_t i) {
  const api_diag *g = diag_at(d, i);
  return g ? g->severity : DUNLIN_SEVERITY_ERROR;
}
const char *dunlin_diagnostic_message(const dunlin_diagnostics *d, size_t i) {
  const api_diag *g = diag_at(d, i);
  return g ? g->message : NULL;
}
const char *dunlin_diagnostic_hint(const dunlin_diagnostics *d, size_t i) {
  const api_diag *g = diag_at(d, i);
  return g ? g->hint : NULL;
}
const char *dunlin_diagnostic_file(const dunlin_diagnostics *d, size_t i) {
  const api_diag *g = diag_at(d, i);
  return g ? g->file : NULL;
}
int dunlin_diagnostic_line(const dunlin_diagnostics *d, size_t i) {
  const api_diag *g = diag_at(d, i);
  return g ? g->line : 0;
}
int dunlin_diagnostic_column(const dunlin_diagnostics *d, size_t i) {
  const api_diag *g = diag_at(d, i);
  return g ? g->column : 0;
}
const char *dunlin_diagnostic_text(const dunlin_diagnostics *d, size_t i) {
  const api_diag *g = diag_at(d, i);
  return g ? g->text : NULL;
}

const char *dunlin_diagnostics_text(dunlin_diagnostics *d) {
  if (!d) return "";
  if (d->all) return d->all;
  size_t n = 1;
  for (size_t i = 0; i < d->count; i++) n += d->items[i].text ? strlen(d->items[i].text) : 0;
  d->all = malloc(n);
  if (!d->all) return "";
  d->all[0] = '\0';
  for (size_t i = 0, o = 0; i < d->count; i++) {
    const char *t = d->items[i].text;
    if (!t) continue;
    size_t k = strlen(t);
    memcpy(d->all + o, t, k + 1);
    o += k;
  }
  return d->all;
}

/* ---- policies ---------------------------------------------------------- */

struct dunlin_policy {
  dn_program *program;
  dn_policy_externs externs;
  dn_native *native; /* dunlin_policy_load_native, or NULL */
  pthread_mutex_t pool_lock;
  dn_decider *idle[POOL_MAX];
  size_t nidle;
};

static dn_status bind_policy(const char *name, dn_program *prog, const dunlin_ffi_allow *allow,
                             dunlin_policy **out, dn_diags *diags) {
  dunlin_policy *p = calloc(1, sizeof *p);
  if (!p || pthread_mutex_init(&p->pool_lock, NULL) != 0) {
    free(p);
    dn_program_free(prog);
    return DN_ERR_INTERNAL;
  }
  p->program = prog;
  int n = allow ? (int)allow->count : 0;
  dn_status st = dn_policy_bind_externs(name, prog, allow ? allow->paths : NULL, n, &p->externs, diags);
  if (st != DN_OK) {
    dunlin_policy_free(p);
    return st;
  }
  *out = p;
  return DN_OK;
}

static dunlin_status load(const char *name, const char *data, size_t len, const dunlin_ffi_allow *allow,
                          dunlin_policy **out, dunlin_diagnostics *diags) {
  dn_diags d;
  dn_diags_init(&d, name, dn_policy_is_bytecode(name, data, len) ? NULL : data, len);
  dn_program *prog = NULL;
  dn_status st = dn_policy_load_buffer(name, data, len, &prog, &d);
  if (st == DN_OK) st = bind_policy(name, prog, allow, out, &d);
  import_diags(diags, &d);
  if (st != DN_OK && d.errors == 0)
    add_plain(diags, name, st == DN_ERR_INTERNAL ? "the policy could not be compiled (out of memory, or "
                                                   "expressions nested deeper than the parser supports)"
                                                 : "the policy could not be loaded");
  dn_diags_free(&d);
  return (dunlin_status)st;
}

dunlin_status dunlin_policy_load_memory(const char *name, const void *data, size_t len,
                                        const dunlin_ffi_allow *allow, dunlin_policy **out,
                                        dunlin_diagnostics *diags) {
  if (!out) return DUNLIN_ERR_USAGE;
  *out = NULL;
  if (!data) return DUNLIN_ERR_USAGE;
  if (!name) name = "<memory>";
  /* the lexer wants a NUL after the text; the caller's buffer need not have one */
  char *copy = malloc(len + 1);
  if (!copy) return DUNLIN_ERR_INTERNAL;
  memcpy(copy, data, len);
  copy[len] = '\0';
  dunlin_status st = load(name, copy, len, allow, out, diags);
  free(copy);
  return st;
}

dunlin_status dunlin_policy_load_file(const char *path, const dunlin_ffi_allow *allow, dunlin_policy **out,
                                      dunlin_diagnostics *diags) {
  if (!out) return DUNLIN_ERR_USAGE;
  *out = NULL;
  if (!path) return DUNLIN_ERR_USAGE;
  dn_diags d;
  dn_diags_init(&d, path, NULL, 0);
  char *buf;
  size_t len;
  dn_status st = dn_policy_read_file(path, &buf, &len, &d);
  import_diags(diags, &d);
  dn_diags_free(&d);
  if (st != DN_OK) return (dunlin_status)st;
  dunlin_status r = load(path, buf, len, allow, out, diags);
  free(buf);
  return r;
}

dunlin_status dunlin_policy_load_native(dunlin_policy *p, const char *library, dunlin_diagnostics *diags) {
  if (!p || !library) return DUNLIN_ERR_USAGE;
  dn_diags d;
  dn_diags_init(&d, library, NULL, 0);
  dn_native *n = NULL;
  dn_status st = dn_native_load(library, p->program, &n, &d);
  import_diags(diags, &d);
  dn_diags_free(&d);
  if (st != DN_OK) return (dunlin_status)st;
  dn_native_free(p->native);
  p->native = n;
  return DUNLIN_OK;
}

void dunlin_policy_free(dunlin_policy *p) {
  if (!p) return;
  for (size_t i = 0; i < p->nidle; i++) dn_decider_close(p->idle[i]);
  pthread_mutex_destroy(&p->pool_lock);
  dn_native_free(p->native);
  dn_policy_externs_free(&p->externs);
  dn_program_free(p->program);
  free(p);
}

const char *dunlin_policy_name(const dunlin_policy *p) { return p ? p->program->name : NULL; }
long long dunlin_policy_version(const dunlin_policy *p) { return p ? (long long)p->program->version : 0; }
const char *dunlin_policy_currency(const dunlin_policy *p) {
  return p ? dn_currency_code(p->program->currency) : NULL;
}

/* ---- actions ------------------------------------------------------------- */

struct dunlin_action {
  char key[33], as_of[11];
  char *customer, **invoices;
  size_t ninvoices;
  const char *kind, *status; /* static names */
  char *tone, *template_name, *scheduled_at, *rule, *step, *assignee, *reason, *text, *json;
  int has_priority;
  double priority;
};

struct dunlin_actions {
  dunlin_action *items;
  size_t count, cap;
  long long errors, run_id;
  int already;
};

static void action_clear(dunlin_action *a) {
  for (size_t i = 0; i < a->ninvoices; i++) free(a->invoices[i]);
  free(a->invoices);
  free(a->customer), free(a->tone), free(a->template_name), free(a->scheduled_at), free(a->rule);
  free(a->step), free(a->assignee), free(a->reason), free(a->text), free(a->json);
}

void dunlin_actions_free(dunlin_actions *a) {
  if (!a) return;
  for (size_t i = 0; i < a->count; i++) action_clear(&a->items[i]);
  free(a->items);
  free(a);
}

/* The engine's strings live only during the sink call: copy them all. */
static dn_status copy_action(dunlin_action *a, const dn_action_rec *r) {
  memset(a, 0, sizeof *a);
  memcpy(a->key, r->key, sizeof a->key);
  a->key[32] = '\0';
  dn_date_format(r->as_of, a->as_of);
  a->customer = dup_or_null(r->customer);
  a->invoices = calloc(r->ninvoices ? (size_t)r->ninvoices : 1, sizeof *a->invoices);
  bool ok = a->customer && a->invoices;
  for (int i = 0; ok && i < r->ninvoices; i++) ok = (a->invoices[a->ninvoices++] = strdup(r->invoices[i])) != NULL;
  a->kind = dn_action_kind_name(r->kind);
  a->status = dn_action_status_name(r->status);
  a->tone = dup_or_null(r->tone);
  a->template_name = dup_or_null(r->template_name);
  a->scheduled_at = strdup(r->scheduled_at);
  a->rule = dup_or_null(r->rule);
  a->step = dup_or_null(r->step);
  a->assignee = dup_or_null(r->assignee);
  a->reason = dup_or_null(r->reason);
  a->text = dup_or_null(r->text);
  a->has_priority = r->has_priority;
  a->priority = r->has_priority ? r->priority : 0;
  a->json = dn_action_json_text(r, false);
  ok = ok && a->scheduled_at && a->json && (!r->tone || a->tone) && (!r->template_name || a->template_name) &&
       (!r->rule || a->rule) && (!r->step || a->step) && (!r->assignee || a->assignee) &&
       (!r->reason || a->reason) && (!r->text || a->text);
  if (!ok) action_clear(a);
  return ok ? DN_OK : DN_ERR_INTERNAL;
}

static dn_status collect_action(void *ctx, const dn_action_rec *r) {
  dunlin_actions *list = ctx;
  if (list->count == list->cap) {
    size_t cap = list->cap ? list->cap * 2 : 16;
    dunlin_action *n = realloc(list->items, cap * sizeof *n);
    if (!n) return DN_ERR_INTERNAL;
    list->items = n;
    list->cap = cap;
  }
  dn_status st = copy_action(&list->items[list->count], r);
  if (st == DN_OK) list->count++;
  return st;
}

size_t dunlin_actions_count(const dunlin_actions *a) { return a ? a->count : 0; }
const dunlin_action *dunlin_actions_get(const dunlin_actions *a, size_t i) {
  return a && i < a->count ? &a->items[i] : NULL;
}
long long dunlin_actions_data_errors(const dunlin_actions *a) { return a ? a->errors : 0; }
long long dunlin_actions_run_id(const dunlin_actions *a) { return a ? a->run_id : 0; }
int dunlin_actions_already_committed(const dunlin_actions *a) { return a ? a->already : 0; }

const char *dunlin_action_key(const dunlin_action *a) { return a ? a->key : NULL; }
const char *dunlin_action_customer(const dunlin_action *a) { return a ? a->customer : NULL; }
size_t dunlin_action_invoice_count(const dunlin_action *a) { return a ? a->ninvoices : 0; }
const char *dunlin_action_invoice(const dunlin_action *a, size_t i) {
  return a && i < a->ninvoices ? a->invoices[i] : NULL;
}
const char *dunlin_action_kind(const dunlin_action *a) { return a ? a->kind : NULL; }
const char *dunlin_action_tone(const dunlin_action *a) { return a ? a->tone : NULL; }
const char *dunlin_action_template(const dunlin_action *a) { return a ? a->template_name : NULL; }
const char *dunlin_action_scheduled_at(const dunlin_action *a) { return a ? a->scheduled_at : NULL; }
const char *dunlin_action_rule(const dunlin_action *a) { return a ? a->rule : NULL; }
const char *dunlin_action_step(const dunlin_action *a) { return a ? a->step : NULL; }
int dunlin_action_has_priority(const dunlin_action *a) { return a ? a->has_priority : 0; }
double dunlin_action_priority(const dunlin_action *a) { return a ? a->priority : 0; }
const char *dunlin_action_assignee(const dunlin_action *a) { return a ? a->assignee : NULL; }
const char *dunlin_action_status(const dunlin_action *a) { return a ? a->status : NULL; }
const char *dunlin_action_reason(const dunlin_action *a) { return a ? a->reason : NULL; }
const char *dunlin_action_text(const dunlin_action *a) { return a ? a->text : NULL; }
const char *dunlin_action_as_of(const dunlin_action *a) { return a ? a->as_of : NULL; }
const char *dunlin_action_json(const dunlin_action *a) { return a ? a->json : NULL; }

/* ---- ledgers and runs ------------------------------------------------------ */

struct dunlin_ledger {
  dn_ledger ledger;
};

dunlin_status dunlin_ledger_open(const char *path, dunlin_ledger_mode mode, dunlin_ledger **out,
                                 dunlin_diagnostics *diags) {
  if (!out) return DUNLIN_ERR_USAGE;
  *out = NULL;
  if (!path || (mode != DUNLIN_LEDGER_READ && mode != DUNLIN_LEDGER_WRITE && mode != DUNLIN_LEDGER_CREATE))
    return DUNLIN_ERR_USAGE;
  dunlin_ledger *l = calloc(1, sizeof *l);
  if (!l) return DUNLIN_ERR_INTERNAL;
  dn_diags d;
  dn_diags_init(&d, path, NULL, 0);
  dn_ledger_mode m = mode == DUNLIN_LEDGER_READ ? DN_LEDGER_READ
                     : mode == DUNLIN_LEDGER_WRITE ? DN_LEDGER_WRITE : DN_LEDGER_CREATE;
  dn_status st = dn_ledger_open(path, m, &l->ledger, &d);
  import_diags(diags, &d);
  dn_diags_free(&d);
  if (st != DN_OK) {
    free(l);
    return (dunlin_status)st;
  }
  *out = l;
  return DUNLIN_OK;
}

void dunlin_ledger_close(dunlin_ledger *l) {
  if (!l) return;
  dn_ledger_close(&l->ledger);
  free(l);
}

typedef struct run_sink {
  dunlin_actions *list;
  dn_outbox *outbox;
  dn_diags *diags;
} run_sink;

static dn_status run_action(void *ctx, const dn_action_rec *r) {
  run_sink *s = ctx;
  if (s->outbox) {
    dn_status st = dn_outbox_add(s->outbox, r, s->diags);
    if (st != DN_OK) return st;
  }
  return collect_action(s->list, r);
}

static dn_status run_into(const dunlin_policy *p, dunlin_ledger *l, dn_date as_of, const char *only,
                          bool commit, dunlin_actions *list, dn_diags *d) {
  dn_outbox outbox;
  run_sink sink = {.list = list, .diags = d};
  dn_status st = DN_OK;
  if (commit) {
    st = dn_outbox_begin(&outbox, &l->ledger, p->program, as_of, d);
    if (st != DN_OK) return st;
    sink.outbox = &outbox;
  }
  dn_run_options o = {.as_of = as_of, .only_customer = only, .extern_fns = p->externs.fns,
                      .native = p->native};
  dn_run_stats stats = {0};
  st = dn_engine_run(p->program, &l->ledger, &o, run_action, &sink, &stats, d);
  list->errors = stats.errors;
  if (commit) {
    dn_status end = dn_outbox_end(&outbox, st == DN_OK, (long)stats.errors, d);
    if (st == DN_OK) st = end;
    list->run_id = outbox.run_id;
    list->already = outbox.already;
  }
  return st;
}

dunlin_status dunlin_run(const dunlin_policy *p, dunlin_ledger *l, const char *as_of, const char *only_customer,
                         unsigned flags, dunlin_actions **out, dunlin_diagnostics *diags) {
  if (!out) return DUNLIN_ERR_USAGE;
  *out = NULL;
  dn_date date;
  if (!p || !l || !as_of || !dn_date_parse(as_of, strlen(as_of), &date)) {
    add_plain(diags, "dunlin_run", "expected a policy, a ledger and an as_of date written YYYY-MM-DD");
    return DUNLIN_ERR_USAGE;
  }
  dunlin_actions *list = calloc(1, sizeof *list);
  if (!list) return DUNLIN_ERR_INTERNAL;
  dn_diags d;
  dn_diags_init(&d, l->ledger.path, NULL, 0);
  dn_status st = run_into(p, l, date, only_customer, (flags & DUNLIN_RUN_COMMIT) != 0, list, &d);
  import_diags(diags, &d);
  dn_diags_free(&d);
  if (st != DN_OK) {
    dunlin_actions_free(list);
    return (dunlin_status)st;
  }
  *out = list;
  return DUNLIN_OK;
}

static dn_status add_level(void *ctx, const dn_level_row *r) {
  json_t *row = dn_level_row_json(r);
  return row && json_array_append_new(ctx, row) == 0 ? DN_OK : DN_ERR_INTERNAL;
}

dunlin_status dunlin_levels_json(const dunlin_policy *p, dunlin_ledger *l, const char *as_of,
                                 const char *only_customer, char **json, dunlin_diagnostics *diags) {
  if (!json) return DUNLIN_ERR_USAGE;
  *json = NULL;
  dn_date date;
  if (!p || !l || !as_of || !dn_date_parse(as_of, strlen(as_of), &date)) {
    add_plain(diags, "dunlin_levels_json", "expected a policy, a ledger and an as_of date written YYYY-MM-DD");
    return DUNLIN_ERR_USAGE;
  }
  json_t *rows = json_array();
  if (!rows) return DUNLIN_ERR_INTERNAL;
  dn_diags d;
  dn_diags_init(&d, l->ledger.path, NULL, 0);
  dn_run_options o = {.as_of = date, .only_customer = only_customer, .extern_fns = p->externs.fns,
                      .native = p->native};
  dn_status st = dn_levels_run(p->program, &l->ledger, &o, add_level, rows, NULL, &d);
  import_diags(diags, &d);
  dn_diags_free(&d);
  if (st == DN_OK) {
    *json = json_dumps(rows, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!*json) st = DN_ERR_INTERNAL;
  }
  json_decref(rows);
  return (dunlin_status)st;
}

/* ---- decide ---------------------------------------------------------------- */

/* A decider from the policy's pool, or a new one: each owns a scratch
 * ledger (an SQLite connection), which one thread at a time may use. */
static dn_status take_decider(dunlin_policy *p, dn_decider **out, dn_diags *d) {
  *out = NULL;
  pthread_mutex_lock(&p->pool_lock);
  if (p->nidle > 0) *out = p->idle[--p->nidle];
  pthread_mutex_unlock(&p->pool_lock);
  if (*out) return DN_OK;
  return dn_decider_open(p->program, p->externs.fns, out, d);
}

static void give_back(dunlin_policy *p, dn_decider *dec) {
  pthread_mutex_lock(&p->pool_lock);
  if (p->nidle < POOL_MAX) {
    p->idle[p->nidle++] = dec;
    dec = NULL;
  }
  pthread_mutex_unlock(&p->pool_lock);
  dn_decider_close(dec);
}

dunlin_status dunlin_decide_json(const dunlin_policy *cp, const char *request, size_t len, char **response,
                                 dunlin_actions **actions, dunlin_diagnostics *diags) {
  if (actions) *actions = NULL;
  if (!response) return DUNLIN_ERR_USAGE;
  *response = NULL;
  if (!cp || !request) return DUNLIN_ERR_USAGE;
  /* The pool is the one mutable part of a policy, and it has its lock. */
  dunlin_policy *p = (dunlin_policy *)cp;
  dunlin_actions *list = actions ? calloc(1, sizeof *list) : NULL;
  if (actions && !list) return DUNLIN_ERR_INTERNAL;
  dn_diags d;
  dn_diags_init(&d, "request", NULL, 0);
  dn_decider *dec;
  dn_status st = take_decider(p, &dec, &d);
  if (st == DN_OK) {
    st = dn_decide_json_sink(dec, request, len, list ? collect_action : NULL, list, response, &d);
    give_back(p, dec);
  }
  if (list) list->errors = (long long)d.errors;
  import_diags(diags, &d);
  dn_diags_free(&d);
  if (st == DN_OK && actions) *actions = list;
  else dunlin_actions_free(list);
  return (dunlin_status)st;
}
