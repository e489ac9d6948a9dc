/* facts.c - the streaming ledger reader: ledger -> dn_customer_facts as of D.
 *
 * Owns the SQL that reads customers, invoices, payments, credits,
 * disputes, promises and the action history, and the meaning of every
 * fact of LANGUAGE.md s.4 (balances, settlement, disputes, promises,
 * events dated D, aggregates). Every statement is ordered by customer id
 * and the reader walks them side by side like a merge join: one pass over
 * the ledger, memory bounded by the largest customer. Strings live in the
 * customer's arena (reset per customer); arrays are reader-owned vectors
 * reused from customer to customer. The same decoding also runs over the
 * rows of a dn_facts_store (a ledger read once into memory, for simulate,
 * which reads the same customers day after day): every column access goes
 * through cv_*, which reads the statement or the store's row.
 *
 * Choices where the spec is silent (docs: README of the runtime):
 * - on_time_ratio is 1.0 and avg_days_late 0 for a customer with no
 *   invoice settled by D (no evidence of lateness is not lateness);
 * - a missing credit limit is missing (not a limit of zero: comparisons
 *   with it are false); a missing risk score is 0;
 * - a payment in another currency than its invoice is converted at D's
 *   rate; a promise is in its invoice's currency, else the customer's;
 * - history rows are those of this policy with as_of < D, so re-running
 *   a date reproduces its actions. */
#include "runtime/facts_reader.h"
#include "runtime/fx.h"
#include "runtime/vec.h"

#include <stdlib.h>
#include <string.h>

enum { S_CUST, S_INV, S_PAY, S_CRED, S_DISP, S_PROM, S_HIST, S_COUNT };

/* Every stream's column 0 is the customer id it belongs to. */
static const char *const stream_sql[S_COUNT] = {
    "SELECT id, name, tier, country, timezone, language, credit_limit_minor, currency,"
    " risk_score, attrs FROM customers WHERE (?2 IS NULL OR id = ?2) ORDER BY id",
    "SELECT customer_id, id, number, issue_date, due_date, currency, amount_minor"
    " FROM invoices WHERE issue_date <= ?1 AND (?2 IS NULL OR customer_id = ?2)"
    " ORDER BY customer_id, id",
    "SELECT customer_id, id, invoice_id, date, amount_minor, currency, status"
    " FROM payments WHERE date <= ?1 AND (?2 IS NULL OR customer_id = ?2)"
    " ORDER BY customer_id, date, id",
    "SELECT i.customer_id, c.invoice_id, c.date, c.amount_minor FROM credits c"
    " JOIN invoices i ON i.id = c.invoice_id WHERE c.date <= ?1"
    " AND (?2 IS NULL OR i.customer_id = ?2) ORDER BY i.customer_id, c.date, c.id",
    "SELECT i.customer_id, d.id, d.invoice_id, d.opened_on, d.resolved_on FROM disputes d"
    " JOIN invoices i ON i.id = d.invoice_id WHERE d.opened_on <= ?1"
    " AND (?2 IS NULL OR i.customer_id = ?2) ORDER BY i.customer_id, d.id",
    "SELECT customer_id, id, invoice_id, made_on, promised_date, amount_minor"
    " FROM promises WHERE made_on <= ?1 AND (?2 IS NULL OR customer_id = ?2)"
    " ORDER BY customer_id, id",
    "SELECT customer_id, key, rule, step, kind, tone, status, invoice_ids, as_of"
    " FROM actions WHERE as_of < ?1 AND policy = ?3 AND (?2 IS NULL OR customer_id = ?2)"
    " ORDER BY customer_id, as_of, key",
};

/* The same statements for one customer at a time (dn_facts_reader_open_set):
 * `= ?2` rather than `(?2 IS NULL OR ... = ?2)`, which SQLite cannot
 * answer through the customer indexes. */
static const char *const keyed_sql[S_COUNT] = {
    "SELECT id, name, tier, country, timezone, language, credit_limit_minor, currency,"
    " risk_score, attrs FROM customers WHERE id = ?2",
    "SELECT customer_id, id, number, issue_date, due_date, currency, amount_minor"
    " FROM invoices WHERE customer_id = ?2 AND issue_date <= ?1 ORDER BY customer_id, id",
    "SELECT customer_id, id, invoice_id, date, amount_minor, currency, status"
    " FROM payments WHERE customer_id = ?2 AND date <= ?1 ORDER BY customer_id, date, id",
    "SELECT i.customer_id, c.invoice_id, c.date, c.amount_minor FROM invoices i"
    " JOIN credits c ON c.invoice_id = i.id WHERE i.customer_id = ?2 AND c.date <= ?1"
    " ORDER BY i.customer_id, c.date, c.id",
    "SELECT i.customer_id, d.id, d.invoice_id, d.opened_on, d.resolved_on FROM invoices i"
    " JOIN disputes d ON d.invoice_id = i.id WHERE i.customer_id = ?2 AND d.opened_on <= ?1"
    " ORDER BY i.customer_id, d.id",
    "SELECT customer_id, id, invoice_id, made_on, promised_date, amount_minor"
    " FROM promises WHERE customer_id = ?2 AND made_on <= ?1 ORDER BY customer_id, id",
    "SELECT customer_id, key, rule, step, kind, tone, status, invoice_ids, as_of"
    " FROM actions WHERE customer_id = ?2 AND as_of < ?1 AND policy = ?3"
    " ORDER BY customer_id, as_of, key",
};

typedef struct pay_row {
  const char *id, *invoice_id; /* invoice_id NULL: on account */
  int32_t inv;                 /* index into invoices, -1 when not among them */
  dn_date date;
  int64_t amount;
  uint16_t cur;
  bool settled;
} pay_row;

typedef struct cred_row {
  int32_t inv;
  dn_date date;
  int64_t amount;
} cred_row;

struct dn_facts_reader {
  sqlite3 *db;
  const char *ledger_name;
  const dn_program *p;
  dn_date as_of;
  char as_of_text[11];
  sqlite3_stmt *st[S_COUNT];
  bool borrowed; /* st belongs to a dn_facts_cache */
  bool row[S_COUNT];
  bool overflow; /* this customer's amounts do not add up within int64 */
  /* This customer's reading converted a payment into another currency (its
   * invoice's, a promise's) at D's rate: a new rate changes more than the
   * amounts in the policy currency (see "cached facts"). */
  bool fx_cross;
  dn_fx *fx; /* rates as of D, shared rules with kpi (runtime/fx.c) */
  VEC(dn_invoice_facts) inv;
  VEC(dn_date) settled_on;
  VEC(dn_event_fact) ev;
  VEC(dn_history_fact) hist;
  VEC(pay_row) pay;
  VEC(cred_row) cred;
  VEC(int32_t) inv_of_row; /* store reads: inv index of each invoice row of the customer, or -1 */
  /* Currency codes seen and their indexes: a ledger uses a handful, and a
   * table search per invoice and payment row was 4 % of a run. */
  struct { char code[3]; uint16_t index; } curs[4];
  int ncurs;
  const char *const *ids; /* open_set: the customers still to read */
  size_t nids, pos;
  bool scan; /* open_set over the streams, skipping the others */
  /* Rows from a dn_facts_store instead of st: the current customer's
   * index there and, per stream, its rows [mpos, mend). */
  struct dn_facts_store *mem;
  dn_history_fact *mem_hist; /* the current customer's, in the store */
  int32_t mem_nhist;
  const char *only; /* the one customer of an only_customer read */
  int32_t mci;
  uint32_t mpos[S_COUNT], mend[S_COUNT];
  int32_t mci_after; /* the customer after mci, when prefetch found it; else -1 */
  int32_t lent; /* the store customer whose cached invoices inv holds (cache_restore), or -1 */
};

/* ---- the in-memory row store (dn_facts_store) ----------------------------
 * simulate reads the same customers from the same working copy day after
 * day. The store holds every row the streams would return for any date
 * (the statements above without their date condition, in their ORDER BY),
 * grouped by customer, each column kept as the reader reads it (text and
 * length, or sqlite3_column_int64 / _double with the column type). A
 * reader over the store applies the date condition per row with SQLite's
 * comparison of a TEXT column with a text parameter, then runs the very
 * code that decodes statement rows: the facts come out the same. The
 * action history grows during a simulation: the outbox hands every row it
 * inserts to dn_facts_store_add_history. */

static dn_date text_date(const unsigned char *t, int n) {
  dn_date d;
  if (!t || !dn_date_parse((const char *)t, (size_t)n, &d)) return DN_DATE_NONE;
  return d;
}

/* Per stream: how each column is read (T text, I int64, D double; a
 * text the store also keeps as A a date, C a currency code, R the row of
 * the invoice it names; P a text of a few values, a customer's tier,
 * country, time zone or language or a payment's status, kept once in
 * the pool), and the column compared with D (-1:
 * none; `strict` for `<` rather than `<=`). */
static const struct {
  const char *kinds;
  int date_col;
  bool strict;
} stream_shape[S_COUNT] = {
    {"TTPPPPICDT", -1, false}, {"TTTAACI", 3, false}, {"TTRAICP", 3, false}, {"TRAI", 2, false},
    {"TTRAA", 3, false},       {"TTRAAI", 3, false},  {"TTTTTTTTT", 8, true},
};

static const char *const load_sql[S_COUNT] = {
    "SELECT id, name, tier, country, timezone, language, credit_limit_minor, currency,"
    " risk_score, attrs FROM customers ORDER BY id",
    "SELECT customer_id, id, number, issue_date, due_date, currency, amount_minor"
    " FROM invoices ORDER BY customer_id, id",
    "SELECT customer_id, id, invoice_id, date, amount_minor, currency, status"
    " FROM payments ORDER BY customer_id, date, id",
    "SELECT i.customer_id, c.invoice_id, c.date, c.amount_minor FROM credits c"
    " JOIN invoices i ON i.id = c.invoice_id ORDER BY i.customer_id, c.date, c.id",
    "SELECT i.customer_id, d.id, d.invoice_id, d.opened_on, d.resolved_on FROM disputes d"
    " JOIN invoices i ON i.id = d.invoice_id ORDER BY i.customer_id, d.id",
    "SELECT customer_id, id, invoice_id, made_on, promised_date, amount_minor"
    " FROM promises ORDER BY customer_id, id",
    "SELECT customer_id, key, rule, step, kind, tone, status, invoice_ids, as_of"
    " FROM actions WHERE policy = ?3 ORDER BY customer_id, as_of, key",
};

/* A cell is 16 bytes, not 24: a 100k-customer ledger keeps some 15
 * million of them for a whole replay, and every megabyte first touched
 * costs (bench/RESULTS.md, "what a megabyte costs"). */
typedef struct mcell {
  union {
    const char *t;
    int64_t i;
    double d;
  } v;
  uint32_t n_type; /* text bytes << 3 | sqlite3_column_type of the value read */
  /* By the column's kind (stream_shape), found once, not by every read:
   * A the text as a date (DN_DATE_NONE), C as a currency code
   * (DN_CUR_NONE), R the row of the invoice it names among its
   * customer's invoice rows (0-based) or -1. */
  int32_t aux;
} mcell;

/* The longest text a cell holds: its length has 29 bits. */
#define MCELL_MAX_TEXT ((1u << 29) - 1)

static int cell_type(const mcell *c) { return (int)(c->n_type & 7); }
static int32_t cell_n(const mcell *c) { return (int32_t)(c->n_type >> 3); }

/* Strings by content: open addressing over their copies. A store holds
 * millions of action keys, and a probe that read its slot's text was a
 * cache miss; so on 64-bit systems a slot keeps 16 bits of its text's
 * hash above the pointer's 48 (tag_of), a probe reads a text only when
 * they match, and the table fills to three quarters, not half (the 100k
 * year's five million keys in 8 million slots, 64 MB, not 16 million).
 * Should the system hand out an address that uses those bits (a 57-bit
 * address space), the set drops its tags for good (plain) and compares
 * every probe. Each slot's low 32 bits of hash are kept beside it (home):
 * growing the set then moves slots without reading their texts, which in
 * a large set are cache misses (rehashing them was 1.8 % of a 100k
 * month), for 4 bytes a slot. */
typedef struct text_set {
  uintptr_t *slot;
  uint32_t *home;
  size_t n, cap;
  bool plain;
} text_set;

/* A ledger table: rows of ncols cells, customer k's at [first[k], first[k+1]). */
typedef struct mtable {
  int ncols;
  VEC(mcell) cells;
  uint32_t *first;
} mtable;

/* A history row: columns 1..8 of the history stream as the reader hands
 * them out, the as_of text (never NULL: such rows never match `as_of <
 * D`) and the row's class, made once. */
typedef struct mhist {
  dn_history_fact f;
  const char *as_of_text;
  uint8_t flags;
} mhist;

/* A customer's facts as read on `day` (DN_DATE_NONE: none kept), before
 * the sums that depend on the date itself. */
typedef struct cached_facts {
  dn_date day;
  bool never;   /* a visibility date that is text but no date */
  bool foreign; /* a currency not the policy's: fx rates change its facts */
  bool fx_cross; /* the reading's fx_cross: a new rate calls for a new reading */
  bool lent;     /* inv is a reader's (cache_restore): neither restored nor kept */
  dn_customer_facts c;
  dn_invoice_facts *inv;
  int32_t ninv, cap;
} cached_facts;

/* How many of each history column's latest values the store compares
 * before hashing (pooled): a day's records cycle through a policy's few
 * kinds, tones, steps and statuses. */
enum { RECENT_VALUES = 4 };

struct dn_facts_store {
  dn_arena arena;
  const char **ids; /* the customers, in the order of ORDER BY id */
  int32_t ncust, cust_cap;
  int32_t last_added; /* the customer of the last history row added */
  mtable t[S_COUNT]; /* t[S_HIST] stays empty: history rows are in hist */
  /* Per customer, by (as_of text, key): the rows as readers hand them
   * out (never copied: a reader's customer points into f) and their
   * class. A dated row's as_of text is its date's (dn_date_parse takes
   * YYYY-MM-DD only), so texts are kept only once a customer has an
   * undated row: odd_text, NULL for its dated rows (8 bytes a row saved,
   * some 50 MB over the 100k year's five million rows). */
  struct cust_hist {
    dn_history_fact *f;
    const char **odd_text;
    uint8_t *flags;
    int32_t n, cap;
  } *hist;
  /* Rows added while a reader is open, whose customer may hold its rows:
   * placed when the next reader opens with none open (they are dated D,
   * so no reader as of D would see them anyway). */
  struct { int32_t cust; mhist row; } *pending;
  int32_t npending, pending_cap;
  int readers;
  /* Each customer's facts as last read (see "cached facts" below), the
   * days its rows change what they say (customer k's at
   * change_days[change_first[k] .. change_first[k + 1])), the days an fx
   * rate starts; no cache at all when an fx date is no date. */
  struct cached_facts *cache;
  uint32_t *change_first;
  dn_date *change_days;
  dn_date *fx_days;
  int32_t nfx_days;
  bool cache_off;
  /* History values repeat (rule, step, kind, tone, status, day, invoice
   * list): one copy each; per column, the last few added (see pooled),
   * and the date of the last day's text. */
  text_set pool;
  struct last_value {
    const char *copy;
    size_t n;
  } last[8][RECENT_VALUES];
  uint8_t last_next[8];
  const char *last_day_text;
  dn_date last_day;
  /* Every key of the actions table, any policy: the outbox skips a row
   * whose key is there (INSERT OR IGNORE would ignore it). */
  text_set keys;
};

static void mtable_free(mtable *t) {
  free(t->cells.items);
  free(t->first);
}

void dn_facts_store_free(dn_facts_store *s) {
  if (!s) return;
  for (int k = 0; k < S_HIST; k++) mtable_free(&s->t[k]);
  for (int32_t c = 0; s->hist && c < s->ncust; c++) {
    free(s->hist[c].f);
    free(s->hist[c].odd_text);
    free(s->hist[c].flags);
  }
  free(s->hist);
  free(s->pending);
  for (int32_t c = 0; s->cache && c < s->ncust; c++) free(s->cache[c].inv);
  free(s->cache);
  free(s->change_first);
  free(s->change_days);
  free(s->fx_days);
  free(s->ids);
  free(s->pool.slot);
  free(s->pool.home);
  free(s->keys.slot);
  free(s->keys.home);
  dn_arena_free(&s->arena);
  free(s);
}

/* id's index among the customers [lo, hi), or -1. */
static int32_t find_customer(const dn_facts_store *s, const char *id, int32_t lo, int32_t hi) {
  while (lo < hi) {
    int32_t mid = lo + (hi - lo) / 2;
    int c = strcmp(s->ids[mid], id);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

static int32_t store_customer(const dn_facts_store *s, const char *id) {
  return find_customer(s, id, 0, s->ncust);
}

/* The same, searching onwards from index `from` first (doubling the step):
 * a listed read asks for its customers in the ledger's order, mostly a
 * few apart. */
static int32_t store_customer_from(const dn_facts_store *s, const char *id, int32_t from) {
  /* The next listed customer is mostly a few places on, and given by the
   * store's own pointer (dn_facts_store_customer_id): found without
   * touching the strings, which in a large store are cache misses. */
  for (int32_t k = from < 0 ? 0 : from, end = k + 8; k < end && k < s->ncust; k++)
    if (s->ids[k] == id) return k;
  if (from < 0 || from >= s->ncust || strcmp(s->ids[from], id) > 0) return store_customer(s, id);
  int32_t lo = from, span = 1; /* ids[lo] <= id */
  while (lo + span < s->ncust && strcmp(s->ids[lo + span], id) <= 0) {
    lo += span;
    span *= 2;
  }
  return find_customer(s, id, lo, lo + span < s->ncust ? lo + span : s->ncust);
}

/* Eight bytes a step, then mixed so the low bits (the slot) depend on
 * every byte: a replay hashes every record's key and history values
 * (byte-at-a-time FNV-1a was 2 % of a year's instructions). In memory
 * only: nothing stored depends on it. */
static uint64_t text_hash(const char *p, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
  }
  if (n) {
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++) w |= (uint64_t)(unsigned char)p[i] << (8 * i);
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
  }
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 29);
}

/* DN_TEXT_SET_PLAIN (tests/CMakeLists.txt, test_facts_cache_plain):
 * built without tags, as on a 32-bit system, the sets take the plain path
 * from their first text. */
#if UINTPTR_MAX > 0xffffffffu && !defined(DN_TEXT_SET_PLAIN)
#define TAG_SHIFT 48
#define TEXT_BITS (((uintptr_t)1 << TAG_SHIFT) - 1)
static uintptr_t tag_of(const text_set *t, uint64_t h) {
  return t->plain ? 0 : (uintptr_t)(h >> TAG_SHIFT) << TAG_SHIFT;
}
static bool taggable(const char *p) { return ((uintptr_t)p & ~TEXT_BITS) == 0; }
#else
#define TEXT_BITS UINTPTR_MAX
static uintptr_t tag_of(const text_set *t, uint64_t h) { return (void)t, (void)h, 0; }
static bool taggable(const char *p) { return (void)p, false; }
#endif

static const char *slot_text(const text_set *t, uintptr_t v) {
  return (const char *)(t->plain ? v : v & TEXT_BITS);
}

/* Past 2^32 slots the kept hash bits no longer place a slot: beyond
 * any ledger (a set of that size would hold 24 GB of keys). */
static bool set_grow(text_set *t) {
  size_t cap = t->cap ? t->cap * 2 : 1024;
  if ((uint64_t)cap > (uint64_t)UINT32_MAX + 1) return false;
  uintptr_t *slot = calloc(cap, sizeof *slot);
  uint32_t *home = calloc(cap, sizeof *home);
  if (!slot || !home) {
    free(slot);
    free(home);
    return false;
  }
  for (size_t i = 0; i < t->cap; i++) {
    if (!t->slot[i]) continue;
    size_t j = t->home[i] & (cap - 1);
    while (slot[j]) j = (j + 1) & (cap - 1);
    slot[j] = t->slot[i];
    home[j] = t->home[i];
  }
  free(t->slot);
  free(t->home);
  t->slot = slot;
  t->home = home;
  t->cap = cap;
  return true;
}

/* The slot of p[0..n) (NUL-free text, hash h) in t: holding it, or empty. */
static uintptr_t *set_slot(const text_set *t, const char *p, size_t n, uint64_t h) {
  uintptr_t tag = tag_of(t, h);
  size_t j = h & (t->cap - 1);
  for (uintptr_t v; (v = t->slot[j]) != 0; j = (j + 1) & (t->cap - 1)) {
    if (!t->plain && (v & ~TEXT_BITS) != tag) continue;
    const char *q = slot_text(t, v);
    if (!strncmp(q, p, n) && q[n] == '\0') break;
  }
  return &t->slot[j];
}

/* From now on every slot holds a bare pointer. */
static void set_untag(text_set *t) {
  for (size_t i = 0; i < t->cap; i++) t->slot[i] &= TEXT_BITS;
  t->plain = true;
}

/* t's copy of p[0..n), made in the store's arena when new; NULL when out
 * of memory. */
static const char *set_add(dn_facts_store *s, text_set *t, const char *p, size_t n) {
  if ((t->n + 1) * 4 > t->cap * 3 && !set_grow(t)) return NULL;
  uint64_t h = text_hash(p, n);
  uintptr_t *slot = set_slot(t, p, n, h);
  if (*slot) return slot_text(t, *slot);
  char *copy = dn_arena_strndup(&s->arena, p, n);
  if (!copy) return NULL;
  if (!t->plain && !taggable(copy)) set_untag(t);
  *slot = (uintptr_t)copy | tag_of(t, h);
  t->home[slot - t->slot] = (uint32_t)h;
  t->n++;
  return copy;
}

const char *dn_facts_store_customer_id(const dn_facts_store *s, const char *id) {
  int32_t k = store_customer(s, id);
  return k >= 0 ? s->ids[k] : NULL;
}

bool dn_facts_store_has_key(const dn_facts_store *s, const char *key) {
  size_t n = strlen(key);
  return s->keys.cap && *set_slot(&s->keys, key, n, text_hash(key, n)) != 0;
}

/* Every key of the actions table, whatever its policy. */
static int load_keys(dn_facts_store *s, sqlite3 *db) {
  sqlite3_stmt *q;
  int rc = sqlite3_prepare_v2(db, "SELECT key FROM actions", -1, &q, NULL);
  while (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    const char *k = (const char *)sqlite3_column_text(q, 0);
    rc = !k || set_add(s, &s->keys, k, strlen(k)) ? SQLITE_OK : SQLITE_NOMEM;
  }
  sqlite3_finalize(q);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The cell's copy of text t[0..n): the customer's id (own, equal to it)
 * as the store holds it; a date, a currency code or a text of few values
 * from the pool, since a ledger has a few thousand of them for millions
 * of cells (and a reading that compares one, a payment's status, finds
 * it in cache rather than scattered over the arena); else a copy of its
 * own. NULL when out of memory. */
static const char *cell_text(dn_facts_store *s, char kind, const char *t, size_t n,
                             const char *own) {
  if (own && strlen(own) == n && !memcmp(own, t, n)) return own;
  if ((kind == 'A' || kind == 'C' || kind == 'P') && n <= 32 && !memchr(t, '\0', n))
    return set_add(s, &s->pool, t, n);
  return dn_arena_strndup(&s->arena, t, n);
}

/* False when out of memory, or (*too_long) the text is longer than a
 * cell holds. own: the row's customer id, for column 0. */
static bool load_cell(dn_facts_store *s, sqlite3_stmt *q, int i, char kind, mcell *c,
                      const char *own, bool *too_long) {
  uint32_t type = (uint32_t)sqlite3_column_type(q, i);
  c->n_type = type;
  if (kind == 'I') {
    c->v.i = sqlite3_column_int64(q, i);
  } else if (kind == 'D') {
    c->v.d = sqlite3_column_double(q, i);
  } else {
    const unsigned char *t = sqlite3_column_text(q, i);
    int n = sqlite3_column_bytes(q, i);
    if ((uint32_t)n > MCELL_MAX_TEXT) return !(*too_long = true);
    c->n_type = (uint32_t)n << 3 | type;
    c->v.t = t ? cell_text(s, kind, (const char *)t, (size_t)n, own) : NULL;
    if (t && !c->v.t) return false;
    if (kind == 'A') c->aux = text_date(t, n);
    if (kind == 'C') c->aux = t ? dn_currency_lookup((const char *)t, (size_t)n) : DN_CUR_NONE;
  }
  return true;
}

/* Rows of stream k, each to its customer as the merge join would put it:
 * a row whose customer id is not a customer's is passed over. */
static int load_table(dn_facts_store *s, sqlite3 *db, int k, const dn_program *p) {
  sqlite3_stmt *q;
  int rc = sqlite3_prepare_v2(db, load_sql[k], -1, &q, NULL);
  if (rc != SQLITE_OK) return rc;
  if (k == S_HIST) sqlite3_bind_text(q, 3, p->name ? p->name : "", -1, SQLITE_STATIC);
  const char *kinds = stream_shape[k].kinds;
  int ncols = (int)strlen(kinds);
  mtable *t = k < S_HIST ? &s->t[k] : NULL;
  uint32_t *count = calloc((size_t)s->cust_cap + 1, sizeof *count);
  if (!count) rc = SQLITE_NOMEM;
  if (t) {
    t->ncols = ncols;
    t->first = count;
  }
  int32_t cust = 0;
  while (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    rc = SQLITE_OK;
    if (k == S_CUST) {
      if (s->ncust == s->cust_cap) { /* the table grew since counted: cannot be */
        rc = SQLITE_ERROR;
        break;
      }
      const unsigned char *id = sqlite3_column_text(q, 0);
      s->ids[s->ncust] = id ? dn_arena_strdup(&s->arena, (const char *)id) : "";
      if (!s->ids[s->ncust]) rc = SQLITE_NOMEM;
      cust = s->ncust++;
    } else {
      const unsigned char *id = sqlite3_column_text(q, 0);
      const char *cid = id ? (const char *)id : "";
      int c = 1;
      while (cust < s->ncust && (c = strcmp(s->ids[cust], cid)) < 0) cust++;
      if (cust == s->ncust || c != 0) continue;
    }
    if (t) {
      if (!vec_grow((void **)&t->cells.items, &t->cells.cap, t->cells.n + ncols, sizeof(mcell))) {
        rc = SQLITE_NOMEM;
        break;
      }
      mcell *row = &t->cells.items[t->cells.n];
      t->cells.n += ncols;
      memset(row, 0, sizeof *row * (size_t)ncols);
      bool too_long = false;
      for (int i = 0; i < ncols && rc == SQLITE_OK; i++)
        if (!load_cell(s, q, i, kinds[i], &row[i], i == 0 ? s->ids[cust] : NULL, &too_long))
          rc = too_long ? SQLITE_TOOBIG : SQLITE_NOMEM;
      count[cust + 1]++;
    } else if (sqlite3_column_type(q, 8) == SQLITE_TEXT) {
      const char *v[9];
      for (int i = 1; i < 9; i++) v[i] = (const char *)sqlite3_column_text(q, i);
      if (!dn_facts_store_add_history(s, s->ids[cust], v + 1, (size_t)sqlite3_column_bytes(q, 7)))
        rc = SQLITE_NOMEM;
    }
  }
  sqlite3_finalize(q);
  if (rc == SQLITE_DONE) rc = SQLITE_OK;
  if (rc == SQLITE_OK && t)
    for (int32_t c = 0; c < s->ncust; c++) count[c + 1] += count[c];
  if (!t) free(count);
  return rc;
}

/* ---- cached facts ------------------------------------------------------------
 * simulate reads most customers on days when nothing of theirs changed but
 * the date: a contact a cap holds back is proposed again every day. What
 * the rows say as of D changes only on the days a row becomes visible or
 * changes state (an invoice issued, a payment, a credit, a dispute opened
 * or resolved, a promise made or lapsed) and, for a customer with money
 * in another currency, when an fx rate starts: between two such days the
 * facts read before are the facts, but for what D itself changes (days
 * past due, what is overdue, invoices issued that day), which is worked
 * out again, and the history, read every time. Facts read on a day with
 * events are kept like any others: an event is a row dated that day, so
 * that day is a change day and the events are not part of the facts (a
 * restored reading has none, as no row is dated a day without change).
 * Not kept: those of a customer whose reading reported anything (it would
 * not be reported again) or with a visibility date that is text but no
 * date (its row appears on a day only text comparison knows). */

typedef VEC(dn_date) date_vec;

static bool add_day(date_vec *v, dn_date d) {
  if (!vec_grow((void **)&v->items, &v->cap, v->n + 1, sizeof *v->items)) return false;
  v->items[v->n++] = d;
  return true;
}

static int date_cmp(const void *a, const void *b) {
  dn_date x = *(const dn_date *)a, y = *(const dn_date *)b;
  return (x > y) - (x < y);
}

/* Per stream: the date columns whose day, or the day after the promise
 * grace (`grace`), changes the facts. */
static const struct { int s, col; bool grace; } change_cols[] = {
    {S_INV, 3, false},  {S_PAY, 3, false},  {S_CRED, 2, false}, {S_DISP, 3, false},
    {S_DISP, 4, false}, {S_PROM, 3, false}, {S_PROM, 4, true},
};

/* Whether one of customer k's rows names a currency other than the
 * policy's (an unknown code too): only then can an fx rate change what
 * its rows say. */
static bool customer_foreign(const dn_facts_store *s, int32_t k, uint16_t policy_cur) {
  static const struct { int s, col; } cur_cols[] = {{S_CUST, 7}, {S_INV, 5}, {S_PAY, 5}};
  for (size_t i = 0; i < sizeof cur_cols / sizeof *cur_cols; i++) {
    const mtable *t = &s->t[cur_cols[i].s];
    uint32_t from = cur_cols[i].s == S_CUST ? (uint32_t)k : t->first[k];
    uint32_t to = cur_cols[i].s == S_CUST ? (uint32_t)k + 1 : t->first[k + 1];
    for (uint32_t row = from; row < to; row++) {
      const mcell *c = &t->cells.items[(size_t)row * (size_t)t->ncols + (size_t)cur_cols[i].col];
      if (cell_type(c) != SQLITE_NULL && c->aux != policy_cur) return true;
    }
  }
  return false;
}

/* Customer k's change days appended to v; false when one is text but no
 * date (k is then never cached). */
static bool customer_change_days(const dn_facts_store *s, int32_t k, int32_t grace,
                                 date_vec *v, bool *ok) {
  *ok = true;
  for (size_t i = 0; i < sizeof change_cols / sizeof *change_cols; i++) {
    const mtable *t = &s->t[change_cols[i].s];
    for (uint32_t row = t->first[k]; row < t->first[k + 1]; row++) {
      const mcell *c = &t->cells.items[(size_t)row * (size_t)t->ncols + (size_t)change_cols[i].col];
      if (cell_type(c) == SQLITE_TEXT && c->aux == DN_DATE_NONE) *ok = false;
      if (c->aux == DN_DATE_NONE) continue;
      /* A lapsed promise: inactive, and broken, from the day after the grace. */
      dn_date d = change_cols[i].grace ? c->aux + grace + 1 : c->aux;
      if (!add_day(v, d)) return false;
    }
  }
  return true;
}

static int load_change_days(dn_facts_store *s, sqlite3 *db, const dn_program *p) {
  date_vec v = {0};
  s->cache = calloc((size_t)s->ncust + 1, sizeof *s->cache);
  s->change_first = calloc((size_t)s->ncust + 1, sizeof *s->change_first);
  if (!s->cache || !s->change_first) return SQLITE_NOMEM;
  for (int32_t k = 0; k < s->ncust; k++) {
    int32_t from = v.n;
    bool ok;
    if (!customer_change_days(s, k, p->promise_grace_days, &v, &ok)) {
      free(v.items);
      return SQLITE_NOMEM;
    }
    if (v.n - from > 1) qsort(v.items + from, (size_t)(v.n - from), sizeof *v.items, date_cmp);
    s->change_first[k + 1] = (uint32_t)v.n;
    s->cache[k].day = DN_DATE_NONE;
    s->cache[k].never = !ok;
    s->cache[k].foreign = customer_foreign(s, k, p->currency);
  }
  s->change_days = v.items;
  sqlite3_stmt *q;
  int rc = sqlite3_prepare_v2(db, "SELECT date FROM fx_rates ORDER BY date", -1, &q, NULL);
  date_vec fx = {0};
  while (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    rc = SQLITE_OK;
    dn_date d = text_date(sqlite3_column_text(q, 0), sqlite3_column_bytes(q, 0));
    if (d == DN_DATE_NONE) s->cache_off = true;
    else if (!add_day(&fx, d)) rc = SQLITE_NOMEM;
  }
  sqlite3_finalize(q);
  s->fx_days = fx.items;
  s->nfx_days = fx.n;
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Whether sorted days[0..n) hold one in (after, upto]. */
static bool day_between(const dn_date *days, uint32_t n, dn_date after, dn_date upto) {
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (days[mid] <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo < n && days[lo] <= upto;
}

/* The row of invoice id (n bytes) among customer k's invoice rows, which
 * are in id order (BINARY: bytes, then length), or -1. */
static int32_t invoice_row(const dn_facts_store *s, int32_t k, const char *id, int32_t n) {
  const mtable *t = &s->t[S_INV];
  uint32_t lo = t->first[k], hi = t->first[k + 1], base = lo;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    const mcell *c = &t->cells.items[(size_t)mid * (size_t)t->ncols + 1];
    int32_t cn = cell_n(c);
    int cmp = c->v.t ? memcmp(c->v.t, id, (size_t)(cn < n ? cn : n)) : -1;
    if (!cmp) cmp = (cn > n) - (cn < n);
    if (!cmp && c->v.t) return (int32_t)(mid - base);
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

/* Sets the ref of every invoice id column of payments, credits, disputes
 * and promises. */
static void link_invoices(dn_facts_store *s) {
  static const struct { int s, col; } id_cols[] = {{S_PAY, 2}, {S_CRED, 1}, {S_DISP, 2}, {S_PROM, 2}};
  for (size_t i = 0; i < sizeof id_cols / sizeof *id_cols; i++) {
    mtable *t = &s->t[id_cols[i].s];
    for (int32_t k = 0; k < s->ncust; k++)
      for (uint32_t row = t->first[k]; row < t->first[k + 1]; row++) {
        mcell *c = &t->cells.items[(size_t)row * (size_t)t->ncols + (size_t)id_cols[i].col];
        c->aux = c->v.t ? invoice_row(s, k, c->v.t, cell_n(c)) : -1;
      }
  }
}

static int count_customers(sqlite3 *db, int32_t *n) {
  sqlite3_stmt *q;
  int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM customers", -1, &q, NULL);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(q);
  *n = (int32_t)sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

dn_status dn_facts_store_load(dn_ledger *l, const dn_program *p, dn_facts_store **out,
                              dn_diags *diags) {
  *out = NULL;
  dn_facts_store *s = calloc(1, sizeof *s);
  if (!s) return DN_ERR_INTERNAL;
  dn_arena_init(&s->arena);
  int32_t n = 0;
  int rc = count_customers(l->db, &n);
  if (rc == SQLITE_OK) {
    s->cust_cap = n;
    s->ids = malloc(sizeof *s->ids * ((size_t)n + 1));
    s->hist = calloc((size_t)n + 1, sizeof *s->hist);
    if (!s->ids || !s->hist) rc = SQLITE_NOMEM;
  }
  for (int k = 0; k < S_COUNT && rc == SQLITE_OK; k++) rc = load_table(s, l->db, k, p);
  if (rc == SQLITE_OK) rc = load_keys(s, l->db);
  if (rc == SQLITE_OK) link_invoices(s);
  if (rc == SQLITE_OK) rc = load_change_days(s, l->db, p);
  if (rc != SQLITE_OK) {
    dn_status st = rc == SQLITE_NOMEM ? DN_ERR_INTERNAL : DN_ERR_INPUT;
    dn_diag_add_at(diags, st == DN_ERR_INPUT ? DN_E0502 : DN_E0505, l->path ? l->path : "ledger",
                   0, "reading the ledger into memory: %s",
                   rc == SQLITE_NOMEM  ? "out of memory"
                   : rc == SQLITE_TOOBIG ? "a text of 512 MiB or more in one cell"
                                         : sqlite3_errmsg(l->db));
    dn_facts_store_free(s);
    return st;
  }
  *out = s;
  return DN_OK;
}

/* Customer row j's as_of text (buf holds a dated row's). */
static const char *row_text(const struct cust_hist *ch, int32_t j, char buf[11]) {
  if (ch->f[j].as_of == DN_DATE_NONE) return ch->odd_text[j];
  dn_date_format(ch->f[j].as_of, buf);
  return buf;
}

/* Whether customer row j sorts after h: as_of text, then key (the ORDER
 * BY); dated rows by their dates, which order as their texts. */
static bool hist_after(const struct cust_hist *ch, int32_t j, const mhist *h) {
  dn_date a = ch->f[j].as_of, b = h->f.as_of;
  int c;
  if (a != DN_DATE_NONE && b != DN_DATE_NONE) {
    c = a < b ? -1 : a > b;
  } else {
    char buf[11];
    c = strcmp(row_text(ch, j, buf), h->as_of_text);
  }
  return c ? c > 0 : strcmp(ch->f[j].key, h->f.key) > 0;
}

/* Room for one more row of ch, and for texts when an undated row comes. */
static bool hist_room(struct cust_hist *ch, bool undated) {
  if (ch->n == ch->cap) {
    /* A customer's rows grow a few a day for the whole replay: by a
     * quarter (runtime/vec.h, vec_grow_slow), not double. */
    int32_t cap = ch->cap < 16 ? 16 : ch->cap + ch->cap / 4;
    dn_history_fact *f = realloc(ch->f, sizeof *f * (size_t)cap);
    if (f) ch->f = f;
    uint8_t *fl = realloc(ch->flags, (size_t)cap);
    if (fl) ch->flags = fl;
    const char **t = ch->odd_text ? realloc(ch->odd_text, sizeof *t * (size_t)cap) : NULL;
    if (t) ch->odd_text = t;
    if (!f || !fl || (ch->odd_text && !t)) return false;
    ch->cap = cap;
  }
  if (undated && !ch->odd_text) ch->odd_text = calloc((size_t)ch->cap, sizeof *ch->odd_text);
  return !undated || ch->odd_text;
}

static bool place_row(dn_facts_store *s, int32_t c, const mhist *h) {
  struct cust_hist *ch = &s->hist[c];
  if (!hist_room(ch, h->f.as_of == DN_DATE_NONE)) return false;
  int32_t j = ch->n++;
  for (; j > 0 && hist_after(ch, j - 1, h); j--) {
    ch->f[j] = ch->f[j - 1];
    ch->flags[j] = ch->flags[j - 1];
    if (ch->odd_text) ch->odd_text[j] = ch->odd_text[j - 1];
  }
  ch->f[j] = h->f;
  ch->flags[j] = h->flags;
  if (ch->odd_text) ch->odd_text[j] = h->f.as_of == DN_DATE_NONE ? h->as_of_text : NULL;
  return true;
}

static bool place_pending(dn_facts_store *s) {
  for (int32_t i = 0; i < s->npending; i++)
    if (!place_row(s, s->pending[i].cust, &s->pending[i].row)) return false;
  s->npending = 0;
  return true;
}

/* The pool's copy of column i's value v (n bytes). A day's records
 * repeat a few rules, steps, kinds, tones and statuses and one day, so the
 * column's latest copies are compared first (by content: the callers'
 * buffers are reused); hashing every value was a third of the cost of
 * adding a record (2026-12-07, callgrind). */
static const char *pooled(dn_facts_store *s, int i, const char *v, size_t n) {
  struct last_value *l = s->last[i];
  for (int k = 0; k < RECENT_VALUES; k++)
    if (l[k].copy && l[k].n == n && !memcmp(l[k].copy, v, n)) return l[k].copy;
  const char *t = set_add(s, &s->pool, v, n);
  if (t) l[s->last_next[i]++ % RECENT_VALUES] = (struct last_value){t, n};
  return t;
}

/* The date of a pooled day text: the last one's, mostly (a day's records
 * share it). */
static dn_date pooled_date(dn_facts_store *s, const char *t) {
  if (t != s->last_day_text) {
    s->last_day = text_date((const unsigned char *)t, (int)strlen(t));
    s->last_day_text = t;
  }
  return s->last_day;
}

bool dn_facts_store_add_history(dn_facts_store *s, const char *customer, const char *const v[8],
                                size_t invoice_ids_len) {
  const char *t[8];
  for (int i = 0; i < 8; i++) {
    size_t len = i == 6 ? invoice_ids_len : v[i] ? strlen(v[i]) : 0;
    t[i] = !v[i] ? NULL : i == 0 ? set_add(s, &s->keys, v[i], len) : pooled(s, i, v[i], len);
    if (v[i] && !t[i]) return false;
  }
  /* A day's records come customer by customer, in the store's order,
   * naming it by the store's own id (read_customer_row). */
  int32_t c = customer ? store_customer_from(s, customer, s->last_added) : -1;
  if (c < 0) return true; /* no reader would see the row: only its key counts */
  s->last_added = c;
  mhist h = {.f = {.key = t[0] ? t[0] : "", .rule = t[1], .step = t[2], .kind = t[3],
                   .tone = t[4], .status = t[5], .invoice_ids = t[6]},
             .as_of_text = t[7]};
  h.f.as_of = pooled_date(s, t[7]);
  h.flags = dn_history_classify(h.f.kind, h.f.status);
  if (s->readers == 0) return place_row(s, c, &h);
  if (!vec_grow((void **)&s->pending, &s->pending_cap, s->npending + 1, sizeof *s->pending))
    return false;
  s->pending[s->npending].cust = c;
  s->pending[s->npending++].row = h;
  return true;
}

void dn_customer_facts_init(dn_customer_facts *c) {
  memset(c, 0, sizeof *c);
  dn_arena_init(&c->arena);
}

void dn_customer_facts_free(dn_customer_facts *c) {
  dn_arena_free(&c->arena);
  memset(c, 0, sizeof *c);
}

static dn_status ledger_error(dn_facts_reader *r, dn_diags *diags, const char *what) {
  dn_diag_add_at(diags, DN_E0502, r->ledger_name, 0, "%s: %s", what, sqlite3_errmsg(r->db));
  return DN_ERR_INPUT;
}

static dn_status stream_step(dn_facts_reader *r, int s, dn_diags *diags) {
  int rc = sqlite3_step(r->st[s]);
  if (rc == SQLITE_ROW) {
    r->row[s] = true;
    return DN_OK;
  }
  r->row[s] = false;
  if (rc == SQLITE_DONE) return DN_OK;
  return ledger_error(r, diags, "reading the ledger");
}

/* Statements dn_facts_reader_open_cached lends its readers, prepared once
 * per ledger connection: a decider reads one customer per request from
 * the same scratch ledger, and parsing seven SELECTs was a sixth of it. */
struct dn_facts_cache {
  sqlite3 *db;
  sqlite3_stmt *st[S_COUNT];
  sqlite3_stmt *holidays;
};

dn_facts_cache *dn_facts_cache_new(void) { return calloc(1, sizeof(dn_facts_cache)); }

static void cache_clear(dn_facts_cache *c) {
  for (int s = 0; s < S_COUNT; s++) sqlite3_finalize(c->st[s]);
  sqlite3_finalize(c->holidays);
  memset(c, 0, sizeof *c);
}

void dn_facts_cache_free(dn_facts_cache *c) {
  if (!c) return;
  cache_clear(c);
  free(c);
}

/* The cache for connection db, emptied when it served another one. */
static dn_facts_cache *cache_for(dn_facts_cache *c, sqlite3 *db) {
  if (c && c->db != db) {
    cache_clear(c);
    c->db = db;
  }
  return c;
}

/* A statement for sql: the cache's (prepared on first use) or a new one. */
static int prepare_stmt(sqlite3 *db, sqlite3_stmt **slot, const char *sql, sqlite3_stmt **out) {
  if (!slot) return sqlite3_prepare_v2(db, sql, -1, out, NULL);
  int rc = SQLITE_OK;
  if (!*slot) rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
  if (rc != SQLITE_OK) *slot = NULL;
  *out = *slot;
  return rc;
}

/* Gives a statement back: a borrowed one is reset to the state a fresh
 * prepare would give (no bindings), an owned one finalized. */
static void release_stmt(bool borrowed, sqlite3_stmt *st) {
  if (!borrowed) {
    sqlite3_finalize(st);
  } else if (st) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
}

static dn_status open_mem(dn_ledger *l, const dn_program *p, dn_date as_of,
                          const char *only_customer, const char *const *ids, size_t nids,
                          dn_facts_reader **out, dn_diags *diags);
static dn_status oom(dn_diags *diags);

/* A reader of l as of a date, before its statements or store are set. */
static dn_facts_reader *reader_new(dn_ledger *l, const dn_program *p, dn_date as_of) {
  dn_facts_reader *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->db = l->db;
  r->ledger_name = l->path ? l->path : "ledger";
  r->p = p;
  r->as_of = as_of;
  r->lent = -1;
  dn_date_format(as_of, r->as_of_text);
  return r;
}

/* The reader's invoices and the cached ones trade places: a restore
 * lends the cached array to the reader rather than copying it (the copy
 * was 3.4 % of a 100k-customer month, 2026-12-07, perf). What the reader
 * then writes into it is what D changes (days past due, worked out for
 * every D) and conversions at D's rates (made again from the amounts
 * whenever a rate comes after the kept day): the kept reading stands. */
static void swap_invoices(dn_facts_reader *r, cached_facts *k) {
  dn_invoice_facts *items = r->inv.items;
  int32_t cap = r->inv.cap;
  r->inv.items = k->inv;
  r->inv.cap = k->cap;
  k->inv = items;
  k->cap = cap;
}

/* Returns the invoices cache_restore lent, before the next customer. */
static void give_back(dn_facts_reader *r) {
  if (r->lent < 0) return;
  cached_facts *k = &r->mem->cache[r->lent];
  swap_invoices(r, k);
  k->lent = false;
  r->lent = -1;
}

static dn_status open_streams(dn_ledger *l, dn_facts_cache *cache, const dn_program *p,
                              dn_date as_of, const char *only_customer, dn_facts_reader **out,
                              dn_diags *diags) {
  if (l->store && !cache) return open_mem(l, p, as_of, only_customer, NULL, 0, out, diags);
  *out = NULL;
  dn_facts_reader *r = reader_new(l, p, as_of);
  if (!r) return DN_ERR_INTERNAL;
  r->borrowed = cache != NULL;
  dn_status st = DN_OK;
  for (int s = 0; s < S_COUNT && st == DN_OK; s++) {
    if (prepare_stmt(r->db, cache ? &cache->st[s] : NULL, stream_sql[s], &r->st[s]) != SQLITE_OK) {
      st = ledger_error(r, diags, "preparing the ledger query");
      break;
    }
    sqlite3_bind_text(r->st[s], 1, r->as_of_text, -1, SQLITE_STATIC);
    if (only_customer) sqlite3_bind_text(r->st[s], 2, only_customer, -1, SQLITE_TRANSIENT);
    if (sqlite3_bind_parameter_count(r->st[s]) >= 3)
      sqlite3_bind_text(r->st[s], 3, p->name ? p->name : "", -1, SQLITE_STATIC);
    st = stream_step(r, s, diags);
  }
  if (st == DN_OK) st = dn_fx_open(r->db, r->ledger_name, as_of, &r->fx, diags);
  if (st != DN_OK) {
    dn_facts_reader_close(r);
    return st;
  }
  *out = r;
  return DN_OK;
}

dn_status dn_facts_reader_open(dn_ledger *l, const dn_program *p, dn_date as_of,
                               const char *only_customer, dn_facts_reader **out,
                               dn_diags *diags) {
  return open_streams(l, NULL, p, as_of, only_customer, out, diags);
}

dn_status dn_facts_reader_open_cached(dn_ledger *l, dn_facts_cache *cache, const dn_program *p,
                                      dn_date as_of, const char *only_customer,
                                      dn_facts_reader **out, dn_diags *diags) {
  return open_streams(l, cache_for(cache, l->db), p, as_of, only_customer, out, diags);
}

/* open_set: points every statement at the next listed customer that
 * exists; row[S_CUST] false at the end of the list. */
static dn_status set_advance(dn_facts_reader *r, dn_diags *diags) {
  r->row[S_CUST] = false;
  while (r->pos < r->nids) {
    const char *id = r->ids[r->pos++];
    for (int s = 0; s < S_COUNT; s++) {
      sqlite3_reset(r->st[s]);
      sqlite3_bind_text(r->st[s], 2, id, -1, SQLITE_STATIC);
      dn_status st = stream_step(r, s, diags);
      if (st != DN_OK) return st;
      if (s == S_CUST && !r->row[S_CUST]) break;
    }
    if (r->row[S_CUST]) return DN_OK;
  }
  return DN_OK;
}

static int stream_cmp(dn_facts_reader *r, int s, const char *id);

/* open_set with scan: moves the customers stream onto the next listed
 * id (the other streams follow in stream_seek, skipping as they go). */
static dn_status scan_advance(dn_facts_reader *r, dn_diags *diags) {
  while (r->pos < r->nids) {
    const char *id = r->ids[r->pos];
    while (r->row[S_CUST] && stream_cmp(r, S_CUST, id) < 0) {
      dn_status st = stream_step(r, S_CUST, diags);
      if (st != DN_OK) return st;
    }
    if (!r->row[S_CUST]) return DN_OK;
    r->pos++;
    if (stream_cmp(r, S_CUST, id) == 0) return DN_OK;
  }
  r->row[S_CUST] = false;
  return DN_OK;
}

/* The streaming reader, restricted to the listed customers. */
static dn_status open_scan(dn_ledger *l, const dn_program *p, dn_date as_of,
                           const char *const *ids, size_t nids, dn_facts_reader **out,
                           dn_diags *diags) {
  dn_status st = dn_facts_reader_open(l, p, as_of, NULL, out, diags);
  if (st != DN_OK) return st;
  (*out)->ids = ids;
  (*out)->nids = nids;
  (*out)->scan = true;
  st = scan_advance(*out, diags);
  if (st != DN_OK) {
    dn_facts_reader_close(*out);
    *out = NULL;
  }
  return st;
}

dn_status dn_facts_reader_open_set(dn_ledger *l, const dn_program *p, dn_date as_of,
                                   const char *const *ids, size_t nids, bool scan,
                                   dn_facts_reader **out, dn_diags *diags) {
  if (l->store) return open_mem(l, p, as_of, NULL, ids, nids, out, diags);
  if (scan) return open_scan(l, p, as_of, ids, nids, out, diags);
  *out = NULL;
  dn_facts_reader *r = reader_new(l, p, as_of);
  if (!r) return DN_ERR_INTERNAL;
  r->ids = ids;
  r->nids = nids;
  dn_status st = DN_OK;
  for (int s = 0; s < S_COUNT && st == DN_OK; s++) {
    if (sqlite3_prepare_v2(r->db, keyed_sql[s], -1, &r->st[s], NULL) != SQLITE_OK) {
      st = ledger_error(r, diags, "preparing the ledger query");
      break;
    }
    sqlite3_bind_text(r->st[s], 1, r->as_of_text, -1, SQLITE_STATIC);
    if (sqlite3_bind_parameter_count(r->st[s]) >= 3)
      sqlite3_bind_text(r->st[s], 3, p->name ? p->name : "", -1, SQLITE_STATIC);
  }
  if (st == DN_OK) st = set_advance(r, diags);
  if (st == DN_OK) st = dn_fx_open(r->db, r->ledger_name, as_of, &r->fx, diags);
  if (st != DN_OK) {
    dn_facts_reader_close(r);
    return st;
  }
  *out = r;
  return DN_OK;
}

void dn_facts_reader_close(dn_facts_reader *r) {
  if (!r) return;
  give_back(r);
  if (r->mem) r->mem->readers--;
  for (int s = 0; s < S_COUNT; s++) release_stmt(r->borrowed, r->st[s]);
  dn_fx_close(r->fx);
  free(r->inv.items);
  free(r->settled_on.items);
  free(r->ev.items);
  free(r->hist.items);
  free(r->pay.items);
  free(r->cred.items);
  free(r->inv_of_row.items);
  free(r);
}

/* ---- fx ---------------------------------------------------------------- */

static bool convert_minor(dn_facts_reader *r, int64_t minor, uint16_t from, uint16_t to,
                          int64_t *out) {
  return dn_fx_convert(r->fx, minor, from, to, out);
}

bool dn_facts_convert(dn_facts_reader *r, dn_money in, uint16_t to, dn_money *out) {
  int64_t m;
  if (!convert_minor(r, in.minor, in.cur, to, &m)) return false;
  out->minor = m;
  out->cur = to;
  return true;
}

/* ---- rows: a statement's or the store's ------------------------------------ */

typedef struct rowref {
  const dn_facts_reader *r;
  int s;
} rowref;

static rowref row_of(const dn_facts_reader *r, int s) { return (rowref){r, s}; }

static const mcell *mem_cell(rowref q, int i) {
  const mtable *t = &q.r->mem->t[q.s];
  uint32_t row = q.s == S_CUST ? (uint32_t)q.r->mci : q.r->mpos[q.s];
  return &t->cells.items[(size_t)row * (size_t)t->ncols + (size_t)i];
}

static const unsigned char *cv_text(rowref q, int i) {
  if (!q.r->mem) return sqlite3_column_text(q.r->st[q.s], i);
  return (const unsigned char *)mem_cell(q, i)->v.t;
}

static int cv_bytes(rowref q, int i) {
  if (!q.r->mem) return sqlite3_column_bytes(q.r->st[q.s], i);
  return cell_n(mem_cell(q, i));
}

static int64_t cv_int64(rowref q, int i) {
  return q.r->mem ? mem_cell(q, i)->v.i : sqlite3_column_int64(q.r->st[q.s], i);
}

static double cv_double(rowref q, int i) {
  return q.r->mem ? mem_cell(q, i)->v.d : sqlite3_column_double(q.r->st[q.s], i);
}

static int cv_type(rowref q, int i) {
  return q.r->mem ? cell_type(mem_cell(q, i)) : sqlite3_column_type(q.r->st[q.s], i);
}

/* The statement's date condition on the current store row: a TEXT column
 * against the text of D as SQLite compares them (BINARY: bytes, then
 * length); numbers sort before text, NULL never matches, a blob sorts
 * after text. */
static bool mem_visible(const dn_facts_reader *r, int s) {
  const mcell *cell = mem_cell(row_of(r, s), stream_shape[s].date_col);
  /* A well-formed date's text orders as the date does: compared parsed. */
  if (cell->aux != DN_DATE_NONE && cell_type(cell) == SQLITE_TEXT)
    return stream_shape[s].strict ? cell->aux < r->as_of : cell->aux <= r->as_of;
  int type = cell_type(cell), n = cell_n(cell);
  const char *t = cell->v.t;
  if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) return true;
  if (type != SQLITE_TEXT) return false;
  int c = memcmp(t, r->as_of_text, n < 10 ? (size_t)n : 10);
  if (!c) c = (n > 10) - (n < 10);
  return stream_shape[s].strict ? c < 0 : c <= 0;
}

/* Whether stream s is on a row of the current customer that the
 * statement would return, passing over those it would not. */
static bool mem_on(dn_facts_reader *r, int s) {
  while (r->mpos[s] < r->mend[s] && !mem_visible(r, s)) r->mpos[s]++;
  return r->mpos[s] < r->mend[s];
}

/* Onto the next customer to read (every one, or the listed ones that
 * exist); row[S_CUST] false at the end. */
/* ---- prefetching the next customers ------------------------------------------ */

/* The index of the listed customer `ahead` places after the one at
 * r->pos - 1 (from its index ci), when the list names it by the store's
 * own pointer a few places on (a day's list mostly does); -1 otherwise:
 * not worth a search just to prefetch. */
static int32_t listed_ahead(const dn_facts_reader *r, int32_t ci, size_t ahead) {
  const dn_facts_store *m = r->mem;
  size_t at = r->pos + ahead - 1;
  if (!r->ids) return at < (size_t)m->ncust ? (int32_t)at : -1;
  if (at >= r->nids) return -1;
  for (int32_t k = ci + 1, end = ci + 16; k < end && k < m->ncust; k++)
    if (m->ids[k] == r->ids[at]) return k;
  return -1;
}

#define PREFETCH(p) __builtin_prefetch((const void *)(p), 0, 1)
/* GCC (12) finds a static function that only prefetches pure, and drops
 * the calls as dead: the prefetching ones are inlined, where the
 * prefetches stay. */
#if defined(__GNUC__)
#define PREFETCHING static inline __attribute__((always_inline)) void
#else
#define PREFETCHING static void
#endif

/* A year's replay over a large store reads each woken customer's rows
 * once a day, scattered over gigabytes: every first touch of them is a
 * cache miss, and the reader met them one after another. Started while
 * the engine runs the customer before, they arrive by the time it is
 * read: the index records two customers ahead (so their contents are in
 * cache one customer ahead), and what they point to one ahead. */
PREFETCHING prefetch_records(const dn_facts_store *m, int32_t k) {
  PREFETCH(&m->hist[k]);
  if (m->cache) {
    PREFETCH(&m->cache[k]);
    PREFETCH(&m->change_first[k]);
  }
  for (int s = S_CUST + 1; s < S_HIST; s++) PREFETCH(&m->t[s].first[k]);
}

PREFETCHING prefetch_rows(const dn_facts_store *m, int32_t k) {
  const struct cust_hist *ch = &m->hist[k];
  if (ch->n > 0) {
    PREFETCH(&ch->f[ch->n - 1]);
    PREFETCH(&ch->flags[ch->n - 1]);
  }
  if (m->cache) {
    if (m->cache[k].inv) PREFETCH(m->cache[k].inv);
    if (m->change_days) PREFETCH(&m->change_days[m->change_first[k]]);
  }
  PREFETCH(&m->t[S_CUST].cells.items[(size_t)k * (size_t)m->t[S_CUST].ncols]);
  for (int s = S_CUST + 1; s < S_HIST; s++) {
    const mtable *t = &m->t[s];
    if (t->first[k] < t->first[k + 1]) PREFETCH(&t->cells.items[(size_t)t->first[k] * (size_t)t->ncols]);
  }
}

PREFETCHING prefetch_ahead(dn_facts_reader *r, int32_t ci) {
  const dn_facts_store *m = r->mem;
  int32_t one = r->mci_after = listed_ahead(r, ci, 1);
  if (one < 0) return;
  prefetch_rows(m, one);
  int32_t two = listed_ahead(r, one, 2);
  if (two >= 0) prefetch_records(m, two);
}

static void mem_advance(dn_facts_reader *r) {
  const dn_facts_store *m = r->mem;
  int32_t ci = -1;
  if (!r->ids) {
    if (r->pos < (size_t)m->ncust) ci = (int32_t)r->pos++;
  } else {
    while (ci < 0 && r->pos < r->nids) ci = store_customer_from(m, r->ids[r->pos++], r->mci);
  }
  r->row[S_CUST] = ci >= 0;
  if (ci < 0) return;
  r->mci = ci;
  for (int s = S_CUST + 1; s < S_HIST; s++) {
    r->mpos[s] = m->t[s].first[ci];
    r->mend[s] = m->t[s].first[ci + 1];
  }
  prefetch_ahead(r, ci);
}

/* A reader over l's store: every customer, or only_customer, or the
 * listed ids. */
static dn_status open_mem(dn_ledger *l, const dn_program *p, dn_date as_of,
                          const char *only_customer, const char *const *ids, size_t nids,
                          dn_facts_reader **out, dn_diags *diags) {
  *out = NULL;
  if (l->store->readers == 0 && !place_pending(l->store)) return oom(diags);
  dn_facts_reader *r = reader_new(l, p, as_of);
  if (!r) return DN_ERR_INTERNAL;
  r->mem = l->store;
  r->mci_after = -1;
  r->mem->readers++;
  r->only = only_customer;
  r->ids = only_customer ? &r->only : ids;
  r->nids = only_customer ? 1 : nids;
  dn_status st = dn_fx_open(r->db, r->ledger_name, as_of, &r->fx, diags);
  if (st != DN_OK) {
    dn_facts_reader_close(r);
    return st;
  }
  mem_advance(r);
  *out = r;
  return DN_OK;
}

/* ---- column helpers ------------------------------------------------------ */

static const char *col_str(dn_customer_facts *c, rowref q, int i) {
  const unsigned char *t = cv_text(q, i);
  if (!t) return NULL;
  if (q.r->mem) return (const char *)t;
  return dn_arena_strndup(&c->arena, (const char *)t, (size_t)cv_bytes(q, i));
}

/* The store's strings live as long as the store, which outlives every
 * reader over it: handed out as they are, and dates parsed once. */
static dn_date col_date(rowref q, int i) {
  if (q.r->mem) return mem_cell(q, i)->aux;
  return text_date(cv_text(q, i), cv_bytes(q, i));
}

static uint16_t col_cur(dn_facts_reader *r, rowref q, int i, uint16_t dflt) {
  if (q.r->mem) {
    const mcell *c = mem_cell(q, i);
    return c->v.t ? (uint16_t)c->aux : dflt;
  }
  const unsigned char *t = cv_text(q, i);
  if (!t) return dflt;
  int n = cv_bytes(q, i);
  if (n != 3) return dn_currency_lookup((const char *)t, (size_t)n);
  for (int k = 0; k < r->ncurs; k++)
    if (memcmp(r->curs[k].code, t, 3) == 0) return r->curs[k].index;
  uint16_t index = dn_currency_lookup((const char *)t, 3);
  int k = r->ncurs < 4 ? r->ncurs++ : 3; /* full: the last slot turns over */
  memcpy(r->curs[k].code, t, 3);
  r->curs[k].index = index;
  return index;
}

/* Compares the stream's current customer id with id: <0 the stream is
 * behind (an orphan row to skip), 0 it belongs to this customer. */
static int stream_cmp(dn_facts_reader *r, int s, const char *id) {
  const unsigned char *t = sqlite3_column_text(r->st[s], 0);
  return strcmp(t ? (const char *)t : "", id);
}

/* Advances stream s to the first row of customer id; true while it is
 * on a row of that customer. */
static dn_status stream_seek(dn_facts_reader *r, int s, const char *id, bool *on,
                             dn_diags *diags) {
  if (r->mem) {
    *on = mem_on(r, s);
    return DN_OK;
  }
  int c = 1; /* one comparison per row: the one that ends the loop decides */
  while (r->row[s] && (c = stream_cmp(r, s, id)) < 0) {
    dn_status st = stream_step(r, s, diags);
    if (st != DN_OK) return st;
  }
  *on = r->row[s] && c == 0;
  return DN_OK;
}

/* Steps stream s past the row just read and onto the next row of customer
 * id, if any: the step of every per-customer read loop. */
static dn_status stream_next(dn_facts_reader *r, int s, const char *id, bool *on,
                             dn_diags *diags) {
  if (r->mem) {
    r->mpos[s]++;
    *on = mem_on(r, s);
    return DN_OK;
  }
  dn_status st = stream_step(r, s, diags);
  return st == DN_OK ? stream_seek(r, s, id, on, diags) : st;
}

static int32_t find_invoice(dn_facts_reader *r, const char *id);

/* The invoice named by column i of the current row: from the store by
 * the row found once, else by id. */
static int32_t invoice_at(dn_facts_reader *r, rowref q, int i) {
  if (!r->mem) return find_invoice(r, (const char *)cv_text(q, i));
  int32_t ref = mem_cell(q, i)->aux;
  return ref >= 0 && ref < r->inv_of_row.n ? r->inv_of_row.items[ref] : -1;
}

static int32_t find_invoice(dn_facts_reader *r, const char *id) {
  if (!id) return -1;
  int32_t lo = 0, hi = r->inv.n - 1;
  while (lo <= hi) {
    int32_t mid = lo + (hi - lo) / 2;
    int c = strcmp(r->inv.items[mid].id, id);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

static dn_status oom(dn_diags *diags) {
  dn_diag_add_at(diags, DN_E0505, "ledger", 0, "out of memory reading the ledger");
  return DN_ERR_INTERNAL;
}

static bool add_event(dn_facts_reader *r, dn_event_kind k, const char *id, int32_t inv) {
  dn_event_fact *e = VEC_PUSH(r->ev);
  if (!e) return false;
  e->kind = k;
  e->id = id;
  e->invoice = inv;
  return true;
}

/* ---- reading one customer ------------------------------------------------ */

static void read_credit_limit(dn_facts_reader *r, dn_customer_facts *c, rowref q);

static dn_status read_customer_row(dn_facts_reader *r, dn_customer_facts *c) {
  rowref q = row_of(r, S_CUST);
  c->id = col_str(c, q, 0);
  if (!c->id) c->id = "";
  /* The store's own pointer, equal text: what the outbox hands back with
   * the customer's records is then found without comparing strings. */
  if (r->mem && c->id[0]) c->id = r->mem->ids[r->mci];
  c->name = col_str(c, q, 1);
  c->tier = col_str(c, q, 2);
  c->country = col_str(c, q, 3);
  c->timezone = col_str(c, q, 4);
  c->language = col_str(c, q, 5);
  c->attrs_json = col_str(c, q, 9);
  c->risk_score = cv_type(q, 8) == SQLITE_NULL ? 0.0 : cv_double(q, 8);
  read_credit_limit(r, c, q);
  return DN_OK;
}

/* The credit limit of customer row q in the policy currency, at D's rate. */
static void read_credit_limit(dn_facts_reader *r, dn_customer_facts *c, rowref q) {
  uint16_t cur = col_cur(r, q, 7, r->p->currency);
  int64_t limit = cv_int64(q, 6);
  c->fx_missing = false;
  c->fx_from = NULL;
  c->credit_limit_p.minor = 0;
  c->credit_limit_p.cur = r->p->currency;
  /* No limit in the ledger is not a limit of zero: the amount is missing,
   * every comparison with it is false (as with a missing date), so an
   * over-limit rule does not put every customer without a limit on hold. */
  if (cv_type(q, 6) == SQLITE_NULL) {
    c->credit_limit_p.cur = DN_CUR_NONE;
    return;
  }
  if (limit != 0 && !convert_minor(r, limit, cur, r->p->currency, &c->credit_limit_p.minor)) {
    c->fx_missing = true;
    c->fx_from = cur == DN_CUR_NONE ? "?" : dn_currency_code(cur);
    c->credit_limit_p.minor = 0;
  }
}

/* The customer's currency, for promises not tied to an invoice. */
static uint16_t customer_currency(dn_facts_reader *r) {
  return col_cur(r, row_of(r, S_CUST), 7, r->p->currency);
}

static dn_status read_invoices(dn_facts_reader *r, dn_customer_facts *c, uint16_t ccur,
                               dn_diags *diags) {
  bool on;
  r->inv_of_row.n = 0;
  if (r->mem) {
    uint32_t first = r->mem->t[S_INV].first[r->mci];
    int32_t n = (int32_t)(r->mend[S_INV] - first);
    if (!vec_grow((void **)&r->inv_of_row.items, &r->inv_of_row.cap, n, sizeof(int32_t))) return oom(diags);
    for (int32_t i = 0; i < n; i++) r->inv_of_row.items[i] = -1;
    r->inv_of_row.n = n;
  }
  dn_status st = stream_seek(r, S_INV, c->id, &on, diags);
  for (; st == DN_OK && on; st = stream_next(r, S_INV, c->id, &on, diags)) {
    rowref q = row_of(r, S_INV);
    dn_invoice_facts *f = VEC_PUSH(r->inv);
    if (!f) return oom(diags);
    if (r->mem) r->inv_of_row.items[r->mpos[S_INV] - r->mem->t[S_INV].first[r->mci]] = r->inv.n - 1;
    f->id = col_str(c, q, 1);
    f->number = col_str(c, q, 2);
    f->issue_date = col_date(q, 3);
    f->due_date = col_date(q, 4);
    f->currency = col_cur(r, q, 5, ccur);
    f->amount = cv_int64(q, 6);
    f->last_payment_date = DN_DATE_NONE;
    if (!f->id || f->due_date == DN_DATE_NONE || f->currency == DN_CUR_NONE) {
      dn_diag_add_at(diags, DN_E0506, r->ledger_name, 0,
                     "customer %s: invoice %s has no valid due date or currency; skipped",
                     c->id, f->id ? f->id : "?");
      r->inv.n--;
      if (r->mem) r->inv_of_row.items[r->mpos[S_INV] - r->mem->t[S_INV].first[r->mci]] = -1;
    }
  }
  return st;
}

static dn_status read_payments(dn_facts_reader *r, dn_customer_facts *c, dn_diags *diags) {
  bool on;
  dn_status st = stream_seek(r, S_PAY, c->id, &on, diags);
  for (; st == DN_OK && on; st = stream_next(r, S_PAY, c->id, &on, diags)) {
    rowref q = row_of(r, S_PAY);
    pay_row *p = VEC_PUSH(r->pay);
    if (!p) return oom(diags);
    p->id = col_str(c, q, 1);
    p->invoice_id = col_str(c, q, 2);
    p->inv = invoice_at(r, q, 2);
    p->date = col_date(q, 3);
    p->amount = cv_int64(q, 4);
    uint16_t dflt = p->inv >= 0 ? r->inv.items[p->inv].currency : customer_currency(r);
    p->cur = col_cur(r, q, 5, dflt);
    const unsigned char *status = cv_text(q, 6);
    p->settled = status && strcmp((const char *)status, "settled") == 0;
    bool failed = status && strcmp((const char *)status, "failed") == 0;
    if (p->date == DN_DATE_NONE) r->pay.n--;
    else if (p->date == r->as_of && (p->settled || failed) &&
             !add_event(r, p->settled ? DN_EV_PAYMENT_RECEIVED : DN_EV_PAYMENT_FAILED,
                        p->id, p->inv))
      return oom(diags);
  }
  return st;
}

static dn_status read_credits(dn_facts_reader *r, dn_customer_facts *c, dn_diags *diags) {
  bool on;
  dn_status st = stream_seek(r, S_CRED, c->id, &on, diags);
  for (; st == DN_OK && on; st = stream_next(r, S_CRED, c->id, &on, diags)) {
    rowref q = row_of(r, S_CRED);
    int32_t inv = invoice_at(r, q, 1);
    dn_date d = col_date(q, 2);
    if (inv >= 0 && d != DN_DATE_NONE) {
      cred_row *cr = VEC_PUSH(r->cred);
      if (!cr) return oom(diags);
      cr->inv = inv;
      cr->date = d;
      cr->amount = cv_int64(q, 3);
    }
  }
  return st;
}

static dn_status read_disputes(dn_facts_reader *r, dn_customer_facts *c, dn_diags *diags) {
  bool on;
  dn_status st = stream_seek(r, S_DISP, c->id, &on, diags);
  for (; st == DN_OK && on; st = stream_next(r, S_DISP, c->id, &on, diags)) {
    rowref q = row_of(r, S_DISP);
    int32_t inv = invoice_at(r, q, 2);
    dn_date opened = col_date(q, 3), resolved = col_date(q, 4);
    if (inv >= 0 && opened != DN_DATE_NONE) {
      bool is_resolved = resolved != DN_DATE_NONE && resolved <= r->as_of;
      if (!is_resolved) r->inv.items[inv].disputed = true;
      const char *id = NULL;
      if (opened == r->as_of || resolved == r->as_of) {
        id = col_str(c, q, 1);
        if (!id) id = "";
      }
      if (opened == r->as_of && !add_event(r, DN_EV_DISPUTE_OPENED, id, inv)) return oom(diags);
      if (resolved == r->as_of && !add_event(r, DN_EV_DISPUTE_RESOLVED, id, inv))
        return oom(diags);
    }
  }
  return st;
}

/* Settled payments towards a promise dated in [from, to], in the
 * promise's currency; payments without a rate do not count. */
static int64_t promise_paid(dn_facts_reader *r, const char *invoice_id, uint16_t cur,
                            dn_date from, dn_date to) {
  int64_t sum = 0;
  for (int32_t i = 0; i < r->pay.n; i++) {
    const pay_row *p = &r->pay.items[i];
    if (!p->settled || p->date < from || p->date > to) continue;
    if (invoice_id && (!p->invoice_id || strcmp(p->invoice_id, invoice_id) != 0)) continue;
    int64_t m;
    r->fx_cross |= p->cur != cur;
    if (convert_minor(r, p->amount, p->cur, cur, &m) && __builtin_add_overflow(sum, m, &sum)) sum = INT64_MAX;
  }
  return sum;
}

static dn_status read_promises(dn_facts_reader *r, dn_customer_facts *c, uint16_t ccur,
                               dn_diags *diags) {
  bool on;
  int32_t grace = r->p->promise_grace_days;
  dn_status st = stream_seek(r, S_PROM, c->id, &on, diags);
  for (; st == DN_OK && on; st = stream_next(r, S_PROM, c->id, &on, diags)) {
    rowref q = row_of(r, S_PROM);
    const char *inv_id = (const char *)cv_text(q, 2);
    int32_t inv = invoice_at(r, q, 2);
    dn_date made = col_date(q, 3), promised = col_date(q, 4);
    int64_t amount = cv_int64(q, 5);
    if (made != DN_DATE_NONE && promised != DN_DATE_NONE) {
      uint16_t cur = inv >= 0 ? r->inv.items[inv].currency : ccur;
      dn_date end = promised + grace;
      dn_date upto = end < r->as_of ? end : r->as_of;
      bool covered = promise_paid(r, inv_id, cur, made, upto) >= amount;
      bool active = r->as_of <= end && !covered;
      if (active) {
        c->promise_active = true;
        if (!inv_id)
          for (int32_t i = 0; i < r->inv.n; i++) r->inv.items[i].promise_active = true;
        else if (inv >= 0)
          r->inv.items[inv].promise_active = true;
      }
      bool made_ev = made == r->as_of, broken_ev = r->as_of == end + 1 && !covered;
      if (made_ev || broken_ev) {
        const char *id = col_str(c, q, 1);
        if (!id) id = "";
        int32_t ev_inv = inv_id ? inv : -1;
        if (made_ev && !add_event(r, DN_EV_PROMISE_MADE, id, ev_inv)) return oom(diags);
        if (broken_ev && !add_event(r, DN_EV_PROMISE_BROKEN, id, ev_inv)) return oom(diags);
      }
    }
  }
  return st;
}

/* Whether s is one of names[0..n): by its first byte first, as every
 * history row is classified once and most are not the first name. */
static bool one_of(const char *s, const char *const *names, int n) {
  for (int i = 0; i < n; i++)
    if (s[0] == names[i][0] && strcmp(s, names[i]) == 0) return true;
  return false;
}

uint8_t dn_history_classify(const char *kind, const char *status) {
  static const char *const contacts[] = {"email", "sms", "letter", "call"};
  static const char *const out[] = {"scheduled", "sent"};
  uint8_t f = 0;
  if (kind && one_of(kind, contacts, 4)) f |= DN_HIST_CONTACT;
  if (!status) return f;
  if (one_of(status, out, 2)) f |= DN_HIST_WENT_OUT | DN_HIST_COUNTS;
  else if (status[0] == 's' && !strcmp(status, "skipped")) f |= DN_HIST_COUNTS;
  else if (status[0] == 'd' && !strcmp(status, "deferred")) f |= DN_HIST_DEFERRED;
  return f;
}

/* From the store: the rows the statement would return (as_of < D as text)
 * are a prefix of the customer's rows, which are in its ORDER BY; handed
 * out in place, the latest contact found walking back from their end. */
static void read_history_mem(dn_facts_reader *r, dn_customer_facts *c) {
  const struct cust_hist *ch = &r->mem->hist[r->mci];
  int32_t n = ch->n;
  /* A well-formed date compares parsed, as its text would. */
  while (n > 0 && (ch->f[n - 1].as_of != DN_DATE_NONE ? ch->f[n - 1].as_of >= r->as_of
                                                     : strcmp(ch->odd_text[n - 1], r->as_of_text) >= 0))
    n--;
  r->mem_hist = ch->f;
  r->mem_nhist = n;
  const uint8_t went_out = DN_HIST_CONTACT | DN_HIST_WENT_OUT;
  for (int32_t i = n - 1; i >= 0; i--) {
    if ((ch->flags[i] & went_out) != went_out || ch->f[i].as_of == DN_DATE_NONE) continue;
    c->last_contact_date = ch->f[i].as_of;
    c->last_tone = ch->f[i].tone;
    break;
  }
}

static dn_status read_history(dn_facts_reader *r, dn_customer_facts *c, dn_diags *diags) {
  bool on;
  c->last_contact_date = DN_DATE_NONE;
  if (r->mem) {
    read_history_mem(r, c);
    return DN_OK;
  }
  dn_status st = stream_seek(r, S_HIST, c->id, &on, diags);
  for (; st == DN_OK && on; st = stream_next(r, S_HIST, c->id, &on, diags)) {
    rowref q = row_of(r, S_HIST);
    dn_history_fact *h = VEC_PUSH(r->hist);
    if (!h) return oom(diags);
    h->key = col_str(c, q, 1);
    h->rule = col_str(c, q, 2);
    h->step = col_str(c, q, 3);
    h->kind = col_str(c, q, 4);
    h->tone = col_str(c, q, 5);
    h->status = col_str(c, q, 6);
    h->invoice_ids = col_str(c, q, 7);
    h->as_of = col_date(q, 8);
    uint8_t f = dn_history_classify(h->kind, h->status);
    /* Rows arrive by as_of, so the last contact seen is the latest. */
    if ((f & DN_HIST_CONTACT) && (f & DN_HIST_WENT_OUT) && h->as_of != DN_DATE_NONE) {
      c->last_contact_date = h->as_of;
      c->last_tone = h->tone;
    }
  }
  return st;
}

/* Applies payments and credits in date order so the settlement date is
 * the day of the movement that brought the balance to zero. Both vectors
 * are already sorted by date. */
static void apply_movements(dn_facts_reader *r) {
  int32_t pi = 0, ci = 0;
  for (;;) {
    while (pi < r->pay.n && (!r->pay.items[pi].settled || r->pay.items[pi].inv < 0)) pi++;
    bool have_p = pi < r->pay.n, have_c = ci < r->cred.n;
    if (!have_p && !have_c) break;
    bool take_p = have_p && (!have_c || r->pay.items[pi].date <= r->cred.items[ci].date);
    int32_t inv;
    int64_t amt;
    dn_date d;
    if (take_p) {
      const pay_row *p = &r->pay.items[pi++];
      inv = p->inv;
      d = p->date;
      dn_invoice_facts *f = &r->inv.items[inv];
      /* The engine reports the missing rate once for the invoice. */
      r->fx_cross |= p->cur != f->currency;
      if (!convert_minor(r, p->amount, p->cur, f->currency, &amt)) {
        f->fx_missing = true;
        continue;
      }
      if (d > f->last_payment_date || f->last_payment_date == DN_DATE_NONE)
        f->last_payment_date = d;
    } else {
      const cred_row *cr = &r->cred.items[ci++];
      inv = cr->inv;
      d = cr->date;
      amt = cr->amount;
    }
    dn_invoice_facts *f = &r->inv.items[inv];
    int64_t paid, left;
    if (__builtin_add_overflow(f->paid, amt, &paid) || __builtin_sub_overflow(f->amount, paid, &left)) {
      r->overflow = true;
      continue;
    }
    bool was_open = f->amount - f->paid > 0;
    f->paid = paid;
    if (was_open && left <= 0 && r->settled_on.items[inv] == DN_DATE_NONE) r->settled_on.items[inv] = d;
  }
}

/* A balance or paid sum of f in the policy currency, its amount converted
 * already. Most are 0 or the amount itself: a conversion is a function of
 * the sum (equal sums convert alike) and 0 converts to 0 at any rate the
 * amount converted at, so only a part-paid invoice converts three times
 * (the reader converted 12 sums per customer read, 5 % of a replay's
 * instructions). */
static bool convert_part(dn_facts_reader *r, const dn_invoice_facts *f, int64_t minor,
                         int64_t *out) {
  if (minor == f->amount || minor == 0) {
    *out = minor == 0 ? 0 : f->amount_p;
    return true;
  }
  return convert_minor(r, minor, f->currency, r->p->currency, out);
}

static void convert_invoice(dn_facts_reader *r, dn_invoice_facts *f) {
  uint16_t pc = r->p->currency;
  if (f->fx_missing) return;
  if (!convert_minor(r, f->amount, f->currency, pc, &f->amount_p) ||
      !convert_part(r, f, f->balance, &f->balance_p) ||
      !convert_part(r, f, f->paid, &f->paid_p)) {
    f->fx_missing = true;
    f->amount_p = f->balance_p = f->paid_p = 0;
  }
}

/* What the rows say whatever the date: balances, amounts in the policy
 * currency, payment habits. */
static void aggregate_rows(dn_facts_reader *r, dn_customer_facts *c) {
  int32_t nsettled = 0, ontime = 0;
  c->overflow = r->overflow;
  int64_t late_sum = 0;
  for (int32_t i = 0; i < r->inv.n; i++) {
    dn_invoice_facts *f = &r->inv.items[i];
    if (__builtin_sub_overflow(f->amount, f->paid, &f->balance)) {
      c->overflow = true;
      f->balance = 0;
    }
    f->open = f->balance > 0;
    convert_invoice(r, f);
    dn_date s = r->settled_on.items[i];
    if (s != DN_DATE_NONE) {
      nsettled++;
      late_sum += s > f->due_date ? s - f->due_date : 0;
      ontime += s <= f->due_date;
    }
  }
  c->avg_days_late = nsettled ? (double)late_sum / nsettled : 0.0;
  c->on_time_ratio = nsettled ? (double)ontime / nsettled : 1.0;
}

/* What D itself changes: days past due, the sums over open and overdue
 * invoices. */
static void aggregate_day(dn_facts_reader *r, dn_customer_facts *c) {
  c->total_open_p.cur = c->total_overdue_p.cur = r->p->currency;
  for (int32_t i = 0; i < r->inv.n; i++) {
    dn_invoice_facts *f = &r->inv.items[i];
    f->days_past_due = r->as_of - f->due_date;
    if (!f->open || f->fx_missing) continue;
    c->open_invoices++;
    if (__builtin_add_overflow(c->total_open_p.minor, f->balance_p, &c->total_open_p.minor))
      c->overflow = true;
    if (f->days_past_due > 0) {
      c->overdue_invoices++;
      if (__builtin_add_overflow(c->total_overdue_p.minor, f->balance_p, &c->total_overdue_p.minor))
        c->overflow = true;
    }
    if (f->days_past_due > c->oldest_days_past_due) c->oldest_days_past_due = f->days_past_due;
  }
}

static int event_cmp(const void *a, const void *b) {
  const dn_event_fact *x = a, *y = b;
  if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
  return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

static dn_status collect_issued(dn_facts_reader *r, dn_diags *diags) {
  for (int32_t i = 0; i < r->inv.n; i++)
    if (r->inv.items[i].issue_date == r->as_of &&
        !add_event(r, DN_EV_INVOICE_ISSUED, r->inv.items[i].id, i))
      return oom(diags);
  return DN_OK;
}

static void reset_customer(dn_facts_reader *r, dn_customer_facts *c) {
  give_back(r);
  dn_arena_reset(&c->arena);
  dn_arena arena = c->arena;
  memset(c, 0, sizeof *c);
  c->arena = arena;
  r->inv.n = r->ev.n = r->hist.n = r->pay.n = r->cred.n = 0;
  r->overflow = false;
  r->fx_cross = false;
}

/* Everything but the history and what D itself changes. */
static dn_status read_rows(dn_facts_reader *r, dn_customer_facts *c, dn_diags *diags) {
  dn_status st = read_customer_row(r, c);
  uint16_t ccur = customer_currency(r);
  if (st == DN_OK) st = read_invoices(r, c, ccur, diags);
  if (st != DN_OK) return st;
  if (!vec_grow((void **)&r->settled_on.items, &r->settled_on.cap, r->inv.n,
                sizeof *r->settled_on.items))
    return oom(diags);
  for (int32_t i = 0; i < r->inv.n; i++) r->settled_on.items[i] = DN_DATE_NONE;
  st = read_payments(r, c, diags);
  if (st == DN_OK) st = read_credits(r, c, diags);
  if (st == DN_OK) apply_movements(r);
  if (st == DN_OK) st = read_disputes(r, c, diags);
  if (st == DN_OK) st = read_promises(r, c, ccur, diags);
  if (st == DN_OK) aggregate_rows(r, c);
  return st;
}

/* What a new rate changes in facts whose every conversion was into the
 * policy currency: the credit limit and the invoices' amounts in it (a
 * rate that was missing may be there now, or the other way round). */
static void convert_again(dn_facts_reader *r, dn_customer_facts *c) {
  read_credit_limit(r, c, row_of(r, S_CUST));
  for (int32_t i = 0; i < r->inv.n; i++) {
    r->inv.items[i].fx_missing = false;
    convert_invoice(r, &r->inv.items[i]);
  }
}

/* The customer's facts as read on an earlier day when no change day of
 * its rows came since, with its amounts converted again when a new fx
 * rate did (see "cached facts"). */
static bool cache_restore(dn_facts_reader *r, dn_customer_facts *c) {
  const dn_facts_store *s = r->mem;
  cached_facts *k = &s->cache[r->mci];
  if (s->cache_off || k->never || k->lent || k->day == DN_DATE_NONE || k->day >= r->as_of) return false;
  uint32_t a = s->change_first[r->mci], b = s->change_first[r->mci + 1];
  if (day_between(s->change_days + a, b - a, k->day, r->as_of)) return false;
  bool rates = k->foreign && day_between(s->fx_days, (uint32_t)s->nfx_days, k->day, r->as_of);
  if (rates && k->fx_cross) return false;
  swap_invoices(r, k);
  r->inv.n = k->ninv;
  k->lent = true;
  r->lent = r->mci;
  dn_arena arena = c->arena;
  *c = k->c;
  c->arena = arena;
  if (rates) convert_again(r, c);
  return true;
}

/* Room for exactly n invoices: a customer gains a few a year, and the
 * vec.h doubling from 16 kept a third of the 100k year's 180 MB of
 * cached invoices unused. */
static bool cache_room(cached_facts *k, int32_t n) {
  if (n <= k->cap) return true;
  dn_invoice_facts *v = realloc(k->inv, sizeof *v * (size_t)n);
  if (!v) return false;
  k->inv = v;
  k->cap = n;
  return true;
}

/* Keeps what read_rows made, unless the reading reported anything (it
 * would be reported again). A day with events is kept too: without it the
 * day after, mostly no change day, read every row again (a third of the
 * 10k year's full readings). */
static void cache_keep(dn_facts_reader *r, const dn_customer_facts *c, bool quiet) {
  cached_facts *k = &r->mem->cache[r->mci];
  if (k->lent) return; /* another reader's, whose restore stands */
  k->day = DN_DATE_NONE;
  if (r->mem->cache_off || k->never || !quiet || !cache_room(k, r->inv.n))
    return;
  if (r->inv.n) memcpy(k->inv, r->inv.items, sizeof *k->inv * (size_t)r->inv.n);
  k->ninv = r->inv.n;
  k->fx_cross = r->fx_cross;
  k->c = *c;
  k->c.arena = (dn_arena){0}; /* the store's strings: none in the arena */
  k->day = r->as_of;
}

void dn_facts_reader_upcoming(const dn_facts_reader *r, int32_t slots[2]) {
  bool on = r->mem && r->row[S_CUST];
  slots[0] = on ? r->mci + 1 : 0;
  slots[1] = on && r->mci_after >= 0 ? r->mci_after + 1 : 0;
}

dn_status dn_facts_reader_next(dn_facts_reader *r, dn_customer_facts *c, bool *got,
                               dn_diags *diags) {
  *got = false;
  if (!r->row[S_CUST]) return DN_OK;
  reset_customer(r, c);
  dn_status st = DN_OK;
  if (!r->mem || !cache_restore(r, c)) {
    /* Counted, not listed: the list stops growing at DN_DIAGS_SHOWN. */
    size_t seen = diags->errors + diags->warnings;
    st = read_rows(r, c, diags);
    if (st == DN_OK && r->mem) cache_keep(r, c, diags->errors + diags->warnings == seen);
  }
  if (st == DN_OK) st = read_history(r, c, diags);
  if (st == DN_OK) st = collect_issued(r, diags);
  if (st != DN_OK) return st;
  aggregate_day(r, c);
  if (r->mem) c->store_slot = r->mci + 1;
  if (r->ev.n > 1) qsort(r->ev.items, (size_t)r->ev.n, sizeof *r->ev.items, event_cmp);
  c->invoices = r->inv.items;
  c->ninvoices = r->inv.n;
  c->events = r->ev.items;
  c->nevents = r->ev.n;
  c->history = r->mem ? r->mem_hist : r->hist.items;
  c->nhistory = r->mem ? r->mem_nhist : r->hist.n;
  c->history_flags = r->mem ? r->mem->hist[r->mci].flags : NULL;
  *got = true;
  if (r->mem) {
    mem_advance(r);
    return DN_OK;
  }
  if (!r->ids) return stream_step(r, S_CUST, diags);
  if (!r->scan) return set_advance(r, diags);
  st = stream_step(r, S_CUST, diags);
  return st == DN_OK ? scan_advance(r, diags) : st;
}

dn_status dn_facts_invoice_customer(dn_ledger *l, const char *invoice, char *buf,
                                    size_t buflen, bool *found, dn_diags *diags) {
  *found = false;
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(l->db, "SELECT customer_id FROM invoices WHERE id = ?1", -1, &q,
                         NULL) != SQLITE_OK) {
    dn_diag_add_at(diags, DN_E0502, l->path ? l->path : "ledger", 0, "%s",
                   sqlite3_errmsg(l->db));
    return DN_ERR_INPUT;
  }
  sqlite3_bind_text(q, 1, invoice, -1, SQLITE_STATIC);
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW && sqlite3_column_text(q, 0)) {
    const char *id = (const char *)sqlite3_column_text(q, 0);
    if (strlen(id) < buflen) {
      memcpy(buf, id, strlen(id) + 1);
      *found = true;
    }
  }
  /* A failed read is a ledger error, not "no such invoice". */
  dn_status st = DN_OK;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    dn_diag_add_at(diags, DN_E0502, l->path ? l->path : "ledger", 0, "%s",
                   sqlite3_errmsg(l->db));
    st = DN_ERR_INPUT;
  }
  sqlite3_finalize(q);
  return st;
}

static dn_status load_holidays(dn_ledger *l, dn_facts_cache *cache, const char *name,
                               dn_calendar *cal, dn_diags *diags) {
  sqlite3_stmt *q;
  if (prepare_stmt(l->db, cache ? &cache->holidays : NULL,
                   "SELECT date FROM holidays WHERE calendar = ?1", &q) != SQLITE_OK) {
    dn_diag_add_at(diags, DN_E0502, l->path ? l->path : "ledger", 0, "%s",
                   sqlite3_errmsg(l->db));
    return DN_ERR_INPUT;
  }
  sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
  dn_status st = DN_OK;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    dn_date d = text_date(sqlite3_column_text(q, 0), sqlite3_column_bytes(q, 0));
    if (d != DN_DATE_NONE && !dn_calendar_add_holiday(cal, d)) {
      st = DN_ERR_INTERNAL;
      break;
    }
  }
  /* A read that fails half-way must not pass for a shorter holiday list:
   * every business-day step and the schedule would silently shift. */
  if (st == DN_OK && rc != SQLITE_DONE) {
    dn_diag_add_at(diags, DN_E0502, l->path ? l->path : "ledger", 0, "reading holidays: %s",
                   sqlite3_errmsg(l->db));
    st = DN_ERR_INPUT;
  }
  release_stmt(cache != NULL, q);
  return st;
}

dn_status dn_facts_load_holidays(dn_ledger *l, const char *name, dn_calendar *cal,
                                 dn_diags *diags) {
  return load_holidays(l, NULL, name, cal, diags);
}

dn_status dn_facts_load_holidays_cached(dn_ledger *l, dn_facts_cache *cache, const char *name,
                                        dn_calendar *cal, dn_diags *diags) {
  return load_holidays(l, cache_for(cache, l->db), name, cal, diags);
}
