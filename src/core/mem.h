/*
 * Allocation through the ctx's allocator. Every size computation that
 * multiplies is overflow-checked here, once.
 */
#ifndef CRM_CORE_MEM_H
#define CRM_CORE_MEM_H

#include <stddef.h>

#include "core/ctx.h"

/* Allocates `size` bytes (size 0 is treated as 1). NULL on failure; no error is recorded. */
void *crm_mem_alloc(crm_ctx *ctx, size_t size);

/* Allocates n * size zeroed bytes; NULL on failure or overflow. */
void *crm_mem_calloc(crm_ctx *ctx, size_t n, size_t size);

/*
 * Allocates `size` zero bytes for a table far bigger than the caches that
 * will be accessed at random: advised for huge pages before its pages are
 * first written, and every page written here, in order, so that the page
 * faults happen now rather than one by one among the random accesses.
 * With the C library's allocator the memory comes from calloc, whose
 * fresh pages need no zeroing. NULL on failure; no error is recorded.
 */
void *crm_mem_alloc_table(crm_ctx *ctx, size_t size);

/* Allocates an array of n elements of `size` bytes; NULL on failure or overflow. */
void *crm_mem_alloc_array(crm_ctx *ctx, size_t n, size_t size);

/*
 * Resizes `ptr` to n elements of `size` bytes. On failure returns NULL and
 * leaves `ptr` valid and unchanged.
 */
void *crm_mem_realloc_array(crm_ctx *ctx, void *ptr, size_t n, size_t size);

/* Frees memory from the functions above; accepts NULL. */
void crm_mem_free(crm_ctx *ctx, void *ptr);

/* Copies `len` bytes into a new allocation with a trailing NUL. NULL on failure. */
char *crm_mem_strndup(crm_ctx *ctx, const char *s, size_t len);

/*
 * Grows an array so it holds at least `need` elements: *cap doubles (at
 * least `need`, at least 8). Returns 0 on success, -1 on failure (array and
 * *cap unchanged).
 */
int crm_mem_grow(crm_ctx *ctx, void **array, size_t *cap, size_t need,
                 size_t elem_size);

#endif
