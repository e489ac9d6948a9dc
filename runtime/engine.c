/* engine.c - the run semantics of LANGUAGE.md s.5, one customer at a time.
 *
 * Owns segmentation, escalation steps with catch-up, event and condition
 * rules, tones, consolidation, contact caps, scheduling, action keys and
 * explain. Facts come from runtime/facts.c, expressions are evaluated by
 * runtime/vm.c; the engine never writes the ledger.
 *
 * Choices where the spec leaves room (also in the project docs):
 * - A step is "emitted" for an invoice when the history holds a row of that
 *   escalation and step label listing the invoice with status scheduled,
 *   skipped or sent; a deferred row does not count, so a deferred step is
 *   reconsidered on the next run. When only some of a step's contacts were
 *   deferred (the call admitted, the email capped), the step is emitted
 *   and just those contact kinds are proposed again, until they go out;
 *   event contacts likewise.
 * - Caught-up steps give one `skipped` record per step and invoice, of the
 *   step's first action, and only when the current step is emitted.
 * - Consolidated records list their parts' rules and steps comma-separated,
 *   in invoice order, when they differ ("15d,7d"); history is read back the
 *   same way.
 * - Caps admit contacts in order of priority (highest first; none lowest),
 *   then firmer tone, then channel weight letter, call, email, sms, then
 *   key: so the lowest priority is deferred first, and on a tie the least
 *   formal channel. History contacts with status scheduled or sent count.
 * - Keys hash policy | rule | step (or event id, or D for rules) | customer
 *   | invoices | kind | text | status tag, where the tag is "skipped" or
 *   "deferred" for those statuses and empty otherwise: a deferred row thus
 *   never blocks the later scheduled one (the outbox inserts or ignores). */
#include "runtime/engine.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/facts_reader.h"
#include "runtime/history.h"
#include "runtime/sort.h"
#include "runtime/trace.h"
#include "runtime/vec.h"
#include "runtime/vm.h"
#include "stdlib/calendar.h"
#include "stdlib/tz.h"

/* One action as a rule, step or event produced it, before consolidation. */
typedef struct raw_act {
  dn_action_kind kind;
  int32_t tone;              /* rank on the customer's ladder; -1 non-contact */
  const char *template_name; /* as written, or NULL */
  const char *text;
  bool has_priority;
  double priority;
  const char *assignee;
  const char *rule, *step;   /* step NULL for condition rules */
  const char *key_step;      /* step, or D for condition rules */
  int32_t inv;               /* invoice index, -1 for the customer */
  const char *reason;        /* "dunning step 15 days", "rule over_limit" */
  const char *detail;        /* "I1 16 days past due", or NULL */
  bool dpd_detail;           /* detail is the invoice's id and add_dpd's phrase */
  bool skipped, escalation;
} raw_act;

typedef struct zone_ent {
  char *name;
  dn_zone *zone;             /* NULL when the name did not load */
  /* Every action of a run is scheduled on the same day at the window's
   * start, so a zone's local time is formatted once per run. */
  bool have_when;
  char when[32];
} zone_ent;

/* The two FNV-1a streams of an action key (see make_key). */
typedef struct key_hash { uint64_t a, b; } key_hash;

typedef struct out_act {
  dn_action_rec rec;
  int32_t tone_rank;
  bool contact;
  const char *key_rule, *key_step, *inv_list;
  /* The key's two hash halves (its hex text orders as they do) and the
   * status it was made for: caps key contacts before emit does. */
  uint64_t key_a, key_b;
  bool keyed;
  dn_action_status keyed_status;
  /* The streams before the status, the key's last part: a contact the
   * caps defer is keyed again from there. */
  key_hash unstatused;
} out_act;

typedef struct run_ctx {
  const dn_program *p;
  const dn_run_options *o;
  dn_date as_of;
  char as_of_text[11];
  const char *ledger_name;
  dn_vm *vm;
  dn_calendar *cal;
  dn_facts_reader *reader;
  dn_diags *diags;
  dn_run_stats *stats;
  dn_action_sink sink;
  void *sink_ctx;
  dn_arena scratch;          /* reset per customer */
  /* Per step of the program, made once per run: every open invoice
   * would otherwise format them again ("15d", "15 days", the catch-up
   * reason). */
  dn_arena texts;
  const char **step_labels, **step_words, **skip_reasons, **step_reasons;
  const char **rule_reasons; /* "rule over_limit", per rule */
  /* "email-firm": the default template of a kind and tone, per kind and
   * tone_names index (NULL when it could not be made). */
  const char **templates;
  /* A tone name's rank on each ladder before the segment's shift, per
   * ladder and string index; INT32_MIN until first asked. */
  int32_t *tone_ranks;
  /* The tone a step's first contact goes out in, per segment and step
   * (the segment fixes the ladder and the shift); INT32_MIN until asked,
   * -1 for a step without a contact. A row is the segment's steps after
   * one -1, the tone of no step (DN_NONE): a compiled ladder (native_
   * ladder.c) indexes it with either without a branch. */
  int32_t *step_tones;
  bool *step_tones_full;     /* per segment: its whole row is worked out */
  /* Per escalation: none of its steps counts business days, so a step's
   * offset is compared with days_past_due as it is. */
  bool *calendar_ladder;
  char err[256];             /* the VM's reason for a failed evaluation */
  dn_vm_direct direct;       /* a native library's chunks, called directly */
  key_hash key_prefix;       /* the key streams after the policy name */
  int64_t deferred_out;      /* deferred records emitted (run_traced) */
  bool sb_short;             /* out of memory since sb_reset: sb lacks text */
  dn_date sched_day;         /* the day actions are scheduled on */
  bool have_utc_when;
  char utc_when[32];         /* scheduled_at when no zone applies */
  VEC(zone_ent) zones;
  VEC(raw_act) raws;
  dn_hist hist;
  bool hist_ready;           /* hist is this customer's (see parse_history) */
  VEC(out_act) outs;
  VEC(const raw_act *) idx;
  VEC(out_act *) order;
  VEC(bool) inv_err;
  VEC(char) sb;
  VEC(dn_step_decision) dsteps; /* dn_engine_session_decide's answer */
  VEC(dn_rule_decision) drules;
  /* per customer */
  dn_customer_facts *c;
  int32_t seg, ladder, shift;
  bool cust_err;
  dn_trace *trace; /* the conditions trace being recorded (runtime/trace.h), or NULL */
} run_ctx;

static const char *str(const run_ctx *x, int32_t i) {
  return i == DN_NONE ? NULL : x->p->strings[i];
}

/* A declaration's name: never absent in a verified program. */
static const char *name_of(const run_ctx *x, int32_t i) {
  return i == DN_NONE ? "?" : x->p->strings[i];
}

/* ---- small text helpers (scratch arena) ---------------------------------- */

static const char *afmt(run_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *afmt(run_ctx *x, const char *fmt, ...) {
  /* One formatting pass for the usual short text (reasons, labels), a
   * second only when it does not fit. */
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return "";
  char *s = dn_arena_alloc(&x->scratch, (size_t)n + 1);
  if (!s) return "";
  if ((size_t)n < sizeof buf) {
    memcpy(s, buf, (size_t)n + 1);
    return s;
  }
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

static void sb_reset(run_ctx *x) {
  x->sb.n = 0;
  x->sb_short = false;
}

/* lead then v in decimal, NUL-terminated, as " %d" writes it (16 bytes
 * hold any int32). */
static void put_int(char *out, char lead, int32_t v) {
  char digits[12];
  int n = 0;
  uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
  do digits[n++] = (char)('0' + u % 10); while ((u /= 10) != 0);
  *out++ = lead;
  if (v < 0) *out++ = '-';
  while (n > 0) *out++ = digits[--n];
  *out = '\0';
}

static void sb_addn(run_ctx *x, const char *s, int32_t len) {
  if (!vec_grow((void **)&x->sb.items, &x->sb.cap, x->sb.n + len + 1, 1)) {
    x->sb_short = true;
    return;
  }
  memcpy(x->sb.items + x->sb.n, s, (size_t)len);
  x->sb.n += len;
  x->sb.items[x->sb.n] = '\0';
}

static void sb_add(run_ctx *x, const char *s) { sb_addn(x, s, (int32_t)strlen(s)); }

/* " 9 days past due": what a reason says of an invoice (a dn_reason_span). */
static void add_dpd(run_ctx *x, int32_t dpd) {
  char num[16];
  put_int(num, ' ', dpd);
  sb_add(x, num);
  sb_add(x, dpd == 1 || dpd == -1 ? " day past due" : " days past due");
}

static const char *sb_dup(run_ctx *x) {
  if (x->sb.n == 0) return "";
  const char *s = dn_arena_strndup(&x->scratch, x->sb.items, (size_t)x->sb.n);
  return s ? s : "";
}

static bool selected(const run_ctx *x, int32_t inv) {
  if (!x->o->explain) return false;
  if (x->o->only_invoice && inv >= 0 && strcmp(x->c->invoices[inv].id, x->o->only_invoice))
    return false;
  return true;
}

static void explain_line(run_ctx *x, int32_t inv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void explain_line(run_ctx *x, int32_t inv, const char *fmt, ...) {
  if (!selected(x, inv)) return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  x->o->explain(x->o->explain_ctx, x->c->id, inv >= 0 ? x->c->invoices[inv].id : NULL, line);
}


/* Explain lines cost nothing unless explain is on: the test comes before
 * the variadic call and its arguments. */
#define explain(x, ...) ((x)->o->explain ? explain_line((x), __VA_ARGS__) : (void)0)

/* ---- the key ------------------------------------------------------------- */

/* A final avalanche so the two halves do not share FNV's weak low bits. */
static uint64_t avalanche(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

/* The 8 hex digits of x, most significant first, without a loop: each
 * nibble spread to its own byte, then '0'..'9' or 'a'..'f' added to all
 * bytes at once (two keys per record made this loop 30% of the key). */
static void put_hex32(uint32_t x, char *out) {
  uint64_t v = x;
  v = (v | (v << 16)) & 0x0000FFFF0000FFFFULL;
  v = (v | (v << 8)) & 0x00FF00FF00FF00FFULL;
  v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0FULL; /* byte i = nibble i */
  uint64_t letter = ((v + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;
  v += 0x3030303030303030ULL + letter * ('a' - '0' - 10);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  v = __builtin_bswap64(v);
  memcpy(out, &v, 8);
#else
  for (int k = 0; k < 8; k++) out[k] = (char)(v >> (8 * (7 - k)));
#endif
}

static void put_hex64(uint64_t v, char *out) {
  put_hex32((uint32_t)(v >> 32), out);
  put_hex32((uint32_t)v, out + 8);
}

/* The key is two FNV-1a streams over the canonical text
 * "policy|rule|step|customer|invoices|kind|text|status", fed part by part
 * (keys are computed for every record, skipped ones included, so this is
 * on the run's hot path). Keys are stored in ledgers: the hash must never
 * change its output. The streams after the policy name are the same for
 * every key of a run: made once (key_prefix). */
static const key_hash key_seed = {0xcbf29ce484222325ULL,
                                  0x84222325cbf29ce4ULL ^ 0x9e3779b97f4a7c15ULL};

static void key_feed(key_hash *h, const char *s) {
  /* Locals, not h->a: a store through h could alias *p (a char), which
   * would keep both streams in memory on every byte. */
  uint64_t a = h->a, b = h->b;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    a = (a ^ *p) * 0x100000001b3ULL;
    b = (b ^ *p) * 0x100000001b3ULL;
  }
  h->a = a;
  h->b = b;
}

/* "|" then the part. */
static void key_part(key_hash *h, const char *s) {
  h->a = (h->a ^ '|') * 0x100000001b3ULL;
  h->b = (h->b ^ '|') * 0x100000001b3ULL;
  key_feed(h, s);
}

/* ---- diagnostics --------------------------------------------------------- */

static void invoice_error(run_ctx *x, int32_t inv, const char *why) {
  if (x->inv_err.items[inv]) return;
  x->inv_err.items[inv] = true;
  dn_diag_add_at(x->diags, DN_E0507, x->ledger_name, 0, "customer %s invoice %s: %s; invoice skipped",
                 x->c->id, x->c->invoices[inv].id, why);
  if (x->stats) x->stats->errors++;
  explain(x, inv, "error: %s; invoice skipped", why);
}

static void customer_error_as(run_ctx *x, dn_diag_code code, const char *why) {
  if (x->cust_err) return;
  x->cust_err = true;
  dn_diag_add_at(x->diags, code, x->ledger_name, 0, "customer %s: %s; customer skipped", x->c->id,
                 why);
  if (x->stats) x->stats->errors++;
  explain(x, -1, "error: %s; customer skipped", why);
}

static void customer_error(run_ctx *x, const char *why) { customer_error_as(x, DN_E0507, why); }

/* A history holding more than a part can (runtime/history.h): the
 * ledger's data to fix, not the machine's memory. */
static void history_too_large(run_ctx *x) { customer_error_as(x, DN_E0506, x->hist.too_large); }

/* The interpreter's evaluation, and the reason of any failure (also of a
 * compiled chunk's: the evaluation is pure, so it fails the same way). */
static __attribute__((noinline)) bool eval_chunk_vm(run_ctx *x, int32_t chunk, int32_t inv,
                                                    int32_t scope_inv, dn_value *v) {
  if (dn_vm_eval(x->vm, chunk, scope_inv, v, x->err, sizeof x->err) == DN_OK) return true;
  if (inv >= 0) invoice_error(x, inv, x->err);
  else customer_error(x, x->err);
  return false;
}

/* Evaluates a chunk for invoice inv (-1: the customer); false (and the
 * invoice or customer marked as failed) on a runtime error. A native
 * library's chunk is called here directly: this is the engine's hottest
 * call, once or twice per open invoice. */
static inline bool eval_chunk(run_ctx *x, int32_t chunk, int32_t inv, dn_value *v) {
  int32_t scope_inv = x->p->chunks[chunk].scope == DN_SCOPE_INVOICE ? inv : -1;
  if (x->direct.chunks) {
    const dn_invoice_facts *in = scope_inv >= 0 ? &x->c->invoices[scope_inv] : NULL;
    if (x->direct.chunks[chunk](x->direct.frame, in, scope_inv, x->direct.stack, v) == DN_OK) return true;
  }
  return eval_chunk_vm(x, chunk, inv, scope_inv, v);
}

static inline bool eval_bool(run_ctx *x, int32_t chunk, int32_t inv, bool *out) {
  dn_value v;
  if (!eval_chunk(x, chunk, inv, &v)) return false;
  *out = v.as.b;
  if (x->trace) dn_trace_add(x->trace, chunk, inv, *out);
  return true;
}

static bool eval_priority(run_ctx *x, int32_t chunk, int32_t inv, double *out) {
  dn_value v;
  if (!eval_chunk(x, chunk, inv, &v)) return false;
  /* A missing value (computed from no credit limit, say) is no priority. */
  if (v.missing) {
    *out = NAN;
    return true;
  }
  switch (v.type) {
  case DN_T_MONEY: {
    /* "money is compared in the policy's currency" (s.6): a literal in
     * another one (`priority 100 EUR`) is converted at D's rate. */
    dn_money m = v.as.m;
    if (m.cur != x->p->currency &&
        (!x->reader || !dn_facts_convert(x->reader, m, x->p->currency, &m))) {
      const char *why = afmt(x, "no exchange rate from %s to %s for the priority",
                             dn_currency_code(v.as.m.cur), dn_currency_code(x->p->currency));
      if (inv >= 0) invoice_error(x, inv, why);
      else customer_error(x, why);
      return false;
    }
    *out = (double)m.minor / pow(10.0, dn_currency_digits(m.cur));
    break;
  }
  case DN_T_INT: *out = (double)v.as.i; break;
  case DN_T_NUMBER: *out = v.as.n; break;
  default: *out = 0.0; break;
  }
  return true;
}

/* ---- history (runtime/history.c) ------------------------------------------ */

/* A run reads the history of every customer; a decision only of one
 * that a `once per` rule fires for, so it is read on demand there. */
/* False when out of memory, or when the history holds more than a part
 * can: that is reported as the customer's data error (x->cust_err). */
static bool parse_history(run_ctx *x) {
  if (x->hist_ready) return true;
  x->hist_ready = dn_hist_load(&x->hist, x->c, x->o->history_memo, &x->scratch);
  if (!x->hist_ready && x->hist.too_large[0]) history_too_large(x);
  return x->hist_ready;
}

static int nstrcmp(const char *a, const char *b) {
  if (a == b) return 0; /* rules and steps mostly share their pointers */
  return strcmp(a ? a : "", b ? b : "");
}

/* ---- tones and actions --------------------------------------------------- */

static int32_t rank_on(const run_ctx *x, const dn_ladder *l, const char *tone) {
  for (int32_t t = 0; t < l->ntones; t++)
    if (!strcmp(x->p->tone_names[l->first_tone + t], tone)) return t;
  return -1;
}

/* A tone named in `on` or `rule` may live on another ladder than the
 * customer's (the checker allows it): it keeps its relative position, so
 * the last tone of a 3-tone ladder is the last of a 4-tone one. */
static int32_t mapped_rank(const run_ctx *x, const dn_ladder *to, const char *tone) {
  for (uint32_t i = 0; i < x->p->nladders; i++) {
    const dn_ladder *from = &x->p->ladders[i];
    int32_t r = rank_on(x, from, tone);
    if (r < 0) continue;
    if (from->ntones <= 1) return 0;
    /* round(r * (to-1) / (from-1)) in integers */
    return (2 * r * (to->ntones - 1) + (from->ntones - 1)) / (2 * (from->ntones - 1));
  }
  return 0;
}

static int32_t resolve_tone(const run_ctx *x, int32_t name) {
  const dn_ladder *l = &x->p->ladders[x->ladder];
  int32_t rank = 0;
  if (name != DN_NONE) {
    /* Name to rank is a string search over the ladders: once per run. */
    int32_t *memo = x->tone_ranks ? &x->tone_ranks[(size_t)x->ladder * x->p->nstrings + (size_t)name]
                                  : NULL;
    if (memo && *memo != INT32_MIN) {
      rank = *memo;
    } else {
      rank = rank_on(x, l, str(x, name));
      if (rank < 0) rank = mapped_rank(x, l, str(x, name));
      if (memo) *memo = rank;
    }
  }
  rank += x->shift;
  if (rank < 0) rank = 0;
  if (rank > l->ntones - 1) rank = l->ntones - 1;
  return rank;
}

static const char *tone_text(const run_ctx *x, int32_t rank) {
  if (rank < 0) return NULL;
  return x->p->tone_names[x->p->ladders[x->ladder].first_tone + rank];
}

/* The tone of an `on` or `rule` line: the first one named, as a step's
 * tone is (`do email tone neutral, sms` sends a neutral SMS); DN_NONE when
 * none is named, which resolves to the gentlest. */
static int32_t line_tone(const run_ctx *x, int32_t first, int32_t n) {
  for (int32_t i = 0; i < n; i++)
    if (x->p->actions[first + i].tone_name != DN_NONE) return x->p->actions[first + i].tone_name;
  return DN_NONE;
}

/* Adds the actions [first, first+n) as raw actions; false only on out of
 * memory. A failing priority marks the invoice (or customer) as failed,
 * and consolidation drops its actions. */
static bool add_actions(run_ctx *x, int32_t first, int32_t n, int32_t step_tone,
                        const raw_act *proto, bool only_first) {
  for (int32_t i = 0; i < n; i++) {
    const dn_action_def *a = &x->p->actions[first + i];
    raw_act *r = VEC_PUSH(x->raws);
    if (!r) return false;
    *r = *proto;
    r->kind = a->kind;
    r->text = str(x, a->text);
    r->template_name = str(x, a->template_name);
    r->tone = dn_action_is_contact(a->kind)
                  ? resolve_tone(x, a->tone_name != DN_NONE ? a->tone_name : step_tone)
                  : -1;
    r->assignee = str(x, a->assign);
    if (!r->assignee && x->seg >= 0) r->assignee = str(x, x->p->segments[x->seg].assign);
    if (a->priority != DN_NONE && !r->skipped) {
      if (!eval_priority(x, a->priority, proto->inv, &r->priority)) return true;
      r->has_priority = !isnan(r->priority);
    }
    if (only_first) break;
  }
  return true;
}


/* The policy text of an expression, for explain: the union of the spans
 * the line table records for the chunk's instructions, whitespace folded,
 * cut at 80 bytes; "" when the program carries no source (a .dbc compiled
 * without it). */
static const char *cond_text(run_ctx *x, int32_t chunk) {
  const dn_program *p = x->p;
  if (chunk == DN_NONE || !p->source) return "";
  const dn_chunk *c = &p->chunks[chunk];
  uint32_t lo = UINT32_MAX, hi = 0;
  for (uint32_t i = 0; i < p->nlines; i++) {
    const dn_line *l = &p->lines[i];
    if (l->pc < c->start || l->pc >= c->start + c->len) continue;
    if (l->span.start < lo) lo = l->span.start;
    if (l->span.end > hi) hi = l->span.end;
  }
  if (lo >= hi || hi > p->source_len) return "";
  char buf[84];
  size_t n = 0;
  for (uint32_t i = lo; i < hi && n < 80; i++) {
    char ch = p->source[i];
    bool space = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
    if (space && (n == 0 || buf[n - 1] == ' ')) continue;
    buf[n++] = space ? ' ' : ch;
  }
  if (hi - lo > 80) buf[n++] = '.', buf[n++] = '.', buf[n++] = '.';
  buf[n] = '\0';
  return afmt(x, " (%s)", buf);
}

/* ---- segmentation -------------------------------------------------------- */

/* The facts explain starts from, so a reader can check each decision. */
static void explain_facts(run_ctx *x) {
  const dn_customer_facts *c = x->c;
  char open[32], overdue[32], limit[48];
  dn_money_format(c->total_open_p.minor, c->total_open_p.cur, open);
  dn_money_format(c->total_overdue_p.minor, c->total_overdue_p.cur, overdue);
  snprintf(limit, sizeof limit, "none");
  const char *code = dn_currency_code(x->p->currency);
  if (c->credit_limit_p.cur != DN_CUR_NONE) {
    char amount[32];
    dn_money_format(c->credit_limit_p.minor, c->credit_limit_p.cur, amount);
    snprintf(limit, sizeof limit, "%s %s", amount, code);
  }
  explain(x, -1, "facts: %d open invoice%s, total open %s %s, overdue %s %s, credit limit %s, "
          "oldest %d days past due, avg %.1f days late, on time %.0f%%%s",
          c->open_invoices, c->open_invoices == 1 ? "" : "s", open, code, overdue, code, limit,
          c->oldest_days_past_due, c->avg_days_late, c->on_time_ratio * 100.0,
          c->promise_active ? ", promise active" : "");
}

static void choose_segment(run_ctx *x) {
  x->seg = -1;
  if (x->o->explain) explain_facts(x);
  for (uint32_t s = 0; s < x->p->nsegments; s++) {
    const dn_segment_def *d = &x->p->segments[s];
    bool holds = true;
    if (d->cond != DN_NONE && !eval_bool(x, d->cond, -1, &holds)) return;
    if (x->o->explain)
      explain(x, -1, "segment %s%s: %s", name_of(x, d->name), cond_text(x, d->cond),
              d->cond == DN_NONE ? "otherwise, chosen" : holds ? "condition true, chosen"
                                                               : "condition false");
    if (holds) {
      x->seg = (int32_t)s;
      return;
    }
  }
  explain(x, -1, "no segment matched: no escalation applies");
}

/* ---- escalations --------------------------------------------------------- */

static const char *step_label(run_ctx *x, const dn_step_def *s) {
  return x->step_labels[s - x->p->steps];
}

static char *text_fmt(dn_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *text_fmt(dn_arena *a, const char *fmt, ...) {
  char buf[128];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return dn_arena_strndup(a, buf, strlen(buf));
}

static bool make_step_texts(run_ctx *x) {
  uint32_t n = x->p->nsteps;
  if (n == 0) return true;
  x->step_labels = dn_arena_alloc(&x->texts, sizeof(char *) * n);
  x->step_words = dn_arena_alloc(&x->texts, sizeof(char *) * n);
  x->skip_reasons = dn_arena_alloc(&x->texts, sizeof(char *) * n);
  if (!x->step_labels || !x->step_words || !x->skip_reasons) return false;
  for (uint32_t i = 0; i < n; i++) {
    const dn_step_def *s = &x->p->steps[i];
    int d = s->offset_days;
    const char *plural = d == 1 || d == -1 ? "" : "s";
    char label[16];
    x->step_labels[i] = text_fmt(&x->texts, "%s", dn_step_label(s, label));
    x->step_words[i] = s->business ? text_fmt(&x->texts, "%d business day%s", d, plural)
                                   : text_fmt(&x->texts, "%d day%s", d, plural);
    x->skip_reasons[i] = text_fmt(&x->texts, "skipped: caught up to step %s", x->step_labels[i]);
    if (!x->step_labels[i] || !x->step_words[i] || !x->skip_reasons[i]) return false;
  }
  x->step_reasons = dn_arena_alloc(&x->texts, sizeof(char *) * n);
  x->calendar_ladder = dn_arena_alloc(&x->texts, sizeof(bool) * (x->p->nescalations + 1));
  if (!x->step_reasons || !x->calendar_ladder) return false;
  for (uint32_t e = 0; e < x->p->nescalations; e++) {
    const dn_escalation_def *esc = &x->p->escalations[e];
    x->calendar_ladder[e] = true;
    for (int32_t k = esc->first_step; k < esc->first_step + esc->nsteps; k++)
      x->calendar_ladder[e] &= !x->p->steps[k].business;
    for (int32_t k = esc->first_step; k < esc->first_step + esc->nsteps; k++) {
      x->step_reasons[k] = text_fmt(&x->texts, "%s step %s", name_of(x, esc->name), x->step_words[k]);
      if (!x->step_reasons[k]) return false;
    }
  }
  return true;
}

/* s + sep + t in the arena, whatever their length. */
static const char *join2(dn_arena *a, const char *s, char sep, const char *t) {
  size_t ls = strlen(s), lt = strlen(t);
  char *out = dn_arena_alloc(a, ls + lt + 2);
  if (!out) return NULL;
  memcpy(out, s, ls);
  out[ls] = sep;
  memcpy(out + ls + 1, t, lt + 1);
  return out;
}

/* The per-run tables of tones: default template names and the memo of
 * tone ranks per ladder (see resolve_tone). */
static bool make_tone_texts(run_ctx *x) {
  const dn_program *p = x->p;
  if (p->nrules > 0) {
    x->rule_reasons = dn_arena_alloc(&x->texts, sizeof *x->rule_reasons * p->nrules);
    if (!x->rule_reasons) return false;
    for (uint32_t i = 0; i < p->nrules; i++) {
      x->rule_reasons[i] = join2(&x->texts, "rule", ' ', name_of(x, p->rules[i].name));
      if (!x->rule_reasons[i]) return false;
    }
  }
  if (p->ntone_names > 0) {
    size_t n = (size_t)DN_ACT_COUNT * p->ntone_names;
    x->templates = dn_arena_alloc(&x->texts, sizeof *x->templates * n);
    if (!x->templates) return false;
    for (int k = 0; k < DN_ACT_COUNT; k++)
      for (uint32_t t = 0; t < p->ntone_names; t++)
        x->templates[(size_t)k * p->ntone_names + t] =
            dn_action_is_contact((dn_action_kind)k)
                ? join2(&x->texts, dn_action_kind_name((dn_action_kind)k), '-', p->tone_names[t])
                : NULL;
  }
  if (p->nladders > 0 && p->nstrings > 0) {
    size_t n = (size_t)p->nladders * p->nstrings;
    x->tone_ranks = dn_arena_alloc(&x->texts, sizeof *x->tone_ranks * n);
    if (!x->tone_ranks) return false;
    for (size_t i = 0; i < n; i++) x->tone_ranks[i] = INT32_MIN;
  }
  if (p->nsegments > 0 && p->nsteps > 0) {
    size_t n = (size_t)p->nsegments * (p->nsteps + 1);
    x->step_tones = dn_arena_alloc(&x->texts, sizeof *x->step_tones * n);
    x->step_tones_full = dn_arena_alloc(&x->texts, sizeof *x->step_tones_full * p->nsegments);
    if (!x->step_tones || !x->step_tones_full) return false;
    for (size_t i = 0; i < n; i++) x->step_tones[i] = i % (p->nsteps + 1) == 0 ? -1 : INT32_MIN;
    memset(x->step_tones_full, 0, sizeof *x->step_tones_full * p->nsegments);
  }
  return true;
}

static bool segment_listed(const run_ctx *x, const dn_escalation_def *e) {
  for (int32_t i = 0; i < e->nsegments; i++)
    if (x->p->segment_refs[e->first_segment + i] == x->seg) return true;
  return false;
}

enum { STEP_NOT_YET, STEP_GUARD_FALSE, STEP_DUE };

/* The explain line of one step of current_step's walk, out of the walk's
 * way: the walk runs for every open invoice, explaining for one. */
static __attribute__((cold, noinline)) void explain_step(run_ctx *x, const dn_escalation_def *e,
                                                         int32_t inv, const dn_step_def *st,
                                                         int32_t past, int what) {
  const char *ename = name_of(x, e->name);
  if (what == STEP_NOT_YET) /* labels cost an allocation: only when explaining */
    explain(x, inv, "%s step %s: not yet (%d %s past due)", ename, step_label(x, st), past,
            st->business ? "business days" : "days");
  else if (what == STEP_GUARD_FALSE)
    explain(x, inv, "%s step %s: due, but its `when` guard%s is false", ename, step_label(x, st),
            cond_text(x, st->guard));
  else
    explain(x, inv, "%s step %s: due (offset %d <= %d)%s", ename, step_label(x, st),
            st->offset_days, past, st->guard != DN_NONE ? ", guard true" : "");
}

/* The latest step whose offset is reached and whose guard holds; -1 none,
 * -2 on a runtime error. A native library's compiled ladders (runtime/
 * native_ladder.c) walk the steps the same way for decisions: a change
 * here is a change there (tests/native compares the two on every golden
 * case and shipped policy). */
static int32_t current_step(run_ctx *x, const dn_escalation_def *e, int32_t inv) {
  const dn_invoice_facts *f = &x->c->invoices[inv];
  const dn_step_def *steps = &x->p->steps[e->first_step];
  const int32_t dpd = f->days_past_due;
  const bool explaining = x->o->explain != NULL;
  int32_t bdpd = 0;
  bool have_bdpd = false;
  int32_t s = e->nsteps - 1;
  /* Unexplained, a step not yet reached is only passed over: on a ladder
   * of calendar days that is a scan of offsets (most invoices are short
   * of the last steps). It costs 3 % more instructions than the loop
   * alone, and was faster in 10 of 11 alternated bench/eval pairs (a
   * tighter branch to predict); measured again when removing it. */
  if (!explaining && x->calendar_ladder && x->calendar_ladder[e - x->p->escalations])
    while (s >= 0 && steps[s].offset_days > dpd) s--;
  for (; s >= 0; s--) {
    const dn_step_def *st = &steps[s];
    int32_t past = dpd;
    if (st->business) {
      if (!have_bdpd) {
        /* ledger dates: the count fits (years 1 to 9999) */
        bdpd = x->cal ? (int32_t)dn_calendar_business_days_between(x->cal, f->due_date, x->as_of)
                      : f->days_past_due;
        have_bdpd = true;
      }
      past = bdpd;
    }
    if (st->offset_days > past) {
      if (explaining) explain_step(x, e, inv, st, past, STEP_NOT_YET);
      continue;
    }
    bool ok = true;
    if (st->guard != DN_NONE && !eval_bool(x, st->guard, inv, &ok)) return -2;
    if (!ok) {
      if (explaining) explain_step(x, e, inv, st, past, STEP_GUARD_FALSE);
      continue;
    }
    if (explaining) explain_step(x, e, inv, st, past, STEP_DUE);
    return s;
  }
  return -1;
}

/* A step counts as emitted once one of its actions went out; a contact of
 * it that a cap deferred, and that has not gone out since, is proposed
 * again (s.5 step 8: deferred, "reconsidered on the next run"), or it
 * would be lost for good behind its sibling (a call admitted, the email
 * deferred). The sibling itself is not repeated. */
/* The reason and detail of a step's actions: built only for actions that
 * are proposed, not for every open invoice whose step already went out. */
static void describe_step(run_ctx *x, raw_act *proto, const dn_step_def *st) {
  const dn_invoice_facts *f = &x->c->invoices[proto->inv];
  proto->reason = x->step_reasons[st - x->p->steps];
  sb_reset(x);
  sb_add(x, f->id);
  add_dpd(x, f->days_past_due);
  proto->detail = sb_dup(x);
  proto->dpd_detail = true;
}

static bool retry_deferred_contacts(run_ctx *x, const dn_step_def *st, raw_act *proto) {
  const char *inv_id = x->c->invoices[proto->inv].id;
  for (int32_t i = 0; i < st->nactions; i++) {
    dn_action_kind k = x->p->actions[st->first_action + i].kind;
    if (!dn_action_is_contact(k)) continue;
    const char *kn = dn_action_kind_name(k);
    if (!dn_hist_owed(&x->hist, proto->rule, proto->step, inv_id, kn)) continue;
    explain(x, proto->inv, "%s step %s: %s deferred before, reconsidered", proto->rule,
            proto->step, kn);
    if (!proto->reason) describe_step(x, proto, st);
    if (!add_actions(x, st->first_action + i, 1, st->tone_name, proto, false)) return false;
  }
  return true;
}

enum { STEP_NONE = -1, STEP_ERROR = -2, STEP_PAUSED = -3 };

static __attribute__((cold, noinline)) void explain_due(run_ctx *x, const dn_escalation_def *e,
                                                        int32_t inv, int32_t k) {
  if (k == STEP_PAUSED)
    explain(x, inv, "%s: paused (the unless guard%s holds)", name_of(x, e->name),
            cond_text(x, e->unless_guard));
  else if (k == STEP_NONE)
    explain(x, inv, "%s: no step due", name_of(x, e->name));
}

/* The step of escalation e due for invoice inv (s.5 step 3): its index
 * within e, or STEP_NONE, STEP_PAUSED (the unless guard holds), STEP_ERROR
 * (a runtime error; the invoice is marked failed). A run and a decision
 * (dn_engine_session_decide) both ask it, so they cannot disagree. */
static int32_t due_step(run_ctx *x, const dn_escalation_def *e, int32_t inv) {
  int32_t k;
  bool paused = false;
  if (e->unless_guard != DN_NONE && !eval_bool(x, e->unless_guard, inv, &paused)) return STEP_ERROR;
  k = paused ? STEP_PAUSED : current_step(x, e, inv);
  if (x->o->explain) explain_due(x, e, inv, k);
  return k;
}

static bool run_escalation(run_ctx *x, const dn_escalation_def *e, int32_t inv) {
  const dn_invoice_facts *f = &x->c->invoices[inv];
  const char *ename = name_of(x, e->name);
  int32_t k = due_step(x, e, inv);
  if (k < 0) return true;
  const dn_step_def *cur = &x->p->steps[e->first_step + k];
  const char *label = step_label(x, cur);
  raw_act proto = {.rule = ename, .step = label, .key_step = label, .inv = inv,
                   .escalation = true};
  if (dn_hist_find(&x->hist, ename, label, f->id) >= 0) {
    explain(x, inv, "%s step %s: already emitted", ename, label);
    return retry_deferred_contacts(x, cur, &proto);
  }
  describe_step(x, &proto, cur);
  explain(x, inv, "%s step %s: emitted", ename, label);
  if (!add_actions(x, cur->first_action, cur->nactions, cur->tone_name, &proto, false))
    return false;
  for (int32_t s = 0; s < k; s++) {
    const dn_step_def *st = &x->p->steps[e->first_step + s];
    const char *sl = step_label(x, st);
    if (dn_hist_find(&x->hist, ename, sl, f->id) >= 0) continue;
    raw_act sk = {.rule = ename, .step = sl, .key_step = sl, .inv = inv, .skipped = true,
                  .escalation = true};
    sk.reason = x->skip_reasons[cur - x->p->steps];
    explain(x, inv, "%s step %s: skipped (caught up to %s)", ename, sl, label);
    if (st->nactions > 0 && !add_actions(x, st->first_action, 1, st->tone_name, &sk, true))
      return false;
  }
  return true;
}

static bool run_escalations(run_ctx *x) {
  if (x->seg < 0) return true;
  for (uint32_t ei = 0; ei < x->p->nescalations; ei++) {
    const dn_escalation_def *e = &x->p->escalations[ei];
    if (!segment_listed(x, e)) continue;
    for (int32_t i = 0; i < x->c->ninvoices && !x->cust_err; i++) {
      const dn_invoice_facts *f = &x->c->invoices[i];
      if (!f->open || x->inv_err.items[i]) continue;
      if (!run_escalation(x, e, i)) return false;
    }
  }
  return true;
}

/* ---- events and rules ---------------------------------------------------- */

/* Fires the `on` rules of one event. `retry`: the event's contacts were
 * deferred on an earlier run and nothing of it went out since. */
static bool fire_event(run_ctx *x, const dn_event_fact *ev, bool retry) {
  const char *rule = afmt(x, "on %s", dn_event_name(ev->kind));
  for (uint32_t di = 0; di < x->p->nevents; di++) {
    const dn_event_def *d = &x->p->events[di];
    if (d->event != ev->kind) continue;
    int32_t inv = -1;
    if (d->scope == DN_SCOPE_INVOICE) {
      if (ev->invoice < 0 || x->inv_err.items[ev->invoice]) continue;
      if (retry && !x->c->invoices[ev->invoice].open) continue;
      inv = ev->invoice;
    }
    bool ok = true;
    /* The day's own events never come back: their guards stay out of the
     * conditions trace, which stands for the days after (run_traced). A
     * retry comes back each day until its contact goes out: traced. */
    dn_trace *traced = x->trace;
    if (!retry) x->trace = NULL;
    bool evaluated = d->guard == DN_NONE || eval_bool(x, d->guard, inv, &ok);
    x->trace = traced;
    if (!evaluated) continue;
    explain(x, inv, "%s %s: %s%s", rule, ev->id, ok ? "fires" : "guard false",
            retry ? " (deferred before, reconsidered)" : "");
    if (!ok) continue;
    raw_act proto = {.rule = rule, .step = ev->id, .key_step = ev->id, .inv = inv};
    proto.reason = afmt(x, "%s %s%s", rule, ev->id, retry ? " (deferred before)" : "");
    int32_t tone = line_tone(x, d->first_action, d->nactions);
    for (int32_t i = 0; i < d->nactions; i++) {
      /* A retry proposes only the contacts that were deferred and never
       * went out since; the rule's other actions already did. */
      dn_action_kind k = x->p->actions[d->first_action + i].kind;
      const char *kn = dn_action_kind_name(k);
      if (retry && (!dn_action_is_contact(k) || !dn_hist_owed(&x->hist, rule, ev->id, NULL, kn)))
        continue;
      if (!add_actions(x, d->first_action + i, 1, tone, &proto, false)) return false;
    }
  }
  return true;
}

static int32_t invoice_index(const run_ctx *x, const char *id) {
  for (int32_t i = 0; id && i < x->c->ninvoices; i++)
    if (!strcmp(x->c->invoices[i].id, id)) return i;
  return -1;
}

/* Events whose contacts were deferred are reconsidered on the next runs
 * (LANGUAGE.md s.5 step 8): each contact kind of an "on EVENT" history
 * part with a deferred row and no counting row of that kind is proposed
 * again, until it goes out (fire_event filters by kind). */
static bool retry_deferred_events(run_ctx *x) {
  dn_hist *h = &x->hist;
  int32_t lo, hi;
  dn_hist_rule_prefix(h, "on ", &lo, &hi);
  for (int32_t i = lo; i < hi && !x->cust_err; i++) {
    const dn_hist_part *hp = &h->parts[i];
    const dn_hist_name *name = dn_hist_part_name(h, hp);
    if (!name->step) continue;
    if (i > lo && dn_hist_same_key(h, &h->parts[i - 1], hp)) continue;
    bool owed = false; /* a deferred contact kind that never went out since */
    for (int32_t j = i; j < hi && !owed; j++) {
      const dn_hist_part *hq = &h->parts[j];
      if (!dn_hist_same_key(h, hq, hp)) break;
      owed = (hq->flags & DN_HIST_DEFERRED) &&
             !dn_hist_has_kind(h, name->rule, name->step, NULL, h->rows[hq->row].kind, false);
    }
    if (!owed) continue;
    dn_event_fact ev = {.kind = DN_EV_COUNT, .id = name->step, .invoice = -1};
    for (int k = 0; k < DN_EV_COUNT; k++)
      if (!strcmp(name->rule + 3, dn_event_name((dn_event_kind)k))) ev.kind = (dn_event_kind)k;
    if (ev.kind == DN_EV_COUNT) continue;
    ev.invoice = invoice_index(x, dn_hist_part_invoice(hp));
    if (!fire_event(x, &ev, true)) return false;
  }
  return true;
}

static bool run_events(run_ctx *x) {
  for (int32_t ei = 0; ei < x->c->nevents && !x->cust_err; ei++)
    if (!fire_event(x, &x->c->events[ei], false)) return false;
  return retry_deferred_events(x);
}

static bool once_blocked(run_ctx *x, const dn_rule_def *r, int32_t inv) {
  if (r->once_per_days <= 0) return false;
  const char *name = name_of(x, r->name);
  const char *inv_id = inv >= 0 ? x->c->invoices[inv].id : NULL;
  int32_t h = dn_hist_find(&x->hist, name, NULL, inv_id);
  if (h < 0 || x->c->history[h].as_of <= x->as_of - r->once_per_days) {
    if (h >= 0) explain(x, inv, "rule %s: last fired more than %d days ago", name, r->once_per_days);
    return false;
  }
  char d[11];
  dn_date_format(x->c->history[h].as_of, d);
  explain(x, inv, "rule %s: holds, but fired on %s (once per %d days)", name, d,
          r->once_per_days);
  return true;
}

/* While `once per` blocks a rule, its contacts that a cap deferred after
 * the last one of their kind went out are proposed again (s.5 step 8);
 * its other actions went out when it fired. */
static bool retry_rule_contacts(run_ctx *x, const dn_rule_def *r, int32_t inv, raw_act *proto) {
  const char *inv_id = inv >= 0 ? x->c->invoices[inv].id : NULL;
  int32_t tone = line_tone(x, r->first_action, r->nactions);
  for (int32_t i = 0; i < r->nactions; i++) {
    dn_action_kind k = x->p->actions[r->first_action + i].kind;
    if (!dn_action_is_contact(k)) continue;
    const char *kn = dn_action_kind_name(k);
    dn_date d = dn_hist_last_kind(&x->hist, proto->rule, inv_id, kn, true);
    dn_date c = dn_hist_last_kind(&x->hist, proto->rule, inv_id, kn, false);
    if (d == DN_DATE_NONE || (c != DN_DATE_NONE && c >= d)) continue;
    explain(x, inv, "rule %s: %s deferred before, reconsidered", proto->rule, kn);
    proto->reason = afmt(x, "rule %s (deferred before)", proto->rule);
    if (!add_actions(x, r->first_action + i, 1, tone, proto, false)) return false;
  }
  return true;
}

/* Whether rule r's condition holds for inv (-1: the customer); false too
 * on a runtime error, which marks the invoice or customer failed. */
static bool rule_holds(run_ctx *x, const dn_rule_def *r, int32_t inv) {
  bool holds = false;
  if (!eval_bool(x, r->cond, inv, &holds)) return false;
  if (!holds && x->o->explain)
    explain(x, inv, "rule %s%s: condition false", name_of(x, r->name), cond_text(x, r->cond));
  return holds;
}

static bool fire_rule(run_ctx *x, const dn_rule_def *r, int32_t inv) {
  if (!rule_holds(x, r, inv)) return true;
  const char *name = name_of(x, r->name);
  raw_act proto = {.rule = name, .key_step = x->as_of_text, .inv = inv};
  proto.detail = inv >= 0 ? x->c->invoices[inv].id : NULL;
  if (once_blocked(x, r, inv)) return retry_rule_contacts(x, r, inv, &proto);
  if (x->o->explain) explain(x, inv, "rule %s%s: fires", name, cond_text(x, r->cond));
  proto.reason = x->rule_reasons ? x->rule_reasons[r - x->p->rules] : afmt(x, "rule %s", name);
  return add_actions(x, r->first_action, r->nactions, line_tone(x, r->first_action, r->nactions), &proto,
                     false);
}

static bool run_rules(run_ctx *x) {
  for (uint32_t ri = 0; ri < x->p->nrules && !x->cust_err; ri++) {
    const dn_rule_def *r = &x->p->rules[ri];
    if (r->scope == DN_SCOPE_CUSTOMER) {
      if (!fire_rule(x, r, -1)) return false;
      continue;
    }
    for (int32_t i = 0; i < x->c->ninvoices && !x->cust_err; i++) {
      if (!x->c->invoices[i].open || x->inv_err.items[i]) continue;
      if (!fire_rule(x, r, i)) return false;
    }
  }
  return true;
}

/* ---- consolidation ------------------------------------------------------- */

/* Groups: contacts by channel; other kinds by kind and text. Inside a
 * group, parts go by invoice (customer-level first), rule, step. */
static int raw_cmp(const void *pa, const void *pb) {
  const raw_act *a = *(const raw_act *const *)pa, *b = *(const raw_act *const *)pb;
  if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
  int c;
  if (!dn_action_is_contact(a->kind) && (c = nstrcmp(a->text, b->text))) return c;
  if (a->inv != b->inv) return a->inv < b->inv ? -1 : 1;
  if ((c = nstrcmp(a->rule, b->rule))) return c;
  if ((c = nstrcmp(a->step, b->step))) return c;
  return a < b ? -1 : a > b; /* creation order: stable and deterministic */
}

static bool same_group(const raw_act *a, const raw_act *b) {
  if (a->kind != b->kind) return false;
  return dn_action_is_contact(a->kind) || nstrcmp(a->text, b->text) == 0;
}

/* Joins one string field of the parts [g, e): the single value when all
 * agree, else comma-separated in part order. */
static const char *join_field(run_ctx *x, const raw_act *const *ps, int32_t n, size_t off) {
  const raw_act *first = ps[0];
  const char *v0 = *(const char *const *)((const char *)first + off);
  bool same = true;
  for (int32_t i = 1; i < n && same; i++) {
    const char *v = *(const char *const *)((const char *)ps[i] + off);
    same = nstrcmp(v, v0) == 0;
  }
  if (same) return v0;
  sb_reset(x);
  for (int32_t i = 0; i < n; i++) {
    const char *v = *(const char *const *)((const char *)ps[i] + off);
    if (i) sb_add(x, ",");
    sb_add(x, v ? v : "");
  }
  return sb_dup(x);
}

/* The step list of a record whose parts outnumber its invoices (one
 * invoice brought a step and a rule contact of the same channel): the
 * parts past the invoice list carry their invoice, "1d,1d,@I1", so that
 * history read back applies each part to its own invoice only. */
static const char *join_steps_tagged(run_ctx *x, const raw_act *const *ps, int32_t n, int32_t ninv) {
  sb_reset(x);
  for (int32_t i = 0; i < n; i++) {
    if (i) sb_add(x, ",");
    if (ps[i]->step) sb_add(x, ps[i]->step);
    if (i >= ninv && ps[i]->inv >= 0) {
      sb_add(x, "@");
      sb_add(x, x->c->invoices[ps[i]->inv].id);
    }
  }
  return sb_dup(x);
}

/* Orders parts so the first one of each invoice comes first, in invoice
 * order, aligned with the record's invoice list; then the others (a
 * customer-level part, a second escalation on the same invoice). History
 * reading relies on this alignment. *nprefix = number of invoices. */
static const raw_act **align_parts(run_ctx *x, const raw_act *const *ps, int32_t n,
                                   int32_t *nprefix) {
  if (n == 1) { /* most records: nothing to order */
    *nprefix = ps[0]->inv >= 0;
    return (const raw_act **)ps;
  }
  const raw_act **ord = dn_arena_alloc(&x->scratch, sizeof *ord * (size_t)n);
  if (!ord) return NULL;
  int32_t m = 0;
  for (int32_t i = 0; i < n; i++)
    if (ps[i]->inv >= 0 && (i == 0 || ps[i - 1]->inv != ps[i]->inv)) ord[m++] = ps[i];
  *nprefix = m;
  for (int32_t i = 0; i < n; i++)
    if (!(ps[i]->inv >= 0 && (i == 0 || ps[i - 1]->inv != ps[i]->inv))) ord[m++] = ps[i];
  return ord;
}

static bool build_reason(run_ctx *x, const raw_act *const *ps, int32_t n, bool any_escalation,
                         dn_reason_span *spans, int32_t *nspans);

/* "email-firm": made once per run; afmt when the table could not be. */
static const char *default_template(run_ctx *x, dn_action_kind kind, int32_t rank) {
  int32_t t = x->p->ladders[x->ladder].first_tone + rank;
  if (x->templates && x->templates[(size_t)kind * x->p->ntone_names + (size_t)t])
    return x->templates[(size_t)kind * x->p->ntone_names + (size_t)t];
  return afmt(x, "%s-%s", dn_action_kind_name(kind), x->p->tone_names[t]);
}

static bool build_record(run_ctx *x, const raw_act *const *sorted, int32_t n, bool skipped) {
  int32_t ninv;
  const raw_act *const *ps = align_parts(x, sorted, n, &ninv);
  out_act *o = ps ? VEC_PUSH(x->outs) : NULL;
  if (!o) return false;
  const raw_act *r0 = ps[0];
  dn_action_rec *a = &o->rec;
  a->customer = x->c->id;
  a->kind = r0->kind;
  a->text = r0->text;
  a->as_of = x->as_of;
  a->segment = x->c->segment;
  a->status = skipped ? DN_STATUS_SKIPPED : DN_STATUS_SCHEDULED;
  o->contact = dn_action_is_contact(r0->kind) && !skipped;
  a->invoices = dn_arena_alloc(&x->scratch, sizeof *a->invoices * (size_t)n);
  if (!a->invoices) return false;
  int32_t best = -1;
  bool any_escalation = false;
  for (int32_t i = 0; i < n; i++) {
    const raw_act *r = ps[i];
    if (i < ninv) a->invoices[a->ninvoices++] = x->c->invoices[r->inv].id;
    if (best < 0 || r->tone > ps[best]->tone) best = i;
    if (r->has_priority && (!a->has_priority || r->priority > a->priority)) {
      a->has_priority = true;
      a->priority = r->priority;
    }
    if (!a->assignee) a->assignee = r->assignee;
    any_escalation |= r->escalation && !r->skipped;
  }
  const raw_act *rb = ps[best];
  o->tone_rank = rb->tone;
  a->tone = tone_text(x, rb->tone);
  if (rb->tone >= 0)
    a->template_name = rb->template_name ? rb->template_name : default_template(x, a->kind, rb->tone);
  if (n == 1 && !(any_escalation && x->seg >= 0) && !r0->detail) {
    a->reason = r0->reason; /* a skipped step, a customer rule: the phrase alone */
  } else {
    dn_reason_span *spans = dn_arena_alloc(&x->scratch, sizeof *spans * (size_t)n);
    if (!spans || !build_reason(x, ps, n, any_escalation, spans, &a->nspans)) return false;
    a->reason = sb_dup(x);
    a->spans = a->nspans ? spans : NULL;
  }
  a->rule = join_field(x, ps, n, offsetof(raw_act, rule));
  a->step = ninv > 0 && n > ninv ? join_steps_tagged(x, ps, n, ninv)
                                  : join_field(x, ps, n, offsetof(raw_act, step));
  o->key_step = join_field(x, ps, n, offsetof(raw_act, key_step));
  if (a->ninvoices <= 1) {
    o->inv_list = a->ninvoices ? a->invoices[0] : "";
    return true;
  }
  sb_reset(x);
  for (int32_t i = 0; i < a->ninvoices; i++) {
    if (i) sb_add(x, ",");
    sb_add(x, a->invoices[i]);
  }
  o->inv_list = sb_dup(x);
  return true;
}

/* The reason of a record in x->sb: "segment S" for escalations, then one
 * phrase per distinct reason followed by the invoices it covers. */
static bool build_reason(run_ctx *x, const raw_act *const *ps, int32_t n, bool any_escalation,
                         dn_reason_span *spans, int32_t *nspans) {
  *nspans = 0;
  sb_reset(x);
  if (any_escalation && x->seg >= 0) {
    sb_add(x, "segment ");
    sb_add(x, name_of(x, x->p->segments[x->seg].name));
  }
  for (int32_t i = 0; i < n; i++) {
    /* One phrase per distinct reason, followed by the invoices it covers:
     * "dunning step 7 days; invoices I1 9 days past due, I2 8 days ..." */
    const char *why = ps[i]->reason;
    bool dup = false;
    for (int32_t j = 0; j < i && !dup; j++) dup = !strcmp(why, ps[j]->reason);
    if (dup) continue;
    if (x->sb.n) sb_add(x, "; ");
    sb_add(x, why);
    int32_t ndetail = 0;
    for (int32_t k = i; k < n; k++) ndetail += ps[k]->detail && !strcmp(why, ps[k]->reason);
    for (int32_t k = i, w = 0; k < n && ndetail; k++) {
      if (!ps[k]->detail || strcmp(why, ps[k]->reason)) continue;
      sb_add(x, w++ ? ", " : ndetail == 1 ? "; invoice " : "; invoices ");
      if (ps[k]->dpd_detail) {
        int32_t id = (int32_t)strlen(x->c->invoices[ps[k]->inv].id);
        spans[(*nspans)++] = (dn_reason_span){x->sb.n + id, (int32_t)strlen(ps[k]->detail) - id,
                                              ps[k]->inv};
      }
      sb_add(x, ps[k]->detail);
    }
  }
  return true;
}

DN_DEFINE_SORT(sort_raws, const raw_act *, raw_cmp)

static bool consolidate(run_ctx *x) {
  x->idx.n = 0;
  for (int32_t i = 0; i < x->raws.n; i++) {
    const raw_act *r = &x->raws.items[i];
    if (r->inv >= 0 && x->inv_err.items[r->inv]) continue;
    if (r->skipped) {
      if (!build_record(x, &r, 1, true)) return false;
      continue;
    }
    const raw_act **slot = VEC_PUSH(x->idx);
    if (!slot) return false;
    *slot = r;
  }
  sort_raws(&x->scratch, x->idx.items, x->idx.n);
  for (int32_t g = 0; g < x->idx.n;) {
    int32_t e = g + 1;
    while (e < x->idx.n &&
           same_group(x->idx.items[g], x->idx.items[e]))
      e++;
    if (!build_record(x, x->idx.items + g, e - g, false)) return false;
    g = e;
  }
  return true;
}

/* ---- caps ---------------------------------------------------------------- */

static int channel_weight(dn_action_kind k) {
  switch (k) {
  case DN_ACT_LETTER: return 0;
  case DN_ACT_CALL: return 1;
  case DN_ACT_EMAIL: return 2;
  default: return 3;
  }
}

static void finish_key(run_ctx *x, out_act *o);
static int key_cmp(const out_act *a, const out_act *b);

static int admit_cmp(const void *pa, const void *pb) {
  const out_act *a = *(const out_act *const *)pa, *b = *(const out_act *const *)pb;
  double pa_ = a->rec.has_priority ? a->rec.priority : -INFINITY;
  double pb_ = b->rec.has_priority ? b->rec.priority : -INFINITY;
  if (pa_ != pb_) return pa_ > pb_ ? -1 : 1;
  if (a->tone_rank != b->tone_rank) return a->tone_rank > b->tone_rank ? -1 : 1;
  int wa = channel_weight(a->rec.kind), wb = channel_weight(b->rec.kind);
  if (wa != wb) return wa < wb ? -1 : 1;
  int c = key_cmp(a, b);
  /* Equal keys keep their record order, as the stable sort did. */
  return c ? c : (a > b) - (a < b);
}

/* Output records in key order (every record of a customer has the same
 * scheduled_at), equal keys in record order. */
static int out_ptr_cmp(const void *pa, const void *pb) {
  const out_act *a = *(const out_act *const *)pa, *b = *(const out_act *const *)pb;
  int c = key_cmp(a, b);
  return c ? c : (a > b) - (a < b);
}

DN_DEFINE_SORT(sort_admit, out_act *, admit_cmp)
DN_DEFINE_SORT(sort_outs, out_act *, out_ptr_cmp)

/* "deferred: limit N per M days reached; REASON" */
static const char *deferred_reason(run_ctx *x, const dn_cap_def *cap, const char *reason) {
  char num[16];
  sb_reset(x);
  sb_add(x, "deferred: limit");
  put_int(num, ' ', cap->count);
  sb_add(x, num);
  sb_add(x, " per");
  put_int(num, ' ', cap->days);
  sb_add(x, num);
  sb_add(x, " days reached; ");
  sb_add(x, reason);
  return sb_dup(x);
}

/* The spans of a reason that got `by` bytes in front (spans live in the
 * run's scratch arena, the record's own); none when it did not grow. */
static void shift_spans(dn_action_rec *a, int32_t by) {
  dn_reason_span *sp = (dn_reason_span *)a->spans;
  if (by < 0) a->nspans = 0;
  for (int32_t i = 0; i < a->nspans; i++) sp[i].at += by;
  if (a->nspans == 0) a->spans = NULL;
}

static bool apply_caps(run_ctx *x) {
  uint32_t nc = x->p->ncaps;
  if (nc == 0) return true;
  /* Every cap counts, however many the policy declares (zeroed). */
  int32_t *counts = dn_arena_alloc(&x->scratch, sizeof *counts * nc);
  if (!counts) return false;
  dn_hist_count_contacts(&x->hist, x->as_of, x->p->caps, nc, counts);
  int32_t ncontacts = 0;
  for (int32_t i = 0; i < x->outs.n; i++) ncontacts += x->outs.items[i].contact;
  if (ncontacts == 0) return true;
  out_act **order = dn_arena_alloc(&x->scratch, sizeof *order * (size_t)ncontacts);
  if (!order) return false;
  int32_t m = 0;
  for (int32_t i = 0; i < x->outs.n; i++) {
    if (!x->outs.items[i].contact) continue;
    finish_key(x, &x->outs.items[i]); /* a provisional key, for a total order */
    order[m++] = &x->outs.items[i];
  }
  sort_admit(&x->scratch, order, m);
  int32_t admitted = 0, first_broken = -1;
  for (int32_t i = 0; i < m; i++) {
    int32_t broken = -1;
    for (uint32_t k = 0; k < nc && broken < 0; k++)
      if (counts[k] + 1 > x->p->caps[k].count) broken = (int32_t)k;
    dn_action_rec *a = &order[i]->rec;
    if (broken < 0) {
      admitted++;
      for (uint32_t k = 0; k < nc; k++) counts[k]++;
      explain(x, -1, "caps: %s admitted", dn_action_kind_name(a->kind));
      continue;
    }
    const dn_cap_def *cap = &x->p->caps[broken];
    if (first_broken < 0) first_broken = broken;
    a->status = DN_STATUS_DEFERRED;
    const char *why = deferred_reason(x, cap, a->reason);
    shift_spans(a, (int32_t)strlen(why) - (int32_t)strlen(a->reason));
    a->reason = why;
    explain(x, -1, "caps: %s deferred (limit %d per %d days: %d already)",
            dn_action_kind_name(a->kind), cap->count, cap->days, counts[broken]);
  }
  /* Every contact after the first deferred met the same counts, so the
   * same cap; the admitted ones count in it from tomorrow. */
  if (first_broken >= 0)
    x->c->deferred_until =
        dn_hist_cap_frees(&x->hist, x->as_of, &x->p->caps[first_broken], admitted);
  return true;
}

/* ---- keys, schedule, output ---------------------------------------------- */

static void finish_key(run_ctx *x, out_act *o) {
  dn_action_rec *a = &o->rec;
  if (o->keyed && o->keyed_status == a->status) return; /* made for caps, still right */
  const char *tag = a->status == DN_STATUS_SKIPPED    ? "skipped"
                    : a->status == DN_STATUS_DEFERRED ? "deferred"
                                                      : "";
  if (!o->keyed) {
    key_hash h = x->key_prefix;
    key_part(&h, a->rule ? a->rule : "");
    key_part(&h, o->key_step ? o->key_step : "");
    key_part(&h, a->customer);
    key_part(&h, o->inv_list);
    key_part(&h, dn_action_kind_name(a->kind));
    key_part(&h, a->text ? a->text : "");
    o->unstatused = h;
  }
  key_hash h = o->unstatused;
  key_part(&h, tag);
  o->key_a = avalanche(h.a);
  o->key_b = avalanche(h.b);
  put_hex64(o->key_a, a->key);
  put_hex64(o->key_b, a->key + 16);
  a->key[32] = 0;
  o->keyed = true;
  o->keyed_status = a->status;
}

/* Key order: the hex text is the two halves big-endian, so comparing the
 * numbers is comparing the text. */
static int key_cmp(const out_act *a, const out_act *b) {
  if (a->key_a != b->key_a) return a->key_a < b->key_a ? -1 : 1;
  if (a->key_b != b->key_b) return a->key_b < b->key_b ? -1 : 1;
  return 0;
}

static zone_ent *zone_get(run_ctx *x, const char *name) {
  for (int32_t i = 0; i < x->zones.n; i++)
    if (!strcmp(x->zones.items[i].name, name)) return &x->zones.items[i];
  zone_ent *z = VEC_PUSH(x->zones);
  if (!z) return NULL;
  z->name = strdup(name);
  if (!z->name) {
    x->zones.n--;
    return NULL;
  }
  z->zone = dn_zone_load(name);
  return z;
}

/* The first business day from D: every action of the run goes out then. */
static dn_date schedule_day(const run_ctx *x) {
  dn_date day = x->as_of;
  if (x->cal && !dn_calendar_is_business_day(x->cal, day))
    day = dn_calendar_next_business_day(x->cal, day);
  return day;
}

/* The customer's scheduled_at: the window's start on the schedule day in
 * the customer's zone, else the policy's, else UTC; formatted once per
 * zone and run. */
static const char *schedule(run_ctx *x) {
  zone_ent *zone = NULL;
  if (x->c->timezone && *x->c->timezone) {
    zone_ent *z = zone_get(x, x->c->timezone);
    zone = z && z->zone ? z : NULL;
    if (!zone) {
      dn_diag_add_at(x->diags, DN_E0506, x->ledger_name, 0,
                     "customer %s: unknown time zone \"%s\"; using the policy's", x->c->id,
                     x->c->timezone);
      if (x->stats) x->stats->errors++;
    }
  }
  if (!zone && x->p->timezone) {
    zone_ent *z = zone_get(x, x->p->timezone);
    zone = z && z->zone ? z : NULL;
  }
  if (zone) {
    if (!zone->have_when) {
      dn_zone_format_local(zone->zone, x->sched_day, x->p->window_start, zone->when);
      zone->have_when = true;
    }
    return zone->when;
  }
  if (!x->have_utc_when) {
    char d[11];
    dn_date_format(x->sched_day, d);
    int ws = x->p->window_start;
    snprintf(x->utc_when, sizeof x->utc_when, "%sT%02d:%02d:00+00:00", d, ws / 60 % 24, ws % 60);
    x->have_utc_when = true;
  }
  return x->utc_when;
}

static dn_status oom(run_ctx *x);

static dn_status emit(run_ctx *x) {
  if (x->outs.n == 0) return DN_OK;
  const char *when = schedule(x);
  if (!vec_grow((void **)&x->order.items, &x->order.cap, x->outs.n, sizeof *x->order.items))
    return oom(x);
  for (int32_t i = 0; i < x->outs.n; i++) {
    out_act *o = &x->outs.items[i];
    memcpy(o->rec.scheduled_at, when, sizeof o->rec.scheduled_at);
    finish_key(x, o);
    o->rec.facts = x->c;
    x->order.items[i] = o;
  }
  sort_outs(&x->scratch, x->order.items, x->outs.n);
  for (int32_t i = 0; i < x->outs.n; i++) {
    dn_status st = x->sink(x->sink_ctx, &x->order.items[i]->rec);
    if (st != DN_OK) return st;
    if (x->stats) x->stats->actions++;
    x->deferred_out += x->order.items[i]->rec.status == DN_STATUS_DEFERRED;
  }
  return DN_OK;
}

/* ---- one customer ---------------------------------------------------------- */

static dn_status oom(run_ctx *x) {
  dn_diag_add_at(x->diags, DN_E0505, x->ledger_name, 0, "out of memory during the run");
  return DN_ERR_INTERNAL;
}

static void report_fx(run_ctx *x) {
  /* Locals: a store through inv_err would otherwise reload x->c per
   * invoice (it may alias), and this runs for every invoice. */
  const dn_invoice_facts *invoices = x->c->invoices;
  bool *err = x->inv_err.items;
  for (int32_t i = 0, n = x->c->ninvoices; i < n; i++) {
    const dn_invoice_facts *f = &invoices[i];
    err[i] = f->fx_missing;
    if (__builtin_expect(!f->fx_missing, 1) || f->balance <= 0) continue;
    dn_diag_add_at(x->diags, DN_E0501, x->ledger_name, 0,
                   "customer %s invoice %s: no fx rate %s->%s on or before %s; invoice skipped",
                   x->c->id, f->id, dn_currency_code(f->currency),
                   dn_currency_code(x->p->currency), x->as_of_text);
    if (x->stats) x->stats->errors++;
    explain(x, i, "no fx rate %s->%s: invoice skipped", dn_currency_code(f->currency),
            dn_currency_code(x->p->currency));
  }
}

/* What a run and a decision share before the escalations (s.5 steps 1-2):
 * the customer's facts checked usable, its history read (when `history`;
 * a decision reads it on demand), its segment chosen. *go is false when
 * the customer is skipped (a diagnostic says why) or a runtime error
 * stopped it. */
static dn_status begin_customer(run_ctx *x, dn_customer_facts *c, bool history, bool *go) {
  *go = false;
  dn_arena_reset(&x->scratch);
  x->c = c;
  x->hist_ready = false;
  x->raws.n = x->outs.n = 0;
  x->cust_err = false;
  x->seg = -1;
  x->ladder = 0;
  x->shift = 0;
  c->segment = NULL;
  if (c->overflow) {
    dn_diag_add_at(x->diags, DN_E0506, x->ledger_name, 0,
                   "customer %s: amounts in the ledger add up beyond what Dunlin can count; customer skipped",
                   c->id);
    if (x->stats) x->stats->errors++;
    return DN_OK;
  }
  if (c->fx_missing) {
    dn_diag_add_at(x->diags, DN_E0501, x->ledger_name, 0,
                   "customer %s: no fx rate %s->%s on or before %s for the credit limit;"
                   " customer skipped",
                   c->id, c->fx_from ? c->fx_from : "?", dn_currency_code(x->p->currency),
                   x->as_of_text);
    if (x->stats) x->stats->errors++;
    return DN_OK;
  }
  if (!vec_grow((void **)&x->inv_err.items, &x->inv_err.cap, c->ninvoices + 1,
                sizeof *x->inv_err.items))
    return oom(x);
  if (history && !parse_history(x)) return x->cust_err ? DN_OK : oom(x);
  report_fx(x);
  dn_vm_begin_customer(x->vm, c, -1);
  choose_segment(x);
  if (x->trace) dn_trace_add(x->trace, DN_TRACE_SEGMENT, x->seg, false);
  if (x->cust_err) return DN_OK;
  if (x->seg >= 0) {
    const dn_segment_def *s = &x->p->segments[x->seg];
    c->segment = name_of(x, s->name);
    x->ladder = s->ladder;
    x->shift = s->tone_shift;
  }
  dn_vm_begin_customer(x->vm, c, x->ladder);
  *go = true;
  return DN_OK;
}

static dn_status process_customer(run_ctx *x, dn_customer_facts *c) {
  bool go;
  dn_status st = begin_customer(x, c, true, &go);
  if (st != DN_OK || !go) return st;
  if (!run_escalations(x) || !run_events(x) || !run_rules(x)) return oom(x);
  if (x->cust_err) return DN_OK;
  if (!consolidate(x) || !apply_caps(x)) return oom(x);
  return emit(x);
}

/* ---- decisions without records ------------------------------------------- */

/* The tone the step's first contact goes out in, as add_actions gives it
 * (its own tone, else the step's, else the gentlest, shifted); -1 when
 * the step makes no contact. */
static int32_t contact_tone(const run_ctx *x, const dn_step_def *st) {
  for (int32_t i = 0; i < st->nactions; i++) {
    const dn_action_def *a = &x->p->actions[st->first_action + i];
    if (dn_action_is_contact(a->kind))
      return resolve_tone(x, a->tone_name != DN_NONE ? a->tone_name : st->tone_name);
  }
  return -1;
}

/* contact_tone of a step for the customer's segment, worked out once per
 * session: every open invoice of every customer of the segment asks it. */
static int32_t step_tone(const run_ctx *x, int32_t step) {
  if (!x->step_tones || x->seg < 0) return contact_tone(x, &x->p->steps[step]);
  int32_t *memo = &x->step_tones[(size_t)x->seg * (x->p->nsteps + 1) + 1 + (size_t)step];
  if (*memo == INT32_MIN) *memo = contact_tone(x, &x->p->steps[step]);
  return *memo;
}

/* The customer's segment's tone of every step (step_tone), and -1 at
 * index -1, for a compiled ladder to index; NULL when there is no such
 * table. */
static const int32_t *segment_tones(run_ctx *x) {
  if (!x->step_tones || x->seg < 0) return NULL;
  if (!x->step_tones_full[x->seg]) {
    for (uint32_t k = 0; k < x->p->nsteps; k++) step_tone(x, (int32_t)k);
    x->step_tones_full[x->seg] = true;
  }
  return x->step_tones + (size_t)x->seg * (x->p->nsteps + 1) + 1;
}

static int32_t native_bdays(void *ctx, int32_t due_date, int32_t days_past_due) {
  const run_ctx *x = ctx;
  return x->cal ? (int32_t)dn_calendar_business_days_between(x->cal, due_date, x->as_of) : days_past_due;
}

enum { LADDERS_DONE, LADDERS_OOM, LADDERS_ENGINE };

/* The decisions by the native library's compiled ladders (native_ladder.c),
 * when it has them and nothing is being explained or traced: LADDERS_ENGINE
 * (nothing kept) when one declines the customer, for the walk below to
 * decide it and report why. */
static int decide_escalations_native(run_ctx *x) {
  const dn_native *n = x->o->native;
  if (!n || x->o->explain || x->trace) return LADDERS_ENGINE;
  const int32_t *tones = segment_tones(x);
  if (!tones) return LADDERS_ENGINE;
  int32_t start = x->dsteps.n;
  for (uint32_t ei = 0; ei < x->p->nescalations; ei++) {
    if (!segment_listed(x, &x->p->escalations[ei])) continue;
    if (!vec_grow((void **)&x->dsteps.items, &x->dsteps.cap, x->dsteps.n + x->c->ninvoices,
                  sizeof *x->dsteps.items))
      return LADDERS_OOM;
    int32_t made = n->escalations[ei](x->direct.frame, x->direct.stack, tones, native_bdays, x,
                                      x->dsteps.items + x->dsteps.n);
    if (made < 0) {
      x->dsteps.n = start;
      return LADDERS_ENGINE;
    }
    x->dsteps.n += made;
  }
  return LADDERS_DONE;
}

/* Room for one decision per invoice is made once per escalation, not per
 * push: this loop runs for every open invoice of the ledger. */
static bool decide_escalations(run_ctx *x) {
  const dn_customer_facts *c = x->c;
  int native = decide_escalations_native(x);
  if (native != LADDERS_ENGINE) return native == LADDERS_DONE;
  for (uint32_t ei = 0; ei < x->p->nescalations; ei++) {
    const dn_escalation_def *e = &x->p->escalations[ei];
    if (!segment_listed(x, e)) continue;
    if (!vec_grow((void **)&x->dsteps.items, &x->dsteps.cap, x->dsteps.n + c->ninvoices,
                  sizeof *x->dsteps.items))
      return false;
    dn_step_decision *d = x->dsteps.items + x->dsteps.n;
    for (int32_t i = 0; i < c->ninvoices && !x->cust_err; i++) {
      if (!c->invoices[i].open) continue;
      int32_t k = x->inv_err.items[i] ? STEP_ERROR : due_step(x, e, i);
      *d = (dn_step_decision){.escalation = (int32_t)ei, .invoice = i, .step = DN_NONE,
                              .tone = -1, .paused = k == STEP_PAUSED, .error = k == STEP_ERROR};
      if (k >= 0) {
        d->step = e->first_step + k;
        d->tone = step_tone(x, d->step);
      }
      d++;
    }
    x->dsteps.n = (int32_t)(d - x->dsteps.items);
  }
  return true;
}

static bool decide_rules(run_ctx *x) {
  for (uint32_t ri = 0; ri < x->p->nrules && !x->cust_err; ri++) {
    const dn_rule_def *r = &x->p->rules[ri];
    bool each = r->scope != DN_SCOPE_CUSTOMER;
    for (int32_t i = each ? 0 : -1; i < (each ? x->c->ninvoices : 0) && !x->cust_err; i++) {
      if (i >= 0 && (!x->c->invoices[i].open || x->inv_err.items[i])) continue;
      if (!rule_holds(x, r, i)) continue;
      if (r->once_per_days > 0 && !parse_history(x)) {
        if (!x->cust_err) return false;
        continue;
      }
      if (once_blocked(x, r, i)) continue;
      dn_rule_decision *d = VEC_PUSH(x->drules);
      if (!d) return false;
      *d = (dn_rule_decision){.rule = (int32_t)ri, .invoice = i};
    }
  }
  return true;
}

static dn_status decide_customer(run_ctx *x, dn_customer_facts *c, dn_decision *out) {
  x->dsteps.n = x->drules.n = 0;
  memset(out, 0, sizeof *out);
  out->segment = DN_NONE;
  bool go;
  dn_status st = begin_customer(x, c, false, &go);
  if (st == DN_OK && go && (!decide_escalations(x) || !decide_rules(x))) st = oom(x);
  out->segment = x->seg >= 0 ? x->seg : DN_NONE;
  out->skipped = st == DN_OK && (!go || x->cust_err);
  out->steps = x->dsteps.items;
  out->nsteps = x->dsteps.n;
  out->rules = x->drules.items;
  out->nrules = x->drules.n;
  return st;
}

/* ---- setup ----------------------------------------------------------------- */

static bool vm_convert(void *ctx, dn_money in, uint16_t to, dn_money *out) {
  return dn_facts_convert(ctx, in, to, out);
}

static dn_status ctx_init(run_ctx *x, const dn_program *p, const dn_run_options *o,
                          dn_ledger *l, dn_action_sink sink, void *sink_ctx,
                          dn_run_stats *stats, dn_diags *diags) {
  memset(x, 0, sizeof *x);
  x->p = p;
  x->o = o;
  x->as_of = o->as_of;
  dn_date_format(o->as_of, x->as_of_text);
  x->ledger_name = l && l->path ? l->path : "ledger";
  x->diags = diags;
  x->stats = stats;
  x->sink = sink;
  x->sink_ctx = sink_ctx;
  dn_arena_init(&x->scratch);
  dn_arena_init(&x->texts);
  if (!make_step_texts(x)) return oom(x);
  x->cal = o->calendar_base ? dn_calendar_clone(o->calendar_base)
                           : dn_calendar_new(p->calendar ? p->calendar : "");
  if (!x->cal) return oom(x);
  if (l && p->calendar) {
    dn_status st = o->facts_cache
                       ? dn_facts_load_holidays_cached(l, o->facts_cache, p->calendar, x->cal, diags)
                       : dn_facts_load_holidays(l, p->calendar, x->cal, diags);
    if (st != DN_OK) return st;
  }
  x->sched_day = schedule_day(x);
  /* RFC 3339 has four-digit years: a run whose actions would be
   * scheduled in year 10000 is refused, not printed as year 0000. A
   * decision-only run schedules nothing. */
  if (x->sched_day > dn_date_from_ymd(9999, 12, 31) && !o->on_decision) {
    dn_diag_add_at(diags, DN_E0506, x->ledger_name, 0,
                   "as of %s the actions would be scheduled after 9999-12-31", x->as_of_text);
    return DN_ERR_INPUT;
  }
  x->key_prefix = key_seed;
  key_feed(&x->key_prefix, p->name ? p->name : "");
  if (!make_tone_texts(x)) return oom(x);
  return DN_OK;
}

static dn_status ctx_start_vm(run_ctx *x) {
  dn_vm_env env = {.program = x->p, .calendar = x->cal, .as_of = x->as_of,
                   .extern_fns = x->o->extern_fns, .native = x->o->native};
  if (x->reader) {
    env.convert = vm_convert;
    env.convert_ctx = x->reader;
  }
  x->vm = dn_vm_new(&env);
  if (!x->vm) return oom(x);
  dn_vm_direct_entry(x->vm, &x->direct);
  return DN_OK;
}

static void ctx_free(run_ctx *x) {
  if (x->vm) dn_vm_free(x->vm);
  if (x->cal) dn_calendar_free(x->cal);
  if (x->reader) dn_facts_reader_close(x->reader);
  for (int32_t i = 0; i < x->zones.n; i++) {
    free(x->zones.items[i].name);
    if (x->zones.items[i].zone) dn_zone_free(x->zones.items[i].zone);
  }
  free(x->zones.items);
  free(x->raws.items);
  dn_hist_free(&x->hist);
  free(x->outs.items);
  free(x->idx.items);
  free(x->order.items);
  free(x->inv_err.items);
  free(x->sb.items);
  free(x->dsteps.items);
  free(x->drules.items);
  dn_arena_free(&x->scratch);
  dn_arena_free(&x->texts);
}

/* A run with the fx check (dn_run_options.traces): a customer woken by a
 * new rate alone is settled when its last trace holds; any other run
 * records its trace, kept only when nothing could have been owed to the
 * day itself (a diagnostic; deferred contacts beside records that went
 * out, or on a day with events). */
static dn_status run_traced(run_ctx *x, dn_customer_facts *c) {
  dn_fx_wake wake = x->o->fx_wake(x->o->fx_wake_ctx, c);
  if (wake == DN_FX_WAKE_NEVER) return process_customer(x, c);
  dn_trace *t = dn_trace_book_at(x->o->traces, c->store_slot);
  if (!t) return oom(x);
  if (wake == DN_FX_WAKE_ONLY && !t->deferred && dn_trace_holds(t, x->vm, x->p, c)) {
    x->stats->settled++;
    return DN_OK;
  }
  size_t reported = x->diags->errors + x->diags->warnings;
  int64_t actions = x->stats->actions, deferred = x->deferred_out;
  dn_trace_start(t);
  x->trace = t;
  dn_status st = process_customer(x, c);
  x->trace = NULL;
  bool quiet = st == DN_OK && !x->cust_err && x->diags->errors + x->diags->warnings == reported;
  int64_t made = x->stats->actions - actions, deferred_made = x->deferred_out - deferred;
  /* A day with events keeps the path without them (fire_event), unless a
   * contact was deferred: its retries, and the records issued again,
   * would follow a path the trace does not hold. */
  if (c->nevents > 0 && deferred_made > 0) quiet = false;
  t->deferred = made > 0 && deferred_made == made;
  /* Records all scheduled or skipped keep the trace too: they only mark
   * done what the same path would propose again, and where the next
   * day's decisions can see them (a fact of the history, a rule without
   * `once per`) simulate wakes the customer then anyway (docs/
   * simulate.md, rule 5), so the trace is never checked on such a day. */
  bool path_kept = made == 0 || t->deferred || deferred_made == 0;
  if (!quiet || !path_kept || !dn_trace_keep(t, c)) t->valid = false;
  return st;
}

/* ---- replay (simulate's deferred contacts) ------------------------------ */

/* prev's reason with each span's days past due worked out again on x->c's
 * facts, and the spans of the new text (scratch arena); false when a span
 * does not fit the reason or the facts (the customer is run instead). */
static bool respan(run_ctx *x, const dn_action_rec *prev, dn_action_rec *a) {
  a->spans = NULL;
  a->nspans = 0;
  if (prev->nspans == 0) return true;
  int32_t len = prev->reason ? (int32_t)strlen(prev->reason) : 0, from = 0;
  dn_reason_span *sp = dn_arena_alloc(&x->scratch, sizeof *sp * (size_t)prev->nspans);
  if (!sp) return false;
  sb_reset(x);
  for (int32_t i = 0; i < prev->nspans; i++) {
    const dn_reason_span *s = &prev->spans[i];
    if (s->at < from || s->len < 0 || s->at > len - s->len || s->invoice < 0 ||
        s->invoice >= x->c->ninvoices)
      return false;
    sb_addn(x, prev->reason + from, s->at - from);
    sp[i] = (dn_reason_span){x->sb.n, 0, s->invoice};
    add_dpd(x, x->c->invoices[s->invoice].days_past_due);
    sp[i].len = x->sb.n - sp[i].at;
    from = s->at + s->len;
  }
  sb_addn(x, prev->reason + from, len - from);
  if (x->sb_short) return false;
  a->reason = sb_dup(x);
  a->spans = sp;
  a->nspans = prev->nspans;
  return a->reason[0] != '\0';
}

/* On a day a new rate woke the customer too: whether its trace, kept
 * from the run that made the records to issue again, holds. */
static bool replay_path_holds(run_ctx *x, dn_customer_facts *c) {
  if (!x->o->traces || c->store_slot <= 0) return false;
  dn_trace *t = dn_trace_book_at(x->o->traces, c->store_slot);
  return t && t->valid && t->deferred && dn_trace_holds(t, x->vm, x->p, c);
}

/* Over a store, a day's customers are scattered over gigabytes: while
 * this one runs, the memo's and the traces' state of the next ones is
 * fetched (facts.c does the same for their rows). */
static void prefetch_upcoming(const run_ctx *x) {
  if (!x->o->history_memo && !x->o->traces) return;
  int32_t up[2];
  dn_facts_reader_upcoming(x->reader, up);
  dn_hist_prefetch(x->o->history_memo, up[0], up[1]);
  dn_trace_book_prefetch(x->o->traces, up[0], up[1]);
}

/* Issues prev (the customer's deferred records of the day before, in
 * their order) again as of this day: *done unless a span did not fit. */
static dn_status replay_customer(run_ctx *x, dn_customer_facts *c, const dn_action_rec *prev,
                                 int32_t n, bool *done) {
  *done = false;
  dn_arena_reset(&x->scratch);
  x->c = c;
  dn_action_rec *recs = dn_arena_alloc(&x->scratch, sizeof *recs * (size_t)(n > 0 ? n : 1));
  if (!recs) return oom(x);
  for (int32_t i = 0; i < n; i++) {
    recs[i] = prev[i];
    if (!respan(x, &prev[i], &recs[i])) return DN_OK;
  }
  const char *when = schedule(x);
  c->segment = n > 0 ? prev[0].segment : NULL;
  *done = true;
  if (x->stats) x->stats->replayed++;
  for (int32_t i = 0; i < n; i++) {
    recs[i].as_of = x->as_of;
    memcpy(recs[i].scheduled_at, when, sizeof recs[i].scheduled_at);
    recs[i].facts = c;
    recs[i].reissued = true;
    dn_status st = x->sink(x->sink_ctx, &recs[i]);
    if (st != DN_OK) return st;
    if (x->stats) x->stats->actions++;
  }
  return DN_OK;
}

/* One customer of a ledger run: its records, or with on_decision only
 * its decisions. */
static dn_status run_customer(run_ctx *x, dn_customer_facts *c) {
  if (!x->o->on_decision && x->o->traces && x->o->fx_wake && c->store_slot > 0)
    return run_traced(x, c);
  if (!x->o->on_decision) return process_customer(x, c);
  dn_decision d;
  dn_status st = decide_customer(x, c, &d);
  return st == DN_OK ? x->o->on_decision(x->o->on_decision_ctx, c, &d) : st;
}

dn_status dn_engine_run(const dn_program *p, dn_ledger *l, const dn_run_options *o,
                        dn_action_sink sink, void *sink_ctx, dn_run_stats *stats,
                        dn_diags *diags) {
  dn_run_stats local;
  if (!stats) stats = &local;
  memset(stats, 0, sizeof *stats);
  run_ctx x;
  dn_status st = ctx_init(&x, p, o, l, sink, sink_ctx, stats, diags);
  const char *only = o->only_customer;
  char owner[256];
  if (st == DN_OK && !only && o->only_invoice) {
    bool found;
    st = dn_facts_invoice_customer(l, o->only_invoice, owner, sizeof owner, &found, diags);
    if (st == DN_OK && !found) {
      dn_diag_add_at(diags, DN_E0506, x.ledger_name, 0, "invoice %s is not in the ledger",
                     o->only_invoice);
      st = DN_ERR_INPUT;
    }
    only = owner;
  }
  if (st == DN_OK && !only && o->only_customers)
    st = dn_facts_reader_open_set(l, p, o->as_of, o->only_customers, o->nonly_customers,
                                  o->only_customers_scan, &x.reader, diags);
  else if (st == DN_OK && o->facts_cache)
    st = dn_facts_reader_open_cached(l, o->facts_cache, p, o->as_of, only, &x.reader, diags);
  else if (st == DN_OK) st = dn_facts_reader_open(l, p, o->as_of, only, &x.reader, diags);
  if (st == DN_OK) st = ctx_start_vm(&x);
  dn_customer_facts c;
  dn_customer_facts_init(&c);
  while (st == DN_OK) {
    bool got;
    size_t errors_before = diags->errors;
    st = dn_facts_reader_next(x.reader, &c, &got, diags);
    if (st != DN_OK || !got) break;
    /* An invoice row the reader skipped (no valid due date or currency,
     * E0506) is a data error like a missing rate: counted, so the run
     * exits 1 and runs.errors says so. */
    stats->errors += (int64_t)(diags->errors - errors_before);
    stats->customers++;
    stats->invoices += c.ninvoices;
    c.deferred_until = DN_DATE_NONE;
    prefetch_upcoming(&x);
    int32_t nprev = 0;
    bool rated = false;
    const dn_action_rec *prev = o->replay ? o->replay(o->replay_ctx, &c, &nprev, &rated) : NULL;
    if (prev && rated && !replay_path_holds(&x, &c)) prev = NULL;
    bool done = false;
    int64_t settled = stats->settled;
    if (prev) st = replay_customer(&x, &c, prev, nprev, &done);
    if (st == DN_OK && !done) st = run_customer(&x, &c);
    if (st == DN_OK && o->on_customer && stats->settled == settled)
      o->on_customer(o->on_customer_ctx, &c);
  }
  dn_customer_facts_free(&c);
  ctx_free(&x);
  return st;
}

/* A session keeps what a run sets up once (calendar, VM, time zones read
 * from the tz database) across customers whose facts come from memory, so
 * a caller deciding many customers pays for it once, not per customer. */
struct dn_engine_session {
  run_ctx x;
};

dn_status dn_engine_session_open(const dn_program *p, const dn_run_options *o,
                                 dn_engine_session **out, dn_diags *diags) {
  *out = NULL;
  dn_engine_session *s = malloc(sizeof *s);
  if (!s) {
    dn_diag_add_at(diags, DN_E0505, "engine", 0, "out of memory during the run");
    return DN_ERR_INTERNAL;
  }
  dn_status st = ctx_init(&s->x, p, o, NULL, NULL, NULL, NULL, diags);
  if (st == DN_OK) st = ctx_start_vm(&s->x);
  if (st != DN_OK) {
    dn_engine_session_close(s);
    return st;
  }
  *out = s;
  return DN_OK;
}

dn_status dn_engine_session_run(dn_engine_session *s, dn_customer_facts *c,
                                dn_action_sink sink, void *sink_ctx, dn_diags *diags) {
  s->x.sink = sink;
  s->x.sink_ctx = sink_ctx;
  s->x.diags = diags;
  return process_customer(&s->x, c);
}

dn_status dn_engine_session_decide(dn_engine_session *s, dn_customer_facts *c,
                                   dn_decision *out, dn_diags *diags) {
  s->x.diags = diags;
  return decide_customer(&s->x, c, out);
}

void dn_engine_session_close(dn_engine_session *s) {
  if (!s) return;
  ctx_free(&s->x);
  free(s);
}

dn_status dn_engine_run_customer(const dn_program *p, dn_customer_facts *c,
                                 const dn_run_options *o, dn_action_sink sink,
                                 void *sink_ctx, dn_diags *diags) {
  dn_engine_session *s;
  dn_status st = dn_engine_session_open(p, o, &s, diags);
  if (st != DN_OK) return st;
  st = dn_engine_session_run(s, c, sink, sink_ctx, diags);
  dn_engine_session_close(s);
  return st;
}

const char *dn_action_status_name(dn_action_status s) {
  switch (s) {
  case DN_STATUS_SCHEDULED: return "scheduled";
  case DN_STATUS_SKIPPED: return "skipped";
  case DN_STATUS_DEFERRED: return "deferred";
  }
  return "?";
}
