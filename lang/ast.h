/* ast.h - the syntax tree of a policy, as the parser builds it and the
 * checker annotates it.
 *
 * Every node carries a span (byte offsets into the source). All nodes and
 * strings live in the policy's arena (dn_ast.arena). Lists are arrays with
 * a count, built by the parser through dn_vec_push in ast.c. Fields marked
 * "checker" are zero after parsing and filled in by dn_check(). */
#ifndef DN_AST_H
#define DN_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "lang/arena.h"
#include "lang/diag.h"
#include "lang/types.h"
#include "stdlib/date.h"
#include "stdlib/money.h"

typedef struct dn_ident {
  const char *name;
  dn_span span;
} dn_ident;

typedef enum dn_scope { DN_SCOPE_CUSTOMER, DN_SCOPE_INVOICE } dn_scope;

/* A duration literal: `7 days`, `2 weeks` (stored as 14 days),
 * `3 business days`. Negative for `-3 days` in a step offset. */
typedef struct dn_duration {
  int32_t days;
  bool business;
  dn_span span;
} dn_duration;

typedef enum dn_field_id {
#define DN_FIELD(scope, name, type, doc) DN_F_##scope##_##name,
#include "lang/fields.def"
#undef DN_FIELD
  DN_F_COUNT
} dn_field_id;

typedef enum dn_builtin_id {
#define DN_BUILTIN(id, name, ret, nargs, a1, a2, doc) DN_B_##id,
#include "stdlib/builtins.def"
#undef DN_BUILTIN
  DN_B_COUNT
} dn_builtin_id;

typedef enum dn_expr_kind {
  DN_EX_BOOL,     /* b */
  DN_EX_INT,      /* i */
  DN_EX_NUMBER,   /* n (a percent literal 30% is already 0.30) */
  DN_EX_MONEY,    /* money_text + currency; checker fills money */
  DN_EX_DATE,     /* date */
  DN_EX_DURATION, /* duration */
  DN_EX_STRING,   /* str (escapes already decoded) */
  DN_EX_NAME,     /* name: a let, a tone; checker fills let_index or tone */
  DN_EX_FIELD,    /* object.field: object "invoice"/"customer"; checker fills field */
  DN_EX_ATTR,     /* customer.attr("key"): str is the key */
  DN_EX_UNARY,    /* op (NOT, NEG), lhs */
  DN_EX_BINARY,   /* op, lhs, rhs */
  DN_EX_IN,       /* lhs in [items] */
  DN_EX_CALL      /* name(args); checker fills builtin or extern_index */
} dn_expr_kind;

typedef enum dn_op {
  DN_OP_OR, DN_OP_AND, DN_OP_NOT,
  DN_OP_EQ, DN_OP_NE, DN_OP_LT, DN_OP_LE, DN_OP_GT, DN_OP_GE,
  DN_OP_ADD, DN_OP_SUB, DN_OP_MUL, DN_OP_DIV, DN_OP_NEG
} dn_op;

typedef struct dn_expr dn_expr;
struct dn_expr {
  dn_expr_kind kind;
  dn_span span;
  dn_op op;
  dn_expr *lhs, *rhs;
  dn_expr **items; /* IN list, CALL args */
  int nitems;
  bool b;
  int64_t i;
  double n;
  const char *str;       /* STRING, ATTR key, CALL name, NAME name */
  const char *object;    /* FIELD: "invoice" / "customer" (or another word: an error) */
  const char *field_name;
  dn_span field_span;    /* FIELD: span of the field name, for carets */
  const char *money_text;/* MONEY: the digits as written, underscores removed */
  const char *currency;  /* MONEY: the code as written */
  dn_date date;
  dn_duration duration;
  /* checker */
  dn_type type;
  dn_scope scope;        /* CUSTOMER unless it reads invoice facts */
  dn_money money;        /* MONEY literal in minor units */
  dn_field_id field;
  int let_index;         /* NAME referring to a let: index into dn_ast.lets */
  int tone_rank;         /* NAME referring to a tone: rank on its ladder */
  int builtin;           /* CALL: dn_builtin_id, or -1 for an extern */
  int extern_index;      /* CALL of an extern fn */
  bool convert_to_number;/* checker: wrap in int->number conversion */
};

typedef enum dn_action_kind {
  DN_ACT_EMAIL, DN_ACT_SMS, DN_ACT_LETTER, DN_ACT_CALL,
  DN_ACT_TASK, DN_ACT_HOLD, DN_ACT_RELEASE, DN_ACT_ESCALATE,
  DN_ACT_COUNT
} dn_action_kind;

/* `email tone firm template "x" priority EXPR assign "team"`,
 * `task "review dispute" assign "billing"`, `hold credit`,
 * `release credit`, `escalate "agency"`. */
typedef struct dn_action {
  dn_action_kind kind;
  dn_span span;
  const char *text;      /* task text, escalate target */
  dn_ident tone;         /* name NULL when absent */
  const char *template_name; dn_span template_span;
  dn_expr *priority;
  const char *assign; dn_span assign_span;
} dn_action;

typedef struct dn_step {
  dn_span span;
  dn_duration offset;
  dn_action *actions;
  int nactions;
  dn_expr *guard; /* `when EXPR` at the end of the line, or NULL */
} dn_step;

typedef enum dn_decl_kind {
  DN_D_POLICY, DN_D_CURRENCY, DN_D_TIMEZONE, DN_D_CALENDAR, DN_D_SEND_WINDOW,
  DN_D_PROMISE_GRACE, DN_D_TONES, DN_D_LET, DN_D_SEGMENT, DN_D_ESCALATION,
  DN_D_ON, DN_D_RULE, DN_D_LIMIT, DN_D_EXTERN
} dn_decl_kind;

typedef enum dn_event_kind {
  DN_EV_PAYMENT_FAILED, DN_EV_PAYMENT_RECEIVED, DN_EV_PROMISE_MADE,
  DN_EV_PROMISE_BROKEN, DN_EV_DISPUTE_OPENED, DN_EV_DISPUTE_RESOLVED,
  DN_EV_INVOICE_ISSUED, DN_EV_COUNT
} dn_event_kind;

typedef struct dn_cap {
  int64_t count;
  dn_duration window;
  dn_span span;
} dn_cap;

typedef struct dn_decl {
  dn_decl_kind kind;
  dn_span span;
  dn_ident name;          /* policy/let/segment/escalation/rule/extern/tones ladder name;
                             for POLICY the name string, CURRENCY the code,
                             TIMEZONE/CALENDAR the string */
  int64_t version;        /* POLICY */
  int window_start, window_end; /* SEND_WINDOW, minutes after midnight */
  dn_duration duration;   /* PROMISE_GRACE; RULE `once per` (days 0 = absent) */
  dn_ident *tones; int ntones;  /* TONES: gentlest first */
  dn_expr *expr;          /* LET value; SEGMENT/ON/RULE condition (NULL = otherwise/none);
                             ESCALATION unless guard */
  bool otherwise;         /* SEGMENT */
  /* SEGMENT body */
  int tone_shift; bool has_tone_shift; dn_span tone_shift_span;
  dn_ident ladder;        /* `tones NAME` in a segment body; name NULL when absent */
  const char *assign; dn_span assign_span;
  /* ESCALATION */
  dn_ident *segments; int nsegments;
  dn_step *steps; int nsteps;
  /* ON / RULE */
  dn_event_kind event; dn_ident event_name; /* ON: "payment.failed" as written */
  dn_scope scope;
  dn_action *actions; int nactions;
  /* LIMIT */
  dn_cap *caps; int ncaps;
  /* EXTERN */
  dn_type *param_types; int nparams; dn_type ret_type;
  dn_span *param_spans; dn_span ret_span;
  const char *library; dn_span library_span;
  /* checker */
  bool used;              /* LET / SEGMENT: referenced somewhere */
  dn_scope let_scope;     /* LET: inferred scope */
} dn_decl;

/* ---- policy tests (LANGUAGE.md s.9, docs/testing.md) ----------------
 * A `test "NAME" { ... }` block is kept apart from the declarations, so
 * the policy checker never sees it; runtime/testrun.c checks and runs it. */

typedef enum dn_tval_kind {
  DN_TVAL_STRING, DN_TVAL_NAME, DN_TVAL_NUMBER, DN_TVAL_MONEY, DN_TVAL_DATE, DN_TVAL_BOOL
} dn_tval_kind;

/* A field value as written: `"gold"`, `USD`, `0.7`, `1_200 USD`, a date. */
typedef struct dn_test_value {
  dn_tval_kind kind;
  dn_span span;
  const char *text;     /* STRING/NAME text; NUMBER/MONEY digits (no underscores,
                           leading '-' kept); BOOL "true"/"false" */
  const char *currency; /* MONEY: the code as written */
  dn_date date;         /* DATE */
} dn_test_value;

typedef struct dn_test_field {
  dn_ident name;
  dn_test_value value;
} dn_test_field;

typedef enum dn_test_item_kind {
  DN_TI_POLICY,   /* policy "path.dun" */
  DN_TI_AS_OF,    /* as_of DATE */
  DN_TI_ROW,      /* customer C1 { ... }, invoice I1 of C1 { ... }, ... */
  DN_TI_HISTORY,  /* history email to C1 on DATE ... */
  DN_TI_RAN,      /* ran on DATE, DATE ... */
  DN_TI_EXPECT    /* expect [no|N] KIND ... */
} dn_test_item_kind;

/* What an expectation (or a history line) says about an action; every
 * part is optional (name NULL / has_* false when absent). */
typedef struct dn_test_attrs {
  dn_action_kind kind; dn_span kind_span;
  const char *text; dn_span text_span;   /* task "x", escalate "x" */
  dn_ident to;                           /* customer */
  dn_ident tone;
  const char *template_name; dn_span template_span;
  dn_ident *invoices; int ninvoices;     /* for I1, I2 */
  dn_ident status;
  bool has_at; dn_date at_date; int at_minutes; /* -1: date only */ dn_span at_span;
  bool has_on; dn_date on_date; dn_span on_span;
  dn_ident rule;                         /* name or string as written */
  const char *step; dn_span step_span;   /* normalised like the engine: "15d", "3bd", "-3d" */
} dn_test_attrs;

typedef struct dn_test_item {
  dn_test_item_kind kind;
  dn_span span;
  const char *path; dn_span path_span;   /* POLICY */
  dn_date date;                          /* AS_OF */
  /* ROW: kind word as written ("customer", "fx_rate"), id, `of` parent */
  dn_ident row_kind, id, parent;
  dn_test_field *fields; int nfields;
  dn_date *dates; dn_span *date_spans; int ndates; /* RAN */
  int64_t count;                         /* EXPECT: -1 some, 0 `no`, N exactly */
  dn_test_attrs attrs;                   /* EXPECT, HISTORY */
} dn_test_item;

typedef struct dn_test {
  const char *name;
  dn_span span, name_span;
  dn_test_item *items; int nitems;
} dn_test;

typedef struct dn_ast {
  dn_arena arena;
  const char *filename;
  const char *source; size_t source_len; /* borrowed from the caller */
  dn_decl *decls; int ndecls;
  /* checker: indices into decls, in file order, by kind */
  int *lets; int nlets;
  /* `test` blocks, in file order (a *_test.dun file) */
  dn_test *tests; int ntests;
} dn_ast;

/* Parses `source` into *ast (initialised here; free with dn_ast_free even
 * on failure). Appends syntax diagnostics to diags. DN_OK when no error
 * was reported. Reentrant: no global state. */
#include "stdlib/status.h"
dn_status dn_parse(const char *filename, const char *source, size_t len,
                   dn_ast *ast, dn_diags *diags);
void dn_ast_free(dn_ast *ast);

/* Growable arrays inside the arena: *items has *count elements of size
 * elem; returns a pointer to the new zeroed slot or NULL on OOM. Capacity
 * doubles at powers of two, so no separate capacity field is needed. */
void *dn_vec_push(dn_arena *a, void **items, int *count, size_t elem);

const char *dn_event_name(dn_event_kind e);     /* "payment.failed" */
const char *dn_action_kind_name(dn_action_kind k); /* "email" ... "hold", "release" */
bool dn_action_is_contact(dn_action_kind k);

#endif
