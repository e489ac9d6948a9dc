/* program.c - the compiled program's lifetime and the instruction-set
 * tables derived from opcodes.def and arith.def.
 *
 * The operand sizes and names are expanded from the .def files here so
 * the compiler, bcfile reader, verifier, VM and disassembler agree on one
 * definition of every instruction. */
#include "lang/program.h"

#include <stdio.h>
#include <stdlib.h>

/* Operand layouts of opcodes.def, in bytes after the opcode. */
enum { DN_OPND_N = 0, DN_OPND_B = 1, DN_OPND_H = 2, DN_OPND_BB = 2, DN_OPND_BH = 3 };

static const signed char op_sizes[] = {
#define DN_OP(name, operands, pops, pushes, doc) DN_OPND_##operands,
#include "lang/opcodes.def"
#undef DN_OP
};

static const char *const op_names[] = {
#define DN_OP(name, operands, pops, pushes, doc) #name,
#include "lang/opcodes.def"
#undef DN_OP
};

static const char *const arith_names[] = {
#define DN_ARITH(name, op, lhs, rhs, res) #name,
#include "lang/arith.def"
#undef DN_ARITH
};

_Static_assert(sizeof op_sizes / sizeof op_sizes[0] == DN_OPC_COUNT,
               "opcodes.def expanded to a different count");
_Static_assert(sizeof op_names / sizeof op_names[0] == DN_OPC_COUNT,
               "opcodes.def expanded to a different count");
_Static_assert(sizeof arith_names / sizeof arith_names[0] == DN_AR_COUNT,
               "arith.def expanded to a different count");
_Static_assert(DN_OPC_COUNT <= 256, "an opcode must fit in one byte");
_Static_assert(DN_AR_COUNT <= 256, "an arith variant must fit in one byte");

int dn_opcode_operand_size(uint8_t op) {
  return op < DN_OPC_COUNT ? op_sizes[op] : -1;
}

const char *dn_opcode_name(uint8_t op) {
  return op < DN_OPC_COUNT ? op_names[op] : "?";
}

const char *dn_arith_name(uint8_t variant) {
  return variant < DN_AR_COUNT ? arith_names[variant] : "?";
}

static void free_strings(char **s, uint32_t n) {
  if (!s) return;
  for (uint32_t i = 0; i < n; i++) free(s[i]);
  free(s);
}

void dn_program_free(dn_program *p) {
  if (!p) return;
  free(p->name);
  free(p->timezone);
  free(p->calendar);
  free_strings(p->strings, p->nstrings);
  free(p->consts);
  free(p->code);
  free(p->chunks);
  free(p->lines);
  free_strings(p->tone_names, p->ntone_names);
  free(p->ladders);
  free(p->lets);
  free(p->segments);
  free(p->segment_refs);
  free(p->escalations);
  free(p->steps);
  free(p->actions);
  free(p->events);
  free(p->rules);
  free(p->caps);
  free(p->externs);
  free(p->source);
  free(p->filename);
  free(p);
}

const char *dn_step_label(const dn_step_def *s, char buf[16]) {
  snprintf(buf, 16, "%d%s", (int)s->offset_days, s->business ? "bd" : "d");
  return buf;
}
