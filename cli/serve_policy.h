/* serve_policy.h - the policy `dunlin serve` runs, shared by reference
 * count, and its reload.
 *
 * A request takes a reference when it starts and drops it when it ends;
 * a reload swaps the current policy under a short lock, so requests in
 * flight finish on the policy they started with and the last reference
 * frees it. Each loaded policy keeps a pool of deciders (runtime/decide.h),
 * at most one per server worker thread: a decider is bound to a program,
 * so the pool lives and dies with the policy. */
#ifndef DN_SERVE_POLICY_H
#define DN_SERVE_POLICY_H

#include <pthread.h>
#include <stdio.h>

#include "lang/diag.h"
#include "lang/program.h"
#include "runtime/decide.h"
#include "runtime/policy_load.h"
#include "runtime/template.h"
#include "stdlib/status.h"

typedef struct serve_policy {
  dn_program *program;
  dn_policy_externs ext;
  char hash[17];           /* runs.policy_hash of this revision */
  dn_templates *templates; /* --templates, checked against this program; or NULL */
  int refs;                /* guarded by serve_policies.lock */
  pthread_mutex_t pool_lock;
  dn_decider **idle;       /* deciders not in use, at most pool_cap */
  int nidle, pool_cap;
} serve_policy;

typedef struct serve_policies {
  pthread_mutex_t lock;        /* current and every refs */
  pthread_mutex_t reload_lock; /* one reload at a time */
  serve_policy *current;
  const char *path, *allow_ffi, *templates_dir;
  int pool_cap;
} serve_policies;

/* Loads the policy at `path` (and the templates of templates_dir, when
 * not NULL, checked against it: a reload re-reads them too). Diagnostics
 * (warnings too) are written as text to `log`. */
dn_status serve_policies_init(serve_policies *h, const char *path, const char *allow_ffi,
                              const char *templates_dir, int pool_cap, FILE *log);
void serve_policies_free(serve_policies *h);

serve_policy *serve_policy_acquire(serve_policies *h);
void serve_policy_release(serve_policies *h, serve_policy *p);

/* Re-reads and checks the policy file; on success it becomes current, on
 * failure the running one stays. Diagnostics go to `log` either way. */
dn_status serve_policies_reload(serve_policies *h, FILE *log);

/* A decider for p, from its pool or newly opened; give it back after. */
dn_status serve_policy_take_decider(serve_policy *p, dn_decider **out, dn_diags *diags);
void serve_policy_give_decider(serve_policy *p, dn_decider *d);

#endif
