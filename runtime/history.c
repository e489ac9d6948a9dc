/* history.c - a customer's action history split into sorted parts (see
 * history.h), with the lookups the engine makes and the memo that keeps
 * parsed histories from one day's run to the next. */
#include "runtime/history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/sort.h"

/* A customer's parsed history kept across runs: the parts and classes of
 * its first nrows history rows, the parts sorted. */
typedef struct memo_entry {
  char *id;
  const char *seen_id; /* the facts' id string it was last found by */
  int32_t nrows;
  const char *last_key; /* history[nrows - 1].key as the facts held it */
  VEC(dn_hist_part) parts;
  VEC(uint8_t) flags;
  dn_arena arena; /* the parts' split strings and invoice lists */
  dn_hist_groups gc; /* valid while the parts do not change */
} memo_entry;

/* Open addressing on the customer id (FNV-1a), doubling at half full;
 * customers read from a row store by their index there instead. */
struct dn_history_memo {
  memo_entry **slots;
  size_t cap, n;
  memo_entry **by_store;
  size_t nstore;
  dn_hist_names names; /* every entry's parts name theirs here */
};

/* ---- parsing rows into parts ------------------------------------------------ */

/* The arenas of a parse: what the parts keep (the memo's, for as long as
 * the customer's entry) and what only the parse reads (the run's scratch):
 * a memo holds every history row of every customer for a whole replay. */
typedef struct parse_arenas {
  dn_arena *keep, *tmp;
} parse_arenas;

/* Splits "a,b,c": the list in tmp, the names of a list of several in
 * keep. Parts name their (rule, step) in the names table; what they keep
 * of these copies is the invoice a step names after '@'. */
static const char **split_list(parse_arenas a, const char *s, int32_t *n) {
  *n = 0;
  if (!s) return NULL;
  int32_t cnt = 1;
  for (const char *q = s; *q; q++) cnt += *q == ',';
  const char **out = dn_arena_alloc(a.tmp, sizeof *out * (size_t)cnt);
  if (!out) return NULL;
  if (cnt == 1) { /* the usual one part: the facts' own string, never written to */
    out[(*n)++] = s;
    return out;
  }
  const char *start = s;
  for (const char *q = s;; q++) {
    if (*q == ',' || *q == '\0') {
      out[(*n)++] = dn_arena_strndup(a.keep, start, (size_t)(q - start));
      if (!*q) break;
      start = q + 1;
    }
  }
  return out;
}

/* The customer's own copy of invoice id `id` (its invoices are in id
 * order), or id itself when it has no such invoice. */
static const char *invoice_id(const dn_customer_facts *c, const char *id) {
  int32_t lo = 0, hi = c->ninvoices;
  while (lo < hi) {
    int32_t mid = lo + (hi - lo) / 2;
    int k = strcmp(c->invoices[mid].id, id);
    if (k == 0) return c->invoices[mid].id;
    if (k < 0) lo = mid + 1;
    else hi = mid;
  }
  return id;
}

/* Parses the JSON array of invoice ids as the outbox stores it. An id of
 * one of the customer's invoices is handed out as the facts hold it, so
 * that a lookup by that invoice mostly finds it by pointer. */
static const char **parse_ids(parse_arenas a, const dn_customer_facts *c, const char *json,
                              int32_t *n) {
  *n = 0;
  if (!json) return NULL;
  int32_t cnt = 0;
  for (const char *q = json; *q; q++) cnt += *q == '"';
  cnt = cnt / 2 + 1;
  const char **out = dn_arena_alloc(a.tmp, sizeof *out * (size_t)cnt);
  char *buf = dn_arena_alloc(a.tmp, strlen(json) + 1);
  if (!out || !buf) return NULL;
  const char *q = json;
  while (*q && *n < cnt) {
    while (*q && *q != '"') q++;
    if (!*q) break;
    q++;
    char *w = buf;
    out[*n] = buf;
    while (*q && *q != '"') {
      if (*q == '\\' && q[1]) q++;
      *w++ = *q++;
    }
    *w++ = '\0';
    const char *own = invoice_id(c, out[*n]);
    /* Not one of the customer's invoices: a copy the parts can keep. */
    out[*n] = own != out[*n] ? own : dn_arena_strdup(a.keep, own);
    if (!out[*n]) {
      *n = 0; /* out of memory: no list, none to read */
      return NULL;
    }
    buf = w;
    (*n)++;
    if (*q) q++;
  }
  return *n ? out : NULL;
}

/* The list of a row's invoices (in tmp) as its parts keep it: none for a
 * single part of a single invoice (the part names it), else a copy in
 * keep; NULL with *n 0 when out of memory. */
static const char **keep_ids(parse_arenas a, const char **ids, int32_t *n, int32_t nparts) {
  if (*n == 0 || (*n == 1 && nparts == 1)) return NULL;
  const char **kept = dn_arena_alloc(a.keep, sizeof *kept * (size_t)*n);
  if (kept) memcpy(kept, ids, sizeof *kept * (size_t)*n);
  else *n = 0;
  return kept;
}

static uint64_t id_hash(const char *s) {
  uint64_t h = 0xcbf29ce484222325u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3u;
  return h;
}

/* The bit of an invoice id in dn_hist_part.inv_bits. */
static uint64_t inv_bit(const char *id) { return 1ull << (id_hash(id) >> 58); }

static int nstrcmp(const char *a, const char *b) {
  if (a == b) return 0; /* kinds mostly share their pointers */
  return strcmp(a ? a : "", b ? b : "");
}

/* dn_action_kind + 1 of an action kind's name, 0 for any other: parts
 * and lookups compare kinds as small integers, not strings. The engine
 * asks with dn_action_kind_name's own pointers, found without strcmp. */
static uint8_t kind_id(const char *kind) {
  if (!kind) return 0;
  for (int k = 0; k < DN_ACT_COUNT; k++)
    if (kind == dn_action_kind_name((dn_action_kind)k)) return (uint8_t)(k + 1);
  for (int k = 0; k < DN_ACT_COUNT; k++)
    if (!strcmp(kind, dn_action_kind_name((dn_action_kind)k))) return (uint8_t)(k + 1);
  return 0;
}

/* The first 8 bytes of s (NULL as ""), big-endian and zero-padded:
 * compared as integers they order as strcmp orders those bytes, so most
 * comparisons of rule and step names never call strcmp. */
static uint64_t prefix8(const char *s) {
  uint64_t v = 0;
  for (int i = 0; s && i < 8 && s[i]; i++) v |= (uint64_t)(unsigned char)s[i] << (56 - 8 * i);
  return v;
}

/* strcmp(a, b) (NULL as "") given their prefix8: equal prefixes whose
 * last byte is 0 are equal strings; otherwise both go on past 8 bytes. */
static int cmp8(uint64_t a8, const char *a, uint64_t b8, const char *b) {
  if (a8 != b8) return a8 < b8 ? -1 : 1;
  if ((a8 & 0xff) == 0 || a == b) return 0;
  return strcmp(a + 8, b + 8);
}

/* A lookup's (rule, step; NULL step: any). */
typedef struct hkey {
  const char *rule, *step;
  uint64_t rule8, step8;
} hkey;

static hkey key_of(const char *rule, const char *step) {
  return (hkey){rule, step, prefix8(rule), prefix8(step)};
}

static int key_cmp(const dn_hist *h, const dn_hist_part *hp, const hkey *k) {
  const dn_hist_name *n = dn_hist_part_name(h, hp);
  int c = cmp8(n->rule8, n->rule, k->rule8, k->rule);
  return c || !k->step ? c : cmp8(n->step8, n->step, k->step8, k->step);
}

/* Two names as strcmp orders (rule, step), NULL as "". */
static int name_cmp(const dn_hist_name *a, const dn_hist_name *b) {
  int c = cmp8(a->rule8, a->rule, b->rule8, b->rule);
  return c ? c : cmp8(a->step8, a->step, b->step8, b->step);
}

/* Parts sorted by (rule, step), so a lookup is a binary search however
 * long the customer's history grows. */
static int part_cmp(const dn_hist_names *t, const dn_hist_part *a, const dn_hist_part *b) {
  int c = a->name == b->name ? 0 : name_cmp(&t->items[a->name], &t->items[b->name]);
  return c ? c : a->row < b->row ? -1 : a->row > b->row;
}
DN_DEFINE_SORT_CTX(sort_parts, dn_hist_part, const dn_hist_names *, part_cmp)

/* ---- names ----------------------------------------------------------------------- */

enum { OWN_NAMES_MAX = 4096 };

static bool same_text(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

static uint64_t name_hash(const char *rule, const char *step) {
  uint64_t r = rule ? id_hash(rule) : 1, s = step ? id_hash(step) : 2;
  return (r * 0x9e3779b97f4a7c15u) ^ s;
}

static bool names_grow(dn_hist_names *t) {
  size_t cap = t->nslots ? t->nslots * 2 : 64;
  int32_t *slots = calloc(cap, sizeof *slots);
  if (!slots) return false;
  for (int32_t k = 0; k < t->n; k++) {
    size_t i = name_hash(t->items[k].rule, t->items[k].step) & (cap - 1);
    while (slots[i]) i = (i + 1) & (cap - 1);
    slots[i] = k + 1;
  }
  free(t->slots);
  t->slots = slots;
  t->nslots = cap;
  return true;
}

static const char *keep_text(dn_arena *a, const char *s, bool *ok) {
  const char *copy = s ? dn_arena_strdup(a, s) : NULL;
  if (s && !copy) *ok = false;
  return copy;
}

/* What a part can hold (dn_hist_part: a 24-bit name index, a 24-bit
 * signed invoice count); tests build with lower ones to reach them. */
#ifndef DN_HIST_NAMES_MAX
#define DN_HIST_NAMES_MAX (1 << 24)
#endif
#ifndef DN_HIST_INVOICES_MAX
#define DN_HIST_INVOICES_MAX (1 << 23)
#endif

/* The index of (rule, step) in t, added when new; -1 when out of memory,
 * -2 past the DN_HIST_NAMES_MAX names a part can hold. */
static int32_t name_index(dn_hist_names *t, const char *rule, const char *step) {
  if ((size_t)(t->n + 1) * 2 > t->nslots && !names_grow(t)) return -1;
  size_t i = name_hash(rule, step) & (t->nslots - 1);
  for (; t->slots[i]; i = (i + 1) & (t->nslots - 1)) {
    const dn_hist_name *e = &t->items[t->slots[i] - 1];
    if (same_text(e->rule, rule) && same_text(e->step, step)) return t->slots[i] - 1;
  }
  if (t->n >= DN_HIST_NAMES_MAX) return -2;
  if (!vec_grow((void **)&t->items, &t->cap, t->n + 1, sizeof *t->items)) return -1;
  bool ok = true;
  dn_hist_name *e = &t->items[t->n];
  e->rule = keep_text(&t->arena, rule, &ok);
  e->step = keep_text(&t->arena, step, &ok);
  if (!ok) return -1;
  e->rule8 = prefix8(e->rule);
  e->step8 = prefix8(e->step);
  t->slots[i] = ++t->n;
  return t->n - 1;
}

/* Forgets every name, keeping the memory. */
static void names_reset(dn_hist_names *t) {
  if (t->slots) memset(t->slots, 0, sizeof *t->slots * t->nslots);
  t->n = 0;
  dn_arena_reset(&t->arena);
}

static void names_free(dn_hist_names *t) {
  free(t->items);
  free(t->slots);
  dn_arena_free(&t->arena);
  memset(t, 0, sizeof *t);
}

typedef VEC(dn_hist_part) part_vec;
typedef VEC(uint8_t) flag_vec;

/* Appends the parts of rows[from, to) to *out and their classes to
 * *flags, split strings and invoice lists in arena a, their names in
 * h->names. False when out of memory, or (h->too_large says why) a row
 * holds more than a part can. */
static bool parse_rows(dn_hist *h, const dn_customer_facts *c, int32_t from, int32_t to,
                       parse_arenas a, part_vec *out, flag_vec *flags) {
  dn_hist_names *t = h->names;
  const dn_history_fact *rows = c->history;
  if (!vec_grow((void **)&flags->items, &flags->cap, to, sizeof *flags->items)) return false;
  for (int32_t ri = from; ri < to; ri++) {
    const dn_history_fact *r = &rows[ri];
    uint8_t f = flags->items[ri] =
        c->history_flags ? c->history_flags[ri] : dn_history_classify(r->kind, r->status);
    uint8_t kid = kind_id(r->kind);
    int32_t nr, ns, ni;
    const char **rules = split_list(a, r->rule, &nr);
    const char **steps = split_list(a, r->step, &ns);
    const char **ids = parse_ids(a, c, r->invoice_ids, &ni);
    int32_t n = nr > ns ? nr : ns;
    if (n == 0) n = 1;
    uint64_t all_bits = 0;
    for (int32_t k = 0; k < ni; k++) all_bits |= inv_bit(ids[k]);
    /* Most rows are one part of one invoice: it names the invoice, and
     * no list is kept (a year's replay keeps millions of rows). */
    if (ni >= DN_HIST_INVOICES_MAX) {
      snprintf(h->too_large, sizeof h->too_large,
               "a record of its action history lists %d invoices, more than %d", ni,
               DN_HIST_INVOICES_MAX - 1);
      return false;
    }
    const char *only = ni == 1 && n == 1 ? ids[0] : NULL;
    const char **invs = keep_ids(a, ids, &ni, n);
    for (int32_t j = 0; j < n; j++) {
      if (!vec_grow_slow((void **)&out->items, &out->cap, out->n + 1, sizeof *out->items)) return false;
      dn_hist_part *hp = memset(&out->items[out->n++], 0, sizeof *out->items);
      hp->row = ri;
      hp->as_of = r->as_of;
      hp->flags = f;
      hp->kind_id = kid;
      const char *rule = nr == 0 ? NULL : rules[nr == 1 ? 0 : (j < nr ? j : nr - 1)];
      const char *step = ns == 0 ? NULL : steps[ns == 1 ? 0 : (j < ns ? j : ns - 1)];
      /* Parts align with the invoice list (see align_parts); one past the
       * list names its invoice after '@' (join_steps_tagged); a single
       * part applies to any invoice listed. */
      const char *one = only ? only : n > 1 && j < ni ? invs[j] : NULL;
      char *at = ns > 1 && j < ns && j >= ni && step ? strchr(step, '@') : NULL;
      if (at) {
        one = at + 1;
        *at = '\0';
        if (!*step) step = NULL;
      }
      int32_t name = name_index(t, rule, step);
      if (name == -2)
        snprintf(h->too_large, sizeof h->too_large,
                 "its action history names more than %d distinct (rule, step) pairs in one %s",
                 DN_HIST_NAMES_MAX, t == &h->own_names ? "reading" : "replay");
      if (name < 0) return false;
      hp->name = (unsigned)name;
      if (one) {
        hp->u.inv = one;
        hp->ninvs = -1;
      } else {
        hp->u.invs = invs;
        hp->ninvs = ni;
      }
      hp->inv_bits = one ? inv_bit(one) : all_bits;
    }
  }
  flags->n = to;
  return true;
}

/* Merges the sorted runs v[0..h) and v[h..n) (part_cmp; parts of one row
 * are all in one run, so the result is the stable sort of the whole).
 * From the back, with the new run (a day's few rows) set aside: only the
 * parts that sort after a new one move. */
static bool merge_parts(dn_arena *scratch, const dn_hist_names *t, dn_hist_part *v, int32_t h,
                        int32_t n) {
  if (h == 0 || h == n || part_cmp(t, &v[h - 1], &v[h]) <= 0) return true;
  int32_t m = n - h;
  dn_hist_part *tmp = dn_arena_alloc(scratch, sizeof *v * (size_t)m);
  if (!tmp) return false;
  memcpy(tmp, v + h, sizeof *v * (size_t)m);
  int32_t i = h - 1, j = m - 1, k = n - 1;
  while (j >= 0) v[k--] = i >= 0 && part_cmp(t, &v[i], &tmp[j]) > 0 ? v[i--] : tmp[j--];
  return true;
}

/* ---- the memo ------------------------------------------------------------------ */

static memo_entry **memo_slot(memo_entry **slots, size_t cap, const char *id) {
  size_t i = (size_t)id_hash(id) & (cap - 1);
  while (slots[i] && strcmp(slots[i]->id, id) != 0) i = (i + 1) & (cap - 1);
  return &slots[i];
}

static bool memo_grow(dn_history_memo *m) {
  size_t cap = m->cap ? m->cap * 2 : 1024;
  memo_entry **slots = calloc(cap, sizeof *slots);
  if (!slots) return false;
  for (size_t i = 0; i < m->cap; i++)
    if (m->slots[i]) *memo_slot(slots, cap, m->slots[i]->id) = m->slots[i];
  free(m->slots);
  m->slots = slots;
  m->cap = cap;
  return true;
}

static memo_entry *new_entry(const char *id) {
  memo_entry *e = calloc(1, sizeof *e);
  if (!e || !(e->id = strdup(id))) {
    free(e);
    return NULL;
  }
  dn_arena_init_small(&e->arena);
  return e;
}

static memo_entry *memo_entry_of(dn_history_memo *m, const char *id);

/* The entry of the customer at store slot `slot` (1-based). */
static memo_entry *memo_entry_at(dn_history_memo *m, int32_t slot, const char *id) {
  size_t i = (size_t)slot - 1;
  if (i >= m->nstore) {
    size_t n = m->nstore ? m->nstore : 1024;
    while (n <= i) n *= 2;
    memo_entry **v = realloc(m->by_store, sizeof *v * n);
    if (!v) return NULL;
    memset(v + m->nstore, 0, sizeof *v * (n - m->nstore));
    m->by_store = v;
    m->nstore = n;
  }
  memo_entry *e = m->by_store[i];
  if (!e) e = m->by_store[i] = new_entry(id);
  /* Another store's customer at that slot (one memo, two stores): by id. */
  if (e && e->seen_id != id && strcmp(e->id, id) != 0) return memo_entry_of(m, id);
  if (e) e->seen_id = id;
  return e;
}

/* The customer's entry, made empty on first sight; NULL when out of memory. */
static memo_entry *memo_entry_of(dn_history_memo *m, const char *id) {
  if (m->cap) {
    memo_entry *e = *memo_slot(m->slots, m->cap, id);
    if (e) return e;
  }
  if ((m->n + 1) * 2 > m->cap && !memo_grow(m)) return NULL;
  memo_entry *e = new_entry(id);
  if (!e) return NULL;
  *memo_slot(m->slots, m->cap, id) = e;
  m->n++;
  return e;
}

dn_history_memo *dn_history_memo_new(void) { return calloc(1, sizeof(dn_history_memo)); }

static void free_entry(memo_entry *e) {
  if (!e) return;
  free(e->id);
  free(e->parts.items);
  free(e->flags.items);
  dn_arena_free(&e->arena);
  free(e);
}

void dn_history_memo_free(dn_history_memo *m) {
  if (!m) return;
  for (size_t i = 0; i < m->cap; i++) free_entry(m->slots[i]);
  for (size_t i = 0; i < m->nstore; i++) free_entry(m->by_store[i]);
  free(m->slots);
  free(m->by_store);
  names_free(&m->names);
  free(m);
}

/* Parses only the rows added since the customer's last load and merges
 * their parts into its sorted ones; a history that is not the one seen
 * before (fewer rows, another last key) is parsed again from scratch. */
static bool load_memo(dn_hist *h, const dn_customer_facts *c, dn_history_memo *m,
                      dn_arena *scratch) {
  memo_entry *e = c->store_slot > 0 ? memo_entry_at(m, c->store_slot, c->id) : memo_entry_of(m, c->id);
  if (!e) return false;
  if (e->nrows > c->nhistory || (e->nrows > 0 && c->history[e->nrows - 1].key != e->last_key)) {
    e->parts.n = 0;
    e->nrows = 0;
    dn_arena_reset(&e->arena);
  }
  int32_t old = e->parts.n;
  part_vec *parts = (part_vec *)&e->parts;
  flag_vec *flags = (flag_vec *)&e->flags;
  h->names = &m->names;
  if (!parse_rows(h, c, e->nrows, c->nhistory, (parse_arenas){&e->arena, scratch}, parts, flags)) {
    parts->n = old; /* the entry stays the history of its e->nrows rows */
    return false;
  }
  int32_t added = parts->n - old;
  if ((added > 1 && !sort_parts(scratch, h->names, parts->items + old, added)) ||
      !merge_parts(scratch, h->names, parts->items, old, parts->n))
    return false;
  if (e->parts.n != old || old == 0) e->gc.n = e->gc.next = 0; /* groups moved */
  h->gc = &e->gc;
  e->nrows = c->nhistory;
  e->last_key = c->nhistory > 0 ? c->history[c->nhistory - 1].key : NULL;
  h->parts = e->parts.items;
  h->nparts = e->parts.n;
  h->flags = e->flags.items;
  return true;
}

/* Two steps, as the reader's own prefetch: the entry of the customer
 * after next (by_store is read in slot order, mostly cached), then the
 * parts of the next one, whose entry the step before brought in. */
void dn_hist_prefetch(const dn_history_memo *m, int32_t next, int32_t after) {
  if (!m) return;
  if (after > 0 && (size_t)after <= m->nstore && m->by_store[after - 1])
    __builtin_prefetch(m->by_store[after - 1], 0, 1);
  if (next <= 0 || (size_t)next > m->nstore || !m->by_store[next - 1]) return;
  const memo_entry *e = m->by_store[next - 1];
  if (e->parts.n > 0) __builtin_prefetch(&e->parts.items[e->parts.n / 2], 0, 1);
  if (e->flags.n > 0) __builtin_prefetch(&e->flags.items[e->flags.n - 1], 0, 1);
}

bool dn_hist_load(dn_hist *h, const dn_customer_facts *c, dn_history_memo *memo,
                  dn_arena *scratch) {
  h->rows = c->history;
  h->nrows = c->nhistory;
  h->too_large[0] = '\0';
  if (memo) return load_memo(h, c, memo, scratch);
  h->own.n = 0;
  h->own_gc.n = h->own_gc.next = 0;
  h->gc = &h->own_gc;
  part_vec *parts = (part_vec *)&h->own;
  flag_vec *flags = (flag_vec *)&h->own_flags;
  /* Without a memo every load parses every row again, so no part outlives
   * it: a session that decides customer after customer (serve) starts the
   * table afresh before it grows past a policy's names with whatever
   * texts ledgers hold. */
  if (h->own_names.n > OWN_NAMES_MAX) names_reset(&h->own_names);
  h->names = &h->own_names;
  if (!parse_rows(h, c, 0, c->nhistory, (parse_arenas){scratch, scratch}, parts, flags) ||
      (h->own.n > 1 && !sort_parts(scratch, h->names, h->own.items, h->own.n)))
    return false;
  h->parts = h->own.items;
  h->nparts = h->own.n;
  h->flags = h->own_flags.items;
  return true;
}

void dn_hist_free(dn_hist *h) {
  free(h->own.items);
  free(h->own_flags.items);
  names_free(&h->own_names);
}

/* ---- lookups ------------------------------------------------------------------- */

static bool part_has_invoice(const dn_hist_part *hp, const char *inv, uint64_t bit) {
  if (!(hp->inv_bits & bit)) return false;
  if (hp->ninvs < 0) return hp->u.inv == inv || strcmp(hp->u.inv, inv) == 0;
  for (int32_t i = 0; i < hp->ninvs; i++)
    if (hp->u.invs[i] == inv || strcmp(hp->u.invs[i], inv) == 0) return true;
  return false;
}

bool dn_hist_same_key(const dn_hist *h, const dn_hist_part *a, const dn_hist_part *b) {
  return a->name == b->name || name_cmp(dn_hist_part_name(h, a), dn_hist_part_name(h, b)) == 0;
}

/* The first part whose key sorts after (upper) or not before (lower) the
 * query's. */
static int32_t bound(const dn_hist *h, const hkey *k, bool upper) {
  int32_t lo = 0, hi = h->nparts;
  while (lo < hi) {
    int32_t mid = lo + (hi - lo) / 2;
    int c = key_cmp(h, &h->parts[mid], k);
    if (c < 0 || (upper && c == 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

void dn_hist_rule_prefix(const dn_hist *h, const char *prefix, int32_t *lo, int32_t *hi) {
  /* Names that start with prefix sort from prefix itself up to, not
   * including, prefix with its last byte raised by one. */
  char past[16];
  size_t n = strlen(prefix);
  if (n == 0 || n >= sizeof past) {
    *lo = 0;
    *hi = h->nparts;
    return;
  }
  memcpy(past, prefix, n + 1);
  past[n - 1]++;
  hkey from = key_of(prefix, NULL), to = key_of(past, NULL);
  *lo = bound(h, &from, false);
  *hi = bound(h, &to, false);
}

/* Whether [lo, hi) is exactly the group of k in the sorted parts. The
 * groups kept from one day to the next are found by the query's
 * pointers, and a run's step labels are made anew each day (an address
 * may then hold another label): a range is used only once it holds. */
static bool range_holds(const dn_hist *h, const hkey *k, int32_t lo, int32_t hi) {
  if (lo < 0 || hi < lo || hi > h->nparts) return false;
  if (lo > 0 && key_cmp(h, &h->parts[lo - 1], k) >= 0) return false;
  if (hi < h->nparts && key_cmp(h, &h->parts[hi], k) <= 0) return false;
  return lo == hi || (key_cmp(h, &h->parts[lo], k) == 0 && key_cmp(h, &h->parts[hi - 1], k) == 0);
}

/* The parts [*lo, *hi) of (rule, step; NULL: any step). */
static void group(dn_hist *h, const char *rule, const char *step, int32_t *lo, int32_t *hi) {
  dn_hist_groups *gc = h->gc;
  hkey k = key_of(rule, step);
  for (int g = 0; g < gc->n; g++)
    if (gc->g[g].rule == rule && gc->g[g].step == step &&
        range_holds(h, &k, gc->g[g].lo, gc->g[g].hi)) {
      *lo = gc->g[g].lo;
      *hi = gc->g[g].hi;
      return;
    }
  *lo = bound(h, &k, false);
  *hi = *lo < h->nparts && key_cmp(h, &h->parts[*lo], &k) == 0 ? bound(h, &k, true) : *lo;
  int g = gc->n < 8 ? gc->n++ : gc->next++ % 8;
  gc->g[g].rule = rule;
  gc->g[g].step = step;
  gc->g[g].lo = *lo;
  gc->g[g].hi = *hi;
}

int32_t dn_hist_find(dn_hist *h, const char *rule, const char *step, const char *inv) {
  int32_t best = -1, lo, hi;
  if (h->nparts == 0) return -1; /* a customer never contacted: nothing to search */
  group(h, rule, step, &lo, &hi);
  uint64_t bit = inv ? inv_bit(inv) : 0;
  /* One step's group has its parts in row order, hence its dated rows in
   * date order (facts.h), and DN_DATE_NONE is below every date: walking
   * back, the first dated match is the latest; failing one, the last
   * undated match. A step once emitted is mostly found near the group's
   * end. Any step's (step NULL) is sorted by step first: walked whole. */
  dn_date best_as_of = DN_DATE_NONE;
  for (int32_t i = hi - 1; i >= lo; i--) {
    const dn_hist_part *hp = &h->parts[i];
    if (!(hp->flags & DN_HIST_COUNTS)) continue;
    if (inv && !part_has_invoice(hp, inv, bit)) continue;
    if (step && hp->as_of != DN_DATE_NONE) return hp->row;
    if (best < 0 || hp->as_of > best_as_of) {
      best = hp->row;
      best_as_of = hp->as_of;
    }
  }
  return best;
}

/* Whether part hp is of this kind and, as `deferred` asks, deferred or
 * counting. */
static bool kind_matches(const dn_hist *h, const dn_hist_part *hp, const char *kind, uint8_t kid,
                         bool deferred) {
  if (!(hp->flags & (deferred ? DN_HIST_DEFERRED : DN_HIST_COUNTS))) return false;
  if (kid || hp->kind_id) return kid == hp->kind_id;
  return nstrcmp(h->rows[hp->row].kind, kind) == 0; /* two kinds no action has */
}

/* The latest as_of among the parts of (rule, step; NULL: any step) of
 * this kind, deferred or counting as `deferred` asks, that name inv (NULL:
 * any); *found says whether there is one, and with `any` the walk stops
 * at the first. */
static dn_date kind_walk(dn_hist *h, const char *rule, const char *step, const char *inv,
                         const char *kind, bool deferred, bool any, bool *found) {
  dn_date last = DN_DATE_NONE;
  int32_t lo, hi;
  *found = false;
  if (h->nparts == 0) return last;
  group(h, rule, step, &lo, &hi);
  uint64_t bit = inv ? inv_bit(inv) : 0;
  uint8_t kid = kind_id(kind);
  for (int32_t i = lo; i < hi; i++) {
    const dn_hist_part *hp = &h->parts[i];
    if (!kind_matches(h, hp, kind, kid, deferred) || (inv && !part_has_invoice(hp, inv, bit)))
      continue;
    *found = true;
    if (any) break;
    if (last == DN_DATE_NONE || hp->as_of > last) last = hp->as_of;
  }
  return last;
}

bool dn_hist_has_kind(dn_hist *h, const char *rule, const char *step, const char *inv,
                      const char *kind, bool deferred) {
  bool found;
  kind_walk(h, rule, step, inv, kind, deferred, true, &found);
  return found;
}

bool dn_hist_owed(dn_hist *h, const char *rule, const char *step, const char *inv,
                  const char *kind) {
  int32_t lo, hi;
  if (h->nparts == 0) return false;
  group(h, rule, step, &lo, &hi);
  uint64_t bit = inv ? inv_bit(inv) : 0;
  uint8_t kid = kind_id(kind);
  bool deferred = false;
  for (int32_t i = lo; i < hi; i++) {
    const dn_hist_part *hp = &h->parts[i];
    bool d = kind_matches(h, hp, kind, kid, true), c = !d && kind_matches(h, hp, kind, kid, false);
    if ((!d && !c) || (inv && !part_has_invoice(hp, inv, bit))) continue;
    if (c) return false; /* it went out (or counts): nothing owed */
    deferred = true;
  }
  return deferred;
}

dn_date dn_hist_last_kind(dn_hist *h, const char *rule, const char *inv, const char *kind,
                          bool deferred) {
  bool found;
  return kind_walk(h, rule, NULL, inv, kind, deferred, false, &found);
}

/* Rows with a date are in date order (facts.h), so the walk goes back
 * from the newest and stops at the first dated row older than every
 * window; undated rows count in none. */
void dn_hist_count_contacts(const dn_hist *h, dn_date as_of, const dn_cap_def *caps, uint32_t n,
                            int32_t *counts) {
  int32_t widest = 0;
  for (uint32_t k = 0; k < n; k++)
    if (caps[k].days > widest) widest = caps[k].days;
  for (int32_t i = h->nrows - 1; i >= 0; i--) {
    dn_date d = h->rows[i].as_of;
    if (d == DN_DATE_NONE) continue;
    if (d <= as_of - widest) break;
    if ((h->flags[i] & (DN_HIST_CONTACT | DN_HIST_WENT_OUT)) != (DN_HIST_CONTACT | DN_HIST_WENT_OUT))
      continue;
    for (uint32_t k = 0; k < n; k++)
      if (d > as_of - caps[k].days && d <= as_of) counts[k]++;
  }
}

/* Counted rows leave the window on their day + cap->days: the count falls
 * below cap->count when the cap->count-th newest of them leaves (older
 * ones leave first, and the count is at least cap->count... or already
 * below, when the answer is the day after). */
dn_date dn_hist_cap_frees(const dn_hist *h, dn_date as_of, const dn_cap_def *cap,
                          int32_t admitted) {
  /* The admitted ones are the newest: in the window until as_of + days
   * (none is, in a window of no days). */
  int32_t seen = cap->days > 0 ? admitted : 0;
  if (seen > 0 && seen >= cap->count && cap->count > 0) return as_of + cap->days;
  for (int32_t i = h->nrows - 1; i >= 0; i--) {
    dn_date d = h->rows[i].as_of;
    if (d == DN_DATE_NONE) continue;
    if (d <= as_of - cap->days) break;
    if ((h->flags[i] & (DN_HIST_CONTACT | DN_HIST_WENT_OUT)) != (DN_HIST_CONTACT | DN_HIST_WENT_OUT) ||
        d > as_of)
      continue;
    if (++seen == cap->count) return d + cap->days;
  }
  return as_of + 1;
}
