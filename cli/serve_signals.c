/* serve_signals.c - the signal thread (see serve_signals.h). */
#include "cli/serve_signals.h"

#include <stdio.h>
#include <string.h>

#include "cli/serve_handlers.h"

int serve_signals_block(serve_signals *s, serve_ctx *ctx) {
  memset(s, 0, sizeof *s);
  s->ctx = ctx;
  sigemptyset(&s->set);
  sigaddset(&s->set, SIGHUP);
  sigaddset(&s->set, SIGTERM);
  sigaddset(&s->set, SIGINT);
  struct sigaction ign = {.sa_handler = SIG_IGN};
  sigemptyset(&ign.sa_mask);
  sigaction(SIGPIPE, &ign, NULL);
  return pthread_sigmask(SIG_BLOCK, &s->set, NULL);
}

static void *signal_loop(void *arg) {
  serve_signals *s = arg;
  for (;;) {
    int sig = 0;
    if (sigwait(&s->set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      fprintf(stderr, "dunlin serve: SIGHUP: reloading %s\n", s->ctx->cfg.policy_path);
      serve_reload(s->ctx, NULL);
      continue;
    }
    s->stopped_by = sig;
    return NULL;
  }
}

int serve_signals_start(serve_signals *s) { return pthread_create(&s->thread, NULL, signal_loop, s); }

void serve_signals_join(serve_signals *s) { pthread_join(s->thread, NULL); }
