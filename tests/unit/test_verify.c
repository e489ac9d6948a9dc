/* test_verify.c - the verifier rejects each kind of bad chunk and bad
 * table with a message that says what is wrong, and accepts good code.
 *
 * Each case starts from a program that verifies and breaks exactly one
 * thing, so the expected message pins down which rule fired. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lang/program.h"
#include "runtime/verify.h"

#include "asm.h"

#define JIFK(t) DN_OPC_JUMP_IF_FALSE_KEEP, LO(t), HI(t)

/* Verifies p and expects a rejection whose message contains `want`. */
static void expect_reject(dn_program *p, const char *want) {
  dn_diags d;
  dn_diags_init(&d, "bad.dbc", NULL, 0);
  assert_int_equal(dn_verify(p, "bad.dbc", &d), DN_ERR_INPUT);
  bool found = false;
  for (size_t i = 0; i < d.count; i++) {
    assert_int_equal(d.items[i].code, DN_E0504);
    assert_string_equal(d.items[i].file, "bad.dbc");
    if (strstr(d.items[i].message, want)) found = true;
  }
  if (!found)
    for (size_t i = 0; i < d.count; i++) fprintf(stderr, "  got: %s\n", d.items[i].message);
  assert_true(found);
  dn_diags_free(&d);
  dn_program_free(p);
}

static void expect_ok(dn_program *p) {
  dn_diags d;
  dn_diags_init(&d, "good.dbc", NULL, 0);
  dn_status st = dn_verify(p, "good.dbc", &d);
  for (size_t i = 0; i < d.count; i++) fprintf(stderr, "  got: %s\n", d.items[i].message);
  assert_int_equal(st, DN_OK);
  dn_diags_free(&d);
  dn_program_free(p);
}

static void test_good_program(void **state) {
  (void)state;
  dn_program *p = prog_new();
  uint32_t k = k_money(p, 50000);
  /* customer.total_overdue >= 500 USD and customer.open_invoices > 2 */
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, FIELD(DN_F_CUSTOMER_total_overdue), CONST(k),
        CMP(DN_OP_GE, DN_T_MONEY), JIFK(19), FIELD(DN_F_CUSTOMER_open_invoices), CONST(k_int(p, 2)),
        CMP(DN_OP_GT, DN_T_INT), RET);
  /* due_date + 3 business days < 2026-03-10 */
  CHUNK(p, DN_T_BOOL, DN_SCOPE_INVOICE, 2, FIELD(DN_F_INVOICE_due_date), CONST(k_dur(p, 3, true)),
        ARITH(DN_AR_ADD_DATE_DUR), CONST(k_date(p, 2026, 3, 10)), CMP(DN_OP_LT, DN_T_DATE), RET);
  /* risk_score in [0.5, 0.7] */
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 3, FIELD(DN_F_CUSTOMER_risk_score), CONST(k_num(p, 0.5)),
        CONST(k_num(p, 0.7)), DN_OPC_IN, 2, DN_T_NUMBER, RET);
  expect_ok(p);
}

static void test_underflow(void **state) {
  (void)state;
  dn_program *p = prog_new();
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, DN_OPC_NOT, RET);
  expect_reject(p, "chunk 0 at pc 0: stack underflow");
}

static void test_bad_jumps(void **state) {
  (void)state;
  dn_program *p = prog_new();
  /* lands inside the operand bytes of the jump itself */
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, DN_OPC_TRUE, JIFK(2), DN_OPC_TRUE, RET);
  expect_reject(p, "jump target 2 is not an instruction boundary");
  p = prog_new();
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, DN_OPC_TRUE, DN_OPC_TRUE, JIFK(0), RET);
  expect_reject(p, "chunk 0 at pc 2: jump to 0 is not forward inside the chunk");
  p = prog_new();
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, DN_OPC_TRUE, JIFK(300), DN_OPC_TRUE, RET);
  expect_reject(p, "jump to 300 is not forward inside the chunk");
  p = prog_new();
  /* the jump arrives with [bool], the fall-through with [int] */
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, DN_OPC_TRUE, JIFK(7), CONST(k_int(p, 1)), RET);
  expect_reject(p, "arrives here with a different stack");
  p = prog_new();
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, CONST(k_int(p, 1)), JIFK(5), DN_OPC_TRUE, RET);
  expect_reject(p, "conditional jump needs a bool");
}

static void test_type_mismatch(void **state) {
  (void)state;
  dn_program *p = prog_new();
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, CONST(k_int(p, 5)), CONST(k_money(p, 500)),
        CMP(DN_OP_GT, DN_T_MONEY), RET);
  expect_reject(p, "chunk 0 at pc 6: expected money on the stack, found int");
  p = prog_new();
  CHUNK(p, DN_T_STRING, DN_SCOPE_CUSTOMER, 1, CONST(k_int(p, 5)), CALL(DN_B_LOWER), RET);
  expect_reject(p, "expected string on the stack, found int");
  p = prog_new();
  CHUNK(p, DN_T_MONEY, DN_SCOPE_CUSTOMER, 2, CONST(k_money(p, 5)), CONST(k_int(p, 2)),
        ARITH(DN_AR_MUL_MONEY_NUMBER), RET);
  expect_reject(p, "expected number on the stack, found int");
  p = prog_new();
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, CONST(k_str(p, "a")), CONST(k_str(p, "b")),
        CMP(DN_OP_LT, DN_T_STRING), RET);
  expect_reject(p, "cannot compare");
  p = prog_new();
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 1, CONST(k_int(p, 5)), RET);
  expect_reject(p, "returns int, declared bool");
}

static void test_bad_indices(void **state) {
  (void)state;
  dn_program *p = prog_new();
  CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, CONST(99), RET);
  expect_reject(p, "constant index 99 out of range");
  p = prog_new();
  CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, FIELD(200), RET);
  expect_reject(p, "unknown field 200");
  p = prog_new();
  CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, DN_OPC_TRUE, CALL(DN_B_COUNT), RET);
  expect_reject(p, "unknown builtin");
  p = prog_new();
  CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 2, DN_OPC_TRUE, DN_OPC_TRUE, ARITH(DN_AR_COUNT), RET);
  expect_reject(p, "unknown arith variant");
  p = prog_new();
  CHUNK(p, DN_T_STRING, DN_SCOPE_CUSTOMER, 1, DN_OPC_ATTR, 77, 0, RET);
  expect_reject(p, "string index 77 out of range");
  p = prog_new();
  CHUNK(p, DN_T_TONE, DN_SCOPE_CUSTOMER, 1, DN_OPC_TONE, 4, RET);
  expect_reject(p, "tone rank 4 beyond every ladder");
  p = prog_new();
  CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, DN_OPC_LET, 0, 0, RET);
  expect_reject(p, "let index 0 out of range");
  p = prog_new();
  CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, 200, RET);
  expect_reject(p, "unknown opcode 200");
  p = prog_new();
  dn_const bad = {.type = DN_T_STRING, .as.str = 1000};
  add_const(p, bad);
  expect_reject(p, "constant 0: string index 1000 out of range");
}

static void test_structure(void **state) {
  (void)state;
  dn_program *p = prog_new();
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 1, DN_OPC_TRUE);
  expect_reject(p, "chunk does not end with RET");
  p = prog_new();
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 1, DN_OPC_TRUE, RET, DN_OPC_TRUE);
  expect_reject(p, "RET before the end of the chunk");
  p = prog_new();
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, DN_OPC_TRUE, DN_OPC_TRUE, RET);
  expect_reject(p, "RET with 2 values on the stack");
  p = prog_new();
  CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, DN_OPC_CONST, 0);
  expect_reject(p, "CONST runs past the end of the chunk");
  p = prog_new();
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 1, DN_OPC_TRUE, DN_OPC_TRUE, DN_OPC_NOT, DN_OPC_NOT, RET);
  expect_reject(p, "stack depth 2 exceeds max_stack 1");
  p = prog_new();
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 1, DN_OPC_TRUE, RET);
  p->chunks[0].len = 50; /* runs past the code */
  expect_reject(p, "lies outside the code");
}

static void test_let_cycle(void **state) {
  (void)state;
  dn_program *p = prog_new();
  int32_t c0 = CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, DN_OPC_LET, 0, 0, RET);
  add_let(p, c0); /* let 0 = let 0 */
  expect_reject(p, "let 0 reads let 0, which is not defined before it (a cycle)");
  p = prog_new();
  c0 = CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, DN_OPC_LET, 1, 0, RET);
  int32_t c1 = CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, DN_OPC_LET, 0, 0, RET);
  add_let(p, c0); /* let 0 = let 1, let 1 = let 0 */
  add_let(p, c1);
  expect_reject(p, "let 0 reads let 1, which is not defined before it (a cycle)");
  p = prog_new();
  c0 = CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, CONST(k_int(p, 1)), RET);
  c1 = CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, DN_OPC_LET, 0, 0, RET);
  add_let(p, c0);
  add_let(p, c1); /* let 1 = let 0: fine */
  expect_ok(p);
}

static void test_scopes_and_tables(void **state) {
  (void)state;
  dn_program *p = prog_new();
  CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 1, FIELD(DN_F_INVOICE_open), RET);
  expect_reject(p, "chunk 0 is declared customer scope but reads invoice facts");

  p = prog_new();
  int32_t c = CHUNK(p, DN_T_BOOL, DN_SCOPE_INVOICE, 1, FIELD(DN_F_INVOICE_open), RET);
  p->segments = calloc(1, sizeof *p->segments);
  p->segments[0] = (dn_segment_def){0, c, 0, 0, DN_NONE};
  p->nsegments = 1;
  expect_reject(p, "segment 0: chunk 0 reads invoice facts where only the customer is in scope");

  p = prog_new();
  c = CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 1, DN_OPC_TRUE, RET);
  p->actions = calloc(1, sizeof *p->actions);
  p->actions[0] = (dn_action_def){DN_ACT_CALL, DN_NONE, DN_NONE, c, DN_NONE, DN_NONE};
  p->nactions = 1;
  expect_reject(p, "action 0: chunk 0 returns bool");

  p = prog_new();
  p->segments = calloc(1, sizeof *p->segments);
  p->segments[0] = (dn_segment_def){0, DN_NONE, 0, 3, DN_NONE};
  p->nsegments = 1;
  expect_reject(p, "segment 0: ladder 3 out of range");

  p = prog_new();
  p->rules = calloc(1, sizeof *p->rules);
  p->rules[0] = (dn_rule_def){0, DN_SCOPE_CUSTOMER, DN_NONE, 0, 0, 0};
  p->nrules = 1;
  expect_reject(p, "rule 0: chunk index -1 out of range");

  p = prog_new();
  p->escalations = calloc(1, sizeof *p->escalations);
  p->escalations[0] = (dn_escalation_def){0, 0, 0, DN_NONE, 0, 5};
  p->nescalations = 1;
  expect_reject(p, "escalation 0: range 0+5 out of bounds");

  p = prog_new();
  p->window_start = 1000;
  p->window_end = 900;
  expect_reject(p, "send window 1000..900");

  p = prog_new();
  p->currency = DN_CUR_NONE;
  expect_reject(p, "invalid policy currency");

  p = prog_new();
  p->ladders[0].ntones = 9;
  expect_reject(p, "ladder 0: range 0+9 out of bounds");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_program),
      cmocka_unit_test(test_underflow),
      cmocka_unit_test(test_bad_jumps),
      cmocka_unit_test(test_type_mismatch),
      cmocka_unit_test(test_bad_indices),
      cmocka_unit_test(test_structure),
      cmocka_unit_test(test_let_cycle),
      cmocka_unit_test(test_scopes_and_tables),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
