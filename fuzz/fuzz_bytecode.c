/* fuzz_bytecode.c - libFuzzer target: bytes -> .dbc reader, verifier,
 * disassembler, and (for what verifies) a run.
 *
 * The verifier's promise is that the VM needs no checks of its own, so a
 * program it accepts is run through the engine against a tiny demo
 * ledger in memory (three customers, built once per process): any crash
 * or sanitizer report there is a verifier hole or a VM bug. Data errors
 * (overflow, a missing rate) are fine; they are reported, not crashes.
 * The disassembler must survive anything the reader accepts, verified or
 * not, since people run it on corrupt files. What verifies is also
 * translated to C (`compile --native` of a .dbc, runtime/native_emit.c):
 * the translation must end in C or in E0509, never in a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/bcfile.h"
#include "lang/diag.h"
#include "lang/disasm.h"
#include "runtime/engine.h"
#include "runtime/ledger.h"
#include "runtime/native.h"
#include "runtime/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One ledger per process, kept for its life: building it per input would
 * spend the fuzzer's time in SQLite. The harness is single-threaded, and
 * only the harness (never the library) keeps state like this. */
static dn_ledger *demo_ledger(void) {
  static dn_ledger ledger;
  static int state; /* 0 not tried, 1 ready, -1 failed */
  if (state == 0) {
    dn_diags diags;
    dn_diags_init(&diags, "fuzz", NULL, 0);
    state = -1;
    if (dn_ledger_open(":memory:", DN_LEDGER_CREATE, &ledger, &diags) == DN_OK) {
      dn_demo_options o = {.customers = 3, .seed = 7, .today = dn_date_from_ymd(2026, 11, 25)};
      if (dn_ledger_demo(&ledger, &o, &diags) == DN_OK) state = 1;
    }
    dn_diags_free(&diags);
  }
  return state == 1 ? &ledger : NULL;
}

/* Records are dropped; touching their strings lets ASan see a dangling one. */
static dn_status discard(void *ctx, const dn_action_rec *a) {
  size_t *n = ctx;
  *n += a->customer ? (size_t)a->customer[0] : 0;
  *n += a->reason ? (size_t)a->reason[0] : 0;
  for (int i = 0; i < a->ninvoices; i++) *n += (size_t)a->invoices[i][0];
  return DN_OK;
}

static void run(const dn_program *p) {
  dn_ledger *l = demo_ledger();
  if (!l) return;
  dn_diags diags;
  dn_diags_init(&diags, "fuzz.dbc", NULL, 0);
  dn_run_options o = {.as_of = dn_date_from_ymd(2026, 11, 25)};
  dn_run_stats stats = {0};
  size_t seen = 0;
  (void)dn_engine_run(p, l, &o, discard, &seen, &stats, &diags);
  dn_diags_free(&diags);
}

static void emit_c(const dn_program *p) {
  dn_diags diags;
  dn_diags_init(&diags, "fuzz.dbc", NULL, 0);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f) {
    (void)dn_native_emit(p, f, &diags);
    fclose(f);
  }
  free(buf);
  dn_diags_free(&diags);
}

static void check(const uint8_t *data, size_t size) {
  dn_diags diags;
  dn_diags_init(&diags, "fuzz.dbc", NULL, 0);
  dn_program *p = NULL;
  dn_status st = dn_bc_read("fuzz.dbc", data, size, &p, &diags);
  if (st == DN_OK && p) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f) {
      dn_disasm(p, f);
      fclose(f);
    }
    free(buf);
    if (dn_verify(p, "fuzz.dbc", &diags) == DN_OK) {
      run(p);
      emit_c(p);
    }
  }
  if (p) dn_program_free(p);
  dn_diags_free(&diags);
}

/* Almost every mutation breaks the trailing checksum, which would stop
 * the fuzzer at the first check. So each input is read twice: as given
 * (the checksum path), then with the checksum recomputed (everything
 * behind it), unless it was already right. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check(data, size);
  if (size < 8) return 0;
  uint64_t h = dn_fnv1a64(data, size - 8, DN_FNV64_SEED);
  uint8_t le[8];
  for (int i = 0; i < 8; i++) le[i] = (uint8_t)(h >> (8 * i));
  if (memcmp(le, data + size - 8, 8) == 0) return 0;
  uint8_t *fixed = malloc(size);
  if (!fixed) return 0;
  memcpy(fixed, data, size - 8);
  memcpy(fixed + size - 8, le, 8);
  check(fixed, size);
  free(fixed);
  return 0;
}
