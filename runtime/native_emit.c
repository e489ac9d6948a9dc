/* native_emit.c - a verified program's chunks as C (native.h).
 *
 * Each chunk becomes one function whose body follows the bytecode
 * instruction by instruction: a stack slot is a local the C compiler
 * keeps in registers, a jump is a goto, a field read is a load at the
 * offset this build of Dunlin has for it. What is not inlined calls the
 * VM for that single instruction (dn_vm_native_op) with the live stack
 * written to the VM's own stack first, so an instruction means one thing
 * whichever way it runs. The layout the generated code assumes is
 * spelled out in it and asserted at its compile time, and hashed into
 * the library so a library from another build is refused at load. */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lang/bcfile.h"
#include "runtime/facts.h"
#include "runtime/field_access.h"
#include "runtime/native.h"

/* Everything the generated code takes on trust, as text: hashed into
 * dn_native_abi() and printed into the source as static assertions. */
static void layout_text(char *buf, size_t len) {
  size_t n = (size_t)snprintf(
      buf, len, "dunlin-native 1 value %zu %zu %zu %zu %zu money %zu %zu %zu frame %zu types %d %d %d %d %d %d %d %d"
      " missing %d %d cur-none %d frame-cur %zu",
      sizeof(dn_value), offsetof(dn_value, missing), offsetof(dn_value, as),
      offsetof(dn_value, as.m.cur), sizeof(bool), sizeof(dn_money), offsetof(dn_money, minor),
      offsetof(dn_money, cur), sizeof(dn_native_frame), DN_T_BOOL, DN_T_INT, DN_T_NUMBER, DN_T_MONEY,
      DN_T_DATE, DN_T_STRING, DN_T_TONE, DN_T_DURATION, (int)DN_DATE_NONE, DN_OK, DN_CUR_NONE,
      offsetof(dn_native_frame, currency));
  for (int f = 0; f < DN_F_COUNT && n < len; f++) {
    const dn_field_access *a = &dn_field_table[f];
    n += (size_t)snprintf(buf + n, len - n, " %d:%d:%d:%d:%zu", f, (int)a->kind, (int)a->scope,
                          (int)a->type, a->offset);
  }
  if (n < len) dn_native_ladder_layout(buf + n, len - n);
}

uint64_t dn_native_abi(void) {
  char text[4096];
  layout_text(text, sizeof text);
  return dn_fnv1a64(text, strlen(text), DN_FNV64_SEED);
}

dn_status dn_native_program_id(const dn_program *p, uint64_t *id, dn_diags *diags) {
  uint8_t *buf = NULL;
  size_t len = 0;
  dn_status st = dn_bc_write(p, &buf, &len, diags);
  if (st == DN_OK) *id = dn_fnv1a64(buf, len, DN_FNV64_SEED);
  free(buf);
  return st;
}

/* ---- the generated source -------------------------------------------------- */

static const char prelude[] =
    "#include <stddef.h>\n"
    "#include <stdint.h>\n"
    "#include <string.h>\n\n"
    "typedef struct nv {\n"
    "  int type;\n"
    "  _Bool missing;\n"
    "  union {\n"
    "    _Bool b; int64_t i; double n; int32_t d; const char *s; int32_t tone;\n"
    "    struct { int64_t minor; uint16_t cur; } m;\n"
    "    struct { int32_t days; _Bool business; } dur;\n"
    "  } as;\n"
    "} nv;\n"
    "typedef struct frame {\n"
    "  void *vm;\n"
    "  int (*op)(void *vm, uint32_t pc, int32_t inv, nv *base, uint32_t depth);\n"
    "  const nv *k;\n"
    "  const char *c;\n"
    "  uint16_t cur;\n"
    "} frame;\n"
    "#define CMP3(a, b) (((a) > (b)) - ((a) < (b)))\n"
    /* strcmp's order (the first differing byte as unsigned char) without
     * the call: the texts compared are short (a tier, a country), and the
     * call was most of such a comparison's time. */
    "static inline int SCMP(const char *p, const char *q) {\n"
    "  const unsigned char *a = (const unsigned char *)p, *b = (const unsigned char *)q;\n"
    "  while (*a && *a == *b) a++, b++;\n"
    "  return CMP3(*a, *b);\n"
    "}\n"
    "#define AT(base, off, T) (*(const T *)((base) + (off)))\n\n";

static void emit_asserts(FILE *out) {
  fprintf(out,
          "_Static_assert(sizeof(nv) == %zu && offsetof(nv, missing) == %zu && offsetof(nv, as) == %zu"
          " && offsetof(nv, as.m.cur) == %zu, \"value layout\");\n"
          "_Static_assert(sizeof(_Bool) == %zu && sizeof(frame) == %zu && offsetof(frame, cur) == %zu,"
          " \"frame layout\");\n\n",
          sizeof(dn_value), offsetof(dn_value, missing), offsetof(dn_value, as),
          offsetof(dn_value, as.m.cur), sizeof(bool), sizeof(dn_native_frame),
          offsetof(dn_native_frame, currency));
}

/* The C relation for a CMP operand over CMP3's -1/0/1, as the VM's
 * relation() reads it (NaN compares "equal" there, so here too). */
static const char *relation(int rel) {
  switch (rel) {
    case DN_OP_EQ: return "== 0";
    case DN_OP_NE: return "!= 0";
    case DN_OP_LT: return "< 0";
    case DN_OP_LE: return "<= 0";
    case DN_OP_GT: return "> 0";
    default: return ">= 0";
  }
}

static void emit_field(FILE *out, int d, dn_field_id f) {
  const dn_field_access *a = &dn_field_table[f];
  const char *base = a->scope == DN_SCOPE_INVOICE ? "in" : "f->c";
  fprintf(out, "  s[%d].type = %d; s[%d].missing = 0;\n", d, (int)a->type, d);
  switch (a->kind) {
    case DN_FA_BOOL: fprintf(out, "  s[%d].as.b = AT(%s, %zu, _Bool);\n", d, base, a->offset); break;
    case DN_FA_I32: fprintf(out, "  s[%d].as.i = AT(%s, %zu, int32_t);\n", d, base, a->offset); break;
    case DN_FA_F64: fprintf(out, "  s[%d].as.n = AT(%s, %zu, double);\n", d, base, a->offset); break;
    case DN_FA_DATE:
      fprintf(out, "  s[%d].as.d = AT(%s, %zu, int32_t); s[%d].missing = s[%d].as.d == %d;\n", d, base,
              a->offset, d, d, (int)DN_DATE_NONE);
      break;
    case DN_FA_MONEY:
      fprintf(out,
              "  s[%d].as.m.minor = AT(%s, %zu, int64_t); s[%d].as.m.cur = AT(%s, %zu, uint16_t);"
              " s[%d].missing = s[%d].as.m.cur == %d;\n",
              d, base, a->offset + offsetof(dn_money, minor), d, base, a->offset + offsetof(dn_money, cur),
              d, d, DN_CUR_NONE);
      break;
    case DN_FA_PMONEY:
      fprintf(out, "  s[%d].as.m.minor = AT(%s, %zu, int64_t); s[%d].as.m.cur = f->cur;\n", d, base,
              a->offset, d);
      break;
    case DN_FA_STR:
      fprintf(out, "  s[%d].as.s = AT(%s, %zu, const char *); if (!s[%d].as.s) s[%d].as.s = \"\";\n", d,
              base, a->offset, d, d);
      break;
    case DN_FA_VM: break;
  }
}

/* dst = src for a value of type t, member by member: a whole-struct copy
 * right after narrower stores to its parts is a store-forwarding stall
 * (it was most of a compiled guard's time under perf). */
static void emit_copy(FILE *out, const char *dst, const char *src, dn_type t) {
  const char *m = NULL;
  switch (t) {
    case DN_T_BOOL: m = "b"; break;
    case DN_T_INT: m = "i"; break;
    case DN_T_NUMBER: m = "n"; break;
    case DN_T_DATE: m = "d"; break;
    case DN_T_STRING: m = "s"; break;
    case DN_T_TONE: m = "tone"; break;
    case DN_T_MONEY:
      fprintf(out, "  %s.as.m.minor = %s.as.m.minor; %s.as.m.cur = %s.as.m.cur;\n", dst, src, dst, src);
      break;
    case DN_T_DURATION:
      fprintf(out, "  %s.as.dur.days = %s.as.dur.days; %s.as.dur.business = %s.as.dur.business;\n", dst, src,
              dst, src);
      break;
    default: fprintf(out, "  %s = %s;\n", dst, src); return;
  }
  if (m) fprintf(out, "  %s.as.%s = %s.as.%s;\n", dst, m, src, m);
  fprintf(out, "  %s.type = %s.type; %s.missing = %s.missing;\n", dst, src, dst, src);
}

/* The instruction at pc through the VM: the live stack is written to the
 * VM's, the one result read back. */
static void emit_vm_op(FILE *out, uint32_t pc, int depth, int after) {
  for (int i = 0; i < depth; i++) fprintf(out, "  base[%d] = s[%d];\n", i, i);
  fprintf(out, "  if ((st = f->op(f->vm, %uu, inv, base, %d)) != %d) return st;\n", pc, depth, DN_OK);
  if (after > 0) fprintf(out, "  s[%d] = base[%d];\n", after - 1, after - 1);
}

/* The payload a comparison of type t compares (the VM's compare()), or
 * NULL when the VM must do it. */
static const char *compared(dn_type t) {
  switch (t) {
    case DN_T_BOOL: return "b";
    case DN_T_INT: return "i";
    case DN_T_NUMBER: return "n";
    case DN_T_MONEY: return "m.minor";
    case DN_T_DATE: return "d";
    case DN_T_DURATION: return "dur.days";
    case DN_T_TONE: return "tone";
    default: return NULL;
  }
}

static void emit_cmp(FILE *out, uint32_t pc, int d, int rel, dn_type t) {
  int a = d - 2, b = d - 1;
  const char *r = relation(rel), *m = compared(t);
  if (t == DN_T_STRING) {
    fprintf(out, "  s[%d].as.b = !s[%d].missing && !s[%d].missing && SCMP(s[%d].as.s, s[%d].as.s) %s;\n",
            a, a, b, a, b, r);
  } else if (!m) {
    emit_vm_op(out, pc, d, d - 1);
    return;
  } else {
    /* Two currencies go through the VM: it converts, or fails. */
    if (t == DN_T_MONEY) {
      fprintf(out, "  if (!s[%d].missing && !s[%d].missing && s[%d].as.m.cur != s[%d].as.m.cur) {\n", a, b, a, b);
      emit_vm_op(out, pc, d, d - 1);
      fprintf(out, "  } else {\n");
    }
    fprintf(out, "  s[%d].as.b = !s[%d].missing && !s[%d].missing && CMP3(s[%d].as.%s, s[%d].as.%s) %s;\n",
            a, a, b, a, m, b, m, r);
    if (t == DN_T_MONEY) fprintf(out, "  }\n");
  }
  fprintf(out, "  s[%d].type = %d; s[%d].missing = 0;\n", a, DN_T_BOOL, a);
}

/* Values an instruction takes off the stack, its operands resolved. */
static int pops_of(const dn_program *p, const uint8_t *ip) {
  static const signed char pops[] = {
#define DN_OP(name, operands, pops, pushes, doc) pops,
#include "lang/opcodes.def"
#undef DN_OP
  };
  static const signed char builtin_args[] = {
#define DN_BUILTIN(id, name, ret, nargs, a1, a2, doc) nargs,
#include "stdlib/builtins.def"
#undef DN_BUILTIN
  };
  switch (*ip) {
    case DN_OPC_IN: return ip[1] + 1;
    case DN_OPC_CALL: return builtin_args[ip[1]];
    case DN_OPC_EXTERN: return p->externs[ip[1] | ip[2] << 8].nparams;
    default: return pops[*ip];
  }
}

/* Every instruction of chunk ci is compiled inline (a money comparison
 * across currencies aside): a let of that kind is called directly, for
 * less than the VM's memo costs to look up. Its value is the same either
 * way (an expression is pure; what could be seen twice, an extern fn, is
 * not inline). */
static bool inline_only(const dn_program *p, uint32_t ci) {
  const dn_chunk *c = &p->chunks[ci];
  for (uint32_t off = 0; off < c->len;) {
    const uint8_t *ip = p->code + c->start + off;
    int size = dn_opcode_operand_size(*ip);
    if (size < 0) return false;
    switch ((dn_opcode)*ip) {
      case DN_OPC_CONST: case DN_OPC_TRUE: case DN_OPC_FALSE: case DN_OPC_TONE: case DN_OPC_I2N:
      case DN_OPC_NOT: case DN_OPC_JUMP_IF_FALSE_KEEP: case DN_OPC_JUMP_IF_TRUE_KEEP: case DN_OPC_RET:
        break;
      case DN_OPC_FIELD:
        if (ip[1] >= DN_F_COUNT || dn_field_table[ip[1]].kind == DN_FA_VM) return false;
        break;
      case DN_OPC_CMP:
        if (ip[2] != DN_T_STRING && !compared((dn_type)ip[2])) return false;
        break;
      default: return false;
    }
    off += 1u + (uint32_t)size;
  }
  return true;
}

static bool emit_let(FILE *out, const dn_program *p, uint32_t idx, int d) {
  if (idx >= p->nlets) return false;
  int32_t lc = p->lets[idx].chunk;
  if (lc < 0 || (uint32_t)lc >= p->nchunks || !inline_only(p, (uint32_t)lc)) return false;
  char dst[16];
  snprintf(dst, sizeof dst, "s[%d]", d);
  fprintf(out, "  { nv t; if ((st = chunk%d(f, in, inv, base + %d, &t)) != %d) return st;\n", lc, d, DN_OK);
  emit_copy(out, dst, "t", p->chunks[lc].result);
  fprintf(out, "  }\n");
  return true;
}

/* One instruction; returns the depth after it, -1 when the bytecode is
 * not what the verifier lets through. depth_at[] holds the depth each
 * jump target is reached with. */
static int emit_op(FILE *out, const dn_program *p, const dn_chunk *c, uint32_t pc, int d, int *depth_at) {
  const uint8_t *ip = p->code + pc;
#define U16 ((uint32_t)ip[1] | (uint32_t)ip[2] << 8) /* only where the operand is one */
  switch ((dn_opcode)*ip) {
    case DN_OPC_CONST: {
      char dst[16], src[32];
      snprintf(dst, sizeof dst, "s[%d]", d);
      snprintf(src, sizeof src, "f->k[%u]", U16);
      emit_copy(out, dst, src, p->consts[U16].type);
      return d + 1;
    }
    case DN_OPC_TRUE: case DN_OPC_FALSE:
      fprintf(out, "  s[%d].type = %d; s[%d].missing = 0; s[%d].as.b = %d;\n", d, DN_T_BOOL, d, d,
              *ip == DN_OPC_TRUE);
      return d + 1;
    case DN_OPC_TONE:
      fprintf(out, "  s[%d].type = %d; s[%d].missing = 0; s[%d].as.tone = %d;\n", d, DN_T_TONE, d, d, ip[1]);
      return d + 1;
    case DN_OPC_FIELD:
      if (ip[1] < DN_F_COUNT && dn_field_table[ip[1]].kind != DN_FA_VM) {
        emit_field(out, d, (dn_field_id)ip[1]);
        return d + 1;
      }
      emit_vm_op(out, pc, d, d + 1);
      return d + 1;
    case DN_OPC_I2N:
      fprintf(out, "  s[%d].type = %d; s[%d].as.n = (double)s[%d].as.i;\n", d - 1, DN_T_NUMBER, d - 1, d - 1);
      return d;
    case DN_OPC_NOT: fprintf(out, "  s[%d].as.b = !s[%d].as.b;\n", d - 1, d - 1); return d;
    case DN_OPC_CMP: emit_cmp(out, pc, d, ip[1], (dn_type)ip[2]); return d - 1;
    case DN_OPC_JUMP_IF_FALSE_KEEP: case DN_OPC_JUMP_IF_TRUE_KEEP: {
      uint32_t u16 = U16, target = c->start + u16;
      if (u16 >= c->len || (depth_at[u16] >= 0 && depth_at[u16] != d)) return -1;
      depth_at[u16] = d;
      fprintf(out, "  if (%ss[%d].as.b) goto L%u;\n", *ip == DN_OPC_JUMP_IF_TRUE_KEEP ? "" : "!", d - 1,
              target);
      return d - 1;
    }
    case DN_OPC_LET:
      if (emit_let(out, p, U16, d)) return d + 1;
      emit_vm_op(out, pc, d, d + 1);
      return d + 1;
    case DN_OPC_RET: {
      char src[16];
      snprintf(src, sizeof src, "s[%d]", d - 1);
      emit_copy(out, "(*out)", src, c->result);
      fprintf(out, "  return %d;\n", DN_OK);
      return d - 1;
    }
    default: {
      int after = d - pops_of(p, ip) + 1;
      emit_vm_op(out, pc, d, after);
      return after;
    }
  }
#undef U16
}

static dn_status emit_chunk(FILE *out, const dn_program *p, uint32_t ci, dn_diags *diags) {
  const dn_chunk *c = &p->chunks[ci];
  int *depth_at = malloc(((size_t)c->len + 1) * sizeof *depth_at);
  if (!depth_at) return DN_ERR_INTERNAL;
  for (uint32_t i = 0; i <= c->len; i++) depth_at[i] = -1;
  fprintf(out, "static int chunk%u(const frame *f, const char *in, int32_t inv, nv *base, nv *out) {\n", ci);
  fprintf(out, "  nv s[%u]; int st;\n  (void)in; (void)inv; (void)base; (void)st;\n", c->max_stack + 1u);
  int d = 0;
  bool reachable = true;
  for (uint32_t off = 0; off < c->len;) {
    const uint8_t *ip = p->code + c->start + off;
    if (depth_at[off] >= 0) {
      if (reachable && d != depth_at[off]) break;
      d = depth_at[off];
      reachable = true;
      fprintf(out, "L%u:\n", c->start + off);
    }
    int size = dn_opcode_operand_size(*ip);
    if (!reachable || size < 0) {
      d = -1;
      break;
    }
    fprintf(out, "  /* %04u %s */\n", off, dn_opcode_name(*ip));
    if ((d = emit_op(out, p, c, c->start + off, d, depth_at)) < 0) break;
    reachable = *ip != DN_OPC_RET;
    off += 1u + (uint32_t)size;
  }
  free(depth_at);
  fprintf(out, "}\n\n");
  if (d >= 0 && !reachable) return DN_OK;
  dn_diag_add_at(diags, DN_E0509, p->filename ? p->filename : "policy", 0,
                 "chunk %u cannot be compiled to C (is the program verified?)", ci);
  return DN_ERR_INPUT;
}

dn_status dn_native_emit(const dn_program *p, FILE *out, dn_diags *diags) {
  uint64_t id;
  dn_status st = dn_native_program_id(p, &id, diags);
  if (st != DN_OK) return st;
  /* The name goes into a comment: only characters that cannot end it. */
  char name[64];
  size_t n = 0;
  for (const char *c = p->name ? p->name : ""; *c && n < sizeof name - 1; c++)
    name[n++] = isalnum((unsigned char)*c) || *c == '-' || *c == '_' || *c == '.' ? *c : '?';
  name[n] = '\0';
  fprintf(out, "/* Generated by `dunlin compile --native` from policy \"%s\" version %lld.\n"
               " * Do not edit: it is refused unless it matches its policy exactly. */\n",
          name, (long long)p->version);
  fputs(prelude, out);
  emit_asserts(out);
  for (uint32_t ci = 0; ci < p->nchunks; ci++)
    fprintf(out, "static int chunk%u(const frame *f, const char *in, int32_t inv, nv *base, nv *out);\n", ci);
  fputc('\n', out);
  for (uint32_t ci = 0; ci < p->nchunks; ci++)
    if ((st = emit_chunk(out, p, ci, diags)) != DN_OK) return st;
  dn_native_emit_ladders(p, out);
  fprintf(out, "const uint64_t dunlin_native_abi = 0x%016llxULL;\n", (unsigned long long)dn_native_abi());
  fprintf(out, "const uint64_t dunlin_native_program = 0x%016llxULL;\n", (unsigned long long)id);
  fprintf(out, "const uint32_t dunlin_native_nchunks = %uu;\n", p->nchunks);
  fprintf(out, "int (*const dunlin_native_chunks[])(const frame *, const char *, int32_t, nv *, nv *) = {\n");
  for (uint32_t ci = 0; ci < p->nchunks; ci++) fprintf(out, "  chunk%u,\n", ci);
  fprintf(out, "  0\n};\n");
  return ferror(out) ? DN_ERR_INTERNAL : DN_OK;
}
