/* test_bcfile.c - the .dbc writer and reader.
 *
 * Round trips must give back an identical program; a file cut at any
 * length or with any single bit flipped must be rejected without a
 * crash; and with the checksum recomputed after a flip (as an attacker
 * would), whatever the reader accepts goes through the verifier and, if
 * it passes, through the VM and the disassembler, under the sanitizers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/bcfile.h"
#include "lang/compile.h"
#include "lang/disasm.h"
#include "runtime/verify.h"
#include "runtime/vm.h"
#include "spec_example.h"

/* LANGUAGE.md section 1. */
static dn_program *compile_acme(void) {
  dn_program *p = dn_spec_example_program();
  assert_non_null(p);
  return p;
}

static void write_ok(const dn_program *p, uint8_t **buf, size_t *len) {
  dn_diags d;
  dn_diags_init(&d, "x", NULL, 0);
  assert_int_equal(dn_bc_write(p, buf, len, &d), DN_OK);
  dn_diags_free(&d);
}

/* The spec example compiled and written; the caller frees both. */
static dn_program *acme_bytes(uint8_t **buf, size_t *len) {
  dn_program *p = compile_acme();
  write_ok(p, buf, len);
  return p;
}

/* Reads buf; returns the status and, on failure, copies the first message. */
static dn_status read_buf(const uint8_t *buf, size_t len, dn_program **out, char *msg, size_t msglen) {
  dn_diags d;
  dn_diags_init(&d, "x.dbc", NULL, 0);
  dn_status st = dn_bc_read("x.dbc", buf, len, out, &d);
  if (msg) {
    msg[0] = '\0';
    if (d.count) snprintf(msg, msglen, "%s", d.items[0].message);
  }
  if (st != DN_OK) {
    assert_true(d.count > 0);
    assert_int_equal(d.items[0].code, DN_E0504);
    assert_string_equal(d.items[0].file, "x.dbc");
  }
  dn_diags_free(&d);
  return st;
}

static void fix_checksum(uint8_t *buf, size_t len) {
  uint64_t h = dn_fnv1a64(buf, len - 8, DN_FNV64_SEED);
  for (int i = 0; i < 8; i++) buf[len - 8 + (size_t)i] = (uint8_t)(h >> (8 * i));
}

/* --- deep comparison --- */

static void same_str(const char *a, const char *b) {
  if (!a || !b) assert_ptr_equal(a, b);
  else assert_string_equal(a, b);
}

#define SAME_MEM(a, b, field, n) \
  do { assert_int_equal((a)->n, (b)->n); \
       if ((a)->n) assert_memory_equal((a)->field, (b)->field, (a)->n * sizeof *(a)->field); } while (0)

static void same_const(const dn_const *a, const dn_const *b) {
  assert_int_equal(a->type, b->type);
  switch (a->type) {
    case DN_T_BOOL: assert_int_equal(a->as.b, b->as.b); break;
    case DN_T_INT: assert_int_equal(a->as.i, b->as.i); break;
    case DN_T_NUMBER: assert_memory_equal(&a->as.n, &b->as.n, sizeof a->as.n); break;
    case DN_T_MONEY: assert_int_equal(a->as.m.minor, b->as.m.minor); assert_int_equal(a->as.m.cur, b->as.m.cur); break;
    case DN_T_DATE: assert_int_equal(a->as.d, b->as.d); break;
    case DN_T_DURATION:
      assert_int_equal(a->as.dur.days, b->as.dur.days);
      assert_int_equal(a->as.dur.business, b->as.dur.business);
      break;
    default: assert_int_equal(a->as.str, b->as.str); break;
  }
}

static void same_program(const dn_program *a, const dn_program *b) {
  same_str(a->name, b->name);
  assert_int_equal(a->version, b->version);
  assert_true(a->source_hash == b->source_hash);
  assert_int_equal(a->currency, b->currency);
  same_str(a->timezone, b->timezone);
  same_str(a->calendar, b->calendar);
  assert_int_equal(a->window_start, b->window_start);
  assert_int_equal(a->window_end, b->window_end);
  assert_int_equal(a->promise_grace_days, b->promise_grace_days);
  assert_int_equal(a->nstrings, b->nstrings);
  for (uint32_t i = 0; i < a->nstrings; i++) assert_string_equal(a->strings[i], b->strings[i]);
  assert_int_equal(a->nconsts, b->nconsts);
  for (uint32_t i = 0; i < a->nconsts; i++) same_const(&a->consts[i], &b->consts[i]);
  SAME_MEM(a, b, code, code_len);
  assert_int_equal(a->nchunks, b->nchunks);
  for (uint32_t i = 0; i < a->nchunks; i++) {
    assert_int_equal(a->chunks[i].start, b->chunks[i].start);
    assert_int_equal(a->chunks[i].len, b->chunks[i].len);
    assert_int_equal(a->chunks[i].max_stack, b->chunks[i].max_stack);
    assert_int_equal(a->chunks[i].result, b->chunks[i].result);
    assert_int_equal(a->chunks[i].scope, b->chunks[i].scope);
  }
  SAME_MEM(a, b, lines, nlines);
  assert_int_equal(a->ntone_names, b->ntone_names);
  for (uint32_t i = 0; i < a->ntone_names; i++) assert_string_equal(a->tone_names[i], b->tone_names[i]);
  SAME_MEM(a, b, ladders, nladders);
  SAME_MEM(a, b, lets, nlets);
  SAME_MEM(a, b, segments, nsegments);
  SAME_MEM(a, b, segment_refs, nsegment_refs);
  SAME_MEM(a, b, escalations, nescalations);
  assert_int_equal(a->nsteps, b->nsteps);
  for (uint32_t i = 0; i < a->nsteps; i++) {
    const dn_step_def *x = &a->steps[i], *y = &b->steps[i];
    assert_int_equal(x->offset_days, y->offset_days);
    assert_int_equal(x->business, y->business);
    assert_int_equal(x->guard, y->guard);
    assert_int_equal(x->first_action, y->first_action);
    assert_int_equal(x->nactions, y->nactions);
    assert_int_equal(x->tone_name, y->tone_name);
  }
  SAME_MEM(a, b, actions, nactions);
  SAME_MEM(a, b, events, nevents);
  SAME_MEM(a, b, rules, nrules);
  SAME_MEM(a, b, caps, ncaps);
  assert_int_equal(a->nexterns, b->nexterns);
  for (uint32_t i = 0; i < a->nexterns; i++) {
    const dn_extern_def *x = &a->externs[i], *y = &b->externs[i];
    assert_int_equal(x->name, y->name);
    assert_int_equal(x->library, y->library);
    assert_int_equal(x->nparams, y->nparams);
    for (int k = 0; k < x->nparams; k++) assert_int_equal(x->params[k], y->params[k]);
    assert_int_equal(x->ret, y->ret);
  }
  assert_int_equal(a->source_len, b->source_len);
  if (a->source_len) assert_memory_equal(a->source, b->source, a->source_len);
  same_str(a->filename, b->filename);
}

/* Expects reading the corrupted bytes b to fail with a message containing
 * `want`. */
static void expect_rejected(const uint8_t *b, size_t len, const char *want) {
  dn_program *q = NULL;
  char msg[256];
  assert_int_equal(read_buf(b, len, &q, msg, sizeof msg), DN_ERR_INPUT);
  if (!strstr(msg, want)) fprintf(stderr, "want '%s', got '%s'\n", want, msg);
  assert_non_null(strstr(msg, want));
}

/* --- cases --- */

static void test_round_trip_compiled(void **state) {
  (void)state;
  uint8_t *buf;
  size_t len;
  dn_program *p = acme_bytes(&buf, &len);
  assert_true(dn_bc_is_bytecode(buf, len));
  assert_false(dn_bc_is_bytecode((const uint8_t *)DN_SPEC_EXAMPLE, strlen(DN_SPEC_EXAMPLE)));
  dn_program *q = NULL;
  assert_int_equal(read_buf(buf, len, &q, NULL, 0), DN_OK);
  same_program(p, q);
  dn_diags d;
  dn_diags_init(&d, "x", NULL, 0);
  assert_int_equal(dn_verify(q, "x.dbc", &d), DN_OK);
  dn_diags_free(&d);
  /* writing the read program gives the same bytes */
  uint8_t *buf2;
  size_t len2;
  write_ok(q, &buf2, &len2);
  assert_int_equal(len, len2);
  assert_memory_equal(buf, buf2, len);
  free(buf2);
  free(buf);
  dn_program_free(q);
  dn_program_free(p);
}

/* A hand-made program with every constant type, an extern, no calendar
 * and no source: optional parts must survive too. */
static void test_round_trip_hand_made(void **state) {
  (void)state;
  dn_program *p = calloc(1, sizeof *p);
  p->name = strdup("hand");
  p->version = -7;
  p->source_hash = 0x0123456789abcdefULL;
  p->currency = dn_currency_lookup("JPY", 3);
  p->timezone = strdup("Asia/Tokyo");
  p->window_start = 0;
  p->window_end = 1440;
  p->promise_grace_days = 3;
  p->nstrings = 2;
  p->strings = calloc(2, sizeof *p->strings);
  p->strings[0] = strdup("");
  p->strings[1] = strdup("caf\xc3\xa9 \"q\"");
  p->nconsts = 8;
  p->consts = calloc(8, sizeof *p->consts);
  p->consts[0] = (dn_const){.type = DN_T_BOOL, .as.b = true};
  p->consts[1] = (dn_const){.type = DN_T_INT, .as.i = INT64_MIN};
  p->consts[2] = (dn_const){.type = DN_T_NUMBER, .as.n = -0.1};
  p->consts[3] = (dn_const){.type = DN_T_MONEY, .as.m = {INT64_MAX, 5}};
  p->consts[4] = (dn_const){.type = DN_T_DATE, .as.d = -1};
  p->consts[5].type = DN_T_DURATION;
  p->consts[5].as.dur.days = -3;
  p->consts[5].as.dur.business = true;
  p->consts[6] = (dn_const){.type = DN_T_STRING, .as.str = 1};
  p->consts[7] = (dn_const){.type = DN_T_BOOL, .as.b = false};
  p->nexterns = 1;
  p->externs = calloc(1, sizeof *p->externs);
  p->externs[0] = (dn_extern_def){1, 0, 3, {DN_T_STRING, DN_T_MONEY, DN_T_DATE}, DN_T_NUMBER};
  p->ncaps = 1;
  p->caps = calloc(1, sizeof *p->caps);
  p->caps[0] = (dn_cap_def){2, 7};
  uint8_t *buf;
  size_t len;
  write_ok(p, &buf, &len);
  dn_program *q = NULL;
  char msg[256];
  assert_int_equal(read_buf(buf, len, &q, msg, sizeof msg), DN_OK);
  same_program(p, q);
  assert_null(q->calendar);
  assert_null(q->source);
  free(buf);
  dn_program_free(q);
  dn_program_free(p);
}

static void test_truncation_everywhere(void **state) {
  (void)state;
  uint8_t *buf;
  size_t len;
  dn_program *p = acme_bytes(&buf, &len);
  char msg[256];
  for (size_t n = 0; n < len; n++) {
    /* a fresh allocation of exactly n bytes, so ASan sees any overread */
    uint8_t *cut = malloc(n ? n : 1);
    memcpy(cut, buf, n);
    dn_program *q = NULL;
    assert_int_equal(read_buf(cut, n, &q, msg, sizeof msg), DN_ERR_INPUT);
    assert_null(q);
    if (!strstr(msg, "truncated")) fprintf(stderr, "at %zu: %s\n", n, msg);
    assert_non_null(strstr(msg, "truncated"));
    free(cut);
  }
  free(buf);
  dn_program_free(p);
}

static void test_every_bit_flip_rejected(void **state) {
  (void)state;
  uint8_t *buf;
  size_t len;
  dn_program *p = acme_bytes(&buf, &len);
  for (size_t i = 0; i < len * 8; i++) {
    buf[i / 8] ^= (uint8_t)(1u << (i % 8));
    dn_program *q = NULL;
    assert_int_equal(read_buf(buf, len, &q, NULL, 0), DN_ERR_INPUT);
    buf[i / 8] ^= (uint8_t)(1u << (i % 8));
  }
  free(buf);
  dn_program_free(p);
}

/* Runs every chunk of a verified program against simple facts: the VM
 * must never crash on anything the verifier accepts. */
static void run_all_chunks(const dn_program *p) {
  dn_invoice_facts inv;
  memset(&inv, 0, sizeof inv);
  inv.last_payment_date = DN_DATE_NONE;
  inv.balance_p = 100;
  dn_customer_facts c;
  memset(&c, 0, sizeof c);
  c.invoices = &inv;
  c.ninvoices = 1;
  c.last_contact_date = DN_DATE_NONE;
  dn_vm_env env = {.program = p, .as_of = dn_date_from_ymd(2026, 3, 10)};
  dn_vm *vm = dn_vm_new(&env);
  assert_non_null(vm);
  dn_vm_begin_customer(vm, &c, 0);
  for (uint32_t k = 0; k < p->nchunks; k++) {
    dn_value v;
    char err[128];
    (void)dn_vm_eval(vm, (int32_t)k, 0, &v, err, sizeof err);
  }
  dn_vm_free(vm);
}

static void test_bit_flips_past_checksum(void **state) {
  (void)state;
  uint8_t *buf;
  size_t len;
  dn_program *p = acme_bytes(&buf, &len);
  FILE *null = fopen("/dev/null", "w");
  assert_non_null(null);
  int read_rejected = 0, verify_rejected = 0, accepted = 0;
  for (size_t i = 0; i < (len - 8) * 8; i++) {
    buf[i / 8] ^= (uint8_t)(1u << (i % 8));
    fix_checksum(buf, len);
    dn_program *q = NULL;
    if (read_buf(buf, len, &q, NULL, 0) != DN_OK) {
      read_rejected++;
    } else {
      dn_disasm(q, null); /* must survive whatever the reader accepts */
      dn_diags d;
      dn_diags_init(&d, "x", NULL, 0);
      if (dn_verify(q, "x.dbc", &d) != DN_OK) {
        verify_rejected++;
      } else {
        accepted++;
        run_all_chunks(q);
      }
      dn_diags_free(&d);
      dn_program_free(q);
    }
    buf[i / 8] ^= (uint8_t)(1u << (i % 8));
  }
  fix_checksum(buf, len);
  fclose(null);
  /* both layers must have done real work */
  assert_true(read_rejected > 0);
  assert_true(verify_rejected > 0);
  (void)accepted; /* e.g. a flipped string byte is a different, valid program */
  free(buf);
  dn_program_free(p);
}

static void test_specific_errors(void **state) {
  (void)state;
  uint8_t *buf;
  size_t len;
  dn_program *p = acme_bytes(&buf, &len);
  char msg[256];
  dn_program *q = NULL;
  uint8_t *b = malloc(len);

  memcpy(b, buf, len);
  b[1] = 'X';
  expect_rejected(b, len, "bad magic");

  memcpy(b, buf, len);
  b[8] = 2; /* format version 2 */
  fix_checksum(b, len);
  expect_rejected(b, len, "format version 2");

  memcpy(b, buf, len);
  b[10] ^= 0xFF; /* sentinel */
  fix_checksum(b, len);
  expect_rejected(b, len, "sentinel");

  memcpy(b, buf, len);
  b[18] = 99; /* first section id */
  fix_checksum(b, len);
  expect_rejected(b, len, "unknown section id 99 at byte 18");

  memcpy(b, buf, len);
  b[len - 20] ^= 1;
  expect_rejected(b, len, "checksum mismatch");

  /* the strings section starts after the header section: give it a
   * count of 2^32-1, which must be refused before any allocation */
  uint16_t nsec = (uint16_t)(buf[16] | buf[17] << 8);
  uint32_t header_len = buf[20] | buf[21] << 8 | (uint32_t)buf[22] << 16 | (uint32_t)buf[23] << 24;
  size_t strings_at = 18 + 6u * nsec + header_len;
  memcpy(b, buf, len);
  memset(b + strings_at, 0xFF, 4);
  fix_checksum(b, len);
  assert_int_equal(read_buf(b, len, &q, msg, sizeof msg), DN_ERR_INPUT);
  assert_non_null(strstr(msg, "count 4294967295"));
  assert_non_null(strstr(msg, "exceeds"));

  /* trailing garbage */
  uint8_t *longer = malloc(len + 1);
  memcpy(longer, buf, len);
  longer[len] = 0;
  expect_rejected(longer, len + 1, "trailing");
  free(longer);

  free(b);
  free(buf);
  dn_program_free(p);
}

/* The listing names fields, constants and jump targets, and survives
 * garbage (unknown opcodes, truncated operands, bad indices). */
static void test_disasm(void **state) {
  (void)state;
  dn_program *p = compile_acme();
  char *text = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&text, &n);
  dn_disasm(p, f);
  fclose(f);
  assert_non_null(strstr(text, "policy \"acme-b2b\" version 3"));
  assert_non_null(strstr(text, "0 standard: friendly < neutral < firm < final"));
  assert_non_null(strstr(text, "customer.total_overdue"));
  assert_non_null(strstr(text, "50000.00 USD"));
  assert_non_null(strstr(text, "JUMP_IF_TRUE_KEEP"));
  assert_non_null(strstr(text, "addr  opcode"));
  free(text);
  /* corrupt the code: an unknown opcode and a truncated CONST at the end */
  const dn_chunk *c = &p->chunks[0];
  p->code[c->start] = 250;
  p->code[c->start + c->len - 1] = DN_OPC_CONST;
  p->segments[0].name = 9999;
  f = open_memstream(&text, &n);
  dn_disasm(p, f);
  fclose(f);
  assert_non_null(strstr(text, "???"));
  assert_non_null(strstr(text, "unknown opcode"));
  assert_non_null(strstr(text, "truncated operands"));
  free(text);
  dn_program_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_compiled),
      cmocka_unit_test(test_round_trip_hand_made),
      cmocka_unit_test(test_truncation_everywhere),
      cmocka_unit_test(test_every_bit_flip_rejected),
      cmocka_unit_test(test_bit_flips_past_checksum),
      cmocka_unit_test(test_specific_errors),
      cmocka_unit_test(test_disasm),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
