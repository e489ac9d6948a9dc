/* test_vm.c - the expression VM against hand-made facts.
 *
 * Programs are assembled by hand (bytes of opcodes.def), verified (so each
 * case also proves the verifier accepts well-formed code) and evaluated.
 * Expected values are worked out from LANGUAGE.md s.4, not from output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lang/compile.h"
#include "lang/program.h"
#include "runtime/verify.h"
#include "runtime/vm.h"

#include "asm.h"

/* --- facts --- */

typedef struct fixture {
  dn_customer_facts c;
  dn_invoice_facts inv[2];
  dn_date as_of;
} fixture;

static void facts_init(fixture *f) {
  memset(f, 0, sizeof *f);
  f->as_of = dn_date_from_ymd(2026, 3, 10);
  dn_customer_facts *c = &f->c;
  c->id = "C1";
  c->tier = "strategic";
  c->attrs_json = "{\"region\": \"emea\", \"n\": 42, \"flag\": true}";
  c->total_overdue_p = (dn_money){6000000, usd()};
  c->open_invoices = 3;
  c->last_tone = "firm";
  c->last_contact_date = DN_DATE_NONE;
  c->invoices = f->inv;
  c->ninvoices = 2;
  f->inv[0].id = "I1";
  f->inv[0].balance_p = 120000;
  f->inv[0].due_date = dn_date_from_ymd(2026, 3, 3);
  f->inv[0].last_payment_date = DN_DATE_NONE;
  f->inv[0].days_past_due = 7;
  f->inv[1].id = "I2";
  f->inv[1].balance_p = 40000;
  f->inv[1].due_date = dn_date_from_ymd(2026, 2, 1);
  f->inv[1].last_payment_date = dn_date_from_ymd(2026, 2, 20);
  f->inv[1].days_past_due = 37;
}

typedef struct run {
  fixture f;
  dn_vm *vm;
  char err[256];
} run;

static void run_start(run *r, dn_program *p) {
  dn_diags d;
  dn_diags_init(&d, "t", NULL, 0);
  dn_status st = dn_verify(p, "t.dbc", &d);
  if (st != DN_OK) dn_diags_render_text(&d, stderr, false);
  assert_int_equal(st, DN_OK);
  dn_diags_free(&d);
  facts_init(&r->f);
  dn_vm_env env = {.program = p, .as_of = r->f.as_of};
  r->vm = dn_vm_new(&env);
  assert_non_null(r->vm);
  dn_vm_begin_customer(r->vm, &r->f.c, 0);
}

static dn_value eval_ok(run *r, int32_t chunk, int32_t inv) {
  dn_value v;
  memset(&v, 0, sizeof v);
  dn_status st = dn_vm_eval(r->vm, chunk, inv, &v, r->err, sizeof r->err);
  if (st != DN_OK) fprintf(stderr, "eval failed: %s\n", r->err);
  assert_int_equal(st, DN_OK);
  return v;
}

static bool eval_bool(run *r, int32_t chunk, int32_t inv) {
  dn_value v = eval_ok(r, chunk, inv);
  assert_int_equal(v.type, DN_T_BOOL);
  return v.as.b;
}

static void finish(run *r, dn_program *p) {
  dn_vm_free(r->vm);
  dn_program_free(p);
}

/* --- cases --- */

static void test_money_compare(void **state) {
  (void)state;
  dn_program *p = prog_new();
  uint32_t k500 = k_money(p, 50000);
  int32_t ge = CHUNK(p, DN_T_BOOL, DN_SCOPE_INVOICE, 2, FIELD(DN_F_INVOICE_balance), CONST(k500),
                     CMP(DN_OP_GE, DN_T_MONEY), RET);
  int32_t lt = CHUNK(p, DN_T_BOOL, DN_SCOPE_INVOICE, 2, FIELD(DN_F_INVOICE_balance), CONST(k500),
                     CMP(DN_OP_LT, DN_T_MONEY), RET);
  run r;
  run_start(&r, p);
  assert_true(eval_bool(&r, ge, 0));   /* 1200.00 >= 500.00 */
  assert_false(eval_bool(&r, lt, 0));
  assert_false(eval_bool(&r, ge, 1));  /* 400.00 >= 500.00 */
  assert_true(eval_bool(&r, lt, 1));
  finish(&r, p);
}

static void test_money_times_number_half_even(void **state) {
  (void)state;
  dn_program *p = prog_new();
  uint32_t half = k_num(p, 0.5);
  int32_t a = CHUNK(p, DN_T_MONEY, DN_SCOPE_CUSTOMER, 2, CONST(k_money(p, 25)), CONST(half),
                    ARITH(DN_AR_MUL_MONEY_NUMBER), RET);
  int32_t b = CHUNK(p, DN_T_MONEY, DN_SCOPE_CUSTOMER, 2, CONST(k_money(p, 35)), CONST(half),
                    ARITH(DN_AR_MUL_MONEY_NUMBER), RET);
  int32_t c = CHUNK(p, DN_T_MONEY, DN_SCOPE_CUSTOMER, 2, CONST(half), CONST(k_money(p, 1005)),
                    ARITH(DN_AR_MUL_NUMBER_MONEY), RET);
  run r;
  run_start(&r, p);
  dn_value v = eval_ok(&r, a, -1);
  assert_int_equal(v.type, DN_T_MONEY);
  assert_int_equal(v.as.m.minor, 12);  /* 12.5 cents -> 12 (even) */
  assert_int_equal(v.as.m.cur, usd());
  assert_int_equal(eval_ok(&r, b, -1).as.m.minor, 18);  /* 17.5 -> 18 (even) */
  assert_int_equal(eval_ok(&r, c, -1).as.m.minor, 502); /* 502.5 -> 502 */
  finish(&r, p);
}

static void test_dates(void **state) {
  (void)state;
  dn_program *p = prog_new();
  /* D - invoice.due_date == 7 days; as a value, 7 */
  int32_t diff = CHUNK(p, DN_T_DURATION, DN_SCOPE_INVOICE, 2, CALL(DN_B_TODAY),
                       FIELD(DN_F_INVOICE_due_date), ARITH(DN_AR_SUB_DATE), RET);
  int32_t eq7 = CHUNK(p, DN_T_BOOL, DN_SCOPE_INVOICE, 3, CALL(DN_B_TODAY), FIELD(DN_F_INVOICE_due_date),
                      ARITH(DN_AR_SUB_DATE), CONST(k_dur(p, 7, false)), CMP(DN_OP_EQ, DN_T_DURATION), RET);
  int32_t plus = CHUNK(p, DN_T_DATE, DN_SCOPE_CUSTOMER, 2, CONST(k_date(p, 2026, 1, 30)),
                       CONST(k_dur(p, 3, false)), ARITH(DN_AR_ADD_DATE_DUR), RET);
  /* Friday 2026-03-06 + 1 business day = Monday 2026-03-09 */
  int32_t bplus = CHUNK(p, DN_T_DATE, DN_SCOPE_CUSTOMER, 2, CONST(k_date(p, 2026, 3, 6)),
                        CONST(k_dur(p, 1, true)), ARITH(DN_AR_ADD_DATE_DUR), RET);
  int32_t minus = CHUNK(p, DN_T_DATE, DN_SCOPE_CUSTOMER, 2, CONST(k_date(p, 2026, 3, 1)),
                        CONST(k_dur(p, 1, false)), ARITH(DN_AR_SUB_DATE_DUR), RET);
  run r;
  run_start(&r, p);
  dn_value v = eval_ok(&r, diff, 0);
  assert_int_equal(v.type, DN_T_DURATION);
  assert_int_equal(v.as.dur.days, 7);
  assert_true(eval_bool(&r, eq7, 0));
  assert_false(eval_bool(&r, eq7, 1)); /* 37 days */
  assert_int_equal(eval_ok(&r, plus, -1).as.d, dn_date_from_ymd(2026, 2, 2));
  assert_int_equal(eval_ok(&r, bplus, -1).as.d, dn_date_from_ymd(2026, 3, 9));
  assert_int_equal(eval_ok(&r, minus, -1).as.d, dn_date_from_ymd(2026, 2, 28));
  finish(&r, p);
}

static void test_missing_date(void **state) {
  (void)state;
  dn_program *p = prog_new();
  int32_t rel[6];
  for (int i = 0; i < 6; i++)
    rel[i] = CHUNK(p, DN_T_BOOL, DN_SCOPE_INVOICE, 2, FIELD(DN_F_INVOICE_last_payment_date),
                   CALL(DN_B_TODAY), CMP(DN_OP_EQ + i, DN_T_DATE), RET);
  uint32_t jan1 = k_date(p, 2026, 1, 1);
  int32_t co = CHUNK(p, DN_T_DATE, DN_SCOPE_INVOICE, 2, FIELD(DN_F_INVOICE_last_payment_date),
                     CONST(jan1), CALL(DN_B_COALESCE_DATE), RET);
  int32_t sub = CHUNK(p, DN_T_DURATION, DN_SCOPE_INVOICE, 2, CALL(DN_B_TODAY),
                      FIELD(DN_F_INVOICE_last_payment_date), ARITH(DN_AR_SUB_DATE), RET);
  uint32_t k14 = k_int(p, 14);
  int32_t since = CHUNK(p, DN_T_BOOL, DN_SCOPE_INVOICE, 2, FIELD(DN_F_INVOICE_last_payment_date),
                        CALL(DN_B_TODAY), CALL(DN_B_DAYS_BETWEEN), CONST(k14), CMP(DN_OP_GE, DN_T_INT), RET);
  int32_t since_ne = CHUNK(p, DN_T_BOOL, DN_SCOPE_INVOICE, 2, FIELD(DN_F_INVOICE_last_payment_date),
                           CALL(DN_B_TODAY), CALL(DN_B_DAYS_BETWEEN), CONST(k14), CMP(DN_OP_NE, DN_T_INT), RET);
  run r;
  run_start(&r, p);
  for (int i = 0; i < 6; i++) assert_false(eval_bool(&r, rel[i], 0)); /* ==, != and all orders */
  /* invoice 1 has a payment on 2026-02-20, before D */
  assert_false(eval_bool(&r, rel[0], 1));
  assert_true(eval_bool(&r, rel[1], 1));
  assert_true(eval_bool(&r, rel[2], 1));
  assert_int_equal(eval_ok(&r, co, 0).as.d, dn_date_from_ymd(2026, 1, 1));
  assert_int_equal(eval_ok(&r, co, 1).as.d, dn_date_from_ymd(2026, 2, 20));
  /* What is computed from a missing date is missing too, and a condition
   * that meets it is false rather than an error: days_between(none, D)
   * >= 14 and != 14 are both false. With a payment on 02-20 and D 03-10,
   * 18 days: >= 14 holds. */
  dn_value v;
  assert_int_equal(dn_vm_eval(r.vm, sub, 0, &v, r.err, sizeof r.err), DN_OK);
  assert_true(v.missing);
  assert_int_equal(v.type, DN_T_DURATION);
  assert_false(eval_bool(&r, since, 0));
  assert_false(eval_bool(&r, since_ne, 0));
  assert_true(eval_bool(&r, since, 1));
  finish(&r, p);
}

static void test_in_list(void **state) {
  (void)state;
  dn_program *p = prog_new();
  uint32_t gold = k_str(p, "gold"), strat = k_str(p, "strategic");
  int32_t s = CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 3, FIELD(DN_F_CUSTOMER_tier), CONST(gold),
                    CONST(strat), DN_OPC_IN, 2, DN_T_STRING, RET);
  int32_t s2 = CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, FIELD(DN_F_CUSTOMER_tier), CONST(gold),
                     DN_OPC_IN, 1, DN_T_STRING, RET);
  int32_t i = CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 4, FIELD(DN_F_CUSTOMER_open_invoices),
                    CONST(k_int(p, 1)), CONST(k_int(p, 2)), CONST(k_int(p, 3)), DN_OPC_IN, 3, DN_T_INT, RET);
  run r;
  run_start(&r, p);
  assert_true(eval_bool(&r, s, -1));
  assert_false(eval_bool(&r, s2, -1));
  assert_true(eval_bool(&r, i, -1));
  finish(&r, p);
}

static void test_and_or_short_circuit(void **state) {
  (void)state;
  dn_program *p = prog_new();
  uint32_t one = k_int(p, 1), zero = k_int(p, 0), nzero = k_num(p, 0);
  /* false and (1 / 0 > 0): the division is never evaluated */
  int32_t f_and = CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, DN_OPC_FALSE, DN_OPC_JUMP_IF_FALSE_KEEP, 18, 0,
                        CONST(one), CONST(zero), ARITH(DN_AR_DIV_INT), CONST(nzero),
                        CMP(DN_OP_GT, DN_T_NUMBER), RET);
  int32_t t_or = CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, DN_OPC_TRUE, DN_OPC_JUMP_IF_TRUE_KEEP, 18, 0,
                       CONST(one), CONST(zero), ARITH(DN_AR_DIV_INT), CONST(nzero),
                       CMP(DN_OP_GT, DN_T_NUMBER), RET);
  int32_t t_and = CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, DN_OPC_TRUE, DN_OPC_JUMP_IF_FALSE_KEEP, 18, 0,
                        CONST(one), CONST(zero), ARITH(DN_AR_DIV_INT), CONST(nzero),
                        CMP(DN_OP_GT, DN_T_NUMBER), RET);
  /* true and true -> true; false or false -> false */
  int32_t tt = CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 1, DN_OPC_TRUE, DN_OPC_JUMP_IF_FALSE_KEEP, 5, 0,
                     DN_OPC_TRUE, RET);
  int32_t ff = CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 1, DN_OPC_FALSE, DN_OPC_JUMP_IF_TRUE_KEEP, 5, 0,
                     DN_OPC_FALSE, RET);
  run r;
  run_start(&r, p);
  assert_false(eval_bool(&r, f_and, -1));
  assert_true(eval_bool(&r, t_or, -1));
  assert_true(eval_bool(&r, tt, -1));
  assert_false(eval_bool(&r, ff, -1));
  dn_value v;
  assert_int_equal(dn_vm_eval(r.vm, t_and, -1, &v, r.err, sizeof r.err), DN_ERR_INPUT);
  assert_non_null(strstr(r.err, "division by zero"));
  finish(&r, p);
}

static void test_builtins(void **state) {
  (void)state;
  dn_program *p = prog_new();
  int32_t rn25 = CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, CONST(k_num(p, 2.5)), CALL(DN_B_ROUND_NUMBER), RET);
  int32_t rn35 = CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, CONST(k_num(p, 3.5)), CALL(DN_B_ROUND_NUMBER), RET);
  int32_t fl = CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, CONST(k_num(p, -1.5)), CALL(DN_B_FLOOR_NUMBER), RET);
  int32_t ce = CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, CONST(k_num(p, 1.2)), CALL(DN_B_CEIL_NUMBER), RET);
  int32_t rm1 = CHUNK(p, DN_T_MONEY, DN_SCOPE_CUSTOMER, 1, CONST(k_money(p, 1250)), CALL(DN_B_ROUND_MONEY), RET);
  int32_t rm2 = CHUNK(p, DN_T_MONEY, DN_SCOPE_CUSTOMER, 1, CONST(k_money(p, 1350)), CALL(DN_B_ROUND_MONEY), RET);
  int32_t rm3 = CHUNK(p, DN_T_MONEY, DN_SCOPE_CUSTOMER, 1, CONST(k_money(p, 1251)), CALL(DN_B_ROUND_MONEY), RET);
  int32_t fm = CHUNK(p, DN_T_MONEY, DN_SCOPE_CUSTOMER, 1, CONST(k_money(p, -50)), CALL(DN_B_FLOOR_MONEY), RET);
  int32_t cm = CHUNK(p, DN_T_MONEY, DN_SCOPE_CUSTOMER, 1, CONST(k_money(p, 101)), CALL(DN_B_CEIL_MONEY), RET);
  int32_t am = CHUNK(p, DN_T_MONEY, DN_SCOPE_CUSTOMER, 1, CONST(k_money(p, -777)), CALL(DN_B_ABS_MONEY), RET);
  int32_t mx = CHUNK(p, DN_T_MONEY, DN_SCOPE_INVOICE, 2, FIELD(DN_F_INVOICE_balance), CONST(k_money(p, 50000)),
                     CALL(DN_B_MAX_MONEY), RET);
  int32_t mi = CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 2, CONST(k_int(p, 4)), CONST(k_int(p, -9)),
                     CALL(DN_B_MIN_INT), RET);
  uint32_t fri = k_date(p, 2026, 3, 6), mon = k_date(p, 2026, 3, 9), sat = k_date(p, 2026, 3, 7);
  int32_t db = CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 2, CONST(fri), CONST(mon), CALL(DN_B_DAYS_BETWEEN), RET);
  int32_t bdb = CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 2, CONST(fri), CONST(mon),
                      CALL(DN_B_BUSINESS_DAYS_BETWEEN), RET);
  int32_t ibd = CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 1, CONST(sat), CALL(DN_B_IS_BUSINESS_DAY), RET);
  int32_t low = CHUNK(p, DN_T_STRING, DN_SCOPE_CUSTOMER, 1, CONST(k_str(p, "AbC-1")), CALL(DN_B_LOWER), RET);
  int32_t up = CHUNK(p, DN_T_STRING, DN_SCOPE_CUSTOMER, 1, FIELD(DN_F_CUSTOMER_tier), CALL(DN_B_UPPER), RET);
  int32_t con = CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, FIELD(DN_F_CUSTOMER_tier), CONST(k_str(p, "rat")),
                      CALL(DN_B_CONTAINS), RET);
  int32_t sw = CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, FIELD(DN_F_CUSTOMER_tier), CONST(k_str(p, "rat")),
                     CALL(DN_B_STARTS_WITH), RET);
  int32_t cs = CHUNK(p, DN_T_STRING, DN_SCOPE_CUSTOMER, 2, FIELD(DN_F_CUSTOMER_segment),
                     CONST(k_str(p, "none")), CALL(DN_B_COALESCE_STRING), RET);
  run r;
  run_start(&r, p);
  assert_int_equal(eval_ok(&r, rn25, -1).as.i, 2);
  assert_int_equal(eval_ok(&r, rn35, -1).as.i, 4);
  assert_int_equal(eval_ok(&r, fl, -1).as.i, -2);
  assert_int_equal(eval_ok(&r, ce, -1).as.i, 2);
  assert_int_equal(eval_ok(&r, rm1, -1).as.m.minor, 1200); /* 12.50 -> 12.00 */
  assert_int_equal(eval_ok(&r, rm2, -1).as.m.minor, 1400); /* 13.50 -> 14.00 */
  assert_int_equal(eval_ok(&r, rm3, -1).as.m.minor, 1300); /* 12.51 -> 13.00 */
  assert_int_equal(eval_ok(&r, fm, -1).as.m.minor, -100);  /* -0.50 -> -1.00 */
  assert_int_equal(eval_ok(&r, cm, -1).as.m.minor, 200);   /* 1.01 -> 2.00 */
  assert_int_equal(eval_ok(&r, am, -1).as.m.minor, 777);
  assert_int_equal(eval_ok(&r, mx, 0).as.m.minor, 120000);
  assert_int_equal(eval_ok(&r, mx, 1).as.m.minor, 50000);
  assert_int_equal(eval_ok(&r, mi, -1).as.i, -9);
  assert_int_equal(eval_ok(&r, db, -1).as.i, 3);
  assert_int_equal(eval_ok(&r, bdb, -1).as.i, 1);
  assert_false(eval_bool(&r, ibd, -1));
  assert_string_equal(eval_ok(&r, low, -1).as.s, "abc-1");
  assert_string_equal(eval_ok(&r, up, -1).as.s, "STRATEGIC");
  assert_true(eval_bool(&r, con, -1));
  assert_false(eval_bool(&r, sw, -1));
  assert_string_equal(eval_ok(&r, cs, -1).as.s, "none");
  finish(&r, p);
}

static void test_int_to_number_and_errors(void **state) {
  (void)state;
  dn_program *p = prog_new();
  int32_t conv = CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, FIELD(DN_F_CUSTOMER_open_invoices), DN_OPC_I2N,
                       CONST(k_num(p, 2.5)), CMP(DN_OP_GT, DN_T_NUMBER), RET);
  int32_t div = CHUNK(p, DN_T_NUMBER, DN_SCOPE_CUSTOMER, 2, CONST(k_int(p, 7)), CONST(k_int(p, 2)),
                      ARITH(DN_AR_DIV_INT), RET);
  int32_t dz = CHUNK(p, DN_T_MONEY, DN_SCOPE_CUSTOMER, 2, CONST(k_money(p, 100)), CONST(k_num(p, 0)),
                     ARITH(DN_AR_DIV_MONEY_NUMBER), RET);
  int32_t ovf = CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 2, CONST(k_int(p, INT64_MAX)), CONST(k_int(p, 1)),
                      ARITH(DN_AR_ADD_INT), RET);
  int32_t movf = CHUNK(p, DN_T_MONEY, DN_SCOPE_CUSTOMER, 2, CONST(k_money(p, INT64_MAX)),
                       CONST(k_money(p, 1)), ARITH(DN_AR_ADD_MONEY), RET);
  run r;
  run_start(&r, p);
  assert_true(eval_bool(&r, conv, -1)); /* 3 > 2.5 */
  dn_value v = eval_ok(&r, div, -1);
  assert_int_equal(v.type, DN_T_NUMBER);
  assert_true(v.as.n == 3.5);
  assert_int_equal(dn_vm_eval(r.vm, dz, -1, &v, r.err, sizeof r.err), DN_ERR_INPUT);
  assert_non_null(strstr(r.err, "division by zero"));
  assert_int_equal(dn_vm_eval(r.vm, ovf, -1, &v, r.err, sizeof r.err), DN_ERR_INPUT);
  assert_non_null(strstr(r.err, "overflow"));
  assert_int_equal(dn_vm_eval(r.vm, movf, -1, &v, r.err, sizeof r.err), DN_ERR_INPUT);
  assert_non_null(strstr(r.err, "overflow"));
  finish(&r, p);
}

/* A let is evaluated once per customer (customer scope) or once per
 * invoice (invoice scope): changing a fact behind the VM's back shows
 * whether the memoised value was reused. */
static void test_let_memoisation(void **state) {
  (void)state;
  dn_program *p = prog_new();
  int32_t lc = CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, FIELD(DN_F_CUSTOMER_open_invoices), RET);
  int32_t li = CHUNK(p, DN_T_INT, DN_SCOPE_INVOICE, 1, FIELD(DN_F_INVOICE_days_past_due), RET);
  int32_t l0 = add_let(p, lc), l1 = add_let(p, li);
  int32_t use0 = CHUNK(p, DN_T_INT, DN_SCOPE_CUSTOMER, 1, DN_OPC_LET, LO(l0), HI(l0), RET);
  int32_t use1 = CHUNK(p, DN_T_INT, DN_SCOPE_INVOICE, 2, DN_OPC_LET, LO(l1), HI(l1), DN_OPC_LET, LO(l0),
                       HI(l0), ARITH(DN_AR_ADD_INT), RET);
  run r;
  run_start(&r, p);
  assert_int_equal(eval_ok(&r, use0, -1).as.i, 3);
  r.f.c.open_invoices = 5;
  assert_int_equal(eval_ok(&r, use0, -1).as.i, 3); /* memoised for this customer */
  assert_int_equal(eval_ok(&r, use1, 0).as.i, 7 + 3);
  r.f.inv[0].days_past_due = 100;
  assert_int_equal(eval_ok(&r, use1, 0).as.i, 7 + 3); /* same invoice: memoised */
  assert_int_equal(eval_ok(&r, use1, 1).as.i, 37 + 3); /* another invoice: re-evaluated */
  dn_vm_begin_customer(r.vm, &r.f.c, 0);
  assert_int_equal(eval_ok(&r, use0, -1).as.i, 5);  /* new customer: forgotten */
  assert_int_equal(eval_ok(&r, use1, 0).as.i, 100 + 5);
  finish(&r, p);
}

static void test_attr_tone_segment(void **state) {
  (void)state;
  dn_program *p = prog_new();
  uint32_t region = add_string(p, "region"), n = add_string(p, "n"), miss = add_string(p, "nope"),
           flag = add_string(p, "flag");
  int32_t a1 = CHUNK(p, DN_T_STRING, DN_SCOPE_CUSTOMER, 1, DN_OPC_ATTR, LO(region), HI(region), RET);
  int32_t a2 = CHUNK(p, DN_T_STRING, DN_SCOPE_CUSTOMER, 1, DN_OPC_ATTR, LO(n), HI(n), RET);
  int32_t a3 = CHUNK(p, DN_T_STRING, DN_SCOPE_CUSTOMER, 1, DN_OPC_ATTR, LO(miss), HI(miss), RET);
  int32_t a4 = CHUNK(p, DN_T_STRING, DN_SCOPE_CUSTOMER, 1, DN_OPC_ATTR, LO(flag), HI(flag), RET);
  int32_t tone = CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, FIELD(DN_F_CUSTOMER_last_tone), DN_OPC_TONE, 2,
                       CMP(DN_OP_EQ, DN_T_TONE), RET);
  int32_t gentle = CHUNK(p, DN_T_BOOL, DN_SCOPE_CUSTOMER, 2, FIELD(DN_F_CUSTOMER_last_tone), DN_OPC_TONE, 1,
                         CMP(DN_OP_GT, DN_T_TONE), RET);
  int32_t seg = CHUNK(p, DN_T_STRING, DN_SCOPE_CUSTOMER, 1, FIELD(DN_F_CUSTOMER_segment), RET);
  run r;
  run_start(&r, p);
  assert_string_equal(eval_ok(&r, a1, -1).as.s, "emea");
  assert_string_equal(eval_ok(&r, a2, -1).as.s, "42");
  assert_string_equal(eval_ok(&r, a3, -1).as.s, "");
  assert_string_equal(eval_ok(&r, a4, -1).as.s, "");
  assert_true(eval_bool(&r, tone, -1));   /* firm is rank 2 */
  assert_true(eval_bool(&r, gentle, -1)); /* firm > neutral */
  assert_string_equal(eval_ok(&r, seg, -1).as.s, "");
  r.f.c.last_tone = NULL;
  r.f.c.segment = "vip";
  dn_vm_begin_customer(r.vm, &r.f.c, 0);
  assert_false(eval_bool(&r, tone, -1));  /* no contact: the gentlest, rank 0 */
  assert_string_equal(eval_ok(&r, seg, -1).as.s, "vip");
  finish(&r, p);
}

/* Fx: a literal in another currency is converted into the policy
 * currency through env->convert; no converter is an error. */
static bool eur_to_usd(void *ctx, dn_money in, uint16_t to, dn_money *out) {
  (void)ctx;
  if (in.cur != dn_currency_lookup("EUR", 3)) return false;
  out->minor = in.minor * 2; /* a fake rate of 2 */
  out->cur = to;
  return true;
}

static void test_money_currencies(void **state) {
  (void)state;
  dn_program *p = prog_new();
  dn_const eur = {.type = DN_T_MONEY, .as.m = {30000, dn_currency_lookup("EUR", 3)}};
  uint32_t k = add_const(p, eur);
  int32_t ch = CHUNK(p, DN_T_BOOL, DN_SCOPE_INVOICE, 2, FIELD(DN_F_INVOICE_balance), CONST(k),
                     CMP(DN_OP_GE, DN_T_MONEY), RET);
  run r;
  run_start(&r, p);
  dn_value v;
  assert_int_equal(dn_vm_eval(r.vm, ch, 0, &v, r.err, sizeof r.err), DN_ERR_INPUT);
  assert_non_null(strstr(r.err, "EUR"));
  dn_vm_free(r.vm);
  dn_vm_env env = {.program = p, .as_of = r.f.as_of, .convert = eur_to_usd};
  r.vm = dn_vm_new(&env);
  dn_vm_begin_customer(r.vm, &r.f.c, 0);
  assert_true(eval_bool(&r, ch, 0));  /* 1200 USD >= 300 EUR = 600 USD */
  assert_false(eval_bool(&r, ch, 1)); /* 400 USD >= 600 USD */
  finish(&r, p);
}

/* An extern fn is called through libffi with the documented mapping:
 * string -> const char *, money -> int64_t minor units, number <- double. */
static double fake_score(const char *s, int64_t minor) { return (double)strlen(s) + (double)minor / 100.0; }
static const char *fake_label(int64_t n) { return n > 2 ? "many" : NULL; }

static void test_extern_call(void **state) {
  (void)state;
  dn_program *p = prog_new();
  p->externs = calloc(2, sizeof *p->externs);
  p->externs[0] = (dn_extern_def){(int32_t)add_string(p, "score"), (int32_t)add_string(p, "lib.so"), 2,
                                  {DN_T_STRING, DN_T_MONEY}, DN_T_NUMBER};
  p->externs[1] = (dn_extern_def){(int32_t)add_string(p, "label"), 1, 1, {DN_T_INT}, DN_T_STRING};
  p->nexterns = 2;
  int32_t c = CHUNK(p, DN_T_NUMBER, DN_SCOPE_INVOICE, 2, FIELD(DN_F_CUSTOMER_tier), FIELD(DN_F_INVOICE_balance),
                    DN_OPC_EXTERN, 0, 0, RET);
  int32_t l = CHUNK(p, DN_T_STRING, DN_SCOPE_CUSTOMER, 1, FIELD(DN_F_CUSTOMER_open_invoices), DN_OPC_EXTERN, 1, 0, RET);
  run r;
  run_start(&r, p);
  dn_value v;
  assert_int_equal(dn_vm_eval(r.vm, c, 0, &v, r.err, sizeof r.err), DN_ERR_INPUT);
  assert_non_null(strstr(r.err, "extern fn score is not loaded"));
  dn_vm_free(r.vm);
  void *const fns[] = {(void *)fake_score, (void *)fake_label};
  dn_vm_env env = {.program = p, .as_of = r.f.as_of, .extern_fns = fns};
  r.vm = dn_vm_new(&env);
  dn_vm_begin_customer(r.vm, &r.f.c, 0);
  v = eval_ok(&r, c, 0);
  assert_int_equal(v.type, DN_T_NUMBER);
  assert_true(v.as.n == 9.0 + 1200.0); /* strlen("strategic") + 1200.00 */
  assert_string_equal(eval_ok(&r, l, -1).as.s, "many");
  r.f.c.open_invoices = 1;
  dn_vm_begin_customer(r.vm, &r.f.c, 0);
  assert_string_equal(eval_ok(&r, l, -1).as.s, ""); /* NULL is "" */
  finish(&r, p);
}

/* From source: a runtime error names the policy position. */
static void test_error_position_from_source(void **state) {
  (void)state;
  const char *src =
      "policy \"t\" version 1\n"
      "currency USD\n"
      "let ratio = customer.total_open / customer.credit_limit\n"
      "segment risky when ratio > 0.5\n"
      "segment rest otherwise\n";
  dn_diags d;
  dn_diags_init(&d, "t.dun", src, strlen(src));
  dn_program *p = NULL;
  dn_status st = dn_compile_source("t.dun", src, strlen(src), &p, &d);
  if (st != DN_OK) dn_diags_render_text(&d, stderr, false);
  assert_int_equal(st, DN_OK);
  assert_int_equal(dn_verify(p, "t.dun", &d), DN_OK);
  dn_diags_free(&d);
  run r;
  facts_init(&r.f);
  dn_vm_env env = {.program = p, .as_of = r.f.as_of};
  r.vm = dn_vm_new(&env);
  r.f.c.total_open_p = (dn_money){100, usd()};
  r.f.c.credit_limit_p = (dn_money){0, usd()};
  dn_vm_begin_customer(r.vm, &r.f.c, 0);
  dn_value v;
  assert_int_equal(dn_vm_eval(r.vm, p->segments[0].cond, -1, &v, r.err, sizeof r.err), DN_ERR_INPUT);
  /* the division is on line 3, column 13 */
  assert_non_null(strstr(r.err, "t.dun:3:13: division by zero"));
  r.f.c.credit_limit_p = (dn_money){150, usd()};
  dn_vm_begin_customer(r.vm, &r.f.c, 0);
  assert_true(eval_bool(&r, p->segments[0].cond, -1)); /* 100/150 > 0.5 */
  finish(&r, p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_money_compare),
      cmocka_unit_test(test_money_times_number_half_even),
      cmocka_unit_test(test_dates),
      cmocka_unit_test(test_missing_date),
      cmocka_unit_test(test_in_list),
      cmocka_unit_test(test_and_or_short_circuit),
      cmocka_unit_test(test_builtins),
      cmocka_unit_test(test_int_to_number_and_errors),
      cmocka_unit_test(test_let_memoisation),
      cmocka_unit_test(test_attr_tone_segment),
      cmocka_unit_test(test_money_currencies),
      cmocka_unit_test(test_error_position_from_source),
      cmocka_unit_test(test_extern_call),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
