/* test_kpi.c - runtime/kpi.c on a small hand-built ledger; every expected
 * figure is worked out by hand below, from CLI.md's definitions and the
 * choices of docs/kpi.md, never copied from the program's output.
 *
 * The ledger (as of D = 2026-03-31, reporting currency USD unless said):
 *
 *   fx_rates EUR/USD: 2026-01-01 1.1000, 2026-03-20 1.2000, 2026-04-10
 *   1.5000 (after D: ignored). So every conversion uses 1.2000.
 *
 *   invoice cust cur  issue       due         amount
 *   I1      C1   USD  2026-01-05  2026-02-04  1000.00
 *   I2      C1   USD  2026-02-15  2026-03-17  2000.00
 *   I3      C1   USD  2026-03-20  2026-04-19   300.00
 *   I4      C2   EUR  2026-01-20  2026-02-19   500.00 EUR
 *   I5      C1   USD  2025-12-01  2025-12-20   250.00
 *   I6      C1   USD  2026-02-20  2026-03-22   150.00
 *
 *   payments: P1 I1 2026-02-10 400.00 USD settled (partial)
 *             P2 I1 2026-03-01 600.00 USD FAILED  (does not count)
 *             P3 I2 2026-03-17 2000.00 USD settled (I2 closed)
 *             P4 I4 2026-02-25 60.00 USD settled -> 60 / 1.2 = 50.00 EUR
 *   credits:  CR1 I1 2026-03-10 100.00
 *
 * Balances at D: I1 1000-400-100 = 500.00; I2 0; I3 300.00; I4 500-50 =
 * 450.00 EUR = 540.00 USD; I5 250.00; I6 150.00.
 *   open_ar = 500 + 300 + 540 + 250 + 150 = 1740.00, open_invoices = 5
 *   current (due >= D): I3 only -> 300.00
 *   days past due at D: I1 due 02-04 -> 24 + 31 = 55 (31-60); I4 due
 *   02-19 -> 9 + 31 = 40 (31-60); I5 due 12-20 -> 11 + 31 + 28 + 31 =
 *   101 (90+); I6 due 03-22 -> 9 (1-30); I3 -19 (current).
 *   aging: current 300.00, 1-30 150.00, 31-60 1040.00, 61-90 0.00,
 *   90+ 250.00 (sum 1740.00).
 *   sales in (2025-12-31, 2026-03-31]: I1 1000 + I2 2000 + I3 300 +
 *   I4 600 + I6 150 = 4050.00 (I5 issued 12-01 is outside).
 *   dso = 1740 / 4050 * 90 = 38.666.. -> 38.67
 *   best_possible_dso = 300 / 4050 * 90 = 6.666.. -> 6.67
 *   add = 38.67 - 6.67 = 32.00
 *
 * Months: the first invoice (I5) is issued 2025-12-01, so the months
 * ending <= D are 2025-12 .. 2026-03 (four).
 *   2025-12: start (AR at 11-30) 0; sales I5 250; end 250 (I5 due 12-20,
 *     overdue) current 0 -> CEI (0+250-250)/(0+250-0) = 0.00.
 *     DSO at 12-31: sales (10-02, 12-31] = 250, AR 250 -> 90.00
 *   2026-01: start 250; sales I1 1000 + I4 600 = 1600; end: I5 250, I1
 *     1000 (due 02-04, current), I4 600 (current) = 1850, current 1600
 *     -> CEI (250+1600-1850)/(250+1600-1600) = 0/250 = 0.00.
 *     DSO at 01-31: sales (11-02, 01-31] = 250+1000+600 = 1850 -> 90.00
 *   2026-02: start 1850; sales I2 2000 + I6 150 = 2150; end: I5 250, I1
 *     600 (P1), I4 450 EUR = 540 (P4), I2 2000 (current), I6 150
 *     (current) = 3540, current 2150 -> CEI (1850+2150-3540)/(1850+2150-2150)
 *     = 460/1850 = 24.864.. -> 24.86.
 *     DSO at 02-28: sales (11-30, 02-28] = 250+1000+600+2000+150 = 4000,
 *     3540/4000*90 = 79.65
 *   2026-03: start 3540; sales I3 300; end 1740, current 300 -> CEI
 *     (3540+300-1740)/(3540+300-300) = 2100/3540 = 59.322.. -> 59.32;
 *     DSO 38.67.
 *   Best possible DSO at each month end (current at end / same window
 *   sales * 90): 12: 0/250 = 0.00; 01: 1600/1850*90 = 77.837.. -> 77.84;
 *   02: 2150/4000*90 = 48.375 -> 48.38 (half-even: ...375 rounds to the
 *   even 8); 03: 6.67.
 *
 * Promises (grace 0): due by D when promised_date + grace <= D.
 *   PR1 C1 I1 made 02-01 promised 02-10 400.00: P1 400 on 02-10 -> kept
 *   PR2 C1 I6 made 03-20 promised 03-25 150.00: nothing paid -> broken
 *   PR3 C2 -  made 03-25 promised 04-05 100.00 EUR: not due -> excluded
 *   PR4 C1 I2 made 03-01 promised 03-15 2000.00: P3 on 03-17 is late -> broken
 *   PR5 C2 I4 made 02-20 promised 02-28 50.00 EUR: P4 60 USD = 50 EUR -> kept
 *   -> 2 kept of 4 due = 0.50. With grace 2: PR4's window ends 03-17,
 *   P3 counts -> kept; PR2 (ends 03-27) still broken; PR3 ends 04-07,
 *   still not due -> 3 of 4 = 0.75.
 * Disputes: DS1 I1 02-05 -> 02-20 (15 days); DS2 I4 open (excluded);
 *   DS3 I6 03-10 -> 04-02 (after D: excluded); DS4 I5 01-10 -> 01-18 (8).
 *   -> (15 + 8) / 2 = 11.50 over 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ledger_fixture.h"
#include "runtime/kpi.h"
#include "stdlib/money.h"

static const char kLedgerSql[] =
    "INSERT INTO customers(id, name, currency) VALUES ('C1','Acme','USD'),('C2','Bernard','EUR');"
    "INSERT INTO invoices(id, customer_id, number, issue_date, due_date, currency, amount_minor) VALUES"
    " ('I1','C1','1','2026-01-05','2026-02-04','USD',100000),"
    " ('I2','C1','2','2026-02-15','2026-03-17','USD',200000),"
    " ('I3','C1','3','2026-03-20','2026-04-19','USD',30000),"
    " ('I4','C2','4','2026-01-20','2026-02-19','EUR',50000),"
    " ('I5','C1','5','2025-12-01','2025-12-20','USD',25000),"
    " ('I6','C1','6','2026-02-20','2026-03-22','USD',15000);"
    "INSERT INTO payments(id, customer_id, invoice_id, date, amount_minor, currency, status) VALUES"
    " ('P1','C1','I1','2026-02-10',40000,'USD','settled'),"
    " ('P2','C1','I1','2026-03-01',60000,'USD','failed'),"
    " ('P3','C1','I2','2026-03-17',200000,'USD','settled'),"
    " ('P4','C2','I4','2026-02-25',6000,'USD','settled');"
    "INSERT INTO credits(id, invoice_id, date, amount_minor, reason) VALUES"
    " ('CR1','I1','2026-03-10',10000,'goodwill');"
    "INSERT INTO promises(id, customer_id, invoice_id, made_on, promised_date, amount_minor) VALUES"
    " ('PR1','C1','I1','2026-02-01','2026-02-10',40000),"
    " ('PR2','C1','I6','2026-03-20','2026-03-25',15000),"
    " ('PR3','C2',NULL,'2026-03-25','2026-04-05',10000),"
    " ('PR4','C1','I2','2026-03-01','2026-03-15',200000),"
    " ('PR5','C2','I4','2026-02-20','2026-02-28',5000);"
    "INSERT INTO disputes(id, invoice_id, opened_on, resolved_on, reason) VALUES"
    " ('DS1','I1','2026-02-05','2026-02-20','price'),"
    " ('DS2','I4','2026-03-01',NULL,'quantity'),"
    " ('DS3','I6','2026-03-10','2026-04-02','damaged'),"
    " ('DS4','I5','2026-01-10','2026-01-18','late delivery');"
    "INSERT INTO fx_rates(date, base, quote, rate) VALUES"
    " ('2026-01-01','EUR','USD','1.1000'),('2026-03-20','EUR','USD','1.2000'),"
    " ('2026-04-10','EUR','USD','1.5000');";

typedef struct fixture {
  dn_ledger l;
  dn_diags diags;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  dn_diags_init(&f->diags, "ledger", NULL, 0);
  if (dn_ledger_open_memory(&f->l, &f->diags) != DN_OK) return -1;
  lf_exec_sql(f->l.db, kLedgerSql);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  dn_ledger_close(&f->l);
  dn_diags_free(&f->diags);
  free(f);
  return 0;
}

static dn_date day(const char *s) {
  dn_date d;
  assert_true(dn_date_parse(s, strlen(s), &d));
  return d;
}

static dn_status compute(fixture *f, const char *as_of, const char *cur, int period, int grace,
                         dn_kpi *k) {
  dn_kpi_options o;
  dn_kpi_options_init(&o, day(as_of));
  if (cur) o.currency = dn_currency_lookup(cur, 3);
  if (period) o.period_days = period;
  o.promise_grace_days = grace;
  return dn_kpi_compute(&f->l, &o, k, &f->diags);
}

static void assert_ratio(dn_kpi_ratio r, int64_t centi) {
  assert_true(r.defined);
  assert_int_equal(r.centi, centi);
}

static void test_headline(void **state) {
  fixture *f = *state;
  dn_kpi k;
  assert_int_equal(compute(f, "2026-03-31", NULL, 0, 0, &k), DN_OK);
  assert_string_equal(dn_currency_code(k.currency), "USD"); /* 5 USD invoices of 6 */
  assert_int_equal(k.period_days, 90);
  assert_int_equal(k.open_invoices, 5);
  assert_int_equal(k.open_ar, 174000);
  assert_int_equal(k.current_ar, 30000);
  assert_int_equal(k.sales, 405000);
  assert_ratio(k.dso, 3867);
  assert_ratio(k.best_possible_dso, 667);
  assert_ratio(k.add, 3200);
  const int64_t aging[DN_KPI_AGING_BUCKETS] = {30000, 15000, 104000, 0, 25000};
  for (int i = 0; i < DN_KPI_AGING_BUCKETS; i++) assert_int_equal(k.aging[i], aging[i]);
  assert_false(k.has_mtd);
}

static void test_months(void **state) {
  fixture *f = *state;
  dn_kpi k;
  assert_int_equal(compute(f, "2026-03-31", NULL, 0, 0, &k), DN_OK);
  assert_int_equal(k.nmonths, 4);
  static const struct {
    int y, m;
    int64_t start, sales, end, cur_end, cei, dso, bpd;
  } want[] = {
      {2025, 12, 0, 25000, 25000, 0, 0, 9000, 0},
      {2026, 1, 25000, 160000, 185000, 160000, 0, 9000, 7784},
      {2026, 2, 185000, 215000, 354000, 215000, 2486, 7965, 4838},
      {2026, 3, 354000, 30000, 174000, 30000, 5932, 3867, 667},
  };
  for (int i = 0; i < 4; i++) {
    const dn_kpi_month *m = &k.months[i];
    assert_int_equal(m->year, want[i].y);
    assert_int_equal(m->month, want[i].m);
    assert_int_equal(m->ar_start, want[i].start);
    assert_int_equal(m->sales, want[i].sales);
    assert_int_equal(m->ar_end, want[i].end);
    assert_int_equal(m->current_end, want[i].cur_end);
    assert_ratio(m->cei, want[i].cei);
    assert_ratio(m->dso, want[i].dso);
    assert_ratio(m->best_possible_dso, want[i].bpd);
  }
}

static void test_promises_and_disputes(void **state) {
  fixture *f = *state;
  dn_kpi k;
  assert_int_equal(compute(f, "2026-03-31", NULL, 0, 0, &k), DN_OK);
  assert_int_equal(k.promises_due, 4);
  assert_int_equal(k.promises_kept, 2);
  assert_ratio(k.promise_kept_rate, 50);
  assert_int_equal(k.disputes_resolved, 2);
  assert_int_equal(k.dispute_days, 23);
  assert_ratio(k.dispute_resolution_days, 1150);
  assert_int_equal(compute(f, "2026-03-31", NULL, 0, 2, &k), DN_OK);
  assert_int_equal(k.promises_due, 4);
  assert_int_equal(k.promises_kept, 3);
  assert_ratio(k.promise_kept_rate, 75);
}

/* --period 30: sales in (03-01, 03-31] = I3 300.00.
 * dso = 1740/300*30 = 174.00; bpd = 300/300*30 = 30.00; add 144.00. */
static void test_period(void **state) {
  fixture *f = *state;
  dn_kpi k;
  assert_int_equal(compute(f, "2026-03-31", NULL, 30, 0, &k), DN_OK);
  assert_int_equal(k.sales, 30000);
  assert_ratio(k.dso, 17400);
  assert_ratio(k.best_possible_dso, 3000);
  assert_ratio(k.add, 14400);
}

/* In EUR (USD -> EUR through the inverse of EUR/USD 1.2, half-even per
 * invoice): I1 500/1.2 = 416.666.. -> 416.67; I3 300/1.2 = 250.00; I4
 * 450.00; I5 250/1.2 = 208.333.. -> 208.33; I6 150/1.2 = 125.00.
 * open_ar = 1450.00; current 250.00. Sales: 1000/1.2 = 833.33, 2000/1.2
 * = 1666.67, 250.00, 500.00, 125.00 -> 3375.00. dso = 1450/3375*90 =
 * 38.666.. -> 38.67; bpd = 250/3375*90 = 6.666.. -> 6.67. */
static void test_other_currency(void **state) {
  fixture *f = *state;
  dn_kpi k;
  assert_int_equal(compute(f, "2026-03-31", "EUR", 0, 0, &k), DN_OK);
  assert_string_equal(dn_currency_code(k.currency), "EUR");
  assert_int_equal(k.open_ar, 145000);
  assert_int_equal(k.current_ar, 25000);
  assert_int_equal(k.sales, 337500);
  assert_ratio(k.dso, 3867);
  assert_ratio(k.best_possible_dso, 667);
  assert_int_equal(k.aging[2], 41667 + 45000);
  assert_int_equal(k.aging[4], 20833);
}

static void test_missing_rate(void **state) {
  fixture *f = *state;
  dn_kpi k;
  assert_int_equal(compute(f, "2026-03-31", "GBP", 0, 0, &k), DN_ERR_INPUT);
  assert_int_equal(f->diags.count, 1);
  assert_int_equal(f->diags.items[0].code, DN_E0501);
  /* I1 (USD) is the first invoice read. */
  assert_non_null(strstr(f->diags.items[0].message, "USD/GBP"));
  assert_non_null(strstr(f->diags.items[0].message, "2026-03-31"));
}

/* Before the EUR/USD rate of 2026-01-01 nothing in EUR exists yet (I4 is
 * issued 01-20), so 2025-12-31 needs no rate: open I5 250.00, overdue 11
 * days; sales (10-02, 12-31] = 250 -> dso 90.00, bpd 0.00; one month
 * (2025-12), no promise due -> null rate, no dispute resolved -> null. */
static void test_early_date(void **state) {
  fixture *f = *state;
  dn_kpi k;
  assert_int_equal(compute(f, "2025-12-31", NULL, 0, 0, &k), DN_OK);
  assert_int_equal(k.open_ar, 25000);
  assert_ratio(k.dso, 9000);
  assert_ratio(k.best_possible_dso, 0);
  assert_int_equal(k.aging[1], 25000);
  assert_int_equal(k.nmonths, 1);
  assert_false(k.promise_kept_rate.defined);
  assert_false(k.dispute_resolution_days.defined);
}

/* Nothing issued yet: every ratio is undefined, no month; currency USD;
 * 2025-11-20 is not a month end, so there is a month to date, whose CEI
 * has a zero denominator. */
static void test_empty(void **state) {
  fixture *f = *state;
  dn_kpi k;
  assert_int_equal(compute(f, "2025-11-20", NULL, 0, 0, &k), DN_OK);
  assert_string_equal(dn_currency_code(k.currency), "USD");
  assert_int_equal(k.open_ar, 0);
  assert_false(k.dso.defined);
  assert_false(k.best_possible_dso.defined);
  assert_false(k.add.defined);
  assert_int_equal(k.nmonths, 0);
  assert_true(k.has_mtd);
  assert_false(k.mtd.cei.defined);
}

/* D = 2026-03-15 is not a month end: months 2025-12 .. 2026-02 and the
 * month to date 03-01 .. 03-15. Rates are those of D: EUR/USD 1.1000
 * (the 03-20 row is later). P4 60.00 USD = 54.5454.. -> 54.55 EUR, so I4
 * owes 445.45 EUR = 489.995 -> 490.00 USD (half-even) from 02-25 on.
 * AR at 02-28: I5 250, I1 600, I4 490, I2 2000, I6 150 = 3490.
 * At 03-15: I1 500 (CR1 on 03-10), I2 2000 (due 03-17, current; P3 not
 * yet), I4 490, I5 250, I6 150 (current) = 3390, current 2150; no sales
 * in March to date. CEI mtd = (3490 + 0 - 3390) / (3490 + 0 - 2150)
 * = 100/1340 = 7.4626.. -> 7.46. */
static void test_month_to_date(void **state) {
  fixture *f = *state;
  dn_kpi k;
  assert_int_equal(compute(f, "2026-03-15", NULL, 0, 0, &k), DN_OK);
  assert_int_equal(k.nmonths, 3);
  assert_int_equal(k.months[2].month, 2);
  assert_true(k.has_mtd);
  assert_int_equal(k.mtd.first, day("2026-03-01"));
  assert_int_equal(k.mtd.last, day("2026-03-15"));
  assert_int_equal(k.mtd.ar_start, 349000);
  assert_int_equal(k.mtd.ar_end, 339000);
  assert_int_equal(k.mtd.current_end, 215000);
  assert_ratio(k.mtd.cei, 746);
  assert_int_equal(k.open_ar, 339000);
}

static void test_ratio_format(void **state) {
  (void)state;
  char buf[32];
  dn_kpi_ratio_format((dn_kpi_ratio){true, 3867}, buf);
  assert_string_equal(buf, "38.67");
  dn_kpi_ratio_format((dn_kpi_ratio){true, -5}, buf);
  assert_string_equal(buf, "-0.05");
  dn_kpi_ratio_format((dn_kpi_ratio){true, 0}, buf);
  assert_string_equal(buf, "0.00");
  dn_kpi_ratio_format((dn_kpi_ratio){false, 0}, buf);
  assert_string_equal(buf, "null");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_headline, setup, teardown),
      cmocka_unit_test_setup_teardown(test_months, setup, teardown),
      cmocka_unit_test_setup_teardown(test_promises_and_disputes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_period, setup, teardown),
      cmocka_unit_test_setup_teardown(test_other_currency, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_rate, setup, teardown),
      cmocka_unit_test_setup_teardown(test_early_date, setup, teardown),
      cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
      cmocka_unit_test_setup_teardown(test_month_to_date, setup, teardown),
      cmocka_unit_test(test_ratio_format),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
