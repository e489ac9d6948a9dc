/* ast.c - syntax tree helpers: arena-backed growable arrays, the names of
 * events and actions, and freeing a tree. The tree itself is built by
 * parser.y (dn_parse lives there, next to the grammar it drives). */
#include "lang/ast.h"

#include <string.h>

/* Capacity is implied by the count: at least DN_VEC_MIN, then the next
 * power of two. A push only reallocates when count reaches a capacity, so
 * n pushes copy O(n) bytes in total; the old block stays in the arena,
 * which at most doubles the memory a list uses. */
enum { DN_VEC_MIN = 4 };

static bool dn_vec_full(int count) {
  if (count == 0) return true;
  if (count < DN_VEC_MIN) return false;
  return (count & (count - 1)) == 0;
}

void *dn_vec_push(dn_arena *a, void **items, int *count, size_t elem) {
  int n = *count;
  if (n < 0 || n == (1 << 30)) return NULL;
  if (dn_vec_full(n)) {
    size_t cap = n < DN_VEC_MIN ? DN_VEC_MIN : (size_t)n * 2;
    unsigned char *grown = dn_arena_alloc(a, cap * elem);
    if (!grown) return NULL;
    if (n > 0) memcpy(grown, *items, (size_t)n * elem);
    *items = grown;
  }
  unsigned char *slot = (unsigned char *)*items + (size_t)n * elem;
  memset(slot, 0, elem);
  *count = n + 1;
  return slot;
}

static const char *const dn_event_names[DN_EV_COUNT] = {
    [DN_EV_PAYMENT_FAILED] = "payment.failed",
    [DN_EV_PAYMENT_RECEIVED] = "payment.received",
    [DN_EV_PROMISE_MADE] = "promise.made",
    [DN_EV_PROMISE_BROKEN] = "promise.broken",
    [DN_EV_DISPUTE_OPENED] = "dispute.opened",
    [DN_EV_DISPUTE_RESOLVED] = "dispute.resolved",
    [DN_EV_INVOICE_ISSUED] = "invoice.issued",
};

const char *dn_event_name(dn_event_kind e) {
  if ((unsigned)e >= DN_EV_COUNT) return "<unknown event>";
  return dn_event_names[e];
}

static const char *const dn_action_names[DN_ACT_COUNT] = {
    [DN_ACT_EMAIL] = "email",   [DN_ACT_SMS] = "sms",   [DN_ACT_LETTER] = "letter",
    [DN_ACT_CALL] = "call",     [DN_ACT_TASK] = "task", [DN_ACT_HOLD] = "hold",
    [DN_ACT_RELEASE] = "release", [DN_ACT_ESCALATE] = "escalate",
};

const char *dn_action_kind_name(dn_action_kind k) {
  if ((unsigned)k >= DN_ACT_COUNT) return "<unknown action>";
  return dn_action_names[k];
}

bool dn_action_is_contact(dn_action_kind k) {
  return k == DN_ACT_EMAIL || k == DN_ACT_SMS || k == DN_ACT_LETTER || k == DN_ACT_CALL;
}

void dn_ast_free(dn_ast *ast) {
  if (!ast) return;
  dn_arena_free(&ast->arena);
  ast->decls = NULL;
  ast->ndecls = 0;
  ast->lets = NULL;
  ast->nlets = 0;
  ast->tests = NULL;
  ast->ntests = 0;
}
