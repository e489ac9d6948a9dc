/* native_ladder.c - a policy's escalation ladders as C (native.h).
 *
 * With the expressions compiled, what was left of a decision's cost was
 * the engine's general walk around them: per open invoice a call per
 * guard through a table, the ladder's steps looked up in the program,
 * the decision written field by field from tables (bench/eval, 2026-12-07
 * profile: 135 of 278 instructions an invoice in due_step alone). Here
 * each escalation becomes one function that walks a customer's invoices
 * the way due_step does, with its offsets as constants, its guards'
 * chunks called by name (so the C compiler inlines them) and its steps
 * tested last to first.
 *
 * The function only decides the ordinary case. On anything else (a
 * runtime error in a guard, an invoice without an fx rate) it returns -1
 * having reported nothing, and the engine decides the customer itself,
 * which gives the error its message: an evaluation is pure, so both ways
 * agree on every decision (tests/native, test_native). */
#include <stddef.h>
#include <stdio.h>

#include "runtime/engine.h"
#include "runtime/facts.h"
#include "runtime/native.h"

/* The layout the ladder functions read and write, appended to the text
 * the library's ABI hash is made of (and asserted in the generated code). */
size_t dn_native_ladder_layout(char *buf, size_t len) {
  return (size_t)snprintf(
      buf, len,
      " ladder customer %zu %zu invoice %zu %zu %zu %zu %zu decision %zu %zu %zu %zu %zu %zu %zu none %d",
      offsetof(dn_customer_facts, invoices), offsetof(dn_customer_facts, ninvoices),
      sizeof(dn_invoice_facts), offsetof(dn_invoice_facts, open), offsetof(dn_invoice_facts, fx_missing),
      offsetof(dn_invoice_facts, days_past_due), offsetof(dn_invoice_facts, due_date),
      sizeof(dn_step_decision), offsetof(dn_step_decision, escalation), offsetof(dn_step_decision, invoice),
      offsetof(dn_step_decision, step), offsetof(dn_step_decision, tone), offsetof(dn_step_decision, paused),
      offsetof(dn_step_decision, error), DN_NONE);
}

static void emit_layout(FILE *out) {
  fprintf(out,
          "typedef struct sd { int32_t escalation, invoice, step, tone; _Bool paused, error; } sd;\n"
          "_Static_assert(sizeof(sd) == %zu && offsetof(sd, paused) == %zu && offsetof(sd, error) == %zu,"
          " \"decision layout\");\n"
          "#define C_INVOICES %zu\n#define C_NINVOICES %zu\n#define I_SIZE %zu\n#define I_OPEN %zu\n"
          "#define I_FX_MISSING %zu\n#define I_DPD %zu\n#define I_DUE %zu\n\n",
          sizeof(dn_step_decision), offsetof(dn_step_decision, paused), offsetof(dn_step_decision, error),
          offsetof(dn_customer_facts, invoices), offsetof(dn_customer_facts, ninvoices),
          sizeof(dn_invoice_facts), offsetof(dn_invoice_facts, open), offsetof(dn_invoice_facts, fx_missing),
          offsetof(dn_invoice_facts, days_past_due), offsetof(dn_invoice_facts, due_date));
}

/* v = chunk ci for this invoice, as the engine's eval_chunk hands it: a
 * customer-scoped chunk sees no invoice. Any failure: the engine decides. */
static void emit_guard(FILE *out, const dn_program *p, int32_t ci, const char *indent) {
  bool per_invoice = p->chunks[ci].scope == DN_SCOPE_INVOICE;
  fprintf(out, "%sif (chunk%d(f, %s, base, &v) != %d) return -1;\n", indent, ci,
          per_invoice ? "in, inv" : "NULL, -1", DN_OK);
}

/* Whether the ladder counts calendar days only, its offsets rising: then
 * the steps reached are the first few, and how many is a sum of
 * comparisons, not a chain of branches that days past due (spread over
 * the whole ladder) would mispredict. */
static bool rising_calendar(const dn_program *p, const dn_escalation_def *e) {
  for (int32_t s = 0; s < e->nsteps; s++) {
    const dn_step_def *st = &p->steps[e->first_step + s];
    if (st->business || (s > 0 && st[-1].offset_days >= st->offset_days)) return false;
  }
  return e->nsteps > 0;
}

/* current_step on a rising calendar ladder: the last step reached, then
 * down past each guarded step whose guard is false (every step below a
 * reached one is reached). */
static void emit_rising_steps(FILE *out, const dn_program *p, const dn_escalation_def *e) {
  fprintf(out, "      const int32_t dpd = AT(in, I_DPD, int32_t);\n      int32_t s = -1");
  for (int32_t s = 0; s < e->nsteps; s++) fprintf(out, " + (dpd >= %d)", p->steps[e->first_step + s].offset_days);
  fprintf(out, ";\n");
  for (int32_t s = e->nsteps - 1; s >= 0; s--) {
    const dn_step_def *st = &p->steps[e->first_step + s];
    if (st->guard == DN_NONE) continue;
    fprintf(out, "      if (s == %d) {\n", s);
    emit_guard(out, p, st->guard, "        ");
    fprintf(out, "        if (!v.as.b) s = %d;\n      }\n", s - 1);
  }
  fprintf(out, "      k = s < 0 ? -1 : %d + s;\n", e->first_step);
}

/* The steps last to first, as current_step walks them: the first one
 * reached whose `when` guard holds is the step due. */
static void emit_steps(FILE *out, const dn_program *p, const dn_escalation_def *e) {
  if (rising_calendar(p, e)) {
    emit_rising_steps(out, p, e);
    return;
  }
  bool business = false;
  for (int32_t s = 0; s < e->nsteps; s++) business |= p->steps[e->first_step + s].business;
  fprintf(out, "      const int32_t dpd = AT(in, I_DPD, int32_t);\n");
  if (business) fprintf(out, "      int32_t bd = 0; _Bool have_bd = 0;\n");
  for (int32_t s = e->nsteps - 1; s >= 0; s--) {
    const dn_step_def *st = &p->steps[e->first_step + s];
    if (st->business) {
      fprintf(out, "      if (!have_bd) { bd = bdays(bctx, AT(in, I_DUE, int32_t), dpd); have_bd = 1; }\n");
      fprintf(out, "      if (bd >= %d) {\n", st->offset_days);
    } else {
      fprintf(out, "      if (dpd >= %d) {\n", st->offset_days);
    }
    if (st->guard != DN_NONE) {
      emit_guard(out, p, st->guard, "        ");
      fprintf(out, "        if (v.as.b) { k = %d; goto decided; }\n", e->first_step + s);
    } else {
      fprintf(out, "        k = %d; goto decided;\n", e->first_step + s);
    }
    fprintf(out, "      }\n");
  }
}

static void emit_escalation(FILE *out, const dn_program *p, uint32_t ei) {
  const dn_escalation_def *e = &p->escalations[ei];
  fprintf(out,
          "__attribute__((flatten)) static int32_t escalation%u(const frame *f, nv *base, const int32_t *tones,\n"
          "                            int32_t (*bdays)(void *, int32_t, int32_t), void *bctx, sd *out) {\n"
          "  const char *invoices = AT(f->c, C_INVOICES, const char *);\n"
          "  const int32_t n = AT(f->c, C_NINVOICES, int32_t);\n"
          "  sd *d = out;\n"
          "  (void)bdays; (void)bctx;\n"
          "  for (int32_t inv = 0; inv < n; inv++) {\n"
          "    const char *in = invoices + (size_t)inv * I_SIZE;\n"
          "    if (!AT(in, I_OPEN, _Bool)) continue;\n"
          "    if (AT(in, I_FX_MISSING, _Bool)) return -1;\n"
          "    int32_t k = %d; _Bool paused = 0; nv v; (void)v;\n",
          ei, DN_NONE);
  if (e->unless_guard != DN_NONE) {
    emit_guard(out, p, e->unless_guard, "    ");
    fprintf(out, "    paused = v.as.b;\n");
  }
  fprintf(out, "    if (!paused) {\n");
  emit_steps(out, p, e);
  fprintf(out,
          "    }\n"
          "  decided:\n"
          "    d->escalation = %u; d->invoice = inv; d->step = k;\n"
          "    d->tone = tones[k]; d->paused = paused; d->error = 0; d++;\n"
          "  }\n"
          "  return (int32_t)(d - out);\n"
          "}\n\n",
          ei);
}

void dn_native_emit_ladders(const dn_program *p, FILE *out) {
  emit_layout(out);
  for (uint32_t ei = 0; ei < p->nescalations; ei++) emit_escalation(out, p, ei);
  fprintf(out, "int32_t (*const dunlin_native_escalations[])(const frame *, nv *, const int32_t *,\n"
               "    int32_t (*)(void *, int32_t, int32_t), void *, sd *) = {\n");
  for (uint32_t ei = 0; ei < p->nescalations; ei++) fprintf(out, "  escalation%u,\n", ei);
  fprintf(out, "  0\n};\n");
}
