/*
 * Bump allocator (see arena.h).
 */
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/mem.h"

struct crm_arena_block {
    crm_arena_block *next;
    size_t size;
    alignas(max_align_t) unsigned char data[];
};

#define ARENA_ALIGN (alignof(max_align_t))

void crm_arena_init(crm_arena *arena, crm_ctx *ctx, size_t block_size)
{
    arena->ctx = ctx;
    arena->head = NULL;
    arena->used = 0;
    arena->block_size = block_size ? block_size : 4096;
}

void crm_arena_free(crm_arena *arena)
{
    crm_arena_block *block = arena->head, *next;

    for (; block; block = next) {
        next = block->next;
        crm_mem_free(arena->ctx, block);
    }
    arena->head = NULL;
    arena->used = 0;
}

static int add_block(crm_arena *arena, size_t need)
{
    size_t size = need > arena->block_size ? need : arena->block_size;
    crm_arena_block *block;

    if (size > SIZE_MAX - sizeof *block)
        return -1;
    block = crm_mem_alloc(arena->ctx, sizeof *block + size);
    if (!block)
        return -1;
    block->next = arena->head;
    block->size = size;
    arena->head = block;
    arena->used = 0;
    return 0;
}

void *crm_arena_alloc(crm_arena *arena, size_t size)
{
    size_t start;

    if (size > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    size = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (size == 0)
        size = ARENA_ALIGN;
    start = arena->used;
    if (!arena->head || size > arena->head->size - start) {
        if (add_block(arena, size) != 0)
            return NULL;
        start = 0;
    }
    arena->used = start + size;
    return arena->head->data + start;
}

char *crm_arena_strndup(crm_arena *arena, const char *s, size_t len)
{
    char *copy;

    if (len == SIZE_MAX)
        return NULL;
    copy = crm_arena_alloc(arena, len + 1);
    if (!copy)
        return NULL;
    if (len)
        memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}
