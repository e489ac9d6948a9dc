/* bcfile.c - the .dbc bytecode file: writer and (untrusted) reader.
 *
 * Every integer is encoded byte by byte in little endian, never by
 * writing a struct, so the file is the same on every machine and a
 * compiler's padding never leaks into it. The reader treats its input as
 * hostile: one cursor does every read with a bounds check, every count is
 * checked against the bytes that remain before anything is allocated, and
 * the checksum and section table are validated before the sections are
 * parsed. Only the structure is checked here; dn_verify checks meaning. */
#include "lang/bcfile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t magic[8] = {0x1b, 'D', 'U', 'N', 'L', 'I', 'N', '\n'};
#define SENTINEL32 0x1A2B3C4Du
#define SENTINEL16 0x0102u
#define PREAMBLE_LEN 18 /* magic, version, sentinel, section count */
#define NO_STRING 0xFFFFFFFFu

enum section_id {
  S_HEADER = 1, S_STRINGS, S_CONSTS, S_CODE, S_CHUNKS, S_LINES, S_TONES,
  S_LADDERS, S_LETS, S_SEGMENTS, S_SEGREFS, S_ESCALATIONS, S_STEPS,
  S_ACTIONS, S_EVENTS, S_RULES, S_CAPS, S_EXTERNS, S_SOURCE, S_END
};
#define S_REQUIRED_LAST S_EXTERNS /* SOURCE is optional */

static const char *const section_names[S_END] = {
  "?", "header", "strings", "consts", "code", "chunks", "lines", "tones",
  "ladders", "lets", "segments", "segment_refs", "escalations", "steps",
  "actions", "events", "rules", "caps", "externs", "source"};

uint64_t dn_fnv1a64(const void *data, size_t len, uint64_t seed) {
  const uint8_t *p = data;
  uint64_t h = seed;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

int dn_bc_is_bytecode(const uint8_t *buf, size_t len) {
  return buf && len >= sizeof magic && memcmp(buf, magic, sizeof magic) == 0;
}

/* ------------------------------------------------------------------ */
/* writer                                                              */

typedef struct wbuf {
  uint8_t *d;
  size_t len, cap;
  bool oom;
} wbuf;

static void w_bytes(wbuf *w, const void *src, size_t n) {
  if (w->oom) return;
  if (w->len + n > w->cap) {
    size_t ncap = w->cap ? w->cap : 256;
    while (ncap < w->len + n) ncap *= 2;
    uint8_t *q = realloc(w->d, ncap);
    if (!q) { w->oom = true; return; }
    w->d = q;
    w->cap = ncap;
  }
  if (n) memcpy(w->d + w->len, src, n);
  w->len += n;
}

static void w_uint(wbuf *w, uint64_t v, int nbytes) {
  uint8_t b[8];
  for (int i = 0; i < nbytes; i++) b[i] = (uint8_t)(v >> (8 * i));
  w_bytes(w, b, (size_t)nbytes);
}

static void w_u8(wbuf *w, uint32_t v) { w_uint(w, v, 1); }
static void w_u16(wbuf *w, uint32_t v) { w_uint(w, v, 2); }
static void w_u32(wbuf *w, uint32_t v) { w_uint(w, v, 4); }
static void w_i32(wbuf *w, int32_t v) { w_uint(w, (uint32_t)v, 4); }
static void w_u64(wbuf *w, uint64_t v) { w_uint(w, v, 8); }

static void w_f64(wbuf *w, double x) {
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  w_u64(w, bits);
}

static void w_str(wbuf *w, const char *s) {
  if (!s) { w_u32(w, NO_STRING); return; }
  size_t n = strlen(s);
  w_u32(w, (uint32_t)n);
  w_bytes(w, s, n);
}

static void w_header(wbuf *w, const dn_program *p) {
  w_str(w, p->name ? p->name : "");
  w_u64(w, (uint64_t)p->version);
  w_u64(w, p->source_hash);
  w_u16(w, p->currency);
  w_str(w, p->timezone ? p->timezone : "UTC");
  w_str(w, p->calendar);
  w_i32(w, p->window_start);
  w_i32(w, p->window_end);
  w_i32(w, p->promise_grace_days);
}

static void w_strings(wbuf *w, char *const *s, uint32_t n) {
  w_u32(w, n);
  for (uint32_t i = 0; i < n; i++) w_str(w, s[i] ? s[i] : "");
}

static void w_const(wbuf *w, const dn_const *k) {
  w_u8(w, k->type);
  switch (k->type) {
    case DN_T_BOOL: w_u8(w, k->as.b ? 1 : 0); break;
    case DN_T_INT: w_u64(w, (uint64_t)k->as.i); break;
    case DN_T_NUMBER: w_f64(w, k->as.n); break;
    case DN_T_MONEY: w_u64(w, (uint64_t)k->as.m.minor); w_u16(w, k->as.m.cur); break;
    case DN_T_DATE: w_i32(w, k->as.d); break;
    case DN_T_DURATION: w_i32(w, k->as.dur.days); w_u8(w, k->as.dur.business); break;
    default: w_u32(w, k->as.str); break;
  }
}

static void w_section(wbuf *w, const dn_program *p, int id) {
  uint32_t i;
  switch (id) {
    case S_HEADER: w_header(w, p); break;
    case S_STRINGS: w_strings(w, p->strings, p->nstrings); break;
    case S_CONSTS:
      w_u32(w, p->nconsts);
      for (i = 0; i < p->nconsts; i++) w_const(w, &p->consts[i]);
      break;
    case S_CODE: w_bytes(w, p->code, p->code_len); break;
    case S_CHUNKS:
      w_u32(w, p->nchunks);
      for (i = 0; i < p->nchunks; i++) {
        const dn_chunk *c = &p->chunks[i];
        w_u32(w, c->start); w_u32(w, c->len); w_u16(w, c->max_stack);
        w_u8(w, c->result); w_u8(w, c->scope);
      }
      break;
    case S_LINES:
      w_u32(w, p->nlines);
      for (i = 0; i < p->nlines; i++) {
        w_u32(w, p->lines[i].pc); w_u32(w, p->lines[i].span.start); w_u32(w, p->lines[i].span.end);
      }
      break;
    case S_TONES: w_strings(w, p->tone_names, p->ntone_names); break;
    case S_LADDERS:
      w_u32(w, p->nladders);
      for (i = 0; i < p->nladders; i++) {
        w_i32(w, p->ladders[i].name); w_i32(w, p->ladders[i].first_tone); w_i32(w, p->ladders[i].ntones);
      }
      break;
    case S_LETS:
      w_u32(w, p->nlets);
      for (i = 0; i < p->nlets; i++) { w_i32(w, p->lets[i].name); w_i32(w, p->lets[i].chunk); }
      break;
    case S_SEGMENTS:
      w_u32(w, p->nsegments);
      for (i = 0; i < p->nsegments; i++) {
        const dn_segment_def *s = &p->segments[i];
        w_i32(w, s->name); w_i32(w, s->cond); w_i32(w, s->tone_shift); w_i32(w, s->ladder); w_i32(w, s->assign);
      }
      break;
    case S_SEGREFS:
      w_u32(w, p->nsegment_refs);
      for (i = 0; i < p->nsegment_refs; i++) w_i32(w, p->segment_refs[i]);
      break;
    case S_ESCALATIONS:
      w_u32(w, p->nescalations);
      for (i = 0; i < p->nescalations; i++) {
        const dn_escalation_def *e = &p->escalations[i];
        w_i32(w, e->name); w_i32(w, e->first_segment); w_i32(w, e->nsegments);
        w_i32(w, e->unless_guard); w_i32(w, e->first_step); w_i32(w, e->nsteps);
      }
      break;
    case S_STEPS:
      w_u32(w, p->nsteps);
      for (i = 0; i < p->nsteps; i++) {
        const dn_step_def *s = &p->steps[i];
        w_i32(w, s->offset_days); w_u8(w, s->business); w_i32(w, s->guard);
        w_i32(w, s->first_action); w_i32(w, s->nactions); w_i32(w, s->tone_name);
      }
      break;
    case S_ACTIONS:
      w_u32(w, p->nactions);
      for (i = 0; i < p->nactions; i++) {
        const dn_action_def *a = &p->actions[i];
        w_u8(w, a->kind); w_i32(w, a->tone_name); w_i32(w, a->template_name);
        w_i32(w, a->priority); w_i32(w, a->assign); w_i32(w, a->text);
      }
      break;
    case S_EVENTS:
      w_u32(w, p->nevents);
      for (i = 0; i < p->nevents; i++) {
        const dn_event_def *e = &p->events[i];
        w_u8(w, e->event); w_u8(w, e->scope); w_i32(w, e->guard);
        w_i32(w, e->first_action); w_i32(w, e->nactions);
      }
      break;
    case S_RULES:
      w_u32(w, p->nrules);
      for (i = 0; i < p->nrules; i++) {
        const dn_rule_def *r = &p->rules[i];
        w_i32(w, r->name); w_u8(w, r->scope); w_i32(w, r->cond);
        w_i32(w, r->first_action); w_i32(w, r->nactions); w_i32(w, r->once_per_days);
      }
      break;
    case S_CAPS:
      w_u32(w, p->ncaps);
      for (i = 0; i < p->ncaps; i++) { w_i32(w, p->caps[i].count); w_i32(w, p->caps[i].days); }
      break;
    case S_EXTERNS:
      w_u32(w, p->nexterns);
      for (i = 0; i < p->nexterns; i++) {
        const dn_extern_def *x = &p->externs[i];
        int n = x->nparams < 0 ? 0 : x->nparams > 8 ? 8 : x->nparams;
        w_i32(w, x->name); w_i32(w, x->library); w_u8(w, (uint32_t)n);
        for (int j = 0; j < n; j++) w_u8(w, x->params[j]);
        w_u8(w, x->ret);
      }
      break;
    case S_SOURCE:
      w_str(w, p->filename);
      w_u32(w, p->source_len);
      w_bytes(w, p->source, p->source_len);
      break;
    default: break;
  }
}

dn_status dn_bc_write(const dn_program *p, uint8_t **buf, size_t *len, dn_diags *diags) {
  (void)diags;
  *buf = NULL;
  *len = 0;
  int nsec = (p->source || p->filename) ? S_END - 1 : S_REQUIRED_LAST;
  wbuf body = {0}, out = {0};
  uint32_t lens[S_END] = {0};
  for (int id = 1; id <= nsec; id++) {
    size_t before = body.len;
    w_section(&body, p, id);
    lens[id] = (uint32_t)(body.len - before);
  }
  w_bytes(&out, magic, sizeof magic);
  w_u16(&out, DN_BC_FORMAT_VERSION);
  w_u32(&out, SENTINEL32);
  w_u16(&out, SENTINEL16);
  w_u16(&out, (uint32_t)nsec);
  for (int id = 1; id <= nsec; id++) { w_u16(&out, (uint32_t)id); w_u32(&out, lens[id]); }
  w_bytes(&out, body.d, body.len);
  free(body.d);
  if (!out.oom) w_u64(&out, dn_fnv1a64(out.d, out.len, DN_FNV64_SEED));
  if (out.oom || body.oom) {
    free(out.d);
    return DN_ERR_INTERNAL;
  }
  *buf = out.d;
  *len = out.len;
  return DN_OK;
}

/* ------------------------------------------------------------------ */
/* reader                                                              */

typedef struct rd {
  const uint8_t *buf;
  size_t pos, end;       /* absolute offsets into buf */
  const char *file;
  const char *what;      /* the part being read, for messages */
  dn_diags *diags;
  bool failed;           /* sticky: after the first error reads return 0 */
} rd;

static void rd_fail(rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rd_fail(rd *r, const char *fmt, ...) {
  if (r->failed) return;
  r->failed = true;
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  dn_diag_add_at(r->diags, DN_E0504, r->file, 0, "bad bytecode file: %s", msg);
}

static bool rd_need(rd *r, size_t n) {
  if (r->failed) return false;
  if (r->end - r->pos < n) {
    rd_fail(r, "%s truncated at byte %zu", r->what, r->end);
    return false;
  }
  return true;
}

static uint64_t rd_uint(rd *r, int nbytes) {
  if (!rd_need(r, (size_t)nbytes)) return 0;
  uint64_t v = 0;
  for (int i = 0; i < nbytes; i++) v |= (uint64_t)r->buf[r->pos + (size_t)i] << (8 * i);
  r->pos += (size_t)nbytes;
  return v;
}

static uint8_t rd_u8(rd *r) { return (uint8_t)rd_uint(r, 1); }
static uint16_t rd_u16(rd *r) { return (uint16_t)rd_uint(r, 2); }
static uint32_t rd_u32(rd *r) { return (uint32_t)rd_uint(r, 4); }
static int32_t rd_i32(rd *r) { return (int32_t)rd_u32(r); }
static uint64_t rd_u64(rd *r) { return rd_uint(r, 8); }

static double rd_f64(rd *r) {
  uint64_t bits = rd_u64(r);
  double x;
  memcpy(&x, &bits, sizeof x);
  return x;
}

static bool rd_bool(rd *r) {
  size_t at = r->pos;
  uint8_t b = rd_u8(r);
  if (b > 1) rd_fail(r, "%s: bad boolean %u at byte %zu", r->what, b, at);
  return b == 1;
}

/* An enum stored as u8 must be below `count`. */
static int rd_enum(rd *r, unsigned count, const char *name) {
  size_t at = r->pos;
  uint8_t v = rd_u8(r);
  if (!r->failed && v >= count) rd_fail(r, "%s: bad %s %u at byte %zu", r->what, name, v, at);
  return r->failed ? 0 : v;
}

/* A table count, checked against the bytes left so that a corrupt count
 * cannot make us allocate more than the file could describe. */
static uint32_t rd_count(rd *r, size_t min_elem) {
  size_t at = r->pos;
  uint32_t n = rd_u32(r);
  if (!r->failed && (size_t)n > (r->end - r->pos) / min_elem)
    rd_fail(r, "%s: count %u at byte %zu exceeds the section's remaining %zu bytes", r->what,
            n, at, r->end - r->pos);
  return r->failed ? 0 : n;
}

static void *rd_alloc(rd *r, size_t n, size_t elem) {
  if (r->failed) return NULL;
  void *p = calloc(n ? n : 1, elem);
  if (!p) rd_fail(r, "out of memory");
  return p;
}

/* A length-prefixed string; NO_STRING is NULL when optional. C strings
 * cannot carry NUL, so one inside is corruption. */
static char *rd_str(rd *r, bool optional) {
  size_t at = r->pos;
  uint32_t n = rd_u32(r);
  if (r->failed) return NULL;
  if (n == NO_STRING && optional) return NULL;
  if (!rd_need(r, n)) return NULL;
  if (memchr(r->buf + r->pos, 0, n)) {
    rd_fail(r, "%s: string at byte %zu contains a NUL byte", r->what, at);
    return NULL;
  }
  char *s = rd_alloc(r, (size_t)n + 1, 1);
  if (!s) return NULL;
  memcpy(s, r->buf + r->pos, n);
  r->pos += n;
  return s;
}

static void rd_header(rd *r, dn_program *p) {
  p->name = rd_str(r, false);
  p->version = (int64_t)rd_u64(r);
  p->source_hash = rd_u64(r);
  p->currency = rd_u16(r);
  p->timezone = rd_str(r, false);
  p->calendar = rd_str(r, true);
  p->window_start = rd_i32(r);
  p->window_end = rd_i32(r);
  p->promise_grace_days = rd_i32(r);
}

static char **rd_strings(rd *r, uint32_t *count) {
  uint32_t n = rd_count(r, 4);
  char **s = rd_alloc(r, n, sizeof *s);
  if (!s) return NULL;
  *count = n;
  for (uint32_t i = 0; i < n && !r->failed; i++) s[i] = rd_str(r, false);
  return s;
}

static void rd_const(rd *r, dn_const *k) {
  k->type = (dn_type)rd_enum(r, DN_T_COUNT, "constant type");
  switch (k->type) {
    case DN_T_BOOL: k->as.b = rd_bool(r); break;
    case DN_T_INT: k->as.i = (int64_t)rd_u64(r); break;
    case DN_T_NUMBER: k->as.n = rd_f64(r); break;
    case DN_T_MONEY: k->as.m.minor = (int64_t)rd_u64(r); k->as.m.cur = rd_u16(r); break;
    case DN_T_DATE: k->as.d = rd_i32(r); break;
    case DN_T_DURATION: k->as.dur.days = rd_i32(r); k->as.dur.business = rd_bool(r); break;
    case DN_T_STRING: k->as.str = rd_u32(r); break;
    default: rd_fail(r, "%s: constant of type %s", r->what, dn_type_name(k->type)); break;
  }
}

/* Reads a count and allocates the table; the body is filled by the caller. */
#define RD_TABLE(r, p, field, nfield, min_elem)                  \
  do {                                                           \
    uint32_t n_ = rd_count((r), (min_elem));                     \
    (p)->field = rd_alloc((r), n_, sizeof *(p)->field);          \
    if ((p)->field) (p)->nfield = n_;                            \
  } while (0)

static void rd_section_tables(rd *r, dn_program *p, int id) {
  uint32_t i;
  switch (id) {
    case S_CHUNKS:
      RD_TABLE(r, p, chunks, nchunks, 12);
      for (i = 0; i < p->nchunks && !r->failed; i++) {
        dn_chunk *c = &p->chunks[i];
        c->start = rd_u32(r); c->len = rd_u32(r); c->max_stack = rd_u16(r);
        c->result = (dn_type)rd_enum(r, DN_T_COUNT, "type");
        c->scope = (dn_scope)rd_enum(r, 2, "scope");
      }
      break;
    case S_LINES:
      RD_TABLE(r, p, lines, nlines, 12);
      for (i = 0; i < p->nlines && !r->failed; i++) {
        p->lines[i].pc = rd_u32(r); p->lines[i].span.start = rd_u32(r); p->lines[i].span.end = rd_u32(r);
      }
      break;
    case S_LADDERS:
      RD_TABLE(r, p, ladders, nladders, 12);
      for (i = 0; i < p->nladders && !r->failed; i++) {
        p->ladders[i].name = rd_i32(r); p->ladders[i].first_tone = rd_i32(r); p->ladders[i].ntones = rd_i32(r);
      }
      break;
    case S_LETS:
      RD_TABLE(r, p, lets, nlets, 8);
      for (i = 0; i < p->nlets && !r->failed; i++) { p->lets[i].name = rd_i32(r); p->lets[i].chunk = rd_i32(r); }
      break;
    case S_SEGMENTS:
      RD_TABLE(r, p, segments, nsegments, 20);
      for (i = 0; i < p->nsegments && !r->failed; i++) {
        dn_segment_def *s = &p->segments[i];
        s->name = rd_i32(r); s->cond = rd_i32(r); s->tone_shift = rd_i32(r); s->ladder = rd_i32(r); s->assign = rd_i32(r);
      }
      break;
    case S_SEGREFS:
      RD_TABLE(r, p, segment_refs, nsegment_refs, 4);
      for (i = 0; i < p->nsegment_refs && !r->failed; i++) p->segment_refs[i] = rd_i32(r);
      break;
    case S_ESCALATIONS:
      RD_TABLE(r, p, escalations, nescalations, 24);
      for (i = 0; i < p->nescalations && !r->failed; i++) {
        dn_escalation_def *e = &p->escalations[i];
        e->name = rd_i32(r); e->first_segment = rd_i32(r); e->nsegments = rd_i32(r);
        e->unless_guard = rd_i32(r); e->first_step = rd_i32(r); e->nsteps = rd_i32(r);
      }
      break;
    case S_STEPS:
      RD_TABLE(r, p, steps, nsteps, 21);
      for (i = 0; i < p->nsteps && !r->failed; i++) {
        dn_step_def *s = &p->steps[i];
        s->offset_days = rd_i32(r); s->business = rd_bool(r); s->guard = rd_i32(r);
        s->first_action = rd_i32(r); s->nactions = rd_i32(r); s->tone_name = rd_i32(r);
      }
      break;
    case S_ACTIONS:
      RD_TABLE(r, p, actions, nactions, 21);
      for (i = 0; i < p->nactions && !r->failed; i++) {
        dn_action_def *a = &p->actions[i];
        a->kind = (dn_action_kind)rd_enum(r, DN_ACT_COUNT, "action kind");
        a->tone_name = rd_i32(r); a->template_name = rd_i32(r); a->priority = rd_i32(r);
        a->assign = rd_i32(r); a->text = rd_i32(r);
      }
      break;
    case S_EVENTS:
      RD_TABLE(r, p, events, nevents, 14);
      for (i = 0; i < p->nevents && !r->failed; i++) {
        dn_event_def *e = &p->events[i];
        e->event = (dn_event_kind)rd_enum(r, DN_EV_COUNT, "event");
        e->scope = (dn_scope)rd_enum(r, 2, "scope");
        e->guard = rd_i32(r); e->first_action = rd_i32(r); e->nactions = rd_i32(r);
      }
      break;
    case S_RULES:
      RD_TABLE(r, p, rules, nrules, 21);
      for (i = 0; i < p->nrules && !r->failed; i++) {
        dn_rule_def *x = &p->rules[i];
        x->name = rd_i32(r); x->scope = (dn_scope)rd_enum(r, 2, "scope"); x->cond = rd_i32(r);
        x->first_action = rd_i32(r); x->nactions = rd_i32(r); x->once_per_days = rd_i32(r);
      }
      break;
    case S_CAPS:
      RD_TABLE(r, p, caps, ncaps, 8);
      for (i = 0; i < p->ncaps && !r->failed; i++) { p->caps[i].count = rd_i32(r); p->caps[i].days = rd_i32(r); }
      break;
    case S_EXTERNS:
      RD_TABLE(r, p, externs, nexterns, 10);
      for (i = 0; i < p->nexterns && !r->failed; i++) {
        dn_extern_def *x = &p->externs[i];
        x->name = rd_i32(r); x->library = rd_i32(r);
        x->nparams = rd_enum(r, 9, "parameter count");
        for (int j = 0; j < x->nparams && !r->failed; j++) x->params[j] = (dn_type)rd_enum(r, DN_T_COUNT, "type");
        x->ret = (dn_type)rd_enum(r, DN_T_COUNT, "type");
      }
      break;
    default: break;
  }
}

static void rd_section(rd *r, dn_program *p, int id) {
  switch (id) {
    case S_HEADER: rd_header(r, p); break;
    case S_STRINGS: p->strings = rd_strings(r, &p->nstrings); break;
    case S_CONSTS:
      RD_TABLE(r, p, consts, nconsts, 2);
      for (uint32_t i = 0; i < p->nconsts && !r->failed; i++) rd_const(r, &p->consts[i]);
      break;
    case S_CODE: {
      size_t n = r->end - r->pos;
      p->code = rd_alloc(r, n, 1);
      if (!p->code) break;
      memcpy(p->code, r->buf + r->pos, n);
      p->code_len = (uint32_t)n;
      r->pos += n;
      break;
    }
    case S_TONES: p->tone_names = rd_strings(r, &p->ntone_names); break;
    case S_SOURCE: {
      p->filename = rd_str(r, true);
      uint32_t n = rd_count(r, 1);
      p->source = rd_alloc(r, (size_t)n + 1, 1);
      if (!p->source) break;
      memcpy(p->source, r->buf + r->pos, n);
      p->source_len = n;
      r->pos += n;
      break;
    }
    default: rd_section_tables(r, p, id); break;
  }
  if (!r->failed && r->pos != r->end)
    rd_fail(r, "%s: %zu unread bytes at byte %zu", r->what, r->end - r->pos, r->pos);
}

typedef struct section_entry { uint16_t id; uint32_t len; } section_entry;

/* Magic, version, sentinel and the section table; returns the count. */
static int rd_preamble(rd *r, section_entry *sec) {
  if (!rd_need(r, sizeof magic)) return -1;
  if (memcmp(r->buf, magic, sizeof magic) != 0) {
    rd_fail(r, "not a Dunlin bytecode file (bad magic)");
    return -1;
  }
  r->pos = sizeof magic;
  uint16_t ver = rd_u16(r);
  if (!r->failed && ver != DN_BC_FORMAT_VERSION)
    rd_fail(r, "format version %u, this build reads version %u", ver, DN_BC_FORMAT_VERSION);
  uint32_t s32 = rd_u32(r);
  uint16_t s16 = rd_u16(r);
  if (!r->failed && (s32 != SENTINEL32 || s16 != SENTINEL16))
    rd_fail(r, "bad sentinel (byte order or corruption)");
  uint16_t n = rd_u16(r);
  if (!r->failed && (n == 0 || n >= S_END))
    rd_fail(r, "bad section count %u", n);
  bool seen[S_END] = {false};
  for (int i = 0; i < n && !r->failed; i++) {
    size_t at = r->pos;
    sec[i].id = rd_u16(r);
    sec[i].len = rd_u32(r);
    if (r->failed) break;
    if (sec[i].id == 0 || sec[i].id >= S_END) rd_fail(r, "unknown section id %u at byte %zu", sec[i].id, at);
    else if (seen[sec[i].id]) rd_fail(r, "duplicate %s section", section_names[sec[i].id]);
    else seen[sec[i].id] = true;
  }
  for (int id = 1; id <= S_REQUIRED_LAST && !r->failed; id++)
    if (!seen[id]) rd_fail(r, "missing %s section", section_names[id]);
  return r->failed ? -1 : n;
}

dn_status dn_bc_read(const char *filename, const uint8_t *buf, size_t len,
                     dn_program **out, dn_diags *diags) {
  *out = NULL;
  rd r = {buf, 0, len, filename, "file", diags, false};
  section_entry sec[S_END];
  int n = rd_preamble(&r, sec);
  if (n < 0) return DN_ERR_INPUT;
  /* The table fixes the file's size; check it and the checksum before
   * parsing anything it describes. */
  uint64_t need = r.pos;
  for (int i = 0; i < n; i++) need += sec[i].len;
  need += 8;
  if (need > len) { rd_fail(&r, "file truncated at byte %zu (the section table describes %llu bytes)", len, (unsigned long long)need); return DN_ERR_INPUT; }
  if (need < len) { rd_fail(&r, "%zu bytes of trailing garbage after byte %llu", len - (size_t)need, (unsigned long long)need); return DN_ERR_INPUT; }
  size_t body_end = len - 8;
  rd ck = {buf, body_end, len, filename, "checksum", diags, false};
  uint64_t stored = rd_u64(&ck);
  if (stored != dn_fnv1a64(buf, body_end, DN_FNV64_SEED)) {
    rd_fail(&r, "checksum mismatch (the file is corrupt)");
    return DN_ERR_INPUT;
  }
  dn_program *p = calloc(1, sizeof *p);
  if (!p) return DN_ERR_INTERNAL;
  size_t pos = r.pos;
  for (int i = 0; i < n && !r.failed; i++) {
    rd s = {buf, pos, pos + sec[i].len, filename, section_names[sec[i].id], diags, false};
    rd_section(&s, p, sec[i].id);
    r.failed = s.failed;
    pos += sec[i].len;
  }
  if (r.failed) {
    dn_program_free(p);
    return DN_ERR_INPUT;
  }
  *out = p;
  return DN_OK;
}
