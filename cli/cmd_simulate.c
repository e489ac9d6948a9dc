/* cmd_simulate.c - `dunlin simulate`: replays a policy day by day over a
 * copy of the ledger (runtime/simulate.h) and prints the totals for
 * people (text), the summary as one JSON object (json), every action as
 * JSON lines with `as_of` (jsonl), and optionally an HTML report. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/externs.h"
#include "cli/html.h"
#include "runtime/outbox.h"
#include "runtime/simulate.h"

static const char simulate_help[] =
    "usage: dunlin simulate POLICY --ledger LEDGER --from D1 --to D2\n"
    "                       [--format text|json|jsonl] [--report FILE.html]\n"
    "                       [--allow-ffi LIB[:LIB...]] [--native LIB.so] [--full]\n\n"
    "Replays the policy day by day from D1 to D2 (inclusive) against the ledger's own\n"
    "history: payments, disputes, promises, credits and new invoices happen on the day\n"
    "the ledger dates them, and each simulated day's actions are history for the next\n"
    "(catch-up, caps, once per). The ledger file is only read: the replay runs on an\n"
    "in-memory copy from which this policy's actions dated D1 or later are removed.\n\n"
    "text (default): totals by kind, tone, segment and week, the call workload per\n"
    "assignee and day, and the invoices that reached the last step of an escalation\n"
    "or were escalated. json: the same as one object. jsonl: every action of every day\n"
    "(the action record of `run` plus \"as_of\"), by day and then as `run` orders them.\n"
    "--report FILE.html also writes a self-contained page with charts.\n"
    "Data errors are printed on stderr and make the exit status 1.\n"
    "A customer is evaluated only on the days its actions could change (a ledger row,\n"
    "a step or due date reached, a record the day before...); --full evaluates every\n"
    "customer every day, the reference replay, with the same output.\n"
    "--native LIB.so evaluates the policy's expressions with the machine code\n"
    "`dunlin compile --native` made for this very policy (same output, faster).\n";

#define SHOWN_FINALS 20
#define SHOWN_BUSIEST 3

typedef struct sim_args {
  const char *policy, *ledger, *from, *to, *format, *report, *allow_ffi, *native;
  dn_date d1, d2;
  bool full;
} sim_args;

static int parse_args(int argc, char **argv, sim_args *a) {
  const char *pos[1];
  int npos;
  bool help = false;
  memset(a, 0, sizeof *a);
  a->format = "text";
  dn_opt opts[] = {{"ledger", &a->ledger, NULL}, {"from", &a->from, NULL},
                   {"to", &a->to, NULL},         {"format", &a->format, NULL},
                   {"report", &a->report, NULL}, {"allow-ffi", &a->allow_ffi, NULL},
                   {"full", NULL, &a->full},     {"native", &a->native, NULL}};
  if (dn_args_parse("simulate", argc, argv, opts, 8, pos, 1, &npos, &help) != DN_OK) return 2;
  if (help) {
    dn_cli_help(simulate_help);
    return -1;
  }
  if (npos != 1 || !a->ledger) {
    fprintf(stderr, "dunlin simulate: expected POLICY --ledger LEDGER --from D1 --to D2 (see dunlin simulate --help)\n");
    return 2;
  }
  a->policy = pos[0];
  if (dn_cli_date_range("simulate", a->from, a->to, &a->d1, &a->d2) != DN_OK) return 2;
  if (strcmp(a->format, "text") && strcmp(a->format, "json") && strcmp(a->format, "jsonl")) {
    fprintf(stderr, "dunlin simulate: --format must be text, json or jsonl\n");
    return 2;
  }
  return 0;
}

/* ---- text ------------------------------------------------------------------- */

static int64_t kind_total(const dn_sim_summary *s, int k) {
  return s->by_kind[k][0] + s->by_kind[k][1] + s->by_kind[k][2];
}

static void print_kinds(const dn_sim_summary *s) {
  printf("\nby kind        scheduled  deferred   skipped\n");
  for (int k = 0; k < DN_ACT_COUNT; k++)
    if (kind_total(s, k))
      printf("  %-12s %9lld %9lld %9lld\n", dn_action_kind_name((dn_action_kind)k),
             (long long)s->by_kind[k][DN_STATUS_SCHEDULED], (long long)s->by_kind[k][DN_STATUS_DEFERRED],
             (long long)s->by_kind[k][DN_STATUS_SKIPPED]);
  printf("  %-12s %9lld %9lld %9lld\n", "total", (long long)s->by_status[DN_STATUS_SCHEDULED],
         (long long)s->by_status[DN_STATUS_DEFERRED], (long long)s->by_status[DN_STATUS_SKIPPED]);
}

static void print_counts(const char *title, const dn_sim_count *c, int32_t n) {
  printf("\n%s\n", title);
  if (n == 0) printf("  (none)\n");
  for (int32_t i = 0; i < n; i++) printf("  %-20s %9lld\n", c[i].name, (long long)c[i].n);
}

static bool week_kind_used(const dn_sim_summary *s, int k) {
  for (int32_t w = 0; w < s->nweeks; w++)
    if (s->weeks[w].by_kind[k]) return true;
  return false;
}

static void print_weeks(const dn_sim_summary *s) {
  printf("\nby week (scheduled actions by the day they go out; weeks start on Monday)\n  %-10s", "week of");
  for (int k = 0; k < DN_ACT_COUNT; k++)
    if (week_kind_used(s, k)) printf(" %8s", dn_action_kind_name((dn_action_kind)k));
  printf(" %8s\n", "total");
  for (int32_t w = 0; w < s->nweeks; w++) {
    char d[11];
    dn_date_format(s->weeks[w].monday, d);
    printf("  %-10s", d);
    int64_t total = 0;
    for (int k = 0; k < DN_ACT_COUNT; k++) {
      total += s->weeks[w].by_kind[k];
      if (week_kind_used(s, k)) printf(" %8lld", (long long)s->weeks[w].by_kind[k]);
    }
    printf(" %8lld\n", (long long)total);
  }
}

/* The days on which any call is scheduled: the denominator of every
 * collector's average, so averages compare across collectors. */
static int32_t call_days(const dn_sim_summary *s) {
  dn_date lo = s->from, hi = s->from - 1;
  for (int32_t i = 0; i < s->ncollectors; i++)
    if (s->collectors[i].first_day + s->collectors[i].ndays - 1 > hi)
      hi = s->collectors[i].first_day + s->collectors[i].ndays - 1;
  int32_t n = 0;
  for (dn_date d = lo; d <= hi; d++) {
    bool any = false;
    for (int32_t i = 0; i < s->ncollectors && !any; i++) {
      const dn_sim_collector *c = &s->collectors[i];
      int32_t j = d - c->first_day;
      any = j >= 0 && j < c->ndays && c->per_day[j] > 0;
    }
    n += any;
  }
  return n;
}

/* The busiest days of a collector, most calls first, then earliest. */
static int32_t busiest(const dn_sim_collector *c, int32_t *idx, int32_t max) {
  int32_t n = 0;
  for (int32_t j = 0; j < c->ndays; j++) {
    int64_t v = c->per_day[j];
    if (v == 0 || (n == max && v <= c->per_day[idx[n - 1]])) continue;
    int32_t at = n < max ? n++ : max - 1;
    while (at > 0 && c->per_day[idx[at - 1]] < v) {
      idx[at] = idx[at - 1];
      at--;
    }
    idx[at] = j;
  }
  return n;
}

static void print_workload(const dn_sim_summary *s) {
  int32_t days = call_days(s);
  printf("\ncall workload (scheduled calls by assignee; average over the %d day%s with calls)\n", days,
         days == 1 ? "" : "s");
  if (s->ncollectors == 0) {
    printf("  (no calls)\n");
    return;
  }
  printf("  %-20s %7s %8s  %s\n", "assignee", "calls", "avg/day", "busiest days");
  for (int32_t i = 0; i < s->ncollectors; i++) {
    const dn_sim_collector *c = &s->collectors[i];
    int32_t idx[SHOWN_BUSIEST];
    int32_t n = busiest(c, idx, SHOWN_BUSIEST);
    printf("  %-*s %7lld %8.2f ", dn_cli_col(c->assignee, 20), c->assignee, (long long)c->calls,
           days ? (double)c->calls / days : 0.0);
    for (int32_t k = 0; k < n; k++) {
      char d[11];
      dn_date_format(c->first_day + idx[k], d);
      printf(" %s (%lld)", d, (long long)c->per_day[idx[k]]);
    }
    printf("\n");
  }
}

static void print_finals(const dn_sim_summary *s) {
  printf("\nreached the last escalation step or escalated: %d\n", s->nfinals);
  for (int32_t i = 0; i < s->nfinals && i < SHOWN_FINALS; i++) {
    const dn_sim_final *f = &s->finals[i];
    char d[11];
    dn_date_format(f->as_of, d);
    const char *inv = f->invoice ? f->invoice : "-";
    printf("  %s  %-*s %-*s %s %s", d, dn_cli_col(f->customer, 12), f->customer, dn_cli_col(inv, 12), inv,
           f->rule ? f->rule : "", f->step ? f->step : "");
    if (f->target) printf(" (escalate \"%s\")", f->target);
    printf("\n");
  }
  if (s->nfinals > SHOWN_FINALS) printf("  ... and %d more (--format json lists them all)\n", s->nfinals - SHOWN_FINALS);
}

static void print_text(const dn_program *p, const sim_args *a, const dn_sim_summary *s) {
  printf("simulate %s v%lld on %s, %s .. %s: %d day%s, %lld customers\n", p->name, (long long)p->version,
         a->ledger, a->from, a->to, s->days, s->days == 1 ? "" : "s", (long long)s->customers);
  printf("%lld actions: %lld scheduled, %lld deferred, %lld skipped\n", (long long)s->actions,
         (long long)s->by_status[DN_STATUS_SCHEDULED], (long long)s->by_status[DN_STATUS_DEFERRED],
         (long long)s->by_status[DN_STATUS_SKIPPED]);
  if (s->by_status[DN_STATUS_DEFERRED])
    printf("  the deferred records are %lld contacts a cap held back, proposed again each day until they go out\n",
           (long long)s->deferred_contacts);
  printf("%lld customer evaluations (%s", (long long)s->evaluated,
         s->incremental ? "incremental: only on days a customer's actions could change" : "full replay");
  if (s->settled)
    printf("; %lld woken by a new fx rate alone, settled as their conditions came out unchanged",
           (long long)s->settled);
  if (s->replayed)
    printf("; %lld deferred again as the day before, their records issued again without a run",
           (long long)s->replayed);
  printf(")\n");
  print_kinds(s);
  print_counts("by tone (scheduled)", s->tones, s->ntones);
  print_counts("by segment (scheduled)", s->segments, s->nsegments);
  print_weeks(s);
  print_workload(s);
  print_finals(s);
}

/* ---- json ------------------------------------------------------------------- */

static json_t *jdate(dn_date d) {
  char b[11];
  dn_date_format(d, b);
  return json_string(b);
}

static json_t *jopt(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *json_kinds(const dn_sim_summary *s) {
  json_t *o = json_object();
  for (int k = 0; k < DN_ACT_COUNT; k++) {
    json_t *c = json_object();
    json_object_set_new(c, "scheduled", json_integer(s->by_kind[k][DN_STATUS_SCHEDULED]));
    json_object_set_new(c, "deferred", json_integer(s->by_kind[k][DN_STATUS_DEFERRED]));
    json_object_set_new(c, "skipped", json_integer(s->by_kind[k][DN_STATUS_SKIPPED]));
    json_object_set_new(o, dn_action_kind_name((dn_action_kind)k), c);
  }
  return o;
}

static json_t *json_counts(const dn_sim_count *c, int32_t n) {
  json_t *o = json_object();
  for (int32_t i = 0; i < n; i++) json_object_set_new(o, c[i].name, json_integer(c[i].n));
  return o;
}

static json_t *json_weeks(const dn_sim_summary *s) {
  json_t *arr = json_array();
  for (int32_t w = 0; w < s->nweeks; w++) {
    json_t *o = json_object();
    json_object_set_new(o, "week", jdate(s->weeks[w].monday));
    int64_t total = 0;
    for (int k = 0; k < DN_ACT_COUNT; k++) {
      json_object_set_new(o, dn_action_kind_name((dn_action_kind)k), json_integer(s->weeks[w].by_kind[k]));
      total += s->weeks[w].by_kind[k];
    }
    json_object_set_new(o, "total", json_integer(total));
    json_array_append_new(arr, o);
  }
  return arr;
}

static json_t *json_workload(const dn_sim_summary *s) {
  json_t *arr = json_array();
  int32_t days = call_days(s);
  for (int32_t i = 0; i < s->ncollectors; i++) {
    const dn_sim_collector *c = &s->collectors[i];
    json_t *o = json_object(), *per = json_object();
    json_object_set_new(o, "assignee", json_string(c->assignee));
    json_object_set_new(o, "calls", json_integer(c->calls));
    json_object_set_new(o, "average_per_day", json_real(days ? round((double)c->calls * 100.0 / days) / 100.0 : 0.0));
    int32_t idx[SHOWN_BUSIEST];
    int32_t n = busiest(c, idx, SHOWN_BUSIEST);
    json_t *b = json_array();
    for (int32_t k = 0; k < n; k++) {
      json_t *e = json_object();
      json_object_set_new(e, "day", jdate(c->first_day + idx[k]));
      json_object_set_new(e, "calls", json_integer(c->per_day[idx[k]]));
      json_array_append_new(b, e);
    }
    json_object_set_new(o, "busiest", b);
    for (int32_t j = 0; j < c->ndays; j++) {
      if (!c->per_day[j]) continue;
      char d[11];
      dn_date_format(c->first_day + j, d);
      json_object_set_new(per, d, json_integer(c->per_day[j]));
    }
    json_object_set_new(o, "per_day", per);
    json_array_append_new(arr, o);
  }
  return arr;
}

static json_t *json_finals(const dn_sim_summary *s) {
  json_t *arr = json_array();
  for (int32_t i = 0; i < s->nfinals; i++) {
    const dn_sim_final *f = &s->finals[i];
    json_t *o = json_object();
    json_object_set_new(o, "as_of", jdate(f->as_of));
    json_object_set_new(o, "customer", json_string(f->customer));
    json_object_set_new(o, "invoice", jopt(f->invoice));
    json_object_set_new(o, "rule", jopt(f->rule));
    json_object_set_new(o, "step", jopt(f->step));
    json_object_set_new(o, "escalate", jopt(f->target));
    json_array_append_new(arr, o);
  }
  return arr;
}

static dn_status print_json(const dn_program *p, const dn_sim_summary *s) {
  json_t *o = json_object();
  if (!o) return DN_ERR_INTERNAL;
  json_object_set_new(o, "policy", json_string(p->name));
  json_object_set_new(o, "version", json_integer(p->version));
  json_object_set_new(o, "from", jdate(s->from));
  json_object_set_new(o, "to", jdate(s->to));
  json_object_set_new(o, "days", json_integer(s->days));
  json_object_set_new(o, "customers", json_integer(s->customers));
  json_object_set_new(o, "actions", json_integer(s->actions));
  json_object_set_new(o, "scheduled", json_integer(s->by_status[DN_STATUS_SCHEDULED]));
  json_object_set_new(o, "deferred", json_integer(s->by_status[DN_STATUS_DEFERRED]));
  json_object_set_new(o, "deferred_contacts", json_integer(s->deferred_contacts));
  json_object_set_new(o, "skipped", json_integer(s->by_status[DN_STATUS_SKIPPED]));
  json_object_set_new(o, "by_kind", json_kinds(s));
  json_object_set_new(o, "by_tone", json_counts(s->tones, s->ntones));
  json_object_set_new(o, "by_segment", json_counts(s->segments, s->nsegments));
  json_object_set_new(o, "by_week", json_weeks(s));
  json_object_set_new(o, "workload", json_workload(s));
  json_object_set_new(o, "final_steps", json_finals(s));
  json_object_set_new(o, "errors", json_integer(s->errors));
  int rc = json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
  json_decref(o);
  return rc == 0 && putchar('\n') != EOF ? DN_OK : DN_ERR_INTERNAL;
}

/* ---- the HTML report ---------------------------------------------------------- */

static void report_weeks(dn_html *h, const dn_sim_summary *s) {
  int32_t nw = s->nweeks;
  char (*dates)[11] = calloc((size_t)(nw ? nw : 1), sizeof *dates);
  const char **labels = calloc((size_t)(nw ? nw : 1), sizeof *labels);
  double *vals = calloc((size_t)(nw ? nw : 1) * DN_ACT_COUNT, sizeof *vals);
  dn_chart_series series[DN_ACT_COUNT];
  if (!dates || !labels || !vals) goto out;
  for (int32_t w = 0; w < nw; w++) {
    dn_date_format(s->weeks[w].monday, dates[w]);
    labels[w] = dates[w];
  }
  int ns = 0;
  for (int k = 0; k < DN_ACT_COUNT; k++) {
    if (!week_kind_used(s, k)) continue;
    double *v = vals + (size_t)ns * (size_t)(nw ? nw : 1);
    for (int32_t w = 0; w < nw; w++) v[w] = (double)s->weeks[w].by_kind[k];
    series[ns++] = (dn_chart_series){dn_action_kind_name((dn_action_kind)k), v};
  }
  dn_html_bar_chart(h, "Scheduled actions per week, by kind", nw, labels, ns, series, "actions");
out:
  free(dates);
  free(labels);
  free(vals);
}

static void report_workload(dn_html *h, const dn_sim_summary *s) {
  int32_t n = s->ncollectors;
  const char **labels = calloc((size_t)(n ? n : 1), sizeof *labels);
  double *v = calloc((size_t)(n ? n : 1), sizeof *v);
  if (labels && v) {
    for (int32_t i = 0; i < n; i++) {
      labels[i] = s->collectors[i].assignee;
      v[i] = (double)s->collectors[i].calls;
    }
    dn_chart_series series = {"calls", v};
    dn_html_bar_chart(h, "Scheduled calls per assignee", n, labels, 1, &series, "calls");
  }
  free(labels);
  free(v);
}

/* A table of names and counts; cells are formatted into one buffer. */
static void report_count_table(dn_html *h, const char *what, const dn_sim_count *c, int32_t n) {
  const char *header[2] = {what, "scheduled"};
  const char **cells = calloc((size_t)(n ? n : 1) * 2, sizeof *cells);
  char (*nums)[24] = calloc((size_t)(n ? n : 1), sizeof *nums);
  static const int right[2] = {0, 1};
  if (cells && nums) {
    for (int32_t i = 0; i < n; i++) {
      snprintf(nums[i], sizeof nums[i], "%lld", (long long)c[i].n);
      cells[2 * i] = c[i].name;
      cells[2 * i + 1] = nums[i];
    }
    dn_html_table(h, 2, header, n, cells, right);
  }
  free(cells);
  free(nums);
}

static void report_kinds(dn_html *h, const dn_sim_summary *s) {
  const char *header[4] = {"kind", "scheduled", "deferred", "skipped"};
  static const int right[4] = {0, 1, 1, 1};
  const char *cells[(DN_ACT_COUNT + 1) * 4];
  char nums[DN_ACT_COUNT + 1][3][24];
  int rows = 0;
  for (int k = 0; k <= DN_ACT_COUNT; k++) {
    const int64_t *c = k < DN_ACT_COUNT ? s->by_kind[k] : s->by_status;
    if (k < DN_ACT_COUNT && !kind_total(s, k)) continue;
    cells[rows * 4] = k < DN_ACT_COUNT ? dn_action_kind_name((dn_action_kind)k) : "total";
    static const int order[3] = {DN_STATUS_SCHEDULED, DN_STATUS_DEFERRED, DN_STATUS_SKIPPED};
    for (int j = 0; j < 3; j++) {
      snprintf(nums[rows][j], sizeof nums[rows][j], "%lld", (long long)c[order[j]]);
      cells[rows * 4 + 1 + j] = nums[rows][j];
    }
    rows++;
  }
  dn_html_table(h, 4, header, rows, cells, right);
}

static void report_workload_table(dn_html *h, const dn_sim_summary *s) {
  const char *header[4] = {"assignee", "calls", "average per day with calls", "busiest day"};
  static const int right[4] = {0, 1, 1, 0};
  int32_t n = s->ncollectors, days = call_days(s);
  const char **cells = calloc((size_t)(n ? n : 1) * 4, sizeof *cells);
  char (*text)[3][40] = calloc((size_t)(n ? n : 1), sizeof *text);
  if (cells && text) {
    for (int32_t i = 0; i < n; i++) {
      const dn_sim_collector *c = &s->collectors[i];
      int32_t idx[1];
      char d[11] = "-";
      if (busiest(c, idx, 1) == 1) dn_date_format(c->first_day + idx[0], d);
      snprintf(text[i][0], sizeof text[i][0], "%lld", (long long)c->calls);
      snprintf(text[i][1], sizeof text[i][1], "%.2f", days ? (double)c->calls / days : 0.0);
      snprintf(text[i][2], sizeof text[i][2], "%s (%lld)", d, busiest(c, idx, 1) ? (long long)c->per_day[idx[0]] : 0LL);
      cells[4 * i] = c->assignee;
      for (int j = 0; j < 3; j++) cells[4 * i + 1 + j] = text[i][j];
    }
    dn_html_table(h, 4, header, n, cells, right);
  }
  free(cells);
  free(text);
}

static void report_finals(dn_html *h, const dn_sim_summary *s) {
  const char *header[5] = {"day", "customer", "invoice", "step", "escalated to"};
  int32_t n = s->nfinals < SHOWN_FINALS * 5 ? s->nfinals : SHOWN_FINALS * 5;
  const char **cells = calloc((size_t)(n ? n : 1) * 5, sizeof *cells);
  char (*text)[2][80] = calloc((size_t)(n ? n : 1), sizeof *text);
  if (cells && text) {
    for (int32_t i = 0; i < n; i++) {
      const dn_sim_final *f = &s->finals[i];
      dn_date_format(f->as_of, text[i][0]);
      snprintf(text[i][1], sizeof text[i][1], "%s %s", f->rule ? f->rule : "", f->step ? f->step : "");
      const char *row[5] = {text[i][0], f->customer, f->invoice ? f->invoice : "-", text[i][1], f->target ? f->target : ""};
      memcpy(&cells[5 * i], row, sizeof row);
    }
    dn_html_table(h, 5, header, n, cells, NULL);
    if (n < s->nfinals) {
      char more[96];
      snprintf(more, sizeof more, "... and %d more (--format json lists them all).", s->nfinals - n);
      dn_html_paragraph(h, more);
    }
  }
  free(cells);
  free(text);
}

static dn_status write_report(const char *path, const dn_program *p, const sim_args *a,
                              const dn_sim_summary *s) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "%s: error: cannot write the report: ", path);
    perror(NULL);
    return DN_ERR_INPUT;
  }
  char title[256], line[512];
  snprintf(title, sizeof title, "Simulation of %s v%lld, %s to %s", p->name, (long long)p->version, a->from, a->to);
  dn_html *h = dn_html_open(f, title);
  if (!h) {
    fclose(f);
    return DN_ERR_INTERNAL;
  }
  snprintf(line, sizeof line, "Ledger %s, %d days, %lld customers: %lld actions (%lld scheduled, %lld deferred, %lld skipped); %d invoices reached the last escalation step or were escalated.",
           a->ledger, s->days, (long long)s->customers, (long long)s->actions, (long long)s->by_status[DN_STATUS_SCHEDULED],
           (long long)s->by_status[DN_STATUS_DEFERRED], (long long)s->by_status[DN_STATUS_SKIPPED], s->nfinals);
  dn_html_paragraph(h, line);
  if (s->by_status[DN_STATUS_DEFERRED]) {
    snprintf(line, sizeof line, "The %lld deferred records are %lld contacts that a contact cap held back; each is proposed again every day until it goes out.",
             (long long)s->by_status[DN_STATUS_DEFERRED], (long long)s->deferred_contacts);
    dn_html_paragraph(h, line);
  }
  dn_html_heading(h, "Actions per week");
  report_weeks(h, s);
  dn_html_heading(h, "Call workload");
  report_workload(h, s);
  report_workload_table(h, s);
  dn_html_heading(h, "Totals by kind");
  report_kinds(h, s);
  dn_html_heading(h, "Scheduled by tone");
  report_count_table(h, "tone", s->tones, s->ntones);
  dn_html_heading(h, "Scheduled by segment");
  report_count_table(h, "segment", s->segments, s->nsegments);
  dn_html_heading(h, "Reached the last escalation step or escalated");
  report_finals(h, s);
  dn_status st = dn_html_close(h);
  if (fclose(f) != 0) st = DN_ERR_INTERNAL;
  if (st != DN_OK) fprintf(stderr, "%s: error: writing the report failed\n", path);
  return st;
}

/* ---- the command ---------------------------------------------------------- */

static dn_status jsonl_action(void *ctx, const dn_action_rec *a) {
  (void)ctx;
  return dn_action_write_json(stdout, a, true);
}

static int simulate_loaded(void *ctx, const dn_program *p, const dn_cli_bound *b) {
  const sim_args *a = ctx;
  dn_diags diags;
  dn_diags_init(&diags, a->ledger, NULL, 0);
  dn_ledger l;
  dn_status st = dn_ledger_open(a->ledger, DN_LEDGER_READ, &l, &diags);
  if (st != DN_OK) {
    dn_cli_print_diags(&diags);
    dn_diags_free(&diags);
    return st;
  }
  bool jsonl = !strcmp(a->format, "jsonl");
  dn_sim_options o = {.from = a->d1, .to = a->d2, .extern_fns = b->extern_fns, .native = b->native,
                      .on_action = jsonl ? jsonl_action : NULL, .full = a->full};
  /* Undocumented, for tests and benches: force how awake customers are
   * read (the output does not depend on it). */
  const char *read = getenv("DUNLIN_SIM_READ");
  if (read && !strcmp(read, "keyed")) o.read = DN_SIM_READ_KEYED;
  if (read && !strcmp(read, "scan")) o.read = DN_SIM_READ_SCAN;
  dn_sim_summary s;
  st = dn_simulate(p, &l, &o, &s, &diags);
  dn_ledger_close(&l);
  if (st == DN_OK && !strcmp(a->format, "text")) print_text(p, a, &s);
  if (st == DN_OK && !strcmp(a->format, "json")) st = print_json(p, &s);
  if (st == DN_OK && a->report) st = write_report(a->report, p, a, &s);
  if (fflush(stdout) != 0 && st == DN_OK) st = DN_ERR_INTERNAL;
  dn_cli_print_diags(&diags);
  st = dn_cli_data_errors(st, s.errors, true);
  dn_sim_summary_free(&s);
  dn_diags_free(&diags);
  return st;
}

int dn_cmd_simulate(int argc, char **argv) {
  sim_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc != 0) return rc < 0 ? 0 : rc;
  return dn_cli_with_policy(a.policy, a.allow_ffi, a.native, simulate_loaded, &a);
}
