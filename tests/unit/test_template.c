/* test_template.c - template parsing and its diagnostics (positions, did
 * you mean), loading a directory, checking it against a policy, choosing
 * a customer's language, and rendering one action (runtime/template.c,
 * runtime/render.c). Expected texts are written by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lang/compile.h"
#include "runtime/render.h"
#include "runtime/template.h"

#define NBSP "\xC2\xA0"
#define EURO "\xE2\x82\xAC"

/* The text of parts joined, variables as <name>. */
static void parts_text(const dn_tmpl_part *p, int n, char *out, size_t cap) {
  size_t o = 0;
  out[0] = '\0';
  for (int i = 0; i < n; i++) {
    if (p[i].var >= 0) o += (size_t)snprintf(out + o, cap - o, "<%s>", dn_tmpl_var_name((dn_tmpl_var)p[i].var));
    else o += (size_t)snprintf(out + o, cap - o, "%.*s", (int)p[i].len, p[i].text);
  }
}

typedef struct parsed {
  dn_template t;
  dn_diags d;
  dn_status st;
  char subject[512], body[512];
} parsed;

static void parse(parsed *p, const char *src) {
  memset(p, 0, sizeof *p);
  dn_diags_init(&p->d, "t.tmpl", src, strlen(src));
  p->st = dn_template_parse(src, strlen(src), &p->t, &p->d);
  parts_text(p->t.subject, p->t.nsubject, p->subject, sizeof p->subject);
  parts_text(p->t.body, p->t.nbody, p->body, sizeof p->body);
}

static void done(parsed *p) {
  dn_template_clear(&p->t);
  dn_diags_free(&p->d);
}

/* Code, line and column of diagnostic i. */
static void diag_at(const parsed *p, size_t i, dn_diag_code code, int line, int col) {
  assert_true(i < p->d.count);
  assert_int_equal(p->d.items[i].code, code);
  int l, c;
  dn_source_position(p->d.source, p->d.source_len, p->d.items[i].span.start, &l, &c);
  assert_int_equal(l, line);
  assert_int_equal(c, col);
}

static void test_parse_subject_and_body(void **state) {
  (void)state;
  parsed p;
  parse(&p, "subject: Hi {{customer.name}}  \n\nHello {{ invoices }}!\n{{pay_link}}\n\n\n");
  assert_int_equal(p.st, DN_OK);
  assert_true(p.t.has_subject);
  assert_string_equal(p.subject, "Hi <customer.name>");
  assert_string_equal(p.body, "Hello <invoices>!\n<pay_link>");
  assert_int_equal(p.d.count, 0);
  done(&p);

  parse(&p, "Body only {{total_overdue}} and {{date}}");
  assert_int_equal(p.st, DN_OK);
  assert_false(p.t.has_subject);
  assert_string_equal(p.body, "Body only <total_overdue> and <date>");
  done(&p);

  /* A stray "}}" and a lone "{" are text. */
  parse(&p, "a } b }} c { d");
  assert_int_equal(p.st, DN_OK);
  assert_string_equal(p.body, "a } b }} c { d");
  done(&p);

  /* "Subject:" with a capital is body text: the header is exact. */
  parse(&p, "Subject: x\n\ny");
  assert_false(p.t.has_subject);
  done(&p);
}

static void test_unknown_variable(void **state) {
  (void)state;
  parsed p;
  parse(&p, "subject: Reminder\n\nDear {{custmer.name}},\n");
  assert_int_equal(p.st, DN_ERR_INPUT);
  assert_int_equal(p.d.count, 1);
  diag_at(&p, 0, DN_E0801, 3, 8);
  assert_string_equal(p.d.items[0].message, "unknown variable `custmer.name`");
  assert_string_equal(p.d.items[0].hint, "did you mean `customer.name`?");
  /* the span covers the name only */
  assert_int_equal(p.d.items[0].span.end - p.d.items[0].span.start, 12);
  done(&p);

  parse(&p, "x {{totl_open}} y {{nonsense_here}}");
  assert_int_equal(p.d.count, 2);
  diag_at(&p, 0, DN_E0801, 1, 5);
  assert_string_equal(p.d.items[0].hint, "did you mean `total_open`?");
  diag_at(&p, 1, DN_E0801, 1, 21);
  assert_null(strstr(p.d.items[1].hint, "did you mean"));
  done(&p);

  /* Variables are case-sensitive: a suggestion, not a silent match. */
  parse(&p, "{{Customer.Name}}");
  assert_int_equal(p.st, DN_ERR_INPUT);
  assert_string_equal(p.d.items[0].hint, "did you mean `customer.name`?");
  done(&p);
}

static void test_syntax_errors(void **state) {
  (void)state;
  parsed p;
  parse(&p, "subject: ok\n\nline\nHello {{customer.name\nnext {{date}}");
  assert_int_equal(p.st, DN_ERR_INPUT);
  assert_int_equal(p.d.count, 1);
  diag_at(&p, 0, DN_E0802, 4, 7);
  assert_string_equal(p.d.items[0].message, "unclosed `{{`: no `}}` on the same line");
  done(&p);

  parse(&p, "a {{  }} b");
  assert_int_equal(p.d.count, 1);
  diag_at(&p, 0, DN_E0802, 1, 3);
  assert_string_equal(p.d.items[0].message, "empty tag `{{}}`");
  done(&p);

  parse(&p, "subject: x\nbody right away");
  assert_int_equal(p.d.count, 1);
  diag_at(&p, 0, DN_E0802, 2, 1);
  done(&p);

  /* an unclosed tag in the subject */
  parse(&p, "subject: {{date\n\nbody");
  diag_at(&p, 0, DN_E0802, 1, 10);
  done(&p);
}

static void test_crlf(void **state) {
  (void)state;
  parsed p;
  parse(&p, "subject: A {{date}}\r\n\r\nB\r\nC\r\n");
  assert_int_equal(p.st, DN_OK);
  assert_string_equal(p.subject, "A <date>");
  /* the '\r' left inside the body is dropped by the renderer */
  assert_string_equal(p.body, "B\r\nC");
  done(&p);
}

/* ---- directories ---------------------------------------------------------- */

static void put_file(const char *dir, const char *rel, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  char *slash = strrchr(path, '/');
  *slash = '\0';
  mkdir(path, 0755);
  *slash = '/';
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void remove_tree(const char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static const char policy_src[] =
    "policy \"t\" version 1\n"
    "currency EUR\n"
    "tones standard: soft < hard\n"
    "segment all otherwise\n"
    "escalation e for invoice in all {\n"
    "  step 1 day: email tone soft\n"
    "  step 9 days: sms tone hard, email tone hard template \"special\"\n"
    "}\n";

static size_t count_code(const dn_diags *d, dn_diag_code c) {
  size_t n = 0;
  for (size_t i = 0; i < d->count; i++) n += d->items[i].code == c;
  return n;
}

static void test_check_against_policy(void **state) {
  (void)state;
  char dir[] = "/tmp/dn_tmplXXXXXX";
  assert_non_null(mkdtemp(dir));
  put_file(dir, "en/email-soft.tmpl", "subject: s\n\nb {{customer.name}}\n");
  put_file(dir, "en/email-hard.tmpl", "no subject here\n");
  put_file(dir, "en/sms-soft.tmpl", "sms {{pay_link}}\n");
  put_file(dir, "en/special.tmpl", "subject: s\n\nb\n");
  put_file(dir, "en/notes.txt", "not a template {{oops}}\n");
  put_file(dir, "de/email-soft.tmpl", "subject: s\n\nb\n");
  dn_program *prog = NULL;
  dn_diags pd;
  dn_diags_init(&pd, "t.dun", policy_src, strlen(policy_src));
  assert_int_equal(dn_compile_source("t.dun", policy_src, strlen(policy_src), &prog, &pd), DN_OK);
  dn_diags_free(&pd);

  dn_templates *t = NULL;
  assert_int_equal(dn_templates_load(dir, &t), DN_OK);
  assert_int_equal(t->nlangs, 2);
  assert_string_equal(t->langs[0], "de");
  assert_int_equal(t->n, 5);
  assert_int_equal(dn_templates_check_program(t, prog), DN_ERR_INPUT);
  /* needed: email-soft, email-hard, sms-soft, sms-hard, special.
   * en lacks sms-hard; de lacks email-hard, sms-soft, sms-hard, special;
   * en/email-hard has no subject. */
  assert_int_equal(count_code(&t->diags, DN_E0803), 5);
  assert_int_equal(count_code(&t->diags, DN_E0804), 1);
  assert_int_equal(dn_templates_errors(t), 6);

  assert_string_equal(dn_templates_language(t, "de-AT"), "de");
  assert_string_equal(dn_templates_language(t, "DE"), "de");
  assert_string_equal(dn_templates_language(t, "pt-BR"), "en");
  assert_string_equal(dn_templates_language(t, NULL), "en");
  assert_string_equal(dn_templates_language(t, ""), "en");
  assert_null(dn_templates_find(t, "de", "special"));
  assert_non_null(dn_templates_find(t, "en", "special"));
  dn_templates_free(t);

  /* a variable error in any file makes loading fail, with the file's own
   * position */
  put_file(dir, "de/sms-soft.tmpl", "ok\n{{invoice_nmbers}}\n");
  put_file(dir, "de-AT/email-soft.tmpl", "subject: s\n\nb\n");
  assert_int_equal(dn_templates_load(dir, &t), DN_ERR_INPUT);
  const dn_template *bad = dn_templates_find(t, "de", "sms-soft");
  assert_non_null(bad);
  assert_int_equal(bad->diags.count, 1);
  assert_string_equal(bad->diags.items[0].hint, "did you mean `invoice_numbers`?");
  assert_string_equal(dn_templates_language(t, "de_at"), "de-AT");
  assert_string_equal(dn_templates_language(t, "de-CH"), "de");
  dn_templates_free(t);

  dn_program_free(prog);
  remove_tree(dir);

  assert_int_equal(dn_templates_load("/nonexistent/dn/templates", &t), DN_ERR_INPUT);
  assert_int_equal(count_code(&t->diags, DN_E0505), 1);
  dn_templates_free(t);
}

/* ---- rendering -------------------------------------------------------------- */

static void test_render(void **state) {
  (void)state;
  char dir[] = "/tmp/dn_tmplXXXXXX";
  assert_non_null(mkdtemp(dir));
  put_file(dir, "de/email-firm.tmpl",
           "subject: Mahnung {{invoice_numbers}}\n\n{{customer.name}}: {{amount_due}} ({{invoice_count}})\r\n"
           "{{invoices}}\n\xC3\x84lteste: {{oldest_due_date}}; {{total_overdue}}; {{date}}\n{{pay_link}}\n");
  put_file(dir, "en/email-firm.tmpl", "subject: Overdue {{invoice_numbers}}\n\n{{invoices}}\n{{company.name}}\n");
  put_file(dir, "en/sms-firm.tmpl", "subject: ignored\n\n{{invoice_numbers}} {{amount_due}} {{pay_link}}\n");
  dn_templates *t = NULL;
  assert_int_equal(dn_templates_load(dir, &t), DN_OK);

  uint16_t eur = dn_currency_lookup("EUR", 3), usd = dn_currency_lookup("USD", 3);
  dn_invoice_facts inv[3];
  memset(inv, 0, sizeof inv);
  inv[0] = (dn_invoice_facts){.id = "I1", .number = "R-1", .currency = eur,
                              .due_date = dn_date_from_ymd(2026, 3, 1), .balance = 100000, .open = true};
  inv[1] = (dn_invoice_facts){.id = "I2", .number = "R-2", .currency = eur,
                              .due_date = dn_date_from_ymd(2026, 2, 15), .balance = 23456, .open = true};
  inv[2] = (dn_invoice_facts){.id = "I3", .number = NULL, .currency = usd,
                              .due_date = dn_date_from_ymd(2026, 4, 1), .balance = 5000, .open = true};
  dn_customer_facts c;
  memset(&c, 0, sizeof c);
  c.id = "C1/x";
  c.name = "M\xC3\xBCller GmbH";
  c.language = "de-AT";
  c.total_overdue_p = (dn_money){123456, eur};
  c.total_open_p = (dn_money){128456, eur};
  c.invoices = inv;
  c.ninvoices = 3;
  const char *ids[] = {"I1", "I2"};
  dn_action_rec a;
  memset(&a, 0, sizeof a);
  a.customer = c.id;
  a.kind = DN_ACT_EMAIL;
  a.tone = "firm";
  a.template_name = "email-firm";
  a.invoices = ids;
  a.ninvoices = 2;
  a.as_of = dn_date_from_ymd(2026, 3, 10);
  a.facts = &c;
  dn_render_options o = {.pay_link = "https://p.example/{customer}?x=1", .company = NULL};
  dn_diags d;
  dn_diags_init(&d, "run", NULL, 0);
  dn_rendered r;
  assert_int_equal(dn_render_action(t, NULL, &a, &o, &r, &d), DN_OK);
  assert_string_equal(r.language, "de");
  assert_string_equal(r.subject, "Mahnung R-1, R-2");
  assert_string_equal(r.body,
                      "M\xC3\xBCller GmbH: 1.234,56" NBSP EURO " (2)\n"
                      "- R-1, f\xC3\xA4llig am 1. M\xC3\xA4rz 2026: 1.000,00" NBSP EURO "\n"
                      "- R-2, f\xC3\xA4llig am 15. Februar 2026: 234,56" NBSP EURO "\n"
                      "\xC3\x84lteste: 15. Februar 2026; 1.234,56" NBSP EURO "; 10. M\xC3\xA4rz 2026\n"
                      "https://p.example/C1%2Fx?x=1");
  dn_rendered_free(&r);

  /* No language directory for Portuguese: English. Two currencies are
   * summed separately; an invoice without a number shows its id. */
  c.language = "pt";
  const char *ids3[] = {"I2", "I3"};
  a.invoices = ids3;
  a.kind = DN_ACT_SMS;
  a.template_name = "sms-firm";
  o.pay_link = NULL;
  assert_int_equal(dn_render_action(t, &c, &a, &o, &r, &d), DN_OK);
  assert_string_equal(r.language, "en");
  assert_null(r.subject); /* an sms has no subject */
  assert_string_equal(r.body, "R-2, I3 " EURO "234.56 + $50.00 {{pay_link}}");
  dn_rendered_free(&r);

  /* A customer-level action (no invoices) is about the overdue ones. */
  a.kind = DN_ACT_EMAIL;
  a.template_name = "email-firm";
  a.ninvoices = 0;
  a.as_of = dn_date_from_ymd(2026, 3, 10);
  inv[0].days_past_due = 9;
  inv[1].days_past_due = 23;
  inv[2].days_past_due = -22;
  o.company = "Acme";
  assert_int_equal(dn_render_action(t, &c, &a, &o, &r, &d), DN_OK);
  assert_string_equal(r.subject, "Overdue R-1, R-2");
  assert_string_equal(r.body, "- R-1, due March 1, 2026: " EURO "1,000.00\n- R-2, due February 15, 2026: " EURO "234.56\nAcme");
  dn_rendered_free(&r);

  /* A template in no language: an error, not an empty message. */
  a.template_name = "letter-firm";
  assert_int_equal(dn_render_action(t, &c, &a, &o, &r, &d), DN_ERR_INPUT);
  assert_int_equal(d.count, 1);
  assert_int_equal(d.items[0].code, DN_E0803);

  dn_diags_free(&d);
  dn_templates_free(t);
  remove_tree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_subject_and_body), cmocka_unit_test(test_unknown_variable),
      cmocka_unit_test(test_syntax_errors),          cmocka_unit_test(test_crlf),
      cmocka_unit_test(test_check_against_policy),   cmocka_unit_test(test_render),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
