/* demo.c - a realistic synthetic ledger, reproducible from a seed.
 *
 * Customers get a country (with a matching time zone, language and
 * currency), a tier, and a payment habit (early, on time, a few days late,
 * chronically late, non-payer) that drives when their invoices are paid.
 * Around that sit partial and failed payments, credit notes, disputes,
 * promises to pay (kept, broken, active) and daily EUR/USD and GBP/USD
 * rates. A few events are placed exactly on `today` so that event rules
 * (payment.failed, dispute.opened, promise.broken) have something to fire
 * on in a demo run.
 *
 * The generator is a splitmix64 stream held in a local struct, consumed
 * in one fixed order, so a seed gives the same ledger on every platform.
 * It only inserts, through prepared statements, in one transaction:
 * 100,000 customers (a million invoices) must take well under a minute. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runtime/ledger.h"

#define HISTORY_DAYS 180
#define MAX_INVOICES 12

typedef struct rng {
  uint64_t s;
} rng;

static uint64_t rng_next(rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform in [lo, hi]; the modulo bias is far below what a demo notices. */
static int64_t rng_range(rng *r, int64_t lo, int64_t hi) {
  return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

static bool rng_pct(rng *r, int pct) { return rng_range(r, 0, 99) < pct; }

typedef struct place {
  const char *country, *timezone, *language, *currency, *region, *suffix, *phone;
} place;

static const place places[] = {
    {"US", "America/New_York", "en", "USD", "east", "Inc", "+1 212 555"},
    {"US", "America/Chicago", "en", "USD", "central", "LLC", "+1 312 555"},
    {"US", "America/Los_Angeles", "en", "USD", "west", "Inc", "+1 415 555"},
    {"GB", "Europe/London", "en", "GBP", "uk", "Ltd", "+44 20 7946"},
    {"DE", "Europe/Berlin", "de", "EUR", "dach", "GmbH", "+49 30 5557"},
    {"FR", "Europe/Paris", "fr", "EUR", "france", "SAS", "+33 1 5555"},
};
/* Percent weights of places, same order. */
static const int place_weight[] = {20, 15, 10, 20, 20, 15};

typedef enum habit { EARLY, ON_TIME, LATE, CHRONIC, NON_PAYER, HABIT_COUNT } habit;
/* Days paid relative to the due date, and how often each habit occurs. */
static const struct {
  int lo, hi, weight;
  int risk_lo, risk_hi; /* risk_score in thousandths */
} habits[HABIT_COUNT] = {
    {-12, -3, 20, 30, 150}, {-2, 1, 35, 100, 300}, {2, 12, 25, 300, 500},
    {30, 60, 14, 600, 800}, {0, 0, 6, 850, 980},
};

typedef enum tier { STRATEGIC, STANDARD, SMB } tier;
static const struct {
  const char *name;
  int weight;
  int64_t amount_lo, amount_hi; /* whole currency units */
  int terms[2];                 /* net days, picked from */
} tiers[] = {
    {"strategic", 10, 20000, 250000, {45, 60}},
    {"standard", 50, 2000, 40000, {30, 30}},
    {"smb", 40, 200, 5000, {15, 30}},
};

static const char *const name_first[] = {"Acme", "Northwind", "Blue Harbor", "Summit", "Granite", "Willow",
                                         "Redwood", "Silver Lake", "Ironbridge", "Brightwater", "Oakfield",
                                         "Falcon", "Meridian", "Cobalt", "Pioneer", "Evergreen"};
static const char *const name_second[] = {"Traders", "Logistics", "Foods", "Systems", "Textiles", "Machinery",
                                          "Labs", "Outfitters", "Supply", "Media", "Builders", "Pharma"};
static const char *const industries[] = {"retail", "manufacturing", "software", "healthcare", "logistics",
                                         "hospitality"};
static const char *const credit_reasons[] = {"pricing adjustment", "damaged goods", "volume rebate", "goodwill"};
static const char *const dispute_reasons[] = {"pricing", "quantity", "quality", "missing PO", "duplicate billing"};
static const char *const owners[] = {"ar-team", "sales", "ops"};

#define PICK(r, a) (a)[rng_range((r), 0, (int64_t)(sizeof(a) / sizeof *(a)) - 1)]

typedef struct invoice {
  char id[24];
  dn_date issue, due, paid_on;
  int64_t amount, paid; /* paid: settled so far, credits included */
  int64_t last_paid;    /* the latest settled payment */
} invoice;

typedef struct customer {
  char id[24];
  int64_t index;
  const place *place;
  tier tier;
  habit habit;
  invoice inv[MAX_INVOICES];
  int ninv;
} customer;

typedef struct demo {
  sqlite3 *db;
  rng r;
  dn_date today;
  sqlite3_stmt *cust, *inv, *pay, *credit, *dispute, *promise, *fx, *holiday;
  int64_t next_invoice, next_payment, next_credit, next_dispute, next_promise;
  int rc; /* first SQLite error, or SQLITE_OK */
} demo;

/* ---- statements ------------------------------------------------------ */

static const char *const insert_sql[] = {
    "INSERT INTO customers(id, name, tier, country, timezone, language, email, phone,"
    " credit_limit_minor, currency, risk_score, attrs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    "INSERT INTO invoices(id, customer_id, number, issue_date, due_date, currency, amount_minor)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "INSERT INTO payments(id, customer_id, invoice_id, date, amount_minor, currency, status)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "INSERT INTO credits(id, invoice_id, date, amount_minor, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
    "INSERT INTO disputes(id, invoice_id, opened_on, resolved_on, reason, owner, amount_minor)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "INSERT INTO promises(id, customer_id, invoice_id, made_on, promised_date, amount_minor)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    "INSERT INTO fx_rates(date, base, quote, rate) VALUES (?1, ?2, ?3, ?4)",
    "INSERT INTO holidays(calendar, date, name) VALUES (?1, ?2, ?3)",
};

static sqlite3_stmt **stmt_slot(demo *d, int i) {
  sqlite3_stmt **slots[] = {&d->cust, &d->inv, &d->pay, &d->credit, &d->dispute, &d->promise, &d->fx, &d->holiday};
  return slots[i];
}

enum { N_STMTS = sizeof insert_sql / sizeof *insert_sql };

static void text(sqlite3_stmt *st, int i, const char *s) {
  if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
  else sqlite3_bind_null(st, i);
}

static void date_text(sqlite3_stmt *st, int i, dn_date day) {
  char buf[11];
  if (day == DN_DATE_NONE) {
    sqlite3_bind_null(st, i);
    return;
  }
  dn_date_format(day, buf);
  sqlite3_bind_text(st, i, buf, 10, SQLITE_TRANSIENT);
}

static void run(demo *d, sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE && d->rc == SQLITE_OK) d->rc = rc;
}

static dn_date not_after(dn_date a, dn_date limit) { return a > limit ? limit : a; }

/* ---- rows ------------------------------------------------------------ */

static void add_payment(demo *d, const customer *c, invoice *in, dn_date on, int64_t amount, bool failed) {
  char id[24];
  snprintf(id, sizeof id, "P%07" PRId64, ++d->next_payment);
  sqlite3_stmt *st = d->pay;
  text(st, 1, id);
  text(st, 2, c->id);
  text(st, 3, in ? in->id : NULL);
  date_text(st, 4, on);
  sqlite3_bind_int64(st, 5, amount);
  text(st, 6, c->place->currency);
  text(st, 7, failed ? "failed" : "settled");
  run(d, st);
  if (in && !failed) {
    in->paid += amount;
    in->paid_on = on;
    in->last_paid = amount;
  }
}

static void add_credit(demo *d, invoice *in, dn_date on, int64_t amount) {
  char id[24];
  snprintf(id, sizeof id, "K%07" PRId64, ++d->next_credit);
  text(d->credit, 1, id);
  text(d->credit, 2, in->id);
  date_text(d->credit, 3, on);
  sqlite3_bind_int64(d->credit, 4, amount);
  text(d->credit, 5, PICK(&d->r, credit_reasons));
  run(d, d->credit);
  in->paid += amount;
}

static void add_dispute(demo *d, const invoice *in, dn_date opened, dn_date resolved) {
  char id[24];
  snprintf(id, sizeof id, "D%07" PRId64, ++d->next_dispute);
  sqlite3_stmt *st = d->dispute;
  text(st, 1, id);
  text(st, 2, in->id);
  date_text(st, 3, opened);
  date_text(st, 4, resolved);
  text(st, 5, PICK(&d->r, dispute_reasons));
  text(st, 6, PICK(&d->r, owners));
  if (rng_pct(&d->r, 70)) sqlite3_bind_null(st, 7); /* the whole invoice */
  else sqlite3_bind_int64(st, 7, in->amount / 100 * rng_range(&d->r, 10, 60));
  run(d, st);
}

static void add_promise(demo *d, const customer *c, const invoice *in, dn_date made, dn_date promised,
                        int64_t amount) {
  char id[24];
  snprintf(id, sizeof id, "R%07" PRId64, ++d->next_promise);
  sqlite3_stmt *st = d->promise;
  text(st, 1, id);
  text(st, 2, c->id);
  text(st, 3, in ? in->id : NULL);
  date_text(st, 4, made);
  date_text(st, 5, promised);
  sqlite3_bind_int64(st, 6, amount);
  run(d, st);
}

/* ---- a customer -------------------------------------------------------- */

static int pick_weighted(rng *r, const int *weights, int n) {
  int64_t x = rng_range(r, 0, 99);
  for (int i = 0; i < n; i++) {
    if (x < weights[i]) return i;
    x -= weights[i];
  }
  return n - 1;
}

/* The first five customers show every habit, so even a tiny demo has a
 * non-payer; after that habits follow their weights. */
static void pick_profile(demo *d, customer *c) {
  int pw[6], hw[HABIT_COUNT], tw[3];
  for (int i = 0; i < 6; i++) pw[i] = place_weight[i];
  for (int i = 0; i < HABIT_COUNT; i++) hw[i] = habits[i].weight;
  for (int i = 0; i < 3; i++) tw[i] = tiers[i].weight;
  c->place = &places[pick_weighted(&d->r, pw, 6)];
  c->tier = (tier)pick_weighted(&d->r, tw, 3);
  c->habit = c->index < HABIT_COUNT ? (habit)c->index : (habit)pick_weighted(&d->r, hw, HABIT_COUNT);
}

static void insert_customer(demo *d, const customer *c) {
  char name[96], email[64], phone[32], attrs[128];
  /* One draw per statement: argument evaluation order is unspecified. */
  const char *first = PICK(&d->r, name_first), *second = PICK(&d->r, name_second);
  snprintf(name, sizeof name, "%s %s %s", first, second, c->place->suffix);
  snprintf(email, sizeof email, "ap@%s.example", c->id);
  for (char *p = email; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
  snprintf(phone, sizeof phone, "%s %04" PRId64, c->place->phone, rng_range(&d->r, 0, 9999));
  snprintf(attrs, sizeof attrs, "{\"industry\":\"%s\",\"region\":\"%s\"}", PICK(&d->r, industries),
           c->place->region);
  int64_t monthly = tiers[c->tier].amount_hi * 100;
  int64_t risk = rng_range(&d->r, habits[c->habit].risk_lo, habits[c->habit].risk_hi);
  sqlite3_stmt *st = d->cust;
  text(st, 1, c->id);
  text(st, 2, name);
  text(st, 3, tiers[c->tier].name);
  text(st, 4, c->place->country);
  text(st, 5, c->place->timezone);
  text(st, 6, c->place->language);
  text(st, 7, email);
  text(st, 8, phone);
  sqlite3_bind_int64(st, 9, monthly * rng_range(&d->r, 1, 4));
  text(st, 10, c->place->currency);
  sqlite3_bind_double(st, 11, (double)risk / 1000.0);
  text(st, 12, attrs);
  run(d, st);
}

static void insert_invoice(demo *d, const customer *c, invoice *in) {
  char number[32];
  snprintf(in->id, sizeof in->id, "I%07" PRId64, ++d->next_invoice);
  snprintf(number, sizeof number, "INV-%07" PRId64, d->next_invoice);
  sqlite3_stmt *st = d->inv;
  text(st, 1, in->id);
  text(st, 2, c->id);
  text(st, 3, number);
  date_text(st, 4, in->issue);
  date_text(st, 5, in->due);
  text(st, 6, c->place->currency);
  sqlite3_bind_int64(st, 7, in->amount);
  run(d, st);
}

/* Pays an invoice the way the customer's habit says, if that day has
 * come: sometimes after a failed attempt, sometimes in two parts. */
static void settle(demo *d, const customer *c, invoice *in) {
  rng *r = &d->r;
  if (c->habit == NON_PAYER) {
    if (rng_pct(r, 15) && in->due + 20 <= d->today) {
      dn_date on = not_after(in->due + (dn_date)rng_range(r, 20, 40), d->today);
      add_payment(d, c, in, on, (in->amount - in->paid) / 100 * rng_range(r, 10, 40), false);
    }
    return;
  }
  dn_date on = in->due + (dn_date)rng_range(r, habits[c->habit].lo, habits[c->habit].hi);
  if (on <= in->issue) on = in->issue + 1;
  if (on > d->today) return;
  int64_t due = in->amount - in->paid;
  if (due <= 0) return;
  if (rng_pct(r, 5) && on - 3 > in->issue) add_payment(d, c, in, on - (dn_date)rng_range(r, 2, 3), due, true);
  if (rng_pct(r, 10)) {
    int64_t first = due / 100 * rng_range(r, 40, 70);
    add_payment(d, c, in, on, first, false);
    dn_date rest = on + (dn_date)rng_range(r, 7, 25);
    if (rest <= d->today) add_payment(d, c, in, rest, due - first, false);
  } else {
    add_payment(d, c, in, on, due, false);
  }
}

static void invoice_extras(demo *d, invoice *in) {
  rng *r = &d->r;
  if (rng_pct(r, 4) && in->issue + 3 <= d->today) {
    dn_date on = not_after(in->issue + (dn_date)rng_range(r, 3, 20), d->today);
    add_credit(d, in, on, in->amount / 100 * rng_range(r, 5, 15));
  }
  if (rng_pct(r, 5) && in->issue + 5 <= d->today) {
    dn_date opened = not_after(in->issue + (dn_date)rng_range(r, 5, 25), d->today);
    dn_date resolved = opened + (dn_date)rng_range(r, 5, 40);
    add_dispute(d, in, opened, rng_pct(r, 60) && resolved <= d->today ? resolved : DN_DATE_NONE);
  }
}

static void make_invoices(demo *d, customer *c) {
  rng *r = &d->r;
  c->ninv = (int)rng_range(r, 8, MAX_INVOICES);
  for (int k = 0; k < c->ninv; k++) {
    invoice *in = &c->inv[k];
    memset(in, 0, sizeof *in);
    in->paid_on = DN_DATE_NONE;
    in->issue = not_after(d->today - HISTORY_DAYS + k * HISTORY_DAYS / c->ninv + (dn_date)rng_range(r, 0, 5),
                          d->today);
    in->due = in->issue + tiers[c->tier].terms[rng_range(r, 0, 1)];
    /* Big round sums for big customers, cents for the rest. */
    int64_t units = rng_range(r, tiers[c->tier].amount_lo, tiers[c->tier].amount_hi);
    in->amount = c->tier == STRATEGIC ? units / 100 * 10000 : units * 100 + rng_range(r, 0, 99);
    insert_invoice(d, c, in);
    invoice_extras(d, in);
    settle(d, c, in);
  }
}

static invoice *oldest_overdue(demo *d, customer *c) {
  for (int k = 0; k < c->ninv; k++)
    if (c->inv[k].due < d->today && c->inv[k].paid < c->inv[k].amount) return &c->inv[k];
  return NULL;
}

/* Kept promises on late payers' paid invoices; on the oldest overdue
 * invoice a broken or an active one. Customer 3 (chronically late) and
 * every 7th after it breaks a promise yesterday, so promise.broken fires
 * today. */
static void make_promises(demo *d, customer *c) {
  rng *r = &d->r;
  if (c->habit < LATE) return;
  for (int k = 0; k < c->ninv; k++) {
    invoice *in = &c->inv[k];
    if (in->paid_on != DN_DATE_NONE && in->paid_on - 8 > in->issue && rng_pct(r, 30)) {
      dn_date made = in->paid_on - (dn_date)rng_range(r, 3, 8);
      add_promise(d, c, in, made, in->paid_on + (dn_date)rng_range(r, 0, 2), in->last_paid);
    }
  }
  invoice *in = oldest_overdue(d, c);
  if (!in) return;
  int64_t balance = in->amount - in->paid;
  if (c->index % 7 == 3) {
    add_promise(d, c, in, d->today - 10, d->today - 1, balance);
  } else if (rng_pct(r, 50)) {
    dn_date made = d->today - (dn_date)rng_range(r, 1, 5);
    add_promise(d, c, in, made, d->today + (dn_date)rng_range(r, 3, 14), balance);
  } else {
    dn_date promised = d->today - (dn_date)rng_range(r, 5, 30);
    if (promised - 10 > in->issue) add_promise(d, c, in, promised - (dn_date)rng_range(r, 3, 10), promised, balance);
  }
}

/* Events dated today: a failed payment (every 13th customer from 1) and
 * a dispute opened (every 19th from 2) on the latest invoice. */
static void make_today(demo *d, customer *c) {
  invoice *last = &c->inv[c->ninv - 1];
  if (c->index % 13 == 1 && last->paid < last->amount && last->issue < d->today)
    add_payment(d, c, last, d->today, last->amount - last->paid, true);
  if (c->index % 19 == 2 && last->issue < d->today) add_dispute(d, last, d->today, DN_DATE_NONE);
}

static void make_customer(demo *d, customer *c, int64_t index) {
  memset(c, 0, sizeof *c);
  c->index = index;
  snprintf(c->id, sizeof c->id, "C%06" PRId64, index + 1);
  pick_profile(d, c);
  insert_customer(d, c);
  make_invoices(d, c);
  make_promises(d, c);
  make_today(d, c);
}

/* ---- market data ------------------------------------------------------- */

static void rate_text(int64_t pips, char *buf, size_t n) {
  snprintf(buf, n, "%" PRId64 ".%04" PRId64, pips / 10000, pips % 10000);
}

/* Daily EUR/USD and GBP/USD as small random walks, up to today. */
static void make_fx(demo *d) {
  int64_t eur = 10850, gbp = 12700;
  char buf[32];
  for (dn_date day = d->today - HISTORY_DAYS - 30; day <= d->today; day++) {
    eur += rng_range(&d->r, -40, 40);
    gbp += rng_range(&d->r, -40, 40);
    date_text(d->fx, 1, day);
    text(d->fx, 2, "EUR");
    text(d->fx, 3, "USD");
    rate_text(eur, buf, sizeof buf);
    text(d->fx, 4, buf);
    run(d, d->fx);
    date_text(d->fx, 1, day);
    text(d->fx, 2, "GBP");
    rate_text(gbp, buf, sizeof buf);
    text(d->fx, 4, buf);
    run(d, d->fx);
  }
}

static void make_holidays(demo *d) {
  int y, m, day;
  dn_date_to_ymd(d->today, &y, &m, &day);
  for (int year = y - 1; year <= y; year++) {
    const struct { int m, d; const char *name; } days[] = {{12, 24, "Christmas Eve"}, {12, 31, "New Year's Eve"}};
    for (size_t i = 0; i < 2; i++) {
      text(d->holiday, 1, "company");
      date_text(d->holiday, 2, dn_date_from_ymd(year, days[i].m, days[i].d));
      text(d->holiday, 3, days[i].name);
      run(d, d->holiday);
    }
  }
}

/* ---- driver ------------------------------------------------------------ */

static dn_status fail(dn_ledger *l, dn_diags *diags, const char *doing) {
  dn_diag_add_at(diags, DN_E0505, l->path, 0, "demo: %s: %s", doing, sqlite3_errmsg(l->db));
  return DN_ERR_INTERNAL;
}

static bool ledger_empty(dn_ledger *l) {
  sqlite3_stmt *st;
  bool empty = false;
  if (sqlite3_prepare_v2(l->db, "SELECT NOT EXISTS (SELECT 1 FROM customers)", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    empty = sqlite3_column_int(st, 0) != 0;
  sqlite3_finalize(st);
  return empty;
}

static dn_status generate(demo *d, dn_ledger *l, const dn_demo_options *o, dn_diags *diags) {
  for (int i = 0; i < N_STMTS; i++)
    if (sqlite3_prepare_v2(d->db, insert_sql[i], -1, stmt_slot(d, i), NULL) != SQLITE_OK)
      return fail(l, diags, "prepare");
  customer c;
  for (int64_t i = 0; i < o->customers && d->rc == SQLITE_OK; i++) make_customer(d, &c, i);
  if (d->rc == SQLITE_OK) make_fx(d);
  if (d->rc == SQLITE_OK) make_holidays(d);
  return d->rc == SQLITE_OK ? DN_OK : fail(l, diags, "insert");
}

dn_status dn_ledger_demo(dn_ledger *l, const dn_demo_options *o, dn_diags *diags) {
  if (o->customers < 0) {
    dn_diag_add_at(diags, DN_E0505, l->path, 0, "demo: the number of customers must not be negative");
    return DN_ERR_USAGE;
  }
  if (!ledger_empty(l)) {
    dn_diag_add_at(diags, DN_E0502, l->path, 0, "demo data goes into an empty ledger; %s already has customers",
                   l->path);
    return DN_ERR_INPUT;
  }
  demo d;
  memset(&d, 0, sizeof d);
  d.db = l->db;
  d.r.s = o->seed;
  d.today = o->today;
  /* The default 2 MB page cache spills to the WAL over and over on a
   * million invoices; 64 MB keeps the working set of the indexes. */
  sqlite3_exec(l->db, "PRAGMA cache_size = -65536", NULL, NULL, NULL);
  if (sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return fail(l, diags, "begin");
  dn_status st = generate(&d, l, o, diags);
  for (int i = 0; i < N_STMTS; i++) sqlite3_finalize(*stmt_slot(&d, i));
  if (st == DN_OK && sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) st = fail(l, diags, "commit");
  if (st != DN_OK) sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
  return st;
}
