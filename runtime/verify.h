/* verify.h - the bytecode verifier, WebAssembly style.
 *
 * One pass over each chunk with a stack of operand types: every opcode
 * known, every operand index in range (constants, strings, fields, lets,
 * builtins, externs), jumps forward and inside the chunk, stack depth
 * within max_stack and never negative, operand types matching, and a
 * single value of the chunk's declared type at RET. Then every table
 * index (segments, ladders, steps, actions, chunks) and every chunk's
 * result type where a table uses it (conditions bool, priority number or
 * money). Lets may only refer to earlier lets, so evaluation terminates.
 * After this the VM runs without checks. */
#ifndef DN_VERIFY_H
#define DN_VERIFY_H

#include "lang/diag.h"
#include "lang/program.h"
#include "stdlib/status.h"

dn_status dn_verify(const dn_program *p, const char *filename, dn_diags *diags);

#endif
