/* value.h - a runtime value of the expression VM.
 *
 * Tagged with a dn_type; strings are borrowed (constants, facts, or the
 * evaluation's scratch arena) and live as long as the customer being
 * evaluated. A DATE may be DN_DATE_NONE (no value): every comparison with
 * it is false (LANGUAGE.md s.4). */
#ifndef DN_VALUE_H
#define DN_VALUE_H

#include <stdbool.h>
#include <stdint.h>

#include "lang/types.h"
#include "stdlib/date.h"
#include "stdlib/money.h"

typedef struct dn_value {
  dn_type type;
  union {
    bool b;
    int64_t i;
    double n;
    dn_money m;
    dn_date d;
    struct { int32_t days; bool business; } dur;
    const char *s;
    int32_t tone; /* rank on the customer's ladder, 0 = gentlest */
  } as;
} dn_value;

#endif
