/* arena.c - bump allocator (see arena.h for why). */
#include "lang/arena.h"

#include <stdlib.h>
#include <string.h>

struct dn_arena_block {
  dn_arena_block *next;
  size_t used, size;
  _Alignas(16) unsigned char data[];
};

enum { DN_ARENA_BLOCK = 64 * 1024, DN_ARENA_SMALL = 512 };

void dn_arena_init(dn_arena *a) {
  a->head = NULL;
  a->next_block = 0;
}

void dn_arena_init_small(dn_arena *a) {
  a->head = NULL;
  a->next_block = DN_ARENA_SMALL;
}

/* The size of the block to add for an allocation of size bytes. */
static size_t block_size(dn_arena *a, size_t size) {
  size_t std = a->next_block ? a->next_block : DN_ARENA_BLOCK;
  if (a->next_block && a->next_block < DN_ARENA_BLOCK) a->next_block *= 2;
  return size > std ? size : std;
}

void dn_arena_free(dn_arena *a) {
  dn_arena_block *b = a->head;
  while (b) {
    dn_arena_block *next = b->next;
    free(b);
    b = next;
  }
  a->head = NULL;
}

void dn_arena_reset(dn_arena *a) {
  dn_arena_block *keep = a->head;
  if (!keep) return;
  /* keep the newest block only if it is a standard one; an oversized
   * block from one large customer is not worth holding on to */
  if (keep->size != DN_ARENA_BLOCK) {
    dn_arena_free(a);
    return;
  }
  dn_arena_block *b = keep->next;
  while (b) {
    dn_arena_block *next = b->next;
    free(b);
    b = next;
  }
  keep->next = NULL;
  keep->used = 0;
}

/* size bytes from the head block (a new one when it has no room),
 * starting at a multiple of align (1 or 16). */
static void *bump(dn_arena *a, size_t size, size_t align) {
  dn_arena_block *b = a->head;
  size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;
  if (!b || at > b->size || b->size - at < size) {
    size_t cap = block_size(a, size);
    b = malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->next = a->head;
    b->used = 0;
    b->size = cap;
    a->head = b;
    at = 0;
  }
  b->used = at + size;
  return b->data + at;
}

void *dn_arena_alloc(dn_arena *a, size_t size) {
  void *p = bump(a, size, 16);
  if (p) memset(p, 0, size);
  return p;
}

/* Text needs no alignment: packed, a store of millions of short strings
 * (32-byte keys took 48) is a fifth smaller and denser in the cache. */
char *dn_arena_strndup(dn_arena *a, const char *s, size_t n) {
  char *p = bump(a, n + 1, 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *dn_arena_strdup(dn_arena *a, const char *s) { return dn_arena_strndup(a, s, strlen(s)); }
