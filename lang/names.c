/* names.c - see names.h. */
#include "lang/names.h"

#include <stdlib.h>
#include <string.h>

static uint32_t hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

void dn_names_init(dn_names *m) { memset(m, 0, sizeof *m); }

void dn_names_free(dn_names *m) {
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof *m);
}

static uint32_t slot_of(const dn_names *m, const char *key) {
  uint32_t i = hash(key) & (m->cap - 1);
  while (m->keys[i] && strcmp(m->keys[i], key) != 0) i = (i + 1) & (m->cap - 1);
  return i;
}

static bool grow(dn_names *m) {
  uint32_t cap = m->cap ? m->cap * 2 : 64;
  dn_names bigger = {calloc(cap, sizeof *bigger.keys), calloc(cap, sizeof *bigger.vals), cap, 0};
  if (!bigger.keys || !bigger.vals) {
    dn_names_free(&bigger);
    return false;
  }
  for (uint32_t i = 0; i < m->cap; i++)
    if (m->keys[i]) {
      uint32_t s = slot_of(&bigger, m->keys[i]);
      bigger.keys[s] = m->keys[i];
      bigger.vals[s] = m->vals[i];
      bigger.count++;
    }
  dn_names_free(m);
  *m = bigger;
  return true;
}

bool dn_names_put(dn_names *m, const char *key, int32_t val) {
  if ((m->count + 1) * 2 > m->cap && !grow(m)) return false; /* keep it half empty */
  uint32_t s = slot_of(m, key);
  if (m->keys[s]) return true;
  m->keys[s] = key;
  m->vals[s] = val;
  m->count++;
  return true;
}

int32_t dn_names_get(const dn_names *m, const char *key) {
  if (!m->cap || !key) return -1;
  uint32_t s = slot_of(m, key);
  return m->keys[s] ? m->vals[s] : -1;
}
