/* types.h - the value types of the policy language (LANGUAGE.md s.4).
 *
 * Shared by the checker (static types), the bytecode (operand types the
 * verifier checks) and the VM (tags of runtime values). */
#ifndef DN_TYPES_H
#define DN_TYPES_H

#define DN_TYPE_LIST(X) \
  X(ERROR, "<error>")   /* checker only: already reported, suppress cascades */ \
  X(BOOL, "bool")       \
  X(INT, "int")         \
  X(NUMBER, "number")   \
  X(MONEY, "money")     \
  X(DATE, "date")       \
  X(DURATION, "duration") \
  X(STRING, "string")   \
  X(TONE, "tone")       \
  X(TIME, "time")       /* time of day, only in send_window */

typedef enum dn_type {
#define X(name, text) DN_T_##name,
  DN_TYPE_LIST(X)
#undef X
  DN_T_COUNT
} dn_type;

const char *dn_type_name(dn_type t);

#endif
