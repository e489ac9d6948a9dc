/* field_access.h - where each field of LANGUAGE.md s.4 lives in the facts
 * (runtime/facts.h): its kind of load and its offset, one table for the
 * VM's FIELD instruction and for the C the native compiler emits, so the
 * two read a fact the same way. */
#ifndef DN_FIELD_ACCESS_H
#define DN_FIELD_ACCESS_H

#include <stddef.h>

#include "lang/ast.h"
#include "lang/types.h"

/* The kinds a load can take; DN_FA_VM for the fields the VM works out (a
 * currency code, the policy's default zone, a tone rank). A date is
 * missing when DN_DATE_NONE, money (a dn_money) when its currency is
 * DN_CUR_NONE, a NULL string reads as "". DN_FA_PMONEY: an int64_t of
 * minor units in the policy currency, never missing (an invoice's
 * amounts: one without a rate is skipped before any expression). */
typedef enum dn_fa_kind {
  DN_FA_VM, DN_FA_BOOL, DN_FA_I32, DN_FA_F64, DN_FA_MONEY, DN_FA_PMONEY, DN_FA_DATE, DN_FA_STR
} dn_fa_kind;

typedef struct dn_field_access {
  dn_fa_kind kind;
  dn_scope scope;   /* INVOICE: at offset in dn_invoice_facts; else dn_customer_facts */
  dn_type type;
  size_t offset;
} dn_field_access;

/* Indexed by dn_field_id (lang/fields.def), DN_F_COUNT entries. */
extern const dn_field_access dn_field_table[];

#endif
