/* test_compile.c - checked AST -> program tables and chunks.
 *
 * Compiles policies from source (LANGUAGE.md s.1 and small variations)
 * and checks the tables field by field against what the policy says, and
 * the chunks by evaluating them in the VM. Everything compiled must also
 * verify: the compiler and the verifier police each other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/bcfile.h"
#include "lang/compile.h"
#include "runtime/verify.h"
#include "runtime/vm.h"
#include "spec_example.h"

static dn_program *compile(const char *src) {
  dn_diags d;
  dn_diags_init(&d, "t.dun", src, strlen(src));
  dn_program *p = NULL;
  dn_status st = dn_compile_source("t.dun", src, strlen(src), &p, &d);
  if (st != DN_OK) dn_diags_render_text(&d, stderr, false);
  assert_int_equal(st, DN_OK);
  assert_non_null(p);
  st = dn_verify(p, "t.dun", &d);
  if (st != DN_OK) dn_diags_render_text(&d, stderr, false);
  assert_int_equal(st, DN_OK);
  dn_diags_free(&d);
  return p;
}

static const char *S(const dn_program *p, int32_t i) {
  assert_true(i >= 0 && (uint32_t)i < p->nstrings);
  return p->strings[i];
}

static void test_acme_tables(void **state) {
  (void)state;
  dn_program *p = compile(DN_SPEC_EXAMPLE);
  assert_string_equal(p->name, "acme-b2b");
  assert_int_equal(p->version, 3);
  assert_true(p->source_hash == dn_fnv1a64(DN_SPEC_EXAMPLE, strlen(DN_SPEC_EXAMPLE), DN_FNV64_SEED));
  assert_int_equal(p->currency, dn_currency_lookup("USD", 3));
  assert_string_equal(p->timezone, "America/New_York");
  assert_string_equal(p->calendar, "US");
  assert_int_equal(p->window_start, 9 * 60);
  assert_int_equal(p->window_end, 17 * 60);
  assert_int_equal(p->promise_grace_days, 0);
  assert_string_equal(p->filename, "t.dun");
  assert_int_equal(p->source_len, strlen(DN_SPEC_EXAMPLE));

  assert_int_equal(p->nladders, 1);
  assert_string_equal(S(p, p->ladders[0].name), "standard");
  assert_int_equal(p->ladders[0].ntones, 4);
  assert_string_equal(p->tone_names[p->ladders[0].first_tone + 2], "firm");

  assert_int_equal(p->nlets, 2);
  assert_string_equal(S(p, p->lets[0].name), "big_balance");
  assert_string_equal(S(p, p->lets[1].name), "chronic");

  assert_int_equal(p->nsegments, 3);
  assert_string_equal(S(p, p->segments[0].name), "strategic");
  assert_int_equal(p->segments[0].tone_shift, -1);
  assert_string_equal(S(p, p->segments[0].assign), "key-accounts");
  assert_int_equal(p->segments[0].ladder, 0);
  assert_int_equal(p->chunks[p->segments[0].cond].result, DN_T_BOOL);
  assert_int_equal(p->segments[1].assign, DN_NONE);
  assert_int_equal(p->segments[2].cond, DN_NONE);
  assert_string_equal(S(p, p->segments[2].name), "standard");

  assert_int_equal(p->nescalations, 1);
  const dn_escalation_def *e = &p->escalations[0];
  assert_string_equal(S(p, e->name), "dunning");
  assert_int_equal(e->nsegments, 3);
  assert_int_equal(p->segment_refs[e->first_segment + 0], 2);
  assert_int_equal(p->segment_refs[e->first_segment + 1], 1);
  assert_int_equal(p->segment_refs[e->first_segment + 2], 0);
  assert_int_not_equal(e->unless_guard, DN_NONE);
  assert_int_equal(p->chunks[e->unless_guard].scope, DN_SCOPE_INVOICE);
  assert_int_equal(e->nsteps, 6);
  static const int offsets[] = {-3, 1, 7, 15, 30, 60};
  static const char *const tones[] = {"friendly", "friendly", "neutral", "firm", "final", NULL};
  static const int nacts[] = {1, 1, 2, 2, 2, 1};
  for (int i = 0; i < 6; i++) {
    const dn_step_def *s = &p->steps[e->first_step + i];
    assert_int_equal(s->offset_days, offsets[i]);
    assert_false(s->business);
    assert_int_equal(s->nactions, nacts[i]);
    if (tones[i]) assert_string_equal(S(p, s->tone_name), tones[i]);
    else assert_int_equal(s->tone_name, DN_NONE);
    assert_int_equal(s->guard == DN_NONE, i != 5);
  }
  const dn_step_def *s15 = &p->steps[e->first_step + 3];
  const dn_action_def *email = &p->actions[s15->first_action], *call = email + 1;
  assert_int_equal(email->kind, DN_ACT_EMAIL);
  assert_string_equal(S(p, email->tone_name), "firm");
  assert_int_equal(email->template_name, DN_NONE);
  assert_int_equal(call->kind, DN_ACT_CALL);
  assert_int_equal(call->tone_name, DN_NONE);
  assert_int_equal(p->chunks[call->priority].result, DN_T_MONEY);
  const dn_action_def *first = &p->actions[p->steps[e->first_step].first_action];
  assert_string_equal(S(p, first->template_name), "upcoming-due");
  const dn_action_def *esc = &p->actions[p->steps[e->first_step + 5].first_action];
  assert_int_equal(esc->kind, DN_ACT_ESCALATE);
  assert_string_equal(S(p, esc->text), "agency");

  assert_int_equal(p->nevents, 3);
  assert_int_equal(p->events[0].event, DN_EV_PAYMENT_FAILED);
  assert_int_equal(p->events[0].scope, DN_SCOPE_INVOICE);
  assert_int_equal(p->events[0].guard, DN_NONE);
  assert_int_equal(p->events[1].event, DN_EV_PROMISE_BROKEN);
  assert_int_equal(p->events[1].scope, DN_SCOPE_CUSTOMER);
  const dn_action_def *task = &p->actions[p->events[2].first_action];
  assert_int_equal(task->kind, DN_ACT_TASK);
  assert_string_equal(S(p, task->text), "review dispute");
  assert_string_equal(S(p, task->assign), "billing");

  assert_int_equal(p->nrules, 1);
  assert_string_equal(S(p, p->rules[0].name), "over_limit");
  assert_int_equal(p->rules[0].once_per_days, 30);
  assert_int_equal(p->actions[p->rules[0].first_action].kind, DN_ACT_HOLD);

  assert_int_equal(p->ncaps, 2);
  assert_int_equal(p->caps[0].count, 1);
  assert_int_equal(p->caps[0].days, 3);
  assert_int_equal(p->caps[1].count, 4);
  assert_int_equal(p->caps[1].days, 30);
  assert_int_equal(p->nexterns, 0);
  dn_program_free(p);
}

/* The line table points each failing instruction back at its source. */
static void test_line_table(void **state) {
  (void)state;
  dn_program *p = compile(DN_SPEC_EXAMPLE);
  const dn_chunk *c = &p->chunks[p->lets[0].chunk];
  bool found = false;
  for (uint32_t i = 0; i < p->nlines; i++) {
    const dn_line *l = &p->lines[i];
    if (l->pc < c->start || l->pc >= c->start + c->len || p->code[l->pc] != DN_OPC_CMP) continue;
    found = true;
    assert_int_equal(l->span.end - l->span.start, strlen("customer.total_overdue >= 50_000 USD"));
    assert_memory_equal(DN_SPEC_EXAMPLE + l->span.start, "customer.total_overdue >= 50_000 USD", l->span.end - l->span.start);
  }
  assert_true(found);
  dn_program_free(p);
}

typedef struct vmrun {
  dn_customer_facts c;
  dn_invoice_facts inv;
  dn_vm *vm;
} vmrun;

static void vm_start(vmrun *r, const dn_program *p) {
  memset(r, 0, sizeof *r);
  r->c.id = "C1";
  r->c.tier = "standard";
  r->c.last_contact_date = DN_DATE_NONE;
  r->c.invoices = &r->inv;
  r->c.ninvoices = 1;
  r->inv.last_payment_date = DN_DATE_NONE;
  dn_vm_env env = {.program = p, .as_of = dn_date_from_ymd(2026, 3, 10)};
  r->vm = dn_vm_new(&env);
  assert_non_null(r->vm);
  dn_vm_begin_customer(r->vm, &r->c, 0);
}

static bool vm_bool(vmrun *r, int32_t chunk, int32_t inv) {
  dn_value v;
  char err[200];
  dn_status st = dn_vm_eval(r->vm, chunk, inv, &v, err, sizeof err);
  if (st != DN_OK) fprintf(stderr, "%s\n", err);
  assert_int_equal(st, DN_OK);
  assert_int_equal(v.type, DN_T_BOOL);
  return v.as.b;
}

/* Segment conditions of s.1 evaluated against facts. */
static void test_acme_segments_evaluate(void **state) {
  (void)state;
  dn_program *p = compile(DN_SPEC_EXAMPLE);
  uint16_t usd = dn_currency_lookup("USD", 3);
  vmrun r;
  vm_start(&r, p);
  r.c.total_overdue_p = (dn_money){4999999, usd};
  assert_false(vm_bool(&r, p->segments[0].cond, -1));
  r.c.total_overdue_p = (dn_money){5000000, usd}; /* big_balance: exactly 50,000 USD */
  dn_vm_begin_customer(r.vm, &r.c, 0);
  assert_true(vm_bool(&r, p->segments[0].cond, -1));
  r.c.total_overdue_p = (dn_money){0, usd};
  r.c.tier = "strategic";
  dn_vm_begin_customer(r.vm, &r.c, 0);
  assert_true(vm_bool(&r, p->segments[0].cond, -1));
  r.c.tier = "standard";
  r.c.avg_days_late = 20.5; /* chronic: > 20 */
  dn_vm_begin_customer(r.vm, &r.c, 0);
  assert_true(vm_bool(&r, p->segments[1].cond, -1));
  r.c.avg_days_late = 20;
  r.c.risk_score = 0.69;
  dn_vm_begin_customer(r.vm, &r.c, 0);
  assert_false(vm_bool(&r, p->segments[1].cond, -1));
  r.c.risk_score = 0.7;
  dn_vm_begin_customer(r.vm, &r.c, 0);
  assert_true(vm_bool(&r, p->segments[1].cond, -1));
  /* unless invoice.disputed or customer.promise_active */
  const dn_escalation_def *e = &p->escalations[0];
  assert_false(vm_bool(&r, e->unless_guard, 0));
  r.inv.disputed = true;
  assert_true(vm_bool(&r, e->unless_guard, 0));
  /* step 60 guard: invoice.balance >= 500 USD */
  int32_t g = p->steps[e->first_step + 5].guard;
  r.inv.balance_p = 49999;
  assert_false(vm_bool(&r, g, 0));
  r.inv.balance_p = 50000;
  assert_true(vm_bool(&r, g, 0));
  dn_vm_free(r.vm);
  dn_program_free(p);
}

static void test_defaults_and_ladders(void **state) {
  (void)state;
  dn_program *p = compile(
      "policy \"p\" version 1\n"
      "currency EUR\n"
      "tones gentle: soft < softer\n"
      "segment vip when customer.tier == \"vip\" { tones gentle }\n"
      "segment rest otherwise\n"
      "escalation e for invoice in vip, rest { step 5 days: email }\n");
  assert_string_equal(p->timezone, "UTC");
  assert_null(p->calendar);
  assert_int_equal(p->window_start, 9 * 60);
  assert_int_equal(p->window_end, 17 * 60);
  assert_int_equal(p->currency, dn_currency_lookup("EUR", 3));
  /* ladder 0 is the implicit standard ladder, then the declared ones */
  assert_int_equal(p->nladders, 2);
  assert_string_equal(S(p, p->ladders[0].name), "standard");
  assert_int_equal(p->ladders[0].ntones, 4);
  assert_string_equal(p->tone_names[p->ladders[0].first_tone], "friendly");
  assert_string_equal(p->tone_names[p->ladders[0].first_tone + 3], "final");
  assert_string_equal(S(p, p->ladders[1].name), "gentle");
  assert_int_equal(p->ladders[1].ntones, 2);
  assert_string_equal(p->tone_names[p->ladders[1].first_tone + 1], "softer");
  assert_int_equal(p->segments[0].ladder, 1);
  assert_int_equal(p->segments[1].ladder, 0);
  assert_int_equal(p->steps[0].tone_name, DN_NONE);
  dn_program_free(p);

  /* a declared standard ladder is ladder 0 even when not declared first */
  p = compile(
      "policy \"p\" version 1\n"
      "currency USD\n"
      "tones other: a < b\n"
      "tones standard: low < high\n"
      "segment s when customer.tier == \"x\" { tones other }\n"
      "segment rest otherwise\n"
      "escalation e for invoice in s, rest { step 1 day: email }\n");
  assert_int_equal(p->nladders, 2);
  assert_string_equal(S(p, p->ladders[0].name), "standard");
  assert_string_equal(p->tone_names[p->ladders[0].first_tone], "low");
  assert_string_equal(S(p, p->ladders[1].name), "other");
  assert_int_equal(p->segments[0].ladder, 1);
  dn_program_free(p);
}

static bool chunk_has(const dn_program *p, int32_t chunk, uint8_t op) {
  const dn_chunk *c = &p->chunks[chunk];
  for (uint32_t pc = 0; pc < c->len; pc += 1u + (uint32_t)dn_opcode_operand_size(p->code[c->start + pc]))
    if (p->code[c->start + pc] == op) return true;
  return false;
}

static void test_expressions(void **state) {
  (void)state;
  dn_program *p = compile(
      "policy \"p\" version 1\n"
      "currency USD\n"
      "let sum3 = customer.open_invoices + customer.overdue_invoices * 2\n"
      "let late = invoice.days_past_due > 30\n"
      "let tiered = customer.tier in [\"gold\", \"silver\"]\n"
      "let both = customer.promise_active and customer.open_invoices > 2\n"
      "let risky = customer.risk_score > 0\n"
      "let firmish = customer.last_tone >= firm\n"
      "let again = \"gold\" == customer.tier and 500 USD < customer.total_open and 500 USD > customer.credit_limit\n"
      "segment s when sum3 > 1 and tiered and both and risky and firmish and again\n"
      "segment rest otherwise\n"
      "escalation e for invoice in s, rest { step 1 day: email when late }\n");
  /* sum3: a + b * 2 needs three stack slots */
  assert_int_equal(p->chunks[p->lets[0].chunk].max_stack, 3);
  assert_int_equal(p->chunks[p->lets[0].chunk].result, DN_T_INT);
  assert_int_equal(p->chunks[p->lets[1].chunk].scope, DN_SCOPE_INVOICE);
  assert_int_equal(p->chunks[p->steps[0].guard].scope, DN_SCOPE_INVOICE);
  assert_int_equal(p->chunks[p->lets[0].chunk].scope, DN_SCOPE_CUSTOMER);
  assert_true(chunk_has(p, p->lets[2].chunk, DN_OPC_IN));
  assert_true(chunk_has(p, p->lets[3].chunk, DN_OPC_JUMP_IF_FALSE_KEEP));
  assert_true(chunk_has(p, p->lets[4].chunk, DN_OPC_I2N));
  assert_true(chunk_has(p, p->lets[5].chunk, DN_OPC_TONE));
  assert_true(chunk_has(p, p->segments[0].cond, DN_OPC_LET));
  /* string and constant pools are deduplicated: "gold" once, 500 USD once */
  int gold = 0, k500 = 0;
  for (uint32_t i = 0; i < p->nstrings; i++) gold += strcmp(p->strings[i], "gold") == 0;
  for (uint32_t i = 0; i < p->nconsts; i++)
    k500 += p->consts[i].type == DN_T_MONEY && p->consts[i].as.m.minor == 50000;
  assert_int_equal(gold, 1);
  assert_int_equal(k500, 1);

  uint16_t usd = dn_currency_lookup("USD", 3);
  vmrun r;
  vm_start(&r, p);
  r.c.open_invoices = 3;
  r.c.overdue_invoices = 2;
  r.c.tier = "silver";
  r.c.promise_active = true;
  r.c.risk_score = 0.1;
  r.c.last_tone = "final";
  dn_vm_begin_customer(r.vm, &r.c, 0);
  dn_value v;
  char err[200];
  assert_int_equal(dn_vm_eval(r.vm, p->lets[0].chunk, -1, &v, err, sizeof err), DN_OK);
  assert_int_equal(v.as.i, 3 + 2 * 2);
  assert_true(vm_bool(&r, p->lets[2].chunk, -1));
  assert_true(vm_bool(&r, p->lets[3].chunk, -1));
  assert_true(vm_bool(&r, p->lets[4].chunk, -1));
  assert_true(vm_bool(&r, p->lets[5].chunk, -1));
  assert_false(vm_bool(&r, p->lets[6].chunk, -1)); /* tier is not gold */
  r.c.tier = "gold";
  r.c.total_open_p = (dn_money){50001, usd};
  r.c.credit_limit_p = (dn_money){49999, usd};
  r.c.last_tone = "neutral";
  dn_vm_begin_customer(r.vm, &r.c, 0);
  assert_true(vm_bool(&r, p->lets[6].chunk, -1));
  assert_false(vm_bool(&r, p->lets[5].chunk, -1)); /* neutral < firm */
  assert_true(vm_bool(&r, p->lets[2].chunk, -1));  /* gold is in the list too */
  r.c.tier = "bronze";
  dn_vm_begin_customer(r.vm, &r.c, 0);
  assert_false(vm_bool(&r, p->lets[2].chunk, -1));
  dn_vm_free(r.vm);
  dn_program_free(p);
}

static void test_check_errors_do_not_compile(void **state) {
  (void)state;
  const char *src = "policy \"p\" version 1\ncurrency USD\nsegment s when invoice.balance > 5000\n";
  dn_diags d;
  dn_diags_init(&d, "bad.dun", src, strlen(src));
  dn_program *p = (dn_program *)1;
  assert_int_equal(dn_compile_source("bad.dun", src, strlen(src), &p, &d), DN_ERR_INPUT);
  assert_null(p);
  assert_true(d.errors > 0);
  dn_diags_free(&d);
}

/* Every policy shipped in the repository compiles and verifies. */
static void test_shipped_policies(void **state) {
  (void)state;
  const char *root = getenv("DUNLIN_SOURCE_DIR");
  if (!root) root = "..";
  static const char *const dirs[] = {"policies", "examples"};
  for (int k = 0; k < 2; k++) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", root, dirs[k]);
    DIR *dp = opendir(dir);
    if (!dp) continue;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
      size_t n = strlen(de->d_name);
      if (n < 5 || strcmp(de->d_name + n - 4, ".dun") != 0 || strstr(de->d_name, "_test.dun")) continue;
      char path[2048];
      snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
      FILE *f = fopen(path, "rb");
      if (!f) continue;
      char *buf = malloc(1 << 20);
      size_t len = fread(buf, 1, (1 << 20) - 1, f);
      fclose(f);
      buf[len] = '\0';
      dn_program *p = compile(buf);
      dn_program_free(p);
      free(buf);
    }
    closedir(dp);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_acme_tables),
      cmocka_unit_test(test_line_table),
      cmocka_unit_test(test_acme_segments_evaluate),
      cmocka_unit_test(test_defaults_and_ladders),
      cmocka_unit_test(test_expressions),
      cmocka_unit_test(test_check_errors_do_not_compile),
      cmocka_unit_test(test_shipped_policies),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
