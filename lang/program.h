/* program.h - a compiled policy in memory.
 *
 * The compiler produces it from a checked AST; bcfile.c writes and reads
 * it; the verifier (runtime/verify.c) proves it safe; the VM evaluates its
 * expression chunks; the engine (runtime/engine.c) walks its tables to
 * carry out the run semantics of LANGUAGE.md s.5.
 *
 * The declarative parts of a policy (segments, ladders, steps, caps) are
 * tables, not code: the engine needs to reason about them (catch-up, caps,
 * explain) rather than merely execute them. Only expressions are bytecode.
 * Every reference between tables is an index that the verifier checks. */
#ifndef DN_PROGRAM_H
#define DN_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lang/ast.h"
#include "lang/types.h"
#include "stdlib/money.h"

typedef enum dn_opcode {
#define DN_OP(name, operands, pops, pushes, doc) DN_OPC_##name,
#include "lang/opcodes.def"
#undef DN_OP
  DN_OPC_COUNT
} dn_opcode;

typedef enum dn_arith_id {
#define DN_ARITH(name, op, lhs, rhs, res) DN_AR_##name,
#include "lang/arith.def"
#undef DN_ARITH
  DN_AR_COUNT
} dn_arith_id;

#define DN_NONE (-1) /* an absent index in any table below */

typedef struct dn_const {
  dn_type type; /* BOOL INT NUMBER MONEY DATE DURATION STRING */
  union {
    bool b;
    int64_t i;
    double n;
    dn_money m;
    dn_date d;
    struct { int32_t days; bool business; } dur;
    uint32_t str; /* index into strings */
  } as;
} dn_const;

/* An expression: a run of code ending in RET, and what it returns. */
typedef struct dn_chunk {
  uint32_t start, len;   /* in code[] */
  uint16_t max_stack;    /* computed by the compiler, checked by the verifier */
  dn_type result;
  dn_scope scope;        /* INVOICE when it reads invoice facts */
} dn_chunk;

/* pc -> source span, one entry per instruction that can fail at run time
 * or that explain wants to point at; sorted by pc. */
typedef struct dn_line {
  uint32_t pc;
  dn_span span;
} dn_line;

typedef struct dn_ladder {
  int32_t name;          /* string index */
  int32_t first_tone;    /* index into tone_names */
  int32_t ntones;
} dn_ladder;

typedef struct dn_segment_def {
  int32_t name;          /* string */
  int32_t cond;          /* chunk returning bool, or DN_NONE for otherwise */
  int32_t tone_shift;
  int32_t ladder;        /* index into ladders */
  int32_t assign;        /* string or DN_NONE */
} dn_segment_def;

typedef struct dn_action_def {
  dn_action_kind kind;
  int32_t tone_name;     /* string: tone name, resolved against the segment's
                            ladder at run time; DN_NONE = the step's tone */
  int32_t template_name; /* string or DN_NONE (default CHANNEL-TONE) */
  int32_t priority;      /* chunk returning NUMBER or MONEY, or DN_NONE */
  int32_t assign;        /* string or DN_NONE */
  int32_t text;          /* string (task text, escalate target) or DN_NONE */
} dn_action_def;

typedef struct dn_step_def {
  int32_t offset_days;   /* may be negative (before due) */
  bool business;         /* offset counts business days */
  int32_t guard;         /* chunk returning bool, or DN_NONE */
  int32_t first_action, nactions;  /* into actions */
  int32_t tone_name;     /* the step's tone: first tone named on the line, or DN_NONE */
} dn_step_def;

typedef struct dn_escalation_def {
  int32_t name;          /* string */
  int32_t first_segment, nsegments; /* into segment_refs (indices into segments) */
  int32_t unless_guard;  /* chunk or DN_NONE */
  int32_t first_step, nsteps;       /* into steps */
} dn_escalation_def;

typedef struct dn_event_def {
  dn_event_kind event;
  dn_scope scope;
  int32_t guard;         /* chunk or DN_NONE */
  int32_t first_action, nactions;
} dn_event_def;

typedef struct dn_rule_def {
  int32_t name;          /* string */
  dn_scope scope;
  int32_t cond;          /* chunk returning bool */
  int32_t first_action, nactions;
  int32_t once_per_days; /* 0 = fires on every run where it holds */
} dn_rule_def;

typedef struct dn_cap_def {
  int32_t count;
  int32_t days;
} dn_cap_def;

typedef struct dn_let_def {
  int32_t name;          /* string */
  int32_t chunk;
} dn_let_def;

typedef struct dn_extern_def {
  int32_t name, library; /* strings */
  int32_t nparams;
  dn_type params[8];
  dn_type ret;
} dn_extern_def;

typedef struct dn_program {
  /* header */
  char *name;
  int64_t version;
  uint64_t source_hash;  /* FNV-1a 64 of the source text: identifies the
                            policy revision in runs.policy_hash, not a MAC */
  /* settings */
  uint16_t currency;
  char *timezone;        /* default IANA zone */
  char *calendar;        /* "US", or a ledger calendar name, or NULL (weekends only) */
  int32_t window_start, window_end; /* minutes after midnight */
  int32_t promise_grace_days;
  /* pools */
  char **strings; uint32_t nstrings;
  dn_const *consts; uint32_t nconsts;
  uint8_t *code; uint32_t code_len;
  dn_chunk *chunks; uint32_t nchunks;
  dn_line *lines; uint32_t nlines;
  /* tables */
  char **tone_names; uint32_t ntone_names; /* all ladders' tones, ladder by ladder */
  dn_ladder *ladders; uint32_t nladders;   /* ladder 0 is the default ladder */
  dn_let_def *lets; uint32_t nlets;
  dn_segment_def *segments; uint32_t nsegments;
  int32_t *segment_refs; uint32_t nsegment_refs;
  dn_escalation_def *escalations; uint32_t nescalations;
  dn_step_def *steps; uint32_t nsteps;
  dn_action_def *actions; uint32_t nactions;
  dn_event_def *events; uint32_t nevents;
  dn_rule_def *rules; uint32_t nrules;
  dn_cap_def *caps; uint32_t ncaps;
  dn_extern_def *externs; uint32_t nexterns;
  /* optional: the source, kept so explain and runtime errors can quote it */
  char *source; uint32_t source_len;
  char *filename;
} dn_program;

void dn_program_free(dn_program *p);

/* A step's label as action records, history and tests write it: "15d",
 * "3bd", "-3d". Returns buf. */
const char *dn_step_label(const dn_step_def *s, char buf[16]);

/* Operand bytes after the opcode (0, 1, 2 or 3); -1 for an unknown opcode. */
int dn_opcode_operand_size(uint8_t op);
const char *dn_opcode_name(uint8_t op); /* "?" when unknown */
const char *dn_arith_name(uint8_t variant);

#endif
