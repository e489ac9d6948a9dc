/* sort.h - a merge sort for the runtime's per-customer arrays.
 *
 * DN_DEFINE_SORT(NAME, T, CMP) defines NAME(arena, v, n), sorting v[0..n)
 * by CMP (qsort's convention: it gets the addresses of two elements): a
 * merge sort, insertion below 16, its buffer in the arena and the
 * comparison inlined. qsort's indirect calls cost more than the
 * comparisons for a customer's few dozen records. Every comparator used is
 * a total order, so the order is the one qsort gives; when the arena is
 * out of memory qsort does the work. DN_DEFINE_SORT_CTX is the same sort
 * for a comparator that needs a context (the history's parts compare
 * their names through a table). Internal to the runtime. */
#ifndef DN_RUNTIME_SORT_H
#define DN_RUNTIME_SORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lang/arena.h"

/* DN_DEFINE_SORT_CTX(NAME, T, C, CMP): the same, CMP(ctx, a, b) given a
 * context of type C; NAME(arena, ctx, v, n) is false when the arena is
 * out of memory (no qsort takes a context portably). */
#define DN_DEFINE_SORT_CTX(NAME, T, C, CMP)                                      \
  static void NAME##_merge(C ctx, T *v, T *tmp, int32_t n) {                    \
    if (n <= 16) {                                                               \
      for (int32_t i = 1; i < n; i++) {                                          \
        T t = v[i];                                                              \
        int32_t j = i;                                                           \
        for (; j > 0 && CMP(ctx, &v[j - 1], &t) > 0; j--) v[j] = v[j - 1];       \
        v[j] = t;                                                                \
      }                                                                          \
      return;                                                                    \
    }                                                                            \
    int32_t h = n / 2, i = 0, j = h, k = 0;                                      \
    NAME##_merge(ctx, v, tmp, h);                                                \
    NAME##_merge(ctx, v + h, tmp, n - h);                                        \
    if (CMP(ctx, &v[h - 1], &v[h]) <= 0) return;                                 \
    memcpy(tmp, v, sizeof *v * (size_t)h);                                       \
    while (i < h && j < n) v[k++] = CMP(ctx, &tmp[i], &v[j]) <= 0 ? tmp[i++] : v[j++]; \
    while (i < h) v[k++] = tmp[i++];                                             \
  }                                                                              \
  static bool NAME(dn_arena *a, C ctx, T *v, int32_t n) {                        \
    T *tmp = n > 16 ? dn_arena_alloc(a, sizeof *v * (size_t)(n / 2)) : NULL;     \
    if (n > 16 && !tmp) return false;                                            \
    NAME##_merge(ctx, v, tmp, n);                                                \
    return true;                                                                 \
  }

#define DN_DEFINE_SORT(NAME, T, CMP)                                             \
  static int NAME##_by(int ctx, const void *a, const void *b) { return (void)ctx, CMP(a, b); } \
  DN_DEFINE_SORT_CTX(NAME##_ctx, T, int, NAME##_by)                              \
  static void NAME(dn_arena *a, T *v, int32_t n) {                               \
    if (!NAME##_ctx(a, 0, v, n)) qsort((void *)v, (size_t)n, sizeof *v, CMP);    \
  }

#endif
