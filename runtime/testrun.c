/* testrun.c - running policy tests (docs/testing.md): a ledger in memory
 * per test, its rows and history inserted with dn_ledger_insert_history,
 * the engine run for each `ran on` date (committed through the outbox, so
 * later runs see it as history exactly as after `run --commit`) and then
 * for as_of, whose actions the expectations are matched against; and the
 * coverage that every run (setup runs included) adds to its policy.
 *
 * Matching: an expectation holds when some action of the as_of run has
 * every attribute it states (`expect N` / `expect no`: exactly N / none).
 * Without `status`, the actions the policy decided on today count: those
 * scheduled and those a contact cap deferred, not the `skipped` records of
 * caught-up steps. LANGUAGE.md s.9's own example needs this: with s.1's
 * `1 per 3 days` cap its sms is deferred, yet `expect sms to C1` holds. */
#include "runtime/testrun.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/engine.h"
#include "runtime/outbox.h"

/* An action of the as_of run, copied out of the engine's record. */
typedef struct got_act {
  char *customer, *tone, *template_name, *text, *scheduled_at, *rule, *step;
  const char *kind, *status;
  char **invoices;
  int ninvoices;
} got_act;

typedef struct run_state {
  dn_test_policy *tp;
  dn_outbox *outbox; /* a `ran on` run commits here; NULL for as_of */
  got_act *acts;
  int nacts, cap;
  dn_diags *diags;
} run_state;

/* ---- coverage --------------------------------------------------------- */

static void hit_event(dn_test_policy *tp, const char *name) {
  const dn_program *p = tp->program;
  for (uint32_t i = 0; i < p->nevents; i++)
    if (strcmp(dn_event_name(p->events[i].event), name) == 0) tp->event_hit[i] = true;
}

static void hit_rule_or_step(dn_test_policy *tp, const char *rule, const char *step) {
  const dn_program *p = tp->program;
  for (uint32_t i = 0; i < p->nrules; i++)
    if (strcmp(p->strings[p->rules[i].name], rule) == 0) tp->rule_hit[i] = true;
  for (uint32_t e = 0; step && e < p->nescalations; e++) {
    const dn_escalation_def *d = &p->escalations[e];
    if (strcmp(p->strings[d->name], rule) != 0) continue;
    for (int32_t k = d->first_step; k < d->first_step + d->nsteps; k++) {
      char buf[16];
      if (strcmp(dn_step_label(&p->steps[k], buf), step) == 0) tp->step_hit[k] = true;
    }
  }
}

/* Part j of a comma list, copied to buf; "15d@I2" (a consolidated part
 * naming its invoice) loses the tag. */
static const char *list_part(const char *list, int n, int j, char *buf, size_t cap) {
  if (!list) return NULL;
  int want = n == 1 ? 0 : (j < n ? j : n - 1);
  const char *p = list;
  for (int i = 0; i < want && p; i++) {
    p = strchr(p, ',');
    if (p) p++;
  }
  if (!p) return NULL;
  size_t len = strcspn(p, ",@");
  if (len >= cap) len = cap - 1;
  memcpy(buf, p, len);
  buf[len] = '\0';
  return buf;
}

static int count_parts(const char *s) {
  if (!s) return 0;
  int n = 1;
  for (; *s; s++) n += *s == ',';
  return n;
}

/* A record reaches what produced it, unless it was only caught up. */
static void cover_action(dn_test_policy *tp, const dn_action_rec *a) {
  if (a->status == DN_STATUS_SKIPPED || !a->rule) return;
  int nr = count_parts(a->rule), ns = count_parts(a->step), n = nr > ns ? nr : ns;
  for (int j = 0; j < n; j++) {
    char rb[256], sb[64];
    const char *rule = list_part(a->rule, nr, j, rb, sizeof rb);
    const char *step = list_part(a->step, ns, j, sb, sizeof sb);
    if (!rule) continue;
    if (strncmp(rule, "on ", 3) == 0) hit_event(tp, rule + 3);
    else hit_rule_or_step(tp, rule, step);
  }
}

/* explain says "segment NAME...: ..., chosen" for the segment a customer
 * gets: the only place a run tells it. */
static void on_explain(void *ctx, const char *customer, const char *invoice, const char *line) {
  run_state *r = ctx;
  (void)customer;
  (void)invoice;
  size_t n = strlen(line);
  if (strncmp(line, "segment ", 8) != 0 || n < 6 || strcmp(line + n - 6, "chosen") != 0) return;
  const char *name = line + 8;
  size_t len = strcspn(name, " :");
  const dn_program *p = r->tp->program;
  for (uint32_t s = 0; s < p->nsegments; s++) {
    const char *sn = p->strings[p->segments[s].name];
    if (strlen(sn) == len && strncmp(sn, name, len) == 0) r->tp->seg_hit[s] = true;
  }
}

dn_status dn_test_suite_coverage(const dn_test_suite *s, int i, dn_coverage *out) {
  memset(out, 0, sizeof *out);
  const dn_test_policy *tp = &s->policies[i];
  const dn_program *p = tp->program;
  out->policy = tp->path;
  if (!p) return DN_OK;
  size_t cap = (size_t)p->nsegments + p->nsteps + p->nevents + p->nrules + 1;
  out->missed = calloc(cap, sizeof *out->missed);
  if (!out->missed) return DN_ERR_INTERNAL;
  char buf[600];
#define COVER(hit, ...)                                                      \
  do {                                                                       \
    out->total++;                                                            \
    if (hit) { out->reached++; break; }                                      \
    snprintf(buf, sizeof buf, __VA_ARGS__);                                  \
    if (!(out->missed[out->nmissed++] = strdup(buf))) return DN_ERR_INTERNAL; \
  } while (0)
  for (uint32_t k = 0; k < p->nsegments; k++) COVER(tp->seg_hit[k], "segment %s", p->strings[p->segments[k].name]);
  for (uint32_t e = 0; e < p->nescalations; e++) {
    const dn_escalation_def *d = &p->escalations[e];
    for (int32_t k = d->first_step; k < d->first_step + d->nsteps; k++) {
      char lb[16];
      COVER(tp->step_hit[k], "escalation %s step %s", p->strings[d->name], dn_step_label(&p->steps[k], lb));
    }
  }
  for (uint32_t k = 0; k < p->nevents; k++)
    COVER(tp->event_hit[k], "on %s for %s", dn_event_name(p->events[k].event),
          p->events[k].scope == DN_SCOPE_INVOICE ? "invoice" : "customer");
  for (uint32_t k = 0; k < p->nrules; k++) COVER(tp->rule_hit[k], "rule %s", p->strings[p->rules[k].name]);
#undef COVER
  return DN_OK;
}

void dn_coverage_free(dn_coverage *c) {
  for (int i = 0; i < c->nmissed; i++) free(c->missed[i]);
  free(c->missed);
  memset(c, 0, sizeof *c);
}

/* ---- keeping the as_of run's actions ------------------------------------ */

static char *dup_opt(const char *s) { return s ? strdup(s) : NULL; }

static void free_act(got_act *g) {
  free(g->customer);
  free(g->tone);
  free(g->template_name);
  free(g->text);
  free(g->scheduled_at);
  free(g->rule);
  free(g->step);
  for (int i = 0; i < g->ninvoices; i++) free(g->invoices[i]);
  free(g->invoices);
}

static dn_status keep(run_state *r, const dn_action_rec *a) {
  if (r->nacts == r->cap) {
    int cap = r->cap ? r->cap * 2 : 16;
    got_act *g = realloc(r->acts, sizeof *g * (size_t)cap);
    if (!g) return DN_ERR_INTERNAL;
    r->acts = g, r->cap = cap;
  }
  got_act *g = &r->acts[r->nacts++];
  memset(g, 0, sizeof *g);
  g->kind = dn_action_kind_name(a->kind);
  g->status = dn_action_status_name(a->status);
  g->customer = dup_opt(a->customer);
  g->tone = dup_opt(a->tone);
  g->template_name = dup_opt(a->template_name);
  g->text = dup_opt(a->text);
  g->scheduled_at = dup_opt(a->scheduled_at);
  g->rule = dup_opt(a->rule);
  g->step = dup_opt(a->step);
  g->invoices = calloc((size_t)a->ninvoices + 1, sizeof *g->invoices);
  if (!g->invoices) return DN_ERR_INTERNAL;
  for (int i = 0; i < a->ninvoices; i++)
    if (!(g->invoices[g->ninvoices++] = strdup(a->invoices[i]))) return DN_ERR_INTERNAL;
  return g->customer ? DN_OK : DN_ERR_INTERNAL;
}

static dn_status sink(void *ctx, const dn_action_rec *a) {
  run_state *r = ctx;
  cover_action(r->tp, a);
  return r->outbox ? dn_outbox_add(r->outbox, a, r->diags) : keep(r, a);
}

/* ---- one run -------------------------------------------------------------- */

static dn_status engine_run(run_state *r, dn_ledger *l, dn_date d) {
  dn_run_options o = {.as_of = d, .explain = on_explain, .explain_ctx = r,
                      .extern_fns = (void *const *)r->tp->ext.fns};
  dn_run_stats stats;
  return dn_engine_run(r->tp->program, l, &o, sink, r, &stats, r->diags);
}

/* A `ran on` date: the run is committed, as `run --commit` would. */
static dn_status ran_on(run_state *r, dn_ledger *l, dn_date d) {
  dn_outbox o;
  dn_status st = dn_outbox_begin(&o, l, r->tp->program, d, r->diags);
  if (st != DN_OK) return st;
  r->outbox = &o;
  st = engine_run(r, l, d);
  dn_status end = dn_outbox_end(&o, st == DN_OK, 0, r->diags);
  r->outbox = NULL;
  return st != DN_OK ? st : end;
}

static int date_cmp(const void *a, const void *b) {
  dn_date x = *(const dn_date *)a, y = *(const dn_date *)b;
  return x < y ? -1 : x > y;
}

/* Every `ran on` date of the test, ascending, each once. */
static dn_date *ran_dates(const dn_test *t, int *n) {
  int cap = 0;
  for (int i = 0; i < t->nitems; i++) cap += t->items[i].kind == DN_TI_RAN ? t->items[i].ndates : 0;
  dn_date *d = malloc(sizeof *d * (size_t)(cap + 1));
  *n = 0;
  if (!d) return NULL;
  for (int i = 0; i < t->nitems; i++)
    for (int k = 0; t->items[i].kind == DN_TI_RAN && k < t->items[i].ndates; k++) d[(*n)++] = t->items[i].dates[k];
  qsort(d, (size_t)*n, sizeof *d, date_cmp);
  int m = 0;
  for (int i = 0; i < *n; i++)
    if (m == 0 || d[m - 1] != d[i]) d[m++] = d[i];
  *n = m;
  return d;
}

/* ---- matching -------------------------------------------------------------- */

static bool in_list(const char *list, const char *want) {
  if (!list) return false;
  size_t n = strlen(want);
  for (const char *p = list;;) {
    size_t len = strcspn(p, ",@");
    if (len == n && strncmp(p, want, n) == 0) return true;
    p = strchr(p, ',');
    if (!p) return false;
    p++;
  }
}

static bool str_eq(const char *want, const char *got) { return !want || (got && strcmp(want, got) == 0); }

static bool at_matches(const dn_test_attrs *x, const char *sched) {
  if (!x->has_at) return true;
  char want[40], d[11];
  dn_date_format(x->at_date, d);
  if (x->at_minutes >= 0) snprintf(want, sizeof want, "%sT%02d:%02d", d, x->at_minutes / 60, x->at_minutes % 60);
  else snprintf(want, sizeof want, "%s", d);
  return sched && strncmp(sched, want, strlen(want)) == 0;
}

static bool status_matches(const char *want, const char *got) {
  if (!want) return strcmp(got, "skipped") != 0;
  return strcmp(want, "any") == 0 || strcmp(want, got) == 0;
}

static bool matches(const dn_test_attrs *x, const got_act *g) {
  if (strcmp(dn_action_kind_name(x->kind), g->kind) != 0) return false;
  if (!status_matches(x->status.name, g->status)) return false;
  if (!str_eq(x->text, g->text) || !str_eq(x->to.name, g->customer) || !str_eq(x->tone.name, g->tone) ||
      !str_eq(x->template_name, g->template_name) || !at_matches(x, g->scheduled_at))
    return false;
  if ((x->rule.name && !in_list(g->rule, x->rule.name)) || (x->step && !in_list(g->step, x->step))) return false;
  for (int i = 0; i < x->ninvoices; i++) {
    bool found = false;
    for (int k = 0; k < g->ninvoices && !found; k++) found = strcmp(g->invoices[k], x->invoices[i].name) == 0;
    if (!found) return false;
  }
  return true;
}

/* One action in the words of an expectation, so a failing test shows
 * what to write: `email to C1 for I1 tone firm template "email-firm" ...` */
static char *describe(const got_act *g) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  fputs(g->kind, f);
  if (!strcmp(g->kind, "hold") || !strcmp(g->kind, "release")) fputs(" credit", f);
  if (g->text) fprintf(f, " \"%s\"", g->text);
  fprintf(f, " to %s", g->customer);
  for (int i = 0; i < g->ninvoices; i++) fprintf(f, "%s%s", i ? ", " : " for ", g->invoices[i]);
  if (g->tone) fprintf(f, " tone %s", g->tone);
  if (g->template_name) fprintf(f, " template \"%s\"", g->template_name);
  fprintf(f, " status %s", g->status);
  if (g->scheduled_at) fprintf(f, " at %s", g->scheduled_at);
  if (g->rule) fprintf(f, " rule \"%s\"", g->rule);
  if (g->step) fprintf(f, " step \"%s\"", g->step);
  fclose(f);
  return buf;
}

/* The expectation's own text after `expect`, on one line. */
static char *expectation_text(const dn_test_file *f, const dn_test_item *it) {
  const char *s = f->source + it->span.start, *e = f->source + it->span.end;
  if ((size_t)(e - s) >= 6 && strncmp(s, "expect", 6) == 0) s += 6;
  char *out = malloc((size_t)(e - s) + 1);
  if (!out) return NULL;
  size_t n = 0;
  for (; s < e; s++) {
    bool space = *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r';
    if (space && (n == 0 || out[n - 1] == ' ')) continue;
    out[n++] = space ? ' ' : *s;
  }
  while (n && out[n - 1] == ' ') n--;
  out[n] = '\0';
  return out;
}

static int status_rank(const char *status) {
  static const char *const ranks[] = {"scheduled", "deferred", "skipped"};
  for (int i = 0; i < 3; i++)
    if (strcmp(status, ranks[i]) == 0) return i;
  return 3;
}

/* What a failure lists, in reading order: per customer (run order), what
 * goes out first, then what a cap deferred, then the skipped records of
 * caught-up steps; the run's own order within each (a stable sort: the
 * run orders by key, a hash, which reads as random). */
static void sort_for_reading(const got_act *acts, int *order, int n) {
  for (int i = 1; i < n; i++) {
    int v = order[i], j = i - 1;
    while (j >= 0) {
      const got_act *a = &acts[order[j]], *b = &acts[v];
      int c = strcmp(a->customer, b->customer);
      if (c < 0 || (c == 0 && status_rank(a->status) <= status_rank(b->status))) break;
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = v;
  }
}

static dn_status add_failure(const dn_test_file *f, dn_test_result *r, const dn_test_item *it, int found,
                             const run_state *rs) {
  dn_test_failure *g = realloc(r->failures, sizeof *g * (size_t)(r->nfailures + 1));
  if (!g) return DN_ERR_INTERNAL;
  r->failures = g;
  dn_test_failure *x = &g[r->nfailures++];
  memset(x, 0, sizeof *x);
  x->line = dn_test_line(f, it->span.start);
  x->expected = expectation_text(f, it);
  if (it->count >= 0) {
    char b[32];
    snprintf(b, sizeof b, "found %d", found);
    x->found = strdup(b);
  }
  x->emitted = calloc((size_t)rs->nacts + 1, sizeof *x->emitted);
  if (!x->expected || !x->emitted || (it->count >= 0 && !x->found)) return DN_ERR_INTERNAL;
  const char *who = it->attrs.to.name;
  int *order = malloc(sizeof *order * (size_t)(rs->nacts + 1));
  if (!order) return DN_ERR_INTERNAL;
  int n = 0;
  for (int i = 0; i < rs->nacts; i++)
    if (!who || strcmp(who, rs->acts[i].customer) == 0) order[n++] = i;
  sort_for_reading(rs->acts, order, n);
  for (int k = 0; k < n; k++)
    if (!(x->emitted[x->nemitted++] = describe(&rs->acts[order[k]]))) {
      free(order);
      return DN_ERR_INTERNAL;
    }
  free(order);
  return DN_OK;
}

static dn_status check_expectations(const dn_test_file *f, const dn_test *t, dn_test_result *r, const run_state *rs) {
  for (int i = 0; i < t->nitems; i++) {
    const dn_test_item *it = &t->items[i];
    if (it->kind != DN_TI_EXPECT) continue;
    int n = 0;
    for (int k = 0; k < rs->nacts; k++) n += matches(&it->attrs, &rs->acts[k]);
    bool ok = it->count < 0 ? n > 0 : n == it->count;
    if (!ok && add_failure(f, r, it, n, rs) != DN_OK) return DN_ERR_INTERNAL;
  }
  return DN_OK;
}

/* ---- a test --------------------------------------------------------------- */

static dn_status setup_and_run(dn_test_file *f, int ti, dn_ledger *l, run_state *rs, dn_arena *a) {
  const dn_test *t = &f->ast.tests[ti];
  dn_row *rows;
  size_t n;
  dn_status st = dn_test_rows(f, ti, a, &rows, &n);
  if (st == DN_OK) st = dn_ledger_insert_history(l, rs->tp->program->name, rows, n, rs->diags);
  int nd = 0;
  dn_date *dates = st == DN_OK ? ran_dates(t, &nd) : NULL;
  if (st == DN_OK && !dates) st = DN_ERR_INTERNAL;
  for (int i = 0; i < nd && st == DN_OK; i++) st = ran_on(rs, l, dates[i]);
  free(dates);
  if (st == DN_OK) st = engine_run(rs, l, f->as_of[ti]);
  return st;
}

/* The engine names its data errors (a missing fx rate, E0501) after the
 * ledger, here ":memory:", which tells the reader nothing: they are put on
 * the test's own FILE:LINE with its name. */
static void relabel_run_diags(dn_diags *d, const char *path, int line, const char *name) {
  for (size_t i = 0; i < d->count; i++) {
    dn_diag *g = &d->items[i];
    if (!g->file || strcmp(g->file, ":memory:") != 0 || !g->message) continue;
    size_t n = strlen(g->message) + strlen(name) + 16;
    char *file = malloc(strlen(path) + 1), *msg = malloc(n);
    if (!file || !msg) {
      free(file);
      free(msg);
      continue;
    }
    memcpy(file, path, strlen(path) + 1);
    snprintf(msg, n, "test \"%s\": %s", name, g->message);
    free(g->file);
    free(g->message);
    g->file = file;
    g->message = msg;
    g->line = line;
  }
}

static dn_status run_test(dn_test_suite *s, dn_test_file *f, int ti, dn_test_result *r) {
  const dn_test *t = &f->ast.tests[ti];
  r->name = t->name;
  r->line = dn_test_line(f, t->span.start);
  dn_diags_init(&r->diags, f->path, NULL, 0);
  run_state rs = {.tp = &s->policies[f->policy_of[ti]], .diags = &r->diags};
  dn_arena a;
  dn_arena_init(&a);
  dn_ledger l;
  dn_status st = dn_ledger_open_memory(&l, &r->diags);
  if (st == DN_OK) {
    st = setup_and_run(f, ti, &l, &rs, &a);
    dn_ledger_close(&l);
  }
  relabel_run_diags(&r->diags, f->path, r->line, t->name);
  if (st == DN_OK) st = check_expectations(f, t, r, &rs);
  else if (st != DN_ERR_INTERNAL && r->diags.errors == 0)
    dn_diag_add_at(&r->diags, DN_E0607, f->path, r->line, "test \"%s\" could not run", t->name);
  r->passed = st == DN_OK && r->nfailures == 0;
  for (int i = 0; i < rs.nacts; i++) free_act(&rs.acts[i]);
  free(rs.acts);
  dn_arena_free(&a);
  return st == DN_ERR_INTERNAL ? st : DN_OK;
}

dn_status dn_test_file_run(dn_test_suite *s, dn_test_file *f) {
  int n = f->ast.ntests;
  f->results = calloc((size_t)n + 1, sizeof *f->results);
  if (!f->results) return DN_ERR_INTERNAL;
  for (int i = 0; i < n; i++) {
    f->nresults = i + 1;
    if (f->policy_of[i] < 0) return DN_ERR_INTERNAL; /* the file did not check clean */
    if (run_test(s, f, i, &f->results[i]) != DN_OK) return DN_ERR_INTERNAL;
  }
  return DN_OK;
}
