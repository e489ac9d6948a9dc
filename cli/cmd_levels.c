/* cmd_levels.c - `dunlin levels`: where every open invoice stands on its
 * escalation ladders as of a date (its "dunning level"), with the
 * customer's segment and the condition rules that would fire. The rows
 * come from runtime/levels.c (the engine's decision-only mode: the same
 * segment, guard and step code as `run`, without action records); this
 * file prints them as a table, JSON lines or CSV. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/externs.h"
#include "runtime/engine.h"
#include "runtime/levels.h"
#include "runtime/outbox.h"

static const char levels_help[] =
    "usage: dunlin levels POLICY --ledger LEDGER --as-of DATE [--customer ID]\n"
    "                     [--format table|jsonl|csv] [--allow-ffi LIB[:LIB...]]\n"
    "                     [--native LIB.so]\n\n"
    "Shows, for every open invoice, the step of each escalation that is due for it as of\n"
    "DATE (its dunning level), the step's tone on the customer's ladder, whether the\n"
    "ladder is paused by its `unless` guard, the customer's segment, and the condition\n"
    "rules that would fire. Decided exactly as `dunlin run` decides them, without\n"
    "history of what was already sent: a step that went out last week is still the\n"
    "invoice's level. Nothing is written. The table ends with the count per step.\n"
    "--format jsonl gives one object per invoice and escalation; csv the same columns\n"
    "with a header row. Data errors are reported as for `run` (exit status 1).\n"
    "--native LIB.so: the policy's expressions as machine code (`dunlin compile --native`).\n";

enum fmt { FMT_TABLE, FMT_JSONL, FMT_CSV };

typedef struct levels_out {
  const dn_program *p;
  enum fmt format;
  char as_of[11];
  int64_t *counts; /* per program step, then paused, none, error */
  int64_t rows;
  bool header;     /* printed: with the first row, so that an unknown
                      --customer prints nothing at all */
} levels_out;

static dn_status write_jsonl(const dn_level_row *r) {
  json_t *j = dn_level_row_json(r);
  if (!j) return DN_ERR_INTERNAL;
  dn_status st = dn_json_write_line(stdout, j);
  json_decref(j);
  return st;
}

/* RFC 4180, quoting only the fields that need it (libcsv's writer quotes
 * every field, which spreadsheets accept but diffs and greps do not). */
static void csv_field(const char *s, bool last) {
  if (s && strpbrk(s, ",\"\r\n")) {
    fputc('"', stdout);
    for (; *s; s++) {
      if (*s == '"') fputc('"', stdout);
      fputc(*s, stdout);
    }
    fputc('"', stdout);
  } else if (s) {
    fputs(s, stdout);
  }
  fputc(last ? '\n' : ',', stdout);
}

static void write_csv(const levels_out *o, const dn_level_row *r, const char *balance) {
  char dpd[16];
  snprintf(dpd, sizeof dpd, "%d", r->days_past_due);
  const char *f[] = {r->customer, r->invoice, r->segment, r->escalation, r->status, r->step,
                     r->tone, dpd, balance, dn_currency_code(r->currency), r->rules, o->as_of};
  for (size_t i = 0; i < sizeof f / sizeof *f; i++) csv_field(f[i], i + 1 == sizeof f / sizeof *f);
}

static void write_table(const dn_level_row *r, const char *balance) {
  char where[64];
  if (r->step) snprintf(where, sizeof where, "%s %s", r->escalation, r->step);
  else snprintf(where, sizeof where, "%s%s%s", r->escalation ? r->escalation : "",
                r->escalation ? " " : "", r->status);
  const char *seg = r->segment ? r->segment : "-", *tone = r->tone ? r->tone : "-";
  printf("%-*s %-*s %5d %14s %-3s  %-*s %-*s %-*s %s\n", dn_cli_col(r->customer, 12), r->customer,
         dn_cli_col(r->invoice, 14), r->invoice, r->days_past_due, balance,
         dn_currency_code(r->currency), dn_cli_col(seg, 12), seg, dn_cli_col(where, 16), where,
         dn_cli_col(tone, 9), tone, r->rules);
}

static int64_t *count_of(levels_out *o, const dn_level_row *r) {
  uint32_t n = o->p->nsteps;
  if (!strcmp(r->status, "error")) return &o->counts[n + 2];
  if (!strcmp(r->status, "paused")) return &o->counts[n];
  return r->step_index == DN_NONE ? &o->counts[n + 1] : &o->counts[r->step_index];
}

static void print_header(levels_out *o);

static dn_status on_row(void *ctx, const dn_level_row *r) {
  levels_out *o = ctx;
  print_header(o);
  o->rows++;
  (*count_of(o, r))++;
  if (o->format == FMT_JSONL) return write_jsonl(r);
  char balance[40];
  dn_money_format(r->balance, r->currency, balance);
  if (o->format == FMT_CSV) write_csv(o, r, balance);
  else write_table(r, balance);
  return ferror(stdout) ? DN_ERR_INTERNAL : DN_OK;
}

static void print_counts(const levels_out *o) {
  const dn_program *p = o->p;
  printf("\n%lld open invoice rows as of %s\n", (long long)o->rows, o->as_of);
  for (uint32_t e = 0; e < p->nescalations; e++) {
    const dn_escalation_def *esc = &p->escalations[e];
    for (int32_t k = esc->first_step; k < esc->first_step + esc->nsteps; k++) {
      char label[16];
      printf("  %s %-8s %lld\n", p->strings[esc->name], dn_step_label(&p->steps[k], label),
             (long long)o->counts[k]);
    }
  }
  static const char *const tail[] = {"paused", "none due", "error"};
  for (int i = 0; i < 3; i++)
    if (o->counts[p->nsteps + (uint32_t)i] > 0 || i < 2)
      printf("  %-16s %lld\n", tail[i], (long long)o->counts[p->nsteps + (uint32_t)i]);
}

typedef struct levels_args {
  const char *policy, *ledger, *as_of, *customer, *format, *allow_ffi, *native;
  dn_date date;
  enum fmt fmt;
} levels_args;

static int parse_levels_args(int argc, char **argv, levels_args *a) {
  const char *pos[1];
  int npos;
  bool help = false;
  memset(a, 0, sizeof *a);
  a->format = "table";
  dn_opt opts[] = {{"ledger", &a->ledger, NULL},     {"as-of", &a->as_of, NULL},
                   {"customer", &a->customer, NULL}, {"format", &a->format, NULL},
                   {"allow-ffi", &a->allow_ffi, NULL}, {"native", &a->native, NULL}};
  if (dn_args_parse("levels", argc, argv, opts, 6, pos, 1, &npos, &help) != DN_OK) return 2;
  if (help) {
    dn_cli_help(levels_help);
    return -1;
  }
  if (npos != 1 || !a->ledger) {
    fprintf(stderr, "dunlin levels: expected POLICY --ledger LEDGER --as-of DATE (see dunlin levels --help)\n");
    return 2;
  }
  a->policy = pos[0];
  if (dn_cli_date("levels", "as-of", a->as_of, &a->date) != DN_OK) return 2;
  if (!strcmp(a->format, "table")) a->fmt = FMT_TABLE;
  else if (!strcmp(a->format, "jsonl") || !strcmp(a->format, "json")) a->fmt = FMT_JSONL;
  else if (!strcmp(a->format, "csv")) a->fmt = FMT_CSV;
  else {
    fprintf(stderr, "dunlin levels: --format must be table, jsonl or csv\n");
    return 2;
  }
  return 0;
}

static void print_header(levels_out *o) {
  if (o->header) return;
  o->header = true;
  if (o->format == FMT_CSV)
    printf("customer,invoice,segment,escalation,status,step,tone,days_past_due,balance,currency,"
           "rules,as_of\n");
  else if (o->format == FMT_TABLE)
    printf("%-12s %-14s %5s %14s %-3s  %-12s %-16s %-9s %s\n", "customer", "invoice", "dpd",
           "balance", "cur", "segment", "level", "tone", "rules");
}

static dn_status levels_on_ledger(const levels_args *a, const dn_program *p, const dn_cli_bound *b,
                                  dn_diags *diags, dn_run_stats *stats) {
  dn_ledger l;
  dn_status st = dn_ledger_open(a->ledger, DN_LEDGER_READ, &l, diags);
  if (st != DN_OK) return st;
  levels_out o = {.p = p, .format = a->fmt};
  dn_date_format(a->date, o.as_of);
  o.counts = calloc((size_t)p->nsteps + 3, sizeof *o.counts);
  if (!o.counts) st = DN_ERR_INTERNAL;
  if (st == DN_OK) {
    dn_run_options opt = {.as_of = a->date, .only_customer = a->customer,
                           .extern_fns = b->extern_fns, .native = b->native};
    st = dn_levels_run(p, &l, &opt, on_row, &o, stats, diags);
    if (st == DN_OK) print_header(&o);
    if (st == DN_OK && o.format == FMT_TABLE) print_counts(&o);
  }
  free(o.counts);
  dn_ledger_close(&l);
  return st;
}

static int levels_loaded(void *ctx, const dn_program *p, const dn_cli_bound *b) {
  const levels_args *a = ctx;
  dn_diags diags;
  dn_diags_init(&diags, a->ledger, NULL, 0);
  dn_run_stats stats = {0};
  dn_status st = levels_on_ledger(a, p, b, &diags, &stats);
  fflush(stdout);
  dn_cli_print_diags(&diags);
  st = dn_cli_data_errors(st, stats.errors, false);
  dn_diags_free(&diags);
  return st;
}

int dn_cmd_levels(int argc, char **argv) {
  levels_args a;
  int rc = parse_levels_args(argc, argv, &a);
  if (rc != 0) return rc < 0 ? 0 : rc;
  return dn_cli_with_policy(a.policy, a.allow_ffi, a.native, levels_loaded, &a);
}
