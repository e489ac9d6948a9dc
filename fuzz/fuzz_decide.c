/* fuzz_decide.c - libFuzzer target: bytes -> dn_decide_json (the
 * request of runtime/decide.h) against policies/b2b_net30.dun, which has
 * segments, a ladder with catch-up, events, a rule and priorities.
 *
 * One decider serves every input of a process, as it serves every request
 * of `dunlin serve`: a request that leaves anything behind in the scratch
 * ledger would change the next one's answer, so besides crashes the
 * target checks that the response is always a JSON object, an error
 * object when the status says the request was bad. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/compile.h"
#include "lang/diag.h"
#include "runtime/decide.h"

#ifndef DN_FUZZ_POLICY
#error "DN_FUZZ_POLICY: path of the policy the decider runs (set by fuzz/CMakeLists.txt)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *read_policy(size_t *len) {
  FILE *f = fopen(DN_FUZZ_POLICY, "rb");
  if (!f) return NULL;
  char *buf = malloc(1 << 16);
  size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
  fclose(f);
  if (buf) buf[n] = '\0';
  *len = n;
  return buf;
}

/* The program and the decider live as long as the process (harness
 * state, like a server's; the library keeps none). */
typedef struct harness {
  char *source;
  dn_program *p;
  dn_decider *d;
  int state; /* 0 not tried, 1 ready, -1 failed */
} harness;

static harness h;

static void harness_free(void) {
  dn_decider_close(h.d);
  dn_program_free(h.p);
  free(h.source);
}

static dn_decider *decider(void) {
  if (h.state != 0) return h.state == 1 ? h.d : NULL;
  h.state = -1;
  size_t len = 0;
  h.source = read_policy(&len);
  if (!h.source) {
    fprintf(stderr, "fuzz_decide: cannot read %s\n", DN_FUZZ_POLICY);
    abort();
  }
  dn_diags diags;
  dn_diags_init(&diags, DN_FUZZ_POLICY, h.source, len);
  if (dn_compile_source(DN_FUZZ_POLICY, h.source, len, &h.p, &diags) == DN_OK &&
      dn_decider_open(h.p, NULL, &h.d, &diags) == DN_OK)
    h.state = 1;
  dn_diags_free(&diags);
  if (h.state != 1) abort();
  atexit(harness_free);
  return h.d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dn_decider *d = decider();
  dn_diags diags;
  dn_diags_init(&diags, "request", NULL, 0);
  char *response = NULL;
  dn_status st = dn_decide_json(d, (const char *)data, size, &response, &diags);
  if (st == DN_OK || st == DN_ERR_INPUT) {
    /* Fit to send back: one JSON object, with "error" exactly when bad. */
    if (!response) abort();
    json_t *r = json_loads(response, 0, NULL);
    if (!json_is_object(r)) abort();
    bool has_error = json_object_get(r, "error") != NULL;
    if (has_error != (st == DN_ERR_INPUT)) abort();
    json_decref(r);
  }
  free(response);
  dn_diags_free(&diags);
  return 0;
}
