/* vm.c - the expression VM (vm.h): a stack machine over verified chunks.
 *
 * The verifier has proved stack depth, operand types, jump targets and
 * every index, so the loop below checks none of them; it only reports
 * what the data can still make fail (overflow, division by zero, a
 * missing exchange rate). Missing values are a flag on the value, settled
 * in the loop before any operator sees them. Evaluation always terminates: jumps
 * only go forward and a let can only read earlier lets, so no
 * instruction budget is needed.
 *
 * Extern functions are called through libffi with this mapping: bool ->
 * int, int -> int64_t, number -> double, money -> int64_t minor units
 * (policy currency on return), date -> int32_t day number, string ->
 * const char * (NULL returned means ""). Their results are checked like
 * any other input (a non-finite number is an error). */
#include "runtime/vm.h"

#include <ffi.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang/arena.h"
#include "runtime/field_access.h"
#include "runtime/native.h"

_Static_assert(DN_OPC_RET + 1 == DN_OPC_COUNT, "vm dispatch covers every opcode");

typedef struct field_row { dn_scope scope; dn_type type; } field_row;
static const field_row field_rows[] = {
#define DN_FIELD(scope, name, type, doc) {DN_SCOPE_##scope, DN_T_##type},
#include "lang/fields.def"
#undef DN_FIELD
};
_Static_assert(sizeof field_rows / sizeof field_rows[0] == DN_F_COUNT, "field table size");

static const char *const builtin_names[] = {
#define DN_BUILTIN(id, name, ret, nargs, a1, a2, doc) name,
#include "stdlib/builtins.def"
#undef DN_BUILTIN
};
_Static_assert(sizeof builtin_names / sizeof builtin_names[0] == DN_B_COUNT, "builtin table size");

/* A memoised let value: valid for the customer generation `gen` and, for
 * invoice-scope lets, for `invoice` only. */
typedef struct memo {
  uint32_t gen;
  int32_t invoice;
  dn_value v;
} memo;

struct dn_vm {
  dn_vm_env env;
  dn_calendar *own_cal;   /* weekends-only calendar when env has none */
  dn_value *stack;
  dn_value *consts;       /* the program's constants as values, made once */
  memo *lets;
  uint32_t gen;           /* bumped per customer; 0 is never current */
  const dn_customer_facts *c;
  int ladder;
  json_t *attrs;          /* parsed attrs_json of the current customer */
  bool attrs_parsed;
  dn_arena scratch;       /* strings made while evaluating this customer */
  dn_status status;       /* of the last out-of-line instruction that failed */
  char *err;
  size_t errlen;
  dn_native_frame frame;  /* what compiled chunks are handed (env.native) */
};

/* The stack holds one chunk's frame plus, below it, the frames of the lets
 * it is waiting on; each let appears at most once in such a chain, so
 * the largest frame plus every let frame is enough. */
static size_t stack_size(const dn_program *p) {
  size_t most = 0, lets = 0;
  for (uint32_t i = 0; i < p->nchunks; i++)
    if (p->chunks[i].max_stack > most) most = p->chunks[i].max_stack;
  for (uint32_t i = 0; i < p->nlets; i++) lets += p->chunks[p->lets[i].chunk].max_stack;
  return most + lets + 1;
}

static dn_value const_value(const dn_program *p, uint32_t k);

dn_vm *dn_vm_new(const dn_vm_env *env) {
  dn_vm *vm = calloc(1, sizeof *vm);
  if (!vm) return NULL;
  vm->env = *env;
  vm->ladder = -1;
  dn_arena_init(&vm->scratch);
  vm->stack = calloc(stack_size(env->program), sizeof *vm->stack);
  vm->lets = calloc((size_t)env->program->nlets + 1, sizeof *vm->lets);
  vm->consts = calloc((size_t)env->program->nconsts + 1, sizeof *vm->consts);
  for (uint32_t k = 0; vm->consts && k < env->program->nconsts; k++)
    vm->consts[k] = const_value(env->program, k);
  vm->frame = (dn_native_frame){.vm = vm, .op = dn_vm_native_op, .consts = vm->consts,
                                .currency = env->program->currency};
  if (!env->calendar) {
    vm->own_cal = dn_calendar_new("");
    vm->env.calendar = vm->own_cal;
  }
  if (!vm->stack || !vm->lets || !vm->consts || !vm->env.calendar) {
    dn_vm_free(vm);
    return NULL;
  }
  return vm;
}

void dn_vm_free(dn_vm *vm) {
  if (!vm) return;
  if (vm->attrs) json_decref(vm->attrs);
  dn_arena_free(&vm->scratch);
  dn_calendar_free(vm->own_cal);
  free(vm->stack);
  free(vm->lets);
  free(vm->consts);
  free(vm);
}

void dn_vm_begin_customer(dn_vm *vm, const dn_customer_facts *c, int ladder) {
  vm->c = c;
  vm->frame.customer = c;
  vm->ladder = ladder;
  if (++vm->gen == 0) { /* wrapped: forget every memo explicitly */
    memset(vm->lets, 0, (size_t)vm->env.program->nlets * sizeof *vm->lets);
    vm->gen = 1;
  }
  if (vm->attrs) json_decref(vm->attrs);
  vm->attrs = NULL;
  vm->attrs_parsed = false;
  dn_arena_reset(&vm->scratch);
}

/* --- errors --- */

/* The source span of the instruction at absolute pc: the entry for that
 * pc, or the nearest before it. */
static const dn_line *line_at(const dn_program *p, uint32_t pc) {
  uint32_t lo = 0, hi = p->nlines;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (p->lines[mid].pc <= pc) lo = mid + 1;
    else hi = mid;
  }
  return lo ? &p->lines[lo - 1] : NULL;
}

static dn_status fail(dn_vm *vm, uint32_t pc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static dn_status fail(dn_vm *vm, uint32_t pc, const char *fmt, ...) {
  if (!vm->err || vm->errlen == 0) return DN_ERR_INPUT;
  const dn_program *p = vm->env.program;
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const dn_line *l = line_at(p, pc);
  if (l && p->source && l->span.start <= p->source_len) {
    int line = 0, col = 0;
    dn_source_position(p->source, p->source_len, l->span.start, &line, &col);
    snprintf(vm->err, vm->errlen, "%s:%d:%d: %s", p->filename ? p->filename : "policy", line, col, msg);
  } else {
    snprintf(vm->err, vm->errlen, "pc %u: %s", pc, msg);
  }
  return DN_ERR_INPUT;
}

/* --- facts --- */

static const char *str_or_empty(const char *s) { return s ? s : ""; }

static int32_t tone_rank_of(const dn_vm *vm, const char *tone) {
  const dn_program *p = vm->env.program;
  if (!tone) return 0;
  int li = vm->ladder >= 0 && (uint32_t)vm->ladder < p->nladders ? vm->ladder : 0;
  const dn_ladder *l = &p->ladders[li];
  for (int32_t i = 0; i < l->ntones; i++)
    if (strcmp(p->tone_names[l->first_tone + i], tone) == 0) return i;
  return 0;
}

/* The loaders below write the stack slot member by member: building a
 * dn_value in a local and copying it out made the compiler store the
 * 16-bit currency and read it back as part of a wider word, a
 * store-forwarding stall that was half the VM's time (perf, bench/eval).
 * Facts say "none" with sentinels; values say it with the flag. */
static void put_date(dn_value *v, dn_date d) {
  v->as.d = d;
  v->missing = d == DN_DATE_NONE;
}

static void put_money(dn_value *v, dn_money m) {
  v->as.m.minor = m.minor;
  v->as.m.cur = m.cur;
  v->missing = m.cur == DN_CUR_NONE;
}

/* The fields runtime/field_access.c leaves to the VM (DN_FA_VM): each is
 * worked out, not read at an offset. */
static void invoice_field(dn_field_id f, const dn_invoice_facts *in, dn_value *v) {
  v->type = field_rows[f].type;
  v->missing = false;
  if (f == DN_F_INVOICE_currency) v->as.s = dn_currency_code(in->currency);
  else v->as.i = 0;
}

static void customer_field(const dn_vm *vm, dn_field_id f, dn_value *v) {
  const dn_customer_facts *c = vm->c;
  v->type = field_rows[f].type;
  v->missing = false;
  switch (f) {
    case DN_F_CUSTOMER_timezone:
      v->as.s = c->timezone && *c->timezone ? c->timezone : str_or_empty(vm->env.program->timezone);
      break;
    case DN_F_CUSTOMER_last_tone: v->as.tone = tone_rank_of(vm, c->last_tone); break;
    default: v->as.i = 0; break;
  }
}

/* The facts of invoice inv (-1: none, for a customer expression). */
static inline const dn_invoice_facts *invoice_of(const dn_vm *vm, int32_t inv) {
  return inv >= 0 ? &vm->c->invoices[inv] : NULL;
}

/* A field by the table the native compiler reads too (runtime/
 * field_access.h): one load at its offset, no switch over every field;
 * the few the VM works out go to the functions above. */
static inline void load_field(const dn_vm *vm, uint8_t f, const dn_invoice_facts *in, dn_value *v) {
  const dn_field_access *a = &dn_field_table[f];
  if (a->kind == DN_FA_VM) {
    if (field_rows[f].scope == DN_SCOPE_INVOICE) invoice_field((dn_field_id)f, in, v);
    else customer_field(vm, (dn_field_id)f, v);
    return;
  }
  const char *at = (a->scope == DN_SCOPE_INVOICE ? (const char *)in : (const char *)vm->c) + a->offset;
  v->type = a->type;
  v->missing = false;
  switch (a->kind) {
    case DN_FA_BOOL: v->as.b = *(const bool *)at; break;
    case DN_FA_I32: v->as.i = *(const int32_t *)at; break;
    case DN_FA_F64: v->as.n = *(const double *)at; break;
    case DN_FA_MONEY: put_money(v, *(const dn_money *)at); break;
    case DN_FA_PMONEY: put_money(v, (dn_money){*(const int64_t *)at, vm->frame.currency}); break;
    case DN_FA_DATE: put_date(v, *(const dn_date *)at); break;
    default: v->as.s = str_or_empty(*(const char *const *)at); break;
  }
}

/* customer.attr("key"): strings as they are, numbers as their text,
 * anything else (missing, bool, null, object) as "". */
static const char *attr_value(dn_vm *vm, const char *key) {
  if (!vm->attrs_parsed) {
    vm->attrs_parsed = true;
    if (vm->c->attrs_json && *vm->c->attrs_json) {
      json_error_t jerr;
      vm->attrs = json_loads(vm->c->attrs_json, 0, &jerr);
      if (vm->attrs && !json_is_object(vm->attrs)) {
        json_decref(vm->attrs);
        vm->attrs = NULL;
      }
    }
  }
  json_t *v = vm->attrs ? json_object_get(vm->attrs, key) : NULL;
  if (!v) return "";
  if (json_is_string(v)) return json_string_value(v);
  char buf[40];
  if (json_is_integer(v)) snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
  else if (json_is_real(v)) {
    snprintf(buf, sizeof buf, "%.15g", json_real_value(v));
    if (strtod(buf, NULL) != json_real_value(v)) snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
  } else return "";
  char *s = dn_arena_strdup(&vm->scratch, buf);
  return s ? s : "";
}

#define U16(ip) ((uint32_t)(ip)[1] | (uint32_t)(ip)[2] << 8)

static void load_attr(dn_vm *vm, const uint8_t *ip, dn_value *v) {
  v->type = DN_T_STRING;
  v->missing = false;
  v->as.s = attr_value(vm, vm->env.program->strings[U16(ip)]);
}

/* --- money and arithmetic helpers --- */

/* Brings two amounts to one currency: ledger money is already in the
 * policy currency, so whichever side is not gets converted into it. */
static dn_status align(dn_vm *vm, uint32_t pc, dn_money *a, dn_money *b) {
  if (a->cur == b->cur) return DN_OK;
  uint16_t to = vm->env.program->currency;
  dn_money *side[2] = {a, b};
  for (int i = 0; i < 2; i++) {
    if (side[i]->cur == to) continue;
    if (!vm->env.convert)
      return fail(vm, pc, "cannot combine %s and %s amounts", dn_currency_code(a->cur), dn_currency_code(b->cur));
    dn_money out;
    if (!vm->env.convert(vm->env.convert_ctx, *side[i], to, &out))
      return fail(vm, pc, "no exchange rate from %s to %s", dn_currency_code(side[i]->cur), dn_currency_code(to));
    *side[i] = out;
  }
  return DN_OK;
}


static bool relation(int rel, int c) {
  switch (rel) {
    case DN_OP_EQ: return c == 0;
    case DN_OP_NE: return c != 0;
    case DN_OP_LT: return c < 0;
    case DN_OP_LE: return c <= 0;
    case DN_OP_GT: return c > 0;
    default: return c >= 0;
  }
}

#define CMP3(a, b) (((a) > (b)) - ((a) < (b)))

/* Compares two present values of type t; a comparison with a missing one
 * is false, != included, and is settled in the dispatch loop first
 * (LANGUAGE.md s.4). */
static dn_status compare(dn_vm *vm, uint32_t pc, int rel, dn_type t, dn_value a, dn_value b, bool *out) {
  int c = 0;
  switch (t) {
    case DN_T_BOOL: c = CMP3(a.as.b, b.as.b); break;
    case DN_T_INT: c = CMP3(a.as.i, b.as.i); break;
    case DN_T_NUMBER: c = CMP3(a.as.n, b.as.n); break;
    case DN_T_MONEY: {
      dn_status st = align(vm, pc, &a.as.m, &b.as.m);
      if (st != DN_OK) return st;
      c = CMP3(a.as.m.minor, b.as.m.minor);
      break;
    }
    case DN_T_DATE:
      c = CMP3(a.as.d, b.as.d);
      break;
    case DN_T_DURATION: c = CMP3(a.as.dur.days, b.as.dur.days); break;
    case DN_T_STRING: c = strcmp(a.as.s, b.as.s); c = CMP3(c, 0); break;
    case DN_T_TONE: c = CMP3(a.as.tone, b.as.tone); break;
    default: break;
  }
  *out = relation(rel, c);
  return DN_OK;
}

static dn_status add_days(dn_vm *vm, uint32_t pc, dn_date d, int64_t days, bool business, dn_value *r) {
  r->type = DN_T_DATE;
  if (business) {
    if (days < INT32_MIN || days > INT32_MAX) return fail(vm, pc, "date arithmetic overflows");
    r->as.d = dn_calendar_add_business_days(vm->env.calendar, d, (int)days);
    /* business days are counted within years 1 to 9999 (calendar.h) */
    if (r->as.d == DN_DATE_NONE) return fail(vm, pc, "date arithmetic overflows");
    return DN_OK;
  }
  int64_t x = (int64_t)d + days;
  if (x <= INT32_MIN || x > INT32_MAX) return fail(vm, pc, "date arithmetic overflows");
  r->as.d = (dn_date)x;
  return DN_OK;
}

static dn_status dur_result(dn_vm *vm, uint32_t pc, int64_t days, bool business, dn_value *r) {
  if (days < INT32_MIN || days > INT32_MAX) return fail(vm, pc, "duration overflows");
  r->type = DN_T_DURATION;
  r->as.dur.days = (int32_t)days;
  r->as.dur.business = business;
  return DN_OK;
}

static dn_status add_durations(dn_vm *vm, uint32_t pc, dn_value a, dn_value b, int sign, dn_value *r) {
  if (a.as.dur.business != b.as.dur.business)
    return fail(vm, pc, "cannot combine business days with calendar days");
  return dur_result(vm, pc, (int64_t)a.as.dur.days + sign * (int64_t)b.as.dur.days, a.as.dur.business, r);
}

static dn_status number_result(dn_vm *vm, uint32_t pc, double x, dn_value *r) {
  if (!isfinite(x)) return fail(vm, pc, "number overflows");
  r->type = DN_T_NUMBER;
  r->as.n = x;
  return DN_OK;
}

static dn_status money_div_number(dn_vm *vm, uint32_t pc, dn_money m, double x, dn_value *r) {
  if (x == 0) return fail(vm, pc, "division by zero");
  double q = nearbyint((double)m.minor / x); /* default rounding: half to even */
  if (!isfinite(q) || q >= 9223372036854775808.0 || q < -9223372036854775808.0)
    return fail(vm, pc, "money amount overflows");
  r->type = DN_T_MONEY;
  r->as.m.minor = (int64_t)q;
  r->as.m.cur = m.cur;
  return DN_OK;
}

static dn_status arith(dn_vm *vm, uint32_t pc, uint8_t variant, dn_value a, dn_value b, dn_value *r) {
  dn_status st;
  int64_t i;
  switch ((dn_arith_id)variant) {
    case DN_AR_ADD_INT: case DN_AR_SUB_INT: case DN_AR_MUL_INT: {
      bool ovf = variant == DN_AR_ADD_INT ? __builtin_add_overflow(a.as.i, b.as.i, &i)
               : variant == DN_AR_SUB_INT ? __builtin_sub_overflow(a.as.i, b.as.i, &i)
                                          : __builtin_mul_overflow(a.as.i, b.as.i, &i);
      if (ovf) return fail(vm, pc, "integer overflow");
      r->type = DN_T_INT;
      r->as.i = i;
      return DN_OK;
    }
    case DN_AR_ADD_NUMBER: return number_result(vm, pc, a.as.n + b.as.n, r);
    case DN_AR_SUB_NUMBER: return number_result(vm, pc, a.as.n - b.as.n, r);
    case DN_AR_MUL_NUMBER: return number_result(vm, pc, a.as.n * b.as.n, r);
    case DN_AR_DIV_NUMBER:
      if (b.as.n == 0) return fail(vm, pc, "division by zero");
      return number_result(vm, pc, a.as.n / b.as.n, r);
    case DN_AR_DIV_INT:
      if (b.as.i == 0) return fail(vm, pc, "division by zero");
      return number_result(vm, pc, (double)a.as.i / (double)b.as.i, r);
    case DN_AR_ADD_MONEY: case DN_AR_SUB_MONEY:
      if ((st = align(vm, pc, &a.as.m, &b.as.m)) != DN_OK) return st;
      if (variant == DN_AR_ADD_MONEY ? __builtin_add_overflow(a.as.m.minor, b.as.m.minor, &i)
                                     : __builtin_sub_overflow(a.as.m.minor, b.as.m.minor, &i))
        return fail(vm, pc, "money amount overflows");
      r->type = DN_T_MONEY;
      r->as.m.minor = i;
      r->as.m.cur = a.as.m.cur;
      return DN_OK;
    case DN_AR_MUL_MONEY_NUMBER: case DN_AR_MUL_NUMBER_MONEY: {
      dn_money m = variant == DN_AR_MUL_MONEY_NUMBER ? a.as.m : b.as.m;
      double x = variant == DN_AR_MUL_MONEY_NUMBER ? b.as.n : a.as.n;
      if (!dn_money_mul_number(m.minor, x, &i)) return fail(vm, pc, "money amount overflows");
      r->type = DN_T_MONEY;
      r->as.m.minor = i;
      r->as.m.cur = m.cur;
      return DN_OK;
    }
    case DN_AR_DIV_MONEY:
      if ((st = align(vm, pc, &a.as.m, &b.as.m)) != DN_OK) return st;
      if (b.as.m.minor == 0) return fail(vm, pc, "division by zero");
      return number_result(vm, pc, dn_money_ratio(a.as.m.minor, b.as.m.minor), r);
    case DN_AR_DIV_MONEY_NUMBER: return money_div_number(vm, pc, a.as.m, b.as.n, r);
    case DN_AR_ADD_DATE_DUR: return add_days(vm, pc, a.as.d, b.as.dur.days, b.as.dur.business, r);
    case DN_AR_ADD_DUR_DATE: return add_days(vm, pc, b.as.d, a.as.dur.days, a.as.dur.business, r);
    case DN_AR_SUB_DATE_DUR: return add_days(vm, pc, a.as.d, -(int64_t)b.as.dur.days, b.as.dur.business, r);
    case DN_AR_SUB_DATE:
      return dur_result(vm, pc, (int64_t)a.as.d - b.as.d, false, r);
    case DN_AR_ADD_DUR: return add_durations(vm, pc, a, b, 1, r);
    case DN_AR_SUB_DUR: return add_durations(vm, pc, a, b, -1, r);
    case DN_AR_MUL_DUR_INT: {
      int64_t d;
      if (__builtin_mul_overflow((int64_t)a.as.dur.days, b.as.i, &d)) return fail(vm, pc, "duration overflows");
      return dur_result(vm, pc, d, a.as.dur.business, r);
    }
    default: return fail(vm, pc, "unknown arithmetic");
  }
}

static dn_status negate(dn_vm *vm, uint32_t pc, dn_value *v) {
  switch (v->type) {
    case DN_T_INT:
      if (v->as.i == INT64_MIN) return fail(vm, pc, "integer overflow");
      v->as.i = -v->as.i;
      break;
    case DN_T_NUMBER: v->as.n = -v->as.n; break;
    case DN_T_MONEY:
      if (v->as.m.minor == INT64_MIN) return fail(vm, pc, "money amount overflows");
      v->as.m.minor = -v->as.m.minor;
      break;
    default:
      if (v->as.dur.days == INT32_MIN) return fail(vm, pc, "duration overflows");
      v->as.dur.days = -v->as.dur.days;
      break;
  }
  return DN_OK;
}

/* --- builtins --- */

/* Whole units of the money's currency: floor (-1), half even (0), ceil (1). */
static dn_status money_whole(dn_vm *vm, uint32_t pc, dn_money m, int mode, dn_value *r) {
  int digits = dn_currency_digits(m.cur);
  int64_t unit = 1;
  for (int i = 0; i < digits; i++) unit *= 10;
  int64_t q = m.minor / unit, rem = m.minor % unit;
  if (rem != 0) {
    if (mode < 0) q -= rem < 0;
    else if (mode > 0) q += rem > 0;
    else {
      int64_t twice = 2 * (rem < 0 ? -rem : rem);
      if (twice > unit || (twice == unit && q % 2 != 0)) q += rem < 0 ? -1 : 1;
    }
  }
  int64_t out;
  if (__builtin_mul_overflow(q, unit, &out)) return fail(vm, pc, "money amount overflows");
  r->type = DN_T_MONEY;
  r->as.m.minor = out;
  r->as.m.cur = m.cur;
  return DN_OK;
}

static dn_status to_int(dn_vm *vm, uint32_t pc, double x, dn_value *r) {
  if (!isfinite(x) || x >= 9223372036854775808.0 || x < -9223372036854775808.0)
    return fail(vm, pc, "number too large for an integer");
  r->type = DN_T_INT;
  r->as.i = (int64_t)x;
  return DN_OK;
}

static const char *ascii_case(dn_vm *vm, const char *s, bool upper) {
  char *d = dn_arena_strdup(&vm->scratch, s);
  if (!d) return NULL;
  for (char *q = d; *q; q++) {
    if (upper && *q >= 'a' && *q <= 'z') *q = (char)(*q - 'a' + 'A');
    if (!upper && *q >= 'A' && *q <= 'Z') *q = (char)(*q - 'A' + 'a');
  }
  return d;
}

/* min/max of two present values (call_missing handles a missing one). */
static dn_status min_max(dn_vm *vm, uint32_t pc, int id, dn_value a, dn_value b, dn_value *r) {
  bool want_max = id >= DN_B_MAX_INT && id <= DN_B_MAX_DATE;
  int c = 0;
  switch (a.type) {
    case DN_T_INT: c = CMP3(a.as.i, b.as.i); break;
    case DN_T_NUMBER: c = CMP3(a.as.n, b.as.n); break;
    case DN_T_MONEY: {
      dn_status st = align(vm, pc, &a.as.m, &b.as.m);
      if (st != DN_OK) return st;
      c = CMP3(a.as.m.minor, b.as.m.minor);
      break;
    }
    default:
      c = CMP3(a.as.d, b.as.d);
      break;
  }
  *r = (want_max ? c >= 0 : c <= 0) ? a : b;
  return DN_OK;
}

static dn_status call_builtin(dn_vm *vm, uint32_t pc, int id, dn_value *args, dn_value *r) {
  dn_value a = args[0], b = args[1];
  switch ((dn_builtin_id)id) {
    case DN_B_MIN_INT: case DN_B_MIN_NUMBER: case DN_B_MIN_MONEY: case DN_B_MIN_DATE:
    case DN_B_MAX_INT: case DN_B_MAX_NUMBER: case DN_B_MAX_MONEY: case DN_B_MAX_DATE:
      return min_max(vm, pc, id, a, b, r);
    case DN_B_ABS_INT: case DN_B_ABS_MONEY: case DN_B_ABS_NUMBER:
      *r = a;
      if ((a.type == DN_T_INT && a.as.i < 0) || (a.type == DN_T_MONEY && a.as.m.minor < 0) ||
          (a.type == DN_T_NUMBER && a.as.n < 0))
        return negate(vm, pc, r);
      return DN_OK;
    case DN_B_ROUND_NUMBER: return to_int(vm, pc, nearbyint(a.as.n), r);
    case DN_B_FLOOR_NUMBER: return to_int(vm, pc, floor(a.as.n), r);
    case DN_B_CEIL_NUMBER: return to_int(vm, pc, ceil(a.as.n), r);
    case DN_B_ROUND_MONEY: case DN_B_FLOOR_MONEY: case DN_B_CEIL_MONEY:
      return money_whole(vm, pc, a.as.m, id == DN_B_ROUND_MONEY ? 0 : id == DN_B_FLOOR_MONEY ? -1 : 1, r);
    case DN_B_DAYS_BETWEEN: case DN_B_BUSINESS_DAYS_BETWEEN:
      r->type = DN_T_INT;
      r->as.i = id == DN_B_DAYS_BETWEEN ? (int64_t)b.as.d - a.as.d
                                        : dn_calendar_business_days_between(vm->env.calendar, a.as.d, b.as.d);
      return DN_OK;
    case DN_B_IS_BUSINESS_DAY:
      r->type = DN_T_BOOL;
      r->as.b = dn_calendar_is_business_day(vm->env.calendar, a.as.d);
      return DN_OK;
    case DN_B_TODAY: r->type = DN_T_DATE; r->as.d = vm->env.as_of; return DN_OK;
    case DN_B_LOWER: case DN_B_UPPER:
      r->type = DN_T_STRING;
      r->as.s = ascii_case(vm, a.as.s, id == DN_B_UPPER);
      return r->as.s ? DN_OK : fail(vm, pc, "out of memory");
    case DN_B_CONTAINS: r->type = DN_T_BOOL; r->as.b = strstr(a.as.s, b.as.s) != NULL; return DN_OK;
    case DN_B_STARTS_WITH:
      r->type = DN_T_BOOL;
      r->as.b = strncmp(a.as.s, b.as.s, strlen(b.as.s)) == 0;
      return DN_OK;
    case DN_B_COALESCE_DATE: *r = a; return DN_OK; /* a missing a never gets here */
    case DN_B_COALESCE_STRING: *r = a.as.s[0] ? a : b; return DN_OK;
    case DN_B_COALESCE_MONEY: *r = a; return DN_OK; /* a missing a never gets here */
    default: return fail(vm, pc, "unknown builtin");
  }
}

/* --- extern functions through libffi --- */

static ffi_type *ffi_of(dn_type t) {
  switch (t) {
    case DN_T_BOOL: return &ffi_type_sint;
    case DN_T_INT: case DN_T_MONEY: return &ffi_type_sint64;
    case DN_T_NUMBER: return &ffi_type_double;
    case DN_T_DATE: return &ffi_type_sint32;
    default: return &ffi_type_pointer;
  }
}

typedef union ffi_slot { int i; int64_t i64; int32_t i32; double d; const char *s; ffi_arg ret; } ffi_slot;

static void to_slot(const dn_value *v, ffi_slot *s) {
  switch (v->type) {
    case DN_T_BOOL: s->i = v->as.b; break;
    case DN_T_INT: s->i64 = v->as.i; break;
    case DN_T_MONEY: s->i64 = v->as.m.minor; break;
    case DN_T_NUMBER: s->d = v->as.n; break;
    case DN_T_DATE: s->i32 = v->as.d; break;
    default: s->s = v->as.s; break;
  }
}

static dn_status call_extern(dn_vm *vm, uint32_t pc, uint32_t idx, dn_value *args, dn_value *r) {
  const dn_program *p = vm->env.program;
  const dn_extern_def *x = &p->externs[idx];
  const char *name = p->strings[x->name];
  void *fn = vm->env.extern_fns ? vm->env.extern_fns[idx] : NULL;
  if (!fn) return fail(vm, pc, "extern fn %s is not loaded", name);
  ffi_type *types[8];
  ffi_slot slots[8];
  void *ptrs[8];
  for (int i = 0; i < x->nparams; i++) {
    if (args[i].missing) return fail(vm, pc, "extern fn %s called with a missing value (use coalesce)", name);
    types[i] = ffi_of(x->params[i]);
    to_slot(&args[i], &slots[i]);
    ptrs[i] = &slots[i];
  }
  ffi_cif cif;
  if (ffi_prep_cif(&cif, FFI_DEFAULT_ABI, (unsigned)x->nparams, ffi_of(x->ret), types) != FFI_OK)
    return fail(vm, pc, "cannot call extern fn %s", name);
  union { ffi_arg a; int64_t i64; double d; const char *s; } ret;
  memset(&ret, 0, sizeof ret);
  ffi_call(&cif, FFI_FN(fn), &ret, ptrs);
  r->type = x->ret;
  switch (x->ret) {
    case DN_T_BOOL: r->as.b = (int)ret.a != 0; break;
    case DN_T_INT: r->as.i = ret.i64; break;
    case DN_T_MONEY: r->as.m.minor = ret.i64; r->as.m.cur = p->currency; break;
    case DN_T_DATE: r->as.d = (int32_t)ret.a; break;
    case DN_T_NUMBER:
      if (!isfinite(ret.d)) return fail(vm, pc, "extern fn %s returned a non-finite number", name);
      r->as.n = ret.d;
      break;
    default:
      r->as.s = dn_arena_strdup(&vm->scratch, ret.s ? ret.s : "");
      if (!r->as.s) return fail(vm, pc, "out of memory");
      break;
  }
  return DN_OK;
}

/* --- the interpreter loop --- */

/* Result types of arith.def, for a missing operand's missing result. */
static const dn_type arith_result[] = {
#define DN_ARITH(name, op, lhs, rhs, res) DN_T_##res,
#include "lang/arith.def"
#undef DN_ARITH
};

static const dn_type builtin_result[] = {
#define DN_BUILTIN(id, name, ret, nargs, a1, a2, doc) DN_T_##ret,
#include "stdlib/builtins.def"
#undef DN_BUILTIN
};

/* A built-in meeting a missing argument: coalesce takes the other one,
 * min and max ignore it, is_business_day is false, and every other
 * result is missing too. False when no argument is missing. */
static bool call_missing(int id, const dn_value *args, int n, dn_value *r) {
  bool any = false;
  for (int i = 0; i < n; i++) any |= args[i].missing;
  if (!any) return false;
  switch ((dn_builtin_id)id) {
    case DN_B_COALESCE_DATE: case DN_B_COALESCE_STRING: case DN_B_COALESCE_MONEY:
    case DN_B_MIN_INT: case DN_B_MIN_NUMBER: case DN_B_MIN_MONEY: case DN_B_MIN_DATE:
    case DN_B_MAX_INT: case DN_B_MAX_NUMBER: case DN_B_MAX_MONEY: case DN_B_MAX_DATE:
      *r = args[0].missing ? args[1] : args[0];
      return true;
    case DN_B_IS_BUSINESS_DAY:
      r->type = DN_T_BOOL;
      r->missing = false;
      r->as.b = false;
      return true;
    default:
      r->type = builtin_result[id];
      r->missing = true;
      return true;
  }
}

static dn_value const_value(const dn_program *p, uint32_t k) {
  const dn_const *c = &p->consts[k];
  dn_value v;
  v.type = c->type;
  v.missing = false;
  switch (c->type) {
    case DN_T_BOOL: v.as.b = c->as.b; break;
    case DN_T_INT: v.as.i = c->as.i; break;
    case DN_T_NUMBER: v.as.n = c->as.n; break;
    case DN_T_MONEY: v.as.m = c->as.m; break;
    case DN_T_DATE: v.as.d = c->as.d; break;
    case DN_T_DURATION: v.as.dur.days = c->as.dur.days; v.as.dur.business = c->as.dur.business; break;
    default: v.as.s = p->strings[c->as.str]; break;
  }
  return v;
}

/* Out of line: with a native library the loop is not entered, and its
 * register saves should not be paid on the way to the compiled code. */
static __attribute__((noinline)) dn_status run(dn_vm *vm, uint32_t ci, int32_t inv, dn_value *base,
                                               dn_value *out);

/* A chunk by its compiled function when the program has a native
 * library, else by the loop. */
static dn_status eval_at(dn_vm *vm, uint32_t ci, int32_t inv, dn_value *base, dn_value *out) {
  const dn_native *n = vm->env.native;
  if (!n) return run(vm, ci, inv, base, out);
  const dn_invoice_facts *in = invoice_of(vm, inv);
  return n->chunks[ci](&vm->frame, in, inv, base, out);
}

static dn_status eval_let(dn_vm *vm, uint32_t idx, int32_t inv, dn_value *base, dn_value *out) {
  const dn_program *p = vm->env.program;
  memo *m = &vm->lets[idx];
  const dn_chunk *ch = &p->chunks[p->lets[idx].chunk];
  int32_t key = ch->scope == DN_SCOPE_INVOICE ? inv : -1;
  if (m->gen == vm->gen && m->invoice == key) { *out = m->v; return DN_OK; }
  dn_status st = eval_at(vm, (uint32_t)p->lets[idx].chunk, inv, base, out);
  if (st != DN_OK) return st;
  m->gen = vm->gen;
  m->invoice = key;
  m->v = *out;
  return DN_OK;
}

/* The rarer instructions, out of line so the loop below stays small
 * enough for the compiler to keep ip and sp in registers. Each returns
 * the new stack top, or NULL with vm->status set. */
static __attribute__((noinline)) dn_value *op_arith(dn_vm *vm, const uint8_t *ip, uint32_t pc,
                                                    dn_value *sp) {
  if (sp[-2].missing || sp[-1].missing) {
    sp[-2].type = arith_result[ip[1]];
    sp[-2].missing = true;
  } else {
    if ((vm->status = arith(vm, pc, ip[1], sp[-2], sp[-1], &sp[-2])) != DN_OK) return NULL;
    sp[-2].missing = false;
  }
  return sp - 1;
}

static __attribute__((noinline)) dn_value *op_in(dn_vm *vm, const uint8_t *ip, uint32_t pc,
                                                 dn_value *sp) {
  int n = ip[1];
  dn_value *needle = sp - n - 1;
  bool found = false;
  for (int i = 0; i < n && !found && !needle->missing; i++)
    if (!needle[1 + i].missing &&
        (vm->status = compare(vm, pc, DN_OP_EQ, (dn_type)ip[2], *needle, needle[1 + i], &found)) != DN_OK)
      return NULL;
  needle->type = DN_T_BOOL;
  needle->missing = false;
  needle->as.b = found;
  return needle + 1;
}

static __attribute__((noinline)) dn_value *op_call(dn_vm *vm, const uint8_t *ip, uint32_t pc,
                                                   dn_value *sp) {
  int n = 0;
  switch ((dn_builtin_id)ip[1]) {
#define DN_BUILTIN(id, name, ret, nargs, a1, a2, doc) case DN_B_##id: n = nargs; break;
#include "stdlib/builtins.def"
#undef DN_BUILTIN
    default: break;
  }
  dn_value args[2];
  memset(args, 0, sizeof args);
  for (int i = 0; i < n; i++) args[i] = sp[i - n];
  sp -= n;
  if (!call_missing(ip[1], args, n, sp)) {
    if ((vm->status = call_builtin(vm, pc, ip[1], args, sp)) != DN_OK) return NULL;
    sp->missing = false;
  }
  return sp + 1;
}

static __attribute__((noinline)) dn_value *op_extern(dn_vm *vm, const uint8_t *ip, uint32_t pc,
                                                     dn_value *sp) {
  uint32_t x = U16(ip);
  sp -= vm->env.program->externs[x].nparams;
  if ((vm->status = call_extern(vm, pc, x, sp, sp)) != DN_OK) return NULL;
  sp->missing = false;
  return sp + 1;
}

/* A comparison of two present values: the common types inline, the rest
 * (money in two currencies, strings, durations) through compare(). */
static inline dn_status op_cmp(dn_vm *vm, const uint8_t *ip, uint32_t pc, dn_value *a,
                               const dn_value *b) {
  bool r = false;
  if (!a->missing && !b->missing) {
    int rel = ip[1];
    switch ((dn_type)ip[2]) {
      case DN_T_INT: r = relation(rel, CMP3(a->as.i, b->as.i)); break;
      case DN_T_NUMBER: r = relation(rel, CMP3(a->as.n, b->as.n)); break;
      case DN_T_BOOL: r = relation(rel, CMP3(a->as.b, b->as.b)); break;
      case DN_T_MONEY:
        if (a->as.m.cur == b->as.m.cur) {
          r = relation(rel, CMP3(a->as.m.minor, b->as.m.minor));
          break;
        }
        /* fall through */
      default: {
        dn_status st = compare(vm, pc, rel, (dn_type)ip[2], *a, *b, &r);
        if (st != DN_OK) return st;
      }
    }
  }
  a->type = DN_T_BOOL;
  a->missing = false;
  a->as.b = r;
  return DN_OK;
}

static __attribute__((noinline)) dn_status run(dn_vm *vm, uint32_t ci, int32_t inv, dn_value *base,
                                               dn_value *out) {
  const dn_program *p = vm->env.program;
  const uint8_t *code = p->code + p->chunks[ci].start, *ip = code;
  const dn_invoice_facts *in = invoice_of(vm, inv);
  dn_value *sp = base; /* next free slot */
  dn_status st;
#define PC ((uint32_t)(ip - p->code))
#define OUT_OF_LINE(fn, len) \
  do { if (!(sp = fn(vm, ip, PC, sp))) return vm->status; ip += (len); } while (0)
  for (;;) {
    switch ((dn_opcode)*ip) {
      case DN_OPC_CONST: *sp++ = vm->consts[U16(ip)]; ip += 3; break;
      case DN_OPC_TRUE: case DN_OPC_FALSE:
        sp->type = DN_T_BOOL;
        sp->missing = false;
        sp->as.b = *ip == DN_OPC_TRUE;
        sp++; ip += 1;
        break;
      case DN_OPC_FIELD:
        load_field(vm, ip[1], in, sp);
        sp++; ip += 2;
        break;
      case DN_OPC_ATTR:
        load_attr(vm, ip, sp);
        sp++; ip += 3;
        break;
      case DN_OPC_LET:
        if ((st = eval_let(vm, U16(ip), inv, sp, sp)) != DN_OK) return st;
        sp++; ip += 3;
        break;
      case DN_OPC_TONE: sp->type = DN_T_TONE; sp->missing = false; sp->as.tone = ip[1]; sp++; ip += 2; break;
      case DN_OPC_I2N: sp[-1].type = DN_T_NUMBER; sp[-1].as.n = (double)sp[-1].as.i; ip += 1; break;
      case DN_OPC_NOT: sp[-1].as.b = !sp[-1].as.b; ip += 1; break;
      case DN_OPC_NEG:
        if (!sp[-1].missing && (st = negate(vm, PC, &sp[-1])) != DN_OK) return st;
        ip += 2;
        break;
      case DN_OPC_ARITH: OUT_OF_LINE(op_arith, 2); break;
      case DN_OPC_CMP:
        if ((st = op_cmp(vm, ip, PC, &sp[-2], &sp[-1])) != DN_OK) return st;
        sp--; ip += 3;
        break;
      case DN_OPC_IN: OUT_OF_LINE(op_in, 3); break;
      case DN_OPC_CALL: OUT_OF_LINE(op_call, 2); break;
      case DN_OPC_EXTERN: OUT_OF_LINE(op_extern, 3); break;
      case DN_OPC_JUMP_IF_FALSE_KEEP: case DN_OPC_JUMP_IF_TRUE_KEEP:
        if (sp[-1].as.b == (*ip == DN_OPC_JUMP_IF_TRUE_KEEP)) ip = code + U16(ip);
        else { sp--; ip += 3; }
        break;
      case DN_OPC_RET: *out = sp[-1]; return DN_OK;
      default: return fail(vm, PC, "unknown opcode %u (was the program verified?)", *ip);
    }
  }
#undef OUT_OF_LINE
#undef PC
}

dn_status dn_vm_eval(dn_vm *vm, int32_t chunk, int32_t invoice, dn_value *out,
                     char *err, size_t errlen) {
  const dn_program *p = vm->env.program;
  vm->err = err; /* written by fail() only: a success leaves it as it was */
  vm->errlen = errlen;
  if (chunk < 0 || (uint32_t)chunk >= p->nchunks || !vm->c)
    return fail(vm, 0, "no chunk %d or no customer to evaluate it for", chunk);
  if (p->chunks[chunk].scope == DN_SCOPE_INVOICE && (invoice < 0 || invoice >= vm->c->ninvoices))
    return fail(vm, p->chunks[chunk].start, "an invoice expression evaluated without an invoice");
  return eval_at(vm, (uint32_t)chunk, invoice, vm->stack, out);
}

bool dn_vm_direct_entry(dn_vm *vm, dn_vm_direct *out) {
  if (!vm->env.native) return false;
  *out = (dn_vm_direct){.frame = &vm->frame, .stack = vm->stack, .chunks = vm->env.native->chunks};
  return true;
}

/* The compiled code's way back for what it does not inline: exactly the
 * loop's case for that instruction, on the stack the code wrote to base. */
dn_status dn_vm_native_op(dn_vm *vm, uint32_t pc, int32_t inv, dn_value *base, uint32_t depth) {
  const dn_program *p = vm->env.program;
  const uint8_t *ip = p->code + pc;
  const dn_invoice_facts *in = invoice_of(vm, inv);
  dn_value *sp = base + depth;
  switch ((dn_opcode)*ip) {
    case DN_OPC_FIELD: load_field(vm, ip[1], in, sp); return DN_OK;
    case DN_OPC_ATTR: load_attr(vm, ip, sp); return DN_OK;
    case DN_OPC_LET: return eval_let(vm, U16(ip), inv, sp, sp);
    case DN_OPC_NEG: return sp[-1].missing ? DN_OK : negate(vm, pc, &sp[-1]);
    case DN_OPC_CMP: return op_cmp(vm, ip, pc, &sp[-2], &sp[-1]);
    case DN_OPC_ARITH: return op_arith(vm, ip, pc, sp) ? DN_OK : vm->status;
    case DN_OPC_IN: return op_in(vm, ip, pc, sp) ? DN_OK : vm->status;
    case DN_OPC_CALL: return op_call(vm, ip, pc, sp) ? DN_OK : vm->status;
    case DN_OPC_EXTERN: return op_extern(vm, ip, pc, sp) ? DN_OK : vm->status;
    default: return fail(vm, pc, "opcode %u is not compiled out of line", *ip);
  }
}
