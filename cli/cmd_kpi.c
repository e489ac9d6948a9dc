/* cmd_kpi.c - `dunlin kpi`: the receivables figures of runtime/kpi.c as
 * a table for people, one JSON object (CLI.md "KPI definitions"), and
 * optionally an HTML report (cli/html.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/html.h"
#include "runtime/kpi.h"
#include "stdlib/money.h"

static const char kpi_help[] =
    "usage: dunlin kpi --ledger LEDGER --as-of DATE [--currency CUR] [--period DAYS]\n"
    "                  [--promise-grace DAYS] [--format table|json] [--report FILE.html]\n\n"
    "Prints the receivables figures as of DATE: open AR, DSO, best possible DSO, ADD,\n"
    "aging buckets, CEI per calendar month (the last twelve ending on or before DATE),\n"
    "the promise-to-pay kept rate and the mean dispute resolution time.\n"
    "Amounts are in CUR (default: the ledger's most common invoice currency), converted\n"
    "at the ledger's fx rates as of DATE; a missing rate is an error.\n"
    "--period DAYS sets the sales window (DATE-DAYS, DATE] (default 90).\n"
    "--promise-grace DAYS counts payments up to DAYS after a promised date (default 0).\n"
    "--report FILE.html also writes a self-contained HTML page with charts.\n"
    "Definitions: docs/kpi.md.\n";

typedef struct kpi_args {
  const char *ledger, *as_of, *currency, *period, *grace, *format, *report;
  dn_kpi_options opt;
  bool json;
} kpi_args;

/* A non-negative day count within [min, 36600]; prints the usage error. */
static bool parse_days(const char *opt, const char *text, int32_t min, int32_t *out) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end || v < min || v > 36600) {
    fprintf(stderr, "dunlin kpi: --%s: '%s' is not a number of days (%d to 36600)\n", opt, text,
            (int)min);
    return false;
  }
  *out = (int32_t)v;
  return true;
}

/* 0 ok, -1 help printed, else the exit status. */
static int parse_args(int argc, char **argv, kpi_args *a) {
  bool help = false;
  int npos;
  memset(a, 0, sizeof *a);
  a->format = "table";
  dn_opt opts[] = {{"ledger", &a->ledger, NULL},        {"as-of", &a->as_of, NULL},
                   {"currency", &a->currency, NULL},    {"period", &a->period, NULL},
                   {"promise-grace", &a->grace, NULL}, {"format", &a->format, NULL},
                   {"report", &a->report, NULL}};
  if (dn_args_parse("kpi", argc, argv, opts, 7, NULL, 0, &npos, &help) != DN_OK) return DN_ERR_USAGE;
  if (help) {
    dn_cli_help(kpi_help);
    return -1;
  }
  if (!a->ledger) {
    fprintf(stderr, "dunlin kpi: --ledger LEDGER is required (see dunlin kpi --help)\n");
    return DN_ERR_USAGE;
  }
  dn_date d;
  if (dn_cli_date("kpi", "as-of", a->as_of, &d) != DN_OK) return DN_ERR_USAGE;
  dn_kpi_options_init(&a->opt, d);
  if (a->period && !parse_days("period", a->period, 1, &a->opt.period_days)) return DN_ERR_USAGE;
  if (a->grace && !parse_days("promise-grace", a->grace, 0, &a->opt.promise_grace_days))
    return DN_ERR_USAGE;
  if (a->currency) {
    a->opt.currency = strlen(a->currency) == 3 ? dn_currency_lookup(a->currency, 3) : DN_CUR_NONE;
    if (a->opt.currency == DN_CUR_NONE) {
      fprintf(stderr, "dunlin kpi: --currency: '%s' is not an ISO 4217 currency code\n", a->currency);
      return DN_ERR_USAGE;
    }
  }
  a->json = strcmp(a->format, "json") == 0;
  if (!a->json && strcmp(a->format, "table") != 0) {
    fprintf(stderr, "dunlin kpi: --format must be table or json\n");
    return DN_ERR_USAGE;
  }
  return 0;
}

/* ---- formatting helpers ------------------------------------------------ */

static void money(const dn_kpi *k, int64_t minor, char *buf) { dn_money_format(minor, k->currency, buf); }

static void month_label(const dn_kpi_month *m, char *buf) {
  snprintf(buf, 16, "%04d-%02d", m->year, m->month);
}

static double ratio_value(dn_kpi_ratio r) { return r.defined ? (double)r.centi / 100.0 : NAN; }

/* ---- JSON -------------------------------------------------------------- */

static void json_ratio(const char *key, dn_kpi_ratio r, const char *sep) {
  char buf[32];
  dn_kpi_ratio_format(r, buf);
  printf("\"%s\":%s%s", key, buf, sep);
}

/* Hand-written so amounts stay decimal strings and ratios keep exactly
 * two decimals; every string printed is a code, a date or a fixed label. */
static void print_json(const dn_kpi *k) {
  char buf[32], d[11];
  dn_date_format(k->as_of, d);
  printf("{\"as_of\":\"%s\",\"currency\":\"%s\",\"period_days\":%d,\"open_invoices\":%lld,", d,
         dn_currency_code(k->currency), (int)k->period_days, (long long)k->open_invoices);
  money(k, k->open_ar, buf);
  printf("\"open_ar\":\"%s\",", buf);
  json_ratio("dso", k->dso, ",");
  json_ratio("best_possible_dso", k->best_possible_dso, ",");
  json_ratio("add", k->add, ",");
  printf("\"aging\":{");
  for (int i = 0; i < DN_KPI_AGING_BUCKETS; i++) {
    money(k, k->aging[i], buf);
    printf("%s\"%s\":\"%s\"", i ? "," : "", dn_kpi_aging_label(i), buf);
  }
  printf("},\"cei\":{");
  for (int i = 0; i < k->nmonths; i++) {
    char m[16];
    month_label(&k->months[i], m);
    dn_kpi_ratio_format(k->months[i].cei, buf);
    printf("%s\"%s\":%s", i ? "," : "", m, buf);
  }
  printf("},");
  json_ratio("promise_kept_rate", k->promise_kept_rate, ",");
  json_ratio("dispute_resolution_days", k->dispute_resolution_days, "}\n");
}

/* ---- table ------------------------------------------------------------- */

static void row_text(const char *label, const char *value, const char *note) {
  if (note && *note) printf("  %-28s %16s  %s\n", label, value, note);
  else printf("  %-28s %16s\n", label, value);
}

static void row_ratio(const char *label, dn_kpi_ratio r, const char *note) {
  char buf[32];
  dn_kpi_ratio_format(r, buf);
  row_text(label, r.defined ? buf : "-", note);
}

static void print_month_row(const dn_kpi *k, const dn_kpi_month *m, const char *suffix) {
  char lbl[24], a[32], s[32], e[32], c[32], cei[32], dso[32];
  month_label(m, lbl);
  strcat(lbl, suffix);
  money(k, m->ar_start, a);
  money(k, m->sales, s);
  money(k, m->ar_end, e);
  money(k, m->current_end, c);
  dn_kpi_ratio_format(m->cei, cei);
  dn_kpi_ratio_format(m->dso, dso);
  printf("  %-10s %14s %14s %14s %14s %8s %8s\n", lbl, a, s, e, c, m->cei.defined ? cei : "-",
         m->dso.defined ? dso : "-");
}

static void print_table(const dn_kpi *k) {
  char d[11], buf[32], note[96];
  const char *cur = dn_currency_code(k->currency);
  dn_date_format(k->as_of, d);
  printf("KPIs as of %s, amounts in %s, sales window %d days\n\n", d, cur, (int)k->period_days);
  snprintf(buf, sizeof buf, "%lld", (long long)k->open_invoices);
  row_text("open invoices", buf, NULL);
  money(k, k->open_ar, buf);
  row_text("open AR", buf, cur);
  money(k, k->current_ar, buf);
  row_text("current AR (not yet due)", buf, cur);
  money(k, k->sales, buf);
  row_text("credit sales in the window", buf, cur);
  row_ratio("DSO", k->dso, "days");
  row_ratio("best possible DSO", k->best_possible_dso, "days");
  row_ratio("ADD (days delinquent)", k->add, "days");
  snprintf(note, sizeof note, "%lld kept of %lld due", (long long)k->promises_kept, (long long)k->promises_due);
  row_ratio("promise kept rate", k->promise_kept_rate, note);
  snprintf(note, sizeof note, "days, over %lld resolved", (long long)k->disputes_resolved);
  row_ratio("dispute resolution", k->dispute_resolution_days, note);
  printf("\nAging (days past due)\n");
  for (int i = 0; i < DN_KPI_AGING_BUCKETS; i++) {
    money(k, k->aging[i], buf);
    row_text(dn_kpi_aging_label(i), buf, cur);
  }
  printf("\nBy month (CEI in %%, DSO at month end)\n");
  printf("  %-10s %14s %14s %14s %14s %8s %8s\n", "month", "AR at start", "sales", "AR at end",
         "current at end", "CEI", "DSO");
  for (int i = 0; i < k->nmonths; i++) print_month_row(k, &k->months[i], "");
  if (k->has_mtd) print_month_row(k, &k->mtd, " mtd");
  if (k->nmonths == 0 && !k->has_mtd) printf("  (no invoice issued yet)\n");
}

/* ---- HTML report ------------------------------------------------------- */

static void report_figures(dn_html *h, const dn_kpi *k) {
  enum { N = 10 };
  char v[N][48];
  const char *cur = dn_currency_code(k->currency);
  snprintf(v[0], sizeof v[0], "%lld", (long long)k->open_invoices);
  money(k, k->open_ar, v[1]);
  money(k, k->current_ar, v[2]);
  money(k, k->sales, v[3]);
  const dn_kpi_ratio r[] = {k->dso, k->best_possible_dso, k->add, k->promise_kept_rate,
                            k->dispute_resolution_days};
  for (int i = 0; i < 5; i++) {
    dn_kpi_ratio_format(r[i], v[4 + i]);
    if (!r[i].defined) strcpy(v[4 + i], "n/a");
  }
  snprintf(v[9], sizeof v[9], "%lld kept / %lld due", (long long)k->promises_kept,
           (long long)k->promises_due);
  const char *cells[] = {"open invoices", v[0], "",
                         "open AR", v[1], cur,
                         "current AR", v[2], cur,
                         "credit sales in the window", v[3], cur,
                         "DSO", v[4], "days",
                         "best possible DSO", v[5], "days",
                         "ADD (average days delinquent)", v[6], "days",
                         "promise kept rate", v[7], v[9],
                         "dispute resolution", v[8], "days (mean)"};
  const char *header[] = {"figure", "value", "unit"};
  const int right[] = {0, 1, 0};
  dn_html_table(h, 3, header, 9, cells, right);
}

static void report_aging(dn_html *h, const dn_kpi *k) {
  const char *labels[DN_KPI_AGING_BUCKETS];
  double vals[DN_KPI_AGING_BUCKETS];
  for (int i = 0; i < DN_KPI_AGING_BUCKETS; i++) {
    labels[i] = dn_kpi_aging_label(i);
    vals[i] = (double)k->aging[i] / pow(10, dn_currency_digits(k->currency));
  }
  char name[48];
  snprintf(name, sizeof name, "open balance (%s)", dn_currency_code(k->currency));
  dn_chart_series s = {name, vals};
  dn_html_heading(h, "Aging");
  dn_html_bar_chart(h, "Open balances by days past due", DN_KPI_AGING_BUCKETS, labels, 1, &s,
                    dn_currency_code(k->currency));
}

static void report_months(dn_html *h, const dn_kpi *k) {
  char labels[DN_KPI_MAX_MONTHS][16];
  const char *lp[DN_KPI_MAX_MONTHS];
  double dso[DN_KPI_MAX_MONTHS], bpd[DN_KPI_MAX_MONTHS], cei[DN_KPI_MAX_MONTHS];
  for (int i = 0; i < k->nmonths; i++) {
    month_label(&k->months[i], labels[i]);
    lp[i] = labels[i];
    dso[i] = ratio_value(k->months[i].dso);
    bpd[i] = ratio_value(k->months[i].best_possible_dso);
    cei[i] = ratio_value(k->months[i].cei);
  }
  dn_html_heading(h, "By month");
  if (k->nmonths == 0) {
    dn_html_paragraph(h, "No calendar month ending on or before the date has invoices yet.");
    return;
  }
  dn_chart_series ds[2] = {{"DSO", dso}, {"best possible DSO", bpd}};
  dn_html_line_chart(h, "DSO at each month end", k->nmonths, lp, 2, ds, "days");
  dn_chart_series cs = {"CEI", cei};
  dn_html_bar_chart(h, "Collection effectiveness index per month", k->nmonths, lp, 1, &cs, "%");
  enum { C = 7 };
  const char *header[C] = {"month", "AR at start", "sales", "AR at end", "current at end", "CEI %", "DSO"};
  const int right[C] = {0, 1, 1, 1, 1, 1, 1};
  char cells[DN_KPI_MAX_MONTHS + 1][C][32];
  const char *cp[(DN_KPI_MAX_MONTHS + 1) * C];
  int rows = k->nmonths + (k->has_mtd ? 1 : 0);
  for (int i = 0; i < rows; i++) {
    const dn_kpi_month *m = i < k->nmonths ? &k->months[i] : &k->mtd;
    month_label(m, cells[i][0]);
    if (i == k->nmonths) strcat(cells[i][0], " to date");
    money(k, m->ar_start, cells[i][1]);
    money(k, m->sales, cells[i][2]);
    money(k, m->ar_end, cells[i][3]);
    money(k, m->current_end, cells[i][4]);
    dn_kpi_ratio_format(m->cei, cells[i][5]);
    dn_kpi_ratio_format(m->dso, cells[i][6]);
    if (!m->cei.defined) strcpy(cells[i][5], "n/a");
    if (!m->dso.defined) strcpy(cells[i][6], "n/a");
    for (int c = 0; c < C; c++) cp[i * C + c] = cells[i][c];
  }
  dn_html_table(h, C, header, rows, cp, right);
}

static int write_report(const char *path, const dn_kpi *k) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "%s: error[E0505]: cannot write the report: %s\n", path, strerror(errno));
    return DN_ERR_INPUT;
  }
  char d[11], title[96], para[160];
  dn_date_format(k->as_of, d);
  snprintf(title, sizeof title, "Receivables KPIs as of %s", d);
  dn_html *h = dn_html_open(f, title);
  if (!h) {
    fclose(f);
    return DN_ERR_INTERNAL;
  }
  snprintf(para, sizeof para,
           "Amounts in %s at the ledger's rates of %s; sales window %d days; definitions in docs/kpi.md.",
           dn_currency_code(k->currency), d, (int)k->period_days);
  dn_html_paragraph(h, para);
  dn_html_heading(h, "Figures");
  report_figures(h, k);
  report_aging(h, k);
  report_months(h, k);
  dn_status st = dn_html_close(h);
  if (fclose(f) != 0) st = DN_ERR_INTERNAL;
  if (st != DN_OK) fprintf(stderr, "%s: error[E0505]: writing the report failed\n", path);
  return st;
}

int dn_cmd_kpi(int argc, char **argv) {
  kpi_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc != 0) return rc < 0 ? 0 : rc;
  dn_diags diags;
  dn_diags_init(&diags, a.ledger, NULL, 0);
  dn_ledger l;
  dn_status st = dn_ledger_open(a.ledger, DN_LEDGER_READ, &l, &diags);
  dn_kpi *k = NULL;
  if (st == DN_OK) {
    k = calloc(1, sizeof *k);
    st = k ? dn_kpi_compute(&l, &a.opt, k, &diags) : DN_ERR_INTERNAL;
    dn_ledger_close(&l);
  }
  dn_cli_print_diags(&diags);
  dn_diags_free(&diags);
  if (st == DN_OK) {
    if (a.json) print_json(k);
    else print_table(k);
    if (a.report) st = write_report(a.report, k);
    if (fflush(stdout) != 0 && st == DN_OK) st = DN_ERR_INTERNAL;
  }
  free(k);
  return st;
}
