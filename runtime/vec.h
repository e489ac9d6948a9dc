/* vec.h - growable arrays for the per-customer working sets of the engine
 * (engine.c) and the facts reader (facts.c).
 *
 * Why not plain realloc at each use: a run reads and evaluates one customer
 * after another, and these arrays are reset to n = 0 between customers but
 * keep their items and capacity, so once the largest customer so far has
 * been seen the per-customer path does not allocate. Growth doubles from 16
 * and fails with false/NULL (never aborts), so callers turn OOM into a
 * dn_status. Internal to the runtime: not part of any public contract. */
#ifndef DN_RUNTIME_VEC_H
#define DN_RUNTIME_VEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* An anonymous growable array of T: items[0..n), room for cap. */
#define VEC(T) struct { T *items; int32_t n, cap; }

/* Makes room for at least `need` elements of size elem in *items. */
static inline bool vec_grow(void **items, int32_t *cap, int32_t need, size_t elem) {
  if (need <= *cap) return true;
  int32_t nc = *cap ? *cap : 16;
  while (nc < need) nc *= 2;
  void *p = realloc(*items, (size_t)nc * elem);
  if (!p) return false;
  *items = p;
  *cap = nc;
  return true;
}

/* vec_grow for arrays that live long and grow a little at a time (a
 * replay's per-customer history, kept for a year): by a quarter, not
 * double, so the unused tail is at most a fifth of the array, not half. */
static inline bool vec_grow_slow(void **items, int32_t *cap, int32_t need, size_t elem) {
  if (need <= *cap) return true;
  int32_t nc = *cap < 16 ? 16 : *cap + *cap / 4;
  if (nc < need) nc = need;
  void *p = realloc(*items, (size_t)nc * elem);
  if (!p) return false;
  *items = p;
  *cap = nc;
  return true;
}

/* Pushes one zeroed slot; NULL on OOM. */
#define VEC_PUSH(v) \
  (vec_grow((void **)&(v).items, &(v).cap, (v).n + 1, sizeof *(v).items) \
       ? memset(&(v).items[(v).n++], 0, sizeof *(v).items) : NULL)

#endif
