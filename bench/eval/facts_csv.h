/* facts_csv.h - the benchmark's facts file (gen_facts.py), read into flat
 * arrays before any clock starts, and the decision line every engine of
 * the benchmark prints so their outputs can be compared byte for byte. */
#ifndef BENCH_FACTS_CSV_H
#define BENCH_FACTS_CSV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct bench_invoice {
  char id[16];
  int32_t days_past_due;
  bool disputed;
  int64_t balance;        /* USD cents */
} bench_invoice;

typedef struct bench_customer {
  char id[12], tier[12];
  int64_t total_overdue, total_open, credit_limit;  /* USD cents */
  bool has_limit, promise_active;
  double avg_days_late, risk_score;
  int32_t first, n;       /* its invoices: invoices[first .. first+n) */
} bench_customer;

typedef struct bench_facts {
  bench_customer *customers; int32_t ncustomers;
  bench_invoice *invoices; int32_t ninvoices;
} bench_facts;

/* 0 on success; prints the reason and returns -1 otherwise. */
int bench_facts_load(const char *path, bench_facts *f);
void bench_facts_free(bench_facts *f);

/* The decision of one invoice: segment name, step offset (or "none"). */
void bench_print_invoice(FILE *out, const char *invoice, const char *segment, int step, bool has_step);
void bench_print_customer(FILE *out, const char *customer, bool over_limit);

/* Seconds on a monotonic clock. */
double bench_now(void);

#endif
