/* dunlin.h - libdunlin, the Dunlin collections-policy engine as a C
 * library: load a policy, run it against a ledger, or decide for one
 * customer whose facts the caller holds in memory.
 *
 * The one public header. Everything is behind opaque handles with the
 * `dunlin_` prefix; every fallible call returns a dunlin_status and, when
 * given a dunlin_diagnostics, appends the reasons there. Nothing here
 * prints, exits, or keeps global state.
 *
 * Ownership: a pointer returned by a `*_new`, `*_load_*`, `*_open`,
 * dunlin_run or dunlin_decide_json call belongs to the caller and is
 * released by the matching `*_free` / `*_close` / dunlin_free. A `const
 * char *` returned by an accessor is borrowed from the object it was read
 * from and stays valid until that object is freed (or, for diagnostics,
 * until the list is cleared or freed).
 *
 * Threads: a dunlin_policy is immutable once loaded; any number of threads
 * may call dunlin_decide_json on one policy at once. A dunlin_ledger (an
 * SQLite connection), a dunlin_actions and a dunlin_diagnostics are used
 * by one thread at a time.
 *
 * Full reference: docs/library.md. Request schema of dunlin_decide_json:
 * docs/decide.md. */
#ifndef DUNLIN_H
#define DUNLIN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DUNLIN_VERSION_MAJOR 0
#define DUNLIN_VERSION_MINOR 1
#define DUNLIN_VERSION_PATCH 0
#define DUNLIN_VERSION_STRING "0.1.0"

/* Marks the exported functions. The shared library's exports are chosen
 * by its version script (every dunlin_*, nothing else), so this is empty;
 * it stays as the place for a platform that needs a declaration attribute. */
#define DUNLIN_API

/* The values are those of the `dunlin` command's exit status. */
typedef enum dunlin_status {
  DUNLIN_OK = 0,
  DUNLIN_ERR_INPUT = 1,   /* the input is wrong: policy, request, ledger data */
  DUNLIN_ERR_USAGE = 2,   /* a bad argument (NULL handle, bad date text) */
  DUNLIN_ERR_INTERNAL = 3 /* out of memory, I/O failure, a bug */
} dunlin_status;

typedef enum dunlin_severity { DUNLIN_SEVERITY_ERROR = 0, DUNLIN_SEVERITY_WARNING = 1 } dunlin_severity;

typedef struct dunlin_diagnostics dunlin_diagnostics;
typedef struct dunlin_policy dunlin_policy;
typedef struct dunlin_ledger dunlin_ledger;
typedef struct dunlin_actions dunlin_actions;
typedef struct dunlin_action dunlin_action;

/* ---- version ----------------------------------------------------------- */

/* "0.1.0": the library actually loaded (the macros above are the header
 * compiled against). */
DUNLIN_API const char *dunlin_version(void);
/* MAJOR * 10000 + MINOR * 100 + PATCH. */
DUNLIN_API int dunlin_version_number(void);

/* Frees a string the library allocated (dunlin_decide_json's response). */
DUNLIN_API void dunlin_free(void *p);

/* ---- diagnostics ------------------------------------------------------- */

/* An empty list. NULL on out of memory. Pass it to any call below to
 * collect its errors and warnings; calls append, never clear. */
DUNLIN_API dunlin_diagnostics *dunlin_diagnostics_new(void);
DUNLIN_API void dunlin_diagnostics_free(dunlin_diagnostics *d);
DUNLIN_API void dunlin_diagnostics_clear(dunlin_diagnostics *d);
DUNLIN_API size_t dunlin_diagnostics_count(const dunlin_diagnostics *d);
DUNLIN_API size_t dunlin_diagnostics_errors(const dunlin_diagnostics *d);
/* Item i (0-based). Out of range: NULL / 0 / DUNLIN_SEVERITY_ERROR. */
DUNLIN_API const char *dunlin_diagnostic_code(const dunlin_diagnostics *d, size_t i);    /* "E0203", or "" */
DUNLIN_API dunlin_severity dunlin_diagnostic_severity(const dunlin_diagnostics *d, size_t i);
DUNLIN_API const char *dunlin_diagnostic_message(const dunlin_diagnostics *d, size_t i); /* no file, no code */
DUNLIN_API const char *dunlin_diagnostic_hint(const dunlin_diagnostics *d, size_t i);    /* or NULL */
/* Where: the policy file (or request field path, CSV file, ...); line and
 * column are 1-based, 0 when unknown. */
DUNLIN_API const char *dunlin_diagnostic_file(const dunlin_diagnostics *d, size_t i);
DUNLIN_API int dunlin_diagnostic_line(const dunlin_diagnostics *d, size_t i);
DUNLIN_API int dunlin_diagnostic_column(const dunlin_diagnostics *d, size_t i);
/* As `dunlin check` prints it: "file:17:33: error[E0203]: ..." with the
 * source line and a caret when there is a source. */
DUNLIN_API const char *dunlin_diagnostic_text(const dunlin_diagnostics *d, size_t i);
/* Every item's text, concatenated ("" when empty). */
DUNLIN_API const char *dunlin_diagnostics_text(dunlin_diagnostics *d);

/* ---- policies ---------------------------------------------------------- */

/* Which native libraries a policy's `extern fn`s may load (LANGUAGE.md
 * s.8): paths to shared libraries. A policy that needs any other library
 * fails to load with E0313. NULL / 0 allows none. */
typedef struct dunlin_ffi_allow {
  const char *const *paths;
  size_t count;
} dunlin_ffi_allow;

/* Loads a policy file: bytecode (.dbc, by its magic or its name) is read
 * and verified, anything else is compiled as source. Warnings go to diags
 * too. *out is NULL on failure. */
DUNLIN_API dunlin_status dunlin_policy_load_file(const char *path, const dunlin_ffi_allow *allow,
                                                 dunlin_policy **out, dunlin_diagnostics *diags);
/* The same from memory: `data` is source text or bytecode (told by the
 * magic); `name` is what diagnostics call it ("acme.dun"). */
DUNLIN_API dunlin_status dunlin_policy_load_memory(const char *name, const void *data, size_t len,
                                                   const dunlin_ffi_allow *allow, dunlin_policy **out,
                                                   dunlin_diagnostics *diags);
/* Makes dunlin_run and dunlin_levels_json evaluate the policy's
 * expressions with the native library `dunlin compile --native` built
 * for it (docs/native.md): the same results, faster. Refused with E0509
 * (DUNLIN_ERR_INPUT) when the library was made for another policy or by
 * another build of Dunlin; the policy then stays interpreted. A library
 * is machine code: load only one you built. Call it before the policy is
 * shared between threads; dunlin_policy_free unloads it. */
DUNLIN_API dunlin_status dunlin_policy_load_native(dunlin_policy *p, const char *library,
                                                   dunlin_diagnostics *diags);
/* Waits for nothing: free a policy only when no call uses it any more. */
DUNLIN_API void dunlin_policy_free(dunlin_policy *p);
DUNLIN_API const char *dunlin_policy_name(const dunlin_policy *p);
DUNLIN_API long long dunlin_policy_version(const dunlin_policy *p);
DUNLIN_API const char *dunlin_policy_currency(const dunlin_policy *p);

/* ---- ledgers and runs ---------------------------------------------------- */

typedef enum dunlin_ledger_mode {
  DUNLIN_LEDGER_READ = 0,  /* must exist; read only */
  DUNLIN_LEDGER_WRITE = 1, /* must exist; migrated forward if older */
  DUNLIN_LEDGER_CREATE = 2 /* created with the schema if missing */
} dunlin_ledger_mode;

/* Opens an SQLite ledger (LEDGER.md). One thread at a time per handle. */
DUNLIN_API dunlin_status dunlin_ledger_open(const char *path, dunlin_ledger_mode mode, dunlin_ledger **out,
                                            dunlin_diagnostics *diags);
DUNLIN_API void dunlin_ledger_close(dunlin_ledger *l);

#define DUNLIN_RUN_COMMIT 1u /* write the actions and a runs row to the outbox */

/* Runs the policy against the ledger as of `as_of` ("YYYY-MM-DD"), as
 * `dunlin run` does. With DUNLIN_RUN_COMMIT (the ledger opened for WRITE)
 * the actions go to the outbox in one transaction; committing a date
 * twice adds nothing. Data errors (a missing fx rate) skip only the
 * invoice or customer concerned: the call still returns DUNLIN_OK with
 * the other actions, the errors are in diags and counted by
 * dunlin_actions_data_errors. only_customer may be NULL. */
DUNLIN_API dunlin_status dunlin_run(const dunlin_policy *p, dunlin_ledger *l, const char *as_of,
                                    const char *only_customer, unsigned flags, dunlin_actions **out,
                                    dunlin_diagnostics *diags);

/* Each open invoice's dunning level as of `as_of`, as `dunlin levels`
 * gives it (docs/levels.md): on DUNLIN_OK *json is a JSON array of row
 * objects (customer, invoice, segment, escalation, status, step, tone,
 * days_past_due, balance, currency, rules, as_of), free it with
 * dunlin_free. Nothing is written. Data errors are in diags and their
 * invoices have "status":"error"; the call still returns DUNLIN_OK.
 * only_customer may be NULL. */
DUNLIN_API dunlin_status dunlin_levels_json(const dunlin_policy *p, dunlin_ledger *l, const char *as_of,
                                            const char *only_customer, char **json,
                                            dunlin_diagnostics *diags);

/* ---- decide -------------------------------------------------------------- */

/* One decision from facts in memory: `request` is one JSON object (schema
 * in docs/decide.md: "as_of", "customer", "invoices", "payments", ...).
 * On DUNLIN_OK *response is {"id":…,"actions":[…]}; on DUNLIN_ERR_INPUT
 * (a bad request) it is {"id":…,"error":"…","diagnostics":[…]}, fit to
 * send back; free it with dunlin_free. `actions` may be NULL; otherwise
 * it receives the same actions as records (NULL on error).
 * Thread-safe on a shared policy. */
DUNLIN_API dunlin_status dunlin_decide_json(const dunlin_policy *p, const char *request, size_t len,
                                            char **response, dunlin_actions **actions,
                                            dunlin_diagnostics *diags);

/* ---- requests built in C ------------------------------------------------ */

/* The same request as dunlin_decide_json's, built column by column from
 * text values (as a CSV cell gives them: "1200.00", "2026-03-10"; NULL
 * for NULL) instead of JSON. Values are checked when decided, with the
 * same diagnostics and field paths (invoices[0].amount). One thread at a
 * time per request. */
typedef struct dunlin_request dunlin_request;
/* NULL on out of memory or a NULL argument. */
DUNLIN_API dunlin_request *dunlin_request_new(const char *customer_id, const char *as_of);
DUNLIN_API void dunlin_request_free(dunlin_request *r);
/* A column of the customer ("tier", "currency", "credit_limit", ...). */
DUNLIN_API dunlin_status dunlin_request_customer(dunlin_request *r, const char *column, const char *value);
/* One row of "invoices", "payments", "credits", "disputes", "promises",
 * "actions", "fx_rates" or "holidays" (DUNLIN_ERR_USAGE for another
 * table): n columns and their values. customer_id may be left out. */
DUNLIN_API dunlin_status dunlin_request_add_row(dunlin_request *r, const char *table, const char *const *columns,
                                                const char *const *values, size_t n);
/* The request as JSON text (docs/decide.md), for logs; free with
 * dunlin_free. */
DUNLIN_API char *dunlin_request_json(const dunlin_request *r);
/* Decides it, as dunlin_decide_json does. */
DUNLIN_API dunlin_status dunlin_decide(const dunlin_policy *p, const dunlin_request *r, dunlin_actions **actions,
                                       dunlin_diagnostics *diags);

/* ---- actions (LEDGER.md "The action record") ---------------------------- */

DUNLIN_API void dunlin_actions_free(dunlin_actions *a);
DUNLIN_API size_t dunlin_actions_count(const dunlin_actions *a);
/* Item i (0-based), NULL when out of range; owned by the list. */
DUNLIN_API const dunlin_action *dunlin_actions_get(const dunlin_actions *a, size_t i);
/* Data errors of the run (customers or invoices skipped). */
DUNLIN_API long long dunlin_actions_data_errors(const dunlin_actions *a);
/* After DUNLIN_RUN_COMMIT: the runs row id, and whether this policy
 * revision had already committed this date (then nothing was written).
 * 0 / 0 otherwise. */
DUNLIN_API long long dunlin_actions_run_id(const dunlin_actions *a);
DUNLIN_API int dunlin_actions_already_committed(const dunlin_actions *a);

DUNLIN_API const char *dunlin_action_key(const dunlin_action *a);      /* 32 hex digits */
DUNLIN_API const char *dunlin_action_customer(const dunlin_action *a);
DUNLIN_API size_t dunlin_action_invoice_count(const dunlin_action *a);
DUNLIN_API const char *dunlin_action_invoice(const dunlin_action *a, size_t i);
/* email sms letter call task hold release escalate */
DUNLIN_API const char *dunlin_action_kind(const dunlin_action *a);
DUNLIN_API const char *dunlin_action_tone(const dunlin_action *a);     /* or NULL */
DUNLIN_API const char *dunlin_action_template(const dunlin_action *a); /* or NULL */
DUNLIN_API const char *dunlin_action_scheduled_at(const dunlin_action *a); /* RFC 3339 */
DUNLIN_API const char *dunlin_action_rule(const dunlin_action *a);     /* or NULL */
DUNLIN_API const char *dunlin_action_step(const dunlin_action *a);     /* or NULL */
DUNLIN_API int dunlin_action_has_priority(const dunlin_action *a);
DUNLIN_API double dunlin_action_priority(const dunlin_action *a);      /* 0 when none */
DUNLIN_API const char *dunlin_action_assignee(const dunlin_action *a); /* or NULL */
/* scheduled skipped deferred */
DUNLIN_API const char *dunlin_action_status(const dunlin_action *a);
DUNLIN_API const char *dunlin_action_reason(const dunlin_action *a);   /* or NULL */
/* A task's text or an escalation's target; NULL for the others. */
DUNLIN_API const char *dunlin_action_text(const dunlin_action *a);
DUNLIN_API const char *dunlin_action_as_of(const dunlin_action *a);    /* "YYYY-MM-DD" */
/* The record as one JSON object, byte for byte the line `dunlin run` prints
 * (without the newline). */
DUNLIN_API const char *dunlin_action_json(const dunlin_action *a);

#ifdef __cplusplus
}
#endif

#endif
