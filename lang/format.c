/* format.c - `dunlin fmt`'s layout engine (rules: docs/formatting.md).
 *
 * One pass over the token stream of lang/tokens.h decides where lines
 * break and how they are indented, from the declaration keyword in force
 * and the brace depth; the comments found in the gaps between tokens are
 * placed on the way. The lines are kept as records, so that a second pass
 * can align what the policy language aligns: the `=` of consecutive
 * `let`s, the actions after `step N days:` in one escalation, and the
 * trailing comments of consecutive lines. Every aligned column is the
 * widest of the author's own column in the group and the narrowest legal
 * one, which makes a hand-aligned file a fixed point and keeps the result
 * idempotent. Inside blocks whose grammar the formatter does not know
 * (a `test` body), the author's line breaks are kept and only the
 * indentation and the spacing are made canonical. */
#include "lang/format.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lang/ast.h"
#include "lang/tokens.h"

/* ---- growable text ----------------------------------------------------- */

typedef struct sbuf {
  char *p;
  size_t len, cap;
  bool oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = true;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_spaces(sbuf *b, int n) {
  for (int i = 0; i < n; i++) sb_put(b, " ", 1);
}

/* Display columns after s[0..n) starting at column col: one per code
 * point, tabs to the next multiple of 8 (as editors show them). */
static int dwidth(const char *s, size_t n, int col) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\t') col = (col / 8 + 1) * 8;
    else if ((c & 0xC0) != 0x80) col++;
  }
  return col;
}

static bool has_bom(const char *src, size_t len) {
  return len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0;
}

/* ---- the output lines -------------------------------------------------- */

typedef enum align_kind { AL_NONE, AL_LET, AL_STEP } align_kind;

typedef struct fline {
  sbuf code;            /* indentation and tokens, no trailing comment */
  bool blank, comment_only;
  align_kind align;
  size_t align_at;      /* where the alignment padding goes in code */
  int align_want;       /* the author's column of what follows, -1 unknown */
  int align_pad;        /* spaces inserted at align_at (the second pass) */
  int group;            /* escalation number, for AL_STEP */
  const char *comment;  /* trailing comment (into the source), or NULL */
  size_t comment_len;
  int comment_col;      /* the author's column of that comment */
} fline;

typedef enum decl_kind {
  D_NONE, D_LET, D_SEGMENT, D_ESCALATION, D_RULE, D_TEST, D_OTHER
} decl_kind;
typedef enum body_kind { B_SEGMENT, B_ESCALATION, B_TEST, B_PRESERVE } body_kind;

typedef struct fmt {
  const char *src;
  size_t len;
  const dn_token *t;
  size_t n;
  fline *lines;
  size_t nlines, cap;
  bool oom;
  bool open;          /* the last line takes more tokens */
  bool force;         /* a comment ended the line: the next token starts one */
  bool pad_next;      /* no space before the next token: alignment pads there */
  int depth;          /* braces open */
  int stmt_indent;    /* indent of the line that began the current statement */
  decl_kind decl;     /* the declaration in force at depth 0 */
  size_t decl_line;   /* the line the declaration in force began on */
  body_kind body;     /* what the depth-1 block holds */
  int esc_group;
  bool await_colon;   /* a `step` line whose `:` is still to come */
  size_t step_tok;
  bool col_known;     /* src_col's memory: column col_val at offset col_at */
  size_t col_at;
  int col_val;
} fmt;

static fline *new_line(fmt *f) {
  if (f->nlines == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 64;
    fline *l = realloc(f->lines, cap * sizeof *l);
    if (!l) {
      f->oom = true;
      return NULL;
    }
    f->lines = l;
    f->cap = cap;
  }
  fline *l = &f->lines[f->nlines++];
  memset(l, 0, sizeof *l);
  l->align_want = -1;
  return l;
}

static fline *cur(fmt *f) { return f->nlines ? &f->lines[f->nlines - 1] : NULL; }

static void close_line(fmt *f) {
  fline *l = cur(f);
  if (f->open && l && l->align != AL_NONE && l->align_at >= l->code.len) l->align = AL_NONE;
  f->open = false;
  f->pad_next = false;
}

/* A blank line is kept where the author had one, but never at the top of
 * the file or of a block, and never twice. */
static void blank_line(fmt *f) {
  fline *l = cur(f);
  if (!l || l->blank) return;
  if (!l->comment_only && l->code.len && l->code.p[l->code.len - 1] == '{') return;
  fline *b = new_line(f);
  if (b) b->blank = true;
}

static void start_line(fmt *f, int indent, bool blank) {
  close_line(f);
  if (blank) blank_line(f);
  fline *l = new_line(f);
  if (!l) return;
  sb_spaces(&l->code, indent);
  f->open = true;
  f->force = false;
}

/* ---- tokens ------------------------------------------------------------ */

static size_t tlen(const fmt *f, size_t i) { return f->t[i].end - f->t[i].start; }
static const char *ttext(const fmt *f, size_t i) { return f->src + f->t[i].start; }

static bool is(const fmt *f, size_t i, const char *s) {
  size_t n = strlen(s);
  return i < f->n && tlen(f, i) == n && memcmp(ttext(f, i), s, n) == 0;
}

static bool is_kw(const fmt *f, size_t i, const char *s) {
  return i < f->n && f->t[i].cls == DN_TOK_KEYWORD && is(f, i, s);
}

static bool is_punct(const fmt *f, size_t i, const char *s) {
  return i < f->n && f->t[i].cls == DN_TOK_PUNCT && is(f, i, s);
}

/* The keywords that open a declaration (LANGUAGE.md s.3, and `test` of
 * s.9): each starts a line at column 0. */
static const char *const decl_words[] = {
    "policy", "currency", "timezone", "calendar", "send_window", "promise_grace", "tones",
    "let", "segment", "escalation", "on", "rule", "limit", "extern", "test",
};

static bool is_decl(const fmt *f, size_t i) {
  for (size_t k = 0; k < sizeof decl_words / sizeof decl_words[0]; k++)
    if (is_kw(f, i, decl_words[k])) return true;
  return false;
}

static decl_kind decl_of(const fmt *f, size_t i) {
  if (is(f, i, "let")) return D_LET;
  if (is(f, i, "segment")) return D_SEGMENT;
  if (is(f, i, "escalation")) return D_ESCALATION;
  if (is(f, i, "rule")) return D_RULE;
  if (is(f, i, "test")) return D_TEST;
  return D_OTHER;
}

/* Whether a token ends an operand, so that a `-` after it is binary. */
static bool ends_operand(const fmt *f, size_t i) {
  switch (f->t[i].cls) {
  case DN_TOK_IDENT: case DN_TOK_NUMBER: case DN_TOK_CODE: case DN_TOK_STRING:
  case DN_TOK_DATE: case DN_TOK_TIME:
    return true;
  case DN_TOK_PUNCT:
    return is(f, i, ")") || is(f, i, "]");
  case DN_TOK_KEYWORD:
    return is(f, i, "true") || is(f, i, "false") || is(f, i, "day") || is(f, i, "days") ||
           is(f, i, "week") || is(f, i, "weeks");
  }
  return false;
}

static bool is_unary(const fmt *f, size_t i) {
  if (!is_punct(f, i, "-") && !is_punct(f, i, "+")) return false;
  return i == 0 || !ends_operand(f, i - 1);
}

/* No space before `, ) ] : .`, after `( [ .` and a sign, between a
 * function name and its `(`, nor inside an empty `{}`. */
static bool space_before(const fmt *f, size_t i) {
  if (i == 0) return false;
  if (is_punct(f, i, ",") || is_punct(f, i, ")") || is_punct(f, i, "]") ||
      is_punct(f, i, ":") || is_punct(f, i, "."))
    return false;
  if (is_punct(f, i - 1, "(") || is_punct(f, i - 1, "[") || is_punct(f, i - 1, ".")) return false;
  if (is_unary(f, i - 1)) return false;
  if (is_punct(f, i, "(") && f->t[i - 1].cls == DN_TOK_IDENT) return false;
  if (is_punct(f, i, "}") && is_punct(f, i - 1, "{")) return false;
  return true;
}

/* ---- where lines break ------------------------------------------------- */

typedef struct plan {
  bool brk;
  int indent;
  bool blank_ok; /* a blank line the author left here is kept */
  bool stmt;     /* the line begins a statement (not a continuation) */
} plan;

/* Where the author broke a long line, a continuation line is kept: before
 * `when`, `do`, `and`, `or`, and after a comma. Nowhere else, so that a
 * declaration is one line unless its author wanted otherwise there. */
static bool kept_break(const fmt *f, size_t i, int nl) {
  if (nl == 0 || i == 0) return false;
  return is_kw(f, i, "when") || is_kw(f, i, "do") || is_kw(f, i, "and") || is_kw(f, i, "or") ||
         is_punct(f, i - 1, ",");
}

static plan continuation(const fmt *f, size_t i, int nl) {
  bool brk = f->force || !f->open || kept_break(f, i, nl);
  return (plan){brk, f->stmt_indent + 2, false, false};
}

static plan plan_depth0(const fmt *f, size_t i, int nl) {
  if (is_decl(f, i)) return (plan){true, 0, true, true};
  if (f->decl == D_RULE && (is_kw(f, i, "when") || is_kw(f, i, "do") || is_kw(f, i, "once")))
    return (plan){true, 2, false, true};
  if (f->decl == D_ESCALATION && is_kw(f, i, "unless")) return (plan){true, 2, false, true};
  /* A header of several lines (an escalation's `unless`) gets its `{` on
   * a line of its own, so that it does not run into the first item. */
  if (is_punct(f, i, "{")) {
    bool own = f->nlines != f->decl_line + 1 || f->force || !f->open;
    return (plan){own, 0, false, true};
  }
  return continuation(f, i, nl);
}

/* The words that begin an item of a `test` block (LANGUAGE.md s.9). */
static const char *const test_words[] = {
    "policy", "as_of", "customer", "invoice", "payment", "credit_note", "dispute",
    "promise", "fx_rate", "holiday", "history", "ran", "expect",
};

static bool is_test_item(const fmt *f, size_t i) {
  for (size_t k = 0; k < sizeof test_words / sizeof test_words[0]; k++)
    if (is_kw(f, i, test_words[k])) return true;
  return false;
}

static plan plan_block(const fmt *f, size_t i, int nl) {
  bool closing = is_punct(f, i, "}");
  bool first = i > 0 && is_punct(f, i - 1, "{") && f->depth == 1;
  bool preserve = f->body == B_PRESERVE || (f->body == B_TEST && f->depth > 1);
  if (closing) {
    if (first && !f->force) return (plan){false, 0, false, true}; /* `{}` */
    bool brk = f->depth == 1 || (preserve && nl > 0) || f->force || !f->open;
    return (plan){brk, 2 * (f->depth - 1), false, true};
  }
  if (f->depth == 1 && f->body == B_SEGMENT &&
      (is_kw(f, i, "tone") || is_kw(f, i, "tones") || is_kw(f, i, "assign")))
    return (plan){true, 2, true, true};
  if (f->depth == 1 && f->body == B_ESCALATION && is_kw(f, i, "step"))
    return (plan){true, 2, true, true};
  if (f->depth == 1 && f->body == B_TEST && is_test_item(f, i)) return (plan){true, 2, true, true};
  /* Other line breaks in a test are kept, as continuation lines: a long
   * `expect` may be written over several. */
  if (f->depth == 1 && f->body == B_TEST && nl > 0)
    return (plan){true, f->stmt_indent + 2, false, false};
  if (preserve) return (plan){nl > 0 || first || f->force || !f->open, 2 * f->depth, true, true};
  return continuation(f, i, nl);
}

static plan plan_for(const fmt *f, size_t i, int nl) {
  plan p = f->depth == 0 ? plan_depth0(f, i, nl) : plan_block(f, i, nl);
  if (!f->open) p.brk = true;
  return p;
}

/* ---- comments ---------------------------------------------------------- */

/* The author's column of byte offset at (code points, tabs to 8). The
 * last answer is remembered and calls come in source order, so a file
 * written on one huge line costs linear time, not quadratic. */
static int src_col(fmt *f, size_t at) {
  if (f->col_known && f->col_at <= at && !memchr(f->src + f->col_at, '\n', at - f->col_at)) {
    f->col_val = dwidth(f->src + f->col_at, at - f->col_at, f->col_val);
    f->col_at = at;
    return f->col_val;
  }
  size_t s = at;
  while (s > 0 && f->src[s - 1] != '\n') s--;
  if (s == 0 && has_bom(f->src, f->len) && at >= 3) s = 3;
  f->col_known = true;
  f->col_at = at;
  f->col_val = dwidth(f->src + s, at - s, 0);
  return f->col_val;
}

static bool same_src_line(const fmt *f, size_t a, size_t b) {
  return memchr(f->src + a, '\n', b - a) == NULL;
}

static size_t comment_end(const fmt *f, size_t pos, size_t end, size_t *text_len) {
  size_t e = pos;
  while (e < end && f->src[e] != '\n') e++;
  size_t t = e;
  while (t > pos && (f->src[t - 1] == ' ' || f->src[t - 1] == '\t' || f->src[t - 1] == '\r')) t--;
  *text_len = t - pos;
  return e;
}

static void full_line_comment(fmt *f, size_t pos, size_t n, int nl, size_t next) {
  int indent = 0;
  if (next < f->n) {
    if (f->depth > 0 && is_punct(f, next, "}")) {
      indent = 2 * f->depth;
    } else {
      fmt probe = *f;
      probe.force = true;
      indent = plan_for(&probe, next, nl).indent;
    }
  }
  close_line(f);
  if (nl >= 2 && f->nlines > 0) blank_line(f);
  fline *l = new_line(f);
  if (!l) return;
  sb_spaces(&l->code, indent);
  sb_put(&l->code, f->src + pos, n);
  l->comment_only = true;
  f->force = true;
}

/* Walks the gap before token `next` (f->n at the end of the file),
 * placing its comments; returns the newlines after the last of them. */
static int gap(fmt *f, size_t from, size_t to, size_t next) {
  int nl = 0;
  for (size_t pos = from; pos < to;) {
    char c = f->src[pos];
    if (c == '\n') {
      nl++;
      pos++;
      continue;
    }
    if (c != '#') {
      pos++;
      continue;
    }
    size_t n;
    size_t end = comment_end(f, pos, to, &n);
    fline *l = cur(f);
    if (nl == 0 && f->open && l && !l->comment) {
      l->comment = f->src + pos;
      l->comment_len = n;
      l->comment_col = src_col(f, pos);
      f->force = true;
    } else {
      full_line_comment(f, pos, n, nl, next);
    }
    nl = 0;
    pos = end;
  }
  return nl;
}

/* ---- one token --------------------------------------------------------- */

static void mark_alignment(fmt *f, size_t i) {
  fline *l = cur(f);
  if (!l) return;
  /* `let NAME` with its `=` next: pad between them. */
  if (f->depth == 0 && f->decl == D_LET && f->t[i].cls == DN_TOK_IDENT && i > 0 &&
      is_kw(f, i - 1, "let") && is_punct(f, i + 1, "=")) {
    l->align = AL_LET;
    l->align_at = l->code.len;
    size_t let_at = f->t[i - 1].start, eq_at = f->t[i + 1].start;
    l->align_want = -1;
    if (same_src_line(f, let_at, eq_at)) {
      int from = src_col(f, let_at); /* first: src_col is fastest in source order */
      l->align_want = src_col(f, eq_at) - from;
    }
    f->pad_next = true;
  }
  /* `step N days:` then the actions: pad after the colon. */
  if (f->depth == 1 && f->body == B_ESCALATION && f->await_colon && is_punct(f, i, ":")) {
    f->await_colon = false;
    l->align = AL_STEP;
    l->align_at = l->code.len;
    l->group = f->esc_group;
    size_t step_at = f->t[f->step_tok].start;
    l->align_want = -1;
    if (i + 1 < f->n && same_src_line(f, step_at, f->t[i + 1].start)) {
      int from = src_col(f, step_at);
      l->align_want = src_col(f, f->t[i + 1].start) - from;
    }
    f->pad_next = true;
  }
}

static void track(fmt *f, size_t i) {
  if (f->depth == 0 && is_decl(f, i)) {
    f->decl = decl_of(f, i);
    f->decl_line = f->nlines - 1;
  }
  if (f->depth == 1 && f->body == B_ESCALATION && is_kw(f, i, "step")) {
    f->await_colon = true;
    f->step_tok = i;
  }
  if (is_punct(f, i, "{")) {
    if (f->depth == 0) {
      f->body = f->decl == D_SEGMENT      ? B_SEGMENT
                : f->decl == D_ESCALATION ? B_ESCALATION
                : f->decl == D_TEST       ? B_TEST
                                          : B_PRESERVE;
      if (f->body == B_ESCALATION) f->esc_group++;
    }
    f->depth++;
  } else if (is_punct(f, i, "}") && f->depth > 0) {
    f->depth--;
  }
}

static void put_token(fmt *f, size_t i, int nl) {
  plan p = plan_for(f, i, nl);
  if (p.brk) {
    start_line(f, p.indent, p.blank_ok && nl >= 2 && f->nlines > 0);
    if (p.stmt) f->stmt_indent = p.indent;
  } else if (!f->pad_next && space_before(f, i)) {
    sb_put(&cur(f)->code, " ", 1);
  }
  f->pad_next = false;
  fline *l = cur(f);
  if (!l) return;
  sb_put(&l->code, ttext(f, i), tlen(f, i));
  track(f, i);
  mark_alignment(f, i);
}

/* ---- alignment --------------------------------------------------------- */

static int code_width(const fline *l) {
  size_t at = l->align != AL_NONE ? l->align_at : l->code.len;
  int w = dwidth(l->code.p, at, 0) + l->align_pad;
  return dwidth(l->code.p + at, l->code.len - at, w);
}

static int indent_of(const fline *l) {
  int k = 0;
  while ((size_t)k < l->code.len && l->code.p[k] == ' ') k++;
  return k;
}

/* Pads lines[from..to) of one alignment group to a common column. */
static void align_group(fline *lines, size_t from, size_t to, align_kind kind, int group) {
  int target = 0;
  for (size_t k = from; k < to; k++) {
    fline *l = &lines[k];
    if (l->align != kind || (kind == AL_STEP && l->group != group)) continue;
    int w = dwidth(l->code.p, l->align_at, 0);
    if (w + 1 > target) target = w + 1;
    if (l->align_want >= 0 && indent_of(l) + l->align_want > target)
      target = indent_of(l) + l->align_want;
  }
  for (size_t k = from; k < to; k++) {
    fline *l = &lines[k];
    if (l->align != kind || (kind == AL_STEP && l->group != group)) continue;
    l->align_pad = target - dwidth(l->code.p, l->align_at, 0);
  }
}

/* `let`s: each run of adjacent `let` lines is a group. */
static void align_lets(fmt *f) {
  for (size_t k = 0; k < f->nlines;) {
    size_t e = k;
    while (e < f->nlines && f->lines[e].align == AL_LET) e++;
    if (e > k) align_group(f->lines, k, e, AL_LET, 0);
    k = e > k ? e : k + 1;
  }
}

/* Steps: all the steps of one escalation, whose lines are contiguous. */
static void align_steps(fmt *f) {
  for (size_t k = 0; k < f->nlines;) {
    fline *l = &f->lines[k];
    if (l->align != AL_STEP) {
      k++;
      continue;
    }
    size_t end = k + 1;
    for (size_t e = k + 1; e < f->nlines; e++) {
      if (f->lines[e].align != AL_STEP) continue;
      if (f->lines[e].group != l->group) break;
      end = e + 1;
    }
    align_group(f->lines, k, end, AL_STEP, l->group);
    k = end;
  }
}

/* Trailing comments: each run of adjacent lines that have one, at the
 * widest of the authors' columns and one past the widest code. */
static void align_comments(fmt *f) {
  for (size_t k = 0; k < f->nlines;) {
    size_t e = k;
    int target = 0;
    for (; e < f->nlines && f->lines[e].comment; e++) {
      int w = code_width(&f->lines[e]) + 1;
      if (w > target) target = w;
      if (f->lines[e].comment_col > target) target = f->lines[e].comment_col;
    }
    for (size_t j = k; j < e; j++) f->lines[j].comment_col = target;
    k = e > k ? e : k + 1;
  }
}

/* ---- output ------------------------------------------------------------ */

static void emit(fmt *f, sbuf *out, const char *eol) {
  if (has_bom(f->src, f->len)) sb_put(out, "\xEF\xBB\xBF", 3);
  size_t last = f->nlines;
  while (last > 0 && f->lines[last - 1].blank) last--;
  for (size_t k = 0; k < last; k++) {
    fline *l = &f->lines[k];
    if (!l->blank) {
      size_t at = l->align != AL_NONE ? l->align_at : l->code.len;
      sb_put(out, l->code.p ? l->code.p : "", at);
      sb_spaces(out, l->align_pad);
      sb_put(out, l->code.p ? l->code.p + at : "", l->code.len - at);
      if (l->comment) {
        sb_spaces(out, l->comment_col - code_width(l));
        sb_put(out, l->comment, l->comment_len);
      }
    }
    sb_str(out, eol);
  }
}

static void fmt_free(fmt *f) {
  for (size_t k = 0; k < f->nlines; k++) free(f->lines[k].code.p);
  free(f->lines);
}

/* Lays out tokens t[0..n) of src. */
static dn_status layout(const char *src, size_t len, const dn_token *t, size_t n, sbuf *out) {
  fmt f;
  memset(&f, 0, sizeof f);
  f.src = src;
  f.len = len;
  f.t = t;
  f.n = n;
  size_t pos = 0;
  for (size_t i = 0; i < n; i++) {
    int nl = gap(&f, pos, t[i].start, i);
    put_token(&f, i, nl);
    pos = t[i].end;
  }
  gap(&f, pos, len, n);
  close_line(&f);
  bool oom = f.oom;
  for (size_t k = 0; k < f.nlines; k++) oom = oom || f.lines[k].code.oom;
  if (!oom) {
    align_lets(&f); /* the code widths the comments align after */
    align_steps(&f);
    align_comments(&f);
    const char *nl = memchr(src, '\n', len);
    emit(&f, out, nl && nl > src && nl[-1] == '\r' ? "\r\n" : "\n");
  }
  fmt_free(&f);
  return oom || out->oom ? DN_ERR_INTERNAL : DN_OK;
}

/* ---- the safety check -------------------------------------------------- */

/* The comments of a source, each without trailing white space, in order,
 * separated by NULs. */
static void comments_of(const char *src, size_t len, const dn_token *t, size_t n, sbuf *out) {
  size_t pos = 0;
  for (size_t i = 0; i <= n; i++) {
    size_t to = i < n ? t[i].start : len;
    while (pos < to) {
      if (src[pos] != '#') {
        pos++;
        continue;
      }
      size_t e = pos;
      while (e < to && src[e] != '\n') e++;
      size_t k = e;
      while (k > pos && (src[k - 1] == ' ' || src[k - 1] == '\t' || src[k - 1] == '\r')) k--;
      sb_put(out, src + pos, k - pos);
      sb_put(out, "", 1);
      pos = e;
    }
    if (i < n) pos = t[i].end;
  }
}

static bool same_tokens(const char *a, const dn_token *ta, size_t na, const char *b,
                        const dn_token *tb, size_t nb) {
  if (na != nb) return false;
  for (size_t i = 0; i < na; i++) {
    size_t la = ta[i].end - ta[i].start, lb = tb[i].end - tb[i].start;
    if (ta[i].kind != tb[i].kind || la != lb || memcmp(a + ta[i].start, b + tb[i].start, la) != 0)
      return false;
  }
  return true;
}

static dn_status lex_quietly(const char *src, size_t len, dn_token **t, size_t *n) {
  dn_diags scratch;
  dn_diags_init(&scratch, NULL, src, len);
  dn_status st = dn_lex_tokens(src, len, t, n, &scratch);
  dn_diags_free(&scratch);
  return st;
}

dn_status dn_format_verify(const char *src, size_t len, const char *out, size_t out_len,
                           const char **why) {
  const char *dummy;
  if (!why) why = &dummy;
  *why = NULL;
  dn_token *t1 = NULL, *t2 = NULL;
  size_t n1 = 0, n2 = 0;
  dn_status s1 = lex_quietly(src, len, &t1, &n1);
  dn_status s2 = lex_quietly(out, out_len, &t2, &n2);
  sbuf c1 = {0}, c2 = {0};
  comments_of(src, len, t1, n1, &c1);
  comments_of(out, out_len, t2, n2, &c2);
  bool oom = s1 == DN_ERR_INTERNAL || s2 == DN_ERR_INTERNAL || c1.oom || c2.oom;
  bool ok = s1 == s2 && same_tokens(src, t1, n1, out, t2, n2);
  bool same_comments = c1.len == c2.len && (c1.len == 0 || memcmp(c1.p, c2.p, c1.len) == 0);
  free(c1.p);
  free(c2.p);
  free(t1);
  free(t2);
  if (oom) *why = "out of memory";
  else if (!ok) *why = "formatter bug: the formatted text does not have the tokens of the original";
  else if (!same_comments)
    *why = "formatter bug: the formatted text does not have the comments of the original";
  return *why ? DN_ERR_INTERNAL : DN_OK;
}

/* ---- the entry point --------------------------------------------------- */

/* Lexical and syntax errors (E01xx) stop the formatter; the checker's
 * concerns (an unknown event, a duplicate setting) do not, the text being
 * tokens the formatter can lay out all the same. */
static bool syntax_errors(const dn_diags *d) {
  for (size_t k = 0; k < d->count; k++)
    if (d->items[k].severity == DN_SEV_ERROR && d->items[k].code <= DN_E0106) return true;
  return d->failed || d->dropped > 0;
}

static dn_status check_syntax(const char *filename, const char *src, size_t len,
                              dn_diags *diags) {
  dn_diags scratch;
  dn_diags_init(&scratch, filename, src, len);
  dn_ast ast;
  dn_status st = dn_parse(filename, src, len, &ast, &scratch);
  dn_ast_free(&ast);
  bool bad = syntax_errors(&scratch);
  dn_diags_free(&scratch);
  if (st == DN_ERR_INTERNAL && !bad) return DN_ERR_INTERNAL;
  if (!bad) return DN_OK;
  /* Parsed again into the caller's list, which then holds exactly what
   * `dunlin check` would say about the syntax. */
  dn_parse(filename, src, len, &ast, diags);
  dn_ast_free(&ast);
  return DN_ERR_INPUT;
}

/* The output is parsed again too: equal tokens should parse alike, and
 * this says so rather than assuming it. */
static bool parses(const char *filename, const char *text, size_t len) {
  dn_diags scratch;
  dn_diags_init(&scratch, filename, text, len);
  dn_ast ast;
  dn_status st = dn_parse(filename, text, len, &ast, &scratch);
  dn_ast_free(&ast);
  bool ok = st != DN_ERR_INTERNAL && !syntax_errors(&scratch);
  dn_diags_free(&scratch);
  return ok;
}

dn_status dn_format(const char *filename, const char *src, size_t len, char **out,
                    size_t *out_len, dn_diags *diags, const char **why) {
  const char *dummy;
  if (!why) why = &dummy;
  *why = NULL;
  *out = NULL;
  *out_len = 0;
  if (!src) src = "";
  dn_status st = check_syntax(filename, src, len, diags);
  if (st != DN_OK) {
    if (st == DN_ERR_INTERNAL) *why = "the parser ran out of memory";
    return st;
  }
  dn_diags scratch;
  dn_diags_init(&scratch, filename, src, len);
  dn_token *t = NULL;
  size_t n = 0;
  st = dn_lex_tokens(src, len, &t, &n, &scratch);
  dn_diags_free(&scratch);
  if (st != DN_OK) {
    free(t);
    *why = st == DN_ERR_INTERNAL ? "out of memory" : "the lexer disagrees with the parser";
    return DN_ERR_INTERNAL;
  }
  sbuf text = {0};
  sb_put(&text, "", 0);
  st = layout(src, len, t, n, &text);
  if (st != DN_OK) *why = "out of memory";
  else st = dn_format_verify(src, len, text.p, text.len, why);
  if (st == DN_OK && !parses(filename, text.p, text.len)) {
    *why = "formatter bug: the formatted text does not parse";
    st = DN_ERR_INTERNAL;
  }
  free(t);
  if (st != DN_OK) {
    free(text.p);
    return st;
  }
  *out = text.p;
  *out_len = text.len;
  return DN_OK;
}
