/* spec_example.h - the section 1 example policy of LANGUAGE.md
 * (/work/shared/spec/LANGUAGE.md, "acme-b2b" version 3), verbatim with its
 * comments and blank lines, shared by the unit tests so every test checks
 * the one text the spec shows. Tests that assert on line:col positions or the
 * source hash depend on it being byte-for-byte the spec's text: keep it so. */
#ifndef DN_TESTS_SPEC_EXAMPLE_H
#define DN_TESTS_SPEC_EXAMPLE_H

static const char DN_SPEC_EXAMPLE[] =
    "policy \"acme-b2b\" version 3\n"
    "\n"
    "currency USD\n"
    "timezone \"America/New_York\"          # default when a customer has none\n"
    "calendar \"US\"                        # business days for scheduling\n"
    "send_window 09:00 .. 17:00           # in the customer's local time\n"
    "\n"
    "tones standard: friendly < neutral < firm < final\n"
    "\n"
    "let big_balance = customer.total_overdue >= 50_000 USD\n"
    "let chronic     = customer.avg_days_late > 20\n"
    "\n"
    "segment strategic when customer.tier == \"strategic\" or big_balance {\n"
    "  tone -1                             # one step gentler, clamped at the ladder\n"
    "  assign \"key-accounts\"\n"
    "}\n"
    "segment high_risk when chronic or customer.risk_score >= 0.7\n"
    "segment standard otherwise\n"
    "\n"
    "escalation dunning for invoice in standard, high_risk, strategic\n"
    "  unless invoice.disputed or customer.promise_active\n"
    "{\n"
    "  step -3 days:  email tone friendly template \"upcoming-due\"\n"
    "  step 1 day:    email tone friendly\n"
    "  step 7 days:   email tone neutral, sms\n"
    "  step 15 days:  email tone firm, call priority invoice.balance\n"
    "  step 30 days:  letter tone final, hold credit\n"
    "  step 60 days:  escalate \"agency\" when invoice.balance >= 500 USD\n"
    "}\n"
    "\n"
    "on payment.failed for invoice do email tone neutral template \"payment-failed\"\n"
    "on promise.broken for customer do call priority customer.total_overdue\n"
    "on dispute.opened for invoice do task \"review dispute\" assign \"billing\"\n"
    "\n"
    "rule over_limit for customer\n"
    "  when customer.total_open > customer.credit_limit\n"
    "  do hold credit\n"
    "  once per 30 days\n"
    "\n"
    "limit contacts per customer: 1 per 3 days, 4 per 30 days\n";

#ifdef DN_COMPILE_H
/* The example compiled (NULL if it does not compile): for tests that run
 * it rather than read its text. Include lang/compile.h first. */
static inline dn_program *dn_spec_example_program(void) {
  dn_diags d;
  dn_diags_init(&d, "acme.dun", DN_SPEC_EXAMPLE, strlen(DN_SPEC_EXAMPLE));
  dn_program *p = NULL;
  if (dn_compile_source("acme.dun", DN_SPEC_EXAMPLE, strlen(DN_SPEC_EXAMPLE), &p, &d) != DN_OK) p = NULL;
  dn_diags_free(&d);
  return p;
}
#endif

#endif
