/* diag.c - the diagnostic list, the code table and the text and JSON
 * renderers (LANGUAGE.md section 7).
 *
 * Positions stay byte offsets until rendering; line and column (1-based,
 * columns in UTF-8 code points) are computed here and nowhere else. */
#include "lang/diag.h"
#include "stdlib/text.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct dn_code_info {
  const char *name, *slug, *help;
  dn_severity severity;
} dn_code_info;

static const dn_code_info dn_codes[DN_DIAG_COUNT] = {
#define DN_DIAG(code, sev, slug, help) [DN_##code] = {#code, slug, help, DN_SEV_##sev},
#include "lang/diag_codes.def"
#undef DN_DIAG
};

static const dn_code_info *dn_code(dn_diag_code c) {
  static const dn_code_info unknown = {"E0000", "unknown", "", DN_SEV_ERROR};
  return (unsigned)c < DN_DIAG_COUNT ? &dn_codes[c] : &unknown;
}

const char *dn_diag_code_name(dn_diag_code c) { return dn_code(c)->name; }
const char *dn_diag_code_slug(dn_diag_code c) { return dn_code(c)->slug; }
const char *dn_diag_code_help(dn_diag_code c) { return dn_code(c)->help; }
dn_severity dn_diag_code_severity(dn_diag_code c) { return dn_code(c)->severity; }

bool dn_diag_code_parse(const char *name, dn_diag_code *out) {
  if (!name) return false;
  for (int i = 0; i < DN_DIAG_COUNT; i++) {
    if (strcmp(dn_codes[i].name, name) == 0) {
      *out = (dn_diag_code)i;
      return true;
    }
  }
  return false;
}

/* ---- the list ---------------------------------------------------------- */

void dn_diags_init(dn_diags *d, const char *filename, const char *source, size_t len) {
  memset(d, 0, sizeof *d);
  d->filename = filename;
  d->source = source;
  d->source_len = len;
}

static void dn_diag_clear(dn_diag *g) {
  free(g->message);
  free(g->hint);
  free(g->note);
  free(g->file);
  memset(g, 0, sizeof *g);
}

void dn_diags_free(dn_diags *d) {
  for (size_t i = 0; i < d->count; i++) dn_diag_clear(&d->items[i]);
  free(d->items);
  dn_diag_clear(&d->scratch);
  d->items = NULL;
  d->count = d->cap = 0;
  d->errors = d->warnings = 0;
  d->dropped = 0;
  d->failed = false;
}

static bool dn_is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

enum { DN_MESSAGE_SHOWN = 300 }; /* bytes of a message: they quote user text */

static char *dn_message(const char *fmt, va_list ap) {
  char *s = dn_vformat(fmt, ap);
  size_t n = s ? strlen(s) : 0;
  /* A message quoting a megabyte-long token is cut, on a character
   * boundary, and says so. */
  if (s && n > DN_MESSAGE_SHOWN + 3) { /* room for "..." and the NUL */
    size_t cut = DN_MESSAGE_SHOWN;
    while (cut > 0 && dn_is_cont((unsigned char)s[cut])) cut--;
    memcpy(s + cut, "...", 4);
  }
  return s;
}

/* Counts first so that a lost diagnostic still fails the run; then finds
 * room, or falls back to the list's own scratch record. */
static dn_diag *dn_diag_slot(dn_diags *d, dn_diag_code code) {
  dn_severity sev = dn_diag_code_severity(code);
  if (sev == DN_SEV_ERROR) d->errors++;
  else d->warnings++;
  if (d->count >= DN_DIAGS_SHOWN) {
    d->dropped++;
    dn_diag_clear(&d->scratch);
    d->scratch.code = code;
    d->scratch.severity = sev;
    return &d->scratch;
  }
  if (d->count == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 8;
    dn_diag *grown = realloc(d->items, cap * sizeof *grown);
    if (!grown) {
      d->failed = true;
      dn_diag_clear(&d->scratch);
      d->scratch.code = code;
      d->scratch.severity = sev;
      return &d->scratch;
    }
    d->items = grown;
    d->cap = cap;
  }
  dn_diag *g = &d->items[d->count++];
  memset(g, 0, sizeof *g);
  g->code = code;
  g->severity = sev;
  return g;
}

dn_diag *dn_diag_add(dn_diags *d, dn_diag_code code, dn_span span, const char *fmt, ...) {
  dn_diag *g = dn_diag_slot(d, code);
  g->span = span;
  va_list ap;
  va_start(ap, fmt);
  g->message = dn_message(fmt, ap);
  va_end(ap);
  if (!g->message) d->failed = true;
  return g;
}

dn_diag *dn_diag_add_at(dn_diags *d, dn_diag_code code, const char *file, int line,
                        const char *fmt, ...) {
  dn_diag *g = dn_diag_slot(d, code);
  g->file = strdup(file ? file : "");
  g->line = line;
  va_list ap;
  va_start(ap, fmt);
  g->message = dn_message(fmt, ap);
  va_end(ap);
  if (!g->message || !g->file) d->failed = true;
  return g;
}

void dn_diag_hint(dn_diag *g, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = dn_message(fmt, ap);
  va_end(ap);
  free(g->hint);
  g->hint = s;
}

void dn_diag_note(dn_diag *g, dn_span span, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = dn_message(fmt, ap);
  va_end(ap);
  free(g->note);
  g->note = s;
  g->note_span = span;
}

/* ---- positions --------------------------------------------------------- */


/* A UTF-8 byte order mark opening the file is not part of the first line:
 * it takes no column and is not quoted. */
static size_t dn_skip_bom(const char *src, size_t len, size_t bol) {
  if (bol == 0 && len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) return 3;
  return bol;
}

void dn_source_position(const char *src, size_t len, uint32_t offset, int *line, int *col) {
  if (offset > len) offset = (uint32_t)len;
  int l = 1;
  size_t bol = 0;
  for (size_t i = 0; i < offset; i++) {
    if (src[i] == '\n') {
      l++;
      bol = i + 1;
    }
  }
  int c = 1;
  for (size_t i = dn_skip_bom(src, len, bol); i < offset; i++) {
    if (!dn_is_cont((unsigned char)src[i])) c++;
  }
  *line = l;
  *col = c;
}

/* ---- text -------------------------------------------------------------- */

static const char *dn_sev_word(const dn_diag *g, bool werror) {
  return g->severity == DN_SEV_ERROR || werror ? "error" : "warning";
}

static const char *dn_msg(const dn_diag *g) { return g->message ? g->message : "(out of memory)"; }

static size_t dn_line_start(const char *src, size_t off) {
  while (off > 0 && src[off - 1] != '\n') off--;
  return off;
}

static size_t dn_line_end(const char *src, size_t len, size_t off) {
  while (off < len && src[off] != '\n') off++;
  if (off > 0 && off <= len && src[off - 1] == '\r') off--;
  return off;
}

/* The caret line keeps tabs so it lines up under a tab-indented source
 * line; every other code point before the span becomes one space. */
enum { DN_LINE_SHOWN = 240 }; /* bytes of a source line a diagnostic quotes */

static void dn_render_caret(FILE *out, const char *src, size_t bol, size_t eol, dn_span sp, bool cut) {
  size_t start = sp.start < bol ? bol : (sp.start > eol ? eol : sp.start);
  size_t end = sp.end > eol ? eol : sp.end;
  fprintf(out, "%5s | %s", "", cut ? "   " : "");
  for (size_t i = bol; i < start; i++) {
    unsigned char c = (unsigned char)src[i];
    if (c == '\t') fputc('\t', out);
    else if (!dn_is_cont(c)) fputc(' ', out);
  }
  fputc('^', out);
  bool first = true;
  for (size_t i = start; i < end; i++) {
    if (dn_is_cont((unsigned char)src[i])) continue;
    if (first) first = false;
    else fputc('~', out);
  }
  fputc('\n', out);
}

static void dn_render_source(const dn_diags *d, const dn_diag *g, FILE *out, bool werror) {
  int line, col;
  dn_source_position(d->source, d->source_len, g->span.start, &line, &col);
  fprintf(out, "%s:%d:%d: %s[%s]: %s\n", d->filename ? d->filename : "<input>", line, col,
          dn_sev_word(g, werror), dn_diag_code_name(g->code), dn_msg(g));
  size_t start = g->span.start > d->source_len ? d->source_len : g->span.start;
  size_t bol = dn_skip_bom(d->source, d->source_len, dn_line_start(d->source, start));
  size_t eol = dn_line_end(d->source, d->source_len, start);
  if (eol < start) eol = start; /* span on a '\r' */
  /* A very long line (minified or generated text) is shown as a window
   * around the caret, so one diagnostic cannot print megabytes. */
  bool cut_left = false, cut_right = false;
  if (eol - bol > DN_LINE_SHOWN) {
    size_t from = start > bol + DN_LINE_SHOWN / 4 ? start - DN_LINE_SHOWN / 4 : bol;
    while (from > bol && dn_is_cont((unsigned char)d->source[from])) from--;
    size_t to = from + DN_LINE_SHOWN < eol ? from + DN_LINE_SHOWN : eol;
    while (to < eol && dn_is_cont((unsigned char)d->source[to])) to++;
    cut_left = from > bol;
    cut_right = to < eol;
    bol = from;
    eol = to;
  }
  fprintf(out, "%5d | %s%.*s%s\n", line, cut_left ? "..." : "", (int)(eol - bol), d->source + bol,
          cut_right ? "..." : "");
  dn_render_caret(out, d->source, bol, eol, g->span, cut_left);
  if (g->note) {
    int nl, nc;
    dn_source_position(d->source, d->source_len, g->note_span.start, &nl, &nc);
    fprintf(out, "%5s = note: %d:%d: %s\n", "", nl, nc, g->note);
  }
  if (g->hint) fprintf(out, "%5s = hint: %s\n", "", g->hint);
}

static void dn_render_other(const dn_diags *d, const dn_diag *g, FILE *out, bool werror) {
  const char *file = g->file ? g->file : (d->filename ? d->filename : "<input>");
  if (g->line > 0) fprintf(out, "%s:%d: ", file, g->line);
  else fprintf(out, "%s: ", file);
  fprintf(out, "%s[%s]: %s\n", dn_sev_word(g, werror), dn_diag_code_name(g->code), dn_msg(g));
  if (g->note) fprintf(out, "%5s = note: %s\n", "", g->note);
  if (g->hint) fprintf(out, "%5s = hint: %s\n", "", g->hint);
}

void dn_diags_render_text(const dn_diags *d, FILE *out, bool werror) {
  for (size_t i = 0; i < d->count; i++) {
    const dn_diag *g = &d->items[i];
    if (g->file || !d->source) dn_render_other(d, g, out, werror);
    else dn_render_source(d, g, out, werror);
  }
  if (d->dropped)
    fprintf(out, "%s: note: %zu more diagnostic%s not shown\n", d->filename ? d->filename : "<input>", d->dropped,
            d->dropped == 1 ? "" : "s");
  if (d->failed) fprintf(out, "error: out of memory: some diagnostics were lost\n");
}

/* ---- JSON -------------------------------------------------------------- */

/* A JSON string even when the text is not UTF-8 (a Latin-1 file name or
 * policy): jansson refuses such text, so each bad byte becomes U+FFFD
 * rather than the key silently going missing. */
static json_t *dn_json_text(const char *s) {
  json_t *j = json_string(s);
  if (j || !s) return j;
  size_t n = strlen(s);
  char *buf = malloc(3 * n + 1);
  if (!buf) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n;) {
    unsigned char b = (unsigned char)s[i];
    size_t len = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 ? 2 : 0;
    bool ok = len > 0 && b <= 0xF4 && i + len <= n;
    for (size_t t = 1; ok && t < len; t++) ok = ((unsigned char)s[i + t] & 0xC0) == 0x80;
    if (ok && len > 1) {
      json_t *one = json_stringn(s + i, len); /* rejects overlongs and surrogates */
      ok = one != NULL;
      json_decref(one);
    }
    if (ok) {
      memcpy(buf + k, s + i, len);
      k += len;
      i += len;
    } else {
      memcpy(buf + k, "\xEF\xBF\xBD", 3);
      k += 3;
      i++;
    }
  }
  buf[k] = '\0';
  j = json_string(buf);
  free(buf);
  return j;
}

/* The secondary location ("declared here") CI annotations can link to. */
static json_t *dn_note_json(const dn_diags *d, const dn_diag *g) {
  if (!g->note) return json_null();
  int line = 0, col = 0;
  if (d->source && !g->file) dn_source_position(d->source, d->source_len, g->note_span.start, &line, &col);
  json_t *n = json_object();
  if (!n) return json_null();
  json_object_set_new(n, "line", json_integer(line));
  json_object_set_new(n, "column", json_integer(col));
  json_object_set_new(n, "message", dn_json_text(g->note));
  return n;
}

static json_t *dn_diag_json(const dn_diags *d, const dn_diag *g, bool werror) {
  int line = 0, col = 0, eline = 0, ecol = 0;
  const char *file = d->filename ? d->filename : "<input>";
  if (g->file || !d->source) {
    if (g->file) file = g->file;
    line = eline = g->line;
  } else {
    dn_source_position(d->source, d->source_len, g->span.start, &line, &col);
    dn_source_position(d->source, d->source_len, g->span.end, &eline, &ecol);
  }
  json_t *o = json_object();
  if (!o) return NULL;
  json_object_set_new(o, "file", dn_json_text(file));
  json_object_set_new(o, "line", json_integer(line));
  json_object_set_new(o, "column", json_integer(col));
  json_object_set_new(o, "end_line", json_integer(eline));
  json_object_set_new(o, "end_column", json_integer(ecol));
  json_object_set_new(o, "severity", json_string(dn_sev_word(g, werror)));
  json_object_set_new(o, "code", json_string(dn_diag_code_name(g->code)));
  json_object_set_new(o, "slug", json_string(dn_diag_code_slug(g->code)));
  json_object_set_new(o, "message", dn_json_text(dn_msg(g)));
  json_object_set_new(o, "hint", g->hint ? dn_json_text(g->hint) : json_null());
  json_object_set_new(o, "note", dn_note_json(d, g));
  return o;
}

void dn_diags_render_json(const dn_diags *d, FILE *out, bool werror) {
  for (size_t i = 0; i < d->count; i++) {
    json_t *o = dn_diag_json(d, &d->items[i], werror);
    if (!o) continue;
    json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fputc('\n', out);
    json_decref(o);
  }
}

/* ---- sorting ----------------------------------------------------------- */

static int dn_diag_cmp(const dn_diags *d, const dn_diag *a, const dn_diag *b) {
  const char *fa = a->file ? a->file : (d->filename ? d->filename : "");
  const char *fb = b->file ? b->file : (d->filename ? d->filename : "");
  int c = strcmp(fa, fb);
  if (c) return c;
  uint32_t ka = a->file ? (uint32_t)a->line : a->span.start;
  uint32_t kb = b->file ? (uint32_t)b->line : b->span.start;
  return (ka > kb) - (ka < kb);
}

/* Merge sort: stable, n log n, and diagnostics are few enough that the
 * temporary copy costs nothing. Insertion sort is the fallback on OOM. */
static void dn_merge(const dn_diags *d, dn_diag *v, dn_diag *tmp, size_t n) {
  if (n < 2) return;
  size_t h = n / 2;
  dn_merge(d, v, tmp, h);
  dn_merge(d, v + h, tmp, n - h);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n) tmp[k++] = dn_diag_cmp(d, &v[j], &v[i]) < 0 ? v[j++] : v[i++];
  while (i < h) tmp[k++] = v[i++];
  while (j < n) tmp[k++] = v[j++];
  memcpy(v, tmp, n * sizeof *v);
}

void dn_diags_sort(dn_diags *d) {
  if (d->count < 2) return;
  dn_diag *tmp = malloc(d->count * sizeof *tmp);
  if (tmp) {
    dn_merge(d, d->items, tmp, d->count);
    free(tmp);
    return;
  }
  for (size_t i = 1; i < d->count; i++) {
    dn_diag x = d->items[i];
    size_t j = i;
    while (j > 0 && dn_diag_cmp(d, &x, &d->items[j - 1]) < 0) {
      d->items[j] = d->items[j - 1];
      j--;
    }
    d->items[j] = x;
  }
}
