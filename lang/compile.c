/* compile.c - checked AST -> dn_program (program.h).
 *
 * The declarative parts of a policy become tables; every expression
 * becomes one bytecode chunk ending in RET. While emitting, the compiler
 * tracks the type and depth of the operand stack with the same stack
 * effects the verifier uses (opcodes.def), so max_stack and each chunk's
 * result type come out of emission rather than being trusted from the
 * checker. Strings and constants are deduplicated into pools. */
#include "lang/compile.h"
#include "lang/names.h"

#include <stdlib.h>
#include <string.h>

#include "lang/bcfile.h"
#include "lang/check.h"

/* --- instruction-set tables, expanded from the .def files --- */

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
_Static_assert(sizeof op_pops == DN_OPC_COUNT, "opcode table size");

typedef struct arith_row { dn_op op; dn_type lhs, rhs, res; } arith_row;
static const arith_row arith_rows[] = {
#define DN_ARITH(name, op, lhs, rhs, res) {DN_OP_##op, DN_T_##lhs, DN_T_##rhs, DN_T_##res},
#include "lang/arith.def"
#undef DN_ARITH
};
_Static_assert(sizeof arith_rows / sizeof arith_rows[0] == DN_AR_COUNT, "arith table size");

static const dn_type builtin_ret[] = {
#define DN_BUILTIN(id, name, ret, nargs, a1, a2, doc) DN_T_##ret,
#include "stdlib/builtins.def"
#undef DN_BUILTIN
};
static const unsigned char builtin_nargs[] = {
#define DN_BUILTIN(id, name, ret, nargs, a1, a2, doc) nargs,
#include "stdlib/builtins.def"
#undef DN_BUILTIN
};
_Static_assert(sizeof builtin_nargs == DN_B_COUNT, "builtin table size");

typedef struct field_row { dn_scope scope; dn_type type; } field_row;
static const field_row field_rows[] = {
#define DN_FIELD(scope, name, type, doc) {DN_SCOPE_##scope, DN_T_##type},
#include "lang/fields.def"
#undef DN_FIELD
};
_Static_assert(sizeof field_rows / sizeof field_rows[0] == DN_F_COUNT, "field table size");

static const char *const default_tones[] = {"friendly", "neutral", "firm", "final"};

/* --- compiler state --- */

typedef struct caps {
  uint32_t strings, consts, code, chunks, lines, tones, ladders, lets, segments,
      segrefs, escalations, steps, actions, events, rules, caps, externs;
} caps;

typedef struct cc {
  dn_program *p;
  const dn_ast *ast;
  dn_diags *diags;
  caps cap;
  dn_status status;   /* first failure; DN_OK while all is well */
  /* the chunk being emitted */
  uint32_t chunk_start;
  int depth, max_depth;
  dn_scope scope;
  /* lookups built in the first pass */
  const char **let_names; dn_type *let_types; dn_scope *let_scopes; int nlets;
  const char **seg_names; int nsegs;
  const char **ladder_names; int nladders;
  dn_names string_index, seg_index; /* pool string -> index, segment -> index */
  uint32_t *const_slots; uint32_t const_cap; /* constant dedup: index + 1, 0 empty */
} cc;

static void fail_oom(cc *c) {
  if (c->status == DN_OK) c->status = DN_ERR_INTERNAL;
}

static void fail_limit(cc *c, dn_span span, const char *what) {
  dn_diag_add(c->diags, DN_E0504, span, "policy too large to compile: %s", what);
  if (c->status == DN_OK) c->status = DN_ERR_INPUT;
}

/* Makes room for one more element in a growable array. */
static bool grow(cc *c, void **arr, uint32_t *cap, uint32_t n, size_t elem) {
  if (n < *cap) return true;
  uint32_t ncap = *cap ? *cap * 2 : 16;
  void *q = realloc(*arr, (size_t)ncap * elem);
  if (!q) { fail_oom(c); return false; }
  *arr = q;
  *cap = ncap;
  return true;
}

#define PUSH(c, arr, n, capfield) \
  (grow((c), (void **)&(c)->p->arr, &(c)->cap.capfield, (c)->p->n, sizeof *(c)->p->arr) \
       ? &(c)->p->arr[(c)->p->n++] : NULL)

static char *dup_str(cc *c, const char *s) {
  if (!s) return NULL;
  char *d = strdup(s);
  if (!d) fail_oom(c);
  return d;
}

/* Index of s in the string pool, adding it once. */
static int32_t intern(cc *c, const char *s) {
  if (!s) return DN_NONE;
  dn_program *p = c->p;
  int32_t known = dn_names_get(&c->string_index, s);
  if (known >= 0) return known;
  char *d = dup_str(c, s);
  if (!d) return DN_NONE;
  char **slot = PUSH(c, strings, nstrings, strings);
  if (!slot) { free(d); return DN_NONE; }
  *slot = d;
  if (!dn_names_put(&c->string_index, d, (int32_t)(p->nstrings - 1))) fail_oom(c);
  return (int32_t)(p->nstrings - 1);
}

static bool const_equal(const dn_const *a, const dn_const *b) {
  if (a->type != b->type) return false;
  switch (a->type) {
    case DN_T_BOOL: return a->as.b == b->as.b;
    case DN_T_INT: return a->as.i == b->as.i;
    case DN_T_NUMBER: return memcmp(&a->as.n, &b->as.n, sizeof a->as.n) == 0;
    case DN_T_MONEY: return a->as.m.minor == b->as.m.minor && a->as.m.cur == b->as.m.cur;
    case DN_T_DATE: return a->as.d == b->as.d;
    case DN_T_DURATION:
      return a->as.dur.days == b->as.dur.days && a->as.dur.business == b->as.dur.business;
    case DN_T_STRING: return a->as.str == b->as.str;
    default: return false;
  }
}

static uint64_t const_hash(const dn_const *k) {
  uint64_t v = 0;
  switch (k->type) {
    case DN_T_BOOL: v = k->as.b; break;
    case DN_T_INT: v = (uint64_t)k->as.i; break;
    case DN_T_NUMBER: memcpy(&v, &k->as.n, sizeof v); break;
    case DN_T_MONEY: v = (uint64_t)k->as.m.minor * 31u + k->as.m.cur; break;
    case DN_T_DATE: v = (uint64_t)(uint32_t)k->as.d; break;
    case DN_T_DURATION: v = (uint64_t)(uint32_t)k->as.dur.days * 2u + k->as.dur.business; break;
    default: v = k->as.str; break;
  }
  return (v ^ ((uint64_t)k->type << 56)) * 0x9E3779B97F4A7C15ull;
}

/* The slot of k in the dedup table: where it is, or the empty one. */
static uint32_t *const_slot(cc *c, const dn_const *k) {
  uint32_t i = (uint32_t)(const_hash(k) >> 32) & (c->const_cap - 1);
  while (c->const_slots[i] && !const_equal(&c->p->consts[c->const_slots[i] - 1], k))
    i = (i + 1) & (c->const_cap - 1);
  return &c->const_slots[i];
}

/* Keeps the table at most half full; a linear scan per literal made
 * compiling a 10,000-line policy quadratic. */
static bool const_table_room(cc *c) {
  if ((c->p->nconsts + 1) * 2 <= c->const_cap) return true;
  uint32_t cap = c->const_cap ? c->const_cap * 2 : 256;
  uint32_t *old = c->const_slots;
  c->const_slots = calloc(cap, sizeof *c->const_slots);
  if (!c->const_slots) { c->const_slots = old; fail_oom(c); return false; }
  free(old);
  c->const_cap = cap;
  for (uint32_t i = 0; i < c->p->nconsts; i++) *const_slot(c, &c->p->consts[i]) = i + 1;
  return true;
}

static int32_t add_const(cc *c, const dn_const *k, dn_span span) {
  dn_program *p = c->p;
  if (!const_table_room(c)) return DN_NONE;
  uint32_t *hit = const_slot(c, k);
  if (*hit) return (int32_t)(*hit - 1);
  if (p->nconsts >= 65535) { fail_limit(c, span, "more than 65535 constants"); return DN_NONE; }
  dn_const *slot = PUSH(c, consts, nconsts, consts);
  if (!slot) return DN_NONE;
  *slot = *k;
  *hit = p->nconsts;
  return (int32_t)(p->nconsts - 1);
}

/* --- emission --- */

static void emit_byte(cc *c, uint8_t b) {
  uint8_t *slot = PUSH(c, code, code_len, code);
  if (slot) *slot = b;
}

static void emit_u16(cc *c, uint32_t v) {
  emit_byte(c, (uint8_t)(v & 0xFF));
  emit_byte(c, (uint8_t)(v >> 8));
}

static void add_line(cc *c, uint32_t pc, dn_span span) {
  dn_line *l = PUSH(c, lines, nlines, lines);
  if (l) { l->pc = pc; l->span = span; }
}

static void stack_effect(cc *c, int pops, int pushes) {
  c->depth += pushes - pops;
  if (c->depth > c->max_depth) c->max_depth = c->depth;
}

/* Emits an opcode with a fixed stack effect; `line` records its span for
 * run-time errors and explain. */
static void emit_op(cc *c, dn_opcode op, const dn_span *line) {
  if (line) add_line(c, c->p->code_len, *line);
  emit_byte(c, (uint8_t)op);
  if (op_pops[op] >= 0) stack_effect(c, op_pops[op], op_pushes[op]);
}

static dn_type emit_const(cc *c, const dn_const *k, dn_span span) {
  int32_t idx = add_const(c, k, span);
  emit_op(c, DN_OPC_CONST, NULL);
  emit_u16(c, idx < 0 ? 0 : (uint32_t)idx);
  return k->type;
}

static int find_name(const char **names, int n, const char *name) {
  if (!name) return -1;
  for (int i = 0; i < n; i++)
    if (names[i] && strcmp(names[i], name) == 0) return i;
  return -1;
}

static dn_type emit_expr(cc *c, const dn_expr *e);

static dn_type emit_literal(cc *c, const dn_expr *e) {
  dn_const k;
  memset(&k, 0, sizeof k);
  switch (e->kind) {
    case DN_EX_BOOL:
      emit_op(c, e->b ? DN_OPC_TRUE : DN_OPC_FALSE, NULL);
      return DN_T_BOOL;
    case DN_EX_INT: k.type = DN_T_INT; k.as.i = e->i; break;
    case DN_EX_NUMBER: k.type = DN_T_NUMBER; k.as.n = e->n; break;
    case DN_EX_MONEY: k.type = DN_T_MONEY; k.as.m = e->money; break;
    case DN_EX_DATE: k.type = DN_T_DATE; k.as.d = e->date; break;
    case DN_EX_DURATION:
      k.type = DN_T_DURATION;
      k.as.dur.days = e->duration.days;
      k.as.dur.business = e->duration.business;
      break;
    default: {
      k.type = DN_T_STRING;
      int32_t s = intern(c, e->str ? e->str : "");
      k.as.str = s < 0 ? 0 : (uint32_t)s;
      break;
    }
  }
  return emit_const(c, &k, e->span);
}

/* A NAME is a let when a let of that name exists, otherwise a tone (the
 * checker has rejected anything else). */
static dn_type emit_name(cc *c, const dn_expr *e) {
  int li = e->let_index >= 0 && e->let_index < c->nlets
               ? e->let_index : find_name(c->let_names, c->nlets, e->str);
  if (li >= 0) {
    emit_op(c, DN_OPC_LET, &e->span);
    emit_u16(c, (uint32_t)li);
    if (c->let_scopes[li] == DN_SCOPE_INVOICE) c->scope = DN_SCOPE_INVOICE;
    return c->let_types[li];
  }
  emit_op(c, DN_OPC_TONE, NULL);
  emit_byte(c, (uint8_t)(e->tone_rank < 0 ? 0 : e->tone_rank));
  return DN_T_TONE;
}

static dn_type emit_field(cc *c, const dn_expr *e) {
  if ((unsigned)e->field >= DN_F_COUNT) return DN_T_ERROR;
  emit_op(c, DN_OPC_FIELD, &e->span);
  emit_byte(c, (uint8_t)e->field);
  if (field_rows[e->field].scope == DN_SCOPE_INVOICE) c->scope = DN_SCOPE_INVOICE;
  return field_rows[e->field].type;
}

static dn_type emit_attr(cc *c, const dn_expr *e) {
  int32_t s = intern(c, e->str ? e->str : "");
  if (s > 65535) fail_limit(c, e->span, "more than 65535 strings");
  emit_op(c, DN_OPC_ATTR, &e->span);
  emit_u16(c, s < 0 ? 0 : (uint32_t)s);
  return DN_T_STRING;
}

/* `a and b`: a; JUMP_IF_FALSE_KEEP end; b; end:  (or: JUMP_IF_TRUE_KEEP) */
static dn_type emit_logic(cc *c, const dn_expr *e) {
  emit_expr(c, e->lhs);
  emit_op(c, e->op == DN_OP_AND ? DN_OPC_JUMP_IF_FALSE_KEEP : DN_OPC_JUMP_IF_TRUE_KEEP, NULL);
  uint32_t patch = c->p->code_len;
  emit_u16(c, 0);
  stack_effect(c, 1, 0); /* the fall-through path pops the tested value */
  emit_expr(c, e->rhs);
  uint32_t target = c->p->code_len - c->chunk_start;
  if (target > 65535) { fail_limit(c, e->span, "an expression longer than 65535 bytes"); return DN_T_BOOL; }
  if (c->status == DN_OK) {
    c->p->code[patch] = (uint8_t)(target & 0xFF);
    c->p->code[patch + 1] = (uint8_t)(target >> 8);
  }
  return DN_T_BOOL;
}

static int find_arith(dn_op op, dn_type l, dn_type r) {
  for (int i = 0; i < DN_AR_COUNT; i++)
    if (arith_rows[i].op == op && arith_rows[i].lhs == l && arith_rows[i].rhs == r) return i;
  return -1;
}

static dn_type emit_binary(cc *c, const dn_expr *e) {
  if (e->op == DN_OP_AND || e->op == DN_OP_OR) return emit_logic(c, e);
  dn_type lt = emit_expr(c, e->lhs);
  dn_type rt = emit_expr(c, e->rhs);
  if (e->op >= DN_OP_EQ && e->op <= DN_OP_GE) {
    emit_op(c, DN_OPC_CMP, &e->span);
    emit_byte(c, (uint8_t)e->op);
    emit_byte(c, (uint8_t)lt);
    return DN_T_BOOL;
  }
  int v = find_arith(e->op, lt, rt);
  if (v < 0) {
    dn_diag_add(c->diags, DN_E0204, e->span, "internal: no arithmetic for %s and %s",
                dn_type_name(lt), dn_type_name(rt));
    if (c->status == DN_OK) c->status = DN_ERR_INTERNAL;
    return DN_T_ERROR;
  }
  emit_op(c, DN_OPC_ARITH, &e->span);
  emit_byte(c, (uint8_t)v);
  return arith_rows[v].res;
}

static dn_type emit_unary(cc *c, const dn_expr *e) {
  dn_type t = emit_expr(c, e->lhs);
  if (e->op == DN_OP_NOT) {
    emit_op(c, DN_OPC_NOT, NULL);
    return DN_T_BOOL;
  }
  emit_op(c, DN_OPC_NEG, &e->span);
  emit_byte(c, (uint8_t)t);
  return t;
}

static dn_type emit_in(cc *c, const dn_expr *e) {
  dn_type t = emit_expr(c, e->lhs);
  for (int i = 0; i < e->nitems; i++) emit_expr(c, e->items[i]);
  if (e->nitems > 255) fail_limit(c, e->span, "an `in` list of more than 255 values");
  emit_op(c, DN_OPC_IN, &e->span);
  emit_byte(c, (uint8_t)e->nitems);
  emit_byte(c, (uint8_t)t);
  stack_effect(c, e->nitems + 1, 1);
  return DN_T_BOOL;
}

static dn_type emit_call(cc *c, const dn_expr *e) {
  for (int i = 0; i < e->nitems; i++) emit_expr(c, e->items[i]);
  if (e->builtin >= 0 && e->builtin < DN_B_COUNT) {
    emit_op(c, DN_OPC_CALL, &e->span);
    emit_byte(c, (uint8_t)e->builtin);
    stack_effect(c, builtin_nargs[e->builtin], 1);
    return builtin_ret[e->builtin];
  }
  uint32_t x = (uint32_t)e->extern_index;
  dn_type ret = x < c->p->nexterns ? c->p->externs[x].ret : DN_T_ERROR;
  emit_op(c, DN_OPC_EXTERN, &e->span);
  emit_u16(c, x);
  stack_effect(c, e->nitems, 1);
  return ret;
}

static dn_type emit_expr_raw(cc *c, const dn_expr *e) {
  switch (e->kind) {
    case DN_EX_NAME: return emit_name(c, e);
    case DN_EX_FIELD: return emit_field(c, e);
    case DN_EX_ATTR: return emit_attr(c, e);
    case DN_EX_UNARY: return emit_unary(c, e);
    case DN_EX_BINARY: return emit_binary(c, e);
    case DN_EX_IN: return emit_in(c, e);
    case DN_EX_CALL: return emit_call(c, e);
    default: return emit_literal(c, e);
  }
}

static dn_type emit_expr(cc *c, const dn_expr *e) {
  dn_type t = emit_expr_raw(c, e);
  if (e->convert_to_number && t == DN_T_INT) {
    emit_op(c, DN_OPC_I2N, NULL);
    t = DN_T_NUMBER;
  }
  return t;
}

/* Compiles one expression into a new chunk; returns its index. A priority
 * is a number, so an int priority is converted here. */
static int32_t compile_chunk(cc *c, const dn_expr *e, bool is_priority) {
  if (!e) return DN_NONE;
  c->chunk_start = c->p->code_len;
  c->depth = c->max_depth = 0;
  c->scope = DN_SCOPE_CUSTOMER;
  dn_type t = emit_expr(c, e);
  if (is_priority && t == DN_T_INT) {
    emit_op(c, DN_OPC_I2N, NULL);
    t = DN_T_NUMBER;
  }
  emit_op(c, DN_OPC_RET, NULL);
  uint32_t len = c->p->code_len - c->chunk_start;
  if (len > 65535) fail_limit(c, e->span, "an expression longer than 65535 bytes");
  dn_chunk *ch = PUSH(c, chunks, nchunks, chunks);
  if (!ch) return DN_NONE;
  ch->start = c->chunk_start;
  ch->len = len;
  ch->max_stack = (uint16_t)(c->max_depth > 65535 ? 65535 : c->max_depth);
  ch->result = t;
  ch->scope = c->scope;
  return (int32_t)(c->p->nchunks - 1);
}

/* --- tables --- */

static int32_t add_ladder(cc *c, const char *name, const char *const *tones, int n) {
  dn_ladder *l = PUSH(c, ladders, nladders, ladders);
  if (!l) return DN_NONE;
  l->name = intern(c, name);
  l->first_tone = (int32_t)c->p->ntone_names;
  l->ntones = n;
  for (int i = 0; i < n; i++) {
    char *d = dup_str(c, tones[i]);
    char **slot = d ? PUSH(c, tone_names, ntone_names, tones) : NULL;
    if (!slot) { free(d); return DN_NONE; }
    *slot = d;
  }
  return (int32_t)(c->p->nladders - 1);
}

static void add_decl_ladder(cc *c, const dn_decl *d) {
  const char *names[256];
  int n = d->ntones < 256 ? d->ntones : 256;
  for (int i = 0; i < n; i++) names[i] = d->tones[i].name;
  add_ladder(c, d->name.name, names, n);
}

/* Ladder 0 is the default ladder "standard": the declared one, or the
 * implicit friendly < neutral < firm < final. The rest keep file order. */
static void build_ladders(cc *c) {
  const dn_ast *a = c->ast;
  const dn_decl *standard = NULL;
  for (int i = 0; i < a->ndecls; i++)
    if (a->decls[i].kind == DN_D_TONES && a->decls[i].name.name &&
        strcmp(a->decls[i].name.name, "standard") == 0)
      standard = &a->decls[i];
  if (standard) add_decl_ladder(c, standard);
  else add_ladder(c, "standard", default_tones, 4);
  for (int i = 0; i < a->ndecls; i++)
    if (a->decls[i].kind == DN_D_TONES && &a->decls[i] != standard)
      add_decl_ladder(c, &a->decls[i]);
  if (c->status != DN_OK) return;
  c->ladder_names = calloc(c->p->nladders + 1, sizeof *c->ladder_names);
  if (!c->ladder_names) { fail_oom(c); return; }
  for (uint32_t i = 0; i < c->p->nladders; i++)
    c->ladder_names[i] = c->p->strings[c->p->ladders[i].name];
  c->nladders = (int)c->p->nladders;
}

static void build_settings(cc *c, const dn_decl *d) {
  dn_program *p = c->p;
  switch (d->kind) {
    case DN_D_POLICY:
      free(p->name);
      p->name = dup_str(c, d->name.name ? d->name.name : "");
      p->version = d->version;
      break;
    case DN_D_CURRENCY:
      if (d->name.name) p->currency = dn_currency_lookup(d->name.name, strlen(d->name.name));
      break;
    case DN_D_TIMEZONE:
      free(p->timezone);
      p->timezone = dup_str(c, d->name.name ? d->name.name : "UTC");
      break;
    case DN_D_CALENDAR:
      free(p->calendar);
      p->calendar = dup_str(c, d->name.name);
      break;
    case DN_D_SEND_WINDOW:
      p->window_start = d->window_start;
      p->window_end = d->window_end;
      break;
    case DN_D_PROMISE_GRACE: p->promise_grace_days = d->duration.days; break;
    default: break;
  }
}

static void build_externs(cc *c, const dn_decl *d) {
  dn_extern_def *x = PUSH(c, externs, nexterns, externs);
  if (!x) return;
  memset(x, 0, sizeof *x);
  if (d->nparams > 8) fail_limit(c, d->span, "an extern fn with more than 8 parameters");
  x->name = intern(c, d->name.name);
  x->library = intern(c, d->library ? d->library : "");
  x->nparams = d->nparams > 8 ? 8 : d->nparams;
  for (int i = 0; i < x->nparams; i++) x->params[i] = d->param_types[i];
  x->ret = d->ret_type;
}

/* Let decls in the checker's order (dn_ast.lets), which let_index uses. */
static const dn_decl *let_decl(cc *c, int i) {
  return &c->ast->decls[c->ast->lets[i]];
}

static void build_lets(cc *c) {
  int n = c->ast->nlets;
  c->let_names = calloc((size_t)n + 1, sizeof *c->let_names);
  c->let_types = calloc((size_t)n + 1, sizeof *c->let_types);
  c->let_scopes = calloc((size_t)n + 1, sizeof *c->let_scopes);
  if (!c->let_names || !c->let_types || !c->let_scopes) { fail_oom(c); return; }
  if (n > 65535) fail_limit(c, let_decl(c, 0)->span, "more than 65535 lets");
  for (int i = 0; i < n && c->status == DN_OK; i++) {
    const dn_decl *d = let_decl(c, i);
    /* A let is visible only after its declaration, so compiling in order
     * means every referenced let already has its type. */
    int32_t ch = compile_chunk(c, d->expr, false);
    dn_let_def *l = PUSH(c, lets, nlets, lets);
    if (!l || ch < 0) return;
    l->name = intern(c, d->name.name);
    l->chunk = ch;
    c->let_names[i] = d->name.name;
    c->let_types[i] = c->p->chunks[ch].result;
    c->let_scopes[i] = c->p->chunks[ch].scope;
    c->nlets = i + 1;
  }
}

static void build_segment(cc *c, const dn_decl *d) {
  int32_t cond = d->otherwise ? DN_NONE : compile_chunk(c, d->expr, false);
  dn_segment_def *s = PUSH(c, segments, nsegments, segments);
  if (!s) return;
  s->name = intern(c, d->name.name);
  s->cond = cond;
  s->tone_shift = d->has_tone_shift ? d->tone_shift : 0;
  int l = d->ladder.name ? find_name(c->ladder_names, c->nladders, d->ladder.name) : 0;
  s->ladder = l < 0 ? 0 : l;
  s->assign = intern(c, d->assign);
}

/* Compiles a list of actions; returns the index of the first. */
static int32_t build_actions(cc *c, const dn_action *acts, int n) {
  int32_t first = (int32_t)c->p->nactions;
  for (int i = 0; i < n && c->status == DN_OK; i++) {
    const dn_action *a = &acts[i];
    int32_t prio = compile_chunk(c, a->priority, true);
    dn_action_def *x = PUSH(c, actions, nactions, actions);
    if (!x) break;
    x->kind = a->kind;
    x->tone_name = intern(c, a->tone.name);
    x->template_name = intern(c, a->template_name);
    x->priority = prio;
    x->assign = intern(c, a->assign);
    x->text = intern(c, a->text);
  }
  return first;
}

static void build_step(cc *c, const dn_step *st) {
  int32_t guard = compile_chunk(c, st->guard, false);
  int32_t first = build_actions(c, st->actions, st->nactions);
  dn_step_def *s = PUSH(c, steps, nsteps, steps);
  if (!s) return;
  s->offset_days = st->offset.days;
  s->business = st->offset.business;
  s->guard = guard;
  s->first_action = first;
  s->nactions = st->nactions;
  s->tone_name = DN_NONE;
  for (int i = 0; i < st->nactions; i++)
    if (st->actions[i].tone.name) { s->tone_name = intern(c, st->actions[i].tone.name); break; }
}

static void build_escalation(cc *c, const dn_decl *d) {
  int32_t first_ref = (int32_t)c->p->nsegment_refs;
  for (int i = 0; i < d->nsegments; i++) {
    int s = dn_names_get(&c->seg_index, d->segments[i].name);
    int32_t *r = PUSH(c, segment_refs, nsegment_refs, segrefs);
    if (r) *r = s;
  }
  int32_t unless = compile_chunk(c, d->expr, false);
  int32_t first_step = (int32_t)c->p->nsteps;
  for (int i = 0; i < d->nsteps && c->status == DN_OK; i++) build_step(c, &d->steps[i]);
  dn_escalation_def *e = PUSH(c, escalations, nescalations, escalations);
  if (!e) return;
  e->name = intern(c, d->name.name);
  e->first_segment = first_ref;
  e->nsegments = d->nsegments;
  e->unless_guard = unless;
  e->first_step = first_step;
  e->nsteps = d->nsteps;
}

static void build_event(cc *c, const dn_decl *d) {
  int32_t guard = compile_chunk(c, d->expr, false);
  int32_t first = build_actions(c, d->actions, d->nactions);
  dn_event_def *e = PUSH(c, events, nevents, events);
  if (!e) return;
  e->event = d->event;
  e->scope = d->scope;
  e->guard = guard;
  e->first_action = first;
  e->nactions = d->nactions;
}

static void build_rule(cc *c, const dn_decl *d) {
  int32_t cond = compile_chunk(c, d->expr, false);
  int32_t first = build_actions(c, d->actions, d->nactions);
  dn_rule_def *r = PUSH(c, rules, nrules, rules);
  if (!r) return;
  r->name = intern(c, d->name.name);
  r->scope = d->scope;
  r->cond = cond;
  r->first_action = first;
  r->nactions = d->nactions;
  r->once_per_days = d->duration.days;
}

static void build_caps(cc *c, const dn_decl *d) {
  for (int i = 0; i < d->ncaps; i++) {
    dn_cap_def *k = PUSH(c, caps, ncaps, caps);
    if (!k) return;
    k->count = (int32_t)d->caps[i].count;
    k->days = d->caps[i].window.days;
  }
}

static void collect_segment_names(cc *c) {
  const dn_ast *a = c->ast;
  c->seg_names = calloc((size_t)a->ndecls + 1, sizeof *c->seg_names);
  if (!c->seg_names) { fail_oom(c); return; }
  for (int i = 0; i < a->ndecls; i++)
    if (a->decls[i].kind == DN_D_SEGMENT) {
      if (!dn_names_put(&c->seg_index, a->decls[i].name.name, c->nsegs)) fail_oom(c);
      c->seg_names[c->nsegs++] = a->decls[i].name.name;
    }
}

static void build_program(cc *c) {
  const dn_ast *a = c->ast;
  for (int i = 0; i < a->ndecls; i++) build_settings(c, &a->decls[i]);
  build_ladders(c);
  for (int i = 0; i < a->ndecls; i++)
    if (a->decls[i].kind == DN_D_EXTERN) build_externs(c, &a->decls[i]);
  collect_segment_names(c);
  if (c->status != DN_OK) return;
  build_lets(c);
  for (int i = 0; i < a->ndecls && c->status == DN_OK; i++) {
    const dn_decl *d = &a->decls[i];
    switch (d->kind) {
      case DN_D_SEGMENT: build_segment(c, d); break;
      case DN_D_ESCALATION: build_escalation(c, d); break;
      case DN_D_ON: build_event(c, d); break;
      case DN_D_RULE: build_rule(c, d); break;
      case DN_D_LIMIT: build_caps(c, d); break;
      default: break;
    }
  }
}

static void init_program(cc *c) {
  dn_program *p = c->p;
  const dn_ast *a = c->ast;
  p->currency = DN_CUR_NONE;
  p->timezone = dup_str(c, "UTC");
  p->name = dup_str(c, "");
  p->window_start = 9 * 60;
  p->window_end = 17 * 60;
  p->source_hash = dn_fnv1a64(a->source ? a->source : "", a->source ? a->source_len : 0,
                              DN_FNV64_SEED);
  if (a->source) {
    p->source = malloc(a->source_len + 1);
    if (!p->source) { fail_oom(c); return; }
    memcpy(p->source, a->source, a->source_len);
    p->source[a->source_len] = '\0';
    p->source_len = (uint32_t)a->source_len;
  }
  p->filename = dup_str(c, a->filename);
}

dn_status dn_compile(const dn_ast *ast, dn_program **out, dn_diags *diags) {
  *out = NULL;
  cc c;
  memset(&c, 0, sizeof c);
  c.ast = ast;
  c.diags = diags;
  c.p = calloc(1, sizeof *c.p);
  if (!c.p) return DN_ERR_INTERNAL;
  init_program(&c);
  if (c.status == DN_OK) build_program(&c);
  free(c.let_names);
  free(c.let_types);
  free(c.let_scopes);
  free(c.seg_names);
  free(c.ladder_names);
  dn_names_free(&c.string_index);
  dn_names_free(&c.seg_index);
  free(c.const_slots);
  if (c.status != DN_OK) {
    dn_program_free(c.p);
    return c.status;
  }
  *out = c.p;
  return DN_OK;
}

dn_status dn_compile_source(const char *filename, const char *source, size_t len,
                            dn_program **out, dn_diags *diags) {
  *out = NULL;
  dn_ast ast;
  dn_status st = dn_parse(filename, source, len, &ast, diags);
  if (st == DN_OK) st = dn_check(&ast, diags);
  if (st == DN_OK) st = dn_compile(&ast, out, diags);
  else st = st == DN_ERR_INTERNAL ? st : DN_ERR_INPUT;
  dn_ast_free(&ast);
  return st;
}
