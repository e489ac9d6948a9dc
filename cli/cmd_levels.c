/* cmd_levels.c - `dunlin levels`: where every open invoice stands on its
 * escalation ladders as of a date (its "dunning level"), with the
 * customer's segment and the condition rules that would fire. It runs the
 * engine's decision-only mode (dn_run_options.on_decision): the same
 * segment, guard and step code as `run`, without making action records,
 * so it answers for a whole ledger at the speed of reading it. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/externs.h"
#include "runtime/engine.h"
#include "runtime/outbox.h"

static const char levels_help[] =
    "usage: dunlin levels POLICY --ledger LEDGER --as-of DATE [--customer ID]\n"
    "                     [--format table|jsonl|csv] [--allow-ffi LIB[:LIB...]]\n\n"
    "Shows, for every open invoice, the step of each escalation that is due for it as of\n"
    "DATE (its dunning level), the step's tone on the customer's ladder, whether the\n"
    "ladder is paused by its `unless` guard, the customer's segment, and the condition\n"
    "rules that would fire. Decided exactly as `dunlin run` decides them, without\n"
    "history of what was already sent: a step that went out last week is still the\n"
    "invoice's level. Nothing is written. The table ends with the count per step.\n"
    "--format jsonl gives one object per invoice and escalation; csv the same columns\n"
    "with a header row. Data errors are reported as for `run` (exit status 1).\n";

enum fmt { FMT_TABLE, FMT_JSONL, FMT_CSV };

/* One row: an open invoice on one escalation (or on none). */
typedef struct level_row {
  const char *customer, *invoice, *segment, *escalation, *status, *step, *tone;
  int32_t days_past_due;
  char balance[40];
  const char *currency;
  const char *rules; /* comma-separated, "" when none */
} level_row;

typedef struct levels_out {
  const dn_program *p;
  enum fmt format;
  char as_of[11];
  int64_t *counts; /* per program step, then paused, none, error */
  int64_t rows;
  char *rules;     /* the customer's rule list, rebuilt per customer */
  size_t rules_cap;
} levels_out;

static const char *pstr(const dn_program *p, int32_t i) { return i >= 0 ? p->strings[i] : NULL; }

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static dn_status write_jsonl(const levels_out *o, const level_row *r) {
  json_t *rules = json_array();
  for (const char *s = r->rules; *s;) {
    const char *comma = strchr(s, ',');
    size_t n = comma ? (size_t)(comma - s) : strlen(s);
    json_array_append_new(rules, json_stringn(s, n));
    s += n + (comma ? 1 : 0);
  }
  json_t *j = json_pack("{s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:i, s:s, s:s, s:o, s:s}",
                        "customer", r->customer, "invoice", r->invoice, "segment",
                        str_or_null(r->segment), "escalation", str_or_null(r->escalation), "status",
                        r->status, "step", str_or_null(r->step), "tone", str_or_null(r->tone),
                        "days_past_due", (json_int_t)r->days_past_due, "balance", r->balance,
                        "currency", r->currency, "rules", rules, "as_of", o->as_of);
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

static void write_csv(const levels_out *o, const level_row *r) {
  char dpd[16];
  snprintf(dpd, sizeof dpd, "%d", r->days_past_due);
  const char *f[] = {r->customer, r->invoice, r->segment, r->escalation, r->status, r->step,
                     r->tone, dpd, r->balance, r->currency, r->rules, o->as_of};
  for (size_t i = 0; i < sizeof f / sizeof *f; i++) csv_field(f[i], i + 1 == sizeof f / sizeof *f);
}

static void write_table(const level_row *r) {
  char where[64];
  if (r->step) snprintf(where, sizeof where, "%s %s", r->escalation, r->step);
  else snprintf(where, sizeof where, "%s%s%s", r->escalation ? r->escalation : "",
                r->escalation ? " " : "", r->status);
  printf("%-12s %-14s %5d %14s %-3s  %-12s %-16s %-9s %s\n", r->customer, r->invoice,
         r->days_past_due, r->balance, r->currency, r->segment ? r->segment : "-", where,
         r->tone ? r->tone : "-", r->rules);
}

static dn_status emit_row(levels_out *o, const level_row *r) {
  o->rows++;
  if (o->format == FMT_JSONL) return write_jsonl(o, r);
  if (o->format == FMT_CSV) write_csv(o, r);
  else write_table(r);
  return ferror(stdout) ? DN_ERR_INTERNAL : DN_OK;
}

/* The names of the rules that fire for invoice inv or for the customer. */
static const char *rules_for(levels_out *o, const dn_decision *d, int32_t inv) {
  size_t n = 0;
  for (int32_t i = 0; i < d->nrules; i++) {
    if (d->rules[i].invoice != -1 && d->rules[i].invoice != inv) continue;
    const char *name = pstr(o->p, o->p->rules[d->rules[i].rule].name);
    size_t len = strlen(name);
    if (n + len + 2 > o->rules_cap) {
      size_t cap = (n + len + 2) * 2;
      char *grown = realloc(o->rules, cap);
      if (!grown) return "";
      o->rules = grown;
      o->rules_cap = cap;
    }
    if (n) o->rules[n++] = ',';
    memcpy(o->rules + n, name, len);
    n += len;
  }
  if (!o->rules) return "";
  o->rules[n] = '\0';
  return o->rules;
}

static void fill_row(levels_out *o, const dn_customer_facts *c, const dn_decision *d, int32_t inv,
                     level_row *r) {
  const dn_invoice_facts *f = &c->invoices[inv];
  *r = (level_row){.customer = c->id, .invoice = f->id, .status = "none",
                   .segment = d->segment >= 0 ? pstr(o->p, o->p->segments[d->segment].name) : NULL,
                   .days_past_due = f->days_past_due, .currency = dn_currency_code(f->currency),
                   .rules = rules_for(o, d, inv)};
  dn_money_format(f->balance, f->currency, r->balance);
}

/* The step label as `run` writes it ("15d", "3bd", "-3d"). */
static void step_label(const dn_step_def *s, char *buf, size_t len) {
  snprintf(buf, len, "%d%s", s->offset_days, s->business ? "bd" : "d");
}

static int64_t *count_of(levels_out *o, const dn_step_decision *s) {
  uint32_t n = o->p->nsteps;
  if (s->error) return &o->counts[n + 2];
  if (s->paused) return &o->counts[n];
  return s->step == DN_NONE ? &o->counts[n + 1] : &o->counts[s->step];
}

static dn_status on_decision(void *ctx, const dn_customer_facts *c, const dn_decision *d) {
  levels_out *o = ctx;
  if (d->skipped) return DN_OK; /* a diagnostic says why */
  for (int32_t i = 0; i < c->ninvoices; i++) {
    if (!c->invoices[i].open) continue;
    bool any = false;
    for (int32_t k = 0; k < d->nsteps; k++) {
      const dn_step_decision *s = &d->steps[k];
      if (s->invoice != i) continue;
      any = true;
      level_row r;
      char label[24];
      fill_row(o, c, d, i, &r);
      r.escalation = pstr(o->p, o->p->escalations[s->escalation].name);
      r.status = s->error ? "error" : s->paused ? "paused" : s->step == DN_NONE ? "none" : "due";
      if (s->step != DN_NONE) {
        step_label(&o->p->steps[s->step], label, sizeof label);
        r.step = label;
        const dn_ladder *l = &o->p->ladders[o->p->segments[d->segment].ladder];
        if (s->tone >= 0) r.tone = o->p->tone_names[l->first_tone + s->tone];
      }
      (*count_of(o, s))++;
      dn_status st = emit_row(o, &r);
      if (st != DN_OK) return st;
    }
    if (any) continue;
    /* no escalation applies to the customer's segment (or none matched) */
    level_row r;
    fill_row(o, c, d, i, &r);
    o->counts[o->p->nsteps + 1]++;
    dn_status st = emit_row(o, &r);
    if (st != DN_OK) return st;
  }
  return DN_OK;
}

static void print_counts(const levels_out *o) {
  const dn_program *p = o->p;
  printf("\n%lld open invoice rows as of %s\n", (long long)o->rows, o->as_of);
  for (uint32_t e = 0; e < p->nescalations; e++) {
    const dn_escalation_def *esc = &p->escalations[e];
    for (int32_t k = esc->first_step; k < esc->first_step + esc->nsteps; k++) {
      char label[24];
      step_label(&p->steps[k], label, sizeof label);
      printf("  %s %-8s %lld\n", pstr(p, esc->name), label, (long long)o->counts[k]);
    }
  }
  static const char *const tail[] = {"paused", "none due", "error"};
  for (int i = 0; i < 3; i++)
    if (o->counts[p->nsteps + (uint32_t)i] > 0 || i < 2)
      printf("  %-16s %lld\n", tail[i], (long long)o->counts[p->nsteps + (uint32_t)i]);
}

typedef struct levels_args {
  const char *policy, *ledger, *as_of, *customer, *format, *allow_ffi;
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
                   {"allow-ffi", &a->allow_ffi, NULL}};
  if (dn_args_parse("levels", argc, argv, opts, 5, pos, 1, &npos, &help) != DN_OK) return 2;
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

static void print_header(const levels_out *o) {
  if (o->format == FMT_CSV)
    printf("customer,invoice,segment,escalation,status,step,tone,days_past_due,balance,currency,"
           "rules,as_of\n");
  else if (o->format == FMT_TABLE)
    printf("%-12s %-14s %5s %14s %-3s  %-12s %-16s %-9s %s\n", "customer", "invoice", "dpd",
           "balance", "cur", "segment", "level", "tone", "rules");
}

static dn_status levels_on_ledger(const levels_args *a, const dn_program *p, void *const *fns,
                                  dn_diags *diags, dn_run_stats *stats) {
  dn_ledger l;
  dn_status st = dn_ledger_open(a->ledger, DN_LEDGER_READ, &l, diags);
  if (st != DN_OK) return st;
  levels_out o = {.p = p, .format = a->fmt};
  dn_date_format(a->date, o.as_of);
  o.counts = calloc((size_t)p->nsteps + 3, sizeof *o.counts);
  if (!o.counts) st = DN_ERR_INTERNAL;
  if (st == DN_OK) {
    print_header(&o);
    dn_run_options opt = {.as_of = a->date, .only_customer = a->customer, .extern_fns = fns,
                          .on_decision = on_decision, .on_decision_ctx = &o};
    st = dn_engine_run(p, &l, &opt, NULL, NULL, stats, diags);
    if (st == DN_OK && o.format == FMT_TABLE) print_counts(&o);
  }
  free(o.counts);
  free(o.rules);
  dn_ledger_close(&l);
  return st;
}

int dn_cmd_levels(int argc, char **argv) {
  levels_args a;
  int rc = parse_levels_args(argc, argv, &a);
  if (rc != 0) return rc < 0 ? 0 : rc;
  dn_program *p;
  dn_status st = dn_cli_load_policy(a.policy, &p);
  if (st != DN_OK) return st;
  dn_cli_externs ext;
  if ((st = dn_cli_externs_load(a.policy, p, a.allow_ffi, &ext)) != DN_OK) {
    dn_program_free(p);
    return st;
  }
  dn_diags diags;
  dn_diags_init(&diags, a.ledger, NULL, 0);
  dn_run_stats stats = {0};
  st = levels_on_ledger(&a, p, ext.fns, &diags, &stats);
  fflush(stdout);
  dn_cli_print_diags(&diags);
  st = dn_cli_data_errors(st, stats.errors, false);
  dn_diags_free(&diags);
  dn_cli_externs_free(&ext);
  dn_program_free(p);
  return st;
}
