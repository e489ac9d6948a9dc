/* eval_dunlin.c - Dunlin's engine deciding the benchmark's facts from
 * memory: the policy compiled once, the facts turned into the engine's own
 * dn_customer_facts before the clock starts, then every customer run
 * through one engine session (LANGUAGE.md s.5 in full: segment, guards,
 * catch-up, tone, rules, consolidation, caps, scheduling, action keys).
 * The decisions are read back from the action records; with `decisions`
 * the engine is asked for them alone (dn_engine_session_decide: the same
 * segment, guard, step and rule code, no records); `native` is the
 * decisions with the policy's expressions and ladders compiled to machine code
 * (`dunlin compile --native`, runtime/native.h), built before the clock.
 * Usage: eval_dunlin records|decisions|native POLICY.dun FACTS.csv REPEAT DECISIONS_OUT */
#include <stdlib.h>
#include <string.h>

#include "facts_csv.h"
#include "lang/compile.h"
#include "runtime/engine.h"
#include "runtime/facts_reader.h"
#include "runtime/native.h"

/* An invoice's step: its days (records) or the program's step index
 * (decisions). */
typedef struct found { int step; bool has_step; } found;

/* What the sink learns of one customer's run. */
typedef struct run_state {
  const bench_customer *c;
  const bench_facts *f;
  found *steps;           /* per invoice of the whole file */
  bool over_limit;
} run_state;

/* The engine hands back the facts' own id pointers, so a pointer test
 * finds the invoice; strcmp stays as the fallback. */
static int local_index(const run_state *s, const char *invoice) {
  for (int32_t k = 0; k < s->c->n; k++)
    if (s->f->invoices[s->c->first + k].id == invoice) return s->c->first + k;
  for (int32_t k = 0; k < s->c->n; k++)
    if (strcmp(s->f->invoices[s->c->first + k].id, invoice) == 0) return s->c->first + k;
  return -1;
}

/* The next part of a comma list ("dunning,over_limit", "30d,7d"); a list
 * shorter than the invoices repeats its last part. */
static const char *next_part(const char *p) {
  const char *comma = strchr(p, ',');
  return comma ? comma + 1 : p;
}

static bool part_is(const char *p, const char *word) {
  size_t n = strlen(word);
  return strncmp(p, word, n) == 0 && (p[n] == ',' || p[n] == 0);
}

/* A record lists its invoices with their rules and steps aligned
 * ("dunning,dunning" / "15d,7d"), and consolidates one kind of action of
 * several rules (a credit hold of `dunning` and of `over_limit`). Skipped
 * records are the catch-up trail, not the decision. */
static dn_status sink(void *ctx, const dn_action_rec *a) {
  run_state *s = ctx;
  for (const char *r = a->rule; r; r = strchr(r, ','), r = r ? r + 1 : NULL)
    if (part_is(r, "over_limit")) s->over_limit = true;
  if (a->status == DN_STATUS_SKIPPED || !a->step) return DN_OK;
  const char *rule = a->rule, *step = a->step;
  for (int i = 0; i < a->ninvoices; i++, rule = next_part(rule), step = next_part(step)) {
    int k = local_index(s, a->invoices[i]);
    if (k >= 0 && part_is(rule, "dunning")) s->steps[k] = (found){atoi(step), true};
  }
  return DN_OK;
}

static void fill_invoice(dn_invoice_facts *f, const bench_invoice *i, dn_date as_of, uint16_t usd) {
  memset(f, 0, sizeof *f);
  f->id = f->number = i->id;
  f->currency = usd;
  f->due_date = as_of - i->days_past_due;
  f->issue_date = f->due_date - 30;
  f->last_payment_date = DN_DATE_NONE;
  f->amount = f->balance = i->balance;
  f->amount_p = f->balance_p = i->balance;
  f->paid_p = 0;
  f->days_past_due = i->days_past_due;
  f->open = i->balance > 0;
  f->disputed = i->disputed;
}

static void fill_customer(dn_customer_facts *c, const bench_customer *b, dn_invoice_facts *inv,
                          uint16_t usd) {
  dn_customer_facts_init(c);
  c->id = b->id;
  c->tier = b->tier;
  c->credit_limit_p = b->has_limit ? (dn_money){b->credit_limit, usd} : (dn_money){0, DN_CUR_NONE};
  c->risk_score = b->risk_score;
  c->total_open_p = (dn_money){b->total_open, usd};
  c->total_overdue_p = (dn_money){b->total_overdue, usd};
  c->avg_days_late = b->avg_days_late;
  c->promise_active = b->promise_active;
  c->last_contact_date = DN_DATE_NONE;
  c->invoices = inv + b->first;
  c->ninvoices = b->n;
  for (int32_t k = 0; k < b->n; k++) {
    c->open_invoices += inv[b->first + k].open;
    if (inv[b->first + k].days_past_due > 0) c->overdue_invoices++;
  }
}

static dn_program *compile(const char *path) {
  FILE *in = fopen(path, "rb");
  if (!in) { perror(path); return NULL; }
  static char src[1 << 16];  /* a benchmark tool, not library code */
  size_t len = fread(src, 1, sizeof src - 1, in);
  fclose(in);
  dn_diags d;
  dn_diags_init(&d, path, src, len);
  dn_program *p = NULL;
  if (dn_compile_source(path, src, len, &p, &d) != DN_OK) dn_diags_render_text(&d, stderr, false);
  dn_diags_free(&d);
  return p;
}

/* The index of rule `over_limit`, looked up once as an integrating
 * system would, not by name per decision. */
static int32_t rule_index(const dn_program *p, const char *name) {
  for (uint32_t i = 0; i < p->nrules; i++)
    if (strcmp(p->strings[p->rules[i].name], name) == 0) return (int32_t)i;
  return -1;
}

/* The decisions alone, kept as the program's step index (as eval_hand
 * keeps its own): the offset is read from the program when printing. The
 * decisions are copied to locals, or every store to steps[] (which could
 * alias them) reloads them. */
static dn_status decide_one(dn_engine_session *s, dn_customer_facts *cf, const bench_customer *b,
                            found *steps, bool *over, int32_t over_rule, dn_diags *d) {
  dn_decision dec;
  dn_status st = dn_engine_session_decide(s, cf, &dec, d);
  if (st != DN_OK) return st;
  const dn_step_decision *sd = dec.steps;
  found *mine = steps + b->first;
  /* acme.dun has one escalation: each open invoice has one decision, stored
   * whatever it is, as eval_hand stores its own (no branch on the step). */
  for (int32_t i = 0, n = dec.nsteps; i < n; i++)
    mine[sd[i].invoice] = (found){sd[i].step, sd[i].step != DN_NONE};
  bool o = false;
  for (int32_t i = 0, n = dec.nrules; i < n; i++) o |= dec.rules[i].rule == over_rule;
  *over = o;
  return DN_OK;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: eval_dunlin records|decisions|native POLICY FACTS.csv REPEAT OUT\n");
    return 2;
  }
  bool native = strcmp(argv[1], "native") == 0;
  bool decisions = native || strcmp(argv[1], "decisions") == 0;
  argv++;
  dn_program *p = compile(argv[1]);
  bench_facts f;
  if (!p || bench_facts_load(argv[2], &f) != 0) return 1;
  int repeat = atoi(argv[3]);
  uint16_t usd = dn_currency_lookup("USD", 3);
  dn_date as_of;
  dn_date_parse("2026-03-10", 10, &as_of);
  dn_invoice_facts *inv = malloc((size_t)f.ninvoices * sizeof *inv);
  dn_customer_facts *cf = malloc((size_t)f.ncustomers * sizeof *cf);
  for (int32_t k = 0; k < f.ninvoices; k++) fill_invoice(&inv[k], &f.invoices[k], as_of, usd);
  for (int32_t c = 0; c < f.ncustomers; c++) fill_customer(&cf[c], &f.customers[c], inv, usd);
  found *steps = calloc((size_t)f.ninvoices, sizeof *steps);
  bool *over = calloc((size_t)f.ncustomers, sizeof *over);
  dn_run_options o = {.as_of = as_of};
  dn_diags d;
  dn_diags_init(&d, "bench", NULL, 0);
  dn_native *lib = NULL;
  if (native) {
    char so[4096];
    snprintf(so, sizeof so, "%s.so", argv[4]);
    if (dn_native_build(p, so, &d) != DN_OK || dn_native_load(so, p, &lib, &d) != DN_OK) {
      dn_diags_render_text(&d, stderr, false);
      return 1;
    }
    o.native = lib;
  }
  dn_engine_session *s;
  if (dn_engine_session_open(p, &o, &s, &d) != DN_OK) return 1;
  int32_t over_rule = rule_index(p, "over_limit");
  double t0 = bench_now();
  for (int r = 0; r < repeat; r++)
    for (int32_t c = 0; c < f.ncustomers; c++) {
      if (decisions) {
        if (decide_one(s, &cf[c], &f.customers[c], steps, &over[c], over_rule, &d) != DN_OK) return 1;
        continue;
      }
      run_state st = {.c = &f.customers[c], .f = &f, .steps = steps};
      if (dn_engine_session_run(s, &cf[c], sink, &st, &d) != DN_OK) {
        dn_diags_render_text(&d, stderr, false);
        return 1;
      }
      over[c] = st.over_limit;
    }
  double secs = bench_now() - t0;
  printf("%.0f\n", (double)f.ninvoices * repeat / secs);
  FILE *out = fopen(argv[4], "w");
  if (!out) { perror(argv[4]); return 1; }
  for (int32_t c = 0; c < f.ncustomers; c++) {
    const bench_customer *b = &f.customers[c];
    for (int32_t k = b->first; k < b->first + b->n; k++) {
      int days = steps[k].step;
      if (decisions && steps[k].has_step) days = p->steps[days].offset_days;
      bench_print_invoice(out, f.invoices[k].id, cf[c].segment ? cf[c].segment : "?", days,
                          steps[k].has_step);
    }
    bench_print_customer(out, b->id, over[c]);
  }
  fclose(out);
  dn_engine_session_close(s);
  dn_native_free(lib);
  dn_diags_free(&d);
  for (int32_t c = 0; c < f.ncustomers; c++) dn_customer_facts_free(&cf[c]);
  free(inv); free(cf); free(steps); free(over);
  bench_facts_free(&f);
  dn_program_free(p);
  return 0;
}
