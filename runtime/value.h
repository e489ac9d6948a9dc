/* value.h - a runtime value of the expression VM.
 *
 * Tagged with a dn_type; strings are borrowed (constants, facts, or the
 * evaluation's scratch arena) and live as long as the customer being
 * evaluated. A missing date is also DN_DATE_NONE and a missing amount has
 * currency DN_CUR_NONE, so facts can say "none" without the flag. */
#ifndef DN_VALUE_H
#define DN_VALUE_H

#include <stdbool.h>
#include <stdint.h>

#include "lang/types.h"
#include "stdlib/date.h"
#include "stdlib/money.h"

typedef struct dn_value {
  dn_type type;
  /* No value: a missing date or credit limit, or anything computed from
   * one. Comparisons with it are false, arithmetic and most built-ins
   * carry it along, coalesce replaces it (SQL's NULL, minus the third
   * truth value: a condition that meets it is simply false). */
  bool missing;
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
