/* eval_hand.c - the LANGUAGE.md s.1 policy written by hand in C: the
 * limit any policy engine can approach. It decides what the policy
 * decides for each invoice (segment, the latest step due with its guard,
 * the step's tone shifted by the segment) and for each customer (the
 * over_limit rule), with nothing general about it.
 * Usage: eval_hand FACTS.csv REPEAT DECISIONS_OUT */
#include <stdlib.h>
#include <string.h>

#include "facts_csv.h"

enum { STRATEGIC, HIGH_RISK, STANDARD };
static const char *const segment_names[] = {"strategic", "high_risk", "standard"};
static const int step_days[6] = {-3, 1, 7, 15, 30, 60};
static const int step_tone[6] = {0, 0, 1, 2, 3, -1};  /* friendly..final; -1 none */

typedef struct decision { int segment, step, tone; } decision;

static int segment_of(const bench_customer *c) {
  if (strcmp(c->tier, "strategic") == 0 || c->total_overdue >= 5000000) return STRATEGIC;
  if (c->avg_days_late > 20 || c->risk_score >= 0.7) return HIGH_RISK;
  return STANDARD;
}

/* The latest step whose offset is reached and whose guard holds; -1 none. */
static int step_of(const bench_customer *c, const bench_invoice *i) {
  if (i->disputed || c->promise_active) return -1;
  for (int k = 5; k >= 0; k--)
    if (step_days[k] <= i->days_past_due && (k != 5 || i->balance >= 50000)) return k;
  return -1;
}

static void decide(const bench_facts *f, decision *d, bool *over) {
  for (int32_t ci = 0; ci < f->ncustomers; ci++) {
    const bench_customer *c = &f->customers[ci];
    int seg = segment_of(c);
    for (int32_t k = c->first; k < c->first + c->n; k++) {
      int step = step_of(c, &f->invoices[k]);
      int tone = step < 0 ? -1 : step_tone[step];
      if (tone > 0 && seg == STRATEGIC) tone--;
      d[k] = (decision){seg, step, tone};
    }
    over[ci] = c->has_limit && c->total_open > c->credit_limit;
  }
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: eval_hand FACTS.csv REPEAT OUT\n"); return 2; }
  bench_facts f;
  if (bench_facts_load(argv[1], &f) != 0) return 1;
  int repeat = atoi(argv[2]);
  decision *d = malloc((size_t)f.ninvoices * sizeof *d);
  bool *over = malloc((size_t)f.ncustomers * sizeof *over);
  double t0 = bench_now();
  for (int r = 0; r < repeat; r++) decide(&f, d, over);
  double secs = bench_now() - t0;
  printf("%.0f\n", (double)f.ninvoices * repeat / secs);
  FILE *out = fopen(argv[3], "w");
  if (!out) { perror(argv[3]); return 1; }
  for (int32_t ci = 0; ci < f.ncustomers; ci++) {
    const bench_customer *c = &f.customers[ci];
    for (int32_t k = c->first; k < c->first + c->n; k++)
      bench_print_invoice(out, f.invoices[k].id, segment_names[d[k].segment],
                          d[k].step < 0 ? 0 : step_days[d[k].step], d[k].step >= 0);
    bench_print_customer(out, c->id, over[ci]);
  }
  fclose(out);
  free(d); free(over); bench_facts_free(&f);
  return 0;
}
