/* test_native.c - compiled chunks and ladders (runtime/native.h) against
 * the VM and the engine's own step walk.
 *
 * Every policy of tests/check and policies/ that compiles is built into a
 * native library, and every one of its chunks is evaluated for every
 * invoice of three hand-made customers both ways: the status, the error
 * text and the value (type, missing flag, payload) must be the same.
 * The facts are chosen to reach the out-of-line paths: missing dates and
 * credit limit, a customer's overdue total in another currency (compared
 * with a USD literal, the VM's conversion path: no rate, an error), attributes,
 * NULL strings. Each customer is also decided (dn_engine_session_decide)
 * with and without the library over days past due spread across every
 * ladder. Then the library's refusals: another program, another
 * build's layout (a library claiming another ABI hash). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lang/compile.h"
#include "runtime/engine.h"
#include "runtime/field_access.h"
#include "runtime/native.h"
#include "runtime/verify.h"
#include "runtime/vm.h"

enum { NCUST = 3, NINV = 3 };

typedef struct world {
  dn_customer_facts c[NCUST];
  dn_invoice_facts inv[NCUST][NINV];
  dn_date as_of;
} world;

static uint16_t cur(const char *code) { return dn_currency_lookup(code, 3); }

static void world_init(world *w) {
  memset(w, 0, sizeof *w);
  w->as_of = dn_date_from_ymd(2026, 3, 10);
  const char *tiers[NCUST] = {"strategic", "standard", NULL};
  for (int k = 0; k < NCUST; k++) {
    dn_customer_facts *c = &w->c[k];
    c->id = k == 2 ? NULL : "C1";
    c->tier = tiers[k];
    c->country = "US";
    c->attrs_json = k == 0 ? "{\"region\": \"emea\", \"plan\": \"gold\", \"n\": 42}" : NULL;
    c->credit_limit_p = k == 1 ? (dn_money){0, DN_CUR_NONE} : (dn_money){1000000 * (k + 1), cur("USD")};
    c->risk_score = k == 1 ? 0.45 : 0.3 * k + 0.1;
    c->total_open_p = (dn_money){900000 + 700000 * k, cur("USD")};
    /* Another currency than the policy's (only a customer's money can be:
     * an invoice's amounts are the policy's): compared with a USD literal
     * or a USD field, the VM's conversion path (no rate: an error). */
    c->total_overdue_p = (dn_money){400000 * k, k == 2 ? cur("EUR") : cur("USD")};
    c->open_invoices = NINV;
    c->overdue_invoices = k;
    c->oldest_days_past_due = 30 * k;
    c->avg_days_late = 7.5 * k;
    c->on_time_ratio = k == 2 ? 0.0 : 0.8;
    c->promise_active = k == 1;
    c->last_contact_date = k == 0 ? DN_DATE_NONE : dn_date_from_ymd(2026, 3, 1);
    c->last_tone = k == 2 ? "firm" : NULL;
    c->segment = k == 0 ? "strategic" : NULL;
    c->invoices = w->inv[k];
    c->ninvoices = NINV;
    for (int i = 0; i < NINV; i++) {
      dn_invoice_facts *f = &w->inv[k][i];
      bool foreign = k == 2 && i == 1;
      f->id = f->number = i == 2 ? NULL : "I1";
      f->currency = foreign ? cur("EUR") : cur("USD");
      f->days_past_due = -5 + 40 * i + 3 * k;
      f->due_date = w->as_of - f->days_past_due;
      f->issue_date = f->due_date - 30;
      f->last_payment_date = i == 1 ? f->due_date + 2 : DN_DATE_NONE;
      f->balance_p = 25000 + 60000 * i;
      f->amount_p = 90000;
      f->paid_p = 90000 - f->balance_p;
      f->open = true;
      f->disputed = i == 0 && k == 1;
      f->promise_active = i == 2;
    }
  }
}

static void same_value(const dn_value *a, const dn_value *b, const char *where) {
  bool same = a->type == b->type && a->missing == b->missing;
  if (same && !a->missing) {
    switch (a->type) {
      case DN_T_BOOL: same = a->as.b == b->as.b; break;
      case DN_T_INT: same = a->as.i == b->as.i; break;
      case DN_T_NUMBER: same = memcmp(&a->as.n, &b->as.n, sizeof a->as.n) == 0; break;
      case DN_T_MONEY: same = a->as.m.minor == b->as.m.minor && a->as.m.cur == b->as.m.cur; break;
      case DN_T_DATE: same = a->as.d == b->as.d; break;
      case DN_T_DURATION:
        same = a->as.dur.days == b->as.dur.days && a->as.dur.business == b->as.dur.business;
        break;
      case DN_T_STRING: same = strcmp(a->as.s, b->as.s) == 0; break;
      case DN_T_TONE: same = a->as.tone == b->as.tone; break;
      default: break;
    }
  }
  if (!same) fail_msg("%s: native value differs from the VM's", where);
}

/* One program: every chunk, every customer, every invoice of its scope. */
static int compare_program(const dn_program *p, const dn_native *lib, const char *name) {
  world w;
  world_init(&w);
  dn_vm_env plain = {.program = p, .as_of = w.as_of}, fast = plain;
  fast.native = lib;
  dn_vm *a = dn_vm_new(&plain), *b = dn_vm_new(&fast);
  assert_non_null(a);
  assert_non_null(b);
  int evals = 0;
  for (int k = 0; k < NCUST; k++) {
    dn_vm_begin_customer(a, &w.c[k], 0);
    dn_vm_begin_customer(b, &w.c[k], 0);
    for (uint32_t ci = 0; ci < p->nchunks; ci++) {
      bool each = p->chunks[ci].scope == DN_SCOPE_INVOICE;
      for (int32_t i = each ? 0 : -1; i < (each ? NINV : 0); i++) {
        dn_value va, vb;
        char ea[256] = "", eb[256] = "", where[300];
        memset(&va, 0, sizeof va);
        memset(&vb, 0, sizeof vb);
        dn_status sa = dn_vm_eval(a, (int32_t)ci, i, &va, ea, sizeof ea);
        dn_status sb = dn_vm_eval(b, (int32_t)ci, i, &vb, eb, sizeof eb);
        snprintf(where, sizeof where, "%s chunk %u customer %d invoice %d", name, ci, k, i);
        if (sa != sb || strcmp(ea, eb) != 0)
          fail_msg("%s: VM %d '%s', native %d '%s'", where, sa, ea, sb, eb);
        if (sa == DN_OK) same_value(&va, &vb, where);
        evals++;
      }
    }
  }
  dn_vm_free(a);
  dn_vm_free(b);
  return evals;
}

/* The decisions of one customer both ways (the engine's step walk, the
 * library's compiled ladders, native_ladder.c), with the reports they
 * give: a guard that fails hands the customer back to the engine. */
static void same_decision(dn_engine_session *a, dn_engine_session *b, dn_customer_facts *c,
                          const char *where) {
  dn_diags da, db;
  dn_diags_init(&da, "a", NULL, 0);
  dn_diags_init(&db, "b", NULL, 0);
  dn_decision x, y;
  assert_int_equal(dn_engine_session_decide(a, c, &x, &da), DN_OK);
  assert_int_equal(dn_engine_session_decide(b, c, &y, &db), DN_OK);
  if (x.segment != y.segment || x.skipped != y.skipped || x.nsteps != y.nsteps || x.nrules != y.nrules)
    fail_msg("%s: decisions differ (segment %d/%d, steps %d/%d, rules %d/%d)", where, x.segment,
             y.segment, x.nsteps, y.nsteps, x.nrules, y.nrules);
  for (int32_t i = 0; i < x.nsteps; i++) {
    const dn_step_decision *u = &x.steps[i], *v = &y.steps[i];
    if (u->escalation != v->escalation || u->invoice != v->invoice || u->step != v->step ||
        u->tone != v->tone || u->paused != v->paused || u->error != v->error)
      fail_msg("%s: step decision %d differs (step %d/%d, tone %d/%d)", where, i, u->step, v->step,
               u->tone, v->tone);
  }
  for (int32_t i = 0; i < x.nrules; i++)
    if (x.rules[i].rule != y.rules[i].rule || x.rules[i].invoice != y.rules[i].invoice)
      fail_msg("%s: rule decision %d differs", where, i);
  if (da.count != db.count) fail_msg("%s: %zu reports against %zu", where, da.count, db.count);
  for (size_t i = 0; i < da.count; i++)
    if (strcmp(da.items[i].message, db.items[i].message) != 0)
      fail_msg("%s: '%s' against '%s'", where, da.items[i].message, db.items[i].message);
  dn_diags_free(&da);
  dn_diags_free(&db);
}

/* Every customer of the world decided both ways, with each invoice's days
 * past due moved over -10..90 so that every step of a ladder is reached,
 * missed by a day, and guarded either way. Returns the decisions compared. */
static int compare_decisions(const dn_program *p, const dn_native *lib, const char *name) {
  world w;
  world_init(&w);
  dn_run_options plain = {.as_of = w.as_of}, fast = plain;
  fast.native = lib;
  dn_engine_session *a, *b;
  dn_diags d;
  dn_diags_init(&d, name, NULL, 0);
  assert_int_equal(dn_engine_session_open(p, &plain, &a, &d), DN_OK);
  assert_int_equal(dn_engine_session_open(p, &fast, &b, &d), DN_OK);
  int n = 0;
  for (int shift = -10; shift <= 90; shift += 1)
    for (int k = 0; k < NCUST; k++) {
      for (int i = 0; i < NINV; i++) {
        dn_invoice_facts *f = &w.inv[k][i];
        f->days_past_due = shift + 17 * i - 5 * k;
        f->due_date = w.as_of - f->days_past_due;
      }
      char where[300];
      snprintf(where, sizeof where, "%s customer %d shift %d", name, k, shift);
      same_decision(a, b, &w.c[k], where);
      n++;
    }
  dn_engine_session_close(a);
  dn_engine_session_close(b);
  dn_diags_free(&d);
  return n;
}

static dn_program *compile_text(const char *path, const char *src, size_t len) {
  dn_diags d;
  dn_diags_init(&d, path, src, len);
  dn_program *p = NULL;
  if (src && dn_compile_source(path, src, len, &p, &d) != DN_OK) p = NULL;
  if (p && dn_verify(p, path, &d) != DN_OK) {
    dn_program_free(p);
    p = NULL;
  }
  dn_diags_free(&d);
  return p;
}

static dn_program *compile_file(const char *path) {
  FILE *in = fopen(path, "rb");
  if (!in) return NULL;
  char *src = malloc(1 << 20);
  size_t len = src ? fread(src, 1, (1 << 20) - 1, in) : 0;
  fclose(in);
  dn_program *p = compile_text(path, src, len);
  free(src);
  return p;
}

static char tmpdir[64];

/* Every relation on every inlined type, against values the facts above
 * meet exactly (3 open invoices, risk 0.45, 16,000.00 open, the same
 * date), below and above: a relation compiled wrong differs here. */
static const char relations_src[] =
    "policy \"relations\" version 1\ncurrency USD\nsegment all otherwise\n"
    "let big = customer.total_open >= 16000 USD\n"
    "let late = invoice.days_past_due > 35 and not invoice.disputed\n"
    "escalation e for invoice in all {\n"
    "  step 1 day: email when customer.open_invoices > 3\n"
    "  step 2 days: email when customer.open_invoices >= 3\n"
    "  step 3 days: email when customer.open_invoices < 3\n"
    "  step 4 days: email when customer.open_invoices <= 3\n"
    "  step 5 days: email when customer.open_invoices == 3\n"
    "  step 6 days: email when customer.open_invoices != 3\n"
    "  step 7 days: email when customer.risk_score > 0.45\n"
    "  step 8 days: email when customer.risk_score >= 0.45\n"
    "  step 9 days: email when customer.risk_score < 0.45\n"
    "  step 10 days: email when customer.risk_score <= 0.45\n"
    "  step 11 days: email when customer.risk_score == 0.45\n"
    "  step 12 days: email when customer.risk_score != 0.45\n"
    "  step 13 days: email when customer.total_open > 16000 USD\n"
    "  step 14 days: email when customer.total_open >= 16000 USD\n"
    "  step 15 days: email when customer.total_open < 16000 USD\n"
    "  step 16 days: email when customer.total_open <= 16000 USD\n"
    "  step 17 days: email when customer.total_open == 16000 USD\n"
    "  step 18 days: email when customer.total_open != 16000 USD\n"
    "  step 19 days: email when invoice.due_date > invoice.issue_date + 30 days\n"
    "  step 20 days: email when invoice.due_date >= invoice.issue_date + 30 days\n"
    "  step 21 days: email when customer.promise_active == invoice.promise_active\n"
    "  step 22 days: email when customer.promise_active != invoice.promise_active\n"
    "  step 23 days: email when not invoice.disputed and invoice.days_past_due > 35\n"
    "  step 24 days: email when big or late\n"
    "  step 25 days: email when late and customer.risk_score >= 0.45\n"
    /* text: equal, a prefix either way, the first byte or a later one
     * differing, and a NULL tier read as "" */
    "  step 26 days: email when customer.tier == \"strategic\"\n"
    "  step 27 days: email when customer.tier == \"strat\"\n"
    "  step 28 days: email when customer.tier != \"strategics\"\n"
    "  step 29 days: email when customer.tier == \"standard\"\n"
    "  step 30 days: email when customer.tier != \"xstandard\"\n"
    "  step 31 days: email when customer.tier == \"\"\n"
    "  step 32 days: email when customer.country == \"US\" and customer.tier != \"\"\n"
    "}\n";

static dn_native *build(const dn_program *p, const char *so) {
  dn_diags d;
  dn_diags_init(&d, so, NULL, 0);
  dn_native *lib = NULL;
  dn_status st = dn_native_build(p, so, &d);
  if (st == DN_OK) st = dn_native_load(so, p, &lib, &d);
  if (st != DN_OK) dn_diags_render_text(&d, stderr, false);
  assert_int_equal(st, DN_OK);
  dn_diags_free(&d);
  return lib;
}

static int compare_dir(const char *dir, int *programs, int *decisions) {
  DIR *dh = opendir(dir);
  assert_non_null(dh);
  int evals = 0;
  for (struct dirent *e; (e = readdir(dh));) {
    size_t n = strlen(e->d_name);
    if (n < 5 || strcmp(e->d_name + n - 4, ".dun") != 0 || strstr(e->d_name, "_test.dun")) continue;
    char path[512], so[128];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    dn_program *p = compile_file(path);
    if (!p) continue;
    snprintf(so, sizeof so, "%s/p%d.so", tmpdir, *programs);
    dn_native *lib = build(p, so);
    evals += compare_program(p, lib, path);
    *decisions += compare_decisions(p, lib, path);
    (*programs)++;
    dn_native_free(lib);
    dn_program_free(p);
  }
  closedir(dh);
  return evals;
}

static const char *source_dir(void) {
  const char *s = getenv("DUNLIN_SOURCE_DIR");
  return s ? s : "..";
}

static void test_every_chunk_as_the_vm(void **state) {
  (void)state;
  char dir[512];
  int programs = 0, evals = 0, decisions = 0;
  snprintf(dir, sizeof dir, "%s/tests/check", source_dir());
  evals += compare_dir(dir, &programs, &decisions);
  snprintf(dir, sizeof dir, "%s/policies", source_dir());
  evals += compare_dir(dir, &programs, &decisions);
  dn_program *p = compile_text("relations.dun", relations_src, sizeof relations_src - 1);
  assert_non_null(p);
  char so[128];
  snprintf(so, sizeof so, "%s/relations.so", tmpdir);
  dn_native *lib = build(p, so);
  evals += compare_program(p, lib, "relations.dun");
  decisions += compare_decisions(p, lib, "relations.dun");
  dn_native_free(lib);
  dn_program_free(p);
  /* tests/check and policies hold 23 clean policies: a directory read wrong
   * must not pass by comparing nothing. */
  printf("%d programs, %d evaluations and %d customer decisions compared\n", programs, evals, decisions);
  assert_true(programs >= 15);
  assert_true(evals >= 400);
  assert_true(decisions >= 15 * 303);
}

/* A library for one program is refused for another, and a library whose
 * layout hash differs (another build) is refused before anything runs. */
static void test_refusals(void **state) {
  (void)state;
  char a_path[512], b_path[512], so[128], c_path[160], so2[160];
  snprintf(a_path, sizeof a_path, "%s/policies/b2b_net30.dun", source_dir());
  snprintf(b_path, sizeof b_path, "%s/policies/smb_gentle.dun", source_dir());
  dn_program *a = compile_file(a_path), *b = compile_file(b_path);
  assert_non_null(a);
  assert_non_null(b);
  snprintf(so, sizeof so, "%s/a.so", tmpdir);
  dn_native_free(build(a, so));
  dn_diags d;
  dn_diags_init(&d, so, NULL, 0);
  dn_native *lib = NULL;
  assert_int_equal(dn_native_load(so, b, &lib, &d), DN_ERR_INPUT);
  assert_null(lib);
  assert_int_equal(d.count, 1);
  assert_int_equal(d.items[0].code, DN_E0509);
  assert_non_null(strstr(d.items[0].message, "another policy"));
  dn_diags_free(&d);

  /* The same source with its ABI constant changed, as another build's;
   * and with no ladders' table either, as a build before them (still
   * another build, not a stranger). */
  snprintf(c_path, sizeof c_path, "%s/abi.c", tmpdir);
  snprintf(so2, sizeof so2, "%s/abi.so", tmpdir);
  FILE *out = fopen(c_path, "w");
  assert_non_null(out);
  dn_diags_init(&d, c_path, NULL, 0);
  assert_int_equal(dn_native_emit(a, out, &d), DN_OK);
  fclose(out);
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "sed -i 's/^const uint64_t dunlin_native_abi = 0x[0-9a-f]*ULL/const uint64_t dunlin_native_abi = 0x1ULL/' %s"
           " && cc -shared -fPIC -o %s %s",
           c_path, so2, c_path);
  assert_int_equal(system(cmd), 0);
  dn_diags_free(&d);
  dn_diags_init(&d, so2, NULL, 0);
  assert_int_equal(dn_native_load(so2, a, &lib, &d), DN_ERR_INPUT);
  assert_int_equal(d.count, 1);
  assert_non_null(strstr(d.items[0].message, "another build"));
  dn_diags_free(&d);
  snprintf(so2, sizeof so2, "%s/old.so", tmpdir);
  snprintf(cmd, sizeof cmd, "sed -i 's/dunlin_native_escalations/old_escalations/' %s && cc -shared -fPIC -o %s %s",
           c_path, so2, c_path);
  assert_int_equal(system(cmd), 0);
  dn_diags_init(&d, so2, NULL, 0);
  assert_int_equal(dn_native_load(so2, a, &lib, &d), DN_ERR_INPUT);
  assert_int_equal(d.count, 1);
  assert_non_null(strstr(d.items[0].message, "another build"));
  dn_diags_free(&d);
  dn_program_free(a);
  dn_program_free(b);
}

/* The one table of field loads (runtime/field_access.c) says of every
 * field what fields.def says: its scope and type, or leaves it to the VM;
 * and only the three the VM works out are left to it. */
static void test_field_table(void **state) {
  (void)state;
  static const dn_type types[] = {
#define DN_FIELD(scope, name, type, doc) DN_T_##type,
#include "lang/fields.def"
#undef DN_FIELD
  };
  static const dn_scope scopes[] = {
#define DN_FIELD(scope, name, type, doc) DN_SCOPE_##scope,
#include "lang/fields.def"
#undef DN_FIELD
  };
  int by_vm = 0;
  for (int f = 0; f < DN_F_COUNT; f++) {
    const dn_field_access *a = &dn_field_table[f];
    if (a->kind == DN_FA_VM) {
      by_vm++;
      continue;
    }
    assert_int_equal(a->type, types[f]);
    assert_int_equal(a->scope, scopes[f]);
    size_t size = a->scope == DN_SCOPE_INVOICE ? sizeof(dn_invoice_facts) : sizeof(dn_customer_facts);
    assert_true(a->offset < size);
  }
  assert_int_equal(by_vm, 3); /* invoice.currency, customer.timezone, customer.last_tone */
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/dunlin-native-XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_field_table),
      cmocka_unit_test(test_every_chunk_as_the_vm),
      cmocka_unit_test(test_refusals),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) rc = 1;
  return rc;
}
