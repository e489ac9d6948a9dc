/* fuzz_parse_check.c - libFuzzer target: policy source -> lexer, parser,
 * checker, compiler, and the diagnostic renderers; and, for an input that
 * holds `test "`, the policy-test path too (runtime/testrun.h: the test
 * checker, then the tests run against the shipped policies).
 *
 * Beyond "no crash, no sanitizer report", it holds the compiler to one
 * promise: whatever it accepts, the bytecode writer, reader and verifier
 * accept too (a compiled policy that fails verification is a compiler or
 * verifier bug, so the target aborts on it). The disassembler runs on
 * every compiled program. Output goes to an in-memory stream that is
 * thrown away, so the renderers are exercised without touching disk. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lang/bcfile.h"
#include "lang/compile.h"
#include "lang/diag.h"
#include "lang/disasm.h"
#include "runtime/testrun.h"
#include "runtime/verify.h"

#ifndef DN_FUZZ_POLICY
#error "DN_FUZZ_POLICY: path of a policy in policies/ (set by fuzz/CMakeLists.txt)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An in-memory sink for the renderers and the disassembler. */
static FILE *sink_open(char **buf, size_t *len) {
  *buf = NULL;
  *len = 0;
  return open_memstream(buf, len);
}

/* fclose sets *buf, so it is read only after. */
static void sink_close(FILE *f, char **buf) {
  if (f) fclose(f);
  free(*buf);
}

/* A compiled program must survive the .dbc round trip and verification. */
static void round_trip(const dn_program *p) {
  dn_diags diags;
  dn_diags_init(&diags, "fuzz.dbc", NULL, 0);
  uint8_t *bc = NULL;
  size_t bclen = 0;
  if (dn_bc_write(p, &bc, &bclen, &diags) != DN_OK) abort();
  dn_program *back = NULL;
  if (dn_bc_read("fuzz.dbc", bc, bclen, &back, &diags) != DN_OK) abort();
  if (dn_verify(back, "fuzz.dbc", &diags) != DN_OK) abort();
  char *buf;
  size_t len;
  FILE *f = sink_open(&buf, &len);
  if (f) dn_disasm(back, f);
  sink_close(f, &buf);
  dn_program_free(back);
  free(bc);
  dn_diags_free(&diags);
}

/* Test files name their policy by a path relative to themselves, so the
 * input is written into a private directory holding copies of the
 * shipped policies, made once per process (harness state only). */
static char test_dir[64];

static void test_dir_remove(void) {
  static const char *const names[] = {"b2b_net30.dun", "smb_gentle.dun", "subscription.dun", "t_test.dun"};
  char path[128];
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    snprintf(path, sizeof path, "%s/%s", test_dir, names[i]);
    unlink(path);
  }
  rmdir(test_dir);
}

static void copy_policy(const char *name) {
  char from[4096], to[128];
  const char *slash = strrchr(DN_FUZZ_POLICY, '/');
  int dirlen = slash ? (int)(slash - DN_FUZZ_POLICY) : 0;
  snprintf(from, sizeof from, "%.*s/%s", dirlen, DN_FUZZ_POLICY, name);
  snprintf(to, sizeof to, "%s/%s", test_dir, name);
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  char buf[4096];
  size_t n;
  while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
  if (in) fclose(in);
  if (out) fclose(out);
}

static const char *test_dir_path(void) {
  if (!test_dir[0]) {
    snprintf(test_dir, sizeof test_dir, "/tmp/dnfuzztXXXXXX");
    if (!mkdtemp(test_dir)) {
      test_dir[0] = '\0';
      return NULL;
    }
    atexit(test_dir_remove);
    copy_policy("b2b_net30.dun");
    copy_policy("smb_gentle.dun");
    copy_policy("subscription.dun");
  }
  return test_dir;
}

static void run_tests(const char *src, size_t size) {
  const char *dir = test_dir_path();
  if (!dir) return;
  char path[128];
  snprintf(path, sizeof path, "%s/t_test.dun", dir);
  FILE *f = fopen(path, "wb");
  if (!f) return;
  size_t w = fwrite(src, 1, size, f);
  if (fclose(f) != 0 || w != size) return;
  dn_test_suite suite;
  if (dn_test_suite_init(&suite, NULL) != DN_OK) return;
  dn_test_file *tf = NULL;
  if (dn_test_file_load(&suite, path, &tf) == DN_OK) (void)dn_test_file_run(&suite, tf);
  dn_test_file_free(tf);
  dn_test_suite_free(&suite);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* The CLI hands the compiler a NUL-terminated copy; so do we. */
  char *src = malloc(size + 1);
  if (!src) return 0;
  memcpy(src, data, size);
  src[size] = '\0';
  dn_diags diags;
  dn_diags_init(&diags, "fuzz.dun", src, size);
  dn_program *p = NULL;
  dn_status st = dn_compile_source("fuzz.dun", src, size, &p, &diags);
  if (st == DN_OK && p) round_trip(p);
  if (p) dn_program_free(p);
  dn_diags_sort(&diags);
  char *buf;
  size_t len;
  FILE *f = sink_open(&buf, &len);
  if (f) {
    dn_diags_render_text(&diags, f, true);
    dn_diags_render_json(&diags, f, false);
  }
  sink_close(f, &buf);
  dn_diags_free(&diags);
  if (strstr(src, "test \"")) run_tests(src, size);
  free(src);
  return 0;
}
