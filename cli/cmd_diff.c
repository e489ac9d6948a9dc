/* cmd_diff.c - `dunlin diff OLD NEW`: simulates two policies over the same
 * ledger and days (each on its own in-memory copy, runtime/simulate.h) and
 * reports the actions added, removed and changed, in total, per customer,
 * per kind and in call workload: text for people, one JSON object for
 * tools, or Markdown for a pull request. Exit 0 either way unless
 * --fail-on-change. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/externs.h"
#include "runtime/outbox.h"
#include "runtime/simulate.h"

static const char diff_help[] =
    "usage: dunlin diff OLD NEW --ledger LEDGER --from D1 --to D2\n"
    "                   [--format text|json|markdown] [--fail-on-change]\n"
    "                   [--allow-ffi LIB[:LIB...]]\n\n"
    "Simulates both policies day by day from D1 to D2 (as `dunlin simulate` does, each\n"
    "on its own in-memory copy of the ledger) and compares their actions. Actions are\n"
    "matched by (day, customer, kind, rule, step, invoices, task text), which does not\n"
    "depend on the policy's name: a match whose tone, template, scheduled_at, priority,\n"
    "assignee or status differs is changed; the rest are added or removed.\n\n"
    "text (default): counts, the customers with the most changes, contacts per kind and\n"
    "calls per assignee before -> after, and examples. json: one object with the counts\n"
    "and the lists added_actions, removed_actions, changed_actions ({\"before\", \"after\"}).\n"
    "markdown: a summary to post on a pull request.\n"
    "Exit status 0 whatever changed; --fail-on-change makes it 1 when anything did.\n";

#define SHOWN_CUSTOMERS 10
#define SHOWN_EXAMPLES 5
#define MD_LIST_ROWS 500

typedef struct diff_args {
  const char *old_path, *new_path, *ledger, *from, *to, *format, *allow_ffi;
  bool fail_on_change;
  dn_date d1, d2;
} diff_args;

static int parse_args(int argc, char **argv, diff_args *a) {
  const char *pos[2];
  int npos;
  bool help = false;
  memset(a, 0, sizeof *a);
  a->format = "text";
  dn_opt opts[] = {{"ledger", &a->ledger, NULL},       {"from", &a->from, NULL},
                   {"to", &a->to, NULL},               {"format", &a->format, NULL},
                   {"allow-ffi", &a->allow_ffi, NULL}, {"fail-on-change", NULL, &a->fail_on_change}};
  if (dn_args_parse("diff", argc, argv, opts, 6, pos, 2, &npos, &help) != DN_OK) return 2;
  if (help) {
    dn_cli_help(diff_help);
    return -1;
  }
  if (npos != 2 || !a->ledger) {
    fprintf(stderr, "dunlin diff: expected OLD NEW --ledger LEDGER --from D1 --to D2 (see dunlin diff --help)\n");
    return 2;
  }
  a->old_path = pos[0];
  a->new_path = pos[1];
  if (dn_cli_date_range("diff", a->from, a->to, &a->d1, &a->d2) != DN_OK) return 2;
  if (strcmp(a->format, "text") && strcmp(a->format, "json") && strcmp(a->format, "markdown")) {
    fprintf(stderr, "dunlin diff: --format must be text, json or markdown\n");
    return 2;
  }
  return 0;
}

/* One side of the comparison: the policy, its bound externs, its actions
 * and totals. */
typedef struct side {
  const char *path;
  dn_program *p;
  dn_cli_externs ext;
  bool ext_loaded;
  dn_action_list actions;
  dn_sim_summary sum;
} side;

/* Both policies are loaded (and their diagnostics printed) before either
 * runs, so one invocation reports the errors of both. */
static dn_status load_side(side *s, const char *path, const char *allow) {
  memset(s, 0, sizeof *s);
  s->path = path;
  dn_action_list_init(&s->actions);
  dn_status st = dn_cli_load_policy(path, &s->p);
  if (st == DN_OK) {
    st = dn_cli_externs_load(path, s->p, allow, &s->ext);
    s->ext_loaded = st == DN_OK;
  }
  return st;
}

static void free_side(side *s) {
  if (s->ext_loaded) dn_cli_externs_free(&s->ext);
  if (s->p) dn_program_free(s->p);
  dn_action_list_free(&s->actions);
  dn_sim_summary_free(&s->sum);
}

static dn_status simulate_side(side *s, dn_ledger *l, const diff_args *a, dn_diags *diags) {
  dn_sim_options o = {.from = a->d1, .to = a->d2, .extern_fns = s->ext.fns,
                      .on_action = dn_action_list_add, .ctx = &s->actions};
  return dn_simulate(s->p, l, &o, &s->sum, diags);
}

/* ---- what the report counts ---------------------------------------------- */

typedef struct cust_delta {
  const char *customer;
  int64_t n[4]; /* by dn_diff_kind */
} cust_delta;

static int cust_cmp(const void *pa, const void *pb) {
  const cust_delta *a = pa, *b = pb;
  int64_t ta = a->n[DN_DIFF_ADDED] + a->n[DN_DIFF_REMOVED] + a->n[DN_DIFF_CHANGED];
  int64_t tb = b->n[DN_DIFF_ADDED] + b->n[DN_DIFF_REMOVED] + b->n[DN_DIFF_CHANGED];
  if (ta != tb) return ta > tb ? -1 : 1;
  return strcmp(a->customer, b->customer);
}

static const dn_action_rec *entry_rec(const dn_diff_entry *e) { return e->after ? e->after : e->before; }

/* An entry where something goes out (scheduled) on one side at least: what
 * a reviewer wants to see first, before the skipped records of caught-up
 * steps and the contacts a cap deferred, which are most of the records. */
static bool goes_out(const dn_diff_entry *e) {
  return (e->before && e->before->status == DN_STATUS_SCHEDULED) ||
         (e->after && e->after->status == DN_STATUS_SCHEDULED);
}

/* The examples of kind k: up to limit entries, outgoing ones first, each
 * group in identity (day) order; *sel gets their indexes. */
static size_t pick_examples(const dn_diff_entry *e, size_t n, dn_diff_kind k, size_t *sel, size_t limit) {
  size_t m = 0;
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < n && m < limit; i++)
      if (e[i].kind == k && goes_out(&e[i]) == (pass == 0)) sel[m++] = i;
  return m;
}

/* Customers with at least one change, most changes first. The entries are
 * in identity order (day first), so customers are gathered by sorting. */
static cust_delta *per_customer(const dn_diff_entry *e, size_t n, size_t *nout) {
  *nout = 0;
  const dn_diff_entry **idx = malloc(sizeof *idx * (n ? n : 1));
  cust_delta *out = malloc(sizeof *out * (n ? n : 1));
  if (!idx || !out) {
    free(idx);
    free(out);
    return NULL;
  }
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (e[i].kind != DN_DIFF_UNCHANGED) idx[m++] = &e[i];
  for (size_t i = 1; i < m; i++) { /* insertion sort by customer: stable */
    const dn_diff_entry *x = idx[i];
    size_t j = i;
    while (j > 0 && strcmp(entry_rec(idx[j - 1])->customer, entry_rec(x)->customer) > 0) {
      idx[j] = idx[j - 1];
      j--;
    }
    idx[j] = x;
  }
  for (size_t i = 0; i < m; i++) {
    const char *c = entry_rec(idx[i])->customer;
    if (*nout == 0 || strcmp(out[*nout - 1].customer, c)) out[(*nout)++] = (cust_delta){c, {0}};
    out[*nout - 1].n[idx[i]->kind]++;
  }
  free(idx);
  qsort(out, *nout, sizeof *out, cust_cmp);
  return out;
}

/* A collector's scheduled calls on one side (0 when absent). */
static int64_t calls_of(const dn_sim_summary *s, const char *name) {
  for (int32_t i = 0; i < s->ncollectors; i++)
    if (!strcmp(s->collectors[i].assignee, name)) return s->collectors[i].calls;
  return 0;
}

/* The assignees of either side, sorted, without repeats. */
static const char **assignees(const dn_sim_summary *a, const dn_sim_summary *b, int32_t *n) {
  const char **out = malloc(sizeof *out * (size_t)(a->ncollectors + b->ncollectors + 1));
  *n = 0;
  if (!out) return NULL;
  int32_t i = 0, j = 0;
  while (i < a->ncollectors || j < b->ncollectors) {
    int c = i == a->ncollectors ? 1 : j == b->ncollectors ? -1
                                    : strcmp(a->collectors[i].assignee, b->collectors[j].assignee);
    if (c <= 0) out[(*n)++] = a->collectors[i].assignee;
    else out[(*n)++] = b->collectors[j].assignee;
    if (c <= 0) i++;
    if (c >= 0) j++;
  }
  return out;
}

/* What differs between the two sides of a change, as "tone firm -> final; ...". */
static void describe_change(const dn_action_rec *b, const dn_action_rec *a, const char *arrow, char *buf,
                            size_t len) {
  size_t o = 0;
  buf[0] = '\0';
#define FIELD(name, x, y)                                                                      \
  if (strcmp(x ? x : "-", y ? y : "-") && o < len)                                         \
    o += (size_t)snprintf(buf + o, len - o, "%s%s %s %s %s", o ? "; " : "", name, x ? x : "-", arrow, \
                          y ? y : "-");
  FIELD("tone", b->tone, a->tone)
  FIELD("template", b->template_name, a->template_name)
  FIELD("scheduled_at", b->scheduled_at, a->scheduled_at)
  FIELD("assignee", b->assignee, a->assignee)
  FIELD("status", dn_action_status_name(b->status), dn_action_status_name(a->status))
#undef FIELD
  bool pb = b->has_priority, pa = a->has_priority;
  if ((pb != pa || (pb && b->priority != a->priority)) && o < len) {
    char x[32] = "-", y[32] = "-";
    if (pb) snprintf(x, sizeof x, "%.15g", b->priority);
    if (pa) snprintf(y, sizeof y, "%.15g", a->priority);
    snprintf(buf + o, len - o, "%spriority %s %s %s", o ? "; " : "", x, arrow, y);
  }
}

static void invoices_text(const dn_action_rec *r, char *buf, size_t len) {
  size_t o = 0;
  buf[0] = '\0';
  for (int i = 0; i < r->ninvoices && o < len; i++)
    o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "," : "", r->invoices[i]);
}

/* "2026-03-05 C1 email dunning 7d [I1] tone neutral (scheduled)" */
static void action_line(const dn_action_rec *r, char *buf, size_t len) {
  char d[11], inv[256];
  dn_date_format(r->as_of, d);
  invoices_text(r, inv, sizeof inv);
  snprintf(buf, len, "%s %s %s %s%s%s [%s]%s%s%s%s (%s)", d, r->customer, dn_action_kind_name(r->kind),
           r->rule ? r->rule : "-", r->step ? " " : "", r->step ? r->step : "", inv, r->tone ? " tone " : "",
           r->tone ? r->tone : "", r->text ? " " : "", r->text ? r->text : "", dn_action_status_name(r->status));
}

/* ---- text ----------------------------------------------------------------- */

typedef struct report {
  const diff_args *a;
  side *old_s, *new_s;
  dn_diff_entry *e;
  size_t n, counts[4];
  cust_delta *cust;
  size_t ncust;
} report;

static void text_examples(const report *r, dn_diff_kind k, const char *mark) {
  char line[1024], change[512];
  size_t sel[SHOWN_EXAMPLES];
  size_t shown = pick_examples(r->e, r->n, k, sel, SHOWN_EXAMPLES);
  for (size_t j = 0; j < shown; j++) {
    size_t i = sel[j];
    action_line(entry_rec(&r->e[i]), line, sizeof line);
    if (k == DN_DIFF_CHANGED) {
      describe_change(r->e[i].before, r->e[i].after, "->", change, sizeof change);
      printf("  %s %s: %s\n", mark, line, change);
    } else {
      printf("  %s %s\n", mark, line);
    }
  }
  if (shown < r->counts[k])
    printf("  %s ... and %zu more (--format json lists them all)\n", mark, r->counts[k] - shown);
}

static void print_text(const report *r) {
  const dn_program *po = r->old_s->p, *pn = r->new_s->p;
  const dn_sim_summary *so = &r->old_s->sum, *sn = &r->new_s->sum;
  printf("diff %s v%lld -> %s v%lld on %s, %s .. %s: %d day%s\n", po->name, (long long)po->version, pn->name,
         (long long)pn->version, r->a->ledger, r->a->from, r->a->to, so->days, so->days == 1 ? "" : "s");
  printf("  added     %8zu\n  removed   %8zu\n  changed   %8zu\n  unchanged %8zu\n", r->counts[DN_DIFF_ADDED],
         r->counts[DN_DIFF_REMOVED], r->counts[DN_DIFF_CHANGED], r->counts[DN_DIFF_UNCHANGED]);
  printf("  (action records of every simulated day, skipped steps and deferred contacts included;\n"
         "   what goes out is counted below)\n");
  printf("\nscheduled actions by kind    before     after     delta\n");
  for (int k = 0; k < DN_ACT_COUNT; k++) {
    int64_t b = so->by_kind[k][DN_STATUS_SCHEDULED], a = sn->by_kind[k][DN_STATUS_SCHEDULED];
    if (a || b) printf("  %-24s %8lld  %8lld  %+8lld\n", dn_action_kind_name((dn_action_kind)k), (long long)b, (long long)a, (long long)(a - b));
  }
  int32_t nas;
  const char **as = assignees(so, sn, &nas);
  printf("\ncall workload by assignee    before     after     delta\n");
  if (nas == 0) printf("  (no calls)\n");
  for (int32_t i = 0; as && i < nas; i++) {
    int64_t b = calls_of(so, as[i]), a = calls_of(sn, as[i]);
    printf("  %-24s %8lld  %8lld  %+8lld\n", as[i], (long long)b, (long long)a, (long long)(a - b));
  }
  free(as);
  printf("\ncustomers with changes: %zu\n", r->ncust);
  if (r->ncust) printf("  %-20s %7s %7s %7s\n", "customer", "added", "removed", "changed");
  for (size_t i = 0; i < r->ncust && i < SHOWN_CUSTOMERS; i++)
    printf("  %-*s %7lld %7lld %7lld\n", dn_cli_col(r->cust[i].customer, 20), r->cust[i].customer,
           (long long)r->cust[i].n[DN_DIFF_ADDED], (long long)r->cust[i].n[DN_DIFF_REMOVED],
           (long long)r->cust[i].n[DN_DIFF_CHANGED]);
  if (r->ncust > SHOWN_CUSTOMERS) printf("  ... and %zu more\n", r->ncust - SHOWN_CUSTOMERS);
  if (r->counts[DN_DIFF_ADDED] + r->counts[DN_DIFF_REMOVED] + r->counts[DN_DIFF_CHANGED] == 0) return;
  printf("\nexamples (+ added, - removed, ~ changed)\n");
  text_examples(r, DN_DIFF_ADDED, "+");
  text_examples(r, DN_DIFF_REMOVED, "-");
  text_examples(r, DN_DIFF_CHANGED, "~");
}

/* ---- json ----------------------------------------------------------------- */

/* The action record exactly as `simulate --format jsonl` prints it (same
 * writer, same key order), parsed back to be nested in the report. */
static json_t *record_json(const dn_action_rec *a) {
  char *text = dn_action_json_text(a, true);
  json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
  free(text);
  return j;
}

static json_t *side_json(const dn_program *p) {
  json_t *o = json_object();
  json_object_set_new(o, "policy", json_string(p->name));
  json_object_set_new(o, "version", json_integer(p->version));
  return o;
}

static json_t *delta_json(int64_t b, int64_t a) {
  json_t *o = json_object();
  json_object_set_new(o, "before", json_integer(b));
  json_object_set_new(o, "after", json_integer(a));
  json_object_set_new(o, "delta", json_integer(a - b));
  return o;
}

static bool fill_lists(const report *r, json_t *added, json_t *removed, json_t *changed) {
  for (size_t i = 0; i < r->n; i++) {
    const dn_diff_entry *e = &r->e[i];
    json_t *j = NULL;
    if (e->kind == DN_DIFF_ADDED && (j = record_json(e->after))) json_array_append_new(added, j);
    else if (e->kind == DN_DIFF_REMOVED && (j = record_json(e->before))) json_array_append_new(removed, j);
    else if (e->kind == DN_DIFF_CHANGED) {
      json_t *b = record_json(e->before), *a = record_json(e->after);
      if ((j = json_object()) && b && a) {
        json_object_set_new(j, "before", b);
        json_object_set_new(j, "after", a);
        json_array_append_new(changed, j);
      } else {
        json_decref(b);
        json_decref(a);
        json_decref(j);
        j = NULL;
      }
    } else {
      continue;
    }
    if (!j) return false;
  }
  return true;
}

static json_t *kinds_json(const report *r) {
  json_t *o = json_object();
  for (int k = 0; k < DN_ACT_COUNT; k++)
    json_object_set_new(o, dn_action_kind_name((dn_action_kind)k),
                        delta_json(r->old_s->sum.by_kind[k][DN_STATUS_SCHEDULED],
                                   r->new_s->sum.by_kind[k][DN_STATUS_SCHEDULED]));
  return o;
}

static json_t *workload_json(const report *r) {
  json_t *o = json_object();
  int32_t n;
  const char **as = assignees(&r->old_s->sum, &r->new_s->sum, &n);
  for (int32_t i = 0; as && i < n; i++)
    json_object_set_new(o, as[i], delta_json(calls_of(&r->old_s->sum, as[i]), calls_of(&r->new_s->sum, as[i])));
  free(as);
  return o;
}

static json_t *customers_json(const report *r) {
  json_t *arr = json_array();
  for (size_t i = 0; i < r->ncust; i++) {
    json_t *o = json_object();
    json_object_set_new(o, "customer", json_string(r->cust[i].customer));
    json_object_set_new(o, "added", json_integer(r->cust[i].n[DN_DIFF_ADDED]));
    json_object_set_new(o, "removed", json_integer(r->cust[i].n[DN_DIFF_REMOVED]));
    json_object_set_new(o, "changed", json_integer(r->cust[i].n[DN_DIFF_CHANGED]));
    json_array_append_new(arr, o);
  }
  return arr;
}

static dn_status print_json(const report *r) {
  json_t *o = json_object(), *added = json_array(), *removed = json_array(), *changed = json_array();
  dn_status st = o && added && removed && changed && fill_lists(r, added, removed, changed) ? DN_OK : DN_ERR_INTERNAL;
  if (st == DN_OK) {
    char d[11];
    json_object_set_new(o, "old", side_json(r->old_s->p));
    json_object_set_new(o, "new", side_json(r->new_s->p));
    dn_date_format(r->a->d1, d);
    json_object_set_new(o, "from", json_string(d));
    dn_date_format(r->a->d2, d);
    json_object_set_new(o, "to", json_string(d));
    json_object_set_new(o, "days", json_integer(r->old_s->sum.days));
    json_object_set_new(o, "added", json_integer((json_int_t)r->counts[DN_DIFF_ADDED]));
    json_object_set_new(o, "removed", json_integer((json_int_t)r->counts[DN_DIFF_REMOVED]));
    json_object_set_new(o, "changed", json_integer((json_int_t)r->counts[DN_DIFF_CHANGED]));
    json_object_set_new(o, "unchanged", json_integer((json_int_t)r->counts[DN_DIFF_UNCHANGED]));
    json_object_set(o, "added_actions", added);
    json_object_set(o, "removed_actions", removed);
    json_object_set(o, "changed_actions", changed);
    json_object_set_new(o, "by_customer", customers_json(r));
    json_object_set_new(o, "by_kind", kinds_json(r));
    json_object_set_new(o, "workload", workload_json(r));
    if (json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)) != 0 ||
        putchar('\n') == EOF)
      st = DN_ERR_INTERNAL;
  }
  json_decref(added);
  json_decref(removed);
  json_decref(changed);
  json_decref(o);
  return st;
}

/* ---- markdown --------------------------------------------------------------- */

/* A table cell: pipes would end the cell, and HTML in a customer name
 * would render on the pull request page. */
static void md_cell(const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '|': fputs("\\|", stdout); break;
    case '<': fputs("&lt;", stdout); break;
    case '>': fputs("&gt;", stdout); break;
    case '&': fputs("&amp;", stdout); break;
    case '\n': case '\r': putchar(' '); break;
    case '`': putchar('\''); break;
    default: putchar(*s);
    }
  }
}

static void md_row(const dn_action_rec *x, const char *change) {
  char d[11], inv[256];
  dn_date_format(x->as_of, d);
  invoices_text(x, inv, sizeof inv);
  printf("| %s | ", d);
  md_cell(x->customer);
  printf(" | %s | ", dn_action_kind_name(x->kind));
  md_cell(x->rule ? x->rule : "-");
  printf(" | ");
  md_cell(x->step ? x->step : "-");
  printf(" | ");
  md_cell(inv);
  printf(" | %s | ", dn_action_status_name(x->status));
  md_cell(change ? change : x->tone ? x->tone : "-");
  printf(" |\n");
}

static void md_list(const report *r, dn_diff_kind k, const char *title, size_t limit, bool details) {
  if (r->counts[k] == 0) return;
  if (details && r->counts[k] > limit)
    printf("\n<details><summary>The first %zu of %zu %s actions</summary>\n", limit, r->counts[k], title);
  else if (details)
    printf("\n<details><summary>All %zu %s actions</summary>\n", r->counts[k], title);
  else printf("\n**%c%s** (%zu)\n", title[0] - 'a' + 'A', title + 1, r->counts[k]);
  printf("\n| day | customer | kind | rule | step | invoices | status | %s |\n|---|---|---|---|---|---|---|---|\n",
         k == DN_DIFF_CHANGED ? "change" : "tone");
  size_t shown = 0;
  char change[512];
  size_t sel[SHOWN_EXAMPLES];
  size_t nsel = details ? 0 : pick_examples(r->e, r->n, k, sel, SHOWN_EXAMPLES < limit ? SHOWN_EXAMPLES : limit);
  for (size_t j = 0, i = 0; details ? (i < r->n && shown < limit) : j < nsel; details ? i++ : j++) {
    if (!details) i = sel[j];
    if (r->e[i].kind != k) continue;
    if (k == DN_DIFF_CHANGED) describe_change(r->e[i].before, r->e[i].after, "→", change, sizeof change);
    md_row(entry_rec(&r->e[i]), k == DN_DIFF_CHANGED ? change : NULL);
    shown++;
  }
  if (shown < r->counts[k]) printf("\n… and %zu more (`--format json` lists them all)\n", r->counts[k] - shown);
  if (details) printf("\n</details>\n");
}

static void print_markdown(const report *r) {
  const dn_program *po = r->old_s->p, *pn = r->new_s->p;
  const dn_sim_summary *so = &r->old_s->sum, *sn = &r->new_s->sum;
  printf("### Policy diff: ");
  md_cell(po->name);
  printf(" v%lld → ", (long long)po->version);
  md_cell(pn->name);
  printf(" v%lld\n\nSimulated on ", (long long)pn->version);
  md_cell(r->a->ledger);
  printf(" from %s to %s (%d day%s).\n\n", r->a->from, r->a->to, so->days, so->days == 1 ? "" : "s");
  printf("| actions | count |\n|---|---:|\n| added | %zu |\n| removed | %zu |\n| changed | %zu |\n| unchanged | %zu |\n",
         r->counts[DN_DIFF_ADDED], r->counts[DN_DIFF_REMOVED], r->counts[DN_DIFF_CHANGED], r->counts[DN_DIFF_UNCHANGED]);
  printf("\nThese count the action records of every simulated day, including the `skipped` records of "
         "caught-up steps and contacts `deferred` by a cap (again each day they wait). What actually goes "
         "out is below.\n");
  printf("\n#### Scheduled actions by kind\n\n| kind | before | after | delta |\n|---|---:|---:|---:|\n");
  for (int k = 0; k < DN_ACT_COUNT; k++) {
    int64_t b = so->by_kind[k][DN_STATUS_SCHEDULED], a = sn->by_kind[k][DN_STATUS_SCHEDULED];
    if (a || b) printf("| %s | %lld | %lld | %+lld |\n", dn_action_kind_name((dn_action_kind)k), (long long)b, (long long)a, (long long)(a - b));
  }
  int32_t nas;
  const char **as = assignees(so, sn, &nas);
  if (as && nas) {
    printf("\n#### Call workload\n\n| assignee | before | after | delta |\n|---|---:|---:|---:|\n");
    for (int32_t i = 0; i < nas; i++) {
      int64_t b = calls_of(so, as[i]), a = calls_of(sn, as[i]);
      printf("| ");
      md_cell(as[i]);
      printf(" | %lld | %lld | %+lld |\n", (long long)b, (long long)a, (long long)(a - b));
    }
  }
  free(as);
  if (r->ncust) {
    printf("\n#### Customers with the most changes (%zu in all)\n\n| customer | added | removed | changed |\n|---|---:|---:|---:|\n", r->ncust);
    for (size_t i = 0; i < r->ncust && i < SHOWN_CUSTOMERS; i++) {
      printf("| ");
      md_cell(r->cust[i].customer);
      printf(" | %lld | %lld | %lld |\n", (long long)r->cust[i].n[DN_DIFF_ADDED], (long long)r->cust[i].n[DN_DIFF_REMOVED],
             (long long)r->cust[i].n[DN_DIFF_CHANGED]);
    }
  }
  if (r->counts[DN_DIFF_ADDED] + r->counts[DN_DIFF_REMOVED] + r->counts[DN_DIFF_CHANGED] == 0) {
    printf("\nNo action changes.\n");
    return;
  }
  printf("\n#### Examples\n");
  static const struct { dn_diff_kind k; const char *title; } lists[] = {
      {DN_DIFF_ADDED, "added"}, {DN_DIFF_REMOVED, "removed"}, {DN_DIFF_CHANGED, "changed"}};
  for (size_t i = 0; i < 3; i++) md_list(r, lists[i].k, lists[i].title, SHOWN_EXAMPLES, false);
  for (size_t i = 0; i < 3; i++)
    if (r->counts[lists[i].k] > SHOWN_EXAMPLES) md_list(r, lists[i].k, lists[i].title, MD_LIST_ROWS, true);
}

/* ---- the command --------------------------------------------------------------- */

static int compare(const diff_args *a, side *so, side *sn) {
  dn_diags diags;
  dn_diags_init(&diags, a->ledger, NULL, 0);
  dn_ledger l;
  dn_status st = dn_ledger_open(a->ledger, DN_LEDGER_READ, &l, &diags);
  if (st == DN_OK) {
    st = simulate_side(so, &l, a, &diags);
    if (st == DN_OK) st = simulate_side(sn, &l, a, &diags);
    dn_ledger_close(&l);
  }
  report r = {.a = a, .old_s = so, .new_s = sn};
  if (st == DN_OK) st = dn_action_diff(&so->actions, &sn->actions, &r.e, &r.n, r.counts);
  if (st == DN_OK && !(r.cust = per_customer(r.e, r.n, &r.ncust))) st = DN_ERR_INTERNAL;
  if (st == DN_OK) {
    if (!strcmp(a->format, "json")) st = print_json(&r);
    else if (!strcmp(a->format, "markdown")) print_markdown(&r);
    else print_text(&r);
    if (fflush(stdout) != 0 && st == DN_OK) st = DN_ERR_INTERNAL;
  }
  dn_cli_print_diags(&diags);
  int64_t errors = so->sum.errors + sn->sum.errors;
  st = dn_cli_data_errors(st, errors, true);
  bool any = r.counts[DN_DIFF_ADDED] + r.counts[DN_DIFF_REMOVED] + r.counts[DN_DIFF_CHANGED] > 0;
  if (st == DN_OK && a->fail_on_change && any) st = DN_ERR_INPUT;
  free(r.e);
  free(r.cust);
  dn_diags_free(&diags);
  return st;
}

int dn_cmd_diff(int argc, char **argv) {
  diff_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc != 0) return rc < 0 ? 0 : rc;
  side so, sn;
  dn_status s1 = load_side(&so, a.old_path, a.allow_ffi);
  dn_status s2 = load_side(&sn, a.new_path, a.allow_ffi);
  rc = s1 != DN_OK ? (int)s1 : s2 != DN_OK ? (int)s2 : compare(&a, &so, &sn);
  free_side(&so);
  free_side(&sn);
  return rc;
}
