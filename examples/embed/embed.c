/* embed.c - libdunlin in a host program: load a shipped policy, decide
 * for one customer whose facts the program holds in memory, print the
 * actions. Uses only <dunlin.h> and -ldunlin (see Makefile).
 *
 *   ./embed [POLICY]      (default ../../policies/b2b_net30.dun) */
#include <dunlin.h>
#include <stdio.h>
#include <string.h>

/* What an ERP would know about the customer, as a decide request
 * (docs/decide.md): one open invoice of 2,500.00 USD due 2026-03-02. */
static const char request[] =
    "{\"id\":\"northwind-1\",\"as_of\":\"2026-03-10\","
    "\"customer\":{\"id\":\"C-100\",\"name\":\"Northwind\",\"tier\":\"standard\","
    "\"currency\":\"USD\",\"credit_limit\":\"10000.00\"},"
    "\"invoices\":[{\"id\":\"INV-1\",\"number\":\"2026-0042\",\"issue_date\":\"2026-01-31\","
    "\"due_date\":\"2026-03-02\",\"currency\":\"USD\",\"amount\":\"2500.00\"}]}";

static void print_action(const dunlin_action *a) {
  printf("%s %s %s tone=%s template=%s at=%s invoices=", dunlin_action_kind(a), dunlin_action_step(a),
         dunlin_action_status(a), dunlin_action_tone(a) ? dunlin_action_tone(a) : "-",
         dunlin_action_template(a) ? dunlin_action_template(a) : "-", dunlin_action_scheduled_at(a));
  for (size_t i = 0; i < dunlin_action_invoice_count(a); i++)
    printf("%s%s", i ? "," : "", dunlin_action_invoice(a, i));
  putchar('\n');
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "../../policies/b2b_net30.dun";
  dunlin_diagnostics *diags = dunlin_diagnostics_new();
  dunlin_policy *policy = NULL;
  int rc = 1;
  if (!diags) return 3;
  if (dunlin_policy_load_file(path, NULL, &policy, diags) != DUNLIN_OK) {
    fputs(dunlin_diagnostics_text(diags), stderr);
    goto done;
  }
  printf("libdunlin %s, policy %s version %lld\n", dunlin_version(), dunlin_policy_name(policy),
         dunlin_policy_version(policy));
  char *response = NULL;
  dunlin_actions *actions = NULL;
  if (dunlin_decide_json(policy, request, strlen(request), &response, &actions, diags) != DUNLIN_OK) {
    fprintf(stderr, "%s\n", response ? response : "decide failed");
    dunlin_free(response);
    goto done;
  }
  for (size_t i = 0; i < dunlin_actions_count(actions); i++) print_action(dunlin_actions_get(actions, i));
  dunlin_actions_free(actions);
  dunlin_free(response);
  rc = 0;
done:
  dunlin_policy_free(policy);
  dunlin_diagnostics_free(diags);
  return rc;
}
