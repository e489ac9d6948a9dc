/* serve_signals.h - signals of `dunlin serve`, taken by one dedicated
 * thread with sigwait on a blocked set (no handler, no global flag):
 * SIGHUP reloads the policy, SIGTERM and SIGINT stop the server. */
#ifndef DN_SERVE_SIGNALS_H
#define DN_SERVE_SIGNALS_H

#include <pthread.h>
#include <signal.h>

#include "cli/serve.h"

typedef struct serve_signals {
  pthread_t thread;
  sigset_t set;
  serve_ctx *ctx;
  int stopped_by;          /* the signal that ended the wait */
} serve_signals;

/* Blocks SIGHUP, SIGTERM and SIGINT in the calling thread; call it before
 * any other thread starts so that they all inherit the mask, and only
 * the signal thread ever receives them. SIGPIPE is ignored (a client
 * hanging up mid-reply must not kill the server). */
int serve_signals_block(serve_signals *s, serve_ctx *ctx);
int serve_signals_start(serve_signals *s);
/* Waits until SIGTERM or SIGINT has been taken. */
void serve_signals_join(serve_signals *s);

#endif
