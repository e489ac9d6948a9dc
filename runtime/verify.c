/* verify.c - the bytecode verifier (verify.h), modelled on WebAssembly
 * validation.
 *
 * One forward pass per chunk with a stack of operand types. Because the
 * instruction set has only forward jumps and no loops, a jump target is
 * checked by comparing the type stack recorded at the jump with the one
 * the fall-through path arrives with; there is no fixpoint to compute.
 * Then every table is checked: indices in range and the result type and
 * scope of each chunk where a table uses it. A program that passes runs
 * in the VM with no further checks, so every rule the VM relies on must
 * be enforced here. */
#include "runtime/verify.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds what a (possibly hostile) file can make the VM allocate. One
 * chunk may use what the compiler can describe (max_stack is a u16, so a
 * deeply nested but valid policy compiles to a file that loads); the VM's
 * whole stack, the largest frame plus every let's frame (vm.c), is bounded
 * separately. */
#define VERIFY_MAX_STACK 65535
#define VERIFY_MAX_TOTAL_STACK (1u << 20)

/* --- instruction-set tables, expanded from the .def files --- */

enum { OPND_N = 0, OPND_B = 1, OPND_H = 2, OPND_BB = 2, OPND_BH = 3 };
static const unsigned char op_size[] = {
#define DN_OP(name, operands, pops, pushes, doc) OPND_##operands,
#include "lang/opcodes.def"
#undef DN_OP
};
_Static_assert(sizeof op_size == DN_OPC_COUNT, "opcode table size");
static const signed char op_pops[] = {
#define DN_OP(name, operands, pops, pushes, doc) pops,
#include "lang/opcodes.def"
#undef DN_OP
};
static const signed char op_pushes[] = {
#define DN_OP(name, operands, pops, pushes, doc) pushes,
#include "lang/opcodes.def"
#undef DN_OP
};

typedef struct arith_row { dn_op op; dn_type lhs, rhs, res; } arith_row;
static const arith_row arith_rows[] = {
#define DN_ARITH(name, op, lhs, rhs, res) {DN_OP_##op, DN_T_##lhs, DN_T_##rhs, DN_T_##res},
#include "lang/arith.def"
#undef DN_ARITH
};
_Static_assert(sizeof arith_rows / sizeof arith_rows[0] == DN_AR_COUNT, "arith table size");

typedef struct builtin_row { dn_type ret; int nargs; dn_type args[2]; } builtin_row;
static const builtin_row builtin_rows[] = {
#define DN_BUILTIN(id, name, ret, nargs, a1, a2, doc) {DN_T_##ret, nargs, {DN_T_##a1, DN_T_##a2}},
#include "stdlib/builtins.def"
#undef DN_BUILTIN
};
_Static_assert(sizeof builtin_rows / sizeof builtin_rows[0] == DN_B_COUNT, "builtin table size");

typedef struct field_row { dn_scope scope; dn_type type; } field_row;
static const field_row field_rows[] = {
#define DN_FIELD(scope, name, type, doc) {DN_SCOPE_##scope, DN_T_##type},
#include "lang/fields.def"
#undef DN_FIELD
};
_Static_assert(sizeof field_rows / sizeof field_rows[0] == DN_F_COUNT, "field table size");

/* --- state --- */

typedef struct vf {
  const dn_program *p;
  const char *file;
  dn_diags *diags;
  int errors;
  int32_t *chunk_let;   /* chunk -> the let it defines, or -1 */
  int max_tones;        /* longest ladder: bound for TONE ranks */
} vf;

static void vfail(vf *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vfail(vf *v, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  v->errors++;
  dn_diag_add_at(v->diags, DN_E0504, v->file, 0, "invalid bytecode: %s", msg);
}

static bool valid_currency(uint16_t cur) {
  return cur != DN_CUR_NONE && dn_currency_digits(cur) >= 0;
}

/* Types a value of the language can have at run time. */
static bool value_type(dn_type t) {
  return t >= DN_T_BOOL && t <= DN_T_TONE;
}

static bool extern_type(dn_type t) {
  return t == DN_T_BOOL || t == DN_T_INT || t == DN_T_NUMBER || t == DN_T_MONEY ||
         t == DN_T_DATE || t == DN_T_STRING;
}

static bool cmp_type_ok(int rel, dn_type t) {
  if (rel == DN_OP_EQ || rel == DN_OP_NE) return value_type(t);
  return t == DN_T_INT || t == DN_T_NUMBER || t == DN_T_MONEY || t == DN_T_DATE ||
         t == DN_T_DURATION || t == DN_T_TONE;
}

/* --- one chunk --- */

typedef struct snapshot {
  uint32_t target;
  int depth;
  bool reached;
  unsigned char *types;
} snapshot;

typedef struct cv {
  vf *v;
  uint32_t index;          /* chunk index */
  const dn_chunk *ch;
  const uint8_t *code;     /* the chunk's first byte */
  uint32_t pc;             /* current instruction, relative to the chunk */
  unsigned char ts[VERIFY_MAX_STACK + 1];
  int sp;
  bool reads_invoice;
  bool failed;
  snapshot *snaps; uint32_t nsnaps;
  int32_t *snap_at;        /* pc -> index into snaps, or -1 */
} cv;

static void cfail(cv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cfail(cv *c, const char *fmt, ...) {
  if (c->failed) return;
  c->failed = true;
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  vfail(c->v, "chunk %u at pc %u: %s", c->index, c->pc, msg);
}

static bool pop(cv *c, dn_type want) {
  if (c->sp == 0) { cfail(c, "stack underflow"); return false; }
  dn_type got = (dn_type)c->ts[--c->sp];
  if (want != DN_T_ERROR && got != want) {
    cfail(c, "expected %s on the stack, found %s", dn_type_name(want), dn_type_name(got));
    return false;
  }
  return true;
}

static void push(cv *c, dn_type t) {
  if (c->sp >= c->ch->max_stack) {
    cfail(c, "stack depth %d exceeds max_stack %u", c->sp + 1, c->ch->max_stack);
    return;
  }
  c->ts[c->sp++] = (unsigned char)t;
}

static bool record_jump(cv *c, uint32_t target) {
  if (target <= c->pc || target >= c->ch->len) {
    cfail(c, "jump to %u is not forward inside the chunk", target);
    return false;
  }
  int32_t at = c->snap_at[target];
  if (at >= 0) {
    snapshot *s = &c->snaps[at];
    if (s->depth != c->sp || memcmp(s->types, c->ts, (size_t)c->sp) != 0) {
      cfail(c, "jumps to %u arrive with different stacks", target);
      return false;
    }
    return true;
  }
  snapshot *ns = realloc(c->snaps, (c->nsnaps + 1) * sizeof *ns);
  if (!ns) { cfail(c, "out of memory"); return false; }
  c->snaps = ns;
  snapshot *s = &c->snaps[c->nsnaps];
  s->types = malloc((size_t)c->sp + 1);
  if (!s->types) { cfail(c, "out of memory"); return false; }
  memcpy(s->types, c->ts, (size_t)c->sp);
  s->target = target;
  s->depth = c->sp;
  s->reached = false;
  c->snap_at[target] = (int32_t)c->nsnaps++;
  return true;
}

/* At each instruction boundary: any jump landing here must bring the
 * same stack as the fall-through path. */
static void arrive(cv *c) {
  int32_t at = c->snap_at[c->pc];
  if (at < 0) return;
  snapshot *s = &c->snaps[at];
  s->reached = true;
  if (s->depth != c->sp || memcmp(s->types, c->ts, (size_t)c->sp) != 0)
    cfail(c, "a jump arrives here with a different stack than the fall-through");
}

static void check_let(cv *c, uint32_t idx) {
  const dn_program *p = c->v->p;
  int32_t own = c->v->chunk_let[c->index];
  uint32_t limit = own >= 0 ? (uint32_t)own : p->nlets;
  if (idx >= limit) {
    if (own >= 0 && idx < p->nlets)
      cfail(c, "let %d reads let %u, which is not defined before it (a cycle)", own, idx);
    else
      cfail(c, "let index %u out of range (%u lets)", idx, p->nlets);
    return;
  }
  const dn_chunk *lc = &p->chunks[p->lets[idx].chunk];
  if (lc->scope == DN_SCOPE_INVOICE) c->reads_invoice = true;
  push(c, lc->result);
}

static void check_call(cv *c, uint8_t id) {
  if (id >= DN_B_COUNT) { cfail(c, "unknown builtin %u", id); return; }
  const builtin_row *b = &builtin_rows[id];
  for (int i = b->nargs - 1; i >= 0; i--)
    if (!pop(c, b->args[i])) return;
  push(c, b->ret);
}

static void check_extern(cv *c, uint32_t idx) {
  const dn_program *p = c->v->p;
  if (idx >= p->nexterns) { cfail(c, "extern index %u out of range", idx); return; }
  const dn_extern_def *x = &p->externs[idx];
  for (int i = x->nparams - 1; i >= 0; i--)
    if (!pop(c, x->params[i])) return;
  push(c, x->ret);
}

static void check_in(cv *c, uint8_t count, uint8_t type) {
  if (!cmp_type_ok(DN_OP_EQ, (dn_type)type)) { cfail(c, "bad type %u for in", type); return; }
  for (int i = 0; i <= count; i++)
    if (!pop(c, (dn_type)type)) return;
  push(c, DN_T_BOOL);
}

static void check_arith(cv *c, uint8_t id) {
  if (id >= DN_AR_COUNT) { cfail(c, "unknown arith variant %u", id); return; }
  const arith_row *a = &arith_rows[id];
  if (pop(c, a->rhs) && pop(c, a->lhs)) push(c, a->res);
}

static void check_cmp(cv *c, uint8_t rel, uint8_t type) {
  if (rel < DN_OP_EQ || rel > DN_OP_GE) { cfail(c, "bad relation %u", rel); return; }
  if (!cmp_type_ok(rel, (dn_type)type)) { cfail(c, "cannot compare values of type %u so", type); return; }
  if (pop(c, (dn_type)type) && pop(c, (dn_type)type)) push(c, DN_T_BOOL);
}

static void check_neg(cv *c, uint8_t type) {
  if (type != DN_T_INT && type != DN_T_NUMBER && type != DN_T_MONEY && type != DN_T_DURATION) {
    cfail(c, "cannot negate type %u", type);
    return;
  }
  if (pop(c, (dn_type)type)) push(c, (dn_type)type);
}

static void check_ret(cv *c) {
  if (c->pc + 1 != c->ch->len) { cfail(c, "RET before the end of the chunk"); return; }
  if (c->sp != 1) { cfail(c, "RET with %d values on the stack, expected 1", c->sp); return; }
  if (c->ts[0] != c->ch->result)
    cfail(c, "returns %s, declared %s", dn_type_name((dn_type)c->ts[0]), dn_type_name(c->ch->result));
}

static void check_instr(cv *c, uint8_t op, const uint8_t *o) {
  const dn_program *p = c->v->p;
  uint32_t h = o[0] | (uint32_t)o[1] << 8; /* valid only for H operands */
  switch ((dn_opcode)op) {
    case DN_OPC_CONST:
      if (h >= p->nconsts) cfail(c, "constant index %u out of range (%u constants)", h, p->nconsts);
      else push(c, p->consts[h].type);
      break;
    case DN_OPC_TRUE: case DN_OPC_FALSE: push(c, DN_T_BOOL); break;
    case DN_OPC_FIELD:
      if (o[0] >= DN_F_COUNT) { cfail(c, "unknown field %u", o[0]); break; }
      if (field_rows[o[0]].scope == DN_SCOPE_INVOICE) c->reads_invoice = true;
      push(c, field_rows[o[0]].type);
      break;
    case DN_OPC_ATTR:
      if (h >= p->nstrings) cfail(c, "string index %u out of range", h);
      else push(c, DN_T_STRING);
      break;
    case DN_OPC_LET: check_let(c, h); break;
    case DN_OPC_TONE:
      if (o[0] >= c->v->max_tones) cfail(c, "tone rank %u beyond every ladder", o[0]);
      else push(c, DN_T_TONE);
      break;
    case DN_OPC_I2N: if (pop(c, DN_T_INT)) push(c, DN_T_NUMBER); break;
    case DN_OPC_NOT: if (pop(c, DN_T_BOOL)) push(c, DN_T_BOOL); break;
    case DN_OPC_NEG: check_neg(c, o[0]); break;
    case DN_OPC_ARITH: check_arith(c, o[0]); break;
    case DN_OPC_CMP: check_cmp(c, o[0], o[1]); break;
    case DN_OPC_IN: check_in(c, o[0], o[1]); break;
    case DN_OPC_CALL: check_call(c, o[0]); break;
    case DN_OPC_EXTERN: check_extern(c, h); break;
    case DN_OPC_JUMP_IF_FALSE_KEEP:
    case DN_OPC_JUMP_IF_TRUE_KEEP:
      if (c->sp == 0 || c->ts[c->sp - 1] != DN_T_BOOL) { cfail(c, "conditional jump needs a bool on the stack"); break; }
      if (record_jump(c, h)) c->sp--;
      break;
    case DN_OPC_RET: check_ret(c); break;
    default: cfail(c, "unknown opcode %u", op); break;
  }
}

static void verify_code(vf *v, uint32_t index) {
  cv *c = calloc(1, sizeof *c);
  if (!c) { vfail(v, "out of memory"); return; }
  c->v = v;
  c->index = index;
  c->ch = &v->p->chunks[index];
  c->code = v->p->code + c->ch->start;
  c->snap_at = malloc(((size_t)c->ch->len + 1) * sizeof *c->snap_at);
  if (!c->snap_at) { vfail(v, "out of memory"); free(c); return; }
  for (uint32_t i = 0; i < c->ch->len; i++) c->snap_at[i] = -1;
  bool saw_ret = false;
  while (c->pc < c->ch->len && !c->failed) {
    arrive(c);
    if (c->failed) break;
    uint8_t op = c->code[c->pc];
    if (op >= DN_OPC_COUNT) { cfail(c, "unknown opcode %u", op); break; }
    uint8_t o[3] = {0, 0, 0};
    if (c->pc + 1u + op_size[op] > c->ch->len) { cfail(c, "%s runs past the end of the chunk", dn_opcode_name(op)); break; }
    memcpy(o, c->code + c->pc + 1, op_size[op]);
    int before = c->sp;
    check_instr(c, op, o);
    /* The type rules above and the compiler's depth tracking both come
     * from opcodes.def; keep them from drifting apart. Jumps and RET have
     * path-dependent effects and are checked on their own. */
    bool fixed = op_pops[op] >= 0 && op != DN_OPC_RET && op != DN_OPC_JUMP_IF_FALSE_KEEP &&
                 op != DN_OPC_JUMP_IF_TRUE_KEEP;
    if (!c->failed && fixed && c->sp - before != op_pushes[op] - op_pops[op])
      cfail(c, "internal: %s moved the stack by %d, opcodes.def says %d", dn_opcode_name(op),
            c->sp - before, op_pushes[op] - op_pops[op]);
    saw_ret = op == DN_OPC_RET;
    c->pc += 1u + op_size[op];
  }
  if (!c->failed && !saw_ret) cfail(c, "chunk does not end with RET");
  for (uint32_t i = 0; i < c->nsnaps && !c->failed; i++)
    if (!c->snaps[i].reached) cfail(c, "jump target %u is not an instruction boundary", c->snaps[i].target);
  if (!c->failed && c->reads_invoice && c->ch->scope != DN_SCOPE_INVOICE)
    vfail(v, "chunk %u is declared customer scope but reads invoice facts", index);
  for (uint32_t i = 0; i < c->nsnaps; i++) free(c->snaps[i].types);
  free(c->snaps);
  free(c->snap_at);
  free(c);
}

/* --- pools and chunk headers --- */

static void verify_header(vf *v) {
  const dn_program *p = v->p;
  if (!p->name || !p->timezone) vfail(v, "missing policy name or time zone");
  if (!valid_currency(p->currency)) vfail(v, "invalid policy currency %u", p->currency);
  if (p->window_start < 0 || p->window_end > 1440 || p->window_start >= p->window_end)
    vfail(v, "send window %d..%d is not a range of minutes within one day", p->window_start, p->window_end);
  if (p->promise_grace_days < 0 || p->promise_grace_days > 3660)
    vfail(v, "promise grace of %d days is out of range", p->promise_grace_days);
}

static void verify_pools(vf *v) {
  const dn_program *p = v->p;
  for (uint32_t i = 0; i < p->nstrings; i++)
    if (!p->strings[i]) vfail(v, "string %u is missing", i);
  for (uint32_t i = 0; i < p->ntone_names; i++)
    if (!p->tone_names[i]) vfail(v, "tone name %u is missing", i);
  for (uint32_t i = 0; i < p->nconsts; i++) {
    const dn_const *k = &p->consts[i];
    if (!value_type(k->type) || k->type == DN_T_TONE) vfail(v, "constant %u has bad type %d", i, (int)k->type);
    else if (k->type == DN_T_STRING && k->as.str >= p->nstrings) vfail(v, "constant %u: string index %u out of range", i, k->as.str);
    else if (k->type == DN_T_MONEY && !valid_currency(k->as.m.cur)) vfail(v, "constant %u: invalid currency %u", i, k->as.m.cur);
    else if (k->type == DN_T_NUMBER && !isfinite(k->as.n)) vfail(v, "constant %u is not a finite number", i);
  }
  for (uint32_t i = 0; i < p->nchunks; i++) {
    const dn_chunk *c = &p->chunks[i];
    if (c->start > p->code_len || c->len > p->code_len - c->start || c->len == 0)
      vfail(v, "chunk %u (bytes %u+%u) lies outside the code (%u bytes)", i, c->start, c->len, p->code_len);
    else if (c->max_stack == 0) /* at most VERIFY_MAX_STACK: it is a u16 */
      vfail(v, "chunk %u: max_stack 0 (at least the result needs a slot)", i);
    else if (!value_type(c->result))
      vfail(v, "chunk %u: bad result type %d", i, (int)c->result);
    else if (c->scope != DN_SCOPE_CUSTOMER && c->scope != DN_SCOPE_INVOICE)
      vfail(v, "chunk %u: bad scope %d", i, (int)c->scope);
  }
  for (uint32_t i = 0; i < p->nlines; i++) {
    const dn_line *l = &p->lines[i];
    if (l->pc >= p->code_len || (i > 0 && l->pc < p->lines[i - 1].pc))
      vfail(v, "line entry %u: pc %u out of order or range", i, l->pc);
    else if (l->span.start > l->span.end || (p->source && l->span.end > p->source_len))
      vfail(v, "line entry %u: bad source span %u..%u", i, l->span.start, l->span.end);
  }
}

/* --- tables --- */

static bool chk_string(vf *v, int32_t s, bool optional, const char *what, uint32_t i) {
  if (s == DN_NONE && optional) return true;
  if (s < 0 || (uint32_t)s >= v->p->nstrings) {
    vfail(v, "%s %u: string index %d out of range", what, i, s);
    return false;
  }
  return true;
}

/* A chunk used by a table: in range, of an accepted result type (mask of
 * 1 << dn_type), and of customer scope where only the customer is known. */
static void chk_chunk(vf *v, int32_t ch, bool optional, unsigned types, bool customer_only,
                      const char *what, uint32_t i) {
  if (ch == DN_NONE && optional) return;
  if (ch < 0 || (uint32_t)ch >= v->p->nchunks) {
    vfail(v, "%s %u: chunk index %d out of range", what, i, ch);
    return;
  }
  const dn_chunk *c = &v->p->chunks[ch];
  unsigned bit = (unsigned)c->result < 32 ? 1u << c->result : 0;
  if (!(types & bit))
    vfail(v, "%s %u: chunk %d returns %s", what, i, ch, dn_type_name(c->result));
  if (customer_only && c->scope != DN_SCOPE_CUSTOMER)
    vfail(v, "%s %u: chunk %d reads invoice facts where only the customer is in scope", what, i, ch);
}

static bool chk_range(vf *v, int32_t first, int32_t n, uint32_t total, const char *what,
                      uint32_t i) {
  if (first < 0 || n < 0 || (int64_t)first + n > (int64_t)total) {
    vfail(v, "%s %u: range %d+%d out of bounds (%u)", what, i, first, n, total);
    return false;
  }
  return true;
}

#define BOOL_ONLY (1u << DN_T_BOOL)
#define PRIORITY_TYPES ((1u << DN_T_NUMBER) | (1u << DN_T_MONEY))

static void chk_actions(vf *v, int32_t first, int32_t n, bool customer_only, const char *what,
                        uint32_t i) {
  if (!chk_range(v, first, n, v->p->nactions, what, i)) return;
  for (int32_t k = first; k < first + n; k++)
    chk_chunk(v, v->p->actions[k].priority, true, PRIORITY_TYPES, customer_only, "action", (uint32_t)k);
}

static void verify_lets(vf *v) {
  const dn_program *p = v->p;
  for (uint32_t i = 0; i < p->nlets; i++) {
    const dn_let_def *l = &p->lets[i];
    chk_string(v, l->name, false, "let", i);
    if (l->chunk < 0 || (uint32_t)l->chunk >= p->nchunks) {
      vfail(v, "let %u: chunk index %d out of range", i, l->chunk);
    } else if (v->chunk_let[l->chunk] >= 0) {
      vfail(v, "let %u: chunk %d already defines let %d", i, l->chunk, v->chunk_let[l->chunk]);
    } else {
      v->chunk_let[l->chunk] = (int32_t)i;
    }
  }
}

static void verify_ladders(vf *v) {
  const dn_program *p = v->p;
  if (p->nladders == 0) vfail(v, "no tone ladder (ladder 0 is the default)");
  for (uint32_t i = 0; i < p->nladders; i++) {
    const dn_ladder *l = &p->ladders[i];
    chk_string(v, l->name, false, "ladder", i);
    if (l->ntones < 1 || l->ntones > 255) vfail(v, "ladder %u: %d tones", i, l->ntones);
    else if (chk_range(v, l->first_tone, l->ntones, p->ntone_names, "ladder", i) && l->ntones > v->max_tones)
      v->max_tones = l->ntones;
  }
}

static void verify_segments(vf *v) {
  const dn_program *p = v->p;
  for (uint32_t i = 0; i < p->nsegments; i++) {
    const dn_segment_def *s = &p->segments[i];
    chk_string(v, s->name, false, "segment", i);
    chk_string(v, s->assign, true, "segment", i);
    chk_chunk(v, s->cond, true, BOOL_ONLY, true, "segment", i);
    if (s->ladder < 0 || (uint32_t)s->ladder >= p->nladders) vfail(v, "segment %u: ladder %d out of range", i, s->ladder);
    if (s->tone_shift < -255 || s->tone_shift > 255) vfail(v, "segment %u: tone shift %d", i, s->tone_shift);
  }
  for (uint32_t i = 0; i < p->nsegment_refs; i++)
    if (p->segment_refs[i] < 0 || (uint32_t)p->segment_refs[i] >= p->nsegments)
      vfail(v, "segment reference %u: segment %d out of range", i, p->segment_refs[i]);
}

static void verify_escalations(vf *v) {
  const dn_program *p = v->p;
  for (uint32_t i = 0; i < p->nescalations; i++) {
    const dn_escalation_def *e = &p->escalations[i];
    chk_string(v, e->name, false, "escalation", i);
    chk_range(v, e->first_segment, e->nsegments, p->nsegment_refs, "escalation", i);
    chk_chunk(v, e->unless_guard, true, BOOL_ONLY, false, "escalation", i);
    chk_range(v, e->first_step, e->nsteps, p->nsteps, "escalation", i);
  }
  for (uint32_t i = 0; i < p->nsteps; i++) {
    const dn_step_def *s = &p->steps[i];
    /* a century either way: beyond that the date arithmetic could overflow */
    if (s->offset_days < -36600 || s->offset_days > 36600)
      vfail(v, "step %u: offset of %d days out of range", i, s->offset_days);
    chk_chunk(v, s->guard, true, BOOL_ONLY, false, "step", i);
    chk_string(v, s->tone_name, true, "step", i);
    chk_actions(v, s->first_action, s->nactions, false, "step", i);
  }
  for (uint32_t i = 0; i < p->nactions; i++) {
    const dn_action_def *a = &p->actions[i];
    if ((unsigned)a->kind >= DN_ACT_COUNT) vfail(v, "action %u: bad kind %d", i, (int)a->kind);
    chk_string(v, a->tone_name, true, "action", i);
    chk_string(v, a->template_name, true, "action", i);
    chk_string(v, a->assign, true, "action", i);
    chk_string(v, a->text, true, "action", i);
    chk_chunk(v, a->priority, true, PRIORITY_TYPES, false, "action", i);
  }
}

static void verify_events_rules(vf *v) {
  const dn_program *p = v->p;
  for (uint32_t i = 0; i < p->nevents; i++) {
    const dn_event_def *e = &p->events[i];
    bool cust = e->scope == DN_SCOPE_CUSTOMER;
    if ((unsigned)e->event >= DN_EV_COUNT || (unsigned)e->scope > DN_SCOPE_INVOICE)
      vfail(v, "event %u: bad event kind or scope", i);
    chk_chunk(v, e->guard, true, BOOL_ONLY, cust, "event", i);
    chk_actions(v, e->first_action, e->nactions, cust, "event", i);
  }
  for (uint32_t i = 0; i < p->nrules; i++) {
    const dn_rule_def *r = &p->rules[i];
    bool cust = r->scope == DN_SCOPE_CUSTOMER;
    chk_string(v, r->name, false, "rule", i);
    if ((unsigned)r->scope > DN_SCOPE_INVOICE) vfail(v, "rule %u: bad scope", i);
    chk_chunk(v, r->cond, false, BOOL_ONLY, cust, "rule", i);
    chk_actions(v, r->first_action, r->nactions, cust, "rule", i);
    if (r->once_per_days < 0 || r->once_per_days > 36600) vfail(v, "rule %u: once per %d days", i, r->once_per_days);
  }
  for (uint32_t i = 0; i < p->ncaps; i++)
    if (p->caps[i].count <= 0 || p->caps[i].days <= 0 || p->caps[i].days > 36600)
      vfail(v, "cap %u: %d per %d days", i, p->caps[i].count, p->caps[i].days);
  for (uint32_t i = 0; i < p->nexterns; i++) {
    const dn_extern_def *x = &p->externs[i];
    chk_string(v, x->name, false, "extern", i);
    chk_string(v, x->library, false, "extern", i);
    bool ok = x->nparams >= 0 && x->nparams <= 8 && extern_type(x->ret);
    for (int k = 0; ok && k < x->nparams; k++) ok = extern_type(x->params[k]);
    if (!ok) vfail(v, "extern %u: bad signature", i);
  }
}

/* Let evaluation recurses in the VM, so bound how deeply lets nest. The
 * code has been verified, so walking it instruction by instruction is safe. */
#define VERIFY_MAX_LET_DEPTH 100

static void verify_let_depth(vf *v) {
  const dn_program *p = v->p;
  int *depth = calloc((size_t)p->nlets + 1, sizeof *depth);
  if (!depth) { vfail(v, "out of memory"); return; }
  for (uint32_t i = 0; i < p->nlets; i++) {
    const dn_chunk *c = &p->chunks[p->lets[i].chunk];
    const uint8_t *code = p->code + c->start;
    int d = 1;
    for (uint32_t pc = 0; pc < c->len; pc += 1u + op_size[code[pc]]) {
      if (code[pc] != DN_OPC_LET) continue;
      uint32_t j = code[pc + 1] | (uint32_t)code[pc + 2] << 8;
      if (j < i && depth[j] + 1 > d) d = depth[j] + 1;
    }
    depth[i] = d;
    if (d > VERIFY_MAX_LET_DEPTH) {
      vfail(v, "let %u: lets nested more than %d deep", i, VERIFY_MAX_LET_DEPTH);
      break;
    }
  }
  free(depth);
}

/* The VM allocates the largest frame plus every let's frame at once;
 * a file declaring a large max_stack on each of many lets must not make
 * it allocate gigabytes. Runs after verify_pools and verify_lets. */
static void verify_total_stack(vf *v) {
  const dn_program *p = v->p;
  uint64_t most = 0, lets = 0;
  for (uint32_t i = 0; i < p->nchunks; i++)
    if (p->chunks[i].max_stack > most) most = p->chunks[i].max_stack;
  for (uint32_t i = 0; i < p->nlets; i++)
    if (p->lets[i].chunk >= 0 && (uint32_t)p->lets[i].chunk < p->nchunks)
      lets += p->chunks[p->lets[i].chunk].max_stack;
  if (most + lets + 1 > VERIFY_MAX_TOTAL_STACK)
    vfail(v, "the chunks' max_stack values add up to %llu stack slots (at most %u)",
          (unsigned long long)(most + lets + 1), VERIFY_MAX_TOTAL_STACK);
}

dn_status dn_verify(const dn_program *p, const char *filename, dn_diags *diags) {
  vf v = {p, filename ? filename : (p->filename ? p->filename : "<program>"), diags, 0, NULL, 0};
  v.chunk_let = malloc(((size_t)p->nchunks + 1) * sizeof *v.chunk_let);
  if (!v.chunk_let) return DN_ERR_INTERNAL;
  for (uint32_t i = 0; i < p->nchunks; i++) v.chunk_let[i] = -1;
  verify_header(&v);
  verify_pools(&v);
  verify_ladders(&v);
  verify_lets(&v);
  verify_total_stack(&v);
  verify_events_rules(&v); /* externs before code: EXTERN reads signatures */
  /* Code only once the chunk headers, lets and externs it refers to are
   * known to be sound. */
  if (v.errors == 0)
    for (uint32_t i = 0; i < p->nchunks; i++) verify_code(&v, i);
  if (v.errors == 0) verify_let_depth(&v);
  verify_segments(&v);
  verify_escalations(&v);
  free(v.chunk_let);
  return v.errors ? DN_ERR_INPUT : DN_OK;
}
