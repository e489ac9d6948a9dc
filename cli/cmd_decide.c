/* cmd_decide.c - `dunlin decide`: a co-process that answers one JSON
 * request per stdin line with one JSON line on stdout (docs/decide.md).
 *
 * It loads the policy once, then never exits on a bad request: the
 * answer says what is wrong and the next line is read. Each answer is
 * flushed at once, since the caller waits for it before sending more. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/externs.h"
#include "runtime/decide.h"
#include "runtime/render.h"
#include "runtime/template.h"

/* Longest request line read; a longer one gets an error line (and the
 * rest of it is skipped), so one runaway producer cannot eat the memory. */
#define DECIDE_MAX_LINE (8u << 20)

static const char decide_help[] =
    "usage: dunlin decide POLICY [--allow-ffi LIB[:LIB...]] [--templates DIR]\n"
    "                     [--pay-link URL] [--company NAME]\n\n"
    "Reads one JSON request per line on stdin (a customer with its invoices, payments,\n"
    "credits, disputes, promises, recent actions and fx rates, and the date \"as_of\")\n"
    "and writes one JSON line per request, in order, flushed at once:\n"
    "  {\"id\":...,\"actions\":[...]}            the actions `dunlin run` would emit\n"
    "  {\"id\":...,\"error\":\"...\",\"diagnostics\":[...]}   a bad request, naming the field\n"
    "A bad request never stops it; it exits 0 at the end of input, and 1 before\n"
    "reading anything when the policy does not load. Blank lines are skipped; a line\n"
    "longer than 8 MiB gets an error line. Schema: docs/decide.md.\n"
    "--templates DIR adds \"language\", \"subject\" and \"body\" to each contact, written\n"
    "from the templates in the customer's language, as `run --render` does; they are\n"
    "checked against the policy first. --pay-link and --company as for `run`.\n";

typedef struct line_buf {
  char *data;
  size_t len, cap;
  bool too_long;
} line_buf;

/* Reads up to the next newline. false at the end of input with nothing
 * read. A line over the limit is consumed to its end and flagged. */
static bool read_line(FILE *in, line_buf *b) {
  b->len = 0;
  b->too_long = false;
  int c;
  bool any = false;
  while ((c = getc_unlocked(in)) != EOF) {
    any = true;
    if (c == '\n') break;
    if (b->too_long) continue;
    if (b->len + 1 >= DECIDE_MAX_LINE) {
      b->too_long = true;
      continue;
    }
    if (b->len + 1 >= b->cap) {
      size_t cap = b->cap ? b->cap * 2 : 4096;
      char *n = realloc(b->data, cap);
      if (!n) {
        b->too_long = true;
        continue;
      }
      b->data = n;
      b->cap = cap;
    }
    b->data[b->len++] = (char)c;
  }
  if (b->data) b->data[b->len] = '\0';
  return any;
}

static bool blank(const line_buf *b) {
  for (size_t i = 0; i < b->len; i++)
    if (!strchr(" \t\r", b->data[i])) return false;
  return true;
}

static bool answer(const char *text) {
  return fputs(text, stdout) != EOF && fputc('\n', stdout) != EOF && fflush(stdout) == 0;
}

/* What the loop needs besides the decider: the templates to render with
 * (NULL for plain answers) and their options. */
typedef struct decide_opts {
  const char *policy, *allow, *templates_dir;
  dn_render_options render;
  dn_templates *templates;
} decide_opts;

/* One answer, rendered when there are templates: the same decision's
 * records collected as JSON with their messages replace the plain ones. */
static dn_status decide_one(dn_decider *d, const decide_opts *o, const line_buf *b, char **response,
                            dn_diags *diags) {
  if (!o->templates) return dn_decide_json(d, b->data, b->len, response, diags);
  dn_render_collect c;
  dn_status st = dn_render_collect_init(&c, o->templates, &o->render, diags);
  if (st == DN_OK) st = dn_decide_json_sink(d, b->data, b->len, dn_render_collect_action, &c, response, diags);
  if (st == DN_OK) {
    char *with = dn_render_decide_answer(*response, c.actions);
    free(*response);
    *response = with;
  }
  json_decref(c.actions);
  return st;
}

/* The request loop; the status is the exit code. */
static int serve_lines(dn_decider *d, const decide_opts *o) {
  line_buf b = {0};
  int rc = 0;
  while (rc == 0 && read_line(stdin, &b)) {
    if (b.too_long) {
      char msg[160];
      snprintf(msg, sizeof msg,
               "{\"id\":null,\"error\":\"request: line longer than %u bytes (8 MiB); it was skipped\","
               "\"diagnostics\":[]}",
               DECIDE_MAX_LINE);
      if (!answer(msg)) rc = DN_ERR_INTERNAL;
      continue;
    }
    if (blank(&b)) continue;
    dn_diags diags;
    dn_diags_init(&diags, "request", NULL, 0);
    char *response = NULL;
    dn_status st = decide_one(d, o, &b, &response, &diags);
    if (!response) {
      /* out of memory while answering: still one line per request */
      response = strdup("{\"id\":null,\"error\":\"internal error: out of memory\",\"diagnostics\":[]}");
    }
    (void)st;
    if (!response || !answer(response)) rc = DN_ERR_INTERNAL;
    free(response);
    dn_diags_free(&diags);
  }
  free(b.data);
  return rc;
}

static int decide_loaded(void *ctx, const dn_program *p, const dn_cli_bound *b) {
  void *const *fns = b->extern_fns;
  decide_opts *o = ctx;
  if (o->templates_dir) {
    dn_status st = dn_templates_load_checked(o->templates_dir, p, stderr, &o->templates);
    if (st != DN_OK) return st;
  }
  dn_diags diags;
  dn_diags_init(&diags, o->policy, NULL, 0);
  dn_decider *d;
  dn_status st = dn_decider_open(p, fns, &d, &diags);
  int rc = st;
  if (st == DN_OK) {
    rc = serve_lines(d, o);
    dn_decider_close(d);
  } else {
    dn_cli_print_diags(&diags);
  }
  dn_diags_free(&diags);
  dn_templates_free(o->templates);
  return rc;
}

int dn_cmd_decide(int argc, char **argv) {
  const char *pos[1];
  int npos;
  bool help = false;
  decide_opts o = {0};
  dn_opt opts[] = {{"allow-ffi", &o.allow, NULL},
                   {"templates", &o.templates_dir, NULL},
                   {"pay-link", &o.render.pay_link, NULL},
                   {"company", &o.render.company, NULL}};
  if (dn_args_parse("decide", argc, argv, opts, 4, pos, 1, &npos, &help) != DN_OK) return 2;
  if (help) {
    dn_cli_help(decide_help);
    return 0;
  }
  if (npos != 1) {
    fprintf(stderr, "dunlin decide: expected POLICY (see dunlin decide --help)\n");
    return 2;
  }
  if (!o.templates_dir && (o.render.pay_link || o.render.company)) {
    fprintf(stderr, "dunlin decide: --pay-link and --company fill templates: give --templates DIR\n");
    return 2;
  }
  o.policy = pos[0];
  return dn_cli_with_policy(pos[0], o.allow, NULL, decide_loaded, &o);
}
