/* serve_route.c - the routing table (see serve_route.h). */
#include "cli/serve_route.h"

#include <string.h>

#include "cli/serve_handlers.h"

static const serve_route routes[] = {
    {"/v1/decide", "POST", SERVE_EP_DECIDE, serve_handle_decide, false},
    {"/v1/runs", "POST", SERVE_EP_RUNS, serve_handle_runs, false},
    {"/v1/actions", "GET", SERVE_EP_ACTIONS, serve_handle_actions, false},
    {"/v1/levels", "GET", SERVE_EP_LEVELS, serve_handle_levels, false},
    {"/v1/events", "POST", SERVE_EP_EVENTS, serve_handle_events, false},
    {"/v1/reload", "POST", SERVE_EP_RELOAD, serve_handle_reload, false},
    {"/healthz", "GET", SERVE_EP_HEALTHZ, serve_handle_healthz, true},
    {"/metrics", "GET", SERVE_EP_METRICS, serve_handle_metrics, false},
};

const serve_route *serve_route_find(const char *path) {
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
    if (strcmp(routes[i].path, path) == 0) return &routes[i];
  return NULL;
}
