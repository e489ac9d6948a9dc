/* serve.h - the state of one `dunlin serve` process, handed to every part
 * of the server by pointer (Dunlin keeps no globals): the options, the
 * token, the policy holder and the metrics. */
#ifndef DN_SERVE_H
#define DN_SERVE_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/serve_metrics.h"
#include "cli/serve_policy.h"

typedef struct serve_config {
  const char *policy_path, *ledger_path, *listen, *token_file, *allow_ffi, *templates;
  size_t max_body;         /* bytes; larger bodies get 413 */
  unsigned threads;        /* worker threads (and deciders per policy) */
  unsigned timeout_s;      /* idle connection timeout */
} serve_config;

typedef struct serve_ctx {
  serve_config cfg;
  char *token;             /* NULL without --token-file */
  size_t token_len;
  serve_policies policies;
  serve_metrics metrics;
} serve_ctx;

#endif
