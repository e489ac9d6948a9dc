/* names.h - a string -> index map for declaration names and pooled
 * strings.
 *
 * The checker and compiler look names up once per reference; with a
 * linear scan a 10,000-line policy spent most of `dunlin check` in strcmp.
 * Open addressing over borrowed keys (the AST's or the pool's strings,
 * which outlive the map); the first value put for a key wins, matching
 * "the first declaration is the one" everywhere else. */
#ifndef DN_NAMES_H
#define DN_NAMES_H

#include <stdbool.h>
#include <stdint.h>

typedef struct dn_names {
  const char **keys;
  int32_t *vals;
  uint32_t cap, count;
} dn_names;

void dn_names_init(dn_names *m);
void dn_names_free(dn_names *m);
/* Adds key -> val unless key is present; false on out of memory. */
bool dn_names_put(dn_names *m, const char *key, int32_t val);
/* The value for key, or -1. */
int32_t dn_names_get(const dn_names *m, const char *key);

#endif
