/* acme_risk.c - an example native extension for Dunlin policies
 * (LANGUAGE.md s.8): the kind of scoring a company keeps in its own code
 * and wants its collections policy to use.
 *
 * Types follow docs/semantics.md "Native extensions": number is double,
 * int and money are int64_t (money in minor units of the policy
 * currency), bool is int, string is const char *. The functions must be
 * pure and thread-safe: the engine may call them from several threads. */
#include <stdint.h>
#include <string.h>

/* extern fn acme_risk(number, int, money) -> number
 * 0.1 per overdue invoice, plus 0.1 per full 1,000.00 overdue, plus
 * 0.01 per average day late; at most 1.0. */
double acme_risk(double avg_days_late, int64_t overdue_invoices, int64_t overdue_minor) {
  double r = 0.1 * (double)overdue_invoices + 0.1 * (double)(overdue_minor / 100000) + 0.01 * avg_days_late;
  return r > 1.0 ? 1.0 : r;
}

/* extern fn acme_key_account(string) -> bool
 * Key accounts are the customers whose id starts with "KEY-". */
int acme_key_account(const char *customer_id) {
  return customer_id && strncmp(customer_id, "KEY-", 4) == 0;
}
