/* outbox.c - JSON lines, the people's table, and committing a run to the
 * ledger's actions and runs tables (see outbox.h). */
#include "runtime/outbox.h"

#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lang/bcfile.h"
#include "runtime/facts_reader.h"
#include "stdlib/text.h"



/* jansson refuses invalid UTF-8 (json_string returns NULL and the key
 * would silently vanish from the record). Text from a policy or a ledger
 * filled from a Latin-1 export can be invalid, so each bad byte becomes
 * U+FFFD instead: the record keeps every key and stays valid JSON. */
json_t *dn_json_text(const char *s) {
  json_t *j = json_string(s);
  if (j) return j;
  size_t len = strlen(s);
  char *fixed = malloc(len * 3 + 1);
  if (!fixed) return NULL;
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = dn_utf8_seq(p, SIZE_MAX);
    if (n == 0) {
      memcpy(fixed + o, "\xEF\xBF\xBD", 3);
      o += 3;
      p++;
    } else {
      memcpy(fixed + o, p, n);
      o += n;
      p += n;
    }
  }
  fixed[o] = '\0';
  j = json_string(fixed);
  free(fixed);
  return j;
}

static json_t *opt_string(const char *s) { return s ? dn_json_text(s) : json_null(); }

static json_t *invoice_array(const dn_action_rec *a) {
  json_t *arr = json_array();
  for (int i = 0; arr && i < a->ninvoices; i++) json_array_append_new(arr, dn_json_text(a->invoices[i]));
  return arr;
}

/* Builds the record in the key order of LEDGER.md. Tasks and escalations
 * carry their text in an extra `text` field, the only way a worklist can
 * show "review dispute" or the agency's name. */
static json_t *action_json(const dn_action_rec *a, bool with_as_of) {
  json_t *o = json_object();
  if (!o) return NULL;
  if (with_as_of) {
    char d[11];
    dn_date_format(a->as_of, d);
    json_object_set_new(o, "as_of", json_string(d));
  }
  json_object_set_new(o, "key", dn_json_text(a->key));
  json_object_set_new(o, "customer", dn_json_text(a->customer));
  json_object_set_new(o, "invoices", invoice_array(a));
  json_object_set_new(o, "kind", json_string(dn_action_kind_name(a->kind)));
  json_object_set_new(o, "tone", opt_string(a->tone));
  json_object_set_new(o, "template", opt_string(a->template_name));
  json_object_set_new(o, "scheduled_at", dn_json_text(a->scheduled_at));
  json_object_set_new(o, "rule", opt_string(a->rule));
  json_object_set_new(o, "step", opt_string(a->step));
  json_object_set_new(o, "priority", a->has_priority ? json_real(a->priority) : json_null());
  json_object_set_new(o, "assignee", opt_string(a->assignee));
  json_object_set_new(o, "status", json_string(dn_action_status_name(a->status)));
  json_object_set_new(o, "reason", opt_string(a->reason));
  if (a->text) json_object_set_new(o, "text", dn_json_text(a->text));
  return o;
}

json_t *dn_action_to_json(const dn_action_rec *a, bool with_as_of) { return action_json(a, with_as_of); }

dn_status dn_json_write_line(FILE *out, json_t *o) {
  if (!o) return DN_ERR_INTERNAL;
  int rc = json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
  if (rc != 0 || fputc('\n', out) == EOF) return DN_ERR_INTERNAL;
  return DN_OK;
}

/* ---- the streaming writer -------------------------------------------------
 * The record has a fixed shape, so it is written straight into one line
 * buffer and handed to stdio once: building a jansson object per record
 * and dumping it was half of a run's instructions (callgrind). The bytes
 * are those jansson writes with the flags above (tests/unit/
 * test_json_writer.c compares both on hostile text): invalid UTF-8 bytes
 * become U+FFFD as dn_json_text() does; '"', '\\' and the controls below 0x20 are
 * escaped (\b \f \n \r \t, else \u00XX in upper-case hex); '/', DEL and
 * non-ASCII pass through. */

typedef struct line_buf {
  char *p;
  size_t n, cap;
  bool failed;        /* out of memory: the line is not written */
  char local[1024];   /* a usual record fits: no allocation */
} line_buf;

static void lb_init(line_buf *b) {
  b->p = b->local;
  b->n = 0;
  b->cap = sizeof b->local;
  b->failed = false;
}

static void lb_free(line_buf *b) {
  if (b->p != b->local) free(b->p);
}

static bool lb_reserve(line_buf *b, size_t more) {
  if (b->failed) return false;
  if (b->n + more <= b->cap) return true;
  size_t cap = b->cap * 2;
  while (cap < b->n + more) cap *= 2;
  char *q = b->p == b->local ? malloc(cap) : realloc(b->p, cap);
  if (!q) {
    b->failed = true;
    return false;
  }
  if (b->p == b->local) memcpy(q, b->local, b->n);
  b->p = q;
  b->cap = cap;
  return true;
}

static void lb_put(line_buf *b, const char *s, size_t n) {
  if (!lb_reserve(b, n)) return;
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

#define LB_LIT(b, lit) lb_put((b), (lit), sizeof(lit) - 1)

/* Bytes copied as they are: printable ASCII but '"' and '\\'. */
static bool plain_ascii(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

/* s as a JSON string, escaped as jansson escapes it. */
static void lb_string(line_buf *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  const unsigned char *p = (const unsigned char *)s;
  /* At most 6 output bytes per input byte (a control as \u00XX, a bad
   * byte as 3 bytes of U+FFFD), plus the quotes. */
  size_t len = strlen(s);
  if (!lb_reserve(b, len * 6 + 2)) return;
  char *w = b->p + b->n;
  *w++ = '"';
  while (*p) {
    const unsigned char *run = p;
    while (plain_ascii(*p)) p++;
    if (p > run) {
      memcpy(w, run, (size_t)(p - run));
      w += p - run;
      continue;
    }
    unsigned char c = *p;
    if (c >= 0x80) {
      size_t n = dn_utf8_seq(p, SIZE_MAX);
      if (n == 0) {
        memcpy(w, "\xEF\xBF\xBD", 3);
        w += 3;
        p++;
      } else {
        memcpy(w, p, n);
        w += n;
        p += n;
      }
      continue;
    }
    *w++ = '\\';
    switch (c) {
    case '"': *w++ = '"'; break;
    case '\\': *w++ = '\\'; break;
    case '\b': *w++ = 'b'; break;
    case '\f': *w++ = 'f'; break;
    case '\n': *w++ = 'n'; break;
    case '\r': *w++ = 'r'; break;
    case '\t': *w++ = 't'; break;
    default:
      memcpy(w, "u00", 3);
      w[3] = hex[c >> 4];
      w[4] = hex[c & 15];
      w += 5;
      break;
    }
    p++;
  }
  *w++ = '"';
  b->n = (size_t)(w - b->p);
}

static void lb_opt_string(line_buf *b, const char *s) {
  if (s) lb_string(b, s);
  else LB_LIT(b, "null");
}

/* A real as jansson's jsonp_dtostr writes it with JSON_REAL_PRECISION(15):
 * "%.15g", a ".0" when there is neither '.' nor 'e', and the exponent
 * without '+' or leading zeros ("1e+20" -> "1e20", "1e-07" -> "1e-7"). */
static void lb_real(line_buf *b, double v) {
  char buf[64];
  int len = snprintf(buf, sizeof buf, "%.15g", v);
  if (len < 0 || (size_t)len >= sizeof buf - 3) return;
  for (int i = 0; i < len; i++) /* a locale's decimal comma, as jansson's from_locale */
    if (buf[i] == ',') buf[i] = '.';
  char *e = strchr(buf, 'e');
  if (!strchr(buf, '.') && !e) {
    memcpy(buf + len, ".0", 3);
    len += 2;
  }
  if (e) {
    char *start = e + 1, *end = start + 1;
    if (*start == '-') start++;
    while (*end == '0') end++;
    if (end != start) {
      memmove(start, end, (size_t)(len - (end - buf)) + 1);
      len -= (int)(end - start);
    }
  }
  lb_put(b, buf, (size_t)len);
}

static void lb_invoices(line_buf *b, const dn_action_rec *a) {
  LB_LIT(b, "[");
  for (int i = 0; i < a->ninvoices; i++) {
    if (i) LB_LIT(b, ",");
    lb_string(b, a->invoices[i]);
  }
  LB_LIT(b, "]");
}

/* The record of action_json, field for field. */
static void lb_action(line_buf *b, const dn_action_rec *a, bool with_as_of) {
  LB_LIT(b, "{");
  if (with_as_of) {
    char d[11];
    dn_date_format(a->as_of, d);
    LB_LIT(b, "\"as_of\":");
    lb_string(b, d);
    LB_LIT(b, ",");
  }
  LB_LIT(b, "\"key\":");
  lb_string(b, a->key);
  LB_LIT(b, ",\"customer\":");
  lb_string(b, a->customer);
  LB_LIT(b, ",\"invoices\":");
  lb_invoices(b, a);
  LB_LIT(b, ",\"kind\":");
  lb_string(b, dn_action_kind_name(a->kind));
  LB_LIT(b, ",\"tone\":");
  lb_opt_string(b, a->tone);
  LB_LIT(b, ",\"template\":");
  lb_opt_string(b, a->template_name);
  LB_LIT(b, ",\"scheduled_at\":");
  lb_string(b, a->scheduled_at);
  LB_LIT(b, ",\"rule\":");
  lb_opt_string(b, a->rule);
  LB_LIT(b, ",\"step\":");
  lb_opt_string(b, a->step);
  /* jansson has no value for a non-finite real (json_real returns NULL),
   * so the key is left out: kept byte for byte. */
  if (!a->has_priority) LB_LIT(b, ",\"priority\":null");
  else if (isfinite(a->priority)) {
    LB_LIT(b, ",\"priority\":");
    lb_real(b, a->priority);
  }
  LB_LIT(b, ",\"assignee\":");
  lb_opt_string(b, a->assignee);
  LB_LIT(b, ",\"status\":");
  lb_string(b, dn_action_status_name(a->status));
  LB_LIT(b, ",\"reason\":");
  lb_opt_string(b, a->reason);
  if (a->text) {
    LB_LIT(b, ",\"text\":");
    lb_string(b, a->text);
  }
  LB_LIT(b, "}\n");
}

dn_status dn_action_write_json(FILE *out, const dn_action_rec *a, bool with_as_of) {
  line_buf b;
  lb_init(&b);
  lb_action(&b, a, with_as_of);
  bool ok = !b.failed && fwrite(b.p, 1, b.n, out) == b.n;
  lb_free(&b);
  return ok ? DN_OK : DN_ERR_INTERNAL;
}

char *dn_action_json_text(const dn_action_rec *a, bool with_as_of) {
  line_buf b;
  lb_init(&b);
  lb_action(&b, a, with_as_of);
  char *text = b.failed ? NULL : malloc(b.n);
  if (text) {
    memcpy(text, b.p, b.n - 1);  /* without the newline */
    text[b.n - 1] = '\0';
  }
  lb_free(&b);
  return text;
}

void dn_table_begin(dn_table_writer *t, FILE *out, bool all) {
  memset(t, 0, sizeof *t);
  t->out = out;
  t->all = all;
  fprintf(out, "%-12s %-8s %-8s %-20s %-25s %-9s %-22s %s\n", "CUSTOMER", "KIND", "TONE", "TEMPLATE",
          "SCHEDULED_AT", "STATUS", "RULE/STEP", "INVOICES");
}

dn_status dn_table_row(dn_table_writer *t, const dn_action_rec *a) {
  char rule[96];
  snprintf(rule, sizeof rule, "%s%s%s", a->rule ? a->rule : "", a->step ? "/" : "", a->step ? a->step : "");
  if ((unsigned)a->status < 3) t->by_status[a->status]++;
  t->rows++;
  if (a->status == DN_STATUS_SKIPPED && !t->all) return DN_OK;
  fprintf(t->out, "%-12s %-8s %-8s %-20s %-25s %-9s %-22s ", a->customer, dn_action_kind_name(a->kind),
          a->tone ? a->tone : "-", a->template_name ? a->template_name : (a->text ? a->text : "-"),
          a->scheduled_at, dn_action_status_name(a->status), rule);
  for (int i = 0; i < a->ninvoices; i++) fprintf(t->out, "%s%s", i ? "," : "", a->invoices[i]);
  fputc('\n', t->out);
  return DN_OK;
}

void dn_table_end(dn_table_writer *t) {
  long skipped = t->by_status[DN_STATUS_SKIPPED];
  fprintf(t->out, "%ld action%s: %ld scheduled, %ld deferred, %ld skipped%s\n", t->rows, t->rows == 1 ? "" : "s",
          t->by_status[DN_STATUS_SCHEDULED], t->by_status[DN_STATUS_DEFERRED], skipped,
          skipped && !t->all ? " (not listed: --all lists them)" : "");
}

/* A ledger locked by another writer beyond the busy timeout, a full
 * disk or a read-only file are the user's to fix: exit 1 with a hint,
 * not 3; anything else is internal. */
static dn_status db_error(dn_outbox *o, dn_diags *diags, const char *what) {
  int rc = sqlite3_extended_errcode(o->ledger->db) & 0xff;
  dn_diag *g = dn_diag_add_at(diags, DN_E0505, o->ledger->path, 0, "%s: %s", what, sqlite3_errmsg(o->ledger->db));
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    dn_diag_hint(g, "another process is writing to the ledger; nothing was committed, try again");
    return DN_ERR_INPUT;
  }
  if (rc == SQLITE_FULL || rc == SQLITE_READONLY || rc == SQLITE_IOERR || rc == SQLITE_CANTOPEN) {
    dn_diag_hint(g, "nothing was committed");
    return DN_ERR_INPUT;
  }
  return DN_ERR_INTERNAL;
}

static void utc_now(char *buf, size_t n) {
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static dn_status find_previous_run(dn_outbox *o, const char *hash, const char *date, dn_diags *diags) {
  sqlite3_stmt *st;
  const char *sql = "SELECT id FROM runs WHERE policy = ?1 AND policy_hash = ?2 AND as_of = ?3 LIMIT 1";
  if (sqlite3_prepare_v2(o->ledger->db, sql, -1, &st, NULL) != SQLITE_OK) return db_error(o, diags, "runs");
  sqlite3_bind_text(st, 1, o->program->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, date, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    o->already = true;
    o->run_id = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? DN_OK : db_error(o, diags, "runs");
}

static dn_status insert_run(dn_outbox *o, const char *hash, const char *date, dn_diags *diags) {
  sqlite3_stmt *st;
  char now[32];
  utc_now(now, sizeof now);
  const char *sql = "INSERT INTO runs(policy, policy_hash, as_of, started_at) VALUES (?1, ?2, ?3, ?4)";
  if (sqlite3_prepare_v2(o->ledger->db, sql, -1, &st, NULL) != SQLITE_OK) return db_error(o, diags, "runs");
  sqlite3_bind_text(st, 1, o->program->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, date, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return db_error(o, diags, "insert run");
  o->run_id = sqlite3_last_insert_rowid(o->ledger->db);
  return DN_OK;
}

static const char *insert_action_sql =
    "INSERT OR IGNORE INTO actions(key, run_id, as_of, policy, policy_version, rule, step, customer_id,"
    " invoice_ids, kind, tone, template, scheduled_at, priority, assignee, status, reason)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";

dn_status dn_outbox_begin(dn_outbox *o, dn_ledger *l, const dn_program *p, dn_date as_of, dn_diags *diags) {
  memset(o, 0, sizeof *o);
  o->ledger = l;
  o->program = p;
  o->as_of = as_of;
  dn_date_format(as_of, o->as_of_text);
  if (sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return db_error(o, diags, "begin");
  char hash[17], date[11];
  snprintf(hash, sizeof hash, "%016llx", (unsigned long long)p->source_hash);
  dn_date_format(as_of, date);
  dn_status st = find_previous_run(o, hash, date, diags);
  if (st == DN_OK && !o->already) st = insert_run(o, hash, date, diags);
  if (st == DN_OK && sqlite3_prepare_v2(l->db, insert_action_sql, -1, (sqlite3_stmt **)&o->insert_stmt, NULL) != SQLITE_OK)
    st = db_error(o, diags, "prepare");
  if (st != DN_OK) sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
  return st;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s) {
  if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
  else sqlite3_bind_null(st, i);
}

/* The history columns of the row just inserted, as bound, for the ledger's
 * row store (simulate's working copy): its readers must see the row as
 * they would read it back from the table, where they select the policy
 * by name (a NULL name, bound as NULL, matches none). */
static bool mirror_row(dn_outbox *o, const dn_action_rec *a, const char *inv, size_t ninv,
                       const char *date) {
  const char *v[8] = {a->key, a->rule, a->step, dn_action_kind_name(a->kind), a->tone,
                      dn_action_status_name(a->status), inv, date};
  const char *customer = o->program->name ? a->customer : NULL;
  return dn_facts_store_add_history(o->ledger->store, customer, v, ninv);
}

/* store_only: the row as if inserted (the key is new: the store knows
 * every key of the table, so INSERT OR IGNORE would have inserted it). */
static dn_status add_to_store(dn_outbox *o, const dn_action_rec *a, line_buf *inv, const char *date,
                              dn_diags *diags) {
  bool ok = mirror_row(o, a, inv->p, inv->n, date);
  lb_free(inv);
  if (!ok) {
    dn_diag_add_at(diags, DN_E0505, o->ledger->path, 0, "out of memory keeping the action history");
    return DN_ERR_INTERNAL;
  }
  o->inserted++;
  return DN_OK;
}

dn_status dn_outbox_add(dn_outbox *o, const dn_action_rec *a, dn_diags *diags) {
  if (o->already) {
    o->ignored++;
    return DN_OK;
  }
  /* INSERT OR IGNORE would ignore it: a contact deferred day after day
   * keeps its key, so on a replay half the rows are such repeats. A
   * record issued again is one for certain (its key, a cold probe in a
   * table of millions, went in the day before). */
  if (o->ledger->store && (a->reissued || dn_facts_store_has_key(o->ledger->store, a->key))) {
    o->ignored++;
    return DN_OK;
  }
  sqlite3_stmt *st = o->insert_stmt;
  line_buf inv;
  lb_init(&inv);
  lb_invoices(&inv, a);
  if (inv.failed) {
    lb_free(&inv);
    return DN_ERR_INTERNAL;
  }
  const char *date = o->as_of_text;
  if (o->store_only && o->ledger->store) return add_to_store(o, a, &inv, date, diags);
  sqlite3_reset(st);
  sqlite3_bind_text(st, 1, a->key, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, o->run_id);
  sqlite3_bind_text(st, 3, date, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, o->program->name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, o->program->version);
  bind_opt(st, 6, a->rule);
  bind_opt(st, 7, a->step);
  sqlite3_bind_text(st, 8, a->customer, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 9, inv.p, (int)inv.n, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 10, dn_action_kind_name(a->kind), -1, SQLITE_STATIC);
  bind_opt(st, 11, a->tone);
  bind_opt(st, 12, a->template_name ? a->template_name : a->text);
  sqlite3_bind_text(st, 13, a->scheduled_at, -1, SQLITE_STATIC);
  if (a->has_priority) sqlite3_bind_double(st, 14, a->priority);
  else sqlite3_bind_null(st, 14);
  bind_opt(st, 15, a->assignee);
  sqlite3_bind_text(st, 16, dn_action_status_name(a->status), -1, SQLITE_STATIC);
  bind_opt(st, 17, a->reason);
  int rc = sqlite3_step(st);
  bool inserted = rc == SQLITE_DONE && sqlite3_changes(o->ledger->db) > 0;
  bool mirrored = !inserted || !o->ledger->store || mirror_row(o, a, inv.p, inv.n, date);
  lb_free(&inv);
  if (rc != SQLITE_DONE) return db_error(o, diags, "insert action");
  if (!mirrored) {
    dn_diag_add_at(diags, DN_E0505, o->ledger->path, 0, "out of memory keeping the action history");
    return DN_ERR_INTERNAL;
  }
  if (inserted) o->inserted++;
  else o->ignored++;
  return DN_OK;
}

static dn_status finish_run(dn_outbox *o, long errors, dn_diags *diags) {
  sqlite3_stmt *st;
  char now[32];
  utc_now(now, sizeof now);
  const char *sql = "UPDATE runs SET finished_at = ?1, emitted = ?2, errors = ?3 WHERE id = ?4";
  if (sqlite3_prepare_v2(o->ledger->db, sql, -1, &st, NULL) != SQLITE_OK) return db_error(o, diags, "runs");
  sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, o->inserted);
  sqlite3_bind_int64(st, 3, errors);
  sqlite3_bind_int64(st, 4, o->run_id);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? DN_OK : db_error(o, diags, "update run");
}

dn_status dn_outbox_end(dn_outbox *o, bool ok, long errors, dn_diags *diags) {
  sqlite3_finalize(o->insert_stmt);
  o->insert_stmt = NULL;
  dn_status st = DN_OK;
  if (ok && !o->already) st = finish_run(o, errors, diags);
  if (ok && st == DN_OK) {
    if (sqlite3_exec(o->ledger->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
      st = db_error(o, diags, "commit");
      sqlite3_exec(o->ledger->db, "ROLLBACK", NULL, NULL, NULL);
    }
  } else {
    sqlite3_exec(o->ledger->db, "ROLLBACK", NULL, NULL, NULL);
  }
  return st;
}
