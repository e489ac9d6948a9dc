/* disasm.h - human-readable listing of a program, SQLite-VDBE style:
 * tables first, then each chunk as `addr opcode operands comment`.
 * Survives invalid opcodes and operands (prints them as such), since
 * people run it on corrupt files. */
#ifndef DN_DISASM_H
#define DN_DISASM_H

#include <stdio.h>
#include "lang/program.h"

void dn_disasm(const dn_program *p, FILE *out);

#endif
