/* field_access.c - the table of field_access.h. Fields not listed here
 * are DN_FA_VM (a zero entry), left to the VM's own code. */
#include "runtime/field_access.h"

#include "runtime/facts.h"

#define INV(name, kind, member, type)                                                          \
  [DN_F_INVOICE_##name] = {DN_FA_##kind, DN_SCOPE_INVOICE, DN_T_##type,                      \
                           offsetof(dn_invoice_facts, member)},
#define CUS(name, kind, member, type)                                                          \
  [DN_F_CUSTOMER_##name] = {DN_FA_##kind, DN_SCOPE_CUSTOMER, DN_T_##type,                    \
                            offsetof(dn_customer_facts, member)},

const dn_field_access dn_field_table[DN_F_COUNT] = {
    INV(id, STR, id, STRING)
    INV(number, STR, number, STRING)
    INV(issue_date, DATE, issue_date, DATE)
    INV(due_date, DATE, due_date, DATE)
    INV(amount, PMONEY, amount_p, MONEY)
    INV(balance, PMONEY, balance_p, MONEY)
    INV(days_past_due, I32, days_past_due, INT)
    INV(open, BOOL, open, BOOL)
    INV(disputed, BOOL, disputed, BOOL)
    INV(promise_active, BOOL, promise_active, BOOL)
    INV(paid_amount, PMONEY, paid_p, MONEY)
    INV(last_payment_date, DATE, last_payment_date, DATE)
    CUS(id, STR, id, STRING)
    CUS(name, STR, name, STRING)
    CUS(tier, STR, tier, STRING)
    CUS(country, STR, country, STRING)
    CUS(language, STR, language, STRING)
    CUS(credit_limit, MONEY, credit_limit_p, MONEY)
    CUS(risk_score, F64, risk_score, NUMBER)
    CUS(total_open, MONEY, total_open_p, MONEY)
    CUS(total_overdue, MONEY, total_overdue_p, MONEY)
    CUS(open_invoices, I32, open_invoices, INT)
    CUS(overdue_invoices, I32, overdue_invoices, INT)
    CUS(oldest_days_past_due, I32, oldest_days_past_due, INT)
    CUS(avg_days_late, F64, avg_days_late, NUMBER)
    CUS(on_time_ratio, F64, on_time_ratio, NUMBER)
    CUS(promise_active, BOOL, promise_active, BOOL)
    CUS(last_contact_date, DATE, last_contact_date, DATE)
    CUS(segment, STR, segment, STRING)
};
