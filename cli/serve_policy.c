/* serve_policy.c - loading, sharing and reloading the served policy
 * (see serve_policy.h). */
#include "cli/serve_policy.h"

#include <stdlib.h>
#include <string.h>

static dn_status load_program(const char *path, dn_program **out, FILE *log) {
  *out = NULL;
  char *buf = NULL;
  size_t len = 0;
  dn_diags d;
  dn_diags_init(&d, path, NULL, 0);
  dn_status st = dn_policy_read_file(path, &buf, &len, &d);
  if (st == DN_OK) {
    /* source diagnostics quote the text, so the list must know it */
    d.source = buf;
    d.source_len = len;
    st = dn_policy_load_buffer(path, buf, len, out, &d);
  }
  dn_diags_render_text(&d, log, false);
  if (st != DN_OK && d.errors == 0)
    fprintf(log, "%s: error: the policy could not be loaded (out of memory, or nested too deeply)\n", path);
  dn_diags_free(&d);
  free(buf);
  return st;
}

/* As `run --templates`: every template the policy can emit must exist
 * and parse, or the policy is not loaded. */
static dn_status load_templates(const serve_policies *h, const dn_program *prog, dn_templates **out,
                                FILE *log) {
  *out = NULL;
  if (!h->templates_dir) return DN_OK;
  return dn_templates_load_checked(h->templates_dir, prog, log, out);
}

static void policy_free(serve_policy *p) {
  for (int i = 0; i < p->nidle; i++) dn_decider_close(p->idle[i]);
  free(p->idle);
  dn_policy_externs_free(&p->ext);
  dn_templates_free(p->templates);
  dn_program_free(p->program);
  pthread_mutex_destroy(&p->pool_lock);
  free(p);
}

static dn_status policy_open(const serve_policies *h, serve_policy **out, FILE *log) {
  *out = NULL;
  dn_program *prog;
  dn_status st = load_program(h->path, &prog, log);
  if (st != DN_OK) return st;
  serve_policy *p = calloc(1, sizeof *p);
  dn_decider **idle = calloc((size_t)h->pool_cap, sizeof *idle);
  if (!p || !idle) {
    free(p);
    free(idle);
    dn_program_free(prog);
    return DN_ERR_INTERNAL;
  }
  p->program = prog;
  p->idle = idle;
  p->pool_cap = h->pool_cap;
  p->refs = 1; /* the holder's */
  snprintf(p->hash, sizeof p->hash, "%016llx", (unsigned long long)prog->source_hash);
  pthread_mutex_init(&p->pool_lock, NULL);
  dn_diags d;
  dn_diags_init(&d, h->path, NULL, 0);
  st = dn_policy_bind_externs_list(h->path, prog, h->allow_ffi, &p->ext, &d);
  dn_diags_render_text(&d, log, false);
  dn_diags_free(&d);
  if (st == DN_OK) st = load_templates(h, prog, &p->templates, log);
  if (st != DN_OK) {
    policy_free(p);
    return st;
  }
  *out = p;
  return DN_OK;
}

dn_status serve_policies_init(serve_policies *h, const char *path, const char *allow_ffi,
                              const char *templates_dir, int pool_cap, FILE *log) {
  memset(h, 0, sizeof *h);
  h->path = path;
  h->allow_ffi = allow_ffi;
  h->templates_dir = templates_dir;
  h->pool_cap = pool_cap > 0 ? pool_cap : 1;
  pthread_mutex_init(&h->lock, NULL);
  pthread_mutex_init(&h->reload_lock, NULL);
  dn_status st = policy_open(h, &h->current, log);
  if (st != DN_OK) {
    pthread_mutex_destroy(&h->lock);
    pthread_mutex_destroy(&h->reload_lock);
  }
  return st;
}

void serve_policies_free(serve_policies *h) {
  if (h->current) serve_policy_release(h, h->current);
  h->current = NULL;
  pthread_mutex_destroy(&h->lock);
  pthread_mutex_destroy(&h->reload_lock);
}

serve_policy *serve_policy_acquire(serve_policies *h) {
  pthread_mutex_lock(&h->lock);
  serve_policy *p = h->current;
  p->refs++;
  pthread_mutex_unlock(&h->lock);
  return p;
}

void serve_policy_release(serve_policies *h, serve_policy *p) {
  pthread_mutex_lock(&h->lock);
  bool last = --p->refs == 0;
  pthread_mutex_unlock(&h->lock);
  if (last) policy_free(p);
}

dn_status serve_policies_reload(serve_policies *h, FILE *log) {
  pthread_mutex_lock(&h->reload_lock);
  serve_policy *fresh;
  dn_status st = policy_open(h, &fresh, log);
  if (st == DN_OK) {
    pthread_mutex_lock(&h->lock);
    serve_policy *old = h->current;
    h->current = fresh;
    pthread_mutex_unlock(&h->lock);
    serve_policy_release(h, old);
  }
  pthread_mutex_unlock(&h->reload_lock);
  return st;
}

dn_status serve_policy_take_decider(serve_policy *p, dn_decider **out, dn_diags *diags) {
  pthread_mutex_lock(&p->pool_lock);
  *out = p->nidle > 0 ? p->idle[--p->nidle] : NULL;
  pthread_mutex_unlock(&p->pool_lock);
  if (*out) return DN_OK;
  return dn_decider_open(p->program, (void *const *)p->ext.fns, out, diags);
}

void serve_policy_give_decider(serve_policy *p, dn_decider *d) {
  pthread_mutex_lock(&p->pool_lock);
  if (p->nidle < p->pool_cap) {
    p->idle[p->nidle++] = d;
    d = NULL;
  }
  pthread_mutex_unlock(&p->pool_lock);
  if (d) dn_decider_close(d);
}
