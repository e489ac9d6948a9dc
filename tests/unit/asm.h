/* asm.h - a tiny hand assembler for bytecode tests: builds a dn_program
 * table by table and chunk by chunk from opcode bytes (opcodes.def), so the
 * verifier and VM tests can make programs the compiler would never emit.
 * Shared by test_verify.c and test_vm.c; each includes it once. The
 * functions are static inline so a test that uses only some of them still
 * builds under -Wunused-function -Werror. */
#ifndef DN_TESTS_ASM_H
#define DN_TESTS_ASM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lang/program.h"

static inline uint16_t usd(void) { return dn_currency_lookup("USD", 3); }

static inline dn_program *prog_new(void) {
  dn_program *p = calloc(1, sizeof *p);
  p->name = strdup("t");
  p->timezone = strdup("UTC");
  p->currency = usd();
  p->window_start = 540;
  p->window_end = 1020;
  static const char *const tones[] = {"friendly", "neutral", "firm", "final"};
  p->tone_names = calloc(4, sizeof *p->tone_names);
  for (int i = 0; i < 4; i++) p->tone_names[i] = strdup(tones[i]);
  p->ntone_names = 4;
  p->strings = calloc(1, sizeof *p->strings);
  p->strings[0] = strdup("standard");
  p->nstrings = 1;
  p->ladders = calloc(1, sizeof *p->ladders);
  p->ladders[0] = (dn_ladder){0, 0, 4};
  p->nladders = 1;
  return p;
}

static inline uint32_t add_string(dn_program *p, const char *s) {
  p->strings = realloc(p->strings, (p->nstrings + 1) * sizeof *p->strings);
  p->strings[p->nstrings] = strdup(s);
  return p->nstrings++;
}

static inline uint32_t add_const(dn_program *p, dn_const k) {
  p->consts = realloc(p->consts, (p->nconsts + 1) * sizeof *p->consts);
  p->consts[p->nconsts] = k;
  return p->nconsts++;
}

static inline uint32_t k_int(dn_program *p, int64_t i) { dn_const k = {.type = DN_T_INT, .as.i = i}; return add_const(p, k); }
static inline uint32_t k_num(dn_program *p, double n) { dn_const k = {.type = DN_T_NUMBER, .as.n = n}; return add_const(p, k); }
static inline uint32_t k_money(dn_program *p, int64_t minor) {
  dn_const k = {.type = DN_T_MONEY, .as.m = {minor, usd()}};
  return add_const(p, k);
}
static inline uint32_t k_date(dn_program *p, int y, int m, int d) {
  dn_const k = {.type = DN_T_DATE, .as.d = dn_date_from_ymd(y, m, d)};
  return add_const(p, k);
}
static inline uint32_t k_dur(dn_program *p, int days, bool business) {
  dn_const k = {.type = DN_T_DURATION};
  k.as.dur.days = days;
  k.as.dur.business = business;
  return add_const(p, k);
}
static inline uint32_t k_str(dn_program *p, const char *s) {
  dn_const k = {.type = DN_T_STRING, .as.str = add_string(p, s)};
  return add_const(p, k);
}

static inline int32_t add_chunk(dn_program *p, const uint8_t *code, uint32_t len, dn_type result,
                                dn_scope scope, uint16_t max_stack) {
  p->code = realloc(p->code, p->code_len + len);
  memcpy(p->code + p->code_len, code, len);
  p->chunks = realloc(p->chunks, (p->nchunks + 1) * sizeof *p->chunks);
  p->chunks[p->nchunks] = (dn_chunk){p->code_len, len, max_stack, result, scope};
  p->code_len += len;
  return (int32_t)p->nchunks++;
}

static inline int32_t add_let(dn_program *p, int32_t chunk) {
  p->lets = realloc(p->lets, (p->nlets + 1) * sizeof *p->lets);
  p->lets[p->nlets] = (dn_let_def){(int32_t)add_string(p, "l"), chunk};
  return (int32_t)p->nlets++;
}

#define LO(x) (uint8_t)((x) & 0xFF)
#define HI(x) (uint8_t)((x) >> 8)
#define CONST(k) DN_OPC_CONST, LO(k), HI(k)
#define FIELD(f) DN_OPC_FIELD, (uint8_t)(f)
#define ARITH(v) DN_OPC_ARITH, (uint8_t)(v)
#define CMP(rel, t) DN_OPC_CMP, (uint8_t)(rel), (uint8_t)(t)
#define CALL(b) DN_OPC_CALL, (uint8_t)(b)
#define RET DN_OPC_RET
#define CHUNK(p, result, scope, ms, ...) \
  add_chunk(p, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), result, scope, ms)

#endif
