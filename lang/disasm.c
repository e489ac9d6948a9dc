/* disasm.c - the program listing (disasm.h), SQLite-VDBE style.
 *
 * Header and settings, then the tables, then each chunk as a table of
 * `addr opcode operands comment`. People run this on files that failed
 * to load or verify, so every index is checked before it is followed and
 * anything unknown prints as ???. */
#include "lang/disasm.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stdlib/date.h"
#include "stdlib/money.h"

enum { OPND_N = 0, OPND_B = 1, OPND_H = 2, OPND_BB = 2, OPND_BH = 3 };

typedef struct field_row { int invoice; const char *name; } field_row;
static const field_row field_rows[] = {
#define DN_FIELD(scope, name, type, doc) {DN_SCOPE_##scope == DN_SCOPE_INVOICE, #name},
#include "lang/fields.def"
#undef DN_FIELD
};
_Static_assert(sizeof field_rows / sizeof field_rows[0] == DN_F_COUNT, "field table size");

static const char *const builtin_names[] = {
#define DN_BUILTIN(id, name, ret, nargs, a1, a2, doc) #id,
#include "stdlib/builtins.def"
#undef DN_BUILTIN
};
_Static_assert(sizeof builtin_names / sizeof builtin_names[0] == DN_B_COUNT, "builtin table size");

static const char *const relations[] = {"or", "and", "not", "==", "!=", "<", "<=", ">", ">="};

static const char *str_at(const dn_program *p, int32_t i) {
  if (i == DN_NONE) return "-";
  if (i < 0 || (uint32_t)i >= p->nstrings || !p->strings || !p->strings[i]) return "???";
  return p->strings[i];
}

static const char *type_at(int t) {
  return t >= 0 && t < DN_T_COUNT ? dn_type_name((dn_type)t) : "???";
}

static void print_chunk_ref(FILE *out, const char *label, int32_t c) {
  if (c != DN_NONE) fprintf(out, "  %s chunk %d", label, c);
}

static void format_const(const dn_program *p, uint32_t k, char *buf, size_t n) {
  if (k >= p->nconsts) { snprintf(buf, n, "???"); return; }
  const dn_const *c = &p->consts[k];
  char tmp[40];
  switch (c->type) {
    case DN_T_BOOL: snprintf(buf, n, "%s", c->as.b ? "true" : "false"); break;
    case DN_T_INT: snprintf(buf, n, "%" PRId64, c->as.i); break;
    case DN_T_NUMBER:
      /* the shortest text that reads back as the same double */
      snprintf(buf, n, "%.15g", c->as.n);
      if (strtod(buf, NULL) != c->as.n) snprintf(buf, n, "%.17g", c->as.n);
      break;
    case DN_T_MONEY:
      if (dn_currency_digits(c->as.m.cur) < 0) { snprintf(buf, n, "%" PRId64 " ???", c->as.m.minor); break; }
      dn_money_format(c->as.m.minor, c->as.m.cur, tmp);
      snprintf(buf, n, "%s %s", tmp, dn_currency_code(c->as.m.cur));
      break;
    case DN_T_DATE:
      if (c->as.d == DN_DATE_NONE) snprintf(buf, n, "none");
      else { dn_date_format(c->as.d, tmp); snprintf(buf, n, "%s", tmp); }
      break;
    case DN_T_DURATION:
      snprintf(buf, n, "%d %sdays", c->as.dur.days, c->as.dur.business ? "business " : "");
      break;
    case DN_T_STRING: snprintf(buf, n, "\"%s\"", str_at(p, (int32_t)c->as.str)); break;
    default: snprintf(buf, n, "??? (type %d)", (int)c->type); break;
  }
}

static void print_header(const dn_program *p, FILE *out) {
  fprintf(out, "policy \"%s\" version %" PRId64 "\n", p->name ? p->name : "???", p->version);
  fprintf(out, "source_hash %016" PRIx64 "\n", p->source_hash);
  fprintf(out, "currency %s  timezone %s  calendar %s\n",
          dn_currency_digits(p->currency) >= 0 ? dn_currency_code(p->currency) : "???",
          p->timezone ? p->timezone : "???", p->calendar ? p->calendar : "(weekends only)");
  fprintf(out, "send_window %02d:%02d .. %02d:%02d  promise_grace %d days\n",
          p->window_start / 60, p->window_start % 60, p->window_end / 60, p->window_end % 60,
          p->promise_grace_days);
  fprintf(out, "%u strings, %u constants, %u code bytes, %u chunks, %u line entries\n",
          p->nstrings, p->nconsts, p->code_len, p->nchunks, p->nlines);
}

static void print_ladders(const dn_program *p, FILE *out) {
  fprintf(out, "\nladders:\n");
  for (uint32_t i = 0; i < p->nladders; i++) {
    const dn_ladder *l = &p->ladders[i];
    fprintf(out, "  %u %s:", i, str_at(p, l->name));
    for (int32_t t = 0; t < l->ntones && t < 256; t++) {
      int64_t k = (int64_t)l->first_tone + t;
      const char *name = k >= 0 && k < p->ntone_names && p->tone_names[k] ? p->tone_names[k] : "???";
      fprintf(out, "%s %s", t ? " <" : "", name);
    }
    fprintf(out, "\n");
  }
}

static void print_actions(const dn_program *p, FILE *out, int32_t first, int32_t n) {
  for (int32_t k = 0; k < n; k++) {
    int64_t a = (int64_t)first + k;
    if (first < 0 || a >= p->nactions) { fprintf(out, "      action %" PRId64 ": ???\n", a); return; }
    const dn_action_def *x = &p->actions[a];
    fprintf(out, "      action %" PRId64 ": %s", a,
            (unsigned)x->kind < DN_ACT_COUNT ? dn_action_kind_name(x->kind) : "???");
    if (x->tone_name != DN_NONE) fprintf(out, "  tone %s", str_at(p, x->tone_name));
    if (x->template_name != DN_NONE) fprintf(out, "  template \"%s\"", str_at(p, x->template_name));
    print_chunk_ref(out, "priority", x->priority);
    if (x->assign != DN_NONE) fprintf(out, "  assign \"%s\"", str_at(p, x->assign));
    if (x->text != DN_NONE) fprintf(out, "  text \"%s\"", str_at(p, x->text));
    fprintf(out, "\n");
  }
}

static void print_segments(const dn_program *p, FILE *out) {
  fprintf(out, "\nsegments:\n");
  for (uint32_t i = 0; i < p->nsegments; i++) {
    const dn_segment_def *s = &p->segments[i];
    fprintf(out, "  %u %s", i, str_at(p, s->name));
    if (s->cond == DN_NONE) fprintf(out, "  otherwise");
    print_chunk_ref(out, "when", s->cond);
    if (s->tone_shift) fprintf(out, "  tone %+d", s->tone_shift);
    fprintf(out, "  ladder %d", s->ladder);
    if (s->assign != DN_NONE) fprintf(out, "  assign \"%s\"", str_at(p, s->assign));
    fprintf(out, "\n");
  }
}

static void print_escalations(const dn_program *p, FILE *out) {
  fprintf(out, "\nescalations:\n");
  for (uint32_t i = 0; i < p->nescalations; i++) {
    const dn_escalation_def *e = &p->escalations[i];
    fprintf(out, "  %u %s  for", i, str_at(p, e->name));
    for (int32_t k = 0; k < e->nsegments; k++) {
      int64_t r = (int64_t)e->first_segment + k;
      if (e->first_segment < 0 || r >= p->nsegment_refs) { fprintf(out, " ???"); break; }
      int32_t s = p->segment_refs[r];
      fprintf(out, "%s %s", k ? "," : "",
              s >= 0 && (uint32_t)s < p->nsegments ? str_at(p, p->segments[s].name) : "???");
    }
    print_chunk_ref(out, "unless", e->unless_guard);
    fprintf(out, "\n");
    for (int32_t k = 0; k < e->nsteps; k++) {
      int64_t si = (int64_t)e->first_step + k;
      if (e->first_step < 0 || si >= p->nsteps) { fprintf(out, "    step ???\n"); break; }
      const dn_step_def *s = &p->steps[si];
      fprintf(out, "    step %" PRId64 ": %d %sdays", si, s->offset_days, s->business ? "business " : "");
      print_chunk_ref(out, "when", s->guard);
      if (s->tone_name != DN_NONE) fprintf(out, "  tone %s", str_at(p, s->tone_name));
      fprintf(out, "\n");
      print_actions(p, out, s->first_action, s->nactions);
    }
  }
}

static void print_events_rules(const dn_program *p, FILE *out) {
  fprintf(out, "\nevents:\n");
  for (uint32_t i = 0; i < p->nevents; i++) {
    const dn_event_def *e = &p->events[i];
    fprintf(out, "  %u on %s for %s", i, (unsigned)e->event < DN_EV_COUNT ? dn_event_name(e->event) : "???",
            e->scope == DN_SCOPE_INVOICE ? "invoice" : "customer");
    print_chunk_ref(out, "when", e->guard);
    fprintf(out, "\n");
    print_actions(p, out, e->first_action, e->nactions);
  }
  fprintf(out, "\nrules:\n");
  for (uint32_t i = 0; i < p->nrules; i++) {
    const dn_rule_def *r = &p->rules[i];
    fprintf(out, "  %u %s for %s", i, str_at(p, r->name), r->scope == DN_SCOPE_INVOICE ? "invoice" : "customer");
    print_chunk_ref(out, "when", r->cond);
    if (r->once_per_days) fprintf(out, "  once per %d days", r->once_per_days);
    fprintf(out, "\n");
    print_actions(p, out, r->first_action, r->nactions);
  }
  fprintf(out, "\ncaps:\n");
  for (uint32_t i = 0; i < p->ncaps; i++)
    fprintf(out, "  %u: %d per %d days\n", i, p->caps[i].count, p->caps[i].days);
  fprintf(out, "\nlets:\n");
  for (uint32_t i = 0; i < p->nlets; i++)
    fprintf(out, "  %u %s  chunk %d\n", i, str_at(p, p->lets[i].name), p->lets[i].chunk);
  fprintf(out, "\nexterns:\n");
  for (uint32_t i = 0; i < p->nexterns; i++) {
    const dn_extern_def *x = &p->externs[i];
    fprintf(out, "  %u %s(", i, str_at(p, x->name));
    for (int k = 0; k < x->nparams && k < 8; k++) fprintf(out, "%s%s", k ? ", " : "", type_at(x->params[k]));
    fprintf(out, ") -> %s from \"%s\"\n", type_at(x->ret), str_at(p, x->library));
  }
}

/* The comment column: what an operand refers to. */
static void comment(const dn_program *p, uint8_t op, const uint8_t *o, char *buf, size_t n) {
  uint32_t h = o[0] | (uint32_t)o[1] << 8;
  buf[0] = '\0';
  switch ((dn_opcode)op) {
    case DN_OPC_CONST: format_const(p, h, buf, n); break;
    case DN_OPC_FIELD:
      if (o[0] < DN_F_COUNT)
        snprintf(buf, n, "%s.%s", field_rows[o[0]].invoice ? "invoice" : "customer", field_rows[o[0]].name);
      else snprintf(buf, n, "???");
      break;
    case DN_OPC_ATTR: snprintf(buf, n, "customer.attr(\"%s\")", str_at(p, (int32_t)h)); break;
    case DN_OPC_LET:
      snprintf(buf, n, "%s", h < p->nlets ? str_at(p, p->lets[h].name) : "???");
      break;
    case DN_OPC_TONE: snprintf(buf, n, "rank %u", o[0]); break;
    case DN_OPC_NEG: snprintf(buf, n, "%s", type_at(o[0])); break;
    case DN_OPC_ARITH: snprintf(buf, n, "%s", o[0] < DN_AR_COUNT ? dn_arith_name(o[0]) : "???"); break;
    case DN_OPC_CMP:
      snprintf(buf, n, "%s %s", o[0] >= DN_OP_EQ && o[0] <= DN_OP_GE ? relations[o[0]] : "???", type_at(o[1]));
      break;
    case DN_OPC_IN: snprintf(buf, n, "%u values of %s", o[0], type_at(o[1])); break;
    case DN_OPC_CALL: snprintf(buf, n, "%s", o[0] < DN_B_COUNT ? builtin_names[o[0]] : "???"); break;
    case DN_OPC_EXTERN: snprintf(buf, n, "%s", h < p->nexterns ? str_at(p, p->externs[h].name) : "???"); break;
    case DN_OPC_JUMP_IF_FALSE_KEEP: case DN_OPC_JUMP_IF_TRUE_KEEP: snprintf(buf, n, "-> %04u", h); break;
    default: break;
  }
}

static void print_operands(uint8_t op, const uint8_t *o, char *buf, size_t n) {
  uint32_t h = o[0] | (uint32_t)o[1] << 8;
  switch (dn_opcode_operand_size(op)) {
    case OPND_B: snprintf(buf, n, "%u", o[0]); break;
    case OPND_H:
      if (op == DN_OPC_CMP || op == DN_OPC_IN) snprintf(buf, n, "%u %u", o[0], o[1]);
      else snprintf(buf, n, "%u", h);
      break;
    case OPND_BH: snprintf(buf, n, "%u %u", o[0], o[1] | (uint32_t)o[2] << 8); break;
    default: buf[0] = '\0'; break;
  }
}

static void print_chunk(const dn_program *p, uint32_t i, FILE *out) {
  const dn_chunk *c = &p->chunks[i];
  fprintf(out, "\nchunk %u: %s scope, returns %s, max_stack %u\n", i,
          c->scope == DN_SCOPE_INVOICE ? "invoice" : "customer", type_at(c->result), c->max_stack);
  if (!p->code || c->start > p->code_len || c->len > p->code_len - c->start) {
    fprintf(out, "  ??? (bytes %u+%u lie outside the code)\n", c->start, c->len);
    return;
  }
  fprintf(out, "addr  opcode              operands  comment\n");
  const uint8_t *code = p->code + c->start;
  uint32_t pc = 0;
  while (pc < c->len) {
    uint8_t op = code[pc];
    int size = dn_opcode_operand_size(op);
    if (size < 0) {
      fprintf(out, "%04u  ???                 %-8u  unknown opcode\n", pc, op);
      pc++;
      continue;
    }
    if (pc + 1u + (uint32_t)size > c->len) {
      fprintf(out, "%04u  %-18s  ???       truncated operands\n", pc, dn_opcode_name(op));
      break;
    }
    uint8_t o[3] = {0, 0, 0};
    memcpy(o, code + pc + 1, (size_t)size);
    char opnds[32], cmt[160];
    print_operands(op, o, opnds, sizeof opnds);
    comment(p, op, o, cmt, sizeof cmt);
    fprintf(out, "%04u  %-18s  %-8s  %s\n", pc, dn_opcode_name(op), opnds, cmt);
    pc += 1u + (uint32_t)size;
  }
}

void dn_disasm(const dn_program *p, FILE *out) {
  print_header(p, out);
  print_ladders(p, out);
  print_segments(p, out);
  print_escalations(p, out);
  print_events_rules(p, out);
  for (uint32_t i = 0; i < p->nchunks; i++) print_chunk(p, i, out);
}
