/* render.c - fills a template's variables from a customer's facts and an
 * action record (see render.h; the variables are defined in
 * docs/templates.md). */
#include "runtime/render.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/outbox.h"
#include "stdlib/locale.h"
#include "stdlib/text.h"

#define NBSP "\xC2\xA0"

/* A growable string; `failed` sticks on out of memory. */
typedef struct sbuf {
  char *s;
  size_t n, cap;
  bool failed;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t len) {
  if (b->failed) return;
  if (b->n + len + 1 > b->cap) {
    size_t nc = b->cap ? b->cap : 256;
    while (nc < b->n + len + 1) nc *= 2;
    char *p = realloc(b->s, nc);
    if (!p) {
      b->failed = true;
      return;
    }
    b->s = p;
    b->cap = nc;
  }
  memcpy(b->s + b->n, s, len);
  b->n += len;
  b->s[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_fmt(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_fmt(sbuf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) b->failed = true;
  else sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Per-language phrases the renderer writes itself (invoice lines and the
 * default sender); everything else is the template's. */
typedef struct phrases {
  const char *due, *sep; /* "- NUMBER<due>DATE<sep>BALANCE" */
  const char *company;
} phrases;

static const phrases k_phrases[DN_LANG_COUNT] = {
    [DN_LANG_EN] = {", due ", ": ", "Accounts Receivable"},
    [DN_LANG_DE] = {", f\xC3\xA4llig am ", ": ", "Debitorenbuchhaltung"},
    [DN_LANG_FR] = {", \xC3\xA9" "ch\xC3\xA9" "ance le ", NBSP ": ", "Service Recouvrement"},
    [DN_LANG_ES] = {", vencimiento el ", ": ", "Departamento de Cobros"},
};

/* What the variables are computed from. */
typedef struct render_ctx {
  const dn_customer_facts *c;
  const dn_action_rec *a;
  const dn_render_options *o;
  dn_lang lang;
  const dn_invoice_facts **inv; /* the invoices the message is about */
  int ninv;
} render_ctx;

static const dn_invoice_facts *find_invoice(const dn_customer_facts *c, const char *id) {
  for (int32_t i = 0; i < c->ninvoices; i++)
    if (c->invoices[i].id && strcmp(c->invoices[i].id, id) == 0) return &c->invoices[i];
  return NULL;
}

/* The action's invoices; an action about the customer as a whole (a call
 * after a broken promise) is about the open invoices past due, or all
 * open ones when none is past due yet. */
static bool pick_invoices(render_ctx *r) {
  const dn_customer_facts *c = r->c;
  r->inv = calloc((size_t)(r->a->ninvoices + c->ninvoices + 1), sizeof *r->inv);
  if (!r->inv) return false;
  for (int i = 0; i < r->a->ninvoices; i++) {
    const dn_invoice_facts *f = find_invoice(c, r->a->invoices[i]);
    if (f) r->inv[r->ninv++] = f;
  }
  if (r->a->ninvoices > 0) return true;
  for (int pass = 0; pass < 2 && r->ninv == 0; pass++)
    for (int32_t i = 0; i < c->ninvoices; i++) {
      const dn_invoice_facts *f = &c->invoices[i];
      if (f->open && !f->fx_missing && (pass == 1 || f->days_past_due > 0)) r->inv[r->ninv++] = f;
    }
  return true;
}

static const char *inv_number(const dn_invoice_facts *f) {
  return f->number && *f->number ? f->number : f->id;
}

static void put_money(sbuf *b, dn_lang l, int64_t minor, uint16_t cur) {
  char m[DN_LOCALE_BUF];
  dn_locale_format_money(l, minor, cur, m);
  sb_str(b, m);
}

static void put_date(sbuf *b, dn_lang l, dn_date d) {
  char m[DN_LOCALE_BUF];
  dn_locale_format_date(l, d, m);
  sb_str(b, m);
}

/* Sum of the balances per currency, in order of first appearance, joined
 * with " + " (invoices in two currencies are not added up). */
static void put_amount_due(sbuf *b, const render_ctx *r) {
  bool any = false;
  for (int i = 0; i < r->ninv; i++) {
    uint16_t cur = r->inv[i]->currency;
    bool seen = false;
    for (int j = 0; j < i && !seen; j++) seen = r->inv[j]->currency == cur;
    if (seen) continue;
    int64_t sum = 0;
    for (int j = i; j < r->ninv; j++)
      if (r->inv[j]->currency == cur) sum += r->inv[j]->balance; /* facts.c caps amounts: no overflow */
    if (any) sb_str(b, " + ");
    put_money(b, r->lang, sum, cur);
    any = true;
  }
  if (!any) put_money(b, r->lang, 0, r->c->total_open_p.cur);
}

static void put_pay_link(sbuf *b, const render_ctx *r) {
  const char *pat = r->o ? r->o->pay_link : NULL;
  if (!pat) {
    sb_str(b, "{{pay_link}}");
    return;
  }
  static const char key[] = "{customer}";
  for (const char *p = pat; *p;) {
    if (strncmp(p, key, sizeof key - 1) != 0) {
      sb_put(b, p++, 1);
      continue;
    }
    /* RFC 3986 unreserved characters pass; everything else is %XX. */
    for (const unsigned char *q = (const unsigned char *)r->c->id; *q; q++) {
      if ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') ||
          strchr("-._~", *q))
        sb_put(b, (const char *)q, 1);
      else
        sb_fmt(b, "%%%02X", *q);
    }
    p += sizeof key - 1;
  }
}

static void put_var(sbuf *b, const render_ctx *r, dn_tmpl_var v) {
  const dn_customer_facts *c = r->c;
  switch (v) {
  case DN_TV_CUSTOMER_NAME: sb_str(b, c->name && *c->name ? c->name : c->id); break;
  case DN_TV_CUSTOMER_ID: sb_str(b, c->id); break;
  case DN_TV_COMPANY_NAME:
    sb_str(b, r->o && r->o->company ? r->o->company : k_phrases[r->lang].company);
    break;
  case DN_TV_INVOICES:
    for (int i = 0; i < r->ninv; i++) {
      if (i) sb_str(b, "\n");
      sb_str(b, "- ");
      sb_str(b, inv_number(r->inv[i]));
      sb_str(b, k_phrases[r->lang].due);
      put_date(b, r->lang, r->inv[i]->due_date);
      sb_str(b, k_phrases[r->lang].sep);
      put_money(b, r->lang, r->inv[i]->balance, r->inv[i]->currency);
    }
    break;
  case DN_TV_INVOICE_NUMBERS:
    for (int i = 0; i < r->ninv; i++) {
      if (i) sb_str(b, ", ");
      sb_str(b, inv_number(r->inv[i]));
    }
    break;
  case DN_TV_INVOICE_COUNT: sb_fmt(b, "%d", r->ninv); break;
  case DN_TV_AMOUNT_DUE: put_amount_due(b, r); break;
  case DN_TV_TOTAL_OVERDUE: put_money(b, r->lang, c->total_overdue_p.minor, c->total_overdue_p.cur); break;
  case DN_TV_TOTAL_OPEN: put_money(b, r->lang, c->total_open_p.minor, c->total_open_p.cur); break;
  case DN_TV_OLDEST_DUE_DATE: {
    dn_date d = DN_DATE_NONE;
    for (int i = 0; i < r->ninv; i++)
      if (d == DN_DATE_NONE || r->inv[i]->due_date < d) d = r->inv[i]->due_date;
    put_date(b, r->lang, d);
    break;
  }
  case DN_TV_DATE: put_date(b, r->lang, r->a->as_of); break;
  case DN_TV_PAY_LINK: put_pay_link(b, r); break;
  default: break;
  }
}

/* Literal text loses its carriage returns: a template saved with CRLF
 * line ends still renders with '\n' only. */
static char *fill(const render_ctx *r, const dn_tmpl_part *parts, int n) {
  sbuf b = {0};
  sb_put(&b, "", 0);
  for (int i = 0; i < n; i++) {
    if (parts[i].var >= 0) {
      put_var(&b, r, (dn_tmpl_var)parts[i].var);
      continue;
    }
    const char *p = parts[i].text, *end = p + parts[i].len;
    while (p < end) {
      const char *cr = memchr(p, '\r', (size_t)(end - p));
      const char *stop = cr ? cr : end;
      sb_put(&b, p, (size_t)(stop - p));
      p = cr ? cr + 1 : end;
    }
  }
  if (b.failed) {
    free(b.s);
    return NULL;
  }
  return b.s;
}

dn_status dn_render_action(const dn_templates *t, const dn_customer_facts *c, const dn_action_rec *a,
                           const dn_render_options *o, dn_rendered *out, dn_diags *diags) {
  memset(out, 0, sizeof *out);
  if (!c) c = a->facts;
  if (!c || !a->template_name) return DN_ERR_INTERNAL;
  const char *lang = dn_templates_language(t, c->language);
  const dn_template *tp = lang ? dn_templates_find(t, lang, a->template_name) : NULL;
  if (!tp && (tp = dn_templates_find(t, "en", a->template_name)) != NULL) lang = tp->lang;
  if (!tp) {
    dn_diag *g = dn_diag_add_at(diags, DN_E0803, t->dir, 0, "customer %s: no template `%s` in `%s` or `en`",
                                c->id, a->template_name, lang ? lang : "?");
    dn_diag_hint(g, "dunlin check POLICY --templates %s lists every missing template", t->dir);
    return DN_ERR_INPUT;
  }
  render_ctx r = {.c = c, .a = a, .o = o};
  dn_lang_parse(lang, &r.lang);
  if (!pick_invoices(&r)) return DN_ERR_INTERNAL;
  out->language = lang;
  bool wants_subject = a->kind == DN_ACT_EMAIL || a->kind == DN_ACT_LETTER;
  if (wants_subject && tp->has_subject) out->subject = fill(&r, tp->subject, tp->nsubject);
  out->body = fill(&r, tp->body, tp->nbody);
  free(r.inv);
  if (!out->body || (wants_subject && tp->has_subject && !out->subject)) {
    dn_rendered_free(out);
    return DN_ERR_INTERNAL;
  }
  return DN_OK;
}

void dn_rendered_free(dn_rendered *r) {
  free(r->subject);
  free(r->body);
  r->subject = r->body = NULL;
}


dn_status dn_render_action_json(struct json_t *obj, const dn_templates *t, const dn_customer_facts *c,
                                const dn_action_rec *a, const dn_render_options *o, dn_diags *diags) {
  if (!dn_action_is_contact(a->kind) || !a->template_name) return DN_OK;
  dn_rendered r;
  dn_status st = dn_render_action(t, c, a, o, &r, diags);
  if (st != DN_OK) return st;
  json_t *subj = r.subject ? dn_json_text(r.subject) : json_null();
  json_t *body = dn_json_text(r.body);
  int rc = json_object_set_new(obj, "language", dn_json_text(r.language));
  rc |= json_object_set_new(obj, "subject", subj);
  rc |= json_object_set_new(obj, "body", body);
  dn_rendered_free(&r);
  return rc == 0 ? DN_OK : DN_ERR_INTERNAL;
}

dn_status dn_render_collect_init(dn_render_collect *c, const dn_templates *t, const dn_render_options *o,
                                 dn_diags *diags) {
  *c = (dn_render_collect){.templates = t, .actions = json_array(), .diags = diags};
  if (o) c->options = *o;
  return c->actions ? DN_OK : DN_ERR_INTERNAL;
}

dn_status dn_render_collect_action(void *ctx, const dn_action_rec *a) {
  dn_render_collect *c = ctx;
  json_t *o = dn_action_to_json(a, false);
  if (!o) return DN_ERR_INTERNAL;
  dn_status st = c->templates ? dn_render_action_json(o, c->templates, NULL, a, &c->options, c->diags) : DN_OK;
  if (st == DN_OK && json_array_append_new(c->actions, o) != 0) return DN_ERR_INTERNAL;
  if (st != DN_OK) json_decref(o);
  return st;
}

char *dn_render_decide_answer(const char *response, json_t *actions) {
  json_t *j = json_loads(response, 0, NULL);
  json_t *old = j ? json_object_get(j, "actions") : NULL;
  char *out = NULL;
  if (old && json_array_size(old) == json_array_size(actions) &&
      json_object_set(j, "actions", actions) == 0)
    out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
  json_decref(j);
  return out;
}
