/* parser.y - the grammar of a policy (LANGUAGE.md sections 1-3, 6, 8) and
 * dn_parse(), which drives the scanner of lexer.l over one source.
 *
 * A pure parser with byte-offset locations: the whole parse state lives in
 * the bison stack and in dn_lexctx, so two policies parse at once from two
 * threads. Syntax errors are reported in the user's words by
 * yyreport_syntax_error below (LAC keeps the expected set exact), and an
 * `error` production at the declaration level resynchronises on the next
 * declaration keyword so that one typo does not hide the rest.
 *
 * Memory: every semantic value is either a scalar, a string or a node in
 * the policy's arena (ast->arena). Nothing is on the heap, so no
 * %destructor is needed: values discarded during error recovery are freed
 * with the arena by dn_ast_free. Add a %destructor if a malloc'd value is
 * ever introduced. */

%define api.pure full
%define api.prefix {dnyy}
%define api.token.prefix {T_}
%define api.location.type {dn_span}
%define parse.error custom
%define parse.lac full
%locations
%expect 0

%param {yyscan_t scanner}
%parse-param {dn_lexctx *ctx}

%code requires {
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "lang/ast.h"
#include "lang/check.h"

#ifndef DN_YYSCAN_T_DEFINED
#define DN_YYSCAN_T_DEFINED
typedef void *yyscan_t;
#endif

/* A list under construction: grown with dn_vec_push in the arena. */
typedef struct dn_parse_list {
  void *items;
  int n;
} dn_parse_list;

/* A number as written: text without underscores, and its value. */
typedef struct dn_parse_num {
  const char *text;
  int64_t i;
  double n;
} dn_parse_num;

/* The settings of a segment body, gathered before the segment exists. */
typedef struct dn_parse_segbody {
  int tone_shift;
  bool has_tone_shift;
  dn_span tone_shift_span;
  dn_ident ladder;
  const char *assign;
  dn_span assign_span;
} dn_parse_segbody;

/* Everything one parse needs besides the bison stack (flex extra data). */
typedef struct dn_lexctx {
  dn_ast *ast;
  dn_diags *diags;
  uint32_t offset;        /* bytes scanned so far: the next token's start */
  int last_tok, prev_tok; /* the last two tokens returned, for messages */
  uint32_t last_end;      /* where the last token before end of file ends */
  int decl_tok;           /* the keyword that opened the current declaration */
  bool seen_do;           /* a `do` was read in the current declaration */
  int brace_depth;
  uint32_t brace_open;    /* the outermost `{` still open */
  bool eof_reported;      /* E0104 is said once */
  bool oom;
  bool too_deep;          /* the parser stack hit its limit (reported) */
  int operators;          /* operator nodes in the current declaration */
  bool in_test;           /* inside a `test` block: its own words are keywords */
  jmp_buf fatal;          /* flex's fatal errors (out of memory) land here */
} dn_lexctx;

#define YYLLOC_DEFAULT(Cur, Rhs, N)                          \
  do {                                                       \
    if (N) {                                                 \
      (Cur).start = YYRHSLOC(Rhs, 1).start;                  \
      (Cur).end = YYRHSLOC(Rhs, N).end;                      \
    } else {                                                 \
      (Cur).start = (Cur).end = YYRHSLOC(Rhs, 0).end;        \
    }                                                        \
  } while (0)
}

%union {
  dn_parse_num num;
  const char *str;
  int ival;
  dn_expr *expr;
  dn_parse_list list;
  dn_duration dur;
  dn_action action;
  dn_ident ident;
  dn_parse_segbody body;
  dn_scope scope;
  dn_test_value tval;
  dn_test_attrs tattrs;
  dn_test_item titem;
}

%code {
#include <ctype.h>
#include <string.h>

#include "stdlib/money.h"

int dnyylex(DNYYSTYPE *yylval, DNYYLTYPE *yylloc, yyscan_t scanner);
const char *dn_lex_keyword_ci(const char *word, size_t n); /* lexer.l */

/* Bison calls this only when its stack cannot grow (YYMAXDEPTH): the
 * policy nests deeper than any real one. That is the input's fault, and it
 * must be said, or `check` would find no error in an unparsed file. */
static void dnyyerror(DNYYLTYPE *loc, yyscan_t scanner, dn_lexctx *ctx, const char *msg) {
  (void)scanner;
  (void)msg;
  ctx->too_deep = true;
  dn_diag *g = dn_diag_add(ctx->diags, DN_E0101, *loc, "the policy is nested too deeply to parse");
  dn_diag_hint(g, "split the expression into several `let`s");
}

#define ARENA (&ctx->ast->arena)
#define TRY(p) do { if (!(p)) { ctx->oom = true; YYNOMEM; } } while (0)

static dn_decl *dn_new_decl(dn_lexctx *ctx, dn_decl_kind k, dn_span sp) {
  void *items = ctx->ast->decls;
  dn_decl *d = dn_vec_push(ARENA, &items, &ctx->ast->ndecls, sizeof *d);
  ctx->ast->decls = items;
  if (!d) return NULL;
  d->kind = k;
  d->span = sp;
  return d;
}

static dn_expr *dn_new_expr(dn_lexctx *ctx, dn_expr_kind k, dn_span sp) {
  dn_expr *e = dn_arena_alloc(ARENA, sizeof *e);
  if (!e) return NULL;
  e->kind = k;
  e->span = sp;
  return e; /* checker fields stay zero, as ast.h promises */
}

/* A left-leaning chain of operators (`1 + 1 + ...`) grows the tree, not
 * the parser stack, and the checker and compiler walk trees recursively:
 * past this many operators in one declaration the policy is refused
 * before it can exhaust their stacks. No hand-written policy comes near. */
enum { DN_MAX_OPERATORS = 20000 };

static void dn_count_operator(dn_lexctx *ctx, dn_span sp) {
  if (++ctx->operators != DN_MAX_OPERATORS + 1) return;
  dn_diag *g = dn_diag_add(ctx->diags, DN_E0101, sp,
                           "this declaration has more than %d operators, too many to check",
                           DN_MAX_OPERATORS);
  dn_diag_hint(g, "split the expression into several `let`s");
}

static dn_expr *dn_new_binary(dn_lexctx *ctx, dn_op op, dn_expr *l, dn_expr *r, dn_span sp) {
  dn_count_operator(ctx, sp);
  dn_expr *e = dn_new_expr(ctx, DN_EX_BINARY, sp);
  if (!e) return NULL;
  e->op = op;
  e->lhs = l;
  e->rhs = r;
  return e;
}

static dn_expr *dn_new_unary(dn_lexctx *ctx, dn_op op, dn_expr *l, dn_span sp) {
  dn_count_operator(ctx, sp);
  dn_expr *e = dn_new_expr(ctx, DN_EX_UNARY, sp);
  if (!e) return NULL;
  e->op = op;
  e->lhs = l;
  return e;
}

static dn_expr *dn_new_money(dn_lexctx *ctx, dn_parse_num n, const char *cur, dn_span sp) {
  dn_expr *e = dn_new_expr(ctx, DN_EX_MONEY, sp);
  if (!e) return NULL;
  e->money_text = n.text;
  e->currency = cur;
  return e;
}

static dn_expr *dn_new_field(dn_lexctx *ctx, const char *obj, const char *field,
                             dn_span fsp, dn_span sp) {
  dn_expr *e = dn_new_expr(ctx, DN_EX_FIELD, sp);
  if (!e) return NULL;
  e->object = obj;
  e->field_name = field;
  e->field_span = fsp;
  return e;
}

static bool dn_push_ptr(dn_lexctx *ctx, dn_parse_list *l, void *p) {
  void **slot = dn_vec_push(ARENA, &l->items, &l->n, sizeof(void *));
  if (!slot) return false;
  *slot = p;
  return true;
}

static bool dn_push_ident(dn_lexctx *ctx, dn_parse_list *l, const char *name, dn_span sp) {
  dn_ident *id = dn_vec_push(ARENA, &l->items, &l->n, sizeof *id);
  if (!id) return false;
  id->name = name;
  id->span = sp;
  return true;
}

static bool dn_push_action(dn_lexctx *ctx, dn_parse_list *l, const dn_action *a) {
  dn_action *slot = dn_vec_push(ARENA, &l->items, &l->n, sizeof *slot);
  if (!slot) return false;
  *slot = *a;
  return true;
}

/* A million days (2700 years) is far beyond any policy; the cap keeps
 * `n * 7` and later date arithmetic clear of overflow. */
static dn_duration dn_make_duration(dn_lexctx *ctx, int64_t n, int unit_days, bool business,
                                    dn_span sp) {
  dn_duration d = {0, business, sp};
  if (n > 1000000) {
    dn_diag_add(ctx->diags, DN_E0105, sp, "duration is too long (more than a million days)");
    n = 0;
  }
  d.days = (int32_t)(n * unit_days);
  return d;
}

/* Keeps the first value and reports the repetition: a setting given twice
 * is a duplicate (E0304) whichever of the two the user meant. */
static void dn_twice(dn_lexctx *ctx, const char *what, dn_span again, dn_span first) {
  dn_diag *g = dn_diag_add(ctx->diags, DN_E0304, again, "`%s` is given twice", what);
  dn_diag_note(g, first, "first given here");
}

static void dn_action_attr(dn_lexctx *ctx, dn_action *a, const dn_action *attr, dn_span sp) {
  if (attr->tone.name) {
    if (a->tone.name) dn_twice(ctx, "tone", sp, a->tone.span);
    else a->tone = attr->tone;
  } else if (attr->template_name) {
    if (a->template_name) dn_twice(ctx, "template", sp, a->template_span);
    else { a->template_name = attr->template_name; a->template_span = attr->template_span; }
  } else if (attr->priority) {
    if (a->priority) dn_twice(ctx, "priority", sp, a->priority->span);
    else a->priority = attr->priority;
  } else if (attr->assign) {
    if (a->assign) dn_twice(ctx, "assign", sp, a->assign_span);
    else { a->assign = attr->assign; a->assign_span = attr->assign_span; }
  }
}

static dn_type dn_type_from_name(dn_lexctx *ctx, const char *name, dn_span sp) {
  static const struct { const char *name; dn_type t; } types[] = {
      {"bool", DN_T_BOOL},     {"int", DN_T_INT},   {"number", DN_T_NUMBER},
      {"money", DN_T_MONEY},   {"date", DN_T_DATE}, {"duration", DN_T_DURATION},
      {"string", DN_T_STRING},
  };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp(types[i].name, name) == 0) return types[i].t;
  /* duration is a type but cannot cross to native code: the checker says
   * so; it is neither offered nor suggested here. */
  static const char *const native[] = {"bool", "int", "number", "money", "string", "date"};
  dn_diag *g = dn_diag_add(ctx->diags, DN_E0313, sp, "unknown type `%s` in extern fn", name);
  const char *s = dn_suggest(name, native, (int)(sizeof native / sizeof native[0]));
  if (s) dn_diag_hint(g, "did you mean `%s`?", s);
  else dn_diag_hint(g, "extern functions take bool, int, number, money, string or date");
  return DN_T_ERROR;
}

static bool dn_event_lookup(const char *name, dn_event_kind *out) {
  for (int e = 0; e < DN_EV_COUNT; e++) {
    if (strcmp(dn_event_name((dn_event_kind)e), name) == 0) {
      *out = (dn_event_kind)e;
      return true;
    }
  }
  return false;
}

static const char *dn_join_dot(dn_lexctx *ctx, const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *s = dn_arena_alloc(ARENA, la + lb + 2);
  if (!s) return NULL;
  memcpy(s, a, la);
  s[la] = '.';
  memcpy(s + la + 1, b, lb + 1);
  return s;
}

static bool dn_finish_segment(dn_lexctx *ctx, dn_span sp, dn_ident name, dn_expr *cond,
                              const dn_parse_segbody *b) {
  dn_decl *d = dn_new_decl(ctx, DN_D_SEGMENT, sp);
  if (!d) return false;
  d->name = name;
  d->expr = cond;
  d->otherwise = cond == NULL;
  d->tone_shift = b->tone_shift;
  d->has_tone_shift = b->has_tone_shift;
  d->tone_shift_span = b->tone_shift_span;
  d->ladder = b->ladder;
  d->assign = b->assign;
  d->assign_span = b->assign_span;
  return true;
}

/* ---- test blocks ---- */

static void dn_set_ident(dn_lexctx *ctx, dn_ident *slot, dn_ident v, const char *what) {
  if (slot->name) dn_twice(ctx, what, v.span, slot->span);
  else *slot = v;
}

static void dn_set_at(dn_lexctx *ctx, dn_test_attrs *a, int date, int minutes, dn_span sp) {
  if (a->has_at) {
    dn_twice(ctx, "at", sp, a->at_span);
    return;
  }
  a->has_at = true;
  a->at_date = date;
  a->at_minutes = minutes;
  a->at_span = sp;
}

/* The label the engine gives a step (runtime/engine.c step_label). */
static const char *dn_step_text(dn_lexctx *ctx, const dn_duration *d) {
  char buf[32];
  snprintf(buf, sizeof buf, "%d%s", (int)d->days, d->business ? "bd" : "d");
  return dn_arena_strdup(ARENA, buf);
}

static void dn_set_step(dn_lexctx *ctx, dn_test_attrs *a, const char *step, dn_span sp) {
  if (!step) {
    ctx->oom = true;
    return;
  }
  if (a->step) dn_twice(ctx, "step", sp, a->step_span);
  else { a->step = step; a->step_span = sp; }
}

static void dn_merge_kind(dn_test_attrs *a, const dn_test_attrs *k) {
  a->kind = k->kind;
  a->kind_span = k->kind_span;
  a->text = k->text;
  a->text_span = k->text_span;
}

static const char *dn_negate(dn_lexctx *ctx, const char *digits) {
  size_t n = strlen(digits);
  char *s = dn_arena_alloc(ARENA, n + 2);
  if (!s) return NULL;
  s[0] = '-';
  memcpy(s + 1, digits, n + 1);
  return s;
}

static bool dn_split_dates(dn_lexctx *ctx, dn_test_item *it, const dn_parse_list *l) {
  const dn_test_value *ids = l->items;
  it->ndates = l->n;
  it->dates = dn_arena_alloc(ARENA, sizeof *it->dates * (size_t)(l->n + 1));
  it->date_spans = dn_arena_alloc(ARENA, sizeof *it->date_spans * (size_t)(l->n + 1));
  if (!it->dates || !it->date_spans) return false;
  for (int i = 0; i < l->n; i++) {
    it->dates[i] = ids[i].date;
    it->date_spans[i] = ids[i].span;
  }
  return true;
}

static void dn_tone_shift(dn_lexctx *ctx, dn_parse_segbody *b, int64_t n, dn_span sp) {
  if (b->has_tone_shift) {
    dn_twice(ctx, "tone", sp, b->tone_shift_span);
    return;
  }
  if (n > 1000 || n < -1000) {
    dn_diag_add(ctx->diags, DN_E0105, sp, "tone shift %lld is out of range",
                (long long)n);
    n = 0;
  }
  b->tone_shift = (int)n;
  b->has_tone_shift = true;
  b->tone_shift_span = sp;
}
}

%token <num> INT "an integer" DECIMAL "a number" PERCENT "a percentage"
%token <str> STRING "a string" CURCODE "a currency code" IDENT "a name"
%token <ival> DATE "a date" TIME "a time of day"
%token POLICY "`policy`" VERSION "`version`" CURRENCY "`currency`" TIMEZONE "`timezone`"
%token CALENDAR "`calendar`" SEND_WINDOW "`send_window`" PROMISE_GRACE "`promise_grace`"
%token TONES "`tones`" LET "`let`" SEGMENT "`segment`" WHEN "`when`" OTHERWISE "`otherwise`"
%token ESCALATION "`escalation`" FOR "`for`" INVOICE "`invoice`" CUSTOMER "`customer`"
%token IN "`in`" UNLESS "`unless`" STEP "`step`" DAY "`day`" DAYS "`days`" WEEK "`week`"
%token WEEKS "`weeks`" BUSINESS "`business`" ON "`on`" DO "`do`" RULE "`rule`" ONCE "`once`"
%token PER "`per`" LIMIT "`limit`" CONTACTS "`contacts`" EXTERN "`extern`" FN "`fn`"
%token FROM "`from`" EMAIL "`email`" SMS "`sms`" LETTER "`letter`" CALL "`call`"
%token TASK "`task`" HOLD "`hold`" RELEASE "`release`" CREDIT "`credit`"
%token ESCALATE "`escalate`" TONE "`tone`" TEMPLATE "`template`" PRIORITY "`priority`"
%token ASSIGN "`assign`" AND "`and`" OR "`or`" NOT "`not`" TRUE "`true`" FALSE "`false`"
%token EQ "`==`" NE "`!=`" LE "`<=`" GE "`>=`" ARROW "`->`" DOTDOT "`..`"
%token TEST "`test`"
/* words that are keywords only inside a `test` block (lexer.l) */
%token AS_OF "`as_of`" EXPECT "`expect`" NO "`no`" OF "`of`" TO "`to`" STATUS "`status`"
%token CREDIT_NOTE "`credit_note`" AT "`at`" PAYMENT "`payment`" DISPUTE "`dispute`" PROMISE "`promise`"
%token FX_RATE "`fx_rate`" HOLIDAY "`holiday`" HISTORY "`history`" RAN "`ran`"

%left OR
%left AND
%precedence NOT
%nonassoc EQ NE '<' LE '>' GE IN
%left '+' '-'
%left '*' '/'
%precedence UMINUS

%type <expr> expr primary unless_opt guard_opt
%type <list> expr_list expr_list_opt tone_ladder ident_list actions steps caps
%type <list> type_list type_list_opt
%type <dur> duration offset once_opt
%type <action> action attrs attr
%type <ival> contact unit sign
%type <ident> event_name
%type <body> seg_body_opt seg_items
%type <scope> scope
%type <str> string_opt
%type <list> test_items test_fields test_fields_opt test_ids date_list
%type <titem> test_item
%type <tval> test_value
%type <tattrs> act_kind act_attrs
%type <ident> row_kind row_id row_id_opt of_opt field_key
%type <ival> exp_count

%%

policy_file
  : decls
  ;

decls
  : %empty
  | decls decl    { yyerrok; }
  | decls error
  ;

decl
  : policy_kw STRING VERSION INT {
      dn_decl *d; TRY(d = dn_new_decl(ctx, DN_D_POLICY, @$));
      d->name = (dn_ident){$2, @2};
      d->version = $4.i;
    }
  | currency_kw CURCODE {
      dn_decl *d; TRY(d = dn_new_decl(ctx, DN_D_CURRENCY, @$));
      d->name = (dn_ident){$2, @2};
    }
  | currency_kw IDENT {
      /* `currency usd`: kept as written; the checker reports E0308. */
      dn_decl *d; TRY(d = dn_new_decl(ctx, DN_D_CURRENCY, @$));
      d->name = (dn_ident){$2, @2};
    }
  | timezone_kw STRING {
      dn_decl *d; TRY(d = dn_new_decl(ctx, DN_D_TIMEZONE, @$));
      d->name = (dn_ident){$2, @2};
    }
  | calendar_kw STRING {
      dn_decl *d; TRY(d = dn_new_decl(ctx, DN_D_CALENDAR, @$));
      d->name = (dn_ident){$2, @2};
    }
  | send_window_kw TIME DOTDOT TIME {
      dn_decl *d; TRY(d = dn_new_decl(ctx, DN_D_SEND_WINDOW, @$));
      d->window_start = $2;
      d->window_end = $4;
    }
  | promise_grace_kw duration {
      dn_decl *d; TRY(d = dn_new_decl(ctx, DN_D_PROMISE_GRACE, @$));
      d->duration = $2;
    }
  | tones_kw IDENT ':' tone_ladder {
      dn_decl *d; TRY(d = dn_new_decl(ctx, DN_D_TONES, @$));
      d->name = (dn_ident){$2, @2};
      d->tones = $4.items;
      d->ntones = $4.n;
    }
  | let_kw IDENT '=' expr {
      dn_decl *d; TRY(d = dn_new_decl(ctx, DN_D_LET, @$));
      d->name = (dn_ident){$2, @2};
      d->expr = $4;
    }
  | segment_kw IDENT WHEN expr seg_body_opt {
      TRY(dn_finish_segment(ctx, @$, (dn_ident){$2, @2}, $4, &$5));
    }
  | segment_kw IDENT OTHERWISE seg_body_opt {
      TRY(dn_finish_segment(ctx, @$, (dn_ident){$2, @2}, NULL, &$4));
    }
  | escalation_kw IDENT FOR INVOICE IN ident_list unless_opt '{' steps '}' {
      dn_decl *d; TRY(d = dn_new_decl(ctx, DN_D_ESCALATION, @$));
      d->name = (dn_ident){$2, @2};
      d->scope = DN_SCOPE_INVOICE;
      d->segments = $6.items;
      d->nsegments = $6.n;
      d->expr = $7;
      d->steps = $9.items;
      d->nsteps = $9.n;
    }
  | on_kw event_name FOR scope guard_opt DO actions {
      dn_event_kind ev;
      if (!dn_event_lookup($2.name, &ev)) {
        /* Dropped rather than kept with a sentinel kind, so that later
         * passes never index a table with an invalid event. */
        dn_diag *g = dn_diag_add(ctx->diags, DN_E0310, $2.span, "unknown event `%s`", $2.name);
        const char *events[DN_EV_COUNT];
        for (int e = 0; e < DN_EV_COUNT; e++) events[e] = dn_event_name((dn_event_kind)e);
        const char *meant = dn_suggest($2.name, events, DN_EV_COUNT);
        if (meant) dn_diag_hint(g, "did you mean `%s`?", meant);
        else dn_diag_hint(g, "events are payment.failed, payment.received, promise.made, "
                             "promise.broken, dispute.opened, dispute.resolved, invoice.issued");
      } else {
        dn_decl *d; TRY(d = dn_new_decl(ctx, DN_D_ON, @$));
        d->event = ev;
        d->event_name = $2;
        d->scope = $4;
        d->expr = $5;
        d->actions = $7.items;
        d->nactions = $7.n;
      }
    }
  | rule_kw IDENT FOR scope WHEN expr DO actions once_opt {
      dn_decl *d; TRY(d = dn_new_decl(ctx, DN_D_RULE, @$));
      d->name = (dn_ident){$2, @2};
      d->scope = $4;
      d->expr = $6;
      d->actions = $8.items;
      d->nactions = $8.n;
      d->duration = $9;
    }
  | limit_kw CONTACTS PER CUSTOMER ':' caps {
      dn_decl *d; TRY(d = dn_new_decl(ctx, DN_D_LIMIT, @$));
      d->caps = $6.items;
      d->ncaps = $6.n;
    }
  | test_kw STRING '{' test_items '}' {
      dn_test *t;
      void *items = ctx->ast->tests;
      TRY(t = dn_vec_push(ARENA, &items, &ctx->ast->ntests, sizeof *t));
      ctx->ast->tests = items;
      t->name = $2;
      t->name_span = @2;
      t->span = @$;
      t->items = $4.items;
      t->nitems = $4.n;
    }
  | extern_kw FN IDENT '(' type_list_opt ')' ARROW IDENT FROM STRING {
      dn_decl *d; TRY(d = dn_new_decl(ctx, DN_D_EXTERN, @$));
      d->name = (dn_ident){$3, @3};
      d->nparams = $5.n;
      TRY(d->param_types = dn_arena_alloc(ARENA, sizeof(dn_type) * ($5.n + 1)));
      TRY(d->param_spans = dn_arena_alloc(ARENA, sizeof(dn_span) * ($5.n + 1)));
      const dn_ident *ps = $5.items;
      for (int i = 0; i < $5.n; i++) {
        d->param_types[i] = dn_type_from_name(ctx, ps[i].name, ps[i].span);
        d->param_spans[i] = ps[i].span;
      }
      d->ret_type = dn_type_from_name(ctx, $8, @8);
      d->ret_span = @8;
      d->library = $10;
      d->library_span = @10;
    }
  ;

/* Each declaration keyword ends error recovery at once: bison otherwise
 * stays silent until three tokens have been shifted after an error, which
 * would hide a mistake early in the declaration right after a bad one. */
policy_kw : POLICY { yyerrok; } ;
currency_kw : CURRENCY { yyerrok; } ;
timezone_kw : TIMEZONE { yyerrok; } ;
calendar_kw : CALENDAR { yyerrok; } ;
send_window_kw : SEND_WINDOW { yyerrok; } ;
promise_grace_kw : PROMISE_GRACE { yyerrok; } ;
tones_kw : TONES { yyerrok; } ;
let_kw : LET { yyerrok; } ;
segment_kw : SEGMENT { yyerrok; } ;
escalation_kw : ESCALATION { yyerrok; } ;
on_kw : ON { yyerrok; } ;
rule_kw : RULE { yyerrok; } ;
limit_kw : LIMIT { yyerrok; } ;
extern_kw : EXTERN { yyerrok; } ;
test_kw : TEST { yyerrok; } ;

/* ---- test blocks (LANGUAGE.md s.9; docs/testing.md) ---- */

test_items
  : %empty                    { $$ = (dn_parse_list){0}; }
  | test_items test_item {
      $$ = $1;
      dn_test_item *it; TRY(it = dn_vec_push(ARENA, &$$.items, &$$.n, sizeof *it));
      *it = $2;
      it->span = @2;
    }
  ;

test_item
  : POLICY STRING             { memset(&$$, 0, sizeof $$); $$.kind = DN_TI_POLICY; $$.path = $2; $$.path_span = @2; }
  | AS_OF DATE                { memset(&$$, 0, sizeof $$); $$.kind = DN_TI_AS_OF; $$.date = $2; }
  | row_kind row_id_opt of_opt '{' test_fields_opt '}' {
      memset(&$$, 0, sizeof $$);
      $$.kind = DN_TI_ROW;
      $$.row_kind = $1;
      $$.id = $2;
      $$.parent = $3;
      $$.fields = $5.items;
      $$.nfields = $5.n;
    }
  | HISTORY act_kind act_attrs {
      memset(&$$, 0, sizeof $$);
      $$.kind = DN_TI_HISTORY;
      $$.attrs = $3;
      dn_merge_kind(&$$.attrs, &$2);
    }
  | RAN ON date_list {
      memset(&$$, 0, sizeof $$);
      $$.kind = DN_TI_RAN;
      TRY(dn_split_dates(ctx, &$$, &$3));
    }
  | EXPECT exp_count act_kind act_attrs {
      memset(&$$, 0, sizeof $$);
      $$.kind = DN_TI_EXPECT;
      $$.count = $2;
      $$.attrs = $4;
      dn_merge_kind(&$$.attrs, &$3);
    }
  ;

row_kind
  : CUSTOMER                  { $$ = (dn_ident){"customer", @1}; }
  | INVOICE                   { $$ = (dn_ident){"invoice", @1}; }
  | PAYMENT                   { $$ = (dn_ident){"payment", @1}; }
  | CREDIT_NOTE               { $$ = (dn_ident){"credit_note", @1}; }
  | DISPUTE                   { $$ = (dn_ident){"dispute", @1}; }
  | PROMISE                   { $$ = (dn_ident){"promise", @1}; }
  | FX_RATE                   { $$ = (dn_ident){"fx_rate", @1}; }
  | HOLIDAY                   { $$ = (dn_ident){"holiday", @1}; }
  ;

/* Ledger ids are text: a name, a quoted string ("C-17") or digits. */
row_id
  : IDENT                     { $$ = (dn_ident){$1, @1}; }
  | STRING                    { $$ = (dn_ident){$1, @1}; }
  | INT                       { $$ = (dn_ident){$1.text, @1}; }
  ;

row_id_opt
  : %empty                    { $$ = (dn_ident){NULL, @$}; }
  | row_id
  ;

of_opt
  : %empty                    { $$ = (dn_ident){NULL, @$}; }
  | OF row_id                 { $$ = $2; }
  ;

test_fields_opt
  : %empty                    { $$ = (dn_parse_list){0}; }
  | test_fields
  | test_fields ','
  ;

test_fields
  : field_key ':' test_value {
      $$ = (dn_parse_list){0};
      dn_test_field *f; TRY(f = dn_vec_push(ARENA, &$$.items, &$$.n, sizeof *f));
      f->name = $1;
      f->value = $3;
    }
  | test_fields ',' field_key ':' test_value {
      $$ = $1;
      dn_test_field *f; TRY(f = dn_vec_push(ARENA, &$$.items, &$$.n, sizeof *f));
      f->name = $3;
      f->value = $5;
    }
  ;

/* Column names that are keywords elsewhere. */
field_key
  : IDENT                     { $$ = (dn_ident){$1, @1}; }
  | CURRENCY                  { $$ = (dn_ident){"currency", @1}; }
  | EMAIL                     { $$ = (dn_ident){"email", @1}; }
  | TIMEZONE                  { $$ = (dn_ident){"timezone", @1}; }
  | CALENDAR                  { $$ = (dn_ident){"calendar", @1}; }
  | STATUS                    { $$ = (dn_ident){"status", @1}; }
  ;

test_value
  : STRING                    { $$ = (dn_test_value){DN_TVAL_STRING, @$, $1, NULL, 0}; }
  | IDENT                     { $$ = (dn_test_value){DN_TVAL_NAME, @$, $1, NULL, 0}; }
  | INT                       { $$ = (dn_test_value){DN_TVAL_NUMBER, @$, $1.text, NULL, 0}; }
  | DECIMAL                   { $$ = (dn_test_value){DN_TVAL_NUMBER, @$, $1.text, NULL, 0}; }
  | '-' INT                   { $$ = (dn_test_value){DN_TVAL_NUMBER, @$, NULL, NULL, 0}; TRY($$.text = dn_negate(ctx, $2.text)); }
  | '-' DECIMAL               { $$ = (dn_test_value){DN_TVAL_NUMBER, @$, NULL, NULL, 0}; TRY($$.text = dn_negate(ctx, $2.text)); }
  | INT CURCODE               { $$ = (dn_test_value){DN_TVAL_MONEY, @$, $1.text, $2, 0}; }
  | DECIMAL CURCODE           { $$ = (dn_test_value){DN_TVAL_MONEY, @$, $1.text, $2, 0}; }
  | DATE                      { $$ = (dn_test_value){DN_TVAL_DATE, @$, NULL, NULL, $1}; }
  | TRUE                      { $$ = (dn_test_value){DN_TVAL_BOOL, @$, "true", NULL, 0}; }
  | FALSE                     { $$ = (dn_test_value){DN_TVAL_BOOL, @$, "false", NULL, 0}; }
  ;

exp_count
  : %empty                    { $$ = -1; }
  | NO                        { $$ = 0; }
  | INT                       { $$ = $1.i > 1000000 ? 1000000 : (int)$1.i; }
  ;

act_kind
  : contact                   { memset(&$$, 0, sizeof $$); $$.kind = (dn_action_kind)$1; $$.kind_span = @$; }
  | TASK string_opt           { memset(&$$, 0, sizeof $$); $$.kind = DN_ACT_TASK; $$.kind_span = @1; $$.text = $2; $$.text_span = @2; }
  | ESCALATE string_opt       { memset(&$$, 0, sizeof $$); $$.kind = DN_ACT_ESCALATE; $$.kind_span = @1; $$.text = $2; $$.text_span = @2; }
  | HOLD                      { memset(&$$, 0, sizeof $$); $$.kind = DN_ACT_HOLD; $$.kind_span = @$; }
  | HOLD CREDIT               { memset(&$$, 0, sizeof $$); $$.kind = DN_ACT_HOLD; $$.kind_span = @$; }
  | RELEASE                   { memset(&$$, 0, sizeof $$); $$.kind = DN_ACT_RELEASE; $$.kind_span = @$; }
  | RELEASE CREDIT            { memset(&$$, 0, sizeof $$); $$.kind = DN_ACT_RELEASE; $$.kind_span = @$; }
  ;

act_attrs
  : %empty                    { memset(&$$, 0, sizeof $$); $$.at_minutes = -1; }
  | act_attrs TO row_id       { $$ = $1; dn_set_ident(ctx, &$$.to, $3, "to"); }
  | act_attrs TONE IDENT      { $$ = $1; dn_set_ident(ctx, &$$.tone, (dn_ident){$3, @3}, "tone"); }
  | act_attrs TEMPLATE STRING {
      $$ = $1;
      if ($$.template_name) dn_twice(ctx, "template", @3, $$.template_span);
      else { $$.template_name = $3; $$.template_span = @3; }
    }
  | act_attrs FOR test_ids {
      $$ = $1;
      if ($$.invoices) dn_twice(ctx, "for", @3, $$.invoices[0].span);
      else { $$.invoices = $3.items; $$.ninvoices = $3.n; }
    }
  | act_attrs STATUS IDENT    { $$ = $1; dn_set_ident(ctx, &$$.status, (dn_ident){$3, @3}, "status"); }
  | act_attrs AT DATE         { $$ = $1; dn_set_at(ctx, &$$, $3, -1, (dn_span){@2.start, @3.end}); }
  | act_attrs AT DATE TIME    { $$ = $1; dn_set_at(ctx, &$$, $3, $4, (dn_span){@2.start, @4.end}); }
  | act_attrs ON DATE {
      $$ = $1;
      if ($$.has_on) dn_twice(ctx, "on", (dn_span){@2.start, @3.end}, $$.on_span);
      else { $$.has_on = true; $$.on_date = $3; $$.on_span = (dn_span){@2.start, @3.end}; }
    }
  | act_attrs RULE IDENT      { $$ = $1; dn_set_ident(ctx, &$$.rule, (dn_ident){$3, @3}, "rule"); }
  | act_attrs RULE STRING     { $$ = $1; dn_set_ident(ctx, &$$.rule, (dn_ident){$3, @3}, "rule"); }
  | act_attrs STEP offset     { $$ = $1; dn_set_step(ctx, &$$, dn_step_text(ctx, &$3), @3); }
  | act_attrs STEP STRING     { $$ = $1; dn_set_step(ctx, &$$, $3, @3); }
  ;

test_ids
  : row_id                    { $$ = (dn_parse_list){0}; TRY(dn_push_ident(ctx, &$$, $1.name, $1.span)); }
  | test_ids ',' row_id       { $$ = $1; TRY(dn_push_ident(ctx, &$$, $3.name, $3.span)); }
  ;

date_list
  : DATE {
      $$ = (dn_parse_list){0};
      dn_test_value *d; TRY(d = dn_vec_push(ARENA, &$$.items, &$$.n, sizeof *d));
      *d = (dn_test_value){DN_TVAL_DATE, @1, NULL, NULL, $1};
    }
  | date_list ',' DATE {
      $$ = $1;
      dn_test_value *d; TRY(d = dn_vec_push(ARENA, &$$.items, &$$.n, sizeof *d));
      *d = (dn_test_value){DN_TVAL_DATE, @3, NULL, NULL, $3};
    }
  ;

tone_ladder
  : IDENT                     { $$ = (dn_parse_list){0}; TRY(dn_push_ident(ctx, &$$, $1, @1)); }
  | tone_ladder '<' IDENT     { $$ = $1; TRY(dn_push_ident(ctx, &$$, $3, @3)); }
  ;

ident_list
  : IDENT                     { $$ = (dn_parse_list){0}; TRY(dn_push_ident(ctx, &$$, $1, @1)); }
  | ident_list ',' IDENT      { $$ = $1; TRY(dn_push_ident(ctx, &$$, $3, @3)); }
  ;

type_list_opt
  : %empty                    { $$ = (dn_parse_list){0}; }
  | type_list
  ;

type_list
  : IDENT                     { $$ = (dn_parse_list){0}; TRY(dn_push_ident(ctx, &$$, $1, @1)); }
  | type_list ',' IDENT       { $$ = $1; TRY(dn_push_ident(ctx, &$$, $3, @3)); }
  ;

scope
  : INVOICE                   { $$ = DN_SCOPE_INVOICE; }
  | CUSTOMER                  { $$ = DN_SCOPE_CUSTOMER; }
  ;

event_name
  : IDENT '.' IDENT           { const char *s; TRY(s = dn_join_dot(ctx, $1, $3)); $$ = (dn_ident){s, @$}; }
  | INVOICE '.' IDENT         { const char *s; TRY(s = dn_join_dot(ctx, "invoice", $3)); $$ = (dn_ident){s, @$}; }
  | CUSTOMER '.' IDENT        { const char *s; TRY(s = dn_join_dot(ctx, "customer", $3)); $$ = (dn_ident){s, @$}; }
  ;

unless_opt
  : %empty                    { $$ = NULL; }
  | UNLESS expr               { $$ = $2; }
  ;

guard_opt
  : %empty                    { $$ = NULL; }
  | WHEN expr                 { $$ = $2; }
  ;

once_opt
  : %empty                    { $$ = (dn_duration){0, false, @$}; }
  | ONCE PER duration         { $$ = $3; }
  ;

seg_body_opt
  : %empty                    { memset(&$$, 0, sizeof $$); }
  | '{' seg_items '}'         { $$ = $2; }
  ;

seg_items
  : %empty                    { memset(&$$, 0, sizeof $$); }
  | seg_items TONE sign INT   { $$ = $1; dn_tone_shift(ctx, &$$, $3 * $4.i, (dn_span){@2.start, @4.end}); }
  | seg_items TONE INT        { $$ = $1; dn_tone_shift(ctx, &$$, $3.i, (dn_span){@2.start, @3.end}); }
  | seg_items TONES IDENT {
      $$ = $1;
      if ($$.ladder.name) dn_twice(ctx, "tones", (dn_span){@2.start, @3.end}, $$.ladder.span);
      else $$.ladder = (dn_ident){$3, @3};
    }
  | seg_items ASSIGN STRING {
      $$ = $1;
      if ($$.assign) dn_twice(ctx, "assign", (dn_span){@2.start, @3.end}, $$.assign_span);
      else { $$.assign = $3; $$.assign_span = @3; }
    }
  ;

sign
  : '+'                       { $$ = 1; }
  | '-'                       { $$ = -1; }
  ;

steps
  : %empty                    { $$ = (dn_parse_list){0}; }
  | steps STEP offset ':' actions guard_opt {
      $$ = $1;
      dn_step *s;
      TRY(s = dn_vec_push(ARENA, &$$.items, &$$.n, sizeof *s));
      s->span = (dn_span){@2.start, @6.end};
      s->offset = $3;
      s->actions = $5.items;
      s->nactions = $5.n;
      s->guard = $6;
    }
  ;

offset
  : duration                  { $$ = $1; }
  | '+' duration              { $$ = $2; $$.span = @$; }
  | '-' duration              { $$ = $2; $$.days = -$$.days; $$.span = @$; }
  ;

duration
  : INT unit                  { $$ = dn_make_duration(ctx, $1.i, $2, false, @$); }
  | INT BUSINESS DAY          { $$ = dn_make_duration(ctx, $1.i, 1, true, @$); }
  | INT BUSINESS DAYS         { $$ = dn_make_duration(ctx, $1.i, 1, true, @$); }
  ;

unit
  : DAY                       { $$ = 1; }
  | DAYS                      { $$ = 1; }
  | WEEK                      { $$ = 7; }
  | WEEKS                     { $$ = 7; }
  ;

caps
  : INT PER duration {
      $$ = (dn_parse_list){0};
      dn_cap *c; TRY(c = dn_vec_push(ARENA, &$$.items, &$$.n, sizeof *c));
      *c = (dn_cap){$1.i, $3, @$};
    }
  | caps ',' INT PER duration {
      $$ = $1;
      dn_cap *c; TRY(c = dn_vec_push(ARENA, &$$.items, &$$.n, sizeof *c));
      *c = (dn_cap){$3.i, $5, (dn_span){@3.start, @5.end}};
    }
  ;

actions
  : action                    { $$ = (dn_parse_list){0}; TRY(dn_push_action(ctx, &$$, &$1)); }
  | actions ',' action        { $$ = $1; TRY(dn_push_action(ctx, &$$, &$3)); }
  ;

action
  : contact attrs             { $$ = $2; $$.kind = (dn_action_kind)$1; $$.span = @$; }
  | TASK string_opt attrs     { $$ = $3; $$.kind = DN_ACT_TASK; $$.text = $2; $$.span = @$; }
  | ESCALATE string_opt attrs { $$ = $3; $$.kind = DN_ACT_ESCALATE; $$.text = $2; $$.span = @$; }
  | HOLD CREDIT attrs         { $$ = $3; $$.kind = DN_ACT_HOLD; $$.span = @$; }
  | RELEASE CREDIT attrs      { $$ = $3; $$.kind = DN_ACT_RELEASE; $$.span = @$; }
  ;

contact
  : EMAIL                     { $$ = DN_ACT_EMAIL; }
  | SMS                       { $$ = DN_ACT_SMS; }
  | LETTER                    { $$ = DN_ACT_LETTER; }
  | CALL                      { $$ = DN_ACT_CALL; }
  ;

/* A task without text or a hold with a tone parses; the checker reports
 * it (E0314) with a better message than a syntax error could give. */
string_opt
  : %empty                    { $$ = NULL; }
  | STRING                    { $$ = $1; }
  ;

attrs
  : %empty                    { memset(&$$, 0, sizeof $$); }
  | attrs attr                { $$ = $1; dn_action_attr(ctx, &$$, &$2, @2); }
  ;

attr
  : TONE IDENT                { memset(&$$, 0, sizeof $$); $$.tone = (dn_ident){$2, @2}; }
  | TEMPLATE STRING           { memset(&$$, 0, sizeof $$); $$.template_name = $2; $$.template_span = @2; }
  | PRIORITY expr             { memset(&$$, 0, sizeof $$); $$.priority = $2; }
  | ASSIGN STRING             { memset(&$$, 0, sizeof $$); $$.assign = $2; $$.assign_span = @2; }
  ;

expr
  : expr OR expr              { TRY($$ = dn_new_binary(ctx, DN_OP_OR, $1, $3, @$)); }
  | expr AND expr             { TRY($$ = dn_new_binary(ctx, DN_OP_AND, $1, $3, @$)); }
  | NOT expr                  { TRY($$ = dn_new_unary(ctx, DN_OP_NOT, $2, @$)); }
  | expr EQ expr              { TRY($$ = dn_new_binary(ctx, DN_OP_EQ, $1, $3, @$)); }
  | expr NE expr              { TRY($$ = dn_new_binary(ctx, DN_OP_NE, $1, $3, @$)); }
  | expr '<' expr             { TRY($$ = dn_new_binary(ctx, DN_OP_LT, $1, $3, @$)); }
  | expr LE expr              { TRY($$ = dn_new_binary(ctx, DN_OP_LE, $1, $3, @$)); }
  | expr '>' expr             { TRY($$ = dn_new_binary(ctx, DN_OP_GT, $1, $3, @$)); }
  | expr GE expr              { TRY($$ = dn_new_binary(ctx, DN_OP_GE, $1, $3, @$)); }
  | expr IN '[' expr_list_opt ']' {
      dn_count_operator(ctx, @$);
      TRY($$ = dn_new_expr(ctx, DN_EX_IN, @$));
      $$->lhs = $1;
      $$->items = $4.items;
      $$->nitems = $4.n;
    }
  | expr '+' expr             { TRY($$ = dn_new_binary(ctx, DN_OP_ADD, $1, $3, @$)); }
  | expr '-' expr             { TRY($$ = dn_new_binary(ctx, DN_OP_SUB, $1, $3, @$)); }
  | expr '*' expr             { TRY($$ = dn_new_binary(ctx, DN_OP_MUL, $1, $3, @$)); }
  | expr '/' expr             { TRY($$ = dn_new_binary(ctx, DN_OP_DIV, $1, $3, @$)); }
  | '-' expr %prec UMINUS     { TRY($$ = dn_new_unary(ctx, DN_OP_NEG, $2, @$)); }
  | primary
  ;

primary
  : TRUE                      { TRY($$ = dn_new_expr(ctx, DN_EX_BOOL, @$)); $$->b = true; }
  | FALSE                     { TRY($$ = dn_new_expr(ctx, DN_EX_BOOL, @$)); $$->b = false; }
  | INT                       { TRY($$ = dn_new_expr(ctx, DN_EX_INT, @$)); $$->i = $1.i; }
  | DECIMAL                   { TRY($$ = dn_new_expr(ctx, DN_EX_NUMBER, @$)); $$->n = $1.n; }
  | PERCENT                   { TRY($$ = dn_new_expr(ctx, DN_EX_NUMBER, @$)); $$->n = $1.n; }
  | INT CURCODE               { TRY($$ = dn_new_money(ctx, $1, $2, @$)); }
  | DECIMAL CURCODE           { TRY($$ = dn_new_money(ctx, $1, $2, @$)); }
  | duration                  { TRY($$ = dn_new_expr(ctx, DN_EX_DURATION, @$)); $$->duration = $1; }
  | DATE                      { TRY($$ = dn_new_expr(ctx, DN_EX_DATE, @$)); $$->date = $1; }
  | STRING                    { TRY($$ = dn_new_expr(ctx, DN_EX_STRING, @$)); $$->str = $1; }
  | IDENT                     { TRY($$ = dn_new_expr(ctx, DN_EX_NAME, @$)); $$->str = $1; }
  | IDENT '(' expr_list_opt ')' {
      TRY($$ = dn_new_expr(ctx, DN_EX_CALL, @$));
      $$->str = $1;
      $$->items = $3.items;
      $$->nitems = $3.n;
    }
  | IDENT '.' IDENT           { TRY($$ = dn_new_field(ctx, $1, $3, @3, @$)); }
  | INVOICE '.' IDENT         { TRY($$ = dn_new_field(ctx, "invoice", $3, @3, @$)); }
  | CUSTOMER '.' IDENT        { TRY($$ = dn_new_field(ctx, "customer", $3, @3, @$)); }
  | CUSTOMER '.' IDENT '(' STRING ')' {
      if (strcmp($3, "attr") != 0) {
        dn_diag *g = dn_diag_add(ctx->diags, DN_E0101, @3,
                                 "`customer.%s` is a field, not a function", $3);
        dn_diag_hint(g, "only `customer.attr(\"key\")` takes an argument");
      }
      TRY($$ = dn_new_expr(ctx, DN_EX_ATTR, @$));
      $$->str = $5;
      $$->object = "customer";
      $$->field_name = $3;
      $$->field_span = @3;
    }
  | '(' expr ')'              { $$ = $2; }
  ;

expr_list_opt
  : %empty                    { $$ = (dn_parse_list){0}; }
  | expr_list
  ;

expr_list
  : expr                      { $$ = (dn_parse_list){0}; TRY(dn_push_ptr(ctx, &$$, $1)); }
  | expr_list ',' expr        { $$ = $1; TRY(dn_push_ptr(ctx, &$$, $3)); }
  ;

%%

#include "lexer.h"

/* ---- syntax errors in the user's words --------------------------------- */

typedef struct dn_expected {
  yysymbol_kind_t syms[YYNTOKENS];
  int n;
} dn_expected;

static bool dn_expects(const dn_expected *x, yysymbol_kind_t s) {
  for (int i = 0; i < x->n; i++)
    if (x->syms[i] == s) return true;
  return false;
}

/* What a missing number is for, judged by the token before it. */
static const char *dn_number_purpose(int prev) {
  switch (prev) {
  case T_STEP: case T_PROMISE_GRACE: case T_PER: case '-': case '+':
    return "expected a duration such as `7 days`";
  case T_VERSION:
    return "expected a version number, as in `version 3`";
  case ':': case ',':
    return "expected a contact limit such as `1 per 3 days`";
  case T_TONE:
    return "expected a tone shift such as `tone -1`";
  default:
    return NULL;
  }
}

/* What a missing name is for, judged by the token before it. */
static const char *dn_name_purpose(int prev) {
  switch (prev) {
  case T_TONE: return "expected a tone such as `firm`";
  case T_TONES: return "expected the name of a tone ladder";
  case T_SEGMENT: return "expected a segment name";
  case T_ESCALATION: return "expected an escalation name";
  case T_RULE: return "expected a rule name";
  case T_LET: return "expected a name for the `let`";
  case T_FN: return "expected a function name";
  case '.': return "expected a field name";
  default: return NULL;
  }
}

/* `500 usd`: a name after a number that is a currency code in capitals. */
static bool dn_lower_currency(const char *src, dn_span sp) {
  if (!src || sp.end - sp.start != 3) return false;
  char up[3];
  for (int i = 0; i < 3; i++) up[i] = (char)toupper((unsigned char)src[sp.start + (uint32_t)i]);
  return dn_currency_lookup(up, 3) != DN_CUR_NONE;
}

/* What a missing string is for, judged by the token before it. */
static const char *dn_string_purpose(int prev) {
  switch (prev) {
  case T_POLICY: return "expected the policy name in quotes, as in `policy \"acme\" version 1`";
  case T_TIMEZONE: return "expected a time zone in quotes, such as `\"Europe/Berlin\"`";
  case T_CALENDAR: return "expected a calendar in quotes, such as `\"US\"`";
  case T_TEMPLATE: return "expected a template name in quotes, such as `\"payment-failed\"`";
  case T_ASSIGN: return "expected a team name in quotes, such as `\"billing\"`";
  case T_FROM: return "expected a library path in quotes, such as `\"libacme.so\"`";
  default: return NULL;
  }
}

static const char *dn_user_words(const dn_expected *x, int prev, yysymbol_kind_t la,
                                 dn_span sp, const char *src) {
  if (la == YYSYMBOL_IDENT && (prev == T_INT || prev == T_DECIMAL) && dn_lower_currency(src, sp))
    return "expected a currency code in capitals, such as `500 USD`";
  if (x->n == 1 && x->syms[0] == YYSYMBOL_IDENT && dn_name_purpose(prev))
    return dn_name_purpose(prev);
  if (x->n == 1 && x->syms[0] == YYSYMBOL_STRING && dn_string_purpose(prev))
    return dn_string_purpose(prev);
  if (dn_expects(x, YYSYMBOL_EMAIL) && dn_expects(x, YYSYMBOL_HOLD))
    return "expected an action (email, sms, letter, call, task, hold credit, "
           "release credit, escalate)";
  if (dn_expects(x, YYSYMBOL_DAYS) && !dn_expects(x, YYSYMBOL_CURCODE))
    return "expected a duration such as `7 days`";
  if (dn_expects(x, YYSYMBOL_INT) && !dn_expects(x, YYSYMBOL_IDENT))
    return dn_number_purpose(prev);
  if (dn_expects(x, YYSYMBOL_IDENT) && dn_expects(x, YYSYMBOL_NOT) && dn_expects(x, YYSYMBOL_INT))
    return "expected an expression";
  if (dn_expects(x, YYSYMBOL_STEP) && dn_expects(x, YYTRANSLATE('}')))
    return "expected a step such as `step 7 days: email` or `}`";
  if (dn_expects(x, YYSYMBOL_POLICY) && dn_expects(x, YYTRANSLATE('+')))
    return "expected an operator or the next declaration";
  if (dn_expects(x, YYSYMBOL_POLICY) && dn_expects(x, YYSYMBOL_SEGMENT))
    return "expected a declaration (policy, currency, timezone, calendar, send_window, "
           "promise_grace, tones, let, segment, escalation, on, rule, limit, extern)";
  if (dn_expects(x, YYSYMBOL_CURCODE) && x->n <= 2)
    return "expected a currency code such as `USD`";
  if (dn_expects(x, YYSYMBOL_TIME) && x->n == 1)
    return "expected a time of day such as `09:00`";
  return NULL;
}

/* A symbol name for a message: aliases are written ready to print
 * ("a name", "`days`"); character tokens ('{') get backquotes. */
static void dn_put_symbol(FILE *f, yysymbol_kind_t s) {
  const char *name = yysymbol_name(s);
  if (name[0] == '\'' && name[1] && name[2] == '\'') fprintf(f, "`%c`", name[1]);
  else if (s == YYSYMBOL_YYEOF) fputs("end of file", f);
  else fputs(name, f);
}

static char *dn_expected_list(dn_lexctx *ctx, const dn_expected *x) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  fputs("expected ", f);
  int shown = x->n < 8 ? x->n : 8;
  for (int i = 0; i < shown; i++) {
    if (i > 0) fputs(i + 1 == shown && shown == x->n ? " or " : ", ", f);
    dn_put_symbol(f, x->syms[i]);
  }
  if (shown < x->n) fputs(", ...", f);
  fclose(f);
  char *s = buf ? dn_arena_strdup(ARENA, buf) : NULL;
  free(buf);
  return s;
}

static void dn_found(const dn_lexctx *ctx, yysymbol_kind_t la, dn_span sp, char *out, size_t n) {
  if (la == YYSYMBOL_YYEOF) {
    snprintf(out, n, "end of file");
    return;
  }
  size_t len = sp.end - sp.start;
  if (len > 24 || la == YYSYMBOL_STRING) {
    snprintf(out, n, "%s", la == YYSYMBOL_STRING ? "a string" : "a long token");
    return;
  }
  snprintf(out, n, "`%.*s`", (int)len, ctx->ast->source + sp.start);
}

/* `Segment` for `segment` (a keyword after `.` is a plain name: no hint). */
static const char *dn_miscased_keyword(const char *src, dn_span sp) {
  size_t n = sp.end - sp.start;
  const char *k = src ? dn_lex_keyword_ci(src + sp.start, n) : NULL;
  return k && strncmp(k, src + sp.start, n) != 0 ? k : NULL;
}

static int yyreport_syntax_error(const yypcontext_t *yyctx, yyscan_t scanner, dn_lexctx *ctx) {
  (void)scanner;
  yysymbol_kind_t la = yypcontext_token(yyctx);
  dn_span sp = *yypcontext_location(yyctx);
  /* The scanner already said the file ended inside braces (E0104). */
  if (la == YYSYMBOL_YYEOF && ctx->brace_depth > 0) return 0;
  dn_expected x;
  x.n = yypcontext_expected_tokens(yyctx, x.syms, YYNTOKENS);
  if (x.n < 0) x.n = 0;
  const char *words = dn_user_words(&x, ctx->prev_tok, la, sp, ctx->ast->source);
  const char *what = words ? words : dn_expected_list(ctx, &x);
  char found[64];
  dn_found(ctx, la, sp, found, sizeof found);
  /* At the end of the file the caret goes right after the last token, on
   * the line that lacks something, not on an empty line below it. */
  if (la == YYSYMBOL_YYEOF && ctx->last_end < sp.start) sp.start = sp.end = ctx->last_end;
  dn_diag *g = what ? dn_diag_add(ctx->diags, DN_E0101, sp, "%s, found %s", what, found)
                    : dn_diag_add(ctx->diags, DN_E0101, sp, "unexpected %s", found);
  if (la == YYTRANSLATE('=') && dn_expects(&x, YYSYMBOL_EQ))
    dn_diag_hint(g, "compare with `==`; a single `=` only names a `let`");
  else if (la == YYSYMBOL_NOT && dn_expects(&x, YYSYMBOL_IN))
    dn_diag_hint(g, "negate the whole test: `not (VALUE in [...])`");
  else if (la == YYSYMBOL_IDENT && dn_miscased_keyword(ctx->ast->source, sp))
    dn_diag_hint(g, "keywords are written in lower case: `%s`", dn_miscased_keyword(ctx->ast->source, sp));
  else if (la == YYTRANSLATE(',') && dn_expects(&x, YYTRANSLATE('<')) && ctx->decl_tok == T_TONES)
    dn_diag_hint(g, "separate the tones of a ladder with `<`, gentlest first: `friendly < neutral < firm`");
  else if (la == YYSYMBOL_WHEN && ctx->seen_do && (ctx->decl_tok == T_ON || ctx->decl_tok == T_RULE))
    dn_diag_hint(g, "in `on` and `rule` the `when` guard comes before `do`, e.g. "
                    "`on payment.failed for invoice when invoice.open do email`");
  return 0;
}

/* ---- the entry point --------------------------------------------------- */

static void dn_ast_begin(dn_ast *ast, const char *filename, const char *source, size_t len) {
  memset(ast, 0, sizeof *ast);
  dn_arena_init(&ast->arena);
  ast->filename = filename;
  ast->source = source;
  ast->source_len = len;
}

dn_status dn_parse(const char *filename, const char *source, size_t len, dn_ast *ast,
                   dn_diags *diags) {
  dn_ast_begin(ast, filename, source, len);
  if (len >= INT32_MAX) {
    dn_diag_add_at(diags, DN_E0505, filename, 0, "policy file is too large (%zu bytes)", len);
    return DN_ERR_INPUT;
  }
  dn_lexctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.ast = ast;
  ctx.diags = diags;
  size_t errors_before = diags->errors;
  yyscan_t scanner;
  if (dnyylex_init_extra(&ctx, &scanner) != 0) return DN_ERR_INTERNAL;
  if (setjmp(ctx.fatal) != 0) {
    dnyylex_destroy(scanner);
    return DN_ERR_INTERNAL;
  }
  dnyy_scan_bytes(source ? source : "", (int)len, scanner);
  int rc = dnyyparse(scanner, &ctx);
  dnyylex_destroy(scanner);
  if (ctx.oom || (rc == 2 && !ctx.too_deep)) return DN_ERR_INTERNAL;
  return rc != 0 || diags->errors > errors_before ? DN_ERR_INPUT : DN_OK;
}
