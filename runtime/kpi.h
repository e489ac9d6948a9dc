/* kpi.h - the receivables figures of `dunlin kpi` (CLI.md "KPI
 * definitions"), computed exactly from a ledger as of a date.
 *
 * Library code: no printing. Money is int64 minor units of the reporting
 * currency; every ratio is kept as hundredths rounded half to even
 * (dn_kpi_ratio), so the figures are the same on every machine. The
 * choices the spec leaves open are in docs/kpi.md. */
#ifndef DN_RUNTIME_KPI_H
#define DN_RUNTIME_KPI_H

#include <stdbool.h>
#include <stdint.h>

#include "lang/diag.h"
#include "runtime/ledger.h"
#include "stdlib/date.h"
#include "stdlib/status.h"

enum { DN_KPI_AGING_BUCKETS = 5, DN_KPI_MAX_MONTHS = 12 };

/* A number rounded to two decimals: centi / 100. Undefined when its
 * denominator is zero (printed as null). */
typedef struct dn_kpi_ratio {
  bool defined;
  int64_t centi;
} dn_kpi_ratio;

typedef struct dn_kpi_options {
  dn_date as_of;
  int32_t period_days;        /* sales window (D - P, D]; > 0 */
  uint16_t currency;          /* DN_CUR_NONE: most common invoice currency */
  int32_t promise_grace_days; /* >= 0; 0 unless --promise-grace */
} dn_kpi_options;

/* Sets the defaults of CLI.md: period 90, grace 0, currency chosen. */
void dn_kpi_options_init(dn_kpi_options *o, dn_date as_of);

/* One calendar month (or the month to date): the CEI inputs at its ends
 * and the DSO as of its last day. */
typedef struct dn_kpi_month {
  int year, month;
  dn_date first, last;
  int64_t ar_start;   /* open AR at first - 1 */
  int64_t sales;      /* invoices issued in [first, last] */
  int64_t ar_end;     /* open AR at last */
  int64_t current_end;/* open AR at last with due_date >= last */
  dn_kpi_ratio cei;   /* percent */
  dn_kpi_ratio dso;   /* DSO as of last, window (last - P, last] */
  dn_kpi_ratio best_possible_dso; /* the same with current_end */
} dn_kpi_month;

typedef struct dn_kpi {
  dn_date as_of;
  int32_t period_days, promise_grace_days;
  uint16_t currency;
  int64_t open_invoices;
  int64_t open_ar, current_ar, sales; /* sales: issued in (D - P, D] */
  dn_kpi_ratio dso, best_possible_dso, add;
  int64_t aging[DN_KPI_AGING_BUCKETS]; /* current, 1-30, 31-60, 61-90, 90+ */
  /* The calendar months ending on or before D, oldest first: at most the
   * last twelve, none ending before the first invoice was issued. */
  dn_kpi_month months[DN_KPI_MAX_MONTHS];
  int nmonths;
  bool has_mtd; /* D is not a month end: mtd is D's month up to D */
  dn_kpi_month mtd;
  int64_t promises_due, promises_kept;
  dn_kpi_ratio promise_kept_rate; /* a share in [0, 1] */
  int64_t disputes_resolved, dispute_days;
  dn_kpi_ratio dispute_resolution_days;
} dn_kpi;

/* The label of aging bucket i ("current", "1-30", "31-60", "61-90", "90+"). */
const char *dn_kpi_aging_label(int i);

/* Computes every figure. A missing fx rate is E0501 naming the pair, a
 * ledger that cannot be read E0502; both DN_ERR_INPUT. */
dn_status dn_kpi_compute(dn_ledger *l, const dn_kpi_options *opt, dn_kpi *out, dn_diags *diags);

/* Writes a ratio as "12.34" / "-0.05" into buf (>= 32 bytes); "null"
 * when undefined. */
void dn_kpi_ratio_format(dn_kpi_ratio r, char *buf);

#endif
