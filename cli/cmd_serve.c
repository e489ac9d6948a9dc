/* cmd_serve.c - `dunlin serve`: options and startup of the HTTP/JSON
 * decision service. The parts: serve_listen (address), serve_auth
 * (token), serve_policy (reference-counted policy, reload), serve_http
 * (libmicrohttpd), serve_route + serve_* handlers, serve_metrics,
 * serve_signals (SIGHUP reload, SIGTERM/SIGINT stop). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/serve.h"
#include "cli/serve_auth.h"
#include "cli/serve_http.h"
#include "cli/serve_listen.h"
#include "cli/serve_signals.h"
#include "runtime/ledger.h"

static const char serve_help[] =
    "usage: dunlin serve POLICY --ledger LEDGER [--listen HOST:PORT] [--token-file FILE]\n"
    "                    [--max-body BYTES] [--threads N] [--timeout SECONDS]\n"
    "                    [--allow-ffi LIB[:LIB...]] [--templates DIR]\n\n"
    "Serves the policy over HTTP/JSON (docs/serve.md):\n"
    "  POST /v1/decide    one decide request (docs/decide.md) -> its actions\n"
    "  POST /v1/runs      {\"as_of\":\"YYYY-MM-DD\",\"commit\":false} -> the run's actions\n"
    "  GET  /v1/actions   ?as_of=YYYY-MM-DD[&customer=ID] -> the outbox rows of that date\n"
    "  POST /v1/events    payments, disputes, promises, credits, dispute_resolutions\n"
    "  POST /v1/reload    re-read the policy (as SIGHUP does)\n"
    "  GET  /healthz      the policy being served;  GET /metrics  Prometheus text\n\n"
    "--listen defaults to 127.0.0.1:8080 (port 0 picks a free port, printed at startup);\n"
    "an address other than loopback is refused unless --token-file is given. With a\n"
    "token file, every endpoint but /healthz needs `Authorization: Bearer TOKEN`.\n"
    "--max-body (default 1048576) refuses larger bodies with 413; --threads (default:\n"
    "the number of CPUs) sizes the worker pool; --timeout (default 30) closes idle\n"
    "connections. SIGHUP reloads the policy (a policy that fails to load leaves the\n"
    "running one in place); SIGTERM or SIGINT stops gracefully with status 0.\n";

typedef struct serve_opts {
  serve_config cfg;
  const char *max_body, *threads, *timeout;
  struct sockaddr_storage addr;
} serve_opts;

static bool parse_count(const char *opt, const char *text, unsigned long long lo, unsigned long long hi,
                        unsigned long long *out) {
  char *end;
  unsigned long long v = text[0] >= '0' && text[0] <= '9' ? strtoull(text, &end, 10) : 0;
  if (text[0] < '0' || text[0] > '9' || *end || v < lo || v > hi) {
    fprintf(stderr, "dunlin serve: --%s: '%s' is not a whole number from %llu to %llu\n", opt, text, lo, hi);
    return false;
  }
  *out = v;
  return true;
}

static bool parse_numbers(serve_opts *o) {
  unsigned long long v;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  o->cfg.max_body = 1 << 20;
  o->cfg.threads = cpus > 0 && cpus < 64 ? (unsigned)cpus : 4;
  o->cfg.timeout_s = 30;
  if (o->max_body && !parse_count("max-body", o->max_body, 1, 1ULL << 30, &v)) return false;
  if (o->max_body) o->cfg.max_body = (size_t)v;
  if (o->threads && !parse_count("threads", o->threads, 1, 256, &v)) return false;
  if (o->threads) o->cfg.threads = (unsigned)v;
  if (o->timeout && !parse_count("timeout", o->timeout, 1, 3600, &v)) return false;
  if (o->timeout) o->cfg.timeout_s = (unsigned)v;
  return true;
}

/* 0 to go on, -1 after --help, else the exit status. */
static int parse_opts(int argc, char **argv, serve_opts *o) {
  memset(o, 0, sizeof *o);
  serve_config *c = &o->cfg;
  c->listen = "127.0.0.1:8080";
  const dn_opt opts[] = {{"ledger", &c->ledger_path, NULL},    {"listen", &c->listen, NULL},
                         {"token-file", &c->token_file, NULL}, {"max-body", &o->max_body, NULL},
                         {"threads", &o->threads, NULL},       {"timeout", &o->timeout, NULL},
                         {"allow-ffi", &c->allow_ffi, NULL},   {"templates", &c->templates, NULL}};
  const char *pos[1];
  int npos;
  bool help;
  if (dn_args_parse("serve", argc, argv, opts, 8, pos, 1, &npos, &help) != DN_OK) return DN_ERR_USAGE;
  if (help) {
    dn_cli_help(serve_help);
    return -1;
  }
  if (npos != 1 || !c->ledger_path) {
    fprintf(stderr, "dunlin serve: expected POLICY --ledger LEDGER (see dunlin serve --help)\n");
    return DN_ERR_USAGE;
  }
  c->policy_path = pos[0];
  if (!parse_numbers(o)) return DN_ERR_USAGE;
  if (serve_listen_parse(c->listen, &o->addr, stderr) != DN_OK) return DN_ERR_USAGE;
  if (!c->token_file && !serve_listen_is_loopback(&o->addr)) {
    fprintf(stderr, "dunlin serve: refusing to listen on %s without --token-file: anyone who can reach "
                    "that address could read and write the ledger\n", c->listen);
    return DN_ERR_USAGE;
  }
  return 0;
}

/* The ledger is opened once for writing so that an older file is
 * migrated, and a wrong path fails now rather than at the first request. */
static dn_status check_ledger(const char *path) {
  dn_diags d;
  dn_diags_init(&d, path, NULL, 0);
  dn_ledger l;
  dn_status st = dn_ledger_open(path, DN_LEDGER_WRITE, &l, &d);
  if (st == DN_OK) dn_ledger_close(&l);
  dn_cli_print_diags(&d);
  dn_diags_free(&d);
  return st;
}

static int run_server(serve_ctx *ctx, const struct sockaddr_storage *addr) {
  serve_signals sig;
  if (serve_signals_block(&sig, ctx) != 0) return DN_ERR_INTERNAL;
  unsigned port = 0;
  struct MHD_Daemon *d = serve_http_start(ctx, (const struct sockaddr *)addr, &port, stderr);
  if (!d) return DN_ERR_INPUT;
  serve_policy *p = serve_policy_acquire(&ctx->policies);
  fprintf(stderr, "dunlin serve: policy \"%s\" version %lld (%s), ledger %s, listening on port %u, %u threads\n",
          p->program->name, (long long)p->program->version, p->hash, ctx->cfg.ledger_path, port, ctx->cfg.threads);
  serve_policy_release(&ctx->policies, p);
  if (serve_signals_start(&sig) != 0) {
    serve_http_stop(d);
    return DN_ERR_INTERNAL;
  }
  serve_signals_join(&sig);
  fprintf(stderr, "dunlin serve: %s: stopping after the requests in progress\n",
          sig.stopped_by == SIGINT ? "SIGINT" : "SIGTERM");
  serve_http_stop(d);
  fprintf(stderr, "dunlin serve: stopped\n");
  return 0;
}

int dn_cmd_serve(int argc, char **argv) {
  serve_opts o;
  int rc = parse_opts(argc, argv, &o);
  if (rc != 0) return rc < 0 ? 0 : rc;
  serve_ctx ctx = {.cfg = o.cfg};
  if (o.cfg.token_file && serve_token_read(o.cfg.token_file, &ctx.token, &ctx.token_len, stderr) != DN_OK)
    return DN_ERR_INPUT;
  dn_status st = check_ledger(o.cfg.ledger_path);
  if (st == DN_OK) st = serve_policies_init(&ctx.policies, o.cfg.policy_path, o.cfg.allow_ffi,
                                            o.cfg.templates, (int)o.cfg.threads, stderr);
  if (st != DN_OK) {
    free(ctx.token);
    return st;
  }
  serve_metrics_init(&ctx.metrics);
  rc = run_server(&ctx, &o.addr);
  serve_metrics_free(&ctx.metrics);
  serve_policies_free(&ctx.policies);
  free(ctx.token);
  return rc;
}
