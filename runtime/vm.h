/* vm.h - the expression VM.
 *
 * Evaluates one chunk of a verified program against one customer's facts
 * (and, for invoice-scope chunks, one invoice). Because the verifier has
 * proved stack depth, operand types, jump targets and indices, the loop
 * does no such checks; it only reports what data can still make fail at
 * run time (a missing fx rate, overflow, division by zero).
 *
 * A dn_vm holds no global state: one per thread, reusable across
 * customers. Let values are memoised per customer (and per invoice for
 * invoice-scope lets). */
#ifndef DN_VM_H
#define DN_VM_H

#include "lang/program.h"
#include "runtime/facts.h"
#include "runtime/native.h"
#include "runtime/value.h"
#include "stdlib/calendar.h"
#include "stdlib/status.h"

typedef struct dn_vm dn_vm;

typedef struct dn_vm_env {
  const dn_program *program;
  const dn_calendar *calendar;   /* policy calendar, for business-day builtins */
  dn_date as_of;
  void *const *extern_fns;       /* resolved extern functions, or NULL */
  /* Converts money into another currency at the run date's rate (the
   * ledger's fx_rates). Used when an expression mixes a literal in one
   * currency with ledger money, which arrives in the policy currency.
   * NULL: mixing currencies is a run-time error. Returns false when no
   * rate exists (the VM then reports E0501 for that invoice). */
  bool (*convert)(void *ctx, dn_money in, uint16_t to, dn_money *out);
  void *convert_ctx;
  /* The program's chunks compiled to machine code (runtime/native.h), or
   * NULL to interpret them. Same results either way. */
  const dn_native *native;
} dn_vm_env;

dn_vm *dn_vm_new(const dn_vm_env *env);
void dn_vm_free(dn_vm *vm);
/* Starts a new customer: forgets memoised lets. `ladder` is the index of
 * the customer's tone ladder (for TONE values); -1 before segmentation. */
void dn_vm_begin_customer(dn_vm *vm, const dn_customer_facts *c, int ladder);
/* Evaluates chunk `chunk` with invoice `invoice` (-1 for customer scope).
 * On failure returns DN_ERR_INPUT and writes a one-line reason to err. */
dn_status dn_vm_eval(dn_vm *vm, int32_t chunk, int32_t invoice, dn_value *out,
                     char *err, size_t errlen);
/* A native library's entry points, for a caller that evaluates chunks by
 * the million (the engine) and calls them without dn_vm_eval's checks:
 * chunks[c](frame, invoice facts or NULL, invoice, stack, out), the
 * chunk index and invoice already known valid. A failure there carries
 * no reason: evaluate the chunk again with dn_vm_eval to have it (the
 * evaluation is pure, so it fails the same way). False without a
 * native library. */
typedef struct dn_vm_direct {
  const dn_native_frame *frame;
  dn_value *stack;
  const dn_native_chunk *chunks;
} dn_vm_direct;
bool dn_vm_direct_entry(dn_vm *vm, dn_vm_direct *out);
/* For compiled chunks (runtime/native.h): executes the one instruction at
 * absolute pc on the stack base[0..depth), leaving its result on top. */
dn_status dn_vm_native_op(dn_vm *vm, uint32_t pc, int32_t inv, dn_value *base, uint32_t depth);

#endif
