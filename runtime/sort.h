/* sort.h - a merge sort for the runtime's per-customer arrays.
 *
 * DN_DEFINE_SORT(NAME, T, CMP) defines NAME(arena, v, n), sorting v[0..n)
 * by CMP (qsort's convention: it gets the addresses of two elements): a
 * merge sort, insertion below 16, its buffer in the arena and the
 * comparison inlined. qsort's indirect calls cost more than the
 * comparisons for a customer's few dozen records. Every comparator used is
 * a total order, so the order is the one qsort gives; when the arena is
 * out of memory qsort does the work. Internal to the runtime. */
#ifndef DN_RUNTIME_SORT_H
#define DN_RUNTIME_SORT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lang/arena.h"

#define DN_DEFINE_SORT(NAME, T, CMP)                                             \
  static void NAME##_merge(T *v, T *tmp, int32_t n) {                           \
    if (n <= 16) {                                                               \
      for (int32_t i = 1; i < n; i++) {                                          \
        T t = v[i];                                                              \
        int32_t j = i;                                                           \
        for (; j > 0 && CMP(&v[j - 1], &t) > 0; j--) v[j] = v[j - 1];            \
        v[j] = t;                                                                \
      }                                                                          \
      return;                                                                    \
    }                                                                            \
    int32_t h = n / 2, i = 0, j = h, k = 0;                                      \
    NAME##_merge(v, tmp, h);                                                     \
    NAME##_merge(v + h, tmp, n - h);                                             \
    if (CMP(&v[h - 1], &v[h]) <= 0) return;                                      \
    memcpy(tmp, v, sizeof *v * (size_t)h);                                       \
    while (i < h && j < n) v[k++] = CMP(&tmp[i], &v[j]) <= 0 ? tmp[i++] : v[j++]; \
    while (i < h) v[k++] = tmp[i++];                                             \
  }                                                                              \
  static void NAME(dn_arena *a, T *v, int32_t n) {                               \
    T *tmp = n > 16 ? dn_arena_alloc(a, sizeof *v * (size_t)(n / 2)) : NULL;     \
    if (n > 16 && !tmp) {                                                        \
      qsort((void *)v, (size_t)n, sizeof *v, CMP);                               \
      return;                                                                    \
    }                                                                            \
    NAME##_merge(v, tmp, n);                                                     \
  }

#endif
