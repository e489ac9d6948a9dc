/* levels.c - decisions into level rows (levels.h). The engine decides;
 * this file only names what it decided: segment, escalation, step label
 * and tone from the program's tables, the invoice's own figures, and the
 * firing rules as a list. */
#include "runtime/levels.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/outbox.h"

typedef struct levels_ctx {
  const dn_program *p;
  dn_date as_of;
  dn_level_sink sink;
  void *sink_ctx;
  char *rules;             /* the rule list of the current row */
  size_t rules_cap;
} levels_ctx;

static const char *pstr(const dn_program *p, int32_t i) { return i >= 0 ? p->strings[i] : NULL; }

/* The names of the rules that fire for invoice inv or for the customer;
 * NULL when out of memory. */
static const char *rules_for(levels_ctx *x, const dn_decision *d, int32_t inv) {
  size_t n = 0;
  for (int32_t i = 0; i < d->nrules; i++) {
    if (d->rules[i].invoice != -1 && d->rules[i].invoice != inv) continue;
    const char *name = pstr(x->p, x->p->rules[d->rules[i].rule].name);
    size_t len = strlen(name);
    if (n + len + 2 > x->rules_cap) {
      size_t cap = (n + len + 2) * 2;
      char *grown = realloc(x->rules, cap);
      if (!grown) return NULL;
      x->rules = grown;
      x->rules_cap = cap;
    }
    if (n) x->rules[n++] = ',';
    memcpy(x->rules + n, name, len);
    n += len;
  }
  return n ? (x->rules[n] = '\0', x->rules) : "";
}

static const char *status_of(const dn_step_decision *s) {
  if (s->error) return "error";
  if (s->paused) return "paused";
  return s->step == DN_NONE ? "none" : "due";
}

/* Row r of invoice inv with `s` (NULL: no escalation applies). */
static dn_status emit(levels_ctx *x, const dn_customer_facts *c, const dn_decision *d, int32_t inv,
                      const dn_step_decision *s) {
  const dn_program *p = x->p;
  const dn_invoice_facts *f = &c->invoices[inv];
  char label[16];
  dn_level_row r = {.customer = c->id, .invoice = f->id, .escalation_index = DN_NONE,
                    .step_index = DN_NONE, .status = "none", .days_past_due = f->days_past_due,
                    .balance = f->balance, .currency = f->currency, .as_of = x->as_of};
  if (d->segment >= 0) r.segment = pstr(p, p->segments[d->segment].name);
  r.rules = rules_for(x, d, inv);
  if (!r.rules) return DN_ERR_INTERNAL;
  if (s) {
    r.escalation_index = s->escalation;
    r.escalation = pstr(p, p->escalations[s->escalation].name);
    r.status = status_of(s);
    r.step_index = s->step;
  }
  if (s && s->step != DN_NONE) {
    r.step = dn_step_label(&p->steps[s->step], label);
    const dn_ladder *l = &p->ladders[p->segments[d->segment].ladder];
    if (s->tone >= 0) r.tone = p->tone_names[l->first_tone + s->tone];
  }
  return x->sink(x->sink_ctx, &r);
}

static dn_status on_decision(void *ctx, const dn_customer_facts *c, const dn_decision *d) {
  levels_ctx *x = ctx;
  if (d->skipped) return DN_OK; /* a diagnostic says why */
  dn_status st = DN_OK;
  for (int32_t i = 0; i < c->ninvoices && st == DN_OK; i++) {
    if (!c->invoices[i].open) continue;
    bool any = false;
    for (int32_t k = 0; k < d->nsteps && st == DN_OK; k++)
      if (d->steps[k].invoice == i) {
        any = true;
        st = emit(x, c, d, i, &d->steps[k]);
      }
    if (!any && st == DN_OK) st = emit(x, c, d, i, NULL);
  }
  return st;
}

dn_status dn_levels_run(const dn_program *p, dn_ledger *l, const dn_run_options *o,
                        dn_level_sink sink, void *ctx, dn_run_stats *stats, dn_diags *diags) {
  if (o->only_customer) {
    bool found;
    dn_status st = dn_ledger_has_customer(l, o->only_customer, &found, diags);
    if (st != DN_OK) return st;
    if (!found) {
      /* no rows would read as "nothing due" */
      dn_diag_add_at(diags, DN_E0506, l->path ? l->path : "ledger", 0, "no customer \"%s\" in the ledger",
                     o->only_customer);
      return DN_ERR_INPUT;
    }
  }
  levels_ctx x = {.p = p, .as_of = o->as_of, .sink = sink, .sink_ctx = ctx};
  dn_run_options opt = *o;
  opt.on_decision = on_decision;
  opt.on_decision_ctx = &x;
  dn_status st = dn_engine_run(p, l, &opt, NULL, NULL, stats, diags);
  free(x.rules);
  return st;
}

static json_t *text_or_null(const char *s) { return s ? dn_json_text(s) : json_null(); }

json_t *dn_level_row_json(const dn_level_row *r) {
  json_t *rules = json_array();
  for (const char *s = r->rules; rules && *s;) {
    const char *comma = strchr(s, ',');
    size_t n = comma ? (size_t)(comma - s) : strlen(s);
    json_array_append_new(rules, json_stringn(s, n)); /* names from the policy: UTF-8 */
    s += n + (comma ? 1 : 0);
  }
  char balance[40], as_of[11];
  dn_money_format(r->balance, r->currency, balance);
  dn_date_format(r->as_of, as_of);
  /* Ids come from the ledger and may not be UTF-8; the rest is the
   * policy's (checked UTF-8) or Dunlin's own. */
  return json_pack("{s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:i, s:s, s:s, s:o, s:s}", "customer",
                   dn_json_text(r->customer), "invoice", dn_json_text(r->invoice), "segment",
                   text_or_null(r->segment), "escalation", text_or_null(r->escalation), "status",
                   r->status, "step", text_or_null(r->step), "tone", text_or_null(r->tone),
                   "days_past_due", (json_int_t)r->days_past_due, "balance", balance, "currency",
                   dn_currency_code(r->currency), "rules", rules, "as_of", as_of);
}
