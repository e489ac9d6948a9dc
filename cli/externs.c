/* externs.c - see externs.h. The binding itself lives in
 * runtime/policy_load.c (libdunlin needs it too); this prints. */
#include "cli/externs.h"

#include <string.h>

#include "cli/common.h"
#include "runtime/native.h"
#include "runtime/policy_load.h"

dn_status dn_cli_externs_load(const char *policy, const dn_program *p, const char *allow,
                              dn_cli_externs *out) {
  memset(out, 0, sizeof *out);
  dn_diags diags;
  dn_diags_init(&diags, policy, NULL, 0);
  dn_policy_externs e;
  dn_status st = dn_policy_bind_externs_list(policy, p, allow, &e, &diags);
  dn_cli_print_diags(&diags);
  dn_diags_free(&diags);
  if (st == DN_OK) {
    out->libs = e.libs;
    out->fns = e.fns;
  }
  return st;
}

void dn_cli_externs_free(dn_cli_externs *e) {
  dn_policy_externs e2 = {.libs = e->libs, .fns = e->fns};
  dn_policy_externs_free(&e2);
  memset(e, 0, sizeof *e);
}

static dn_status load_native(const char *lib, const dn_program *p, dn_native **out) {
  *out = NULL;
  if (!lib) return DN_OK;
  dn_diags diags;
  dn_diags_init(&diags, lib, NULL, 0);
  dn_status st = dn_native_load(lib, p, out, &diags);
  dn_cli_print_diags(&diags);
  dn_diags_free(&diags);
  return st;
}

int dn_cli_with_policy(const char *path, const char *allow, const char *native, dn_cli_policy_fn fn,
                       void *ctx) {
  dn_program *p;
  dn_status st = dn_cli_load_policy(path, &p);
  if (st != DN_OK) return st;
  dn_cli_externs ext;
  dn_native *lib = NULL;
  if ((st = dn_cli_externs_load(path, p, allow, &ext)) != DN_OK) {
    dn_program_free(p);
    return st;
  }
  int rc = load_native(native, p, &lib);
  if (rc == DN_OK) {
    dn_cli_bound b = {.extern_fns = ext.fns, .native = lib};
    rc = fn(ctx, p, &b);
  }
  dn_native_free(lib);
  dn_cli_externs_free(&ext);
  dn_program_free(p);
  return rc;
}
