/* native.h - a policy's expressions compiled to machine code (docs/native.md).
 *
 * The VM interprets a chunk instruction by instruction; for a ledger of
 * millions of invoices evaluated every morning that dispatch is most of
 * the cost of a decision (bench/eval). `dunlin compile --native` turns
 * each chunk of a verified program into a C function, one straight-line
 * translation of its bytecode, and has the system C compiler make a
 * shared library of them. The runtime loads that library for the very
 * program it was made from and calls its functions where it would have
 * run the loop: nothing else of a run changes, so decisions, records and
 * explain output are byte for byte the interpreter's.
 *
 * Only the common instructions are inlined (constants, fields, tones,
 * and/or/not, comparisons of all but money in two currencies); every
 * other one, and every failure path, calls back into the
 * VM's own code for that one instruction (dn_vm_native_op), so there is
 * one definition of what an instruction means.
 *
 * A native library is code, not data: it is trusted as an --allow-ffi
 * library is, and is refused unless it was made by this build of Dunlin
 * (the layout of values and facts it was compiled against) for this
 * program (a hash of its bytecode). */
#ifndef DN_NATIVE_H
#define DN_NATIVE_H

#include <stdint.h>
#include <stdio.h>

#include "lang/diag.h"
#include "lang/program.h"
#include "runtime/value.h"
#include "stdlib/status.h"

typedef struct dn_vm dn_vm;

/* What a compiled chunk is handed: the VM, its one-instruction fallback,
 * the program's constants as values and the customer being decided. The
 * generated code declares the same layout (checked by static assertions
 * it carries and by the ABI hash). */
typedef struct dn_native_frame {
  dn_vm *vm;
  dn_status (*op)(dn_vm *vm, uint32_t pc, int32_t inv, dn_value *base, uint32_t depth);
  const dn_value *consts;
  const void *customer;   /* const dn_customer_facts * */
  uint16_t currency;      /* the program's: an invoice's amounts are in it (DN_FA_PMONEY) */
} dn_native_frame;

/* A compiled chunk: evaluates with invoice `inv` (its facts at `invoice`,
 * NULL for none); `base` is free VM stack for the out-of-line
 * instructions. Same result and status as the VM's loop. */
typedef dn_status (*dn_native_chunk)(const dn_native_frame *f, const void *invoice, int32_t inv,
                                     dn_value *base, dn_value *out);

struct dn_step_decision;

/* Business days from an invoice's due date to the run date (its days
 * past due when the run has no calendar), for a ladder counting them. */
typedef int32_t (*dn_native_bdays)(void *ctx, int32_t due_date, int32_t days_past_due);

/* A compiled escalation (runtime/native_ladder.c): the step due for each
 * open invoice of the customer at f->customer, as the engine's decision
 * walk gives it, written to out (room for one per invoice); `tones` is
 * the segment's tone per step, and -1 at index -1 (no step). Returns how
 * many were written, or -1 when the engine must decide the customer
 * itself (an error to report). */
typedef int32_t (*dn_native_escalation)(const dn_native_frame *f, dn_value *base, const int32_t *tones,
                                        dn_native_bdays bdays, void *bctx, struct dn_step_decision *out);

typedef struct dn_native {
  void *handle;
  uint32_t nchunks;
  const dn_native_chunk *chunks;
  const dn_native_escalation *escalations; /* one per program escalation */
} dn_native;

/* The layout the generated code is compiled against, hashed. */
uint64_t dn_native_abi(void);
/* The program a library belongs to: a hash of its bytecode file. */
dn_status dn_native_program_id(const dn_program *p, uint64_t *id, dn_diags *diags);

/* Writes the C source of p's chunks and ladders (p verified). */
dn_status dn_native_emit(const dn_program *p, FILE *out, dn_diags *diags);
/* The ladders' part of it (after the chunks), and the layout it reads,
 * as text for the ABI hash. */
void dn_native_emit_ladders(const dn_program *p, FILE *out);
size_t dn_native_ladder_layout(char *buf, size_t len);
/* Emits to a temporary file beside `so_path` and runs the C compiler
 * ($CC, else cc) to make the shared library there; the file at so_path is
 * replaced only by a complete library. E0509 when the compiler is missing or fails. */
dn_status dn_native_build(const dn_program *p, const char *so_path, dn_diags *diags);
/* Loads a library made by dn_native_build for p. E0509 when it is not a
 * Dunlin native library, was made by another build, or for another program. */
dn_status dn_native_load(const char *so_path, const dn_program *p, dn_native **out,
                         dn_diags *diags);
void dn_native_free(dn_native *n);

#endif
