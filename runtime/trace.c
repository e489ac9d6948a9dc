/* trace.c - the book of customers' conditions traces (see trace.h): one
 * per store slot, grown as customers are first seen. */
#include "runtime/trace.h"

#include <stdlib.h>
#include <string.h>

struct dn_trace_book {
  dn_trace *slots; /* index: store slot - 1 */
  size_t n;
};

dn_trace_book *dn_trace_book_new(void) { return calloc(1, sizeof(dn_trace_book)); }

void dn_trace_book_free(dn_trace_book *b) {
  if (!b) return;
  for (size_t i = 0; i < b->n; i++) {
    free(b->slots[i].steps);
    free(b->slots[i].open);
  }
  free(b->slots);
  free(b);
}

dn_trace *dn_trace_book_at(dn_trace_book *b, int32_t slot) {
  if (slot <= 0) return NULL;
  size_t i = (size_t)slot - 1;
  if (i >= b->n) {
    size_t n = b->n ? b->n : 1024;
    while (n <= i) n *= 2;
    dn_trace *v = realloc(b->slots, sizeof *v * n);
    if (!v) return NULL;
    memset(v + b->n, 0, sizeof *v * (n - b->n));
    b->slots = v;
    b->n = n;
  }
  return &b->slots[i];
}

void dn_trace_book_prefetch(const dn_trace_book *b, int32_t next, int32_t after) {
  if (!b) return;
  if (after > 0 && (size_t)after <= b->n) __builtin_prefetch(&b->slots[after - 1], 0, 1);
  if (next <= 0 || (size_t)next > b->n) return;
  const dn_trace *t = &b->slots[next - 1];
  if (t->valid && t->steps) __builtin_prefetch(t->steps, 0, 1);
  if (t->valid && t->open) __builtin_prefetch(t->open, 0, 1);
}

void dn_trace_start(dn_trace *t) {
  t->nsteps = 0;
  t->valid = true;
  t->deferred = false;
}

bool dn_trace_add(dn_trace *t, int32_t chunk, int32_t inv, bool value) {
  if (!t->valid) return false;
  if (t->nsteps == t->cap) {
    int32_t cap = t->cap ? t->cap * 2 : 8;
    dn_trace_step *v = realloc(t->steps, sizeof *v * (size_t)cap);
    if (!v) return t->valid = false;
    t->steps = v;
    t->cap = cap;
  }
  t->steps[t->nsteps++] = (dn_trace_step){chunk, inv, value};
  return true;
}

bool dn_trace_keep(dn_trace *t, const dn_customer_facts *c) {
  if (!t->valid) return false;
  if (c->ninvoices > t->open_cap) {
    uint8_t *v = realloc(t->open, (size_t)c->ninvoices);
    if (!v) return t->valid = false;
    t->open = v;
    t->open_cap = c->ninvoices;
  }
  for (int32_t i = 0; i < c->ninvoices; i++) t->open[i] = c->invoices[i].open;
  t->ninvoices = c->ninvoices;
  return true;
}

/* What the engine reads of the facts itself, and what would make it
 * report a diagnostic, as on the traced day. */
static bool same_facts(const dn_trace *t, const dn_customer_facts *c) {
  if (c->nevents || c->overflow || c->fx_missing || c->ninvoices != t->ninvoices) return false;
  for (int32_t i = 0; i < c->ninvoices; i++)
    if (c->invoices[i].fx_missing || c->invoices[i].open != (t->open[i] != 0)) return false;
  return true;
}

/* The segment's name, ladder as begin_customer (engine.c) sets them. */
static int segment_chosen(const dn_program *p, dn_customer_facts *c, int32_t seg) {
  if (seg < 0) return 0;
  const dn_segment_def *s = &p->segments[seg];
  c->segment = s->name == DN_NONE ? "?" : p->strings[s->name];
  return s->ladder;
}

bool dn_trace_holds(const dn_trace *t, dn_vm *vm, const dn_program *p, dn_customer_facts *c) {
  if (!t->valid || !same_facts(t, c)) return false;
  c->segment = NULL;
  dn_vm_begin_customer(vm, c, -1);
  for (int32_t i = 0; i < t->nsteps; i++) {
    const dn_trace_step *s = &t->steps[i];
    if (s->chunk == DN_TRACE_SEGMENT) {
      dn_vm_begin_customer(vm, c, segment_chosen(p, c, s->inv));
      continue;
    }
    dn_value v;
    int32_t inv = p->chunks[s->chunk].scope == DN_SCOPE_INVOICE ? s->inv : -1;
    if (dn_vm_eval(vm, s->chunk, inv, &v, NULL, 0) != DN_OK || v.as.b != s->value) return false;
  }
  return true;
}
