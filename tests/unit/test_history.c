/* test_history.c - runtime/history.c against a plain reading of the rows.
 *
 * The lookups the engine makes (find, has_kind, owed, last_kind, count_contacts)
 * are answered from sorted parts with integer prefixes of the names, a
 * bit per invoice, pointer shortcuts and a backward walk over dated rows.
 * Here an oracle answers the same questions by walking every row and
 * comparing strings, on a history of consolidated rows, long names that
 * share their first 8 bytes, undated rows, and invoice ids given both as
 * the facts' own pointers and as copies; with and without a memo, as the
 * history grows at its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/history.h"

enum { NROWS = 240 };

typedef struct world {
  dn_invoice_facts inv[3];
  dn_history_fact rows[NROWS];
  char keys[NROWS][8];
  dn_customer_facts c;
} world;

static const char *const kRules[] = {"dunning", "dunning_long_a", "dunning_long_b", "over_limit",
                                     "dunning,over_limit", "dunning_long_a,dunning_long_b",
                                     "on payment.failed"};
static const char *const kSteps[] = {"1d", "7d", "15d", "7d,15d", NULL, "15d,7d"};
static const char *const kInvs[] = {"[\"I1\"]", "[\"I2\"]", "[\"I1\",\"I2\"]", "[]",
                                    "[\"I2\",\"I3\"]", "[\"I9\"]"};
static const char *const kKinds[] = {"email", "sms", "hold", "call", "letter", "task"};
static const char *const kStatus[] = {"scheduled", "sent", "skipped", "deferred", "cancelled", NULL};

static uint32_t next(uint32_t *s) {
  *s = *s * 1103515245u + 12345u;
  return (*s >> 16) & 0x7fff;
}

static int setup(void **state) {
  world *w = calloc(1, sizeof *w);
  if (!w) return -1;
  static const char *const ids[] = {"I1", "I2", "I3"};
  for (int i = 0; i < 3; i++) w->inv[i].id = ids[i];
  uint32_t seed = 7;
  dn_date day;
  dn_date_parse("2026-01-05", 10, &day);
  for (int r = 0; r < NROWS; r++) {
    dn_history_fact *h = &w->rows[r];
    snprintf(w->keys[r], sizeof w->keys[r], "k%03d", r);
    h->key = w->keys[r];
    h->rule = kRules[next(&seed) % 7];
    h->step = kSteps[next(&seed) % 6];
    h->invoice_ids = kInvs[next(&seed) % 6];
    h->kind = kKinds[next(&seed) % 6];
    h->status = kStatus[next(&seed) % 6];
    day += (dn_date)(next(&seed) % 3);
    /* An undated row now and then, among dated rows in date order. */
    h->as_of = next(&seed) % 11 == 0 ? DN_DATE_NONE : day;
  }
  w->c.id = "C1";
  w->c.invoices = w->inv;
  w->c.ninvoices = 3;
  w->c.history = w->rows;
  *state = w;
  return 0;
}

static int teardown(void **state) {
  free(*state);
  return 0;
}

/* ---- the oracle: every part of every row, strings compared ---------------- */

typedef struct opart {
  char rule[32], step[32], inv[8];
  bool has_rule, has_step, has_inv;
  char invs[4][8];
  int ninvs;
} opart;

/* Item j of a comma list, or the last one past its end. */
static bool list_item(const char *s, int j, char *out, size_t cap) {
  if (!s) return false;
  int n = 1;
  for (const char *q = s; *q; q++) n += *q == ',';
  if (j >= n) j = n - 1;
  const char *p = s;
  for (int k = 0; k < j; k++) p = strchr(p, ',') + 1;
  size_t len = strcspn(p, ",");
  snprintf(out, cap, "%.*s", (int)len, p);
  return true;
}

static int count_items(const char *s) {
  if (!s) return 0;
  int n = 1;
  for (const char *q = s; *q; q++) n += *q == ',';
  return n;
}

static int oracle_parts(const dn_history_fact *h, opart *out) {
  int nr = count_items(h->rule), ns = count_items(h->step), ni = 0;
  char invs[4][8];
  for (const char *q = h->invoice_ids; (q = strchr(q, '"')) != NULL; q = strchr(q + 1, '"') + 1)
    snprintf(invs[ni++], 8, "%.*s", (int)strcspn(q + 1, "\""), q + 1);
  int n = nr > ns ? nr : ns;
  if (n == 0) n = 1;
  for (int j = 0; j < n; j++) {
    opart *o = &out[j];
    memset(o, 0, sizeof *o);
    o->has_rule = list_item(h->rule, j, o->rule, sizeof o->rule);
    o->has_step = list_item(h->step, j, o->step, sizeof o->step);
    if (n > 1 && j < ni) {
      o->has_inv = true;
      strcpy(o->inv, invs[j]);
    }
    memcpy(o->invs, invs, sizeof invs);
    o->ninvs = ni;
  }
  return n;
}

static bool oracle_key(const opart *o, const char *rule, const char *step) {
  if (strcmp(o->has_rule ? o->rule : "", rule)) return false;
  return !step || !strcmp(o->has_step ? o->step : "", step);
}

static bool oracle_inv(const opart *o, const char *inv) {
  if (!inv) return true;
  if (o->has_inv) return !strcmp(o->inv, inv);
  for (int i = 0; i < o->ninvs; i++)
    if (!strcmp(o->invs[i], inv)) return true;
  return false;
}

static bool counts(const char *s) {
  return s && (!strcmp(s, "scheduled") || !strcmp(s, "skipped") || !strcmp(s, "sent"));
}

static int32_t oracle_find(const world *w, int n, const char *rule, const char *step,
                           const char *inv) {
  int32_t best = -1;
  opart parts[4];
  for (int r = 0; r < n; r++) {
    int np = oracle_parts(&w->rows[r], parts);
    for (int j = 0; j < np; j++)
      if (oracle_key(&parts[j], rule, step) && counts(w->rows[r].status) && oracle_inv(&parts[j], inv) &&
          (best < 0 || w->rows[r].as_of >= w->rows[best].as_of))
        best = r;
  }
  return best;
}

static bool kind_ok(const dn_history_fact *h, const char *kind, bool deferred) {
  if (strcmp(h->kind, kind)) return false;
  return deferred ? h->status && !strcmp(h->status, "deferred") : counts(h->status);
}

static bool oracle_has_kind(const world *w, int n, const char *rule, const char *step,
                            const char *inv, const char *kind, bool deferred) {
  opart parts[4];
  for (int r = 0; r < n; r++) {
    int np = oracle_parts(&w->rows[r], parts);
    for (int j = 0; j < np; j++)
      if (oracle_key(&parts[j], rule, step) && oracle_inv(&parts[j], inv) &&
          kind_ok(&w->rows[r], kind, deferred))
        return true;
  }
  return false;
}

static dn_date oracle_last_kind(const world *w, int n, const char *rule, const char *inv,
                                const char *kind, bool deferred) {
  dn_date last = DN_DATE_NONE;
  opart parts[4];
  for (int r = 0; r < n; r++) {
    int np = oracle_parts(&w->rows[r], parts);
    for (int j = 0; j < np; j++)
      if (oracle_key(&parts[j], rule, NULL) && oracle_inv(&parts[j], inv) &&
          kind_ok(&w->rows[r], kind, deferred) && (last == DN_DATE_NONE || w->rows[r].as_of > last))
        last = w->rows[r].as_of;
  }
  return last;
}

static int32_t oracle_count(const world *w, int n, dn_date as_of, int32_t days) {
  int32_t k = 0;
  for (int r = 0; r < n; r++) {
    const dn_history_fact *h = &w->rows[r];
    bool contact = !strcmp(h->kind, "email") || !strcmp(h->kind, "sms") ||
                   !strcmp(h->kind, "letter") || !strcmp(h->kind, "call");
    bool out = h->status && (!strcmp(h->status, "scheduled") || !strcmp(h->status, "sent"));
    if (contact && out && h->as_of > as_of - days && h->as_of <= as_of) k++;
  }
  return k;
}

/* The first day after as_of on which fewer than cap.count contacts that
 * went out on or before as_of are in the cap's window; as_of + 1 when
 * none comes (a cap of 0 never lets one through). */
/* With `admitted` more contacts going out on as_of. */
static dn_date oracle_frees(const world *w, int n, dn_date as_of, dn_cap_def cap, int admitted) {
  for (dn_date x = as_of + 1; x <= as_of + cap.days + 1; x++) {
    int32_t k = as_of > x - cap.days ? admitted : 0;
    for (int r = 0; r < n; r++) {
      const dn_history_fact *h = &w->rows[r];
      if (h->as_of == DN_DATE_NONE || h->as_of > as_of) continue;
      bool contact = !strcmp(h->kind, "email") || !strcmp(h->kind, "sms") ||
                     !strcmp(h->kind, "letter") || !strcmp(h->kind, "call");
      bool out = h->status && (!strcmp(h->status, "scheduled") || !strcmp(h->status, "sent"));
      if (contact && out && h->as_of > x - cap.days) k++;
    }
    if (k < cap.count) return x;
  }
  return as_of + 1;
}

/* ---- the comparison ------------------------------------------------------- */

static void compare(world *w, dn_hist *h, int n) {
  static const char *const rules[] = {"dunning", "dunning_long_a", "dunning_long_b", "over_limit",
                                      "on payment.failed", "dunning_long", "missing"};
  static const char *const steps[] = {NULL, "1d", "7d", "15d", "zz"};
  char copy[] = "I1"; /* an id not the facts' own pointer */
  const char *invs[] = {NULL, w->inv[0].id, w->inv[1].id, w->inv[2].id, copy, "I9"};
  static const char *const kinds[] = {"email", "hold", "call"};
  for (int ri = 0; ri < 7; ri++)
    for (int ii = 0; ii < 6; ii++) {
      const char *rule = rules[ri], *inv = invs[ii];
      for (int si = 0; si < 5; si++) {
        const char *step = steps[si];
        int32_t got = dn_hist_find(h, rule, step, inv), want = oracle_find(w, n, rule, step, inv);
        /* Across steps (no step given) rows of the same latest day tie:
         * which one is found does not matter, only its day does. */
        if (!step && got >= 0 && want >= 0) assert_int_equal(w->rows[got].as_of, w->rows[want].as_of);
        else assert_int_equal(got, want);
        for (int ki = 0; ki < 3; ki++) {
          for (int d = 0; d < 2; d++)
            assert_int_equal(dn_hist_has_kind(h, rule, step, inv, kinds[ki], d),
                             oracle_has_kind(w, n, rule, step, inv, kinds[ki], d));
          assert_int_equal(dn_hist_owed(h, rule, step, inv, kinds[ki]),
                           oracle_has_kind(w, n, rule, step, inv, kinds[ki], true) &&
                               !oracle_has_kind(w, n, rule, step, inv, kinds[ki], false));
        }
      }
      for (int ki = 0; ki < 3; ki++)
        for (int d = 0; d < 2; d++)
          assert_int_equal(dn_hist_last_kind(h, rule, inv, kinds[ki], d),
                           oracle_last_kind(w, n, rule, inv, kinds[ki], d));
    }
  dn_cap_def caps[] = {{2, 7}, {5, 30}, {1, 1}, {9, 0}};
  dn_date as_of = w->rows[n - 1].as_of != DN_DATE_NONE ? w->rows[n - 1].as_of : w->rows[n - 2].as_of;
  for (dn_date d = as_of - 3; d <= as_of + 40; d += 7) {
    int32_t got[4] = {0};
    dn_hist_count_contacts(h, d, caps, 4, got);
    for (int k = 0; k < 4; k++) assert_int_equal(got[k], oracle_count(w, n, d, caps[k].days));
  }
  /* Caps full enough to matter: the day each frees, from every row's day. */
  dn_cap_def frees[] = {{1, 3}, {2, 7}, {4, 30}, {0, 5}, {3, 0}};
  for (int r = 0; r < n; r++)
    for (int k = 0; k < 5; k++)
      for (int admitted = 0; admitted < 3 && w->rows[r].as_of != DN_DATE_NONE; admitted++)
        assert_int_equal(dn_hist_cap_frees(h, w->rows[r].as_of, &frees[k], admitted),
                         oracle_frees(w, n, w->rows[r].as_of, frees[k], admitted));
}

static void load_and_compare(world *w, dn_hist *h, dn_history_memo *memo, int n) {
  dn_arena scratch;
  dn_arena_init(&scratch);
  w->c.nhistory = n;
  assert_true(dn_hist_load(h, &w->c, memo, &scratch));
  assert_int_equal(h->nrows, n);
  compare(w, h, n);
  dn_arena_free(&scratch);
}

static void test_without_memo(void **state) {
  world *w = *state;
  dn_hist h = {0};
  for (int n = 10; n <= NROWS; n += 46) load_and_compare(w, &h, NULL, n);
  load_and_compare(w, &h, NULL, NROWS);
  dn_hist_free(&h);
}

/* Without a memo the names table starts afresh once it passes its bound
 * (a session deciding customer after customer, each history with names
 * of its own): loads around and after the reset must answer as the
 * oracle does, and the table must have been reset. */
static void test_names_reset_without_memo(void **state) {
  world *w = *state;
  dn_hist h = {0};
  char step[16];
  const char *kept = w->rows[0].step;
  for (int i = 0; i < 4200; i++) {
    snprintf(step, sizeof step, "s%d", i);
    w->rows[0].step = step;
    if (i == 0 || (i >= 4095 && i <= 4099)) {
      load_and_compare(w, &h, NULL, 60);
      continue;
    }
    dn_arena scratch;
    dn_arena_init(&scratch);
    w->c.nhistory = 60;
    assert_true(dn_hist_load(&h, &w->c, NULL, &scratch));
    dn_arena_free(&scratch);
  }
  assert_true(h.names->n < 4200);
  w->rows[0].step = kept;
  dn_hist_free(&h);
}

/* The memo parses only the rows added since the last load: the answers
 * must not tell. */
static void test_with_memo(void **state) {
  world *w = *state;
  dn_history_memo *memo = dn_history_memo_new();
  assert_non_null(memo);
  dn_hist h = {0};
  for (int n = 10; n <= NROWS; n += 23) load_and_compare(w, &h, memo, n);
  load_and_compare(w, &h, memo, NROWS);
  load_and_compare(w, &h, memo, 30); /* shorter: parsed again from scratch */
  dn_hist_free(&h);
  dn_history_memo_free(memo);
}

/* A memo keeps the groups found from one load to the next while the parts
 * do not change, found again by the query's pointers: an address that
 * holds another name on the next day (a run's step labels are made anew)
 * must not find the old group. */
static void test_groups_kept_across_loads(void **state) {
  world *w = *state;
  dn_history_memo *memo = dn_history_memo_new();
  assert_non_null(memo);
  dn_hist h = {0};
  char step[8], rule[16];
  static const char *const steps[] = {"7d", "1d", "15d", "zz", "7d"};
  static const char *const rules[] = {"dunning", "over_limit", "dunning", "dunning_long_a",
                                      "dunning_long_b"};
  load_and_compare(w, &h, memo, NROWS);
  dn_arena scratch;
  dn_arena_init(&scratch);
  for (int day = 0; day < 5; day++) {
    assert_true(dn_hist_load(&h, &w->c, memo, &scratch)); /* the same rows: parts unchanged */
    strcpy(step, steps[day]);
    strcpy(rule, rules[day]);
    for (int ii = 0; ii < 3; ii++) {
      const char *inv = w->inv[ii].id;
      for (int again = 0; again < 2; again++) {
        assert_int_equal(dn_hist_find(&h, rule, step, inv), oracle_find(w, NROWS, rule, step, inv));
        assert_int_equal(dn_hist_find(&h, rule, NULL, inv) >= 0,
                         oracle_find(w, NROWS, rule, NULL, inv) >= 0);
        assert_int_equal(dn_hist_has_kind(&h, rule, step, inv, "email", true),
                         oracle_has_kind(w, NROWS, rule, step, inv, "email", true));
      }
    }
  }
  dn_arena_free(&scratch);
  dn_hist_free(&h);
  dn_history_memo_free(memo);
}

/* The oracle itself must see what the fixture holds, or the comparisons
 * above could agree on nothing. */
static void test_fixture_has_answers(void **state) {
  world *w = *state;
  int found = 0, undated = 0;
  for (int r = 0; r < NROWS; r++) undated += w->rows[r].as_of == DN_DATE_NONE;
  found += oracle_find(w, NROWS, "dunning", "7d", w->inv[0].id) >= 0;
  found += oracle_find(w, NROWS, "dunning_long_b", NULL, "I3") >= 0;
  found += oracle_has_kind(w, NROWS, "over_limit", NULL, NULL, "hold", true);
  found += oracle_count(w, NROWS, w->rows[NROWS - 1].as_of, 30) > 0;
  assert_int_equal(found, 4);
  assert_true(undated > 5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_fixture_has_answers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_without_memo, setup, teardown),
      cmocka_unit_test_setup_teardown(test_names_reset_without_memo, setup, teardown),
      cmocka_unit_test_setup_teardown(test_with_memo, setup, teardown),
      cmocka_unit_test_setup_teardown(test_groups_kept_across_loads, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
