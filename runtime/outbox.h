/* outbox.h - where actions go: JSON lines, a table for people, or the
 * ledger's actions table (the outbox) in one transaction per run.
 *
 * The action record has a fixed shape, so it is written straight into one
 * line buffer (the run's hot path) with a fixed key order and compact
 * separators, escaping strings exactly as jansson does (test_json_writer
 * compares the two); records built for --render go through jansson. */
#ifndef DN_OUTBOX_H
#define DN_OUTBOX_H

#include <stdbool.h>
#include <stdio.h>

#include "lang/program.h"
#include "runtime/engine.h"
#include "runtime/ledger.h"

/* One action as one JSON line (LEDGER.md "The action record"); with_as_of
 * adds the simulate field `as_of`. */
dn_status dn_action_write_json(FILE *out, const dn_action_rec *a, bool with_as_of);
/* The same record as a malloc'd string without the newline (to nest it
 * in another document or keep it); NULL when out of memory. */
char *dn_action_json_text(const dn_action_rec *a, bool with_as_of);

struct json_t; /* jansson's */
/* The record dn_action_write_json writes, as a jansson object (a new
 * reference, NULL on out of memory), for writers that append fields
 * (`run --render` adds language, subject and body). */
struct json_t *dn_action_to_json(const dn_action_rec *a, bool with_as_of);
/* A JSON string of text from a policy or a ledger (a new reference, NULL
 * on out of memory): jansson refuses invalid UTF-8, which a Latin-1 export
 * can hold, so each bad byte becomes U+FFFD instead of the key vanishing. */
struct json_t *dn_json_text(const char *s);
/* Writes o as one line in the same compact, ordered form. */
dn_status dn_json_write_line(FILE *out, struct json_t *o);

/* A table for people: header, one row per action, a closing count. */
typedef struct dn_table_writer {
  FILE *out;
  long rows;
  long by_status[3]; /* scheduled, skipped, deferred */
  bool all;          /* list skipped rows too */
} dn_table_writer;
/* `all` false leaves the skipped (caught-up) records out of the listing,
 * counted in the footer: what people read first is what goes out. */
void dn_table_begin(dn_table_writer *t, FILE *out, bool all);
dn_status dn_table_row(dn_table_writer *t, const dn_action_rec *a);
void dn_table_end(dn_table_writer *t);

/* A committed run. dn_outbox_begin opens an IMMEDIATE transaction (so two
 * commits of the same date serialise), refuses nothing, and tells through
 * *already whether this policy revision already committed this date: then
 * the caller still runs (to print) but nothing is written. */
typedef struct dn_outbox {
  dn_ledger *ledger;
  const dn_program *program;
  dn_date as_of;
  char as_of_text[11]; /* formatted once: bound to every row (STATIC) */
  long long run_id;
  bool already;
  long inserted, ignored;
  void *insert_stmt; /* sqlite3_stmt */
  /* Set after dn_outbox_begin by a simulation whose working copy is read
   * from its row store and thrown away afterwards: rows go to the store
   * only, since nothing will read the copy's actions table. */
  bool store_only;
} dn_outbox;

dn_status dn_outbox_begin(dn_outbox *o, dn_ledger *l, const dn_program *p, dn_date as_of,
                          dn_diags *diags);
dn_status dn_outbox_add(dn_outbox *o, const dn_action_rec *a, dn_diags *diags);
/* Commits (ok == true) or rolls back everything of this run. */
dn_status dn_outbox_end(dn_outbox *o, bool ok, long errors, dn_diags *diags);

#endif
