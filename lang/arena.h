/* arena.h - bump allocation for everything that lives as long as a parse.
 *
 * The AST, its strings and the checker's annotations are freed together,
 * so one arena replaces thousands of free() calls and makes error paths
 * in the parser leak-free by construction. */
#ifndef DN_ARENA_H
#define DN_ARENA_H

#include <stddef.h>

typedef struct dn_arena_block dn_arena_block;
typedef struct dn_arena {
  dn_arena_block *head;
  /* The size of the next block; 0: the standard 64 KiB. A small arena
   * (dn_arena_init_small) starts small and doubles up to the standard. */
  size_t next_block;
} dn_arena;

void dn_arena_init(dn_arena *a);
/* An arena for one of many small owners that live long (simulate keeps a
 * parsed history per customer): 64 KiB each would spread 100k customers'
 * few KiB over 6 GiB of address space and a page or two of RSS each. */
void dn_arena_init_small(dn_arena *a);
void dn_arena_free(dn_arena *a);
/* Forgets every allocation but keeps one block for reuse: the runtime's
 * per-customer arenas would otherwise give back and re-ask the allocator
 * for the same 64 KiB once per customer. */
void dn_arena_reset(dn_arena *a);
/* Zeroed memory, 16-byte aligned; NULL on out of memory. */
void *dn_arena_alloc(dn_arena *a, size_t size);
char *dn_arena_strndup(dn_arena *a, const char *s, size_t n);
char *dn_arena_strdup(dn_arena *a, const char *s);

#endif
