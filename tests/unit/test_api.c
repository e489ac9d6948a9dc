/* test_api.c - libdunlin's public API (include/dunlin.h): loading from
 * memory and files (source, bytecode, broken ones), diagnostics,
 * decide, run and commit, the FFI allow-list.
 *
 * The policy below is small enough to work every expectation out by
 * hand: an invoice due 2026-02-23 is 15 days past due on 2026-03-10
 * (February 2026 has 28 days), so the latest step is `15 days`: an email
 * and a call, firm, the call with priority = the balance; steps 1 and 7
 * were never emitted, so they are recorded as skipped (catch-up). New York
 * is on daylight time from 2026-03-08, so 09:00 there is -04:00. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "include/dunlin.h"
#include "lang/bcfile.h"
#include "lang/compile.h"
#include "runtime/ledger.h"
#include "runtime/native.h"

static const char policy_src[] =
    "policy \"decide-test\" version 3\n"
    "currency USD\n"
    "timezone \"America/New_York\"\n"
    "send_window 09:00 .. 17:00\n"
    "segment vip when customer.tier == \"strategic\" { tone -1 }\n"
    "segment standard otherwise\n"
    "escalation dunning for invoice in vip, standard unless invoice.disputed {\n"
    "  step 1 day: email tone friendly\n"
    "  step 7 days: email tone neutral\n"
    "  step 15 days: email tone firm, call priority invoice.balance\n"
    "}\n";

static const char request_fmt[] =
    "{\"id\":%d,\"as_of\":\"2026-03-10\",\"customer\":{\"id\":\"C1\",\"tier\":\"%s\",\"currency\":\"USD\"},"
    "\"invoices\":[{\"id\":\"I1\",\"number\":\"1001\",\"issue_date\":\"2026-01-24\",\"due_date\":\"2026-02-23\","
    "\"currency\":\"USD\",\"amount\":\"1200.00\"}]%s}";

static dunlin_policy *load_ok(const char *src) {
  dunlin_diagnostics *d = dunlin_diagnostics_new();
  dunlin_policy *p = NULL;
  dunlin_status st = dunlin_policy_load_memory("t.dun", src, strlen(src), NULL, &p, d);
  if (st != DUNLIN_OK) fprintf(stderr, "%s", dunlin_diagnostics_text(d));
  assert_int_equal(st, DUNLIN_OK);
  assert_non_null(p);
  dunlin_diagnostics_free(d);
  return p;
}

static char *request(int id, const char *tier, const char *extra) {
  static const size_t cap = 4096;
  char *s = malloc(cap);
  snprintf(s, cap, request_fmt, id, tier, extra);
  return s;
}

static const dunlin_action *find(const dunlin_actions *a, const char *kind, const char *step) {
  for (size_t i = 0; i < dunlin_actions_count(a); i++) {
    const dunlin_action *x = dunlin_actions_get(a, i);
    if (strcmp(dunlin_action_kind(x), kind) == 0 && strcmp(dunlin_action_step(x), step) == 0) return x;
  }
  return NULL;
}

static void test_version(void **state) {
  (void)state;
  assert_string_equal(dunlin_version(), "0.1.0");
  assert_int_equal(dunlin_version_number(), 100);
}

static void test_policy_accessors(void **state) {
  (void)state;
  dunlin_policy *p = load_ok(policy_src);
  assert_string_equal(dunlin_policy_name(p), "decide-test");
  assert_int_equal(dunlin_policy_version(p), 3);
  assert_string_equal(dunlin_policy_currency(p), "USD");
  dunlin_policy_free(p);
}

static void test_policy_error_diagnostics(void **state) {
  (void)state;
  /* line 3 compares money with a bare number: E0203 */
  const char *src = "policy \"bad\" version 1\ncurrency USD\nsegment big when customer.total_open > 5000\n"
                    "segment rest otherwise\nescalation e for invoice in big, rest { step 1 day: email tone friendly }\n";
  dunlin_diagnostics *d = dunlin_diagnostics_new();
  dunlin_policy *p = (dunlin_policy *)1;
  assert_int_equal(dunlin_policy_load_memory("bad.dun", src, strlen(src), NULL, &p, d), DUNLIN_ERR_INPUT);
  assert_null(p);
  assert_true(dunlin_diagnostics_errors(d) >= 1);
  size_t i = 0;
  while (i < dunlin_diagnostics_count(d) && strcmp(dunlin_diagnostic_code(d, i), "E0203") != 0) i++;
  assert_true(i < dunlin_diagnostics_count(d));
  assert_int_equal(dunlin_diagnostic_severity(d, i), DUNLIN_SEVERITY_ERROR);
  assert_string_equal(dunlin_diagnostic_file(d, i), "bad.dun");
  assert_int_equal(dunlin_diagnostic_line(d, i), 3);
  assert_true(dunlin_diagnostic_column(d, i) > 17);
  assert_non_null(strstr(dunlin_diagnostic_text(d, i), "bad.dun:3:"));
  assert_non_null(strstr(dunlin_diagnostic_text(d, i), "error[E0203]"));
  assert_non_null(strstr(dunlin_diagnostic_text(d, i), "^"));
  assert_non_null(strstr(dunlin_diagnostics_text(d), "error[E0203]"));
  assert_non_null(dunlin_diagnostic_message(d, i));
  assert_null(strstr(dunlin_diagnostic_message(d, i), "E0203"));
  /* out of range is harmless */
  assert_null(dunlin_diagnostic_code(d, 999));
  assert_int_equal(dunlin_diagnostic_line(d, 999), 0);
  dunlin_diagnostics_clear(d);
  assert_int_equal(dunlin_diagnostics_count(d), 0);
  assert_string_equal(dunlin_diagnostics_text(d), "");
  dunlin_diagnostics_free(d);
}

static void test_load_file_missing(void **state) {
  (void)state;
  dunlin_diagnostics *d = dunlin_diagnostics_new();
  dunlin_policy *p;
  assert_int_equal(dunlin_policy_load_file("/nonexistent/x.dun", NULL, &p, d), DUNLIN_ERR_INPUT);
  assert_null(p);
  assert_string_equal(dunlin_diagnostic_code(d, 0), "E0505");
  dunlin_diagnostics_free(d);
  /* NULL diagnostics are allowed; a NULL out is a usage error */
  assert_int_equal(dunlin_policy_load_file("/nonexistent/x.dun", NULL, &p, NULL), DUNLIN_ERR_INPUT);
  assert_int_equal(dunlin_policy_load_file("x", NULL, NULL, NULL), DUNLIN_ERR_USAGE);
}

/* A .dbc written from the same source loads (verified) and decides the
 * same; a damaged one is refused with E0504. */
static void test_load_bytecode_file(void **state) {
  (void)state;
  dn_diags dd;
  dn_diags_init(&dd, "t.dun", policy_src, strlen(policy_src));
  dn_program *prog;
  assert_int_equal(dn_compile_source("t.dun", policy_src, strlen(policy_src), &prog, &dd), DN_OK);
  uint8_t *buf;
  size_t len;
  assert_int_equal(dn_bc_write(prog, &buf, &len, &dd), DN_OK);
  dn_program_free(prog);
  dn_diags_free(&dd);
  char path[] = "/tmp/dunlin_api_XXXXXX.dbc";
  int fd = mkstemps(path, 4);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, buf, len), (ssize_t)len);
  close(fd);
  dunlin_diagnostics *d = dunlin_diagnostics_new();
  dunlin_policy *p;
  assert_int_equal(dunlin_policy_load_file(path, NULL, &p, d), DUNLIN_OK);
  assert_string_equal(dunlin_policy_name(p), "decide-test");
  dunlin_policy_free(p);
  /* truncated: structurally wrong */
  fd = open(path, O_WRONLY | O_TRUNC);
  assert_int_equal(write(fd, buf, len / 2), (ssize_t)(len / 2));
  close(fd);
  assert_int_equal(dunlin_policy_load_file(path, NULL, &p, d), DUNLIN_ERR_INPUT);
  assert_null(p);
  assert_string_equal(dunlin_diagnostic_code(d, 0), "E0504");
  dunlin_diagnostics_free(d);
  unlink(path);
  free(buf);
}

static void test_decide_actions(void **state) {
  (void)state;
  dunlin_policy *p = load_ok(policy_src);
  char *req = request(42, "standard", "");
  char *resp = NULL;
  dunlin_actions *a = NULL;
  dunlin_diagnostics *d = dunlin_diagnostics_new();
  assert_int_equal(dunlin_decide_json(p, req, strlen(req), &resp, &a, d), DUNLIN_OK);
  assert_int_equal(dunlin_diagnostics_count(d), 0);
  assert_non_null(resp);
  assert_memory_equal(resp, "{\"id\":42,\"actions\":[{\"key\":", 27);
  assert_int_equal(dunlin_actions_count(a), 4);
  const dunlin_action *call = find(a, "call", "15d");
  assert_non_null(call);
  assert_string_equal(dunlin_action_customer(call), "C1");
  assert_int_equal(dunlin_action_invoice_count(call), 1);
  assert_string_equal(dunlin_action_invoice(call, 0), "I1");
  assert_null(dunlin_action_invoice(call, 1));
  assert_string_equal(dunlin_action_tone(call), "firm");
  assert_string_equal(dunlin_action_template(call), "call-firm");
  assert_string_equal(dunlin_action_scheduled_at(call), "2026-03-10T09:00:00-04:00");
  assert_string_equal(dunlin_action_rule(call), "dunning");
  assert_true(dunlin_action_has_priority(call));
  assert_true(dunlin_action_priority(call) == 1200.0);
  assert_null(dunlin_action_assignee(call));
  assert_string_equal(dunlin_action_status(call), "scheduled");
  assert_null(dunlin_action_text(call));
  assert_string_equal(dunlin_action_as_of(call), "2026-03-10");
  assert_int_equal(strlen(dunlin_action_key(call)), 32);
  assert_non_null(strstr(dunlin_action_reason(call), "15 days past due"));
  /* the record's JSON is what the response carries */
  assert_non_null(strstr(resp, dunlin_action_json(call)));
  assert_non_null(strstr(dunlin_action_json(call), "\"kind\":\"call\""));
  const dunlin_action *email = find(a, "email", "15d");
  assert_non_null(email);
  assert_string_equal(dunlin_action_template(email), "email-firm");
  assert_false(dunlin_action_has_priority(email));
  assert_string_equal(dunlin_action_status(find(a, "email", "1d")), "skipped");
  assert_string_equal(dunlin_action_status(find(a, "email", "7d")), "skipped");
  dunlin_actions_free(a);
  dunlin_free(resp);
  free(req);
  dunlin_diagnostics_free(d);
  dunlin_policy_free(p);
}

/* vip: one tone gentler (firm -> neutral); the template follows the tone */
static void test_decide_segment_tone(void **state) {
  (void)state;
  dunlin_policy *p = load_ok(policy_src);
  char *req = request(1, "strategic", "");
  char *resp;
  dunlin_actions *a;
  assert_int_equal(dunlin_decide_json(p, req, strlen(req), &resp, &a, NULL), DUNLIN_OK);
  assert_string_equal(dunlin_action_tone(find(a, "email", "15d")), "neutral");
  assert_string_equal(dunlin_action_template(find(a, "email", "15d")), "email-neutral");
  dunlin_actions_free(a);
  dunlin_free(resp);
  free(req);
  dunlin_policy_free(p);
}

/* Paid in full before D: nothing open, no action. A dispute: the unless
 * guard holds, no action either. */
static void test_decide_nothing_due(void **state) {
  (void)state;
  dunlin_policy *p = load_ok(policy_src);
  const char *extras[] = {
      ",\"payments\":[{\"id\":\"P1\",\"invoice_id\":\"I1\",\"date\":\"2026-03-01\",\"amount_minor\":120000}]",
      ",\"disputes\":[{\"id\":\"D1\",\"invoice_id\":\"I1\",\"opened_on\":\"2026-03-02\",\"reason\":\"price\"}]"};
  for (int i = 0; i < 2; i++) {
    char *req = request(9, "standard", extras[i]);
    char *resp;
    assert_int_equal(dunlin_decide_json(p, req, strlen(req), &resp, NULL, NULL), DUNLIN_OK);
    assert_string_equal(resp, "{\"id\":9,\"actions\":[]}");
    dunlin_free(resp);
    free(req);
  }
  dunlin_policy_free(p);
}

static void test_decide_bad_request(void **state) {
  (void)state;
  dunlin_policy *p = load_ok(policy_src);
  const char *req = "{\"id\":\"r1\",\"as_of\":\"2026-03-10\",\"customer\":{\"id\":\"C1\"},"
                    "\"invoices\":[{\"id\":\"I1\",\"customer_id\":\"C2\",\"issue_date\":\"2026-01-24\","
                    "\"due_date\":\"2026-02-23\",\"currency\":\"USD\",\"amount\":\"5.00\"}]}";
  char *resp;
  dunlin_actions *a = (dunlin_actions *)1;
  dunlin_diagnostics *d = dunlin_diagnostics_new();
  assert_int_equal(dunlin_decide_json(p, req, strlen(req), &resp, &a, d), DUNLIN_ERR_INPUT);
  assert_null(a);
  assert_non_null(strstr(resp, "{\"id\":\"r1\",\"error\":\"invoices[0].customer_id: \\\"C2\\\" is another customer"));
  assert_non_null(strstr(resp, "\"diagnostics\":[{"));
  assert_string_equal(dunlin_diagnostic_code(d, 0), "E0508");
  assert_string_equal(dunlin_diagnostic_file(d, 0), "invoices[0].customer_id");
  dunlin_free(resp);
  /* the same policy still decides good requests afterwards */
  char *good = request(2, "standard", "");
  assert_int_equal(dunlin_decide_json(p, good, strlen(good), &resp, NULL, NULL), DUNLIN_OK);
  assert_non_null(strstr(resp, "\"kind\":\"call\""));
  dunlin_free(resp);
  free(good);
  dunlin_diagnostics_free(d);
  dunlin_policy_free(p);
}

/* The same rows in a ledger file: dunlin_run gives the same records as
 * decide; committing twice writes once. */
static void test_run_equals_decide_and_commit(void **state) {
  (void)state;
  char path[] = "/tmp/dunlin_api_XXXXXX.ledger";
  int fd = mkstemps(path, 7);
  close(fd);
  unlink(path);
  dunlin_diagnostics *d = dunlin_diagnostics_new();
  dunlin_ledger *l;
  assert_int_equal(dunlin_ledger_open(path, DUNLIN_LEDGER_CREATE, &l, d), DUNLIN_OK);
  dunlin_ledger_close(l);
  dn_ledger raw;
  dn_diags dd;
  dn_diags_init(&dd, path, NULL, 0);
  assert_int_equal(dn_ledger_open(path, DN_LEDGER_WRITE, &raw, &dd), DN_OK);
  const char *cn[] = {"id", "tier", "currency"}, *cv[] = {"C1", "standard", "USD"};
  const char *in[] = {"id", "customer_id", "number", "issue_date", "due_date", "currency", "amount"};
  const char *iv[] = {"I1", "C1", "1001", "2026-01-24", "2026-02-23", "USD", "1200.00"};
  dn_row rows[] = {{"customers", cn, cv, 3, "c"}, {"invoices", in, iv, 7, "i"}};
  assert_int_equal(dn_ledger_insert_rows(&raw, rows, 2, &dd), DN_OK);
  dn_ledger_close(&raw);
  dn_diags_free(&dd);

  dunlin_policy *p = load_ok(policy_src);
  assert_int_equal(dunlin_ledger_open(path, DUNLIN_LEDGER_WRITE, &l, d), DUNLIN_OK);
  dunlin_actions *run;
  assert_int_equal(dunlin_run(p, l, "2026-03-10", NULL, 0, &run, d), DUNLIN_OK);
  char *req = request(1, "standard", ""), *resp;
  dunlin_actions *dec;
  assert_int_equal(dunlin_decide_json(p, req, strlen(req), &resp, &dec, d), DUNLIN_OK);
  assert_int_equal(dunlin_actions_count(run), 4);
  assert_int_equal(dunlin_actions_count(dec), 4);
  for (size_t i = 0; i < 4; i++)
    assert_string_equal(dunlin_action_json(dunlin_actions_get(run, i)), dunlin_action_json(dunlin_actions_get(dec, i)));
  assert_int_equal(dunlin_actions_run_id(run), 0);
  dunlin_actions_free(run);

  assert_int_equal(dunlin_run(p, l, "2026-03-10", NULL, DUNLIN_RUN_COMMIT, &run, d), DUNLIN_OK);
  long long run_id = dunlin_actions_run_id(run);
  assert_true(run_id > 0);
  assert_false(dunlin_actions_already_committed(run));
  assert_int_equal(dunlin_actions_count(run), 4);
  dunlin_actions_free(run);
  /* the second commit of the date adds nothing and names the first run */
  assert_int_equal(dunlin_run(p, l, "2026-03-10", NULL, DUNLIN_RUN_COMMIT, &run, d), DUNLIN_OK);
  assert_true(dunlin_actions_already_committed(run));
  assert_int_equal(dunlin_actions_run_id(run), run_id);
  dunlin_actions_free(run);
  /* with the policy's native library, the same actions; a library made
   * for another policy is refused and leaves the policy as it was */
  char so[64], other_so[64];
  snprintf(so, sizeof so, "%s.so", path);
  snprintf(other_so, sizeof other_so, "%s.other.so", path);
  dn_diags_init(&dd, so, NULL, 0);
  dn_program *other = NULL;
  const char other_src[] = "policy \"other\" version 1\ncurrency USD\nsegment all otherwise\n";
  assert_int_equal(dn_compile_source("o.dun", other_src, sizeof other_src - 1, &other, &dd), DN_OK);
  assert_int_equal(dn_native_build(other, other_so, &dd), DN_OK);
  dn_program *mine = NULL;
  assert_int_equal(dn_compile_source("t.dun", policy_src, sizeof policy_src - 1, &mine, &dd), DN_OK);
  assert_int_equal(dn_native_build(mine, so, &dd), DN_OK);
  dn_program_free(other);
  dn_program_free(mine);
  dn_diags_free(&dd);
  dunlin_diagnostics_clear(d);
  assert_int_equal(dunlin_policy_load_native(p, other_so, d), DUNLIN_ERR_INPUT);
  assert_string_equal(dunlin_diagnostic_code(d, 0), "E0509");
  dunlin_diagnostics_clear(d);
  assert_int_equal(dunlin_policy_load_native(p, so, d), DUNLIN_OK);
  dunlin_actions *nat;
  assert_int_equal(dunlin_run(p, l, "2026-03-10", NULL, 0, &nat, d), DUNLIN_OK);
  assert_int_equal(dunlin_actions_count(nat), 4);
  for (size_t i = 0; i < 4; i++)
    assert_string_equal(dunlin_action_json(dunlin_actions_get(nat, i)), dunlin_action_json(dunlin_actions_get(dec, i)));
  dunlin_actions_free(nat);
  /* and it is the library that decides: one whose `unless` guard reads
   * every invoice as disputed pauses the ladder (a doctored copy) */
  char c_path[80], cmd[512], bad_so[80];
  snprintf(c_path, sizeof c_path, "%s.c", path);
  snprintf(bad_so, sizeof bad_so, "%s.bad.so", path); /* a new name: dlopen keeps one per name */
  FILE *src = fopen(c_path, "w");
  assert_non_null(src);
  dn_diags_init(&dd, c_path, NULL, 0);
  assert_int_equal(dn_compile_source("t.dun", policy_src, sizeof policy_src - 1, &mine, &dd), DN_OK);
  assert_int_equal(dn_native_emit(mine, src, &dd), DN_OK);
  fclose(src);
  dn_program_free(mine);
  dn_diags_free(&dd);
  snprintf(cmd, sizeof cmd,
           "sed -i 's/as.b = AT(in, [0-9]*, _Bool)/as.b = 1/' %s && cc -shared -fPIC -o %s %s", c_path, bad_so,
           c_path);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(dunlin_policy_load_native(p, bad_so, d), DUNLIN_OK);
  assert_int_equal(dunlin_run(p, l, "2026-03-10", NULL, 0, &nat, d), DUNLIN_OK);
  assert_int_equal(dunlin_actions_count(nat), 0);
  dunlin_actions_free(nat);
  /* back to the right library: levels below are then decided by it */
  assert_int_equal(dunlin_policy_load_native(p, so, d), DUNLIN_OK);
  unlink(c_path);
  unlink(bad_so);
  unlink(so);
  unlink(other_so);
  /* a bad date is a usage error, with a diagnostic */
  assert_int_equal(dunlin_run(p, l, "2026-13-01", NULL, 0, &run, d), DUNLIN_ERR_USAGE);
  assert_null(run);
  assert_true(dunlin_diagnostics_errors(d) == 1);
  /* levels: I1 due 02-23 is 15 days past due on 03-10, at 15d (firm),
   * whatever the outbox holds; 7 days on 03-02, at 7d (neutral) */
  char *lv;
  assert_int_equal(dunlin_levels_json(p, l, "2026-03-10", NULL, &lv, d), DUNLIN_OK);
  assert_string_equal(lv, "[{\"customer\":\"C1\",\"invoice\":\"I1\",\"segment\":\"standard\","
                          "\"escalation\":\"dunning\",\"status\":\"due\",\"step\":\"15d\",\"tone\":\"firm\","
                          "\"days_past_due\":15,\"balance\":\"1200.00\",\"currency\":\"USD\",\"rules\":[],"
                          "\"as_of\":\"2026-03-10\"}]");
  dunlin_free(lv);
  assert_int_equal(dunlin_levels_json(p, l, "2026-03-02", "C1", &lv, d), DUNLIN_OK);
  assert_non_null(strstr(lv, "\"step\":\"7d\",\"tone\":\"neutral\",\"days_past_due\":7,"));
  dunlin_free(lv);
  /* an unknown customer is an error, not "nothing due" */
  assert_int_equal(dunlin_levels_json(p, l, "2026-03-10", "C9", &lv, d), DUNLIN_ERR_INPUT);
  assert_null(lv);
  assert_true(dunlin_diagnostics_errors(d) == 2);
  assert_non_null(strstr(dunlin_diagnostic_message(d, dunlin_diagnostics_count(d) - 1), "no customer \"C9\""));
  assert_int_equal(dunlin_levels_json(p, l, "03/10/2026", NULL, &lv, d), DUNLIN_ERR_USAGE);
  assert_null(lv);
  assert_true(dunlin_diagnostics_errors(d) == 3);
  dunlin_actions_free(dec);
  dunlin_free(resp);
  free(req);
  dunlin_ledger_close(l);
  dunlin_policy_free(p);
  dunlin_diagnostics_free(d);
  unlink(path);
}

/* extern fn: refused without the library on the allow-list (E0313),
 * bound with it. */
static void test_ffi_allow_list(void **state) {
  (void)state;
  const char *lib = strrchr(DN_FFI_FIXTURE, '/') + 1;
  char src[1024];
  snprintf(src, sizeof src,
           "policy \"ffi\" version 1\ncurrency USD\n"
           "extern fn risk_bonus(string, money) -> number from \"%s\"\n"
           "segment vip when risk_bonus(customer.tier, customer.total_open) >= 0.5\n"
           "segment rest otherwise\n"
           "escalation e for invoice in vip, rest { step 1 day: email tone friendly }\n",
           lib);
  dunlin_diagnostics *d = dunlin_diagnostics_new();
  dunlin_policy *p;
  assert_int_equal(dunlin_policy_load_memory("ffi.dun", src, strlen(src), NULL, &p, d), DUNLIN_ERR_INPUT);
  assert_null(p);
  assert_string_equal(dunlin_diagnostic_code(d, 0), "E0313");
  assert_non_null(strstr(dunlin_diagnostic_message(d, 0), "risk_bonus"));
  const char *paths[] = {DN_FFI_FIXTURE};
  dunlin_ffi_allow allow = {paths, 1};
  assert_int_equal(dunlin_policy_load_memory("ffi.dun", src, strlen(src), &allow, &p, d), DUNLIN_OK);
  dunlin_policy_free(p);
  dunlin_diagnostics_free(d);
}

/* An EUR invoice in a USD policy: without a rate it is a data error (the
 * invoice skipped, the call still OK, the error in the answer); with
 * EUR/USD 1.0850 the balance is 1,200.00 * 1.085 = 1,302.00 USD, the
 * call's priority. */
static void test_decide_data_error(void **state) {
  (void)state;
  dunlin_policy *p = load_ok(policy_src);
  const char *base = "{\"id\":5,\"as_of\":\"2026-03-10\",\"customer\":{\"id\":\"C1\",\"currency\":\"USD\"},"
                     "\"invoices\":[{\"id\":\"I1\",\"issue_date\":\"2026-01-24\",\"due_date\":\"2026-02-23\","
                     "\"currency\":\"EUR\",\"amount\":\"1200.00\"}]%s}";
  char req[1024], *resp;
  dunlin_actions *a;
  dunlin_diagnostics *d = dunlin_diagnostics_new();
  snprintf(req, sizeof req, base, "");
  assert_int_equal(dunlin_decide_json(p, req, strlen(req), &resp, &a, d), DUNLIN_OK);
  assert_int_equal(dunlin_actions_count(a), 0);
  assert_int_equal(dunlin_actions_data_errors(a), 1);
  assert_string_equal(dunlin_diagnostic_code(d, 0), "E0501");
  assert_non_null(strstr(resp, "{\"id\":5,\"actions\":[],\"diagnostics\":[{"));
  assert_non_null(strstr(resp, "\"code\":\"E0501\""));
  dunlin_actions_free(a);
  dunlin_free(resp);
  snprintf(req, sizeof req, base, ",\"fx_rates\":[{\"date\":\"2026-03-01\",\"base\":\"EUR\",\"quote\":\"USD\",\"rate\":\"1.0850\"}]");
  assert_int_equal(dunlin_decide_json(p, req, strlen(req), &resp, &a, NULL), DUNLIN_OK);
  assert_int_equal(dunlin_actions_count(a), 4);
  assert_true(dunlin_action_priority(find(a, "call", "15d")) == 1302.0);
  assert_null(strstr(resp, "diagnostics"));
  dunlin_actions_free(a);
  dunlin_free(resp);
  dunlin_diagnostics_free(d);
  dunlin_policy_free(p);
}

/* The C builder gives the same decision as the JSON text, and its errors
 * carry the same field paths. */
static void test_request_builder(void **state) {
  (void)state;
  dunlin_policy *p = load_ok(policy_src);
  dunlin_request *r = dunlin_request_new("C1", "2026-03-10");
  assert_non_null(r);
  assert_int_equal(dunlin_request_customer(r, "tier", "standard"), DUNLIN_OK);
  assert_int_equal(dunlin_request_customer(r, "currency", "USD"), DUNLIN_OK);
  const char *cols[] = {"id", "number", "issue_date", "due_date", "currency", "amount"};
  const char *vals[] = {"I1", "1001", "2026-01-24", "2026-02-23", "USD", "1200.00"};
  assert_int_equal(dunlin_request_add_row(r, "invoices", cols, vals, 6), DUNLIN_OK);
  assert_int_equal(dunlin_request_add_row(r, "invoice", cols, vals, 6), DUNLIN_ERR_USAGE);
  dunlin_actions *built;
  assert_int_equal(dunlin_decide(p, r, &built, NULL), DUNLIN_OK);
  char *req = request(1, "standard", ""), *resp;
  dunlin_actions *text;
  assert_int_equal(dunlin_decide_json(p, req, strlen(req), &resp, &text, NULL), DUNLIN_OK);
  assert_int_equal(dunlin_actions_count(built), 4);
  for (size_t i = 0; i < 4; i++)
    assert_string_equal(dunlin_action_json(dunlin_actions_get(built, i)), dunlin_action_json(dunlin_actions_get(text, i)));
  dunlin_actions_free(built);
  dunlin_actions_free(text);
  dunlin_free(resp);
  free(req);
  /* a payment in minor units (an integer column) closes the invoice */
  const char *pc[] = {"id", "invoice_id", "date", "amount_minor"};
  const char *pv[] = {"P1", "I1", "2026-03-01", "120000"};
  assert_int_equal(dunlin_request_add_row(r, "payments", pc, pv, 4), DUNLIN_OK);
  char *json = dunlin_request_json(r);
  assert_non_null(strstr(json, "\"amount_minor\":120000"));
  dunlin_free(json);
  assert_int_equal(dunlin_decide(p, r, &built, NULL), DUNLIN_OK);
  assert_int_equal(dunlin_actions_count(built), 0);
  dunlin_actions_free(built);
  /* a bad value is refused with its path */
  const char *bc[] = {"id", "invoice_id", "date", "amount_minor"};
  const char *bv[] = {"P2", "I1", "2026-03-01", "12.5"};
  assert_int_equal(dunlin_request_add_row(r, "payments", bc, bv, 4), DUNLIN_OK);
  dunlin_diagnostics *d = dunlin_diagnostics_new();
  assert_int_equal(dunlin_decide(p, r, &built, d), DUNLIN_ERR_INPUT);
  assert_null(built);
  assert_string_equal(dunlin_diagnostic_file(d, 0), "payments[1].amount_minor");
  assert_string_equal(dunlin_diagnostic_code(d, 0), "E0508");
  dunlin_diagnostics_free(d);
  dunlin_request_free(r);
  dunlin_policy_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_version),
      cmocka_unit_test(test_policy_accessors),
      cmocka_unit_test(test_policy_error_diagnostics),
      cmocka_unit_test(test_load_file_missing),
      cmocka_unit_test(test_load_bytecode_file),
      cmocka_unit_test(test_decide_actions),
      cmocka_unit_test(test_decide_segment_tone),
      cmocka_unit_test(test_decide_nothing_due),
      cmocka_unit_test(test_decide_bad_request),
      cmocka_unit_test(test_run_equals_decide_and_commit),
      cmocka_unit_test(test_ffi_allow_list),
      cmocka_unit_test(test_request_builder),
      cmocka_unit_test(test_decide_data_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
