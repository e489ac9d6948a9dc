/* cmd_run.c - `dunlin run` and `dunlin explain`: evaluate a policy
 * against a ledger as of a date. */
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
#include "runtime/render.h"
#include "runtime/template.h"

static const char run_help[] =
    "usage: dunlin run POLICY --ledger LEDGER --as-of DATE [--commit] [--format jsonl|table]\n"
    "                  [--allow-ffi LIB[:LIB...]] [--templates DIR] [--render]\n"
    "                  [--pay-link URL] [--company NAME] [--native LIB.so]\n\n"
    "Evaluates the policy (source .dun, or bytecode .dbc, verified first) against the\n"
    "ledger as of DATE and prints the day's actions: one JSON object per line ordered by\n"
    "customer, scheduled_at and key (default), or a table for people.\n"
    "The table leaves out the skipped (caught-up) records unless --all is given.\n"
    "--commit writes the actions and a runs row to the ledger in one transaction;\n"
    "committing the same date again adds nothing.\n"
    "--allow-ffi LIB[:LIB...] lets a policy's `extern fn`s load from those shared\n"
    "libraries; a policy that needs any other library fails to load.\n"
    "--native LIB.so evaluates the policy's expressions with the machine code\n"
    "`dunlin compile --native` made for this very policy (same output, faster).\n"
    "Data errors (a missing fx rate, a bad time zone) skip only the invoice or customer\n"
    "concerned, are printed on stderr, and make the exit status 1.\n"
    "--templates DIR checks the message templates the policy can emit before running.\n"
    "--render adds \"language\", \"subject\" and \"body\" to each contact's JSON line,\n"
    "written from the templates in the customer's language (DIR, else a `templates`\n"
    "directory next to the policy or in its parent). --pay-link URL fills {{pay_link}}\n"
    "(\"{customer}\" in it becomes the customer id); --company NAME fills {{company.name}}.\n";

static const char explain_help[] =
    "usage: dunlin explain POLICY --ledger LEDGER --as-of DATE (--customer ID | --invoice ID)\n"
    "                      [--templates DIR]\n\n"
    "Shows why each action was or was not emitted for one customer or invoice: the\n"
    "segment conditions tried, each escalation step against days past due, guards,\n"
    "events, rules and their once-per history, and contact caps; then the actions.\n";

typedef struct run_sink {
  bool table;
  FILE *out;  /* stdout, or a buffer that explain prints after its trail */
  dn_table_writer tw;
  dn_outbox *outbox;
  dn_diags *diags;
  const char *only_invoice;
  const dn_templates *templates; /* set with --render (JSON lines only) */
  dn_render_options render;
} run_sink;

static bool lists_invoice(const dn_action_rec *a, const char *id) {
  for (int i = 0; i < a->ninvoices; i++)
    if (strcmp(a->invoices[i], id) == 0) return true;
  return false;
}

static dn_status sink_action(void *ctx, const dn_action_rec *a) {
  run_sink *s = ctx;
  if (s->only_invoice && !lists_invoice(a, s->only_invoice)) return DN_OK;
  if (s->outbox) {
    dn_status st = dn_outbox_add(s->outbox, a, s->diags);
    if (st != DN_OK) return st;
  }
  if (s->table) return dn_table_row(&s->tw, a);
  if (!s->templates) return dn_action_write_json(s->out, a, false);
  json_t *o = dn_action_to_json(a, false);
  if (!o) return DN_ERR_INTERNAL;
  dn_status st = dn_render_action_json(o, s->templates, NULL, a, &s->render, s->diags);
  if (st == DN_OK) st = dn_json_write_line(s->out, o);
  json_decref(o);
  return st;
}

typedef struct run_args {
  const char *policy, *ledger, *as_of, *format, *customer, *invoice, *allow_ffi, *native;
  const char *templates, *pay_link, *company;
  bool commit, all, render;
  dn_date date;
} run_args;

static int parse_run_args(const char *cmd, int argc, char **argv, run_args *r, const char *help_text,
                          bool explain) {
  const char *pos[1];
  int npos;
  bool help = false;
  memset(r, 0, sizeof *r);
  r->format = "jsonl";
  dn_opt run_opts[] = {{"ledger", &r->ledger, NULL},     {"as-of", &r->as_of, NULL},
                       {"format", &r->format, NULL},     {"commit", NULL, &r->commit},
                       {"allow-ffi", &r->allow_ffi, NULL}, {"all", NULL, &r->all},
                       {"templates", &r->templates, NULL}, {"render", NULL, &r->render},
                       {"pay-link", &r->pay_link, NULL},   {"company", &r->company, NULL},
                       {"native", &r->native, NULL}};
  dn_opt explain_opts[] = {{"ledger", &r->ledger, NULL},     {"as-of", &r->as_of, NULL},
                           {"customer", &r->customer, NULL}, {"invoice", &r->invoice, NULL},
                           {"allow-ffi", &r->allow_ffi, NULL}, {"templates", &r->templates, NULL},
                           {"native", &r->native, NULL}};
  const dn_opt *opts = explain ? explain_opts : run_opts;
  int nopts = explain ? 7 : 11;
  if (dn_args_parse(cmd, argc, argv, opts, nopts, pos, 1, &npos, &help) != DN_OK) return 2;
  if (help) {
    dn_cli_help(help_text);
    return -1;
  }
  if (npos != 1 || !r->ledger) {
    fprintf(stderr, "dunlin %s: expected POLICY --ledger LEDGER --as-of DATE (see dunlin %s --help)\n", cmd, cmd);
    return 2;
  }
  r->policy = pos[0];
  if (dn_cli_date(cmd, "as-of", r->as_of, &r->date) != DN_OK) return 2;
  if (strcmp(r->format, "jsonl") != 0 && strcmp(r->format, "json") != 0 && strcmp(r->format, "table") != 0) {
    fprintf(stderr, "dunlin %s: --format must be jsonl or table\n", cmd);
    return 2;
  }
  if (explain && !r->customer == !r->invoice) {
    fprintf(stderr, "dunlin explain: give exactly one of --customer ID or --invoice ID\n");
    return 2;
  }
  return 0;
}

static void print_explain(void *ctx, const char *customer, const char *invoice, const char *line) {
  (void)ctx;
  if (invoice) printf("%s %s: %s\n", customer, invoice, line);
  else printf("%s: %s\n", customer, line);
}

/* explain --customer/--invoice of an id the ledger lacks would print an
 * empty trail and exit 0, as if the customer simply had nothing due. A
 * ledger that cannot be read is left for the run to report. */
static bool explain_target_exists(const run_args *r, dn_ledger *l, dn_diags *d) {
  const char *id = r->customer ? r->customer : r->invoice;
  bool found = true;
  if (!id) return true;
  if ((r->customer ? dn_ledger_has_customer(l, id, &found, d) : dn_ledger_has_invoice(l, id, &found, d)) != DN_OK)
    return true;
  if (found) return true;
  fprintf(stderr, "%s: error: no %s \"%s\" in the ledger\n", l->path,
          r->customer ? "customer" : "invoice", id);
  return false;
}

/* Runs the engine with the sink; commit wraps it in the outbox's one
 * transaction, rolled back if anything but a data error goes wrong. */
static int evaluate_loaded(const run_args *r, bool explain, const dn_program *p, const dn_cli_bound *b,
                           const dn_templates *templates) {
  dn_status st = DN_OK;
  dn_diags diags;
  dn_diags_init(&diags, r->ledger, NULL, 0);
  dn_ledger l;
  st = dn_ledger_open(r->ledger, r->commit ? DN_LEDGER_WRITE : DN_LEDGER_READ, &l, &diags);
  if (st != DN_OK) {
    dn_cli_print_diags(&diags);
    dn_diags_free(&diags);
    return st;
  }
  if (explain && !explain_target_exists(r, &l, &diags)) {
    dn_diags_free(&diags);
    dn_ledger_close(&l);
    return DN_ERR_INPUT;
  }
  dn_outbox outbox;
  run_sink sink = {.table = strcmp(r->format, "table") == 0, .out = stdout, .diags = &diags,
                   .only_invoice = r->invoice,
                   .templates = r->render ? templates : NULL,
                   .render = {.pay_link = r->pay_link, .company = r->company}};
  /* explain prints its trail as the engine decides, then the actions */
  char *actions_buf = NULL;
  size_t actions_len = 0;
  if (explain) sink.out = open_memstream(&actions_buf, &actions_len);
  if (!sink.out) st = DN_ERR_INTERNAL;
  if (r->commit) {
    st = dn_outbox_begin(&outbox, &l, p, r->date, &diags);
    sink.outbox = &outbox;
  }
  dn_run_stats stats = {0};
  if (st == DN_OK) {
    dn_run_options o = {.as_of = r->date, .only_customer = r->customer, .only_invoice = r->invoice,
                        .extern_fns = b->extern_fns, .native = b->native};
    if (explain) o.explain = print_explain;
    /* explain lists everything: the skipped records are part of why */
    if (sink.table) dn_table_begin(&sink.tw, sink.out, r->all || explain);
    st = dn_engine_run(p, &l, &o, sink_action, &sink, &stats, &diags);
    if (sink.table) dn_table_end(&sink.tw);
    if (explain) {
      fclose(sink.out);
      printf("\nactions:\n%s", actions_buf ? actions_buf : "");
      free(actions_buf);
    }
    if (r->commit) {
      dn_status end = dn_outbox_end(&outbox, st == DN_OK, (long)stats.errors, &diags);
      if (st == DN_OK) st = end;
      if (st == DN_OK && outbox.already)
        fprintf(stderr, "already committed: run %lld of this policy for this date; nothing added\n", outbox.run_id);
      else if (st == DN_OK)
        fprintf(stderr, "committed run %lld: %ld actions added, %ld already present\n", outbox.run_id,
                outbox.inserted, outbox.ignored);
    }
  }
  fflush(stdout);
  dn_cli_print_diags(&diags);
  st = dn_cli_data_errors(st, stats.errors, false);
  dn_diags_free(&diags);
  dn_ledger_close(&l);
  return st;
}

/* --templates DIR, or with --render the directory found next to the
 * policy: loaded and checked against the policy before anything runs, so
 * a missing template or an unknown variable never reaches a customer.
 * *out stays NULL when templates are neither asked for nor needed. */
static dn_status load_templates(const run_args *r, const dn_program *p, dn_templates **out) {
  *out = NULL;
  char found[4096];
  const char *dir = r->templates;
  if (!dir && r->render && dn_templates_default_dir(r->policy, found, sizeof found)) dir = found;
  if (!dir) {
    if (!r->render) return DN_OK;
    fprintf(stderr, "dunlin run: --render needs templates: give --templates DIR or put a `templates`\n"
                    "directory next to the policy (see docs/templates.md)\n");
    return DN_ERR_USAGE;
  }
  return dn_templates_load_checked(dir, p, stderr, out);
}

typedef struct evaluation { const run_args *r; bool explain; } evaluation;

/* With the policy loaded and its extern fns bound: the templates, then
 * the run itself (above). */
static int evaluate_with_templates(void *ctx, const dn_program *p, const dn_cli_bound *b) {
  const evaluation *e = ctx;
  dn_templates *templates;
  dn_status st = load_templates(e->r, p, &templates);
  if (st != DN_OK) return st;
  int rc = evaluate_loaded(e->r, e->explain, p, b, templates);
  dn_templates_free(templates);
  return rc;
}

static int evaluate(const run_args *r, bool explain) {
  evaluation e = {r, explain};
  return dn_cli_with_policy(r->policy, r->allow_ffi, r->native, evaluate_with_templates, &e);
}

int dn_cmd_run(int argc, char **argv) {
  run_args r;
  int rc = parse_run_args("run", argc, argv, &r, run_help, false);
  if (rc != 0) return rc < 0 ? 0 : rc;
  return evaluate(&r, false);
}

int dn_cmd_explain(int argc, char **argv) {
  run_args r;
  int rc = parse_run_args("explain", argc, argv, &r, explain_help, true);
  if (rc != 0) return rc < 0 ? 0 : rc;
  r.format = "table";
  return evaluate(&r, true);
}
