/*
 * Allocation wrappers over the ctx's allocator hooks.
 */
#define _DEFAULT_SOURCE 1 /* madvise, see core/memhint.h */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/memhint.h"

static int mul_overflows(size_t n, size_t size, size_t *total)
{
    if (size != 0 && n > SIZE_MAX / size)
        return 1;
    *total = n * size;
    return 0;
}

void *crm_mem_alloc(crm_ctx *ctx, size_t size)
{
    return ctx->malloc_fn(ctx->alloc_user, size ? size : 1);
}

void *crm_mem_calloc(crm_ctx *ctx, size_t n, size_t size)
{
    size_t total;
    void *p;

    if (mul_overflows(n, size, &total))
        return NULL;
    p = crm_mem_alloc(ctx, total);
    if (p)
        memset(p, 0, total);
    return p;
}

void *crm_mem_alloc_table(crm_ctx *ctx, size_t size)
{
    volatile unsigned char *page;
    unsigned char *p;
    size_t at;

    if (!ctx->libc_alloc) {
        p = crm_mem_alloc(ctx, size);
        if (p) {
            crm_advise_huge_pages(p, size);
            memset(p, 0, size);
        }
        return p;
    }
    p = calloc(1, size ? size : 1);
    if (!p)
        return NULL;
    crm_advise_huge_pages(p, size);
    /* A write, not a read: a read would map the shared zero page and
     * leave the write fault for later. */
    for (page = p, at = 0; at < size; at += 4096)
        page[at] = 0;
    return p;
}

void *crm_mem_alloc_array(crm_ctx *ctx, size_t n, size_t size)
{
    size_t total;

    if (mul_overflows(n, size, &total))
        return NULL;
    return crm_mem_alloc(ctx, total);
}

void *crm_mem_realloc_array(crm_ctx *ctx, void *ptr, size_t n, size_t size)
{
    size_t total;

    if (mul_overflows(n, size, &total))
        return NULL;
    if (!ptr)
        return crm_mem_alloc(ctx, total);
    return ctx->realloc_fn(ctx->alloc_user, ptr, total ? total : 1);
}

void crm_mem_free(crm_ctx *ctx, void *ptr)
{
    if (ptr)
        ctx->free_fn(ctx->alloc_user, ptr);
}

char *crm_mem_strndup(crm_ctx *ctx, const char *s, size_t len)
{
    char *copy;

    if (len == SIZE_MAX)
        return NULL;
    copy = crm_mem_alloc(ctx, len + 1);
    if (!copy)
        return NULL;
    if (len)
        memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

int crm_mem_grow(crm_ctx *ctx, void **array, size_t *cap, size_t need,
                 size_t elem_size)
{
    size_t new_cap;
    void *p;

    if (need <= *cap)
        return 0;
    new_cap = *cap < 8 ? 8 : *cap;
    while (new_cap < need) {
        if (new_cap > SIZE_MAX / 2)
            return -1;
        new_cap *= 2;
    }
    p = crm_mem_realloc_array(ctx, *array, new_cap, elem_size);
    if (!p)
        return -1;
    *array = p;
    *cap = new_cap;
    return 0;
}
