/* serve_metrics.h - what `GET /metrics` reports, in the Prometheus text
 * format: requests by endpoint and status, decision latency, actions by
 * kind, reloads, and the running policy. One mutex guards the counters;
 * each update holds it for a few additions. */
#ifndef DN_SERVE_METRICS_H
#define DN_SERVE_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "lang/ast.h"

/* The endpoints as routing and metrics know them. */
typedef enum serve_endpoint {
  SERVE_EP_DECIDE, SERVE_EP_RUNS, SERVE_EP_ACTIONS, SERVE_EP_LEVELS, SERVE_EP_EVENTS, SERVE_EP_RELOAD,
  SERVE_EP_HEALTHZ, SERVE_EP_METRICS, SERVE_EP_OTHER, SERVE_EP_COUNT
} serve_endpoint;

const char *serve_endpoint_name(serve_endpoint e);

#define SERVE_CODES 12          /* distinct status codes kept per endpoint */
#define SERVE_LATENCY_BUCKETS 14

typedef struct serve_metrics {
  pthread_mutex_t lock;
  struct { unsigned code; uint64_t n; } requests[SERVE_EP_COUNT][SERVE_CODES];
  uint64_t latency[SERVE_LATENCY_BUCKETS + 1]; /* last: above every bound */
  uint64_t latency_count;
  uint64_t latency_sum_us;
  uint64_t actions[DN_ACT_COUNT];
  uint64_t reloads_ok, reloads_failed;
} serve_metrics;

void serve_metrics_init(serve_metrics *m);
void serve_metrics_free(serve_metrics *m);
void serve_metrics_request(serve_metrics *m, serve_endpoint e, unsigned code);
void serve_metrics_decision(serve_metrics *m, uint64_t micros);
void serve_metrics_action(serve_metrics *m, dn_action_kind k, uint64_t n);
/* Counts a JSON array of action records by their "kind". */
void serve_metrics_actions(serve_metrics *m, const json_t *actions);
void serve_metrics_reload(serve_metrics *m, bool ok);

/* Writes the exposition; the policy gauge comes from the caller, who
 * holds a reference to the running policy. */
void serve_metrics_write(serve_metrics *m, FILE *out, const char *policy, int64_t version,
                         const char *hash);

#endif
