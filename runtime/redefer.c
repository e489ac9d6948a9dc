/* redefer.c - see redefer.h.
 *
 * Copies live in two arenas by the parity of their day: day D's copies
 * are read on D + 1 only, so starting day D + 2 empties D's arena, and an
 * entry whose day is not D - 1 is never read (its memory may be gone). */
#include "runtime/redefer.h"

#include <stdlib.h>
#include <string.h>

#include "lang/arena.h"
#include "runtime/vec.h"

typedef struct entry {
  const dn_action_rec *recs;
  int32_t n;
  dn_date day;
} entry;

struct dn_redefer {
  const dn_program *p;
  entry *entries;
  size_t n;
  dn_arena arenas[2];
  dn_date day;
  /* The records of the customer being run, as the engine made them: they
   * stay valid until its on_customer call returns (engine.h), so only
   * those of a customer kept are copied. */
  VEC(const dn_action_rec *) pending;
  bool pending_ok;
  /* Records of steps and events that went out (or were skipped) beside
   * the deferred ones may be left behind: they count now, so the next
   * day proposes them no more (simulate says when; see redefer.h). */
  bool drop_done;
};

dn_redefer *dn_redefer_new(const dn_program *p, size_t ncustomers) {
  dn_redefer *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  b->p = p;
  b->n = ncustomers;
  b->entries = calloc(ncustomers ? ncustomers : 1, sizeof *b->entries);
  if (!b->entries) {
    free(b);
    return NULL;
  }
  for (size_t i = 0; i < ncustomers; i++) b->entries[i].day = DN_DATE_NONE;
  dn_arena_init(&b->arenas[0]);
  dn_arena_init(&b->arenas[1]);
  b->pending_ok = true;
  return b;
}

void dn_redefer_free(dn_redefer *b) {
  if (!b) return;
  free(b->entries);
  free(b->pending.items);
  dn_arena_free(&b->arenas[0]);
  dn_arena_free(&b->arenas[1]);
  free(b);
}

static dn_arena *arena_of(dn_redefer *b, dn_date day) { return &b->arenas[day & 1]; }

void dn_redefer_day(dn_redefer *b, dn_date day) {
  b->day = day;
  dn_arena_reset(arena_of(b, day));
  b->pending.n = 0;
  b->pending_ok = true;
}

/* Each comma-separated part of a record's rule names an escalation or an
 * `on` event: their keys and reasons stay the same from day to day; a
 * condition rule's key holds the day it fired. */
static bool parts_kept(const dn_program *p, const char *rule) {
  if (!rule || !*rule) return false;
  for (uint32_t e = 0; e < p->nescalations; e++) /* most records: one step, the program's name */
    if (rule == p->strings[p->escalations[e].name]) return true;
  for (const char *s = rule; *s;) {
    size_t len = strcspn(s, ",");
    bool ok = len > 3 && !strncmp(s, "on ", 3);
    for (uint32_t e = 0; !ok && e < p->nescalations; e++) {
      const char *name = p->strings[p->escalations[e].name];
      ok = strlen(name) == len && !strncmp(name, s, len);
    }
    if (!ok) return false;
    s += len;
    if (*s == ',') s++;
  }
  return true;
}

static bool copy_str(dn_arena *a, const char **s) {
  if (!*s) return true;
  *s = dn_arena_strdup(a, *s);
  return *s != NULL;
}

/* A deep copy of a into *out, in arena ar. */
static bool copy_record(dn_arena *ar, const dn_action_rec *a, dn_action_rec *out) {
  *out = *a;
  out->facts = NULL;
  const char **invs = a->ninvoices ? dn_arena_alloc(ar, sizeof *invs * (size_t)a->ninvoices) : NULL;
  if (a->ninvoices && !invs) return false;
  for (int i = 0; i < a->ninvoices; i++) {
    invs[i] = a->invoices[i];
    if (!copy_str(ar, &invs[i])) return false;
  }
  out->invoices = invs;
  dn_reason_span *sp = a->nspans ? dn_arena_alloc(ar, sizeof *sp * (size_t)a->nspans) : NULL;
  if (a->nspans && !sp) return false;
  if (sp) memcpy(sp, a->spans, sizeof *sp * (size_t)a->nspans);
  out->spans = sp;
  return copy_str(ar, &out->customer) && copy_str(ar, &out->tone) &&
         copy_str(ar, &out->template_name) && copy_str(ar, &out->rule) &&
         copy_str(ar, &out->step) && copy_str(ar, &out->assignee) && copy_str(ar, &out->reason) &&
         copy_str(ar, &out->text) && copy_str(ar, &out->segment);
}

void dn_redefer_add(dn_redefer *b, const dn_action_rec *a) {
  if (!b->pending_ok) return;
  const dn_action_rec **slot = NULL;
  bool kept = parts_kept(b->p, a->rule);
  if (kept && a->status != DN_STATUS_DEFERRED && b->drop_done) return;
  b->pending_ok = a->status == DN_STATUS_DEFERRED && kept &&
                  (slot = VEC_PUSH(b->pending)) != NULL;
  if (slot) *slot = a;
}

void dn_redefer_drop_done(dn_redefer *b, bool on) { b->drop_done = on; }

void dn_redefer_close(dn_redefer *b, int32_t idx, bool keep) {
  entry *e = idx >= 0 && (size_t)idx < b->n ? &b->entries[idx] : NULL;
  if (e) e->day = DN_DATE_NONE;
  int32_t n = b->pending.n;
  dn_arena *ar = arena_of(b, b->day);
  dn_action_rec *recs = e && keep && b->pending_ok && n > 0
                            ? dn_arena_alloc(ar, sizeof *recs * (size_t)n) : NULL;
  bool ok = recs != NULL;
  for (int32_t i = 0; ok && i < n; i++) ok = copy_record(ar, b->pending.items[i], &recs[i]);
  if (ok) *e = (entry){recs, n, b->day};
  b->pending.n = 0;
  b->pending_ok = true;
}

const dn_action_rec *dn_redefer_get(const dn_redefer *b, int32_t idx, dn_date day, int32_t *n) {
  *n = 0;
  if (idx < 0 || (size_t)idx >= b->n) return NULL;
  const entry *e = &b->entries[idx];
  if (e->day == DN_DATE_NONE || e->day != day - 1) return NULL;
  *n = e->n;
  return e->recs;
}
