/* facts_csv.c - reading gen_facts.py's CSV (no quoting: the generator
 * writes none) and the shared decision format. */
#include "facts_csv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { F_CUSTOMER, F_TIER, F_OVERDUE, F_LATE, F_RISK, F_PROMISE, F_OPEN, F_LIMIT,
       F_INVOICE, F_DPD, F_DISPUTED, F_BALANCE, F_COUNT };

static int split(char *line, char **fields) {
  int n = 0;
  for (char *p = line; n < F_COUNT; n++) {
    fields[n] = p;
    char *comma = strchr(p, ',');
    if (!comma) { p[strcspn(p, "\r\n")] = 0; return n + 1; }
    *comma = 0;
    p = comma + 1;
  }
  return n;
}

static void add_customer(bench_facts *f, char **v) {
  bench_customer *c = &f->customers[f->ncustomers++];
  snprintf(c->id, sizeof c->id, "%.11s", v[F_CUSTOMER]);
  snprintf(c->tier, sizeof c->tier, "%.11s", v[F_TIER]);
  c->total_overdue = strtoll(v[F_OVERDUE], NULL, 10);
  c->avg_days_late = strtod(v[F_LATE], NULL);
  c->risk_score = strtod(v[F_RISK], NULL);
  c->promise_active = v[F_PROMISE][0] == '1';
  c->total_open = strtoll(v[F_OPEN], NULL, 10);
  c->has_limit = v[F_LIMIT][0] != 0;
  c->credit_limit = c->has_limit ? strtoll(v[F_LIMIT], NULL, 10) : 0;
  c->first = f->ninvoices;
  c->n = 0;
}

int bench_facts_load(const char *path, bench_facts *f) {
  memset(f, 0, sizeof *f);
  FILE *in = fopen(path, "r");
  if (!in) { perror(path); return -1; }
  size_t cap = 1 << 16;
  f->customers = malloc(cap * sizeof *f->customers);
  f->invoices = malloc(cap * sizeof *f->invoices);
  char line[512], *v[F_COUNT];
  if (!fgets(line, sizeof line, in)) { fclose(in); return -1; }  /* header */
  while (fgets(line, sizeof line, in)) {
    if (split(line, v) != F_COUNT) { fprintf(stderr, "%s: bad row\n", path); fclose(in); return -1; }
    if ((size_t)f->ninvoices == cap) {
      cap *= 2;
      f->customers = realloc(f->customers, cap * sizeof *f->customers);
      f->invoices = realloc(f->invoices, cap * sizeof *f->invoices);
    }
    if (f->ncustomers == 0 || strcmp(f->customers[f->ncustomers - 1].id, v[F_CUSTOMER]) != 0)
      add_customer(f, v);
    bench_invoice *i = &f->invoices[f->ninvoices++];
    snprintf(i->id, sizeof i->id, "%.15s", v[F_INVOICE]);
    i->days_past_due = (int32_t)strtol(v[F_DPD], NULL, 10);
    i->disputed = v[F_DISPUTED][0] == '1';
    i->balance = strtoll(v[F_BALANCE], NULL, 10);
    f->customers[f->ncustomers - 1].n++;
  }
  fclose(in);
  return 0;
}

void bench_facts_free(bench_facts *f) {
  free(f->customers);
  free(f->invoices);
}

void bench_print_invoice(FILE *out, const char *invoice, const char *segment, int step, bool has_step) {
  if (has_step) fprintf(out, "%s %s %d\n", invoice, segment, step);
  else fprintf(out, "%s %s none\n", invoice, segment);
}

void bench_print_customer(FILE *out, const char *customer, bool over_limit) {
  fprintf(out, "%s over_limit %d\n", customer, over_limit ? 1 : 0);
}

double bench_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
