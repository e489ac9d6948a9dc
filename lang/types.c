/* types.c - names of the value types, from the one list in types.h. */
#include "lang/types.h"

static const char *const dn_type_names[DN_T_COUNT] = {
#define X(name, text) [DN_T_##name] = text,
    DN_TYPE_LIST(X)
#undef X
};

const char *dn_type_name(dn_type t) {
  if ((unsigned)t >= DN_T_COUNT) return "<invalid>";
  return dn_type_names[t];
}
