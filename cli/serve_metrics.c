/* serve_metrics.c - counters and their Prometheus text exposition (see
 * serve_metrics.h). */
#include "cli/serve_metrics.h"

#include <jansson.h>
#include <string.h>

static const char *const endpoint_names[SERVE_EP_COUNT] = {
    "decide", "runs", "actions", "levels", "events", "reload", "healthz", "metrics", "other"};

/* Bucket bounds in microseconds: a decision is expected in the tens of
 * microseconds to a few milliseconds. */
static const uint64_t bucket_us[SERVE_LATENCY_BUCKETS] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000};

const char *serve_endpoint_name(serve_endpoint e) {
  return e < SERVE_EP_COUNT ? endpoint_names[e] : "other";
}

void serve_metrics_init(serve_metrics *m) {
  memset(m, 0, sizeof *m);
  pthread_mutex_init(&m->lock, NULL);
}

void serve_metrics_free(serve_metrics *m) { pthread_mutex_destroy(&m->lock); }

void serve_metrics_request(serve_metrics *m, serve_endpoint e, unsigned code) {
  if (e >= SERVE_EP_COUNT) e = SERVE_EP_OTHER;
  pthread_mutex_lock(&m->lock);
  for (int i = 0; i < SERVE_CODES; i++) {
    if (m->requests[e][i].code == code || m->requests[e][i].code == 0) {
      m->requests[e][i].code = code;
      m->requests[e][i].n++;
      break;
    }
  }
  pthread_mutex_unlock(&m->lock);
}

void serve_metrics_decision(serve_metrics *m, uint64_t micros) {
  int b = 0;
  while (b < SERVE_LATENCY_BUCKETS && micros > bucket_us[b]) b++;
  pthread_mutex_lock(&m->lock);
  m->latency[b]++;
  m->latency_count++;
  m->latency_sum_us += micros;
  pthread_mutex_unlock(&m->lock);
}

void serve_metrics_action(serve_metrics *m, dn_action_kind k, uint64_t n) {
  if ((unsigned)k >= DN_ACT_COUNT || n == 0) return;
  pthread_mutex_lock(&m->lock);
  m->actions[k] += n;
  pthread_mutex_unlock(&m->lock);
}

static int kind_of(const char *name) {
  for (int k = 0; name && k < DN_ACT_COUNT; k++)
    if (strcmp(dn_action_kind_name((dn_action_kind)k), name) == 0) return k;
  return -1;
}

void serve_metrics_actions(serve_metrics *m, const json_t *actions) {
  uint64_t counts[DN_ACT_COUNT] = {0};
  size_t i;
  json_t *a;
  json_array_foreach(actions, i, a) {
    int k = kind_of(json_string_value(json_object_get(a, "kind")));
    if (k >= 0) counts[k]++;
  }
  for (int k = 0; k < DN_ACT_COUNT; k++) serve_metrics_action(m, (dn_action_kind)k, counts[k]);
}

void serve_metrics_reload(serve_metrics *m, bool ok) {
  pthread_mutex_lock(&m->lock);
  if (ok) m->reloads_ok++;
  else m->reloads_failed++;
  pthread_mutex_unlock(&m->lock);
}

static void write_requests(const serve_metrics *m, FILE *out) {
  fputs("# HELP dunlin_http_requests_total HTTP requests by endpoint and status code.\n"
        "# TYPE dunlin_http_requests_total counter\n", out);
  for (int e = 0; e < SERVE_EP_COUNT; e++)
    for (int i = 0; i < SERVE_CODES && m->requests[e][i].code; i++)
      fprintf(out, "dunlin_http_requests_total{endpoint=\"%s\",code=\"%u\"} %llu\n", endpoint_names[e],
              m->requests[e][i].code, (unsigned long long)m->requests[e][i].n);
}

/* Microseconds as decimal seconds without trailing zeros ("0.00025"):
 * exact, where a double printed with %g would give "2.5e-04". */
static void write_seconds(FILE *out, uint64_t us) {
  char frac[8];
  snprintf(frac, sizeof frac, "%06llu", (unsigned long long)(us % 1000000));
  size_t n = strlen(frac);
  while (n > 0 && frac[n - 1] == '0') frac[--n] = '\0';
  fprintf(out, "%llu%s%s", (unsigned long long)(us / 1000000), n ? "." : "", frac);
}

static void write_latency(const serve_metrics *m, FILE *out) {
  fputs("# HELP dunlin_decision_duration_seconds Time to answer one POST /v1/decide.\n"
        "# TYPE dunlin_decision_duration_seconds histogram\n", out);
  uint64_t cum = 0;
  for (int b = 0; b < SERVE_LATENCY_BUCKETS; b++) {
    cum += m->latency[b];
    fputs("dunlin_decision_duration_seconds_bucket{le=\"", out);
    write_seconds(out, bucket_us[b]);
    fprintf(out, "\"} %llu\n", (unsigned long long)cum);
  }
  fprintf(out, "dunlin_decision_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
          (unsigned long long)m->latency_count);
  fputs("dunlin_decision_duration_seconds_sum ", out);
  write_seconds(out, m->latency_sum_us);
  fputc('\n', out);
  fprintf(out, "dunlin_decision_duration_seconds_count %llu\n", (unsigned long long)m->latency_count);
}

static void write_counts(const serve_metrics *m, FILE *out) {
  fputs("# HELP dunlin_actions_total Actions returned by decide and runs, by kind.\n"
        "# TYPE dunlin_actions_total counter\n", out);
  for (int k = 0; k < DN_ACT_COUNT; k++)
    fprintf(out, "dunlin_actions_total{kind=\"%s\"} %llu\n", dn_action_kind_name((dn_action_kind)k),
            (unsigned long long)m->actions[k]);
  fprintf(out, "# HELP dunlin_policy_reloads_total Policy reloads (SIGHUP or POST /v1/reload) by result.\n"
               "# TYPE dunlin_policy_reloads_total counter\n"
               "dunlin_policy_reloads_total{result=\"ok\"} %llu\n"
               "dunlin_policy_reloads_total{result=\"failed\"} %llu\n",
          (unsigned long long)m->reloads_ok, (unsigned long long)m->reloads_failed);
}

/* Label values are escaped as the text format asks (backslash, quote,
 * newline), since a policy name is the author's text. */
static void write_label(FILE *out, const char *s) {
  for (; *s; s++) {
    if (*s == '\\' || *s == '"') fputc('\\', out);
    if (*s == '\n') fputs("\\n", out);
    else fputc(*s, out);
  }
}

void serve_metrics_write(serve_metrics *m, FILE *out, const char *policy, int64_t version,
                         const char *hash) {
  pthread_mutex_lock(&m->lock);
  write_requests(m, out);
  write_latency(m, out);
  write_counts(m, out);
  pthread_mutex_unlock(&m->lock);
  fprintf(out, "# HELP dunlin_policy_version Version of the policy being served.\n"
               "# TYPE dunlin_policy_version gauge\n"
               "dunlin_policy_version %lld\n"
               "# HELP dunlin_policy_info The policy being served (always 1).\n"
               "# TYPE dunlin_policy_info gauge\n"
               "dunlin_policy_info{policy=\"", (long long)version);
  write_label(out, policy);
  fprintf(out, "\",version=\"%lld\",hash=\"%s\"} 1\n", (long long)version, hash);
}
