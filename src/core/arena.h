/*
 * A bump allocator: many small allocations freed together. Blocks come from
 * the ctx allocator; nothing is freed individually.
 */
#ifndef CRM_CORE_ARENA_H
#define CRM_CORE_ARENA_H

#include <stddef.h>

#include "core/ctx.h"

typedef struct crm_arena_block crm_arena_block;

typedef struct crm_arena {
    crm_ctx *ctx;
    crm_arena_block *head;
    size_t used;       /* bytes used in head */
    size_t block_size; /* default block payload size */
} crm_arena;

/* Prepares an empty arena; block_size 0 means 4096. */
void crm_arena_init(crm_arena *arena, crm_ctx *ctx, size_t block_size);

/* Frees every block. The arena is empty and reusable afterwards. */
void crm_arena_free(crm_arena *arena);

/* Returns `size` bytes aligned to max_align_t, or NULL on failure. */
void *crm_arena_alloc(crm_arena *arena, size_t size);

/* Copies s[0..len) with a trailing NUL into the arena; NULL on failure. */
char *crm_arena_strndup(crm_arena *arena, const char *s, size_t len);

#endif
